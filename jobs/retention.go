package jobs

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/jobs/ledger"
)

// Retention defaults: events (one per record per run) are the bulk of the
// data and matter for weeks; runs are small and kept for a year of history.
const (
	DefaultEventRetention = 90 * 24 * time.Hour
	DefaultRunRetention   = 365 * 24 * time.Hour
	// DefaultIdleRunRetention is how long a run that found nothing is kept
	// (a stream's last run always is).
	DefaultIdleRunRetention = 24 * time.Hour
	// retentionBatch bounds each delete statement.
	retentionBatch = 5000
	// retentionInterval is how often the pruning runs.
	retentionInterval = 6 * time.Hour
)

// RetentionArgs asks for old sync events and runs to be pruned.
type RetentionArgs struct{}

// Kind is River's job kind.
func (RetentionArgs) Kind() string { return "retention" }

// InsertOpts makes concurrent schedulers enqueue at most one at a time.
func (RetentionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// RetentionWorker deletes events older than Events and runs older than
// Runs, in batches.
type RetentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	Ledger *ledger.Store
	Events time.Duration
	Runs   time.Duration
	// IdleRuns is how long runs that found nothing are kept; 0 means
	// DefaultIdleRunRetention.
	IdleRuns time.Duration
	// Batch bounds each delete; 0 means 5,000.
	Batch int
	Now   func() time.Time
}

// Work prunes events, then runs (a run's deletion takes its events with it).
func (w *RetentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	_, _, err := w.Prune(ctx)
	return err
}

// Prune deletes what is past retention and returns how many events and
// runs it deleted.
func (w *RetentionWorker) Prune(ctx context.Context) (events, runs int64, err error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	batch := cmp.Or(w.Batch, retentionBatch)
	evAge, runAge := w.Events, w.Runs
	if evAge <= 0 {
		evAge = DefaultEventRetention
	}
	if runAge <= 0 {
		runAge = DefaultRunRetention
	}
	t := now()
	if events, err = w.Ledger.PruneEvents(ctx, t.Add(-evAge), batch); err != nil {
		return events, 0, fmt.Errorf("retention: %w", err)
	}
	if runs, err = w.Ledger.PruneRuns(ctx, t.Add(-runAge), batch); err != nil {
		return events, runs, fmt.Errorf("retention: %w", err)
	}
	// Idle runs are looked for in the day before their cutoff only: a pass
	// runs every few hours, so older ones went on an earlier pass, and the
	// window keeps each pass from reading a year of runs again.
	idleAge := cmp.Or(w.IdleRuns, DefaultIdleRunRetention)
	idle, err := w.Ledger.PruneIdleRuns(ctx, t.Add(-idleAge-24*time.Hour), t.Add(-idleAge), batch)
	runs += idle
	if err != nil {
		return events, runs, fmt.Errorf("retention: %w", err)
	}
	return events, runs, nil
}
