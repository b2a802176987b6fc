package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// finish records a run of k with events, finished on the default schedule
// (30 s, backing off to 5 minutes) as idle when it touched nothing.
func finish(t *testing.T, l *ledger.Store, k ledger.StreamKey, events ...ledger.Event) {
	t.Helper()
	finishWith(t, l, k, nil, events...)
}

// finishWith is finish with the run's error, and returns the run's id.
func finishWith(t *testing.T, l *ledger.Store, k ledger.StreamKey, runErr error, events ...ledger.Event) int64 {
	t.Helper()
	ctx := context.Background()
	r, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) > 0 {
		if err := l.CommitPage(ctx, r, ledger.Page{Events: events}); err != nil {
			t.Fatal(err)
		}
	}
	sched := ledger.Schedule{Interval: 30 * time.Second, MaxIdle: 5 * time.Minute, Idle: len(events) == 0}
	if err := l.FinishRun(ctx, r, runErr, nil, sched); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// schedule reads a stream's backoff and next run; a parked stream's next
// run ('infinity') reads as the zero time.
func schedule(t *testing.T, pool *pgxpool.Pool, k ledger.StreamKey) (idleRuns int, next time.Time) {
	t.Helper()
	var at *time.Time
	if err := pool.QueryRow(context.Background(), `
		SELECT idle_runs, CASE WHEN next_run_at = 'infinity' THEN NULL ELSE next_run_at END
		FROM sync_streams WHERE tenant_id = $1 AND location = $2 AND stream = $3`,
		k.TenantID, k.Location, k.Stream).Scan(&idleRuns, &at); err != nil {
		t.Fatal(err)
	}
	if at != nil {
		next = *at
	}
	return idleRuns, next
}

