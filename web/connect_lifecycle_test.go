package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/web/onboard"
)

func TestConnectSalesforceFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		run      func(t *testing.T, a *connectApp, b *browser) page
		reason   onboard.Reason
		status   int
		wantText string
	}{
		{
			name: "denied",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				return b.callback(b.consent(b.startConnect(onboard.Salesforce, nil), "deny"))
			},
			reason: onboard.ReasonDenied, status: http.StatusBadRequest, wantText: "choose Allow",
		},
		{
			name: "expired code",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				loc := b.consent(b.startConnect(onboard.Salesforce, nil), "allow")
				a.prov.sf.Advance(16 * time.Minute)
				return b.callback(loc)
			},
			reason: onboard.ReasonCodeRejected, status: http.StatusBadRequest, wantText: "Salesforce said",
		},
		{
			name: "provider 500 during discovery",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				loc := b.consent(b.startConnect(onboard.Salesforce, nil), "allow")
				a.prov.sf.SetFaults(sfsandbox.Faults{FailNext: 20, Status: http.StatusInternalServerError, ErrorCode: "UNKNOWN_EXCEPTION", Message: "An unexpected error occurred."})
				p := b.callback(loc)
				a.prov.sf.SetFaults(sfsandbox.Faults{})
				return p
			},
			reason: onboard.ReasonProviderError, status: http.StatusBadGateway, wantText: "An unexpected error occurred.",
		},
		{
			name: "API disabled for the org",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				loc := b.consent(b.startConnect(onboard.Salesforce, nil), "allow")
				a.prov.sf.SetFaults(sfsandbox.Faults{FailNext: 20, Status: http.StatusForbidden, ErrorCode: "API_DISABLED_FOR_ORG", Message: "API is not enabled for this Organization or Partner"})
				p := b.callback(loc)
				a.prov.sf.SetFaults(sfsandbox.Faults{})
				return p
			},
			reason: onboard.ReasonAPIDisabled, status: http.StatusBadRequest, wantText: "Professional Edition",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newConnectApp(t)
			b, tenantID := a.merchant("Harbour Threads")
			b.connect(onboard.Salesforce)
			before, _ := a.connRow(tenantID, onboard.Salesforce)
			p := tt.run(t, a, b)
			if got := p.failureReason(); got != string(tt.reason) {
				t.Fatalf("reason = %q; want %q; page: %s", got, tt.reason, p.text("main"))
			}
			if p.status() != tt.status {
				t.Errorf("status = %d; want %d", p.status(), tt.status)
			}
			if body := p.text("[data-testid=connect-failure]"); !strings.Contains(body, tt.wantText) {
				t.Errorf("page %q lacks %q", body, tt.wantText)
			}
			if after, _ := a.connRow(tenantID, onboard.Salesforce); after != before {
				t.Error("stored connection changed")
			}
			// Try again repeats the environment choice.
			p = b.submit(p, "form[data-testid=try-again]", nil)
			if p = b.callback(b.consent(p, "allow")); !p.has("[data-testid=connect-page][data-state=connected]") {
				t.Errorf("try again: %d %s", p.status(), p.text("main"))
			}
		})
	}
}

func TestConnectSalesforceMyDomain(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, _ := a.merchant("Harbour Threads")
	for _, tt := range []struct{ input, want string }{
		{"", "Enter your My Domain"},
		{"acme.lightning.force.com", "my.salesforce.com"},
		{"not a domain!", ""},
	} {
		p := b.startConnect(onboard.Salesforce, map[string]string{"environment": onboard.EnvMyDomain, "my_domain": tt.input})
		if p.status() != http.StatusUnprocessableEntity {
			t.Errorf("%q: status %d; want 422", tt.input, p.status())
			continue
		}
		msg := p.text("[data-testid=my-domain-error]")
		if msg == "" || !strings.Contains(msg, tt.want) {
			t.Errorf("%q: error %q; want it to mention %q", tt.input, msg, tt.want)
		}
		if got := p.doc.Find("#my_domain").AttrOr("value", ""); got != tt.input {
			t.Errorf("%q: the input was not kept: %q", tt.input, got)
		}
	}
	// A valid My Domain leads to the login host it names (not followed:
	// the real host is outside this machine).
	form := b.get("/connect/salesforce").doc.Find("form[data-testid=salesforce-environment]")
	v := url.Values{"csrf": {form.Find("input[name=csrf]").AttrOr("value", "")}, "form_tenant": {form.Find("input[name=form_tenant]").AttrOr("value", "")}, "environment": {onboard.EnvMyDomain}, "my_domain": {"https://acme--uat.sandbox.my.salesforce.com/"}}
	nc := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := nc.PostForm(a.srv.URL+"/connect/salesforce", v)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/authorize?") {
		t.Errorf("valid My Domain: %d to %q", res.StatusCode, loc)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+a.prov.lsSrv.URL) {
		t.Errorf("CSP %q does not let Connect forms lead to the providers", csp)
	}
}

