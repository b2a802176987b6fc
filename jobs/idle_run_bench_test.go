package jobs_test

import (
	"syscall"
	"testing"
	"time"

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
	tn := newSandboxTenant(b, "Idle Shop", sandboxOptions{
		ls: lssandbox.Options{Seed: &lssandbox.SeedOptions{Seed: 3, Shops: 3, Customers: 20, Sales: -1},
			BucketSize: 1e6, DripRate: 1e6, Burst: 1e6}, // unthrottled: pacing is waiting, not CPU
		shops:  []string{"1", "2", "3"},
		limits: lightspeed.LimitsOptions{DefaultSize: 1e6, DefaultDripRate: 1e6, DefaultBurst: 1e6}})
	pool := tn.pool
	l := ledger.New(pool)
	engine := sync.New(l, mapping.NewStore(pool), tn.clients, jobs.SetupConfig{Setup: tn.setup}, nil, sync.Options{})
	streams, err := l.Streams(ctx, tn.id)
	if err != nil {
		b.Fatal(err)
	}
	if len(streams) != 5 {
		b.Fatalf("%d streams, want 5 (two customer streams, three shops)", len(streams))
	}
	// Catch up first: the seeded customers go across once.
	for _, s := range streams {
		for range 10 {
			res, err := engine.Run(ctx, s.StreamKey, ledger.TriggerSchedule)
			if err != nil {
				b.Fatalf("catch up %s: %v", s.StreamKey, err)
			}
			if res.Idle {
				break
			}
		}
	}

	xacts := func() int64 {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT pg_stat_force_next_flush(); SELECT xact_commit + xact_rollback
			FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
			// pg_stat_force_next_flush is PostgreSQL 15's; the figure is
			// then up to a second stale, which the many runs absorb.
			if err := pool.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database
				WHERE datname = current_database()`).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
		return n
	}
	runs, calls := 0, 0
	cpu0, x0 := cpuTime(b), xacts()
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
	elapsed, cpu, x := time.Since(start), cpuTime(b)-cpu0, xacts()-x0
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(runs), "cpu_ms/run")
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(runs), "wall_ms/run")
	b.ReportMetric(float64(calls)/float64(runs), "api_calls/run")
	b.ReportMetric(float64(x)/float64(runs), "db_xacts/run")
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
