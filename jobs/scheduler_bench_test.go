package jobs

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// The scheduler benchmark's knobs, as test flags (go test ... -args
// -sched.window 10m): the run is long, so its length is the reader's call.
var (
	schedWindow   = flag.Duration("sched.window", 8*time.Minute, "BenchmarkSchedulerIdle: how long to measure")
	schedInterval = flag.Duration("sched.interval", 30*time.Second, "BenchmarkSchedulerIdle: the sync interval")
	schedFresh    = flag.Float64("sched.fresh", 0.1, "BenchmarkSchedulerIdle: share of tenants whose streams start not backed off")
	schedTenants  = flag.Int("sched.tenants", 10000, "BenchmarkSchedulerIdle: tenants, 3 locations each")
	schedWorkers  = flag.Int("sched.workers", 32, "BenchmarkSchedulerIdle: sync runs worked at once (tandem worker --sync-workers)")
	schedProbe    = flag.Bool("sched.probe", true, "BenchmarkSchedulerIdle: probe idle streams against the sandboxes (false: every stream is run by the stand-in)")
	schedProfile  = flag.String("sched.cpuprofile", "", "BenchmarkSchedulerIdle: write the measured window's CPU profile to this file")
)

// idleRunner stands in for the engine: each run is recorded and finished
// as an idle run through the ledger (StartRun, FinishRun with the engine's
// schedule), so the backoff is the real code's, without the API calls.
// ran, when set, receives each run once it is finished.
type idleRunner struct {
	ledger   *ledger.Store
	interval time.Duration
	ran      chan<- ran
	// probe, when set, is the probe a run of a stream leaves, as the
	// engine's idle runs do; book, when set, is told of each run.
	probe func(ledger.StreamKey) string
	book  *dueBook
}

type ran struct {
	key     ledger.StreamKey
	trigger string
}

func (r *idleRunner) Run(ctx context.Context, k ledger.StreamKey, trigger string) (sync.Result, error) {
	r.book.started(k, time.Now(), true)
	run, err := r.ledger.StartRun(ctx, k, trigger, 1)
	if err != nil {
		return sync.Result{}, err
	}
	// The engine's defaults: MaxIdle is ten intervals.
	sched := ledger.Schedule{Interval: r.interval, MaxIdle: 10 * r.interval, Idle: true}
	if r.probe != nil {
		sched.Probe = r.probe(k)
	}
	r.book.finished(time.Now(), k)
	if err := r.ledger.FinishRun(ctx, run, nil, nil, sched); err != nil {
		return sync.Result{}, err
	}
	if r.ran != nil {
		r.ran <- ran{key: k, trigger: trigger}
	}
	return sync.Result{Run: run, Idle: true}, nil
}

func (r *idleRunner) Retry(context.Context, ledger.StreamKey, []string, string) (sync.Result, error) {
	return sync.Result{}, sync.ErrNothingToResend
}

// dueBook keeps, in memory, when each stream is due, by the ledger's
// backoff rule, so that lateness is measured without reading the database
// while measuring. Each due time is taken from just before the ledger
// records the run or probe (whose now() it is counted from), so lateness
// is if anything overstated. A nil *dueBook records nothing.
type dueBook struct {
	interval, ceiling time.Duration
	// from is the window's start: earlier starts are not counted.
	from time.Time

	mu   stdsync.Mutex
	due  map[ledger.StreamKey]time.Time
	idle map[ledger.StreamKey]int
	// quiet are the streams probed quiet whose FinishProbes has not come.
	quiet               []ledger.StreamKey
	late                []time.Duration
	runs, probes, wakes int
	probeErrs           int
	// errs are the first probe errors, for the log.
	errs []error
}

func newDueBook(interval, ceiling time.Duration, from time.Time) *dueBook {
	return &dueBook{interval: interval, ceiling: ceiling, from: from,
		due: map[ledger.StreamKey]time.Time{}, idle: map[ledger.StreamKey]int{}}
}

func (d *dueBook) seed(k ledger.StreamKey, due time.Time, idle int) {
	d.due[k], d.idle[k] = due, idle
}

// started records a run (or a probe) of k starting at; one whose due
// time is not known (a run a changed probe asked for) is not counted late.
func (d *dueBook) started(k ledger.StreamKey, at time.Time, run bool) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	due, ok := d.due[k]
	if at.Before(d.from) {
		return
	}
	if run {
		d.runs++
	}
	if ok {
		d.late = append(d.late, at.Sub(due))
	}
}

