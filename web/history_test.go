package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/tenants"
)

// historyTenant is a merchant with sync history: a customers run with a
// failure and a conflict, and a sales run of shop 1.
type historyTenant struct {
	tenant   tenants.Tenant
	email    string
	custRun  *ledger.Run
	saleRun  *ledger.Run
	failedID int64
}

func seedHistory(t *testing.T, a *app, name, email, label string) historyTenant {
	t.Helper()
	ctx := context.Background()
	tn, _ := a.signUp(name, email)
	l := ledger.New(a.pool)
	cust := ledger.StreamKey{TenantID: tn.ID, Stream: ledger.CustomersToSalesforce}
	shop := ledger.StreamKey{TenantID: tn.ID, Stream: ledger.SalesToSalesforce, Location: "1"}
	if err := l.EnsureStreams(ctx, tn.ID, []ledger.StreamKey{cust, shop}); err != nil {
		t.Fatal(err)
	}
	run := func(k ledger.StreamKey, evs ...ledger.Event) *ledger.Run {
		r, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.CommitPage(ctx, r, ledger.Page{Events: evs}); err != nil {
			t.Fatal(err)
		}
		if err := l.FinishRun(ctx, r, nil, map[string]int{"lightspeed": 3, "salesforce": 2}, ledger.Schedule{Interval: time.Minute}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	h := historyTenant{tenant: tn, email: email}
	h.custRun = run(cust,
		ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindCustomer, LSID: "41", Label: label + " <frontdesk@localhost>",
			Code: "INVALID_EMAIL_ADDRESS", Message: "INVALID_EMAIL_ADDRESS: Email: invalid email address: frontdesk@localhost (Email)"},
		ledger.Event{Action: ledger.ActionConflict, Kind: ledger.KindCustomer, LSID: "42", SFID: "003000000000042AAA", Label: "Sam Roe",
			Detail: map[string]any{"conflict": map[string]any{"mobile_phone": map[string]any{"lightspeed": "111", "salesforce": "222", "winner": "salesforce"}}}})
	h.saleRun = run(shop, ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindSale, LSID: "900", SFID: "006000000000900AAA", Label: "Ticket 220000900"})
	if err := a.pool.QueryRow(ctx, `SELECT id FROM sync_events WHERE tenant_id = $1 AND action = 'failed'`, tn.ID).Scan(&h.failedID); err != nil {
		t.Fatal(err)
	}
	return h
}

// formOf is what every form on p carries: the CSRF token and the tenant.
func formOf(p page) url.Values {
	v := url.Values{}
	for _, name := range []string{"csrf", "form_tenant"} {
		v.Set(name, p.doc.Find("input[name="+name+"]").First().AttrOr("value", ""))
	}
	return v
}

