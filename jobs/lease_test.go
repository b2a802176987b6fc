package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	jsync "github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// gatedRunner stands in for the sync engine: each run reports its trigger
// and waits for the gate, so a test holds a run open as long as it needs.
// It counts how many runs of a stream were ever inside at once.
type gatedRunner struct {
	entered chan string
	gate    chan struct{}

	mu        sync.Mutex
	inside    int
	maxInside int
	runs      int
	_         struct{}
}

func newGatedRunner() *gatedRunner {
	return &gatedRunner{entered: make(chan string, 16), gate: make(chan struct{})}
}

func (g *gatedRunner) Run(ctx context.Context, _ ledger.StreamKey, trigger string) (jsync.Result, error) {
	g.mu.Lock()
	g.inside++
	g.runs++
	g.maxInside = max(g.maxInside, g.inside)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inside--
		g.mu.Unlock()
	}()
	g.entered <- trigger
	select {
	case <-g.gate:
		return jsync.Result{}, nil
	case <-ctx.Done():
		return jsync.Result{}, ctx.Err()
	}
}

func (g *gatedRunner) Retry(context.Context, ledger.StreamKey, []string, string) (jsync.Result, error) {
	return jsync.Result{}, nil
}

func (g *gatedRunner) counts() (runs, maxInside int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.runs, g.maxInside
}

// leaseFixture is a tenant with one customer stream and a sync worker over
// a gated runner.
type leaseFixture struct {
	pool   *pgxpool.Pool
	ledger *ledger.Store
	key    ledger.StreamKey
	runner *gatedRunner
	worker *jobs.SyncWorker
}

func newLeaseFixture(t *testing.T) *leaseFixture {
	t.Helper()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	acct, _, err := tenants.NewStore(pool).SignUp(t.Context(), tenants.SignUpParams{BusinessName: "Lease", Email: "owner@lease.example",
		Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	k := ledger.StreamKey{TenantID: acct.ID, Stream: ledger.CustomersToSalesforce}
	if err := l.EnsureStreams(t.Context(), acct.ID, []ledger.StreamKey{k}); err != nil {
		t.Fatal(err)
	}
	r := newGatedRunner()
	return &leaseFixture{pool: pool, ledger: l, key: k, runner: r,
		worker: &jobs.SyncWorker{Engine: r, Ledger: l, BusySnooze: 50 * time.Millisecond}}
}

// start runs River with the sync worker and the scheduler (a pass a second).
func (f *leaseFixture) start(t *testing.T) *river.Client[pgx.Tx] {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, f.worker)
	river.AddWorker(workers, &jobs.SchedulerWorker{Pool: f.pool})
	client, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}, jobs.QueueSync: {MaxWorkers: 4}},
		Workers:           workers,
		FetchPollInterval: 200 * time.Millisecond,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.SchedulerArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.StopAndCancel(stop)
	})
	return client
}

func receive(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return ""
	}
}

// Two jobs of one stream started at the same moment: one runs, the other
// finds the stream held and ends without running it (a scheduled run; the
// run going on schedules the next).
func TestSyncRunsOfOneStreamExcludeEachOther(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t)
	ctx := t.Context()
	job := func(id int64) *river.Job[jobs.SyncArgs] {
		return &river.Job[jobs.SyncArgs]{JobRow: &rivertype.JobRow{ID: id},
			Args: jobs.SyncArgs{TenantID: f.key.TenantID, Stream: f.key.Stream, Trigger: ledger.TriggerSchedule}}
	}
	start := make(chan struct{})
	done := make(chan error, 2)
	for id := range int64(2) {
		go func() {
			<-start
			done <- f.worker.Work(ctx, job(id+1))
		}()
	}
	close(start)
	receive(t, f.runner.entered, "one run to start")
	// The other returns while the first still runs.
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the excluded job: %v, want nil (it ends)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the second job neither ran nor ended")
	}
	if runs, _ := f.runner.counts(); runs != 1 {
		t.Errorf("%d runs entered, want 1", runs)
	}
	close(f.runner.gate)
	if err := <-done; err != nil {
		t.Errorf("the run: %v", err)
	}
	// A Sync now that finds the stream held waits for its turn instead.
	if err := f.ledger.AcquireRun(ctx, f.key, "someone", time.Minute); err != nil {
		t.Fatal(err)
	}
	j := job(3)
	j.Args.Trigger = ledger.TriggerSyncNow
	var snooze *river.JobSnoozeError
	if err := f.worker.Work(ctx, j); !errors.As(err, &snooze) {
		t.Errorf("Sync now on a held stream: %v, want a snooze", err)
	}
	if runs, maxInside := f.runner.counts(); runs != 1 || maxInside != 1 {
		t.Errorf("runs %d, at most %d at once; want 1, 1", runs, maxInside)
	}
}

