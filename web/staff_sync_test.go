package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Staff find a tenant by search, see its health and failure, open its run
// and failed records read-only, and act on its behalf only with a why;
// every view and action is in the tenant's audit log. Merchants get 404.
func TestStaffSyncConsole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	h := seedHistory(t, a, "Failing Boutique", "owner@failing.example", "Jo Bloggs")
	seedHistory(t, a, "Other Shop", "owner@other.example", "Someone Else")
	if _, err := a.store.AddStaff(t.Context(), "support@tandem.example", "staff password"); err != nil {
		t.Fatal(err)
	}
	staff := a.browser()
	staff.logIn("support@tandem.example", "staff password")

	list := staff.get("/staff?q=failing")
	if got := list.doc.Find("[data-testid=tenant-row]").Length(); got != 1 {
		t.Fatalf("search 'failing': %d rows, want 1", got)
	}
	row := list.doc.Find("[data-testid=tenant-row]").First()
	if name := strings.TrimSpace(row.Find("td a").Text()); name != "Failing Boutique" {
		t.Errorf("found %q", name)
	}
	if got := strings.TrimSpace(row.Find("[data-testid=failures-24h]").Text()); got != "1" {
		t.Errorf("failures in 24 h = %q, want 1", got)
	}
	if got := staff.get("/staff?q=owner@other.example").doc.Find("[data-testid=tenant-row] td a").Text(); got != "Other Shop" {
		t.Errorf("search by owner email found %q", got)
	}

	tenantURL := row.Find("td a").AttrOr("href", "")
	p := staff.get(tenantURL)
	if !strings.Contains(p.text("[data-testid=staff-failures-link]"), "(1)") {
		t.Errorf("failures link = %q", p.text("[data-testid=staff-failures-link]"))
	}
	if n := p.doc.Find("[data-testid=staff-runs] tbody tr").Length(); n != 2 {
		t.Errorf("recent runs: %d, want 2", n)
	}
	fails := staff.get(p.doc.Find("[data-testid=staff-failures-link]").AttrOr("href", ""))
	if got := fails.text("main"); !strings.Contains(got, "INVALID_EMAIL_ADDRESS") || !strings.Contains(got, "Jo Bloggs") {
		t.Errorf("failed records page lacks the failure: %q", got)
	}
	if fails.has("form[action*='retry']") {
		t.Error("the staff failures page has merchant action forms; it is read-only")
	}
	run := staff.get("/staff/tenants/" + h.tenant.ID + "/runs/" + strconv.FormatInt(h.custRun.ID, 10))
	if run.status() != http.StatusOK || !strings.Contains(run.text("main"), "INVALID_EMAIL_ADDRESS") {
		t.Errorf("staff run page: %d", run.status())
	}
	// Another tenant's run through this tenant's URL: not found.
	other := seedHistory(t, a, "Third Shop", "owner@third.example", "X")
	if st := staff.get("/staff/tenants/" + h.tenant.ID + "/runs/" + strconv.FormatInt(other.custRun.ID, 10)).status(); st != http.StatusNotFound {
		t.Errorf("another tenant's run under this tenant: %d, want 404", st)
	}

	// Retry all without a why does nothing.
	form := url.Values{"csrf": {p.doc.Find("[data-testid=staff-retry-all] input[name=csrf]").AttrOr("value", "")}}
	staff.post("/staff/tenants/"+h.tenant.ID+"/retry", form)
	if n := a.count("river_job", "kind = 'sync_retry' AND args->>'tenant_id' = $1", h.tenant.ID); n != 0 {
		t.Errorf("retry without why enqueued %d jobs", n)
	}
	form.Set("why", "Ticket 4711: emails fixed")
	staff.post("/staff/tenants/"+h.tenant.ID+"/retry", form)
	if n := a.count("river_job", "kind = 'sync_retry' AND args->>'tenant_id' = $1", h.tenant.ID); n != 1 {
		t.Errorf("retry with why enqueued %d jobs, want 1", n)
	}
	if n := a.count("audit_log", "tenant_id = $1 AND action = 'sync.retry' AND actor_email = 'support@tandem.example' AND detail->>'why' = 'Ticket 4711: emails fixed'", h.tenant.ID); n != 1 {
		t.Errorf("audited staff retries with the why: %d, want 1", n)
	}
	// The tenant page now lists the River job.
	if got := staff.get(tenantURL).text("[data-testid=staff-jobs] tbody"); !strings.Contains(got, "sync_retry") {
		t.Errorf("River jobs = %q; want the retry", got)
	}
	// Views are audited: the list has no tenant; the tenant, failures and run pages do.
	if n := a.count("audit_log", "tenant_id = $1 AND action = 'staff.view_tenant'", h.tenant.ID); n < 4 {
		t.Errorf("audited staff views of the tenant: %d, want at least 4", n)
	}

	// Merchants never see the staff pages.
	merchant := a.browser()
	merchant.logIn(h.email, "a good password")
	for _, path := range []string{"/staff/tenants/" + h.tenant.ID + "/failed", "/staff/tenants/" + h.tenant.ID + "/runs/" + strconv.FormatInt(h.custRun.ID, 10), "/staff/river"} {
		if st := merchant.get(path).status(); st != http.StatusNotFound {
			t.Errorf("merchant GET %s: %d, want 404", path, st)
		}
	}
}

// River UI is served to staff, read-only.
func TestStaffRiverUI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if _, err := a.store.AddStaff(t.Context(), "support@tandem.example", "staff password"); err != nil {
		t.Fatal(err)
	}
	staff := a.browser()
	staff.logIn("support@tandem.example", "staff password")
	p := staff.get("/staff/river")
	if p.status() != http.StatusOK || !p.has("script[src]") {
		t.Fatalf("GET /staff/river: %d", p.status())
	}
	if csp := p.res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("River UI CSP = %q", csp)
	}
	res, err := staff.c.Get(a.srv.URL + "/staff/river/api/jobs?state=available")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("River UI API: %d", res.StatusCode)
	}
	if st := staff.post("/staff/river/api/jobs/cancel", url.Values{}).status(); st != http.StatusNotFound && st != http.StatusForbidden {
		t.Errorf("POST to River UI: %d, want refused", st)
	}
	// The page (and its redirect to the trailing slash) is audited, not
	// its API calls.
	if n := a.count("audit_log", "action = 'staff.river_ui' AND actor_email = 'support@tandem.example'"); n < 1 || n > 2 {
		t.Errorf("River UI openings audited: %d, want 1 or 2", n)
	}
	if st := a.browser().get("/staff/river").path(); !strings.HasPrefix(st, "/login") {
		t.Errorf("signed out: at %s, want the log-in page", st)
	}
}
