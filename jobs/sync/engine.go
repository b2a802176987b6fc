// Package sync is Tandem's sync engine: the streams that move customers
// Lightspeed → Salesforce and Salesforce → Lightspeed, and sales Lightspeed →
// Salesforce per location.
//
// A run reads a page after its stream's cursor (with a small overlap, since
// boundary records may come back), maps it with the tenant's field mapping,
// writes it in batches (Salesforce Collections, 200 records a call;
// Lightspeed one record a call, paced by its bucket), and commits the page's
// events, links and cursor together (jobs/ledger). A crash anywhere resumes
// from the last committed cursor; every write is keyed by an external id or
// a link, so a replay creates nothing twice.
package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	stdsync "sync"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants/setup"
)

// Clients builds a tenant's API clients. Both must refresh their tokens
// through the vault; the engine only calls them.
type Clients interface {
	Lightspeed(ctx context.Context, tenantID string) (*lightspeed.Client, error)
	Salesforce(ctx context.Context, tenantID string) (*salesforce.Client, error)
}

// TenantConfig is what the engine needs of a tenant's setup.
type TenantConfig struct {
	Preset mapping.Preset
	// CreateExistingInLightspeed creates Salesforce contacts that existed
	// before setup and match no Lightspeed customer in Lightspeed too.
	CreateExistingInLightspeed bool
	// SalesSince is where a new sales stream starts (the history window
	// as of now; its first run keeps it in its cursor); the zero time
	// imports everything.
	SalesSince time.Time
	// Shops are the Lightspeed shops by id, with their names and time zones.
	Shops map[string]Shop
	// Employees and Registers are Lightspeed's names by id, from discovery.
	Employees map[int64]string
	Registers map[int64]string
	// Salesforce is the org's cached describes (from discovery), against
	// which the mapping's targets are checked before each run: a target
	// deleted, renamed or retyped stops only its own field. Nil checks
	// nothing.
	Salesforce *setup.SalesforceDiscovery
	// CustomFields are Lightspeed's customer custom fields, from discovery.
	CustomFields []mapping.CustomField
}

// Shop is a Lightspeed shop as the sales stream needs it.
type Shop struct {
	Name     string
	TimeZone string
	Enabled  bool
}

// ConfigSource reads a tenant's configuration.
type ConfigSource interface {
	Config(ctx context.Context, tenantID string) (TenantConfig, error)
}

// ConfigFunc adapts a function to ConfigSource.
type ConfigFunc func(ctx context.Context, tenantID string) (TenantConfig, error)

// Config calls f.
func (f ConfigFunc) Config(ctx context.Context, tenantID string) (TenantConfig, error) {
	return f(ctx, tenantID)
}

// Options tune the engine; the zero value is production's.
type Options struct {
	// Overlap is how far before the cursor each read starts; default 2 s.
	Overlap time.Duration
	// BatchSize is the records written per Salesforce call; default 200
	// (the Collections maximum).
	BatchSize int
	// MaxBatches bounds one run, so one tenant's backlog cannot hold a
	// worker: the run stops after that many batches and reports More, and
	// the job is enqueued again behind other tenants' work. Default 25.
	MaxBatches int
	// RunBudget bounds one run's time the same way: past it the run stops
	// after its current batch and reports More. Short runs keep a run a
	// killed worker leaves behind short, so River hands the stream to
	// another worker soon. Default 2 minutes.
	RunBudget time.Duration
	// Interval is how often a stream polls (TANDEM_SYNC_INTERVAL); default
	// 30 s. MaxIdle caps the backoff of a stream that keeps finding
	// nothing; default 10 × Interval.
	Interval time.Duration
	MaxIdle  time.Duration
	// Reserve is the percentage of the org's daily Salesforce API
	// allocation left for the merchant's other tools: a run stops between
	// batches once fewer calls than that remain. Default
	// connect.DefaultReservePct; negative disables.
	Reserve float64
	// BulkThreshold is how many sales a location's history import must
	// have left to go through Bulk API 2.0 rather than Composite Graph;
	// default 2,000, negative never. BulkPoll is the longest a run waits
	// between two polls of a Bulk job (default 5 s; polls are timed to
	// land when the job should be done, bulk_poll.go).
	BulkThreshold int
	BulkPoll      time.Duration
	// BulkMaxBytes bounds one Bulk job's upload, as estimated while the
	// history is staged: staging stops at the batch that reaches it (up
	// to 1,000 sales, a few MB, past it), the staged sales go through
	// their three jobs, and staging then goes on. Salesforce takes 100 MB
	// of CSV per job (150 MB once base64-encoded); default 90 MB.
	BulkMaxBytes int64
	// BulkWait is how long a run waits for its own Bulk jobs, polling
	// them, before it ends with Result.Wait and leaves the job to a later
	// run; it is also bounded by RunBudget. Default 90 s; negative never
	// waits.
	BulkWait time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Probes, when set, are the clients the scheduler's probes read
	// through (Engine.Probe); nil means the engine's. Production gives
	// probes a process-local Lightspeed pacing (connect.Clients.WithLimits).
	Probes Clients
	// Describes, when set, keeps a describe the engine refreshed (after a
	// write named a field Salesforce no longer has) in the tenant's
	// cached discovery, so the mapping screen and dashboard see the drift.
	Describes DescribeCache
}