// A merchant sees their own runs, events and failed records, and never
// another tenant's: those are 404, from every page and every action.
func TestHistoryIsolatesTenants(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mine := seedHistory(t, a, "Harbour Bikes", "owner@harbour.example", "Jane Doe")
	theirs := seedHistory(t, a, "Other Shop", "owner@other.example", "Secret Customer")
	b := a.browser()
	b.logIn(mine.email, "a good password")

	p := b.get("/history")
	if p.status() != http.StatusOK {
		t.Fatalf("/history: %d", p.status())
	}
	if got := p.doc.Find("[data-testid=run]").Length(); got != 2 {
		t.Errorf("%d runs listed, want 2", got)
	}
	if strings.Contains(p.text("main"), "Secret") {
		t.Error("the history shows the other tenant's data")
	}
	if got := p.text("[data-testid=run-calls]"); !strings.Contains(got, "Lightspeed 3") || !strings.Contains(got, "Salesforce 2") {
		t.Errorf("API calls column: %q", got)
	}
	for _, path := range []string{
		fmt.Sprintf("/history/runs/%d", theirs.custRun.ID),
		fmt.Sprintf("/history/runs/%d", theirs.saleRun.ID),
		"/history/runs/abc",
	} {
		if st := b.get(path).status(); st != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, st)
		}
	}
	if got := b.get("/history?q=Secret").doc.Find("[data-testid=event]").Length(); got != 0 {
		t.Errorf("search finds %d of the other tenant's events", got)
	}
	if got := b.get("/history?q=41").doc.Find("[data-testid=event]").Length(); got != 1 {
		t.Errorf("search by Lightspeed id finds %d events, want 1 (own only)", got)
	}
	f := b.get("/history/failed")
	if got := f.doc.Find("[data-testid=event]").Length(); got != 1 || strings.Contains(f.text("main"), "Secret") {
		t.Errorf("failed records: %d rows: %q", got, f.text("[data-testid=failures]"))
	}
	base := formOf(f)
	jobsBefore := a.count("river_job", "kind = 'sync_retry'")
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{fmt.Sprintf("/history/failed/%d/retry", theirs.failedID), url.Values{}},
		{"/history/resync", url.Values{"stream": {ledger.CustomersToSalesforce + "@x"}, "id": {"41"}}},
		{"/history/streams/pause", url.Values{"stream": {ledger.SalesToSalesforce + "@2"}, "paused": {"true"}}},
	} {
		for k := range base {
			tc.form.Set(k, base.Get(k))
		}
		if st := b.post(tc.path, tc.form).status(); st != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", tc.path, st)
		}
	}
	if n := a.count("river_job", "kind = 'sync_retry'"); n != jobsBefore {
		t.Errorf("%d retry jobs enqueued for another tenant's records", n-jobsBefore)
	}
	// The other tenant's data is untouched and still theirs.
	if n := a.count("sync_streams", "tenant_id = $1 AND paused", theirs.tenant.ID); n != 0 {
		t.Errorf("the other tenant has %d paused streams", n)
	}
}

// The run page shows each record with links to both systems, Salesforce's
// code and message with advice, and a conflict's values and winner.
func TestRunPageShowsEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	h := seedHistory(t, a, "Harbour Bikes", "owner@harbour.example", "Jane Doe")
	if _, err := a.pool.Exec(context.Background(), `INSERT INTO connections (tenant_id, provider, status, external_account, instance_url)
		VALUES ($1, 'salesforce', 'connected', '00D000000000001', 'https://harbour.my.salesforce.com')`, h.tenant.ID); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.logIn(h.email, "a good password")
	p := b.get(fmt.Sprintf("/history/runs/%d", h.custRun.ID))
	failed := p.doc.Find("[data-testid=event][data-action=failed]")
	if got := failed.Find("[data-testid=event-code]").Text(); got != "INVALID_EMAIL_ADDRESS" {
		t.Errorf("failure code %q", got)
	}
	if got := failed.Find("[data-testid=event-advice]").Text(); !strings.Contains(got, "email address") {
		t.Errorf("failure advice %q", got)
	}
	if got := failed.Find("[data-testid=ls-link]").AttrOr("href", ""); got != "https://us.merchantos.com/?name=customer.views.customer&form_name=view&id=41&tab=details" {
		t.Errorf("Lightspeed link %q", got)
	}
	conflict := p.doc.Find("[data-testid=event][data-action=conflict]")
	if got := conflict.Find("[data-testid=sf-link]").AttrOr("href", ""); got != "https://harbour.my.salesforce.com/003000000000042AAA" {
		t.Errorf("Salesforce link %q", got)
	}
	var cells []string
	conflict.Find("[data-testid=event-conflict] tbody td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, td.Text()) })
	if got := strings.Join(cells, "|"); got != "Mobile phone|111|222|Salesforce" {
		t.Errorf("conflict row %q", got)
	}
	if !conflict.Find("[data-testid=resync]").Is("button") {
		t.Error("no Resync button for an owner")
	}
}