// TestReconnectOtherLightspeedAccount: Tandem refuses to swap the account
// under existing links unless the merchant confirms a reset.
func TestReconnectOtherLightspeedAccount(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	b.connect(onboard.Lightspeed)
	before, _ := a.connRow(tenantID, onboard.Lightspeed)
	for _, q := range []string{
		`INSERT INTO links (tenant_id, kind, ls_id, sf_id) VALUES ($1, 'customer', '1', '003000000000001AAA')`,
		`INSERT INTO cursors (tenant_id, stream, position) VALUES ($1, 'customers:ls→sf', '2026-01-01')`,
	} {
		if _, err := a.pool.Exec(t.Context(), q, tenantID); err != nil {
			t.Fatal(err)
		}
	}

	// The merchant signs in to another Lightspeed account.
	other := newLightspeedSandbox(300002, "Other Outfitters")
	a.prov.lsSw.set(other)
	p := b.callback(b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize"))
	if got := p.failureReason(); got != string(onboard.ReasonOtherAccount) || p.status() != http.StatusConflict {
		t.Fatalf("reason %q status %d; page %s", got, p.status(), p.text("main"))
	}
	if after, _ := a.connRow(tenantID, onboard.Lightspeed); after != before {
		t.Error("refusal changed the stored connection")
	}
	for _, tok := range other.Tokens() {
		if tok.Kind == "refresh" && !tok.Revoked {
			t.Error("the other account's token was not revoked")
		}
	}
	if a.count("links", "tenant_id = $1", tenantID) != 1 {
		t.Error("links lost on refusal")
	}

	// Without the confirmation box ticked nothing happens.
	p2 := b.submit(p, "form[data-testid=reset-form]", nil)
	if got := p2.failureReason(); got != string(onboard.ReasonOtherAccount) {
		t.Errorf("unconfirmed reset: reason %q", got)
	}
	// Confirmed: a second consent, then the new account replaces the old.
	p = b.submit(p, "form[data-testid=reset-form]", map[string]string{"confirm": "reset"})
	p = b.callback(b.consent(p, "authorize"))
	if got := p.text("[data-testid=connect-heading]"); got != "Connected to Other Outfitters" {
		t.Fatalf("after reset: %q; %s", got, p.text("main"))
	}
	if row, _ := a.connRow(tenantID, onboard.Lightspeed); row.Account != "300002" {
		t.Errorf("account = %s", row.Account)
	}
	if n := a.count("links", "tenant_id = $1", tenantID) + a.count("cursors", "tenant_id = $1 AND position <> ''", tenantID); n != 0 {
		t.Errorf("%d links and cursors survive the reset", n)
	}
	want := []string{"tenant.signup", onboard.ActionConnect, onboard.ActionRefusedOtherAccount, onboard.ActionReset, onboard.ActionConnect}
	if diff := cmp.Diff(want, a.auditActions(tenantID)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// TestReconnectOtherSalesforceOrg: every Salesforce sandbox is the same
// org, so the test makes the stored connection name another org.
func TestReconnectOtherSalesforceOrg(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	b.connect(onboard.Salesforce)
	if _, err := a.pool.Exec(t.Context(), `UPDATE connections SET external_account = '00D000000000099AAA', external_name = 'Old Org' WHERE tenant_id = $1 AND provider = 'salesforce'`, tenantID); err != nil {
		t.Fatal(err)
	}
	p := b.callback(b.consent(b.startConnect(onboard.Salesforce, nil), "allow"))
	if got := p.failureReason(); got != string(onboard.ReasonOtherAccount) {
		t.Fatalf("reason %q; page %s", got, p.text("main"))
	}
	if !strings.Contains(p.text("[data-testid=reset-form]"), "replaces Old Org") {
		t.Errorf("reset form: %q", p.text("[data-testid=reset-form]"))
	}
	p = b.submit(p, "form[data-testid=reset-form]", map[string]string{"confirm": "reset"})
	if p = b.callback(b.consent(p, "allow")); !p.has("[data-testid=connect-page][data-state=connected]") {
		t.Fatalf("after reset: %s", p.text("main"))
	}
}

// TestNeedsReconnect: a refresh token the provider refuses turns into the
// dashboard's red banner; Reconnect restores the connection with every
// setting kept.
func TestNeedsReconnect(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{onboard.Lightspeed, onboard.Salesforce} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			a := newConnectApp(t)
			b, tenantID := a.merchant("Harbour Threads")
			b.connect(provider)
			if _, err := a.pool.Exec(t.Context(), `UPDATE tenants SET settings = '{"history":"30d"}' WHERE id = $1`, tenantID); err != nil {
				t.Fatal(err)
			}
			revokeAll(t, a, provider)

			p := b.submit(b.get("/connect/"+provider), "form[data-testid=refresh]", nil)
			if got := p.failureReason(); got != string(onboard.ReasonNeedsReauth) {
				t.Fatalf("refresh after revocation: reason %q; %s", got, p.text("main"))
			}
			d := b.get("/dashboard")
			banner := d.doc.Find("[data-testid=reconnect-banner][data-provider=" + provider + "]")
			if banner.Length() != 1 || !strings.Contains(banner.Text(), "needs to be reconnected") {
				t.Fatalf("no banner: %s", d.text("main"))
			}
			if row, _ := a.connRow(tenantID, provider); row.Status != "needs_reauth" {
				t.Errorf("status = %s", row.Status)
			}
			// The provider's error chain is for support, not the merchant.
			if txt := b.get("/connect/" + provider).text("main"); strings.Contains(txt, "invalid_grant") || strings.Contains(txt, "vault:") {
				t.Errorf("merchant's connection page shows the internal reason: %s", txt)
			}
			staffEmail := "support-" + provider + "@tandem.example"
			if _, err := a.store.AddStaff(t.Context(), staffEmail, "staff password"); err != nil {
				t.Fatal(err)
			}
			staff := a.browser()
			staff.logIn(staffEmail, "staff password")
			if detail := staff.get("/staff/tenants/" + tenantID).text("[data-testid=connection-detail]"); !strings.Contains(detail, "refused") {
				t.Errorf("staff tenant page detail = %q; want the stored reason", detail)
			}
			p = b.submit(d, "[data-testid=reconnect-banner] form", nil)
			decision := map[string]string{onboard.Lightspeed: "authorize", onboard.Salesforce: "allow"}[provider]
			p = b.callback(b.consent(p, decision))
			if got := p.text(".flash.success"); !strings.Contains(got, "again. Your settings are kept.") {
				t.Errorf("after reconnect: %q; %s", got, p.text("main"))
			}
			if b.get("/dashboard").has("[data-testid=reconnect-banner]") {
				t.Error("banner still shown after reconnecting")
			}
			var hist string
			if err := a.pool.QueryRow(t.Context(), `SELECT settings->>'history' FROM tenants WHERE id = $1`, tenantID).Scan(&hist); err != nil || hist != "30d" {
				t.Errorf("settings lost: %q %v", hist, err)
			}
			acts := a.auditActions(tenantID)
			if acts[len(acts)-1] != onboard.ActionReconnect {
				t.Errorf("audit = %v", acts)
			}
		})
	}
}

