package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/ledger"
)

// TestTenantIsolation walks every route in the route table as a second
// tenant's owner and tries it with the first tenant's ids: in the path
// (every :param filled from isolationParams below), in the query string and
// in the form (every field name a handler might read an id from). A route
// that names a resource in its path must answer 404 or 403; a route without
// one can only act on the user's own tenant, so it may answer as usual. No
// answer may show the first tenant's names, labels or ids, and nothing of
// the first tenant may change.
//
// Routes are read from the running server, so a route added later is
// covered without editing this test, unless it has a path parameter this
// test has no value for: then it fails and says what to add.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	ctx := context.Background()

	// The first tenant: connected, a store, a stream, a run with events
	// naming a customer. Serial ids are moved to distinctive values so a
	// leaked one is recognisable in a page.
	alpha := sa.tenant
	sa.connectLightspeed()
	sa.connectSalesforce()
	sa.addShop("7001", "Harbour Secret Quay", true, false)
	for _, seq := range []string{"sync_runs", "sync_events"} {
		if _, err := sa.pool.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), 7770000)`, seq)); err != nil {
			t.Fatal(err)
		}
	}
	led := ledger.New(sa.pool)
	key := ledger.StreamKey{TenantID: alpha.ID, Stream: ledger.CustomersToSalesforce}
	if err := led.EnsureStreams(ctx, alpha.ID, []ledger.StreamKey{key}); err != nil {
		t.Fatal(err)
	}
	run, err := led.StartRun(ctx, key, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	const secretLabel = "marguerite.secret@harbour.example"
	if err := led.CommitPage(ctx, run, ledger.Page{Events: []ledger.Event{{Action: ledger.ActionCreated, Kind: "customer",
		LSID: "880001", SFID: "003SECRETALPHA0001", Label: secretLabel}}}); err != nil {
		t.Fatal(err)
	}
	events, err := led.Events(ctx, alpha.ID, run.ID, 0, 10)
	if err != nil || len(events) != 1 {
		t.Fatalf("alpha's events: %v %v", events, err)
	}

	// The second tenant, whose owner tries everything.
	beta, _ := sa.signUp("Beta Boards", "beta@beta.example")
	if beta.ID == alpha.ID {
		t.Fatal("one tenant")
	}

	// isolationParams: the first tenant's real value for every path
	// parameter name a route may use.
	isolationParams := map[string]string{
		"id":         alpha.ID, // /staff/tenants/:id
		"tenant":     alpha.ID,
		"user":       sa.owner.ID,
		"member":     sa.owner.ID,
		"run":        fmt.Sprint(run.ID),
		"event":      fmt.Sprint(events[0].ID),
		"location":   "7001",
		"shop":       "7001",
		"stream":     key.Stream,
		"provider":   "lightspeed",
		"connection": "lightspeed",
		"*":          alpha.ID, // static files: /static/*
	}
	// What must never appear in the second tenant's pages.
	secrets := []string{alpha.Name, "owner@harbour.example", "Harbour Secret Quay", secretLabel, "003SECRETALPHA0001",
		alpha.ID, sa.owner.ID, fmt.Sprint(run.ID), fmt.Sprint(events[0].ID)}

	before := tenantRows(t, sa.app, alpha.ID)
	routes := sa.web.RoutesForTest()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	tried := 0
	for _, r := range routes {
		name := r.Method + " " + r.Path
		path, params, missing := fillPath(r.Path, isolationParams)
		if len(missing) > 0 {
			t.Errorf("%s: no value for path parameter(s) %s: add the first tenant's real id for each to isolationParams in web/isolation_test.go", name, strings.Join(missing, ", "))
			continue
		}
		// Every id again as query and form fields, under the names
		// handlers read them by.
		fields := url.Values{}
		for k, v := range isolationParams {
			if k != "*" {
				fields.Set(k, v)
				fields.Set(k+"_id", v)
			}
		}

		// A fresh session per route: a route may log out or switch.
		b := sa.browser()
		if p := b.logIn("beta@beta.example", "a good password"); p.text("[data-testid=tenant-name]") != "Beta Boards" {
			t.Fatalf("beta's log-in landed on %s: %q", p.path(), p.text("main"))
		}
		dash := b.get("/dashboard")
		csrf := dash.doc.Find("input[name=csrf]").First().AttrOr("value", "")
		if csrf == "" {
			t.Fatal("no csrf token on beta's dashboard")
		}
		target := sa.srv.URL + path
		var body io.Reader
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			target += "?" + fields.Encode()
		default:
			// Beta's own valid form, carrying Alpha's ids.
			fields.Set("csrf", csrf)
			fields.Set("form_tenant", beta.ID)
			body = strings.NewReader(fields.Encode())
		}
		req, err := http.NewRequest(r.Method, target, body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		tried++

		switch {
		case res.StatusCode >= 500:
			t.Errorf("%s as another tenant: %d", name, res.StatusCode)
		case params > 0 && res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden:
			t.Errorf("%s with the first tenant's ids in its path: %d; want 404 or 403", name, res.StatusCode)
		}
		// A page may echo its own URL (a form action, a link): that is
		// what was asked, not a leak.
		page := strings.ReplaceAll(string(raw), req.URL.RequestURI(), "")
		page = strings.ReplaceAll(page, url.PathEscape(path), "")
		page += " " + res.Header.Get("Location")
		// And whatever the route did to the session (switched business,
		// say), the dashboard after it still shows nothing of the first.
		page += " " + b.get("/dashboard").doc.Text()
		for _, s := range secrets {
			if strings.Contains(page, s) {
				t.Errorf("%s as another tenant (%d) shows the first tenant's %q", name, res.StatusCode, s)
			}
		}
	}
	if tried < 20 {
		t.Errorf("tried %d routes; the route table looks empty", tried)
	}
	if after := tenantRows(t, sa.app, alpha.ID); after != before {
		t.Errorf("the first tenant's rows changed while another tenant tried every route:\nbefore %s\nafter  %s", before, after)
	}
}

// fillPath fills path's :params and * from values, returning how many it
// filled and the names it had no value for.
func fillPath(path string, values map[string]string) (filled string, params int, missing []string) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		var name string
		switch {
		case strings.HasPrefix(s, ":"):
			name = s[1:]
		case s == "*":
			name = "*"
		default:
			continue
		}
		params++
		v, ok := values[name]
		if !ok {
			missing = append(missing, s)
			continue
		}
		segs[i] = url.PathEscape(v)
	}
	return strings.Join(segs, "/"), params, missing
}

// tenantRows is a digest of every row of every table with a tenant_id
// column that belongs to tenantID, per table.
func tenantRows(t *testing.T, a *app, tenantID string) string {
	t.Helper()
	ctx := context.Background()
	rows, err := a.pool.Query(ctx, `SELECT table_name FROM information_schema.columns
		WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	tables = append(tables, "tenants")
	var out strings.Builder
	for _, tb := range tables {
		col := "tenant_id"
		if tb == "tenants" {
			col = "id"
		}
		var digest string
		q := fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM %s r WHERE %s = $1`, tb, col)
		if err := a.pool.QueryRow(ctx, q, tenantID).Scan(&digest); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		fmt.Fprintf(&out, "%s=%s ", tb, digest)
	}
	return out.String()
}