// DefaultBulkThreshold is Options.BulkThreshold's default.
const DefaultBulkThreshold = 2000

// Engine runs streams.
type Engine struct {
	ledger   *ledger.Store
	mappings *mapping.Store
	clients  Clients
	config   ConfigSource
	log      *slog.Logger
	opts     Options
	// shared serializes a tenant's stores over what they share in
	// Salesforce.
	shared tenantLocks
	// rates are the tenants' Bulk job processing rates, which time the
	// status polls.
	rates *bulkRates
	// masters remembers, by tenant and object, whether the customer
	// object has MasterRecordId (merges): a standard field does not come
	// or go, and describing the object cost each Salesforce → Lightspeed
	// run an API call of the merchant's allocation.
	masters stdsync.Map
}

// New returns an Engine.
func New(l *ledger.Store, m *mapping.Store, clients Clients, config ConfigSource, log *slog.Logger, opts Options) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Overlap == 0 {
		opts.Overlap = 2 * time.Second
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 200
	}
	if opts.MaxBatches == 0 {
		opts.MaxBatches = 25
	}
	if opts.RunBudget == 0 {
		opts.RunBudget = 2 * time.Minute
	}
	if opts.Interval == 0 {
		opts.Interval = 30 * time.Second
	}
	if opts.MaxIdle == 0 {
		opts.MaxIdle = 10 * opts.Interval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BulkThreshold == 0 {
		opts.BulkThreshold = DefaultBulkThreshold
	}
	if opts.BulkMaxBytes == 0 {
		opts.BulkMaxBytes = 90 << 20
	}
	if opts.BulkPoll == 0 {
		opts.BulkPoll = 5 * time.Second
	}
	if opts.BulkWait == 0 {
		opts.BulkWait = 90 * time.Second
	}
	if opts.Reserve == 0 {
		opts.Reserve = connect.DefaultReservePct
	}
	return &Engine{ledger: l, mappings: m, clients: clients, config: config, log: log, opts: opts, rates: newBulkRates()}
}

// Result is what a run did.
type Result struct {
	Run *ledger.Run
	// More is set when the run stopped at MaxBatches with work left.
	More bool
	// Idle is set when the run found nothing to do.
	Idle bool
	// Wait is set when the run waits on Salesforce (a Bulk API job): run
	// the stream again after Wait (the worker snoozes its job).
	Wait time.Duration
}

// ErrUnknownStream is returned for a stream name the engine does not run.
var ErrUnknownStream = errors.New("sync: unknown stream")

// Run runs one stream once: every page after its cursor, up to MaxBatches.
// The run and its outcome are recorded; the error is the run's failure
// (records the other side refused are failed events, not errors).
func (e *Engine) Run(ctx context.Context, k ledger.StreamKey, trigger string) (Result, error) {
	return e.runConfigured(ctx, k, trigger, func(ctx context.Context, rc *runContext) (bool, error) {
		switch k.Stream {
		case ledger.CustomersToSalesforce:
			return rc.customersToSalesforce(ctx)
		case ledger.CustomersToLightspeed:
			return rc.customersToLightspeed(ctx)
		case ledger.SalesToSalesforce:
			return rc.salesToSalesforce(ctx)
		}
		return false, fmt.Errorf("%w %q", ErrUnknownStream, k.Stream)
	})
}