// finished records k idle at: it is due again one backoff later
// (FinishRun's and FinishProbes' rule).
func (d *dueBook) finished(at time.Time, keys ...ledger.StreamKey) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		n := d.idle[k]
		d.due[k] = at.Add(min(d.interval*time.Duration(1<<min(n, 20)), d.ceiling))
		d.idle[k] = n + 1
	}
}

// probed records a probe's result; a stream that changed (or whose probe
// failed) gets a run, whose start is not counted late.
func (d *dueBook) probed(k ledger.StreamKey, at time.Time, changed bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !at.Before(d.from) {
		d.probes++
	}
	if err != nil {
		d.probeErrs++
		if len(d.errs) < 5 {
			d.errs = append(d.errs, err)
		}
	}
	if changed || err != nil {
		d.wakes++
		delete(d.due, k)
		return
	}
	d.quiet = append(d.quiet, k)
}

// flushed records the quiet probes' FinishProbes, which follows the flush
// of their API usage.
func (d *dueBook) flushed(at time.Time) {
	d.mu.Lock()
	quiet := d.quiet
	d.quiet = nil
	d.mu.Unlock()
	d.finished(at, quiet...)
}

// counts are the runs started and probes made in the window so far.
func (d *dueBook) counts() (runs, probes int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.runs, d.probes
}

// countingProber probes through the engine and tells the book.
type countingProber struct {
	engine *sync.Engine
	book   *dueBook
}

// Probe probes the batch through the engine. Each probe counts as started
// when the batch is done: the probes of a batch run 32 at once, and this
// overstates a probe's lateness by at most the batch's time.
func (p *countingProber) Probe(ctx context.Context, claims []ledger.Claim, workers int) []sync.ProbeResult {
	found := p.engine.Probe(ctx, claims, workers)
	now := time.Now()
	for i, c := range claims {
		p.book.started(c.StreamKey, now, false)
		p.book.probed(c.StreamKey, now, found[i].Changed, found[i].Err)
	}
	return found
}

func (p *countingProber) IdleSchedule() ledger.Schedule { return p.engine.IdleSchedule() }