// revokeAll revokes every token the provider's sandbox issued and expires
// the access tokens, as a merchant removing Tandem at the provider would.
func revokeAll(t *testing.T, a *connectApp, provider string) {
	t.Helper()
	switch provider {
	case onboard.Lightspeed:
		cfg := &lightspeed.Config{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret", Endpoint: lightspeed.CurrentEndpoint(a.prov.lsSrv.URL)}
		for _, tok := range a.prov.ls.Tokens() {
			if tok.Kind == "refresh" && !tok.Revoked {
				if err := cfg.Revoke(t.Context(), tok.Token); err != nil {
					t.Fatal(err)
				}
			}
		}
	case onboard.Salesforce:
		for _, tok := range a.prov.sf.Tokens() {
			if tok.Kind == "refresh" && !tok.Revoked {
				res, err := http.PostForm(a.prov.sfSrv.URL+"/services/oauth2/revoke", map[string][]string{"token": {tok.Token}})
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
		}
		a.prov.sf.SetFaults(sfsandbox.Faults{ExpireTokens: true})
	}
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{onboard.Lightspeed, onboard.Salesforce} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			a := newConnectApp(t)
			b, tenantID := a.merchant("Harbour Threads")
			b.connect(provider)
			p := b.disconnectVia(provider)
			if p.path() != "/dashboard" || !strings.HasPrefix(p.text(".flash.success"), "Disconnected from ") {
				t.Fatalf("after disconnect at %s: %s", p.path(), p.text("main"))
			}
			row, _ := a.connRow(tenantID, provider)
			if row.Status != "disconnected" || row.Access != "" || row.Refresh != "" || row.Account == "" {
				t.Errorf("row after disconnect = %+v", row)
			}
			if !allRevoked(a, provider) {
				t.Error("tokens not revoked at the provider")
			}
			if got := p.doc.Find("[data-testid=connection-card][data-provider="+provider+"]").AttrOr("data-state", ""); got != "disconnected" {
				t.Errorf("card state %q", got)
			}
			acts := a.auditActions(tenantID)
			if acts[len(acts)-1] != onboard.ActionDisconnect {
				t.Errorf("audit = %v", acts)
			}
			if provider == onboard.Lightspeed && a.count("locations", "tenant_id = $1", tenantID) == 0 {
				t.Error("disconnect dropped the locations")
			}
		})
	}
}

