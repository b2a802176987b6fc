package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/tenants/vault"
)

// LightspeedKeepAlive keeps idle Lightspeed connections alive. Lightspeed
// drops a refresh token that goes unused for 30 days, so a merchant who
// connected but does not sync yet (setup unfinished, every location
// disabled) would silently lose the connection. A periodic sweep refreshes
// every connection whose tokens were last stored more than MaxIdle ago,
// through the vault (serialised with any other refresh, the rotated token
// committed before use); a refusal marks the connection needs_reauth, so the
// dashboard asks the merchant to reconnect before a sync would fail.
// Connections in use are refreshed ahead of expiry by their clients and
// never reach the threshold.
type LightspeedKeepAlive struct {
	Vault *vault.Vault
	// OAuth is Tandem's Lightspeed client registration (its Refresh runs
	// under the vault's row lock).
	OAuth *lightspeed.Config
	// Interval between sweeps; default six hours.
	Interval time.Duration
	// MaxIdle is how old stored tokens may get; default 20 days, well
	// inside Lightspeed's 30.
	MaxIdle time.Duration
	// Batch bounds the connections one sweep refreshes; default 200 (the
	// rest wait for the next sweep, oldest first).
	Batch int
}

// LightspeedKeepAliveArgs asks for a keep-alive sweep.
type LightspeedKeepAliveArgs struct{}

// Kind is River's job kind.
func (LightspeedKeepAliveArgs) Kind() string { return "lightspeed_keepalive" }

// InsertOpts makes concurrent schedulers enqueue at most one sweep at a
// time.
func (LightspeedKeepAliveArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 30 * time.Minute}}
}

// LightspeedKeepAliveWorker runs the sweep.
type LightspeedKeepAliveWorker struct {
	river.WorkerDefaults[LightspeedKeepAliveArgs]
	Pool      *pgxpool.Pool
	KeepAlive LightspeedKeepAlive
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// KeepAliveResult counts what a sweep did.
type KeepAliveResult struct {
	Refreshed   int // tokens renewed
	NeedsReauth int // refused by Lightspeed: marked needs_reauth
	Failed      int // other errors (retried by the next sweep)
}

// Work refreshes the idle connections. A connection that fails does not
// stop the others; the job fails (and River retries it) only when some
// failed for a reason other than Lightspeed's refusal.
func (w *LightspeedKeepAliveWorker) Work(ctx context.Context, _ *river.Job[LightspeedKeepAliveArgs]) error {
	_, err := w.Sweep(ctx)
	return err
}

// Sweep is Work with its counts, for tests and tools.
func (w *LightspeedKeepAliveWorker) Sweep(ctx context.Context) (KeepAliveResult, error) {
	var res KeepAliveResult
	k := w.KeepAlive.withDefaults()
	if k.Vault == nil || k.OAuth == nil {
		return res, errors.New("lightspeed keep-alive: Vault and OAuth are required")
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	log := w.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cutoff := now().Add(-k.MaxIdle)
	rows, err := w.Pool.Query(ctx, `
		SELECT tenant_id::text FROM connections
		WHERE provider = 'lightspeed' AND status = 'connected' AND refresh_token_enc IS NOT NULL AND updated_at < $1
		ORDER BY updated_at LIMIT $2`, cutoff, k.Batch)
	if err != nil {
		return res, fmt.Errorf("lightspeed keep-alive: list idle connections: %w", err)
	}
	tenantIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return res, fmt.Errorf("lightspeed keep-alive: list idle connections: %w", err)
	}
	var errs []error
	for _, id := range tenantIDs {
		_, err := k.Vault.Refresh(ctx, id, vault.Lightspeed,
			// Another process may have refreshed since the list was read.
			func(c vault.Connection) bool { return c.UpdatedAt.Before(cutoff) },
			connect.LightspeedRefresh(k.OAuth))
		var re *vault.ReauthError
		switch {
		case err == nil:
			res.Refreshed++
		case errors.As(err, &re):
			res.NeedsReauth++
			log.InfoContext(ctx, "lightspeed connection needs reconnect", slog.String("tenant_id", id))
		case errors.Is(err, vault.ErrNotConnected):
			// Disconnected since the list was read.
		default:
			res.Failed++
			errs = append(errs, fmt.Errorf("tenant %s: %w", id, err))
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("lightspeed keep-alive: %w", errors.Join(errs...))
	}
	return res, nil
}

func (k LightspeedKeepAlive) withDefaults() LightspeedKeepAlive {
	if k.Interval <= 0 {
		k.Interval = 6 * time.Hour
	}
	if k.MaxIdle <= 0 {
		k.MaxIdle = 20 * 24 * time.Hour
	}
	if k.Batch <= 0 {
		k.Batch = 200
	}
	return k
}

// addLightspeedKeepAlive registers the keep-alive worker and returns its
// periodic job; a nil k (no Lightspeed client configured) adds nothing.
func addLightspeedKeepAlive(workers *river.Workers, pool *pgxpool.Pool, logger *slog.Logger, k *LightspeedKeepAlive) ([]*river.PeriodicJob, error) {
	if k == nil {
		return nil, nil
	}
	kd := k.withDefaults()
	if err := river.AddWorkerSafely(workers, &LightspeedKeepAliveWorker{Pool: pool, KeepAlive: kd, Logger: logger}); err != nil {
		return nil, fmt.Errorf("jobs: register lightspeed keep-alive worker: %w", err)
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(kd.Interval),
		func() (river.JobArgs, *river.InsertOpts) { return LightspeedKeepAliveArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}, nil
}
