package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// Runs that found nothing go after a day, unless they are a stream's last
// run; runs that failed, wrote records or recorded events stay, and the
// window bounds what a pass reads.
func TestPruneIdleRuns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	tenant := newTenant(t, tenants.NewStore(pool), "idle@example.com")
	k := ledger.StreamKey{TenantID: tenant, Stream: ledger.CustomersToSalesforce}
	if err := l.EnsureStreams(ctx, tenant, []ledger.StreamKey{k}); err != nil {
		t.Fatal(err)
	}
	// finish records a run of k that ended age ago, with events and an
	// error as given; the last one finished is the stream's last run.
	finish := func(age time.Duration, runErr error, events ...ledger.Event) int64 {
		t.Helper()
		id := finishWith(t, l, k, runErr, events...)
		if _, err := pool.Exec(ctx, `UPDATE sync_runs SET started_at = now() - $2::interval WHERE id = $1`, id, age); err != nil {
			t.Fatal(err)
		}
		return id
	}
	day := 24 * time.Hour
	idleOld := finish(36*time.Hour, nil)
	keep := map[int64]string{
		finish(5*day, nil):                    "an idle run outside the pass's window",
		finish(36*time.Hour, errors.New("x")): "a failed run",
		finish(36*time.Hour, nil, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer, LSID: "1",
			Message: "Not sent"}): "a run with an event",
		finish(2*time.Hour, nil): "an idle run of today",
	}
	last := finish(40*time.Hour, nil)
	keep[last] = "the stream's last run"
	now := time.Now()
	n, err := l.PruneIdleRuns(ctx, now.Add(-2*day), now.Add(-day), 1)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("pruned %d runs, want 1", n)
	}
	var left []int64
	rows, err := pool.Query(ctx, `SELECT id FROM sync_runs`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		left = append(left, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	found := map[int64]bool{}
	for _, id := range left {
		found[id] = true
	}
	if found[idleOld] {
		t.Error("the idle run of a day and a half ago is still there")
	}
	for id, what := range keep {
		if !found[id] {
			t.Errorf("%s was pruned", what)
		}
	}
}