// benchProbes connects every tenant to the sandboxes through the vault, as
// production stores a connection (the sandboxes' one token pair, sealed per
// tenant; a Lightspeed account of its own each), and returns the sync
// configuration `tandem worker` builds over them, and the probe each
// stream's idle runs leave: the newest record of each read, so that a probe
// reads one record and finds nothing new.
func benchProbes(ctx context.Context, tb testing.TB, pool *pgxpool.Pool, sb *sandboxesProcess, interval time.Duration) (
	*SyncConfig, *sync.Engine, map[string]string) {
	tb.Helper()
	keys, err := vault.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	v := vault.New(pool, keys)
	rows, err := pool.Query(ctx, `SELECT id::text FROM tenants ORDER BY id`)
	if err != nil {
		tb.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	expiry := time.Now().Add(sandboxTokenTTL - 5*time.Minute)
	lsTok := lightspeed.Token{AccessToken: sb.LSAccess, RefreshToken: sb.LSRefresh, Expiry: expiry}
	sfTok := salesforce.Token{AccessToken: sb.SFAccess, RefreshToken: sb.SFRefresh, InstanceURL: sb.SFInstance, ID: sb.SFIdentity}
	began := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, id := range ids {
		g.Go(func() error {
			if err := v.Save(gctx, id, vault.Lightspeed, connect.LightspeedConnection(lsTok, 300000+int64(i), "Bench")); err != nil {
				return err
			}
			return v.Save(gctx, id, vault.Salesforce, connect.SalesforceConnection(sfTok, sb.SFURL, "Bench org"))
		})
	}
	if err := g.Wait(); err != nil {
		tb.Fatalf("connect the tenants: %v", err)
	}
	tb.Logf("%d tenants connected through the vault in %s", len(ids), time.Since(began).Round(time.Second))

	// newSyncConfig (cmd/tandem) over the sandboxes, trusting their
	// certificate.
	roots, err := sb.certPool()
	if err != nil {
		tb.Fatal(err)
	}
	transport := connect.NewTransport()
	transport.TLSClientConfig = &tls.Config{RootCAs: roots}
	providers := connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret", AuthURL: sb.LSURL, APIURL: sb.LSURL},
		Salesforce: connect.SalesforceProvider{ClientID: sfsandbox.DefaultClientID, ClientSecret: sfsandbox.DefaultClientSecret,
			ProductionLoginURL: sb.SFURL, SandboxLoginURL: sb.SFURL},
	}
	usage := connect.NewUsage(pool, nil)
	clients, err := connect.New(connect.Config{Vault: v, Providers: providers, Usage: usage,
		Limits:     lightspeed.NewLimits(lightspeed.LimitsOptions{Store: connect.NewBuckets(pool)}),
		HTTPClient: &http.Client{Timeout: connect.DefaultHTTPTimeout, Transport: transport},
		Transport: func(provider string, base http.RoundTripper) http.RoundTripper {
			return sync.CountingTransport(provider, base)
		}})
	if err != nil {
		tb.Fatal(err)
	}
	// Probes pace Lightspeed in this process only, as newSyncConfig has it.
	probes := clients.WithLimits(lightspeed.NewLimits(lightspeed.LimitsOptions{}))
	engine := sync.New(ledger.New(pool), mapping.NewStore(pool), clients, SetupConfig{Setup: setup.NewStore(pool)},
		nil, sync.Options{Interval: interval, Describes: setup.NewStore(pool), Probes: probes})
	sc := &SyncConfig{Engine: engine, Interval: interval, Reserve: usage.ReserveCheck(connect.DefaultReservePct),
		Flush: usage.FlushTenant, FlushAll: usage.Flush}

	// The probes, from the newest records as the first tenant reads them,
	// in the engine's encoding (jobs/sync probe.go); a probe it could not
	// read fails the check below.
	specs := map[string]string{}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	ls, err := clients.Lightspeed(ctx, ids[0])
	if err != nil {
		tb.Fatal(err)
	}
	newest := lightspeed.NewQuery().Archived(lightspeed.ArchivedInclude).Limit(1)
	cs, _, err := ls.Customers.List(ctx, newest.Sort("timeStamp", true))
	if err != nil || len(cs) == 0 {
		tb.Fatalf("the sandbox's newest customer: %v (%d)", err, len(cs))
	}
	specs[ledger.CustomersToSalesforce+"/"] = "ls=Customer after=" + stamp(cs[0].TimeStamp)
	for _, shop := range []string{"1", "2", "3"} {
		q := lightspeed.NewQuery().Archived(lightspeed.ArchivedInclude).Limit(1).
			Where("shopID", lightspeed.Eq, shop).Where("completed", lightspeed.Eq, true).Sort("updatetime", true)
		ss, _, err := ls.Sales.List(ctx, q)
		if err != nil || len(ss) == 0 {
			tb.Fatalf("the sandbox's newest sale of shop %s: %v (%d)", shop, err, len(ss))
		}
		specs[ledger.SalesToSalesforce+"/"+shop] = "ls=Sale shop=" + shop + " after=" + stamp(ss[0].UpdateTime)
	}
	sf, err := clients.Salesforce(ctx, ids[0])
	if err != nil {
		tb.Fatal(err)
	}
	for rec, err := range sf.QueryAll(ctx, "SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp DESC LIMIT 1", nil) {
		if err != nil {
			tb.Fatal(err)
		}
		at, err := rec.Time("SystemModstamp")
		if err != nil {
			tb.Fatal(err)
		}
		specs[ledger.CustomersToLightspeed+"/"] = "object=Contact after=" + stamp(at)
	}
	out := specs
	var claims []ledger.Claim
	for k, p := range specs {
		stream, loc, _ := strings.Cut(k, "/")
		claims = append(claims, ledger.Claim{StreamKey: ledger.StreamKey{TenantID: ids[len(ids)-1], Location: loc, Stream: stream},
			Probe: p})
	}
	// Each probe must find nothing, or the benchmark measures runs.
	for i, r := range engine.Probe(ctx, claims, 1) {
		if r.Err != nil || r.Changed {
			tb.Fatalf("probe %s of an unchanged sandbox: changed %t, %v", claims[i].Probe, r.Changed, r.Err)
		}
	}
	if len(out) != 5 {
		tb.Fatalf("probes %v: want one per stream", out)
	}
	return sc, engine, out
}