// Sync now pressed while the stream runs is honoured once that run ends,
// and never runs beside it. Through River: the Sync now's job is keyed
// after the running one, finds the stream held, waits, and runs.
func TestSyncNowDuringARunRunsAfterIt(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t)
	ctx := t.Context()
	client := f.start(t)
	snoozed, cancel := client.Subscribe(river.EventKindJobSnoozed)
	defer cancel()

	if got := receive(t, f.runner.entered, "the scheduled run"); got != ledger.TriggerSchedule {
		t.Fatalf("first run's trigger %q, want schedule", got)
	}
	if _, err := jobs.SyncNow(ctx, client, nil, f.ledger, f.key.TenantID, f.key.Stream, ledger.TriggerSyncNow); err != nil {
		t.Fatal(err)
	}
	// The barrier: the Sync now's job has tried the stream while the first
	// run holds it.
	select {
	case ev := <-snoozed:
		if ev.Job.Kind != (jobs.SyncArgs{}).Kind() {
			t.Fatalf("snoozed a %s job", ev.Job.Kind)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the Sync now job never tried the held stream")
	}
	if runs, _ := f.runner.counts(); runs != 1 {
		t.Fatalf("%d runs entered while the first holds the stream, want 1", runs)
	}
	close(f.runner.gate)
	if got := receive(t, f.runner.entered, "the Sync now run"); got != ledger.TriggerSyncNow {
		t.Errorf("the run after the first has trigger %q, want %q", got, ledger.TriggerSyncNow)
	}
	if _, maxInside := f.runner.counts(); maxInside != 1 {
		t.Errorf("%d runs of the stream at once, want 1", maxInside)
	}
}

// A worker that died mid-run leaves its job marked running (River rescues
// it only after minutes) and its lease unrenewed. The stream runs again
// soon after the lease runs out, while the dead job is still "running".
func TestStreamOfADeadWorkerRunsAgainSoon(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t)
	ctx := t.Context()

	// The dead worker: a process whose sync job never returns and never
	// renews the lease it took.
	hung := make(chan struct{})
	dead := river.NewWorkers()
	river.AddWorker(dead, river.WorkFunc(func(ctx context.Context, _ *river.Job[jobs.SyncArgs]) error {
		close(hung)
		<-ctx.Done()
		return ctx.Err()
	}))
	deadClient, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{
		Queues: map[string]river.QueueConfig{"dead": {MaxWorkers: 1}}, Workers: dead, FetchPollInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := deadClient.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = deadClient.StopAndCancel(stop)
	})
	res, err := deadClient.Insert(ctx, jobs.SyncArgs{TenantID: f.key.TenantID, Stream: f.key.Stream,
		Trigger: ledger.TriggerSchedule}, &river.InsertOpts{Queue: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hung:
	case <-time.After(30 * time.Second):
		t.Fatal("the doomed job never started")
	}
	const lease = 2 * time.Second
	if err := f.ledger.AcquireRun(ctx, f.key, "dead worker", lease); err != nil {
		t.Fatal(err)
	}
	taken := time.Now()

	client := f.start(t)
	close(f.runner.gate)
	// Only one client leads and enqueues periodic jobs, and it may be the
	// dead one: scheduler passes are enqueued here instead, as a leader would.
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
wait:
	for {
		select {
		case <-f.runner.entered:
			break wait
		case <-tick.C:
			if _, err := client.Insert(ctx, jobs.SchedulerArgs{}, nil); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatal("timed out waiting for the stream to run again")
		}
	}
	if d := time.Since(taken); d < lease {
		t.Errorf("the stream ran %s after the dead run took it, inside its %s lease", d, lease)
	}
	stuck, err := client.JobGet(ctx, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stuck.State != rivertype.JobStateRunning {
		t.Errorf("the dead job is %s; the test wants it still running", stuck.State)
	}
}
