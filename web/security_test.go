package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
)

// TestFormsBoundToTenant: with two tabs on two businesses, a form shown for
// the first and sent after the second tab switched business is refused with
// a page that says so, and changes neither business.
func TestFormsBoundToTenant(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectLightspeed()
	sa.connectSalesforce()
	harbour := sa.tenant
	beta, _ := sa.signUp("Beta Boards", "beta@beta.example")
	if _, err := sa.pool.Exec(t.Context(), `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`, beta.ID, sa.owner.ID); err != nil {
		t.Fatal(err)
	}
	sa.tenant = beta
	sa.connectLightspeed()
	sa.connectSalesforce()
	sa.tenant = harbour
	model := func(tn tenants.Tenant) setup.DataModel {
		st, err := setup.NewStore(sa.pool).Settings(context.Background(), tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		return st.DataModel
	}

	b := sa.ownerBrowser() // on Beta Boards, first by name
	tab1 := b.get("/setup/model")
	if got := tab1.doc.Find("[data-testid=model-form] input[name=form_tenant]").AttrOr("value", ""); got != beta.ID {
		t.Fatalf("model form names tenant %q; want Beta's %q", got, beta.ID)
	}
	// The other tab switches to Harbour Bikes.
	if p := b.submit(b.get("/dashboard"), "[data-testid=switcher]", map[string]string{"tenant_id": harbour.ID}); p.text("[data-testid=tenant-name]") != "Harbour Bikes" {
		t.Fatalf("switch: on %q", p.text("[data-testid=tenant-name]"))
	}
	choice := url.Values{"model": {"classic"}, "customer": {"contact"}}
	p := b.send(tab1, "[data-testid=model-form]", choice)
	if p.status() != http.StatusConflict {
		t.Fatalf("Beta's form sent while on Harbour: %d; want 409", p.status())
	}
	if got := p.text("[data-testid=error] h1"); got != "This form was for another business" {
		t.Errorf("heading %q", got)
	}
	if got := p.text("[data-testid=error]"); !strings.Contains(got, "reload the page") {
		t.Errorf("page %q does not say to reload", got)
	}
	if model(harbour) != "" || model(beta) != "" {
		t.Fatalf("a refused form changed settings: Harbour %q, Beta %q", model(harbour), model(beta))
	}
	// Reloaded, the form is Harbour's and works.
	if p := b.send(b.get("/setup/model"), "[data-testid=model-form]", choice); p.status() != http.StatusOK || model(harbour) == "" || model(beta) != "" {
		t.Errorf("reloaded form: %d; Harbour %q, Beta %q", p.status(), model(harbour), model(beta))
	}
	// A form with no tenant at all is refused too.
	csrf := tab1.doc.Find("input[name=csrf]").First().AttrOr("value", "")
	if p := b.post("/setup/history", url.Values{"csrf": {csrf}, "history": {"all"}}); p.status() != http.StatusConflict {
		t.Errorf("form without a tenant: %d; want 409", p.status())
	}
}

// TestCSRFBoundToSession: a genuine cookie and token fetched in one session
// (as a taken-over sibling subdomain could plant them) do not work in
// another, and log-in retires the forms shown before it.
func TestCSRFBoundToSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	a.signUp("Evil", "evil@shop.example")
	attacker := a.browser()
	attacker.logIn("evil@shop.example", "a good password")
	attackerDash := attacker.get("/dashboard")
	token := attackerDash.doc.Find("input[name=csrf]").First().AttrOr("value", "")

	victim := a.browser()
	victim.logIn("me@shop.example", "a good password")
	// Plant the attacker's CSRF cookie in the victim's browser.
	u, _ := url.Parse(a.srv.URL)
	victim.c.Jar.SetCookies(u, []*http.Cookie{attacker.cookie("tandem_csrf")})
	if p := victim.post("/logout", url.Values{"csrf": {token}}); p.status() != http.StatusForbidden {
		t.Errorf("planted pair from another session: %d; want 403", p.status())
	}
	if p := victim.get("/dashboard"); p.path() != "/dashboard" {
		t.Error("the planted pair logged the victim out")
	}

	// A form shown before log-in is dead after it.
	b := a.browser()
	before := b.get("/signup")
	b.logIn("me@shop.example", "a good password")
	if p := b.submit(before, "form[action='/signup']", map[string]string{
		"business_name": "Second", "email": "second@shop.example", "password": "a good password",
	}); p.status() != http.StatusForbidden {
		t.Errorf("form from before log-in: %d; want 403", p.status())
	}
}

// TestCSRFTokenNotReadFromQuery: the token counts in the form body or the
// X-CSRF-Token header, never in the URL.
func TestCSRFTokenNotReadFromQuery(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	b := a.browser()
	dash := b.logIn("me@shop.example", "a good password")
	token := dash.doc.Find("form[action='/logout'] input[name=csrf]").AttrOr("value", "")

	if p := b.post("/logout?csrf="+url.QueryEscape(token), url.Values{}); p.status() != http.StatusForbidden {
		t.Errorf("token in the query string: %d; want 403", p.status())
	}
	if p := b.get("/dashboard"); p.path() != "/dashboard" {
		t.Fatal("the query-string token logged out")
	}
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-CSRF-Token", token)
	if p := b.do(req); p.path() != "/login" {
		t.Errorf("token in X-CSRF-Token: %d at %s; want logged out", p.status(), p.path())
	}
}