// Retry, Retry all, Pause and Reset are audit-logged; Reset asks to
// confirm first; viewers see no buttons and are refused.
func TestHistoryActions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	h := seedHistory(t, a, "Harbour Bikes", "owner@harbour.example", "Jane Doe")
	b := a.browser()
	b.logIn(h.email, "a good password")
	audit := func(action string) int {
		return a.count("audit_log", "tenant_id = $1 AND action = $2", h.tenant.ID, action)
	}

	f := b.get("/history/failed")
	got := b.submit(f, fmt.Sprintf("form[action='/history/failed/%d/retry']", h.failedID), nil)
	if got.path() != "/history/failed" || !strings.Contains(got.text(".flash.success"), "Retrying Jane Doe") {
		t.Errorf("retry: at %s, flash %q", got.path(), got.text(".flash"))
	}
	if n := a.count("river_job", "kind = 'sync_retry' AND args->>'stream' = $1 AND args->'ids' = '[\"41\"]'::jsonb AND args->>'trigger' = 'retry'", ledger.CustomersToSalesforce); n != 1 {
		t.Errorf("%d retry jobs for customer 41", n)
	}
	b.submit(b.get("/history/failed"), "form[action='/history/failed/retry']", nil)
	if audit(tenants.ActionSyncRetry) != 2 {
		t.Errorf("retry audit entries: %d", audit(tenants.ActionSyncRetry))
	}

	hist := b.get("/history")
	sel := fmt.Sprintf("[data-stream='%s'] form", ledger.SalesToSalesforce)
	got = b.submit(hist, sel, nil)
	if n := a.count("sync_streams", "tenant_id = $1 AND stream = $2 AND paused", h.tenant.ID, ledger.SalesToSalesforce); n != 1 || audit(tenants.ActionSyncPause) != 1 {
		t.Errorf("pause: %d paused, %d audited", n, audit(tenants.ActionSyncPause))
	}
	if got.text(fmt.Sprintf("[data-stream='%s'] [data-testid=resume]", ledger.SalesToSalesforce)) != "Resume" {
		t.Error("a paused stream offers no Resume")
	}

	reset := b.get("/history/reset")
	form := "form[action='/history/reset']"
	bad := b.submit(reset, form, map[string]string{"stream": ledger.SalesToSalesforce + "@1", "date": "yesterday"})
	if bad.status() != http.StatusUnprocessableEntity || bad.text("[data-testid=reset-error]") == "" {
		t.Errorf("a bad date: %d %q", bad.status(), bad.text("[data-testid=reset-error]"))
	}
	confirm := b.submit(reset, form, map[string]string{"stream": ledger.SalesToSalesforce + "@1", "date": "2026-01-15"})
	if !confirm.has("[data-testid=reset-confirm]") || audit(tenants.ActionSyncReset) != 0 ||
		a.count("cursors", "tenant_id = $1", h.tenant.ID) != 0 {
		t.Fatalf("reset acted before it was confirmed: %q", confirm.text("main"))
	}
	done := b.submit(confirm, form, nil)
	if done.path() != "/history" || audit(tenants.ActionSyncReset) != 1 {
		t.Errorf("confirmed reset: at %s, %d audited", done.path(), audit(tenants.ActionSyncReset))
	}
	if n := a.count("cursors", "tenant_id = $1 AND location = '1' AND position::jsonb->>'updated_at' = '2026-01-15T00:00:00Z'", h.tenant.ID); n != 1 {
		t.Errorf("sales cursor of shop 1 not reset to 2026-01-15")
	}

	// A viewer of the same tenant: the same pages, no buttons, refused.
	v := a.browser()
	_, u := a.signUp("Viewer's own", "viewer@harbour.example")
	if _, err := a.pool.Exec(context.Background(), `DELETE FROM memberships WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.Exec(context.Background(), `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')`, h.tenant.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	v.logIn("viewer@harbour.example", "a good password")
	vf := v.get("/history/failed")
	if vf.status() != http.StatusOK || vf.has("[data-testid=retry]") || vf.has("[data-testid=retry-all]") {
		t.Errorf("viewer's failed records: %d, with buttons", vf.status())
	}
	if v.get("/history").has("[data-testid=pause]") {
		t.Error("viewer sees Pause")
	}
	st := v.post(fmt.Sprintf("/history/failed/%d/retry", h.failedID), formOf(v.get("/history"))).status()
	if st != http.StatusForbidden {
		t.Errorf("viewer retry = %d, want 403", st)
	}
	if st := v.post("/history/reset", formOf(vf)).status(); st != http.StatusForbidden {
		t.Errorf("viewer reset = %d, want 403", st)
	}
	// Without a CSRF token, nothing happens.
	if st := b.post(fmt.Sprintf("/history/failed/%d/retry", h.failedID), url.Values{}).status(); st != http.StatusForbidden {
		t.Errorf("retry without CSRF = %d, want 403", st)
	}
}
