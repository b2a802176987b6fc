package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/tenants"
)

// A reset writes its audit entry, the cursor and the wake together: when
// the wake, the last of them, fails, neither the cursor nor the audit entry
// is left behind, and the stream is as it was. Once the wake can go
// through, all three are there.
func TestResetIsAtomic(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	h := seedHistory(t, a, "Harbour Bikes", "owner@harbour.example", "Jane Doe")
	ctx := context.Background()
	// The shop's stream backed off and probed, as an idle stream is.
	if _, err := a.pool.Exec(ctx, `UPDATE sync_streams SET idle_runs = 3, probe = 'ls=Sale shop=1', next_run_at = now() + interval '1 hour'
		WHERE tenant_id = $1 AND location = '1'`, h.tenant.ID); err != nil {
		t.Fatal(err)
	}
	// The test's own database: no other update of sync_streams runs while
	// the trigger is there.
	if _, err := a.pool.Exec(ctx, `
		CREATE FUNCTION refuse_wake() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'the wake is refused'; END $$;
		CREATE TRIGGER refuse_wake BEFORE UPDATE ON sync_streams FOR EACH ROW EXECUTE FUNCTION refuse_wake()`); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.logIn(h.email, "a good password")
	reset := func() page {
		form := "form[action='/history/reset']"
		confirm := b.submit(b.get("/history/reset"), form, map[string]string{"stream": ledger.SalesToSalesforce + "@1", "date": "2026-01-15"})
		return b.submit(confirm, form, nil)
	}
	state := func() (audited, cursors, woken int) {
		return a.count("audit_log", "tenant_id = $1 AND action = $2", h.tenant.ID, tenants.ActionSyncReset),
			a.count("cursors", "tenant_id = $1 AND location = '1' AND position::jsonb->>'updated_at' = '2026-01-15T00:00:00Z'", h.tenant.ID),
			a.count("sync_streams", "tenant_id = $1 AND location = '1' AND idle_runs = 0 AND probe = '' AND next_run_at <= now()", h.tenant.ID)
	}

	if got := reset(); got.status() != http.StatusInternalServerError {
		t.Errorf("reset with its wake refused: %d, want 500", got.status())
	}
	if audited, cursors, woken := state(); audited != 0 || cursors != 0 || woken != 0 {
		t.Errorf("a failed reset left %d audit entries, %d reset cursors, %d woken streams; want none", audited, cursors, woken)
	}

	if _, err := a.pool.Exec(ctx, `DROP TRIGGER refuse_wake ON sync_streams`); err != nil {
		t.Fatal(err)
	}
	if got := reset(); got.path() != "/history" {
		t.Errorf("reset: at %s (%d)", got.path(), got.status())
	}
	if audited, cursors, woken := state(); audited != 1 || cursors != 1 || woken != 1 {
		t.Errorf("a reset left %d audit entries, %d reset cursors, %d woken streams; want one of each", audited, cursors, woken)
	}
}

// A run whose stream was reset while it went says so on its page.
func TestRunPageShowsResetNote(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	h := seedHistory(t, a, "Harbour Bikes", "owner@harbour.example", "Jane Doe")
	ctx := context.Background()
	l := ledger.New(a.pool)
	k := ledger.StreamKey{TenantID: h.tenant.ID, Location: "1", Stream: ledger.SalesToSalesforce}
	run, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error { return l.ResetCursorTx(ctx, tx, k, "") }); err != nil {
		t.Fatal(err)
	}
	if err := l.FinishRun(ctx, run, nil, nil, ledger.Schedule{Interval: time.Minute}); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.logIn(h.email, "a good password")
	p := b.get(fmt.Sprintf("/history/runs/%d", run.ID))
	if got := p.doc.Find("[data-testid=run-note]").Text(); !strings.Contains(got, "reset while this run was going") {
		t.Errorf("run note %q", got)
	}
	// A run no reset touched has none.
	if got := b.get(fmt.Sprintf("/history/runs/%d", h.custRun.ID)).doc.Find("[data-testid=run-note]").Length(); got != 0 {
		t.Errorf("%d notes on a run without a reset", got)
	}
}
