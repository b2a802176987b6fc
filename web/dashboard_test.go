package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

func TestDashboardShowsConnectionState(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tn, _ := a.signUp("Shop", "me@shop.example")
	if _, err := a.pool.Exec(t.Context(), `
		INSERT INTO connections (tenant_id, provider, status, external_account, external_name)
		VALUES ($1, 'lightspeed', 'connected', '12345', 'Shop Retail')`, tn.ID); err != nil {
		t.Fatal(err)
	}
	p := a.browser().logIn("me@shop.example", "a good password")
	got := map[string]string{}
	p.doc.Find(".connections li").Each(func(_ int, s *goquery.Selection) {
		got[s.AttrOr("data-provider", "")] = strings.Join(strings.Fields(s.Text()), " ")
	})
	want := map[string]string{
		"lightspeed": "Lightspeed: connected Shop Retail",
		"salesforce": "Salesforce: not connected",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("connections (-want +got):\n%s", diff)
	}
}

func TestTenantSwitcher(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	bravo, u := a.signUp("Bravo Bikes", "me@shop.example")
	alpha, _ := a.signUp("Alpha Apparel", "other@shop.example")
	stranger, _ := a.signUp("Stranger Shoes", "stranger@shop.example")
	if _, err := a.pool.Exec(t.Context(), `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')`, alpha.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	p := b.logIn("me@shop.example", "a good password")
	// Memberships sort by name, and the first is current until one is picked.
	if got := p.text("[data-testid=tenant-name]"); got != "Alpha Apparel" {
		t.Errorf("current tenant = %q; want Alpha Apparel", got)
	}
	var options []string
	p.doc.Find("[data-testid=switcher] option").Each(func(_ int, s *goquery.Selection) {
		_, sel := s.Attr("selected")
		options = append(options, s.AttrOr("value", "")+" "+strings.TrimSpace(s.Text())+map[bool]string{true: " *"}[sel])
	})
	want := []string{alpha.ID + " Alpha Apparel (viewer) *", bravo.ID + " Bravo Bikes (owner)"}
	if diff := cmp.Diff(want, options); diff != "" {
		t.Fatalf("switcher options (-want +got):\n%s", diff)
	}

	p = b.submit(p, "[data-testid=switcher]", map[string]string{"tenant_id": bravo.ID})
	if p.path() != "/dashboard" || p.text("[data-testid=tenant-name]") != "Bravo Bikes" {
		t.Errorf("after switching: at %s showing %q; want Bravo Bikes", p.path(), p.text("[data-testid=tenant-name]"))
	}
	if got := p.text(".flash.info"); got != "You are now working on Bravo Bikes." {
		t.Errorf("flash = %q", got)
	}
	if got := b.get("/dashboard").text("[data-testid=tenant-name]"); got != "Bravo Bikes" {
		t.Errorf("the choice did not stick: %q", got)
	}

	// Naming a tenant the user does not belong to is a 404, and changes nothing.
	for _, id := range []string{stranger.ID, "not-a-uuid", ""} {
		p = b.submit(b.get("/dashboard"), "[data-testid=switcher]", map[string]string{"tenant_id": id})
		if p.status() != http.StatusNotFound {
			t.Errorf("switch to %q: %d; want 404", id, p.status())
		}
	}
	if got := b.get("/dashboard").text("[data-testid=tenant-name]"); got != "Bravo Bikes" {
		t.Errorf("after refused switches the tenant is %q; want Bravo Bikes", got)
	}
}

func TestStaffConsole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	shop, _ := a.signUp("Shop", "owner@shop.example")
	if _, err := a.store.AddStaff(t.Context(), "support@tandem.example", "staff password"); err != nil {
		t.Fatal(err)
	}

	merchant := a.browser()
	merchant.logIn("owner@shop.example", "a good password")
	for _, path := range []string{"/staff", "/staff/tenants/" + shop.ID} {
		p := merchant.get(path)
		if p.status() != http.StatusNotFound || p.text("[data-testid=error] h1") != "Page not found" {
			t.Errorf("merchant GET %s: %d %q; want the 404 page", path, p.status(), p.text("h1"))
		}
		if p := a.browser().get(path); p.path() != "/login?next="+url.QueryEscape(path) {
			t.Errorf("signed-out GET %s: %d at %s; want the log-in page", path, p.status(), p.path())
		}
	}
	if merchant.get("/dashboard").has(".site-nav a[href='/staff']") {
		t.Error("merchant's navigation links to the staff console")
	}

	// Staff log in and land on the console.
	staff := a.browser()
	p := staff.logIn("support@tandem.example", "staff password")
	if p.status() != http.StatusOK || p.path() != "/staff" {
		t.Fatalf("staff log-in: %d at %s; want the console", p.status(), p.path())
	}
	if !p.has(".site-nav a[href='/staff']") {
		t.Error("staff navigation does not link to the console")
	}
	if got := staff.get("/login"); got.path() != "/staff" {
		t.Errorf("staff visiting /login while logged in: at %s; want /staff", got.path())
	}
	// From a bookmark while signed out: log in, then straight back.
	later := a.browser()
	login := later.get("/staff")
	if p := later.submit(login, "form[action='/login']", map[string]string{"email": "support@tandem.example", "password": "staff password"}); p.path() != "/staff" {
		t.Errorf("log-in from /staff: at %s; want /staff", p.path())
	}
	var rows [][]string
	p.doc.Find("[data-testid=tenants] tbody tr").Each(func(_ int, tr *goquery.Selection) {
		var row []string
		tr.Find("td").Each(func(_ int, td *goquery.Selection) { row = append(row, strings.TrimSpace(td.Text())) })
		rows = append(rows, row)
	})
	// created_at comes from the database's clock: check its shape only.
	want := [][]string{{"Shop", "<date>", "owner@shop.example", "1", "Lightspeed: not connectedSalesforce: not connected", "", "0", ""}}
	if len(rows) == 1 && len(rows[0]) == 8 && regexp.MustCompile(`^\d{1,2} [A-Z][a-z]{2} \d{4}$`).MatchString(rows[0][1]) {
		rows[0][1] = "<date>"
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("tenant rows (-want +got):\n%s", diff)
	}
	if got := p.doc.Find(".site-nav a[aria-current=page]").Text(); got != "Staff" {
		t.Errorf("current nav item = %q; want Staff", got)
	}

	p = staff.get(p.doc.Find("[data-testid=tenants] a").AttrOr("href", ""))
	if p.status() != http.StatusOK || p.text("[data-testid=tenant-name]") != "Shop" {
		t.Fatalf("tenant page: %d %q", p.status(), p.text("h1"))
	}
	if n := a.count("audit_log", "tenant_id = $1 AND action = 'staff.view_tenant' AND actor_email = 'support@tandem.example'", shop.ID); n != 1 {
		t.Errorf("staff views audited = %d; want 1", n)
	}
	if !strings.Contains(p.text("[data-testid=audit]"), "Support staff opened this business") {
		t.Error("the tenant page's activity does not show the staff view")
	}
	if p := staff.get("/staff/tenants/00000000-0000-0000-0000-000000000000"); p.status() != http.StatusNotFound {
		t.Errorf("unknown tenant: %d; want 404", p.status())
	}
	if p := staff.get("/staff/tenants/" + url.PathEscape("../../etc")); p.status() != http.StatusNotFound {
		t.Errorf("junk tenant id: %d; want 404", p.status())
	}
}

