// Package jobs holds Tandem's background work as River workers: the periodic
// housekeeping now, the sync streams as they arrive. Everything runs on the
// one Postgres, so any number of worker processes share the queue.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants"
)

// Config configures the River client.
type Config struct {
	Logger *slog.Logger
	// MaxWorkers bounds concurrent jobs in this process; default 10.
	MaxWorkers int
	// CleanupInterval is how often expired sessions and old login failures
	// are deleted; default one hour.
	CleanupInterval time.Duration
	// LightspeedKeepAlive, when set, refreshes idle Lightspeed connections
	// before Lightspeed drops their unused refresh tokens (tokens.go).
	LightspeedKeepAlive *LightspeedKeepAlive
	// Sync, when set, runs the sync streams and their scheduler.
	Sync *SyncConfig
	// EventRetention is how long sync events are kept
	// (TANDEM_EVENT_RETENTION); 0 means 90 days. Runs are kept a year.
	EventRetention time.Duration
	// Alerts, when set, sends alerts periodically (alerts.go).
	Alerts *Alerts
}

// SyncConfig configures the sync streams of a worker process.
type SyncConfig struct {
	Engine *sync.Engine
	// Interval is how often each stream polls (TANDEM_SYNC_INTERVAL); the
	// scheduler looks for due streams a few times per interval.
	Interval time.Duration
	// Workers bounds concurrent sync runs in this process; default 32. A
	// run mostly waits on the APIs, and River hands a process at most as
	// many jobs as it has free slots every 100 ms: 8 kept at most ~80 runs
	// a second going, fewer than 10,000 idle tenants need (167/s).
	Workers int
	// Reserve, when set, pauses syncing at the Salesforce API reserve.
	Reserve ReserveCheck
	// Flush, when set, writes a tenant's counted API usage after each run;
	// FlushAll every tenant's, after the scheduler's probes.
	Flush    func(ctx context.Context, tenantID string) error
	FlushAll func(ctx context.Context) error
	// runner, when set, runs the scheduled streams instead of Engine: the
	// scheduler's benchmark and tests put a stand-in there, to measure and
	// drive the scheduling alone.
	runner StreamRunner
	// prober, when set, probes the idle streams instead of Engine: the
	// benchmark probes through the engine with a stand-in runner, and
	// counts the probes.
	prober Prober
}

// schedulerTick is how often the scheduler looks for due streams: a third
// of the interval, between one and five seconds.
func (c *SyncConfig) schedulerTick() time.Duration {
	return min(max(c.Interval/3, time.Second), 5*time.Second)
}

// NewClient returns a River client with every Tandem worker registered and
// the periodic jobs scheduled. Call Start to work jobs, Stop to finish the
// running ones and return.
func NewClient(pool *pgxpool.Pool, cfg Config) (*river.Client[pgx.Tx], error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxWorkers == 0 {
		cfg.MaxWorkers = 10
	}
	if cfg.CleanupInterval == 0 {
		cfg.CleanupInterval = time.Hour
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &CleanupWorker{Pool: pool, Accounts: tenants.NewStore(pool)}); err != nil {
		return nil, fmt.Errorf("jobs: register cleanup worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &RetentionWorker{Ledger: ledger.New(pool), Events: cfg.EventRetention}); err != nil {
		return nil, fmt.Errorf("jobs: register retention worker: %w", err)
	}
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(retentionInterval),
		func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
	if cfg.Alerts != nil {
		if err := river.AddWorkerSafely(workers, &AlertsWorker{Alerts: cfg.Alerts}); err != nil {
			return nil, fmt.Errorf("jobs: register alerts worker: %w", err)
		}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(alertsInterval),
			func() (river.JobArgs, *river.InsertOpts) { return AlertsArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	keepAlive, err := addLightspeedKeepAlive(workers, pool, cfg.Logger, cfg.LightspeedKeepAlive)
	if err != nil {
		return nil, err
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}}
	if sc := cfg.Sync; sc != nil {
		if sc.Workers == 0 {
			sc.Workers = 32
		}
		queues[QueueSync] = river.QueueConfig{MaxWorkers: sc.Workers}
		var runner StreamRunner = sc.Engine
		if sc.runner != nil {
			runner = sc.runner
		}
		if err := river.AddWorkerSafely(workers, &SyncWorker{Engine: runner, Ledger: ledger.New(pool),
			Logger: cfg.Logger, Reserve: sc.Reserve, Flush: sc.Flush}); err != nil {
			return nil, fmt.Errorf("jobs: register sync worker: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &RetryWorker{Engine: sc.Engine}); err != nil {
			return nil, fmt.Errorf("jobs: register retry worker: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &ResyncWorker{Engine: sc.Engine, Ledger: ledger.New(pool),
			Mappings: mapping.NewStore(pool), Logger: cfg.Logger, Reserve: sc.Reserve, Flush: sc.Flush}); err != nil {
			return nil, fmt.Errorf("jobs: register resync worker: %w", err)
		}
		sched := &SchedulerWorker{Pool: pool, Flush: sc.FlushAll, Logger: cfg.Logger}
		switch {
		case sc.prober != nil:
			sched.Prober = sc.prober
		case sc.Engine != nil && sc.runner == nil:
			sched.Prober = sc.Engine
		}
		if err := river.AddWorkerSafely(workers, sched); err != nil {
			return nil, fmt.Errorf("jobs: register scheduler: %w", err)
		}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(sc.schedulerTick()),
			func() (river.JobArgs, *river.InsertOpts) { return SchedulerArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		// River reports routine activity (job counts every few seconds) at
		// info; only its warnings and errors belong in Tandem's log.
		Logger:               slog.New(minLevel{Handler: cfg.Logger.Handler(), min: slog.LevelWarn}),
		Queues:               queues,
		Workers:              workers,
		RescueStuckJobsAfter: rescueStuckAfter,
		PeriodicJobs: append(append([]*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.CleanupInterval),
				func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		}, keepAlive...), periodic...),
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: new river client: %w", err)
	}
	return client, nil
}

// CleanupArgs asks for expired web sessions and stale login failures to be
// deleted.
type CleanupArgs struct{}

// Kind is River's job kind.
func (CleanupArgs) Kind() string { return "cleanup" }

// InsertOpts makes concurrent schedulers (one per worker process) enqueue at
// most one cleanup at a time.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 5 * time.Minute}}
}

// CleanupWorker deletes rows that only matter for a while.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Pool *pgxpool.Pool
	// Accounts owns the login_failures table; nil means tenants.NewStore(Pool).
	Accounts *tenants.Store
}

// loginFailureWindow is how long failures are kept: longer than any login
// throttle window.
const loginFailureWindow = 24 * time.Hour

// Work deletes expired sessions and login failures older than a day.
func (w *CleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	// The same statement as pgsession.Store.DeleteExpired, which lives in
	// web/ and needs the session signing key; jobs does not depend on web.
	if _, err := w.Pool.Exec(ctx, "DELETE FROM web_sessions WHERE expires_at < now()"); err != nil {
		return fmt.Errorf("cleanup: expired sessions: %w", err)
	}
	accounts := w.Accounts
	if accounts == nil {
		accounts = tenants.NewStore(w.Pool)
	}
	if _, err := accounts.DeleteLoginFailuresBefore(ctx, time.Now().Add(-loginFailureWindow)); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return nil
}

// minLevel drops records below min before they reach the wrapped handler.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
