package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// A stream backed off to an hour runs as soon as Sync now is pressed, and a
// wake (a reconnect, a change announced) makes the scheduler run it on its
// next pass; either way its backoff starts over. Streams not woken stay
// backed off.
func TestWakeRunsBackedOffStreams(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	acct, _, err := tenants.NewStore(pool).SignUp(ctx, tenants.SignUpParams{BusinessName: "Quiet Shop",
		Email: "owner@quiet.example", Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	keys := []ledger.StreamKey{
		{TenantID: acct.ID, Stream: ledger.CustomersToSalesforce},
		{TenantID: acct.ID, Stream: ledger.CustomersToLightspeed},
		{TenantID: acct.ID, Location: "1", Stream: ledger.SalesToSalesforce},
	}
	if err := l.EnsureStreams(ctx, acct.ID, keys); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE sync_streams SET idle_runs = 12, next_run_at = now() + interval '1 hour'`); err != nil {
		t.Fatal(err)
	}

	const interval = 3 * time.Second // the scheduler looks every second
	ran := make(chan ran, 10)
	client, err := NewClient(pool, Config{Sync: &SyncConfig{Interval: interval,
		runner: &idleRunner{ledger: l, interval: interval, ran: ran}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stop)
	})
	next := func(want ledger.StreamKey, trigger string) {
		t.Helper()
		select {
		case r := <-ran:
			if r.key != want || r.trigger != trigger {
				t.Fatalf("ran %s (%s), want %s (%s)", r.key, r.trigger, want, trigger)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not run", want)
		}
	}
	backoff := func(k ledger.StreamKey) (int, time.Duration) {
		t.Helper()
		var idle int
		var next time.Time
		if err := pool.QueryRow(ctx, `SELECT idle_runs, next_run_at FROM sync_streams
			WHERE tenant_id = $1 AND location = $2 AND stream = $3`, k.TenantID, k.Location, k.Stream).Scan(&idle, &next); err != nil {
			t.Fatal(err)
		}
		return idle, time.Until(next)
	}

	// Sync now of the sales stream: it runs at once, and its next run is
	// one interval away, not the hour it had backed off to.
	if _, err := SyncNow(ctx, client, nil, l, acct.ID, ledger.SalesToSalesforce, ledger.TriggerSyncNow); err != nil {
		t.Fatal(err)
	}
	next(keys[2], ledger.TriggerSyncNow)
	if idle, in := backoff(keys[2]); idle != 1 || in > interval {
		t.Errorf("after Sync now: idle_runs %d, next run in %s; want 1, within %s", idle, in, interval)
	}

	// The sales stream is due again one interval on; under load that can
	// come before the scheduler's pass after the wake below, so it is
	// put back out of the way.
	if _, err := pool.Exec(ctx, `UPDATE sync_streams SET next_run_at = now() + interval '1 hour'
		WHERE tenant_id = $1 AND stream = $2`, acct.ID, ledger.SalesToSalesforce); err != nil {
		t.Fatal(err)
	}
	// A wake of the customers: the scheduler's next pass runs it.
	if err := l.Wake(ctx, acct.ID, ledger.CustomersToSalesforce); err != nil {
		t.Fatal(err)
	}
	next(keys[0], ledger.TriggerSchedule)
	if idle, in := backoff(keys[0]); idle != 1 || in > interval {
		t.Errorf("after a wake: idle_runs %d, next run in %s; want 1, within %s", idle, in, interval)
	}
	if idle, in := backoff(keys[1]); idle != 12 || in < 50*time.Minute {
		t.Errorf("a stream not woken: idle_runs %d, next run in %s; want it left backed off", idle, in)
	}
	select {
	case r := <-ran:
		t.Errorf("%s ran (%s); only the woken streams should", r.key, r.trigger)
	default:
	}
}
