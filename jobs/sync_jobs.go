package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants/vault"
)

// SyncArgs runs one stream of one tenant once.
type SyncArgs struct {
	TenantID string `json:"tenant_id" river:"unique"`
	Stream   string `json:"stream" river:"unique"`
	Location string `json:"location,omitempty" river:"unique"`
	// Trigger says why it runs (ledger.TriggerSchedule, TriggerSyncNow, ...).
	Trigger string `json:"trigger"`
	// After is the id of a job of the stream that River still marks running
	// when this one is enqueued (insertRuns): it keys this job apart from
	// that one.
	After int64 `json:"after,omitempty" river:"unique"`
}

// Kind is River's job kind.
func (SyncArgs) Kind() string { return "sync" }

// InsertOpts keep one job per stream waiting, so a stream whose run waits
// in the queue is not enqueued again by every scheduler pass or Sync now.
// River requires the running state among the unique states, which would
// also hold back a stream whose worker died mid-run until River rescues
// the job, minutes later; insertRuns keys a new job after such a job
// instead. Two runs of a stream never overlap because each holds the
// stream's lease (lease.go), not because of this.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueSync,
		MaxAttempts: 10,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}},
	}
}

// QueueSync is the queue sync runs go through, apart from housekeeping.
const QueueSync = "sync"

// SyncWorker runs streams through the engine.
type SyncWorker struct {
	river.WorkerDefaults[SyncArgs]
	Engine StreamRunner
	Ledger *ledger.Store
	Logger *slog.Logger
	// Reserve pauses Salesforce work when the daily allocation left falls
	// under it; nil never pauses.
	Reserve ReserveCheck
	// Flush, when set, writes the tenant's API usage counted during the
	// run (jobs/connect Usage.FlushTenant).
	Flush func(ctx context.Context, tenantID string) error
	// Lease is how long a run holds its stream after its last renewal; 0
	// means runLease.
	Lease time.Duration
	// BusySnooze is how long a Sync now waits for the stream's current run
	// before looking again; 0 means busySnooze.
	BusySnooze time.Duration
}

// StreamRunner runs a stream once, or sends chosen records of it again
// (sync.Engine).
type StreamRunner interface {
	Run(ctx context.Context, k ledger.StreamKey, trigger string) (sync.Result, error)
	Retry(ctx context.Context, k ledger.StreamKey, ids []string, trigger string) (sync.Result, error)
}

// ReserveCheck reports, before a run, whether the tenant's Salesforce API
// reserve is reached, with the reason to show.
type ReserveCheck func(ctx context.Context, tenantID string) (reached bool, reason string, err error)

// syncTimeout bounds one run; a run stops at its time budget (two minutes)
// or batch limit well before.
const syncTimeout = 5 * time.Minute

// rescueStuckAfter is when River hands a job still marked running to
// another worker: its worker died (SIGKILL, a lost machine) without
// finishing it. It is a backstop: the stream itself is free once the dead
// run's lease runs out (runLease), and a later job of the stream is keyed
// after the dead one (insertRuns), so the rescued job usually finds its
// stream already run or running, and ends or waits. It exceeds syncTimeout
// so that River never hands a live job to a second worker.
const rescueStuckAfter = syncTimeout + time.Minute

// Timeout bounds one run.
func (w *SyncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return syncTimeout }

