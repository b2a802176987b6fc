package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
)

// ResyncArgs re-sends every linked record of a tenant with its current
// mapping (after a save that changed what is written): the resync recorded
// in mapping_resyncs with ResyncID.
type ResyncArgs struct {
	TenantID string `json:"tenant_id" river:"unique"`
	ResyncID int64  `json:"resync_id" river:"unique"`
}

// Kind is River's job kind.
func (ResyncArgs) Kind() string { return "mapping_resync" }

// InsertOpts keep one job per resync while it waits or runs.
func (ResyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueSync,
		MaxAttempts: 10,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}},
	}
}

// EnqueueResync records a resync of tenantID with mapping version and
// enqueues its job, both in tx (so a failed request leaves neither).
func EnqueueResync(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, tenantID string, version int, requestedBy string) (int64, error) {
	id, err := mapping.StartResyncTx(ctx, tx, tenantID, version, requestedBy)
	if err != nil {
		return 0, err
	}
	if _, err := client.InsertTx(ctx, tx, ResyncArgs{TenantID: tenantID, ResyncID: id}, nil); err != nil {
		return 0, fmt.Errorf("jobs: enqueue resync: %w", err)
	}
	return id, nil
}

// ResyncWorker re-sends a tenant's linked customers and sales, a page of
// links at a time, recording progress after each. Before each page it checks the
// Salesforce API reserve: at the reserve the resync waits (snoozes) and
// later carries on where it stopped, since links re-sent after the request
// are skipped. A resync requested later covers an earlier one, which stops.
type ResyncWorker struct {
	river.WorkerDefaults[ResyncArgs]
	Engine   *sync.Engine
	Ledger   *ledger.Store
	Mappings *mapping.Store
	Logger   *slog.Logger
	// Reserve pauses the resync when the daily allocation left falls under
	// it; nil never pauses.
	Reserve ReserveCheck
	// Flush, when set, writes the tenant's counted API usage after each
	// page, so the reserve check sees it.
	Flush func(ctx context.Context, tenantID string) error
}

// Timeout bounds one pass; a large tenant's resync is re-sent in pages and
// resumes where it stopped. It stays under River's rescue of jobs left
// running (rescueStuckAfter), so a slow pass is never run twice at once.
func (w *ResyncWorker) Timeout(*river.Job[ResyncArgs]) time.Duration { return syncTimeout }

// Work runs the job's resync unless it is over or a later one covers it.
func (w *ResyncWorker) Work(ctx context.Context, job *river.Job[ResyncArgs]) error {
	r, err := w.Mappings.GetResync(ctx, job.Args.TenantID, job.Args.ResyncID)
	if err != nil || r == nil || r.Finished() {
		return err
	}
	return w.run(ctx, job.Args.TenantID, r)
}

// page re-sends one page of links (those not written since the resync was
// requested) and records the progress.
func (w *ResyncWorker) page(ctx context.Context, tenantID string, r *mapping.Resync, links []ledger.Link, send func([]string) error) error {
	if latest, err := w.Mappings.LatestResync(ctx, tenantID); err != nil {
		return err
	} else if latest.ID != r.ID {
		return errCovered
	}
	var ids []string
	for _, l := range links {
		// Re-sent by this resync before a pause, or written since the
		// request with the mapping it re-sends: done.
		if l.SyncedAt.Before(r.RequestedAt) {
			ids = append(ids, l.LSID)
		}
	}
	if len(ids) > 0 {
		if w.Reserve != nil {
			reached, reason, err := w.Reserve(ctx, tenantID)
			if err != nil {
				return err
			}
			if reached {
				return errReserve{reason}
			}
		}
		err := send(ids)
		if w.Flush != nil {
			if ferr := w.Flush(context.WithoutCancel(ctx), tenantID); ferr != nil && w.Logger != nil {
				w.Logger.Warn("resync: write API usage", "tenant", tenantID, "err", ferr)
			}
		}
		if err != nil {
			return err
		}
	}
	r.Done = min(r.Done+len(links), r.Total)
	return w.Mappings.SaveResync(ctx, tenantID, r)
}

// errCovered stops a resync a later one replaces.
var errCovered = errors.New("covered by a later resync")

// errReserve stops a resync at the Salesforce API reserve.
type errReserve struct{ reason string }

func (e errReserve) Error() string { return e.reason }

func (w *ResyncWorker) run(ctx context.Context, tenantID string, r *mapping.Resync) error {
	customers, err := w.Ledger.CountLinks(ctx, tenantID, ledger.KindCustomer, ledger.LinkActive)
	if err != nil {
		return err
	}
	sales, err := w.Ledger.CountLinks(ctx, tenantID, ledger.KindSale, ledger.LinkActive)
	if err != nil {
		return err
	}
	streams, err := w.Ledger.Streams(ctx, tenantID)
	if err != nil {
		return err
	}
	var salesStreams []ledger.StreamKey
	for _, st := range streams {
		if st.Stream == ledger.SalesToSalesforce {
			salesStreams = append(salesStreams, st.StreamKey)
		}
	}
	r.Status, r.Total, r.Done, r.Message = mapping.ResyncRunning, customers+sales, 0, ""
	if err := w.Mappings.SaveResync(ctx, tenantID, r); err != nil {
		return err
	}
	// Customers first (sales refer to them), then sales: a link's sale is
	// sent by the sales stream of its store, which reads only its own.
	resend := map[string]func(ids []string) error{
		ledger.KindCustomer: func(ids []string) error {
			_, err := w.Engine.Resend(ctx, tenantID, ids)
			return err
		},
		ledger.KindSale: func(ids []string) error {
			for _, k := range salesStreams {
				if _, err := w.Engine.ResendSales(ctx, k, ids, ledger.TriggerResync); err != nil {
					return err
				}
			}
			return nil
		},
	}
	for _, kind := range []string{ledger.KindCustomer, ledger.KindSale} {
		err = w.Ledger.LinkedPairs(ctx, tenantID, kind, func(links []ledger.Link) error {
			return w.page(ctx, tenantID, r, links, resend[kind])
		})
		if err != nil {
			break
		}
	}
	if errors.Is(err, errCovered) {
		r.Status, r.Message = mapping.ResyncDone, "Covered by a later resync."
		return w.Mappings.SaveResync(ctx, tenantID, r)
	}
	var reserve *sync.ReserveError
	if res, ok := err.(errReserve); ok || errors.As(err, &reserve) {
		reason := res.reason
		if reserve != nil {
			reason = reserve.Error()
		}
		r.Status, r.Message = mapping.ResyncWaiting, "Waiting: "+reason
		if serr := w.Mappings.SaveResync(ctx, tenantID, r); serr != nil {
			return serr
		}
		return river.JobSnooze(reserveSnooze)
	}
	if err != nil {
		// A failure River retries leaves the resync unfinished, so the
		// retry carries on; one that cannot succeed ends it.
		r.Message = HoldReason(err)
		if r.Message == "" {
			r.Message = "Interrupted by a temporary error; it carries on shortly."
		}
		if permanent(err) {
			r.Status = mapping.ResyncFailed
		}
		if serr := w.Mappings.SaveResync(context.WithoutCancel(ctx), tenantID, r); serr != nil && w.Logger != nil {
			w.Logger.Warn("resync: record failure", "tenant", tenantID, "err", serr)
		}
		return Outcome(err)
	}
	r.Status, r.Done = mapping.ResyncDone, r.Total
	return w.Mappings.SaveResync(ctx, tenantID, r)
}