// Disconnect asks first and says what happens; the button alone changes
// nothing, and Cancel leads back to the connection.
func TestDisconnectAsksFirst(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	b.connect(onboard.Lightspeed)
	p := b.submit(b.get("/dashboard"), "form[data-testid=disconnect-lightspeed]", nil)
	if p.status() != http.StatusOK || !p.has("[data-testid=disconnect-confirm]") {
		t.Fatalf("Disconnect without confirming: %d %q", p.status(), p.text("main"))
	}
	for _, want := range []string{"Disconnect Lightspeed?", "revokes its access", "settings, store choices, field mapping and sync history are kept", "picks up where syncing left off"} {
		if !strings.Contains(p.text("main"), want) {
			t.Errorf("confirmation page lacks %q: %q", want, p.text("main"))
		}
	}
	if href := p.doc.Find("[data-testid=disconnect-cancel]").AttrOr("href", ""); href != "/connect/lightspeed" {
		t.Errorf("Cancel leads to %q", href)
	}
	if row, _ := a.connRow(tenantID, onboard.Lightspeed); row.Status != "connected" || row.Access == "" {
		t.Errorf("an unconfirmed disconnect changed the connection: %+v", row)
	}
	for _, tok := range a.prov.ls.Tokens() {
		if tok.Revoked {
			t.Error("an unconfirmed disconnect revoked a token")
		}
	}
}

func allRevoked(a *connectApp, provider string) bool {
	switch provider {
	case onboard.Lightspeed:
		for _, tok := range a.prov.ls.Tokens() {
			if !tok.Revoked {
				return false
			}
		}
	case onboard.Salesforce:
		for _, tok := range a.prov.sf.Tokens() {
			if tok.Kind == "refresh" && !tok.Revoked {
				return false
			}
		}
	}
	return true
}

