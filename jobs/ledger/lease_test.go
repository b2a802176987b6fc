package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// Runs of one stream that take its lease at the same moment: exactly one
// holds it, and the stream is not due for the scheduler while it does.
func TestAcquireRunIsExclusive(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, l, k := newStream(t)

	const runs = 8
	start := make(chan struct{})
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			<-start
			errs[i] = l.AcquireRun(ctx, k, fmt.Sprint("run-", i), time.Minute)
		})
	}
	close(start)
	wg.Wait()
	held, holder := 0, -1
	for i, err := range errs {
		switch {
		case err == nil:
			held++
			holder = i
		case !errors.Is(err, ledger.ErrStreamBusy):
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if held != 1 {
		t.Fatalf("%d runs hold the stream, want 1", held)
	}
	if due := claim(t, pool, time.Now()); len(due) != 0 {
		t.Errorf("the scheduler claimed %v while a run holds it", due)
	}

	other := fmt.Sprint("run-", (holder+1)%runs)
	if ok, err := l.RenewRun(ctx, k, other, time.Minute); err != nil || ok {
		t.Errorf("a run that does not hold the stream renewed it: %v, %v", ok, err)
	}
	if ok, err := l.RenewRun(ctx, k, fmt.Sprint("run-", holder), time.Minute); err != nil || !ok {
		t.Errorf("the holder could not renew: %v, %v", ok, err)
	}
	if err := l.ReleaseRun(ctx, k, other); err != nil {
		t.Fatal(err)
	}
	if err := l.AcquireRun(ctx, k, other, time.Minute); !errors.Is(err, ledger.ErrStreamBusy) {
		t.Errorf("after another run's release: %v, want busy", err)
	}
	if err := l.ReleaseRun(ctx, k, fmt.Sprint("run-", holder)); err != nil {
		t.Fatal(err)
	}
	if err := l.AcquireRun(ctx, k, other, time.Minute); err != nil {
		t.Errorf("after the holder's release: %v", err)
	}
	gone := ledger.StreamKey{TenantID: k.TenantID, Stream: ledger.SalesToSalesforce, Location: "9"}
	if err := l.AcquireRun(ctx, gone, "x", time.Minute); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("a stream that does not exist: %v, want ErrNotFound", err)
	}
}

// A run whose worker died stops renewing: once its lease runs out the
// stream is due for the scheduler and another run takes it; the dead run
// can no longer renew or release it.
func TestAbandonedLeaseFreesTheStream(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, l, k := newStream(t)
	// The scheduler claims the stream for a quarter of an hour; the run
	// that takes it moves its next run to the lease's end.
	if due := claimFor(t, pool, time.Now(), 15*time.Minute); len(due) != 1 {
		t.Fatalf("claimed %v, want the stream", due)
	}
	const ttl = 2 * time.Second
	if err := l.AcquireRun(ctx, k, "dead", ttl); err != nil {
		t.Fatal(err)
	}
	taken := time.Now()
	if err := l.AcquireRun(ctx, k, "next", ttl); !errors.Is(err, ledger.ErrStreamBusy) {
		t.Fatalf("while the lease is live: %v, want busy", err)
	}
	// Due when the dead run's lease ends, not when the claim would have
	// ended (a scheduler pass then enqueues the next run).
	if due := claimFor(t, pool, taken.Add(ttl+time.Second), 15*time.Minute); len(due) != 1 {
		t.Fatalf("claimed %v just after the lease's end, want the stream", due)
	}
	// The lease runs out by the database's clock: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := l.AcquireRun(ctx, k, "next", time.Minute)
		if err == nil {
			break
		}
		if !errors.Is(err, ledger.ErrStreamBusy) || time.Now().After(deadline) {
			t.Fatalf("the abandoned stream is still held %s after: %v", time.Since(taken), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if time.Since(taken) < ttl/2 {
		t.Errorf("the stream was free %s after it was taken, before its lease ran out", time.Since(taken))
	}
	if ok, err := l.RenewRun(ctx, k, "dead", ttl); err != nil || ok {
		t.Errorf("the dead run renewed the lease another run took: %v, %v", ok, err)
	}
	if err := l.ReleaseRun(ctx, k, "dead"); err != nil {
		t.Fatal(err)
	}
	if err := l.AcquireRun(ctx, k, "third", time.Minute); !errors.Is(err, ledger.ErrStreamBusy) {
		t.Errorf("the dead run's release freed another run's lease: %v", err)
	}

	if due := claimFor(t, pool, taken.Add(ttl+5*time.Second), 15*time.Minute); len(due) != 0 {
		t.Errorf("due %v while the new run's lease is live", due)
	}
	if due := claimFor(t, pool, time.Now().Add(time.Minute+5*time.Second), 15*time.Minute); len(due) != 1 {
		t.Errorf("claimed %v once the new run's lease is out, want the stream", due)
	}
}

// A run's schedule (FinishRun) and a Wake made while it runs are kept by
// the lease's renewals.
func TestRenewKeepsTheRunsSchedule(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, l, k := newStream(t)
	if err := l.AcquireRun(ctx, k, "a", time.Hour); err != nil {
		t.Fatal(err)
	}
	renewed := func(after string) {
		t.Helper()
		if ok, err := l.RenewRun(ctx, k, "a", time.Hour); err != nil || !ok {
			t.Fatalf("renew: %v, %v", ok, err)
		}
		st, err := l.Stream(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if time.Until(st.NextRunAt) > time.Minute {
			t.Errorf("next run at %s after %s and a renewal, want now", st.NextRunAt, after)
		}
	}
	if err := l.Wake(ctx, k.TenantID, ""); err != nil {
		t.Fatal(err)
	}
	renewed("a Wake")
	// Back to the lease's end, then a run that stopped with more to do.
	if err := l.ReleaseRun(ctx, k, "a"); err != nil {
		t.Fatal(err)
	}
	if err := l.AcquireRun(ctx, k, "a", time.Hour); err != nil {
		t.Fatal(err)
	}
	r, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.FinishRun(ctx, r, nil, nil, ledger.Schedule{Interval: time.Hour, More: true}); err != nil {
		t.Fatal(err)
	}
	renewed("a run with more to do")
}

// newStream is a tenant's customer stream, due now.
func newStream(t *testing.T) (*pgxpool.Pool, *ledger.Store, ledger.StreamKey) {
	t.Helper()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	tenantID := newTenant(t, tenants.NewStore(pool), "lease@example.com")
	k := ledger.StreamKey{TenantID: tenantID, Stream: ledger.CustomersToSalesforce}
	if err := l.EnsureStreams(t.Context(), tenantID, []ledger.StreamKey{k}); err != nil {
		t.Fatal(err)
	}
	return pool, l, k
}

func claim(t *testing.T, pool beginner, now time.Time) []ledger.StreamKey {
	t.Helper()
	return claimFor(t, pool, now, time.Minute)
}

// beginner is a pool.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

func claimFor(t *testing.T, pool beginner, now time.Time, lease time.Duration) []ledger.StreamKey {
	t.Helper()
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(t.Context())
	claims, err := ledger.ClaimDue(t.Context(), tx, now, lease, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys := make([]ledger.StreamKey, len(claims))
	for i, c := range claims {
		keys[i] = c.StreamKey
	}
	return keys
}