// Work runs the stream once, holding its lease; the outcome of an error is
// decided by Outcome. When another run holds the stream, a scheduled run
// ends (the current run schedules the next), and any other trigger (Sync
// now) waits and runs after it, so what the merchant asked for happens.
func (w *SyncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	a := job.Args
	k := ledger.StreamKey{TenantID: a.TenantID, Location: a.Location, Stream: a.Stream}
	trigger := a.Trigger
	if trigger == "" {
		trigger = ledger.TriggerSchedule
	}
	lease, ctx, err := holdStream(ctx, w.Ledger, k, cmp.Or(w.Lease, runLease))
	switch {
	case errors.Is(err, ledger.ErrStreamBusy):
		if trigger == ledger.TriggerSchedule {
			return nil
		}
		return river.JobSnooze(cmp.Or(w.BusySnooze, busySnooze))
	case errors.Is(err, ledger.ErrNotFound):
		return nil // the stream was removed (its shop turned off) since
	case err != nil:
		return err
	}
	defer func() {
		if rerr := lease.release(context.WithoutCancel(ctx)); rerr != nil && w.Logger != nil {
			w.Logger.Warn("sync: release stream", "stream", k.String(), "err", rerr)
		}
	}()
	if w.Reserve != nil {
		reached, reason, err := w.Reserve(ctx, a.TenantID)
		if err != nil {
			return err
		}
		if reached {
			if err := w.Ledger.Hold(ctx, k, reason); err != nil {
				return err
			}
			return river.JobSnooze(reserveSnooze)
		}
	}
	res, err := w.Engine.Run(ctx, k, trigger)
	if err == nil && !res.More && res.Wait == 0 {
		err = w.retryTransient(ctx, k)
	}
	if lost := lease.lost(); err != nil && lost != nil {
		err = fmt.Errorf("%w (stopped: %w)", err, lost)
	}
	hold := ""
	if err != nil {
		hold = HoldReason(err)
	}
	bg := context.WithoutCancel(ctx)
	var herr error
	if errors.As(err, new(*vault.ReauthError)) {
		// Polling cannot help until the merchant reconnects, which wakes
		// the tenant's streams again.
		herr = w.Ledger.Park(bg, a.TenantID, hold)
	} else {
		herr = w.Ledger.Hold(bg, k, hold)
	}
	if herr != nil && w.Logger != nil {
		w.Logger.Warn("sync: record hold reason", "stream", k.String(), "err", herr)
	}
	if w.Flush != nil {
		if ferr := w.Flush(bg, a.TenantID); ferr != nil && w.Logger != nil {
			w.Logger.Warn("sync: record API usage", "tenant_id", a.TenantID, "err", ferr)
		}
	}
	if err == nil && res.Wait > 0 {
		// A Bulk API job is under way: poll it again soon.
		return river.JobSnooze(res.Wait)
	}
	return Outcome(err)
}

// retryTransient sends again, once the stream has caught up, the records
// whose last attempt failed for a reason outside them (their customer or
// product not written first, Salesforce briefly unable), at most a few
// times a day each: nobody has to press Retry for those.
func (w *SyncWorker) retryTransient(ctx context.Context, k ledger.StreamKey) error {
	if k.Stream == ledger.CustomersToLightspeed {
		return nil // its failures are Lightspeed's refusals of the record itself
	}
	ids, err := w.Ledger.RetryableFailures(ctx, k, sync.RetryableCodes(), time.Now().Add(-retryAfter), maxAutoRetries, 200)
	if err != nil || len(ids) == 0 {
		return err
	}
	_, err = w.Engine.Retry(ctx, k, ids, ledger.TriggerRetry)
	if errors.Is(err, sync.ErrNothingToResend) {
		return nil
	}
	return err
}

// A record failed for a transient reason is sent again after retryAfter,
// up to maxAutoRetries times a day.
const (
	retryAfter     = 30 * time.Second
	maxAutoRetries = 5
)

// reserveSnooze is how long a stream waits when the Salesforce reserve is
// reached: the daily allocation is a rolling 24 hours.
const reserveSnooze = 30 * time.Minute

// SchedulerArgs enqueues the streams that are due.
type SchedulerArgs struct{}

// Kind is River's job kind.
func (SchedulerArgs) Kind() string { return "sync_scheduler" }

// InsertOpts keep the worker processes' periodic inserts to one pass a
// second. Unique by period, not by state: a pass a killed worker left
// "running" must not hold every later pass back until River rescues it.
// Two passes at once are safe: each claims its streams with SKIP LOCKED.
func (SchedulerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Second}}
}

// Timeout bounds a scheduler pass.
func (w *SchedulerWorker) Timeout(*river.Job[SchedulerArgs]) time.Duration { return time.Minute }