// An idle stream backs off, doubling its interval up to the ceiling; a run
// that finds changes wakes the tenant's other backed-off streams (not a
// parked one, not another tenant's), and an idle run wakes nothing.
func TestFinishRunBacksOffAndChangesWakeSiblings(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	accounts := tenants.NewStore(pool)
	tenant, other := newTenant(t, accounts, "a@shop.example"), newTenant(t, accounts, "b@shop.example")
	keys := func(tenantID string) []ledger.StreamKey {
		return []ledger.StreamKey{
			{TenantID: tenantID, Stream: ledger.CustomersToSalesforce},
			{TenantID: tenantID, Stream: ledger.CustomersToLightspeed},
			{TenantID: tenantID, Location: "1", Stream: ledger.SalesToSalesforce},
			{TenantID: tenantID, Location: "2", Stream: ledger.SalesToSalesforce},
		}
	}
	for _, id := range []string{tenant, other} {
		if err := l.EnsureStreams(ctx, id, keys(id)); err != nil {
			t.Fatal(err)
		}
	}
	ks, others := keys(tenant), keys(other)
	sale, customers, toLightspeed, parked := ks[2], ks[0], ks[1], ks[3]

	// Six idle runs in a row: 30 s, 1, 2, 4 minutes, then the 5 minute
	// ceiling twice.
	for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
		5 * time.Minute, 5 * time.Minute} {
		before := time.Now()
		for _, k := range append(ks, others[0]) {
			finish(t, l, k)
		}
		idle, next := schedule(t, pool, customers)
		if idle != i+1 {
			t.Fatalf("idle run %d: idle_runs = %d", i+1, idle)
		}
		if got := next.Sub(before); got < want-time.Second || got > want+5*time.Second {
			t.Fatalf("idle run %d: next run in %s, want %s", i+1, got, want)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE sync_streams SET next_run_at = 'infinity' WHERE tenant_id = $1 AND location = $2`,
		tenant, parked.Location); err != nil {
		t.Fatal(err)
	}

	// An idle run of the sales stream wakes nothing.
	finish(t, l, sale)
	if idle, next := schedule(t, pool, customers); idle != 6 || time.Until(next) < 4*time.Minute {
		t.Fatalf("after an idle sibling run: customers stream idle_runs %d, next run in %s; want it left backed off",
			idle, time.Until(next))
	}

	// A sale written wakes the tenant's backed-off streams now; one that
	// is running keeps its lease and starts its backoff over.
	if err := l.AcquireRun(ctx, toLightspeed, "run-1", time.Minute); err != nil {
		t.Fatal(err)
	}
	finish(t, l, sale, ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindSale, LSID: "s1", SFID: "006x", Label: "#1"})
	if idle, next := schedule(t, pool, customers); idle != 0 || time.Until(next) > 0 {
		t.Errorf("customers after a sibling's sale: idle_runs %d, next run in %s; want 0, due now", idle, time.Until(next))
	}
	if idle, next := schedule(t, pool, toLightspeed); idle != 0 || time.Until(next) < 50*time.Second {
		t.Errorf("a running stream after a sibling's sale: idle_runs %d, next run in %s; want 0, at its lease's end", idle, time.Until(next))
	}
	if idle, next := schedule(t, pool, sale); idle != 0 || time.Until(next) < 25*time.Second {
		t.Errorf("the sale's own stream: idle_runs %d, next run in %s; want 0, one interval", idle, time.Until(next))
	}
	if _, next := schedule(t, pool, parked); !next.IsZero() {
		t.Errorf("a parked stream was woken: next run %s", next)
	}
	if idle, next := schedule(t, pool, others[0]); idle != 6 || time.Until(next) < 4*time.Minute {
		t.Errorf("another tenant's stream was woken: idle_runs %d, next run in %s", idle, time.Until(next))
	}
}

// finishIdle records an idle run of k that left probe.
func finishIdle(t *testing.T, l *ledger.Store, k ledger.StreamKey, probe string) {
	t.Helper()
	r, err := l.StartRun(t.Context(), k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	sched := ledger.Schedule{Interval: 30 * time.Second, MaxIdle: 5 * time.Minute, Idle: true, Probe: probe}
	if err := l.FinishRun(t.Context(), r, nil, nil, sched); err != nil {
		t.Fatal(err)
	}
}

// A stream is offered for probing only after two idle runs in a row, with
// nothing holding it and fewer than maxProbes probes since its last run; a
// probe that found nothing backs it off as an idle run would, unless its
// claim changed meanwhile.
func TestClaimOffersProbes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	tenant := newTenant(t, tenants.NewStore(pool), "probe@shop.example")
	k := func(loc string) ledger.StreamKey {
		return ledger.StreamKey{TenantID: tenant, Location: loc, Stream: ledger.SalesToSalesforce}
	}
	twice, once, held, busy, woken := k("1"), k("2"), k("3"), k("4"), k("5")
	all := []ledger.StreamKey{twice, once, held, busy, woken}
	if err := l.EnsureStreams(ctx, tenant, all); err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		finishIdle(t, l, s, "probe of "+s.Location)
		if s != once {
			finishIdle(t, l, s, "probe of "+s.Location)
		}
	}
	if err := l.Hold(ctx, held, "Salesforce API reserve reached"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE sync_streams SET probes = 72 WHERE tenant_id = $1 AND location = '4'`, tenant); err != nil {
		t.Fatal(err)
	}
	claim := func(maxProbes int) map[ledger.StreamKey]ledger.Claim {
		t.Helper()
		if _, err := pool.Exec(ctx, `UPDATE sync_streams SET next_run_at = now() - interval '1 second' WHERE tenant_id = $1`, tenant); err != nil {
			t.Fatal(err)
		}
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		claims, err := ledger.ClaimDue(ctx, tx, time.Now(), 30*time.Second, 100, maxProbes)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		out := map[ledger.StreamKey]ledger.Claim{}
		for _, c := range claims {
			out[c.StreamKey] = c
		}
		return out
	}

	if got := claim(0); got[twice].Probe != "" {
		t.Errorf("with probes off, a claim offered probe %q", got[twice].Probe)
	}
	got := claim(72)
	for s, want := range map[ledger.StreamKey]string{twice: "probe of 1", once: "", held: "", busy: "", woken: "probe of 5"} {
		if got[s].Probe != want {
			t.Errorf("stream %s: claim offered probe %q, want %q", s.Location, got[s].Probe, want)
		}
	}

	// While it is probed, a Sync now's run takes one of the streams.
	if err := l.AcquireRun(ctx, woken, "sync-now", time.Minute); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := l.FinishProbes(ctx, []ledger.Claim{got[twice], got[woken]}, ledger.Schedule{Interval: 30 * time.Second,
		MaxIdle: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	idle, next := schedule(t, pool, twice)
	if want := 2 * time.Minute; idle != 3 || next.Sub(before) < want-time.Second || next.Sub(before) > want+5*time.Second {
		t.Errorf("after a quiet probe: idle_runs %d, next run in %s; want 3, %s", idle, next.Sub(before), want)
	}
	var probes int
	var synced time.Time
	if err := pool.QueryRow(ctx, `SELECT probes, last_success_at FROM sync_streams WHERE tenant_id = $1 AND location = '1'`,
		tenant).Scan(&probes, &synced); err != nil {
		t.Fatal(err)
	}
	if probes != 1 || synced.Before(before.Add(-time.Second)) {
		t.Errorf("after a quiet probe: probes %d, last success %s; want 1, now", probes, synced)
	}
	if idle, next := schedule(t, pool, woken); idle != 2 || time.Until(next) < 50*time.Second {
		t.Errorf("a stream a run took while probed: idle_runs %d, next run in %s; want 2, at the run's lease end",
			idle, time.Until(next))
	}

	// An idle run that moved its cursor (a new probe) counts as the first
	// idle run: the records it read may have company that shows up late.
	finishIdle(t, l, twice, "probe of 1, further on")
	if got := claim(72); got[twice].Probe != "" {
		t.Errorf("after an idle run that moved its cursor: claim offered probe %q", got[twice].Probe)
	}
	finishIdle(t, l, twice, "probe of 1, further on")
	if got := claim(72); got[twice].Probe != "probe of 1, further on" {
		t.Errorf("after a second idle run on the same cursor: claim offered probe %q", got[twice].Probe)
	}

	// A run that touches records starts over: no probe until two idle
	// runs again.
	finish(t, l, twice, ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindSale, LSID: "s1", SFID: "006x", Label: "#1"})
	finishIdle(t, l, twice, "probe of 1")
	if got := claim(72); got[twice].Probe != "" {
		t.Errorf("one idle run after a change: claim offered probe %q", got[twice].Probe)
	}
}
