package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

// RetryArgs sends chosen records of one stream again: a Retry of failed
// records, or a Resync of one customer (Engine.Retry).
type RetryArgs struct {
	TenantID string   `json:"tenant_id"`
	Stream   string   `json:"stream"`
	Location string   `json:"location,omitempty"`
	IDs      []string `json:"ids"`
	// Trigger is ledger.TriggerRetry or ledger.TriggerResync.
	Trigger string `json:"trigger"`
}

// Kind is River's job kind.
func (RetryArgs) Kind() string { return "sync_retry" }

// InsertOpts run retries on the sync queue. They are not unique: a retry
// clicked again, after another fix, must run even while the first one does,
// and sending a record twice is harmless.
func (RetryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, MaxAttempts: 5}
}

// maxRetryIDs bounds the records of one retry job, so Retry all over
// thousands of failures is several runs rather than one long one.
const maxRetryIDs = 500

// Retry enqueues jobs that send ids of stream k again, in tx (the caller's
// transaction, which also holds its audit entry). It returns how many jobs
// it enqueued.
func Retry(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, k ledger.StreamKey, ids []string, trigger string) (int, error) {
	var params []river.InsertManyParams
	for chunk := range slices.Chunk(ids, maxRetryIDs) {
		params = append(params, river.InsertManyParams{Args: RetryArgs{TenantID: k.TenantID, Stream: k.Stream,
			Location: k.Location, IDs: chunk, Trigger: trigger}})
	}
	if len(params) == 0 {
		return 0, nil
	}
	if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
		return 0, fmt.Errorf("jobs: enqueue retry of %s: %w", k, err)
	}
	return len(params), nil
}

// RetryWorker runs retries through the engine.
type RetryWorker struct {
	river.WorkerDefaults[RetryArgs]
	Engine *sync.Engine
}

// Timeout bounds one retry: at most maxRetryIDs records.
func (w *RetryWorker) Timeout(*river.Job[RetryArgs]) time.Duration { return 10 * time.Minute }

// Work resends the records; ids the stream cannot resend cancel the job,
// since trying again cannot help.
func (w *RetryWorker) Work(ctx context.Context, job *river.Job[RetryArgs]) error {
	a := job.Args
	trigger := a.Trigger
	if trigger == "" {
		trigger = ledger.TriggerRetry
	}
	_, err := w.Engine.Retry(ctx, ledger.StreamKey{TenantID: a.TenantID, Location: a.Location, Stream: a.Stream}, a.IDs, trigger)
	if errors.Is(err, sync.ErrNothingToResend) || errors.Is(err, sync.ErrUnknownStream) {
		return river.JobCancel(err)
	}
	return Outcome(err)
}