// SchedulerWorker claims due streams and enqueues their runs in the same
// transaction. It reads only the due rows (an index on next_run_at), so its
// cost follows the work due, not the number of tenants. With Prober set, it
// probes the idle streams it claimed instead (a read each, no job and no
// run) and enqueues runs only for those that changed.
type SchedulerWorker struct {
	river.WorkerDefaults[SchedulerArgs]
	Pool *pgxpool.Pool
	// Lease is how long a claimed stream waits before it is due again if
	// its job never starts; default claimLease. A run that starts moves
	// the stream's next run itself (its run lease).
	Lease time.Duration
	// Batch bounds the streams claimed per pass; default 1000.
	Batch int
	// Prober, when set, probes the claimed streams that may be probed
	// (ledger.Claim.Probe); nil runs every stream whole.
	Prober Prober
	// Probes bounds the probes made at once; default 32 (they wait on the
	// APIs, not on this process).
	Probes int
	// MaxProbes is how many probes in a row a stream gets before it runs
	// whole again; default maxProbes.
	MaxProbes int
	// Flush, when set, writes the API usage the probes counted.
	Flush  func(ctx context.Context) error
	Logger *slog.Logger
}

// Prober probes idle streams: a change (or an error) means the stream
// needs a whole run (sync.Engine).
type Prober interface {
	Probe(ctx context.Context, claims []ledger.Claim, workers int) []sync.ProbeResult
	// IdleSchedule is how an idle stream backs off.
	IdleSchedule() ledger.Schedule
}

// maxProbes makes a stream probed at the default ceiling (5 minutes) run
// whole every six hours: what only a run does (retrying records that
// failed for a passing reason, checking the mapping's fields) still
// happens on a quiet tenant.
const maxProbes = 72

// probeTimeout bounds a batch of probes, within the claims' lease, so that
// the probes that found nothing are recorded before their streams fall
// due again; a probe not done by then gets a whole run.
const probeTimeout = 20 * time.Second

// Work enqueues every due stream.
func (w *SchedulerWorker) Work(ctx context.Context, _ *river.Job[SchedulerArgs]) error {
	_, err := w.schedule(ctx)
	return err
}

// schedule claims due streams and enqueues a run for each (or probes it),
// returning how many it claimed.
func (w *SchedulerWorker) schedule(ctx context.Context) (int, error) {
	lease, batch := cmp.Or(w.Lease, claimLease), cmp.Or(w.Batch, 1000)
	limit := 0
	if w.Prober != nil {
		limit = cmp.Or(w.MaxProbes, maxProbes)
	}
	client, ok := clientFrom(ctx)
	if !ok {
		return 0, fmt.Errorf("jobs: schedule: no River client in context")
	}
	total := 0
	for {
		var claims, probes []ledger.Claim
		err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
			var err error
			claims, err = ledger.ClaimDue(ctx, tx, time.Now(), lease, batch, limit)
			if err != nil {
				return err
			}
			runs := make([]SyncArgs, 0, len(claims))
			for _, c := range claims {
				if c.Probe != "" {
					probes = append(probes, c)
					continue
				}
				runs = append(runs, SyncArgs{TenantID: c.TenantID, Stream: c.Stream, Location: c.Location})
			}
			if len(runs) == 0 {
				return nil
			}
			return insertRuns(ctx, func(ctx context.Context, p []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
				return client.InsertManyTx(ctx, tx, p)
			}, runs, ledger.TriggerSchedule)
		})
		if err != nil {
			return total, fmt.Errorf("jobs: schedule due streams: %w", err)
		}
		if len(probes) > 0 {
			// The claim is committed: a worker that dies probing leaves
			// the streams due again when it runs out.
			if err := w.probe(ctx, client, probes); err != nil {
				return total, err
			}
		}
		total += len(claims)
		if len(claims) < batch {
			return total, nil
		}
	}
}

