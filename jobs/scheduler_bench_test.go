package jobs

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/sql/dbtest"
)

// The scheduler benchmark's knobs, as test flags (go test ... -args
// -sched.window 10m): the run is long, so its length is the reader's call.
var (
	schedWindow   = flag.Duration("sched.window", 8*time.Minute, "BenchmarkSchedulerIdle: how long to measure")
	schedInterval = flag.Duration("sched.interval", 30*time.Second, "BenchmarkSchedulerIdle: the sync interval")
	schedFresh    = flag.Float64("sched.fresh", 0.1, "BenchmarkSchedulerIdle: share of tenants whose streams start not backed off")
	schedTenants  = flag.Int("sched.tenants", 10000, "BenchmarkSchedulerIdle: tenants, 3 locations each")
	schedWorkers  = flag.Int("sched.workers", 32, "BenchmarkSchedulerIdle: sync runs worked at once (tandem worker --sync-workers)")
)

// idleRunner stands in for the engine: each run is recorded and finished
// as an idle run through the ledger (StartRun, FinishRun with the engine's
// schedule), so the backoff is the real code's, without the API calls.
// ran, when set, receives each run once it is finished.
type idleRunner struct {
	ledger   *ledger.Store
	interval time.Duration
	ran      chan<- ran
}

type ran struct {
	key     ledger.StreamKey
	trigger string
}

