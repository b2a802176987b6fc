package ledger_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// Two runs of one tenant commit pages naming the same links in different
// orders (two locations' sales streams sharing products): neither may
// deadlock. A third transaction holds one row so that the first run stops
// midway through its links; the second starts while it waits.
func TestCommitPageSharedLinksNoDeadlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	tenant := newTenant(t, tenants.NewStore(pool), "locks@example.com")
	link := func(id string) ledger.Link {
		return ledger.Link{Kind: ledger.KindProduct, LSID: id, SFID: "01t" + id}
	}
	start := func(loc string) *ledger.Run {
		r, err := l.StartRun(ctx, ledger.StreamKey{TenantID: tenant, Location: loc, Stream: ledger.SalesToSalesforce},
			ledger.TriggerSchedule, 1)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := l.CommitPage(ctx, start("1"), ledger.Page{Links: []ledger.Link{link("a"), link("m"), link("z")}}); err != nil {
		t.Fatal(err)
	}
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := holder.Exec(ctx, `SELECT 1 FROM links WHERE tenant_id = $1 AND ls_id = 'm' FOR UPDATE`, tenant); err != nil {
		t.Fatal(err)
	}
	first, second := start("1"), start("2")
	errs := make(chan error, 2)
	go func() {
		errs <- l.CommitPage(ctx, first, ledger.Page{Links: []ledger.Link{link("a"), link("m"), link("z")}})
	}()
	waitForLockWaiters(t, pool, 1)
	go func() {
		errs <- l.CommitPage(ctx, second, ledger.Page{Links: []ledger.Link{link("z"), link("a")}})
	}()
	waitForLockWaiters(t, pool, 2)
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("commit: %v", err)
		}
	}
}

// waitForLockWaiters waits until n sessions wait on a row lock: the barrier
// that orders the two commits.
func waitForLockWaiters(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	for {
		var waiting int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		default:
		}
	}
}

// AddLinks writes only links that do not exist: a cache entry a read found
// never replaces a newer one another stream wrote meanwhile. SaveLinks
// replaces.
func TestAddLinksKeepsExisting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	tenant := newTenant(t, tenants.NewStore(pool), "cache@example.com")
	const kind = "contact_account"
	if err := l.SaveLinks(ctx, tenant, []ledger.Link{{Kind: kind, LSID: "003A", SFID: "001New"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddLinks(ctx, tenant, []ledger.Link{{Kind: kind, LSID: "003A", SFID: "001Old"}, {Kind: kind, LSID: "003B", SFID: ""}}); err != nil {
		t.Fatal(err)
	}
	got, err := l.LinksByLightspeed(ctx, tenant, kind, []string{"003A", "003B"})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := got["003A"], got["003B"]; a.SFID != "001New" || b.LSID != "003B" || b.SFID != "" {
		t.Errorf("after AddLinks: 003A → %q (want 001New kept), 003B → %+v (want added, private)", a.SFID, b)
	}
	if err := l.SaveLinks(ctx, tenant, []ledger.Link{{Kind: kind, LSID: "003A", SFID: "001Moved"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.LinksByLightspeed(ctx, tenant, kind, []string{"003A"}); got["003A"].SFID != "001Moved" {
		t.Errorf("SaveLinks left 003A at %q", got["003A"].SFID)
	}
}