// IdleSchedule is how a stream that found nothing backs off: a probe that
// finds nothing is recorded with it (jobs.SchedulerWorker).
func (e *Engine) IdleSchedule() ledger.Schedule {
	return ledger.Schedule{Interval: e.opts.Interval, MaxIdle: e.opts.MaxIdle, Idle: true}
}

// runConfigured reads the tenant's configuration and current mapping and
// runs body with them (runWith).
func (e *Engine) runConfigured(ctx context.Context, k ledger.StreamKey, trigger string,
	body func(context.Context, *runContext) (bool, error)) (Result, error) {
	cfg, err := e.config.Config(ctx, k.TenantID)
	if err != nil {
		return Result{}, fmt.Errorf("sync: %s: read configuration: %w", k, err)
	}
	m, err := e.mappings.Current(ctx, k.TenantID, cfg.Preset)
	if err != nil {
		return Result{}, fmt.Errorf("sync: %s: %w", k, err)
	}
	return e.runWith(ctx, k, trigger, cfg, m, body)
}

// runWith records a run of k around body: started, its API calls counted,
// finished with body's outcome.
func (e *Engine) runWith(ctx context.Context, k ledger.StreamKey, trigger string, cfg TenantConfig, m mapping.Mapping,
	body func(context.Context, *runContext) (bool, error)) (Result, error) {
	run, err := e.ledger.StartRun(ctx, k, trigger, m.Version)
	if err != nil {
		return Result{}, err
	}
	ctx, calls := withCallCount(ctx)
	rc := &runContext{Engine: e, key: k, run: run, cfg: cfg, mapping: m, started: time.Now()}
	rc.applyDrift()
	more, err := body(ctx, rc)
	if errors.Is(err, ledger.ErrCursorReset) {
		// The merchant reset the stream while this run read past the
		// reset: the run stops there, which is no failure, and FinishRun
		// has the stream run again at once from the reset position.
		more, err = true, nil
	}
	res := Result{Run: run, More: more, Idle: err == nil && !more && rc.wait == 0 && run.Records() == 0, Wait: rc.wait}
	if err != nil {
		err = fmt.Errorf("sync: %s: %w", k, err)
	}
	sched := ledger.Schedule{Interval: e.opts.Interval, MaxIdle: e.opts.MaxIdle, More: more, Idle: res.Idle}
	if res.Idle {
		// Without a probe (its cursor unreadable now) the stream keeps
		// running whole: slower, never wrong.
		sched.Probe, _ = rc.probeOf(ctx)
	}
	// The run's bookkeeping must land even when the job's context ended.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := e.ledger.FinishRun(fctx, run, err, calls.snapshot(), sched); ferr != nil {
		return res, errors.Join(err, ferr)
	}
	return res, err
}

// runContext is one run's state.
type runContext struct {
	*Engine
	started time.Time
	key     ledger.StreamKey
	run     *ledger.Run
	cfg     TenantConfig
	mapping mapping.Mapping
	// wait is set by a run that waits on a Bulk API job.
	wait time.Duration
	// drift are the rules left out of this run because their Salesforce
	// field changed; the events of the records written say so.
	drift []mapping.DriftItem
	// full is the mapping before drift was left out.
	full mapping.Mapping
}

// ReserveError stops a run whose Salesforce org has reached the API reserve:
// the calls left are kept for the merchant's other tools.
type ReserveError struct {
	Used, Max int
}

func (e *ReserveError) Error() string {
	return fmt.Sprintf("Salesforce API reserve reached: %d of the org's %d daily calls used; syncing resumes when usage falls below the reserve", e.Used, e.Max)
}

// checkReserve returns a *ReserveError once the org's usage, as the last
// response said, leaves less than the reserve.
func (rc *runContext) checkReserve(sf *salesforce.Client) error {
	if rc.opts.Reserve < 0 {
		return nil
	}
	li := sf.LastLimitInfo()
	if connect.BelowReserve(li.Used, li.Max, rc.opts.Reserve) {
		return &ReserveError{Used: li.Used, Max: li.Max}
	}
	return nil
}

// enough reports whether a run that has written batches batches should
// stop and leave the rest to its next run: its batch limit or its time
// budget is spent.
func (rc *runContext) enough(batches int) bool {
	return batches >= rc.opts.MaxBatches || time.Since(rc.started) > rc.opts.RunBudget
}