func (r *idleRunner) Run(ctx context.Context, k ledger.StreamKey, trigger string) (sync.Result, error) {
	run, err := r.ledger.StartRun(ctx, k, trigger, 1)
	if err != nil {
		return sync.Result{}, err
	}
	// The engine's defaults: MaxIdle is ten intervals.
	sched := ledger.Schedule{Interval: r.interval, MaxIdle: 10 * r.interval, Idle: true}
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

// BenchmarkSchedulerIdle runs one worker process as production configures
// it (NewClient: River, the periodic SchedulerWorker, the SyncWorker) over
// 10,000 tenants with three locations each (50,000 streams), nothing
// changing, for a window of real time. The runs are idleRunner's, so the
// process's CPU is the scheduling's (claims, River's inserts, fetches and
// completions, the run bookkeeping in the ledger), not the API calls'
// (BenchmarkIdleRun measures a real idle run).
//
// Most streams start backed off to the ceiling (ten intervals), due spread
// over one ceiling; a share (-sched.fresh) start at the base interval, due
// over the first interval, and back off. The window opens after a minute's
// warm-up. It logs a line
// per minute: runs started, this process's CPU and the database's
// (its backends' CPU from /proc when the server is local, and
// pg_stat_database deltas), and reports how late each run started
// against its stream's due time. Run it alone, with -benchtime 1x.
func BenchmarkSchedulerIdle(b *testing.B) {
	ctx := context.Background()
	window, interval, tenants := *schedWindow, *schedInterval, *schedTenants
	ceiling := 10 * interval
	pool := dbtest.New(b)
	// Streams are due from start on; the window opens after a minute's
	// warm-up, in which River's tables fill and are analyzed.
	start := time.Now().Add(20 * time.Second).Truncate(time.Second)
	t0 := start.Add(time.Minute)
	fresh := int(float64(tenants) * *schedFresh)
	for _, q := range []string{
		`INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'Tenant ' || i FROM generate_series(1, $1::int) i`,
		`CREATE TABLE bench_seed (tenant_id uuid, location text, stream text, fresh bool, idle_runs int, due timestamptz)`,
		`INSERT INTO bench_seed (tenant_id, location, stream, fresh)
		 SELECT t.id, v.l, v.s, t.n <= $1::int
		 FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM tenants) t,
		 (VALUES ('', 'customers:ls→sf'), ('', 'customers:sf→ls'), ('1', 'sales:ls→sf'), ('2', 'sales:ls→sf'), ('3', 'sales:ls→sf')) v(l, s)`,
		`UPDATE bench_seed SET idle_runs = CASE WHEN fresh THEN 0 ELSE 5 END,
		 due = $1::timestamptz + random() * CASE WHEN fresh THEN $2::interval ELSE $3::interval END`,
		// Every stream has run before: its last run is the dashboard's.
		`INSERT INTO sync_runs (tenant_id, location, stream, trigger, status, started_at, finished_at)
		 SELECT tenant_id, location, stream, 'schedule', 'succeeded', due - interval '5 minutes', due - interval '5 minutes'
		 FROM bench_seed`,
		`INSERT INTO sync_streams (tenant_id, location, stream, next_run_at, idle_runs, last_run_id)
		 SELECT s.tenant_id, s.location, s.stream, s.due, s.idle_runs, r.id
		 FROM bench_seed s JOIN sync_runs r USING (tenant_id, location, stream)`,
		`VACUUM ANALYZE`,
	} {
		var args []any
		switch {
		case strings.Contains(q, "generate_series"):
			args = []any{tenants}
		case strings.Contains(q, "INSERT INTO bench_seed"):
			args = []any{fresh}
		case strings.Contains(q, "random()"):
			args = []any{start, interval, ceiling}
		}
		if _, err := pool.Exec(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}

	client, err := NewClient(pool, Config{Sync: &SyncConfig{Interval: interval, Workers: *schedWorkers,
		runner: &idleRunner{ledger: ledger.New(pool), interval: interval}}})
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
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) sync_streams, sync_runs, river_job`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	prev := mon.sample(ctx, b)
	first := prev
	var minutes []loadSample
	for end := t0.Add(window); time.Now().Before(end); {
		time.Sleep(min(time.Minute, time.Until(end)))
		if vacuum {
			if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) sync_streams, sync_runs, river_job`); err != nil {
				b.Fatal(err)
			}
		}
		s := mon.sample(ctx, b)
		minutes = append(minutes, s.minus(prev))
		prev = s
	}
	b.StopTimer()
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

	// Runs started per minute, from the runs themselves: the ledger is not
	// read while measuring, so the database figures are the worker's alone.
	rows, err := pool.Query(ctx, `SELECT floor(extract(epoch FROM started_at - $1::timestamptz) / 60)::int, count(*)
		FROM sync_runs WHERE started_at >= $1 GROUP BY 1 ORDER BY 1`, t0)
	if err != nil {
		b.Fatal(err)
	}
	runsPerMinute := map[int]int{}
	for rows.Next() {
		var m, n int
		if err := rows.Scan(&m, &n); err != nil {
			b.Fatal(err)
		}
		runsPerMinute[m] = n
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d tenants, %d streams (%d start at the base interval), interval %s, ceiling %s, window %s, scheduler tick %s, sync workers %d, VACUUM (ANALYZE) each minute: %t",
		tenants, tenants*5, fresh*5, interval, ceiling, window, (&SyncConfig{Interval: interval}).schedulerTick(), *schedWorkers, vacuum)
	b.Logf("%-6s %8s %10s %10s %9s %12s %12s %11s %12s %9s", "minute", "runs", "runs/s", "worker%", "db%",
		"xacts", "tup_ret", "tup_fetch", "blks_hit", "xact/run")
	for i, m := range minutes {
		n := runsPerMinute[i]
		sec := m.wall.Seconds()
		b.Logf("%-6d %8d %10.1f %10.2f %9s %12d %12d %11d %12d %9.1f", i+1, n, float64(n)/sec, m.cpuPct(),
			m.dbPctText(), m.xacts, m.tupReturned, m.tupFetched, m.blksHit, float64(m.xacts)/max(float64(n), 1))
	}
	total := prev.minus(first)

	var lat struct{ p50, p99, maxSec float64 }
	var latRuns int
	if err := pool.QueryRow(ctx, `
		WITH r AS (
			SELECT tenant_id, location, stream, started_at,
			       row_number() OVER w AS n, lag(finished_at) OVER w AS prev_finished
			FROM sync_runs WINDOW w AS (PARTITION BY tenant_id, location, stream ORDER BY id)
		), late AS (
			SELECT extract(epoch FROM r.started_at - CASE WHEN r.n = 1 THEN s.due
				ELSE r.prev_finished + LEAST($2::interval * power(2, LEAST(s.idle_runs + r.n - 2, 20)), $3::interval) END) AS sec
			FROM r JOIN bench_seed s USING (tenant_id, location, stream)
			WHERE r.started_at >= $1
		)
		SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY sec), percentile_cont(0.99) WITHIN GROUP (ORDER BY sec),
		       max(sec) FROM late`, t0, interval, ceiling).Scan(&latRuns, &lat.p50, &lat.p99, &lat.maxSec); err != nil {
		b.Fatal(err)
	}
	var atCeiling, freshAtCeiling int
	// A stream's last wait was the ceiling once interval × 2^(idle_runs-1)
	// reaches it.
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE $1::interval * power(2, st.idle_runs - 1) >= $2::interval),
		count(*) FILTER (WHERE s.fresh AND $1::interval * power(2, st.idle_runs - 1) >= $2::interval)
		FROM sync_streams st JOIN bench_seed s USING (tenant_id, location, stream)`, interval, ceiling).Scan(&atCeiling, &freshAtCeiling); err != nil {
		b.Fatal(err)
	}
	b.Logf("runs %d; start lateness p50 %.2fs p99 %.2fs max %.2fs; overdue streams at the end %d (worst %.0fs); jobs waiting to start %d (oldest %.1fs)",
		latRuns, lat.p50, lat.p99, lat.maxSec, overdue, worst, queued, oldest)
	b.Logf("streams waiting the ceiling at the end: %d of %d (%d of the %d that started at the base interval)",
		atCeiling, tenants*5, freshAtCeiling, fresh*5)
	b.Logf("whole window: worker CPU %.2f%% of one core, database backends %s%% of one core, %.1f transactions and %.0f tuples read per run",
		total.cpuPct(), total.dbPctText(), float64(total.xacts)/float64(max(latRuns, 1)),
		float64(total.tupReturned+total.tupFetched)/float64(max(latRuns, 1)))
	b.ReportMetric(total.cpuPct(), "worker_cpu_%")
	if total.dbCPU >= 0 {
		b.ReportMetric(total.dbPct(), "db_cpu_%")
	}
	b.ReportMetric(float64(latRuns)/window.Seconds(), "runs/s")
	b.ReportMetric(lat.p50, "late_p50_s")
	b.ReportMetric(lat.p99, "late_p99_s")
	b.ReportMetric(lat.maxSec, "late_max_s")
	b.ReportMetric(float64(overdue), "overdue")
	if overdue > 0 {
		b.Errorf("%d streams overdue at the end of the window", overdue)
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
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			tb.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
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