// TestStaffTenantListAudited: the staff console's tenant list shows every
// tenant's owner email, so each view of it is in the audit log, and a
// refused (404) attempt leaves no entry.
func TestStaffTenantListAudited(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "owner@shop.example")
	if _, err := a.store.AddStaff(t.Context(), "support@tandem.example", "staff password"); err != nil {
		t.Fatal(err)
	}
	merchant := a.browser()
	merchant.logIn("owner@shop.example", "a good password")
	if p := merchant.get("/staff"); p.status() != http.StatusNotFound {
		t.Fatalf("merchant GET /staff: %d; want 404", p.status())
	}
	staff := a.browser()
	if p := staff.logIn("support@tandem.example", "staff password"); p.status() != http.StatusOK || p.path() != "/staff" {
		t.Fatalf("staff log-in: %d at %s; want /staff", p.status(), p.path())
	}
	if n := a.count("audit_log", "action = 'staff.list_tenants'"); n != 1 {
		t.Errorf("tenant list views audited = %d; want 1", n)
	}
	if n := a.count("audit_log", "action = 'staff.list_tenants' AND tenant_id IS NULL AND actor_email = 'support@tandem.example' AND ip <> ''"); n != 1 {
		t.Errorf("the tenant list view is not recorded under no tenant with the staff user and address")
	}
}