// probe probes the claimed streams, records those that found nothing as
// idle, and enqueues a run of the others.
func (w *SchedulerWorker) probe(ctx context.Context, client *river.Client[pgx.Tx], claims []ledger.Claim) error {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	found := w.Prober.Probe(pctx, claims, cmp.Or(w.Probes, 32))
	cancel()
	var idle []ledger.Claim
	var runs []SyncArgs
	for i, c := range claims {
		if err := found[i].Err; err != nil && w.Logger != nil {
			// The run it gets instead records the error where the
			// merchant sees it.
			w.Logger.Debug("sync: probe failed; running the stream", "stream", c.StreamKey.String(), "err", err)
		}
		if found[i].Changed || found[i].Err != nil {
			runs = append(runs, SyncArgs{TenantID: c.TenantID, Stream: c.Stream, Location: c.Location})
		} else {
			idle = append(idle, c)
		}
	}
	bg := context.WithoutCancel(ctx)
	if w.Flush != nil {
		if err := w.Flush(bg); err != nil && w.Logger != nil {
			w.Logger.Warn("sync: record API usage of probes", "err", err)
		}
	}
	if err := ledger.New(w.Pool).FinishProbes(bg, idle, w.Prober.IdleSchedule()); err != nil {
		return fmt.Errorf("jobs: schedule: %w", err)
	}
	if len(runs) == 0 {
		return nil
	}
	if err := insertRuns(bg, client.InsertMany, runs, ledger.TriggerSchedule); err != nil {
		return fmt.Errorf("jobs: schedule changed streams: %w", err)
	}
	return nil
}

// insertFunc inserts jobs, in a transaction or not.
type insertFunc func(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)

// maxAfter bounds how many jobs still marked running insertRuns keys a run
// after: one per worker that died running the stream before River rescued
// its job.
const maxAfter = 5

// insertRuns enqueues a run of each stream with trigger. A stream that
// already has a job waiting keeps that one (SyncArgs are unique). A stream
// whose job River still marks running gets a new job keyed after that one:
// either the run is live, and the new job finds the stream held and ends or
// waits its turn (Sync now), or its worker died, and the new job runs once
// the dead run's lease is out, instead of waiting minutes for River to
// rescue the dead job.
func insertRuns(ctx context.Context, insert insertFunc, runs []SyncArgs, trigger string) error {
	for range maxAfter {
		params := make([]river.InsertManyParams, len(runs))
		for i, a := range runs {
			a.Trigger = trigger
			params[i] = river.InsertManyParams{Args: a}
		}
		res, err := insert(ctx, params)
		if err != nil {
			return err
		}
		runs = runs[:0]
		for _, r := range res {
			if !r.UniqueSkippedAsDuplicate || r.Job.State != rivertype.JobStateRunning {
				continue
			}
			var a SyncArgs
			if err := json.Unmarshal(r.Job.EncodedArgs, &a); err != nil {
				return fmt.Errorf("decode job %d: %w", r.Job.ID, err)
			}
			runs = append(runs, SyncArgs{TenantID: a.TenantID, Stream: a.Stream, Location: a.Location, After: r.Job.ID})
		}
		if len(runs) == 0 {
			return nil
		}
	}
	return nil
}

// SyncNow enqueues a run of each of the tenant's streams (or of one, when
// stream is set) now, in the caller's transaction if tx is non-nil.
func SyncNow(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, l *ledger.Store, tenantID, stream, trigger string) (int, error) {
	streams, err := l.Streams(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	var runs []SyncArgs
	for _, st := range streams {
		if stream != "" && st.Stream != stream {
			continue
		}
		runs = append(runs, SyncArgs{TenantID: tenantID, Stream: st.Stream, Location: st.Location})
	}
	if len(runs) == 0 {
		return 0, nil
	}
	if err := l.Wake(ctx, tenantID, stream); err != nil {
		return 0, err
	}
	insert := func(ctx context.Context, p []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
		if tx != nil {
			return client.InsertManyTx(ctx, tx, p)
		}
		return client.InsertMany(ctx, p)
	}
	if err := insertRuns(ctx, insert, runs, trigger); err != nil {
		return 0, fmt.Errorf("jobs: sync now: %w", err)
	}
	return len(runs), nil
}

func clientFrom(ctx context.Context) (*river.Client[pgx.Tx], bool) {
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	return c, err == nil
}