// TestViewerCannotConnect: a viewer sees the state but no buttons, and a
// forged POST is refused.
func TestViewerCannotConnect(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	tn, _ := a.signUp("Harbour Threads", "owner@shop.example")
	_, u := a.signUp("Elsewhere", "viewer@shop.example")
	if _, err := a.pool.Exec(t.Context(), `DELETE FROM memberships WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.Exec(t.Context(), `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')`, tn.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	d := b.logIn("viewer@shop.example", "a good password")
	if d.has("[data-testid=connection-card] form") {
		t.Error("viewer sees connection buttons")
	}
	p := b.post("/connect/lightspeed", url.Values{
		"csrf":        {d.doc.Find("input[name=csrf]").First().AttrOr("value", "")},
		"form_tenant": {d.doc.Find("input[name=form_tenant]").First().AttrOr("value", "")},
	})
	if p.status() != http.StatusForbidden {
		t.Errorf("viewer start: %d", p.status())
	}
}

// TestReconnectSameAccount: connecting again replaces the token pair,
// revokes the old one at the provider, and the new one works.
func TestReconnectSameAccount(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	b.connect(onboard.Lightspeed)
	first, _ := a.connRow(tenantID, onboard.Lightspeed)
	p := b.connect(onboard.Lightspeed)
	if got := p.text(".flash.success"); !strings.Contains(got, "again. Your settings are kept.") {
		t.Errorf("flash = %q", got)
	}
	second, _ := a.connRow(tenantID, onboard.Lightspeed)
	if second.Refresh == first.Refresh {
		t.Error("the token pair was not replaced")
	}
	if n := liveLightspeedTokens(a); n != 1 {
		t.Errorf("%d live refresh tokens at Lightspeed; want only the new one", n)
	}
	p = b.submit(b.get("/connect/lightspeed"), "form[data-testid=refresh]", nil)
	if !strings.HasPrefix(p.text(".flash.success"), "Read Lightspeed again") {
		t.Errorf("refresh with the new pair: %s", p.text("main"))
	}
	want := []string{"tenant.signup", onboard.ActionConnect, onboard.ActionReconnect, onboard.ActionRefreshDiscovery}
	if diff := cmp.Diff(want, a.auditActions(tenantID)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// TestCallbackAfterSwitchOrLogout: the callback belongs to the business
// and the session that started it.
func TestCallbackAfterSwitchOrLogout(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	other, _ := a.signUp("Another Shop", "another@shop.example")
	u := a.userID("harbourthreads@shop.example")
	if _, err := a.pool.Exec(t.Context(), `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`, other.ID, u); err != nil {
		t.Fatal(err)
	}
	b.submit(b.get("/dashboard"), "[data-testid=switcher]", map[string]string{"tenant_id": tenantID})

	loc := b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize")
	b.submit(b.get("/dashboard"), "[data-testid=switcher]", map[string]string{"tenant_id": other.ID})
	p := b.callback(loc)
	if got := p.failureReason(); got != string(onboard.ReasonWrongTenant) {
		t.Errorf("after switching: reason %q; %s", got, p.text("main"))
	}
	if _, ok := a.connRow(other.ID, onboard.Lightspeed); ok {
		t.Error("the other business got connected")
	}

	loc = b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize")
	b.submit(b.get("/dashboard"), "form[action='/logout']", nil)
	p = b.callback(loc)
	if p.status() != http.StatusBadRequest || !strings.Contains(p.text("main"), "logged out of Tandem") || p.has("form[data-testid=try-again]") {
		t.Errorf("after logging out: %d %s", p.status(), p.text("main"))
	}
	// Not bounced to the log-in page, whose "next" would carry the code.
	if !strings.HasPrefix(p.path(), "/connect/lightspeed/callback?") {
		t.Errorf("ended at %s", p.path())
	}
}

// TestLightspeedRefreshAhead: a Lightspeed access token close to expiry is
// refreshed through the vault before it is used, and the rotated refresh
// token is stored; a fresh one is left alone.
func TestLightspeedRefreshAhead(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	b.connect(onboard.Lightspeed)
	refresh := func() connRow {
		t.Helper()
		p := b.submit(b.get("/connect/lightspeed"), "form[data-testid=refresh]", nil)
		if !strings.HasPrefix(p.text(".flash.success"), "Read Lightspeed again") {
			t.Fatalf("refresh: %s", p.text("main"))
		}
		row, _ := a.connRow(tenantID, onboard.Lightspeed)
		return row
	}
	before, _ := a.connRow(tenantID, onboard.Lightspeed)
	if after := refresh(); after.Refresh != before.Refresh {
		t.Error("a fresh token was refreshed")
	}
	// The sandbox's tokens live an hour; four minutes before the end is
	// inside the five-minute refresh-ahead window.
	a.clock.advance(56 * time.Minute)
	if after := refresh(); after.Refresh == before.Refresh || after.Access == before.Access {
		t.Error("a token about to expire was not refreshed (and its rotation stored)")
	}
}

// TestSalesforceStateFailureOffersTheChoice: with no sign-in to repeat,
// Try again leads back to the environment choice.
func TestSalesforceStateFailureOffersTheChoice(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, _ := a.merchant("Harbour Threads")
	p := b.get("/connect/salesforce/callback?code=abc&state=def")
	if got := p.failureReason(); got != string(onboard.ReasonStateMissing) {
		t.Fatalf("reason %q", got)
	}
	if href := p.doc.Find("[data-testid=try-again-link]").AttrOr("href", ""); href != "/connect/salesforce" {
		t.Errorf("try again leads to %q", href)
	}
}

// TestDashboardSetupProgress: the dashboard shows where setup stands and
// links to the next step.
func TestDashboardSetupProgress(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, _ := a.merchant("Harbour Threads")
	d := b.get("/dashboard")
	if href := d.doc.Find("[data-testid=setup-next]").AttrOr("href", ""); href != "/connect/lightspeed" {
		t.Errorf("next step before connecting: %q", href)
	}
	b.connect(onboard.Lightspeed)
	d = b.get("/dashboard")
	if got := d.doc.Find("[data-testid=setup-progress] li[data-step=connect_lightspeed]").AttrOr("data-done", ""); got != "true" {
		t.Errorf("connect_lightspeed done = %q", got)
	}
	if href := d.doc.Find("[data-testid=setup-next]").AttrOr("href", ""); href != "/connect/salesforce" {
		t.Errorf("next step after Lightspeed: %q", href)
	}
}