// BenchmarkSchedulerIdle runs one worker process as `tandem worker`
// configures it (NewClient: River, the periodic SchedulerWorker, 32 sync
// workers, the engine's clients from the vault) over 10,000 tenants with
// three shops each (50,000 streams), nothing changing, for a window of
// real time. Idle streams are probed by the engine (sync.Engine.Probe: one
// API call over TLS to the sandboxes, which run in a child process so that
// this process's CPU is the worker's alone); the runs of the streams not
// yet backed off are a stand-in's (idleRunner: a run recorded as idle,
// leaving the probe the engine's would), not the engine's
// (BenchmarkIdleRun measures a real idle run). -sched.probe=false runs
// every stream through the stand-in instead, no probes and no sandboxes.
//
// Most streams start backed off to the ceiling (ten intervals) and
// probed, due spread over one ceiling; a share (-sched.fresh) start at the
// base interval, due over the first interval, and back off: two idle runs,
// then probes. The window opens after a minute's warm-up. It logs a line
// per minute: runs and probes, this process's CPU, the sandboxes'
// process's, and the database's (its backends' CPU from /proc when the
// server is local, and pg_stat_database deltas), and reports how late each
// run or probe started against its stream's due time. Run it alone, with
// -benchtime 1x.
func BenchmarkSchedulerIdle(b *testing.B) {
	ctx := context.Background()
	window, interval, tenants := *schedWindow, *schedInterval, *schedTenants
	ceiling := 10 * interval
	pool := dbtest.New(b)
	var sb *sandboxesProcess
	if *schedProbe {
		var err error
		if sb, err = startSandboxes(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _, _ = sb.stop() })
	}
	fresh := int(float64(tenants) * *schedFresh)
	if _, err := pool.Exec(ctx, `INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'Tenant ' || i
		FROM generate_series(1, $1::int) i`, tenants); err != nil {
		b.Fatal(err)
	}
	sc := &SyncConfig{Interval: interval}
	var engine *sync.Engine
	probes := map[string]string{}
	if sb != nil {
		sc, engine, probes = benchProbes(ctx, b, pool, sb, interval)
	}
	// Streams are due from start on; the window opens after a minute's
	// warm-up, in which River's tables fill and are analyzed.
	start := time.Now().Add(20 * time.Second).Truncate(time.Second)
	t0 := start.Add(time.Minute)
	probesJSON, err := json.Marshal(probes)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE bench_seed (tenant_id uuid, location text, stream text, fresh bool, idle_runs int, due timestamptz, probe text)`,
		`INSERT INTO bench_seed (tenant_id, location, stream, fresh)
		 SELECT t.id, v.l, v.s, t.n <= $1::int
		 FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM tenants) t,
		 (VALUES ('', 'customers:ls→sf'), ('', 'customers:sf→ls'), ('1', 'sales:ls→sf'), ('2', 'sales:ls→sf'), ('3', 'sales:ls→sf')) v(l, s)`,
		`UPDATE bench_seed SET idle_runs = CASE WHEN fresh THEN 0 ELSE 5 END,
		 due = $1::timestamptz + random() * CASE WHEN fresh THEN $2::interval ELSE $3::interval END`,
		// A backed-off stream's last idle run left its probe.
		`UPDATE bench_seed SET probe = CASE WHEN fresh THEN '' ELSE coalesce($1::jsonb ->> (stream || '/' || location), '') END`,
		// Every stream has run before: its last run is the dashboard's.
		`INSERT INTO sync_runs (tenant_id, location, stream, trigger, status, started_at, finished_at)
		 SELECT tenant_id, location, stream, 'schedule', 'succeeded', due - interval '5 minutes', due - interval '5 minutes'
		 FROM bench_seed`,
		`INSERT INTO sync_streams (tenant_id, location, stream, next_run_at, idle_runs, last_run_id, probe)
		 SELECT s.tenant_id, s.location, s.stream, s.due, s.idle_runs, r.id, s.probe
		 FROM bench_seed s JOIN sync_runs r USING (tenant_id, location, stream)`,
		`VACUUM ANALYZE`,
	} {
		var args []any
		switch {
		case strings.Contains(q, "INSERT INTO bench_seed"):
			args = []any{fresh}
		case strings.Contains(q, "random()"):
			args = []any{start, interval, ceiling}
		case strings.Contains(q, "jsonb"):
			args = []any{string(probesJSON)}
		}
		if _, err := pool.Exec(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	book := newDueBook(interval, ceiling, t0)
	seeded, err := pool.Query(ctx, `SELECT tenant_id::text, location, stream, due, idle_runs FROM bench_seed`)
	if err != nil {
		b.Fatal(err)
	}
	for seeded.Next() {
		var k ledger.StreamKey
		var due time.Time
		var idle int
		if err := seeded.Scan(&k.TenantID, &k.Location, &k.Stream, &due, &idle); err != nil {
			b.Fatal(err)
		}
		book.seed(k, due, idle)
	}
	if err := seeded.Err(); err != nil {
		b.Fatal(err)
	}

	sc.Workers = *schedWorkers
	runner := &idleRunner{ledger: ledger.New(pool), interval: interval, book: book}
	sc.runner = runner
	if engine != nil {
		runner.probe = func(k ledger.StreamKey) string { return probes[k.Stream+"/"+k.Location] }
		sc.prober = &countingProber{engine: engine, book: book}
		flush := sc.FlushAll
		sc.FlushAll = func(ctx context.Context) error {
			book.flushed(time.Now())
			return flush(ctx)
		}
	}
	client, err := NewClient(pool, Config{Sync: sc})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := client.Stop(sctx); err != nil {
			b.Logf("stop: %v", err)
		}
	}
	b.Cleanup(stop)

	// A server without autovacuum (a development one) never cleans the
	// rows each run updates, nor learns the tables' new sizes: vacuum and
	// analyze them each minute as autovacuum would, its cost counted with
	// the database's.
	var autovacuum string
	if err := pool.QueryRow(ctx, `SHOW autovacuum`).Scan(&autovacuum); err != nil {
		b.Fatal(err)
	}
	vacuum := autovacuum != "on"
	mon, err := newLoadMonitor(ctx, pool)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Until(t0))
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) sync_streams, sync_runs, river_job, api_usage`); err != nil {
		b.Fatal(err)
	}
	if *schedProfile != "" {
		f, err := os.Create(*schedProfile)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	b.ResetTimer()
	// childCPU is the sandboxes' process's CPU so far, or -1.
	childCPU := func() time.Duration {
		if sb == nil {
			return -1
		}
		if cpu, ok := sb.cpu(); ok {
			return cpu
		}
		return -1
	}
	type minute struct {
		load         loadSample
		runs, probes int
		child        time.Duration
	}
	prev := mon.sample(ctx, b)
	prevChild := childCPU()
	first, firstChild := prev, prevChild
	var prevRuns, prevProbes int
	var minutes []minute
	for end := t0.Add(window); time.Now().Before(end); {
		time.Sleep(min(time.Minute, time.Until(end)))
		if vacuum {
			if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) sync_streams, sync_runs, river_job, api_usage`); err != nil {
				b.Fatal(err)
			}
		}
		s := mon.sample(ctx, b)
		c := childCPU()
		runs, probes := book.counts()
		minutes = append(minutes, minute{load: s.minus(prev), runs: runs - prevRuns, probes: probes - prevProbes, child: c - prevChild})
		prev, prevChild, prevRuns, prevProbes = s, c, runs, probes
	}
	b.StopTimer()
	if *schedProfile != "" {
		pprof.StopCPUProfile()
	}
	lastChild := prevChild
	var overdue int
	var worst float64
	if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM max(now() - next_run_at)), 0)
		FROM sync_streams WHERE next_run_at < now() - $1::interval AND NOT paused`,
		(&SyncConfig{Interval: interval}).schedulerTick()+5*time.Second).Scan(&overdue, &worst); err != nil {
		b.Fatal(err)
	}
	// A claimed stream's job waits in River's queue: how long the oldest has.
	var queued int
	var oldest float64
	if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM max(now() - scheduled_at)), 0)
		FROM river_job WHERE kind = 'sync' AND state = 'available'`).Scan(&queued, &oldest); err != nil {
		b.Fatal(err)
	}
	stop()
	var childTotal time.Duration = -1
	if sb != nil {
		cpu, err := sb.stop()
		if err != nil {
			b.Logf("sandboxes: %v", err)
		}
		childTotal = cpu
	}
	tables, err := pool.Query(ctx, `SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), coalesce(idx_tup_fetch, 0),
		n_tup_ins, n_tup_upd, n_tup_hot_upd, n_dead_tup FROM pg_stat_user_tables
		WHERE seq_tup_read + coalesce(idx_tup_fetch, 0) + n_tup_upd + n_tup_ins > 0 ORDER BY seq_tup_read DESC`)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%-22s %9s %13s %9s %13s %9s %9s %9s %9s", "table", "seq_scan", "seq_tup_read", "idx_scan", "idx_tup_fetch",
		"ins", "upd", "hot_upd", "dead")
	for tables.Next() {
		var name string
		var n [8]int64
		if err := tables.Scan(&name, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7]); err != nil {
			b.Fatal(err)
		}
		b.Logf("%-22s %9d %13d %9d %13d %9d %9d %9d %9d", name, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7])
	}
	if err := tables.Err(); err != nil {
		b.Fatal(err)
	}

	b.Logf("%d tenants, %d streams (%d start at the base interval), interval %s, ceiling %s, window %s, scheduler tick %s, sync workers %d, probes %t, VACUUM (ANALYZE) each minute: %t",
		tenants, tenants*5, fresh*5, interval, ceiling, window, (&SyncConfig{Interval: interval}).schedulerTick(), *schedWorkers,
		engine != nil, vacuum)
	b.Logf("%-6s %7s %7s %9s %9s %9s %9s %10s %11s %10s %11s %8s", "minute", "runs", "probes", "(r+p)/s", "worker%",
		"sandbox%", "db%", "xacts", "tup_ret", "tup_fetch", "blks_hit", "xact/op")
	for i, m := range minutes {
		sec := m.load.wall.Seconds()
		ops := m.runs + m.probes
		child := "n/a"
		if m.child >= 0 && firstChild >= 0 {
			child = fmt.Sprintf("%.2f", 100*m.child.Seconds()/sec)
		}
		b.Logf("%-6d %7d %7d %9.1f %9.2f %9s %9s %10d %11d %10d %11d %8.1f", i+1, m.runs, m.probes, float64(ops)/sec,
			m.load.cpuPct(), child, m.load.dbPctText(), m.load.xacts, m.load.tupReturned, m.load.tupFetched, m.load.blksHit,
			float64(m.load.xacts)/max(float64(ops), 1))
	}
	total := prev.minus(first)

	book.mu.Lock()
	late := slices.Clone(book.late)
	runs, probed, wakes, probeErrs := book.runs, book.probes, book.wakes, book.probeErrs
	book.mu.Unlock()
	slices.Sort(late)
	pct := func(p float64) float64 {
		if len(late) == 0 {
			return 0
		}
		return late[min(int(p*float64(len(late))), len(late)-1)].Seconds()
	}
	var atCeiling, freshAtCeiling int
	// A stream's last wait was the ceiling once interval × 2^(idle_runs-1)
	// reaches it.
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE $1::interval * power(2, st.idle_runs - 1) >= $2::interval),
		count(*) FILTER (WHERE s.fresh AND $1::interval * power(2, st.idle_runs - 1) >= $2::interval)
		FROM sync_streams st JOIN bench_seed s USING (tenant_id, location, stream)`, interval, ceiling).Scan(&atCeiling, &freshAtCeiling); err != nil {
		b.Fatal(err)
	}
	var probedStreams int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM sync_streams WHERE probes > 0`).Scan(&probedStreams); err != nil {
		b.Fatal(err)
	}
	b.Logf("runs %d, probes %d (%d found a change or failed: %d failed); streams probed at least once %d",
		runs, probed, wakes, probeErrs, probedStreams)
	for _, err := range book.errs {
		b.Logf("probe failed: %v", err)
	}
	b.Logf("start lateness (runs and probes, %d timed) p50 %.2fs p99 %.2fs max %.2fs; overdue streams at the end %d (worst %.0fs); jobs waiting to start %d (oldest %.1fs)",
		len(late), pct(0.5), pct(0.99), pct(1), overdue, worst, queued, oldest)
	b.Logf("streams waiting the ceiling at the end: %d of %d (%d of the %d that started at the base interval)",
		atCeiling, tenants*5, freshAtCeiling, fresh*5)
	ops := float64(max(runs+probed, 1))
	b.Logf("whole window: worker CPU %.2f%% of one core, database backends %s%% of one core, %.1f transactions and %.0f tuples read per run or probe",
		total.cpuPct(), total.dbPctText(), float64(total.xacts)/ops, float64(total.tupReturned+total.tupFetched)/ops)
	b.ReportMetric(total.cpuPct(), "worker_cpu_%")
	if sb != nil && firstChild >= 0 && lastChild >= 0 {
		pct := 100 * (lastChild - firstChild).Seconds() / total.wall.Seconds()
		b.Logf("sandboxes' process: %.2f%% of one core in the window; %s of CPU in its whole life", pct, childTotal.Round(time.Millisecond))
		b.ReportMetric(pct, "sandbox_cpu_%")
	}
	if total.dbCPU >= 0 {
		b.ReportMetric(total.dbPct(), "db_cpu_%")
	}
	b.ReportMetric(float64(runs)/total.wall.Seconds(), "runs/s")
	b.ReportMetric(float64(probed)/total.wall.Seconds(), "probes/s")
	b.ReportMetric(float64(total.xacts)/ops, "xacts/op")
	b.ReportMetric(pct(0.5), "late_p50_s")
	b.ReportMetric(pct(0.99), "late_p99_s")
	b.ReportMetric(pct(1), "late_max_s")
	b.ReportMetric(float64(overdue), "overdue")
	if overdue > 0 {
		b.Errorf("%d streams overdue at the end of the window", overdue)
	}
	if probeErrs > 0 {
		b.Errorf("%d probes failed", probeErrs)
	}
}

// loadMonitor samples this process's CPU and the benchmark database's load.
type loadMonitor struct {
	pool *pgxpool.Pool
	// backends are the database's server processes seen so far, with their
	// last CPU reading, so one that exits keeps its share.
	backends map[int]time.Duration
	local    bool
}

type loadSample struct {
	wall, cpu, dbCPU                                    time.Duration
	at                                                  time.Time
	xacts, tupReturned, tupFetched, tupWritten, blksHit int64
}

func (s loadSample) minus(o loadSample) loadSample {
	d := loadSample{wall: s.at.Sub(o.at), cpu: s.cpu - o.cpu, dbCPU: s.dbCPU - o.dbCPU, at: s.at,
		xacts: s.xacts - o.xacts, tupReturned: s.tupReturned - o.tupReturned, tupFetched: s.tupFetched - o.tupFetched,
		tupWritten: s.tupWritten - o.tupWritten, blksHit: s.blksHit - o.blksHit}
	if s.dbCPU < 0 || o.dbCPU < 0 {
		d.dbCPU = -1
	}
	return d
}

func (s loadSample) cpuPct() float64 { return 100 * s.cpu.Seconds() / s.wall.Seconds() }
func (s loadSample) dbPct() float64  { return 100 * s.dbCPU.Seconds() / s.wall.Seconds() }
func (s loadSample) dbPctText() string {
	if s.dbCPU < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", s.dbPct())
}

func newLoadMonitor(ctx context.Context, pool *pgxpool.Pool) (*loadMonitor, error) {
	var addr string
	if err := pool.QueryRow(ctx, `SELECT coalesce(inet_server_addr()::text, 'local')`).Scan(&addr); err != nil {
		return nil, err
	}
	local := addr == "local" || strings.HasPrefix(addr, "127.") || addr == "::1/128" || strings.HasPrefix(addr, "127.0.0.1")
	return &loadMonitor{pool: pool, backends: map[int]time.Duration{}, local: local}, nil
}

func (m *loadMonitor) sample(ctx context.Context, tb testing.TB) loadSample {
	tb.Helper()
	s := loadSample{at: time.Now()}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// pg_stat_database is flushed by each backend at most once a second;
	// force this one's and read.
	if err := m.pool.QueryRow(ctx, `SELECT xact_commit + xact_rollback, tup_returned, tup_fetched,
		tup_inserted + tup_updated + tup_deleted, blks_hit + blks_read
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&s.xacts, &s.tupReturned, &s.tupFetched,
		&s.tupWritten, &s.blksHit); err != nil {
		tb.Fatal(err)
	}
	s.dbCPU = -1
	if !m.local {
		return s
	}
	rows, err := m.pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		tb.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		tb.Fatal(err)
	}
	for _, pid := range pids {
		cpu, ok := procCPU(pid)
		if !ok {
			m.local = false
			return s
		}
		m.backends[pid] = cpu
	}
	s.dbCPU = 0
	for _, cpu := range m.backends {
		s.dbCPU += cpu
	}
	return s
}

// procCPU reads a process's user and system time from /proc.
func procCPU(pid int) (time.Duration, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name is in parentheses and may hold spaces; the fields
	// counted from utime (14th) start after its closing parenthesis.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, true
}