// TestStaffPathsIndistinguishableFromUnknown: for anyone but staff, every
// method on a staff path answers as on a path that does not exist (a 405
// would tell the console is there).
func TestStaffPathsIndistinguishableFromUnknown(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	shop, _ := a.signUp("Shop", "owner@shop.example")
	if _, err := a.store.AddStaff(t.Context(), "support@tandem.example", "staff password"); err != nil {
		t.Fatal(err)
	}
	merchant := a.browser()
	d := merchant.logIn("owner@shop.example", "a good password")
	csrf := d.doc.Find("input[name=csrf]").First().AttrOr("value", "")
	status := func(b *browser, method, path string) int {
		t.Helper()
		body := url.Values{"csrf": {csrf}}.Encode()
		req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// Signed out, GET leads to the log-in page (staff log in there); other
	// methods answer as on an unknown path.
	for name, b := range map[string]*browser{"anonymous": a.browser(), "merchant": merchant} {
		for _, method := range []string{http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
			want := status(b, method, "/no-such-page")
			for _, path := range []string{"/staff", "/staff/tenants/" + shop.ID} {
				if got := status(b, method, path); got != want {
					t.Errorf("%s %s %s: %d; want %d as for an unknown path", name, method, path, got, want)
				}
			}
		}
	}
	staff := a.browser()
	staff.logIn("support@tandem.example", "staff password")
	if p := staff.get("/staff/tenants/" + shop.ID); p.status() != http.StatusOK {
		t.Errorf("staff GET tenant page: %d", p.status())
	}
}

// A stream probed since its last run says when it was last checked; one
// whose last word is its run says nothing more.
func TestDashboardShowsProbedStreams(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tn, _ := a.signUp("Quiet Shop", "me@shop.example")
	for _, q := range []string{
		`INSERT INTO sync_runs (tenant_id, location, stream, trigger, status, started_at, finished_at)
		 VALUES ($1, '', 'customers:ls→sf', 'schedule', 'succeeded', now() - interval '2 hours', now() - interval '2 hours'),
		        ($1, '', 'customers:sf→ls', 'schedule', 'succeeded', now() - interval '3 minutes', now() - interval '3 minutes')`,
		`INSERT INTO sync_streams (tenant_id, location, stream, last_run_id, last_success_at, idle_runs, probes)
		 SELECT tenant_id, location, stream, id,
		        CASE WHEN stream = 'customers:ls→sf' THEN now() - interval '4 minutes' ELSE finished_at END, 5, 20
		 FROM sync_runs WHERE tenant_id = $1`,
	} {
		if _, err := a.pool.Exec(t.Context(), q, tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	p := a.browser().logIn("me@shop.example", "a good password")
	probed := `[data-testid=stream][data-stream="customers:ls→sf"]`
	if got := p.text(probed + ` [data-testid=stream-last-run]`); got != "2 hours ago" {
		t.Errorf("probed stream's last run = %q, want 2 hours ago", got)
	}
	if got := p.text(probed + ` [data-testid=stream-checked]`); got != "checked for changes 4 minutes ago" {
		t.Errorf("probed stream's check = %q, want checked for changes 4 minutes ago", got)
	}
	if n := p.doc.Find(`[data-testid=stream][data-stream="customers:sf→ls"] [data-testid=stream-checked]`).Length(); n != 0 {
		t.Errorf("a stream not probed since its run shows a check")
	}
}
