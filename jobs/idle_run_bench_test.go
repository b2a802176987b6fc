package jobs_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
)

// BenchmarkIdleRun measures what one real run of a stream costs when
// nothing changed: the production engine, vault-backed clients and the
// ledger, against the in-process sandboxes, for a tenant with three shops
// (its five streams, run in turn). cpu_ms/run is this process's CPU
// (getrusage) per run, which includes the sandboxes answering the calls;
// db_xacts/run the database transactions per run (pg_stat_database).
// BenchmarkSchedulerIdle measures the scheduling around the runs.
func BenchmarkIdleRun(b *testing.B) {
	ctx := b.Context()
	tn, engine, streams := idleTenant(b)
	pool := tn.pool
	runs, calls := 0, 0
	cpu0, x0 := cpuTime(b), dbXacts(b, pool)
	start := time.Now()
	for b.Loop() {
		for _, s := range streams {
			res, err := engine.Run(ctx, s.StreamKey, ledger.TriggerSchedule)
			if err != nil {
				b.Fatal(err)
			}
			if !res.Idle {
				b.Fatalf("%s: run touched records %v; want an idle run", s.StreamKey, res.Run.Counts)
			}
			runs++
			for _, n := range res.Run.APICalls {
				calls += n
			}
		}
	}
	elapsed, cpu, x := time.Since(start), cpuTime(b)-cpu0, dbXacts(b, pool)-x0
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(runs), "cpu_ms/run")
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(runs), "wall_ms/run")
	b.ReportMetric(float64(calls)/float64(runs), "api_calls/run")
	b.ReportMetric(float64(x)/float64(runs), "db_xacts/run")
}

// BenchmarkIdleProbe measures what probing a quiet stream costs (the read
// the scheduler makes instead of a run, jobs/sync probe.go), as
// BenchmarkIdleRun measures a run: the same tenant, its five streams
// probed as a scheduler pass probes them (a batch, their connections read
// once), one at a time, with the probes their idle runs left.
func BenchmarkIdleProbe(b *testing.B) {
	ctx := b.Context()
	tn, engine, streams := idleTenant(b)
	probes := make([]string, len(streams))
	for i, s := range streams {
		if err := tn.pool.QueryRow(ctx, `SELECT probe FROM sync_streams WHERE tenant_id = $1 AND location = $2 AND stream = $3`,
			s.TenantID, s.Location, s.Stream).Scan(&probes[i]); err != nil {
			b.Fatal(err)
		}
		if probes[i] == "" {
			b.Fatalf("%s: its idle run left no probe", s.StreamKey)
		}
	}
	claims := make([]ledger.Claim, len(streams))
	for i, s := range streams {
		claims[i] = ledger.Claim{StreamKey: s.StreamKey, Probe: probes[i]}
	}
	n := 0
	cpu0, x0 := cpuTime(b), dbXacts(b, tn.pool)
	start := time.Now()
	for b.Loop() {
		for i, r := range engine.Probe(ctx, claims, 1) {
			if r.Err != nil || r.Changed {
				b.Fatalf("%s: probe says changed=%t, %v; want nothing changed", claims[i].StreamKey, r.Changed, r.Err)
			}
			n++
		}
	}
	elapsed, cpu, x := time.Since(start), cpuTime(b)-cpu0, dbXacts(b, tn.pool)-x0
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu_ms/probe")
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(n), "wall_ms/probe")
	b.ReportMetric(float64(x)/float64(n), "db_xacts/probe")
}

// cpuTime is this process's user and system CPU so far.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// idleTenant is a tenant with three shops whose five streams have caught
// up and then run idle twice (so each has left its probe), with the
// production engine over vault-backed clients and unthrottled in-process
// sandboxes.
func idleTenant(b *testing.B) (*sandboxTenant, *sync.Engine, []ledger.Stream) {
	ctx := b.Context()
	tn := newSandboxTenant(b, "Idle Shop", sandboxOptions{
		ls: lssandbox.Options{Seed: &lssandbox.SeedOptions{Seed: 3, Shops: 3, Customers: 20, Sales: -1},
			BucketSize: 1e6, DripRate: 1e6, Burst: 1e6}, // unthrottled: pacing is waiting, not CPU
		shops:  []string{"1", "2", "3"},
		limits: lightspeed.LimitsOptions{DefaultSize: 1e6, DefaultDripRate: 1e6, DefaultBurst: 1e6}})
	l := ledger.New(tn.pool)
	// Probes pace Lightspeed in the process, as tandem worker has them
	// (unthrottled here, like the shared buckets).
	probes := tn.clients.WithLimits(lightspeed.NewLimits(lightspeed.LimitsOptions{DefaultSize: 1e6, DefaultDripRate: 1e6,
		DefaultBurst: 1e6}))
	engine := sync.New(l, mapping.NewStore(tn.pool), tn.clients, jobs.SetupConfig{Setup: tn.setup}, nil,
		sync.Options{Probes: probes})
	streams, err := l.Streams(ctx, tn.id)
	if err != nil {
		b.Fatal(err)
	}
	if len(streams) != 5 {
		b.Fatalf("%d streams, want 5 (two customer streams, three shops)", len(streams))
	}
	// Catch up first (the seeded customers go across once), then two idle
	// runs each.
	for _, s := range streams {
		idle := 0
		for range 12 {
			res, err := engine.Run(ctx, s.StreamKey, ledger.TriggerSchedule)
			if err != nil {
				b.Fatalf("catch up %s: %v", s.StreamKey, err)
			}
			if res.Idle {
				idle++
			}
			if idle == 2 {
				break
			}
		}
	}
	return tn, engine, streams
}

// dbXacts is the database's transactions so far.
func dbXacts(b *testing.B, pool *pgxpool.Pool) int64 {
	ctx := b.Context()
	var n int64
	if err := pool.QueryRow(ctx, `SELECT pg_stat_force_next_flush(); SELECT xact_commit + xact_rollback
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
		// pg_stat_force_next_flush is PostgreSQL 15's; the figure is then
		// up to a second stale, which the many runs absorb.
		if err := pool.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database
			WHERE datname = current_database()`).Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
	return n
}
