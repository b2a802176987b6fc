package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// A resync at the Salesforce API reserve re-sends nothing, waits (the job
// snoozes) and says why; one a later resync covers stops as covered.
func TestResyncWaitsAtTheReserveAndIsCovered(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	acct, _, err := tenants.NewStore(pool).SignUp(ctx, tenants.SignUpParams{BusinessName: "Reserve Co", Email: "owner@reserve.example", Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(pool)
	if err := l.SaveLinks(ctx, acct.ID, []ledger.Link{
		{Kind: ledger.KindCustomer, LSID: "1", SFID: "003A"}, {Kind: ledger.KindCustomer, LSID: "2", SFID: "003B"},
	}); err != nil {
		t.Fatal(err)
	}
	// The links were written before the request: they are to be re-sent.
	if _, err := pool.Exec(ctx, `UPDATE links SET synced_at = now() - interval '1 hour' WHERE tenant_id = $1`, acct.ID); err != nil {
		t.Fatal(err)
	}
	start := func() int64 {
		var id int64
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			id, err = mapping.StartResyncTx(ctx, tx, acct.ID, 3, "owner@reserve.example")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := start()
	store := mapping.NewStore(pool)
	w := &jobs.ResyncWorker{Ledger: l, Mappings: store, // no Engine: nothing may be sent
		Reserve: func(context.Context, string) (bool, string, error) {
			return true, "Salesforce API reserve reached: 95 of the org's 100 daily calls used", nil
		}}
	err = w.Work(ctx, &river.Job[jobs.ResyncArgs]{JobRow: &rivertype.JobRow{}, Args: jobs.ResyncArgs{TenantID: acct.ID, ResyncID: first}})
	var snooze *river.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("Work at the reserve = %v, want a snooze", err)
	}
	r, err := store.GetResync(ctx, acct.ID, first)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != mapping.ResyncWaiting || r.Total != 2 || r.Done != 0 || !strings.Contains(r.Message, "reserve reached") {
		t.Fatalf("resync = %+v, want waiting at 0 of 2 with the reason", r)
	}

	// A later request covers the waiting one.
	second := start()
	if err := w.Work(ctx, &river.Job[jobs.ResyncArgs]{JobRow: &rivertype.JobRow{}, Args: jobs.ResyncArgs{TenantID: acct.ID, ResyncID: first}}); err != nil {
		t.Fatalf("Work of the covered resync = %v", err)
	}
	if r, _ = store.GetResync(ctx, acct.ID, first); r.Status != mapping.ResyncDone || r.Message != "Covered by a later resync." {
		t.Fatalf("covered resync = %+v", r)
	}
	if r, _ = store.GetResync(ctx, acct.ID, second); r.Status != mapping.ResyncQueued {
		t.Fatalf("later resync = %+v, want still queued", r)
	}
}
