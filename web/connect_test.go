package web_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/web/onboard"
)

func TestConnectLightspeed(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")

	p := b.connect(onboard.Lightspeed)
	if got, want := p.text("[data-testid=connect-heading]"), "Connected to Tandem Demo Boutique"; got != want {
		t.Errorf("heading = %q; want %q", got, want)
	}
	if got := p.text(".flash.success"); !strings.HasPrefix(got, "Connected to Tandem Demo Boutique") {
		t.Errorf("flash = %q", got)
	}
	// The shops table matches what the sandbox holds.
	var shops []string
	p.doc.Find("[data-testid=connect-shops] tbody tr:not([data-all-stores])").Each(func(_ int, s *goquery.Selection) {
		shops = append(shops, strings.Join(strings.Fields(s.Text()), " "))
	})
	if len(shops) == 0 {
		t.Fatal("no shops listed")
	}
	var dbShops int
	if err := a.pool.QueryRow(t.Context(), `SELECT count(*) FROM locations WHERE tenant_id = $1 AND is_new AND NOT enabled`, tenantID).Scan(&dbShops); err != nil {
		t.Fatal(err)
	}
	if dbShops != len(shops) {
		t.Errorf("%d new disabled locations stored; %d shops shown", dbShops, len(shops))
	}
	row, ok := a.connRow(tenantID, onboard.Lightspeed)
	if !ok || row.Status != "connected" || row.Account == "" || row.Access == "" || row.Refresh == "" {
		t.Errorf("connection row = %+v, %v", row, ok)
	}
	if diff := cmp.Diff([]string{"tenant.signup", onboard.ActionConnect}, a.auditActions(tenantID)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}

	// The dashboard shows the connection, its counts and the locations.
	d := b.get("/dashboard")
	if got := d.text("[data-testid=connection-card][data-provider=lightspeed] [data-testid=connection-summary]"); !strings.HasPrefix(got, "Connected to Tandem Demo Boutique: ") {
		t.Errorf("card summary = %q", got)
	}
	if n := d.doc.Find("[data-testid=location] [data-testid=location-new]").Length(); n != len(shops) {
		t.Errorf("%d locations flagged new on the dashboard; want %d", n, len(shops))
	}
	if d.has("[data-testid=reconnect-banner]") {
		t.Error("reconnect banner shown for a working connection")
	}

	// Enabling a location and refreshing keeps the choice and the flag.
	if _, err := a.pool.Exec(t.Context(), `UPDATE locations SET enabled = true, is_new = false, name = 'Old name' WHERE tenant_id = $1`, tenantID); err != nil {
		t.Fatal(err)
	}
	p = b.submit(b.get("/connect/lightspeed"), "form[data-testid=refresh]", nil)
	if got := p.text(".flash.success"); !strings.HasPrefix(got, "Read Lightspeed again") {
		t.Errorf("after refresh: %d %q", p.status(), got)
	}
	var enabled, renamed int
	if err := a.pool.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE enabled AND NOT is_new), count(*) FILTER (WHERE name = 'Old name') FROM locations WHERE tenant_id = $1`, tenantID).Scan(&enabled, &renamed); err != nil {
		t.Fatal(err)
	}
	if enabled != len(shops) || renamed != 0 {
		t.Errorf("after refresh: %d enabled of %d, %d still with the old name", enabled, len(shops), renamed)
	}
}

func TestConnectSalesforce(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")

	p := b.connect(onboard.Salesforce)
	// The org's name and edition come from its Organization row, the user
	// from the identity URL.
	if got, want := p.text("[data-testid=connect-heading]"), "Connected to "+sfsandbox.DefaultOrgName+" as Admin User"; got != want {
		t.Errorf("heading = %q, want %q", got, want)
	}
	if got := p.text(".flash.success"); !strings.HasPrefix(got, "Connected to "+sfsandbox.DefaultOrgName) {
		t.Errorf("flash = %q, want it to name the org", got)
	}
	facts := map[string]string{}
	p.doc.Find("[data-testid=connect-facts] dt").Each(func(_ int, s *goquery.Selection) {
		facts[s.Text()] = strings.TrimSpace(s.Next().Text())
	})
	if got := facts["Org"]; !strings.HasPrefix(got, sfsandbox.DefaultOrgName+" (00D") {
		t.Errorf("org fact = %q, want the org name and its 00D id", got)
	}
	if got := facts["Edition"]; got != sfsandbox.DefaultEdition {
		t.Errorf("edition fact = %q, want %q", got, sfsandbox.DefaultEdition)
	}
	if !strings.HasPrefix(facts["Person accounts"], "on") {
		t.Errorf("person accounts = %q; the sandbox has them on", facts["Person accounts"])
	}
	if !strings.Contains(facts["API usage today"], "of 15000 API calls used") {
		t.Errorf("API usage = %q", facts["API usage today"])
	}
	for _, o := range setup.WritableObjects() {
		if !strings.Contains(facts["Objects Tandem can write"], o) {
			t.Errorf("objects %q lack %s", facts["Objects Tandem can write"], o)
		}
	}
	d, err := a.web.Onboard().Discovery(context.Background(), tenantID, onboard.Salesforce)
	if err != nil {
		t.Fatal(err)
	}
	if d.Salesforce.Object("Account").Field("IsPersonAccount") == nil || d.APICalls == 0 {
		t.Errorf("discovery = %+v", d)
	}
	if p.status() != http.StatusOK {
		t.Errorf("status %d", p.status())
	}
}

// TestConnectLightspeedFailures walks every way the Lightspeed callback
// goes wrong, after a first successful connection: each ends on a page
// that names what happened with a way to try again, and leaves the stored
// connection exactly as it was.
func TestConnectLightspeedFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// run drives the failing attempt and returns the page it ends on.
		run        func(t *testing.T, a *connectApp, b *browser) page
		reason     onboard.Reason
		status     int
		wantText   string // in the message or the provider's words
		noTryAgain bool
	}{
		{
			name: "denied",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				return b.callback(b.consent(b.startConnect(onboard.Lightspeed, nil), "deny"))
			},
			reason: onboard.ReasonDenied, status: http.StatusBadRequest, wantText: "denied the request",
		},
		{
			name: "bad state",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				loc := b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize")
				q := loc.Query()
				q.Set("state", "forged-"+q.Get("state"))
				loc.RawQuery = q.Encode()
				return b.callback(loc)
			},
			reason: onboard.ReasonStateMismatch, status: http.StatusBadRequest, wantText: "does not belong to the sign-in",
		},
		{
			name: "no sign-in started",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				return b.get("/connect/lightspeed/callback?code=abc&state=def")
			},
			reason: onboard.ReasonStateMissing, status: http.StatusBadRequest, wantText: "no record of starting",
		},
		{
			name: "expired state",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				loc := b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize")
				a.clock.advance(onboard.StateTTL + time.Second)
				return b.callback(loc)
			},
			reason: onboard.ReasonStateExpired, status: http.StatusBadRequest, wantText: "More than 10 minutes",
		},
		{
			name: "expired code",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				loc := b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize")
				a.prov.ls.Advance(2 * time.Minute)
				return b.callback(loc)
			},
			reason: onboard.ReasonCodeRejected, status: http.StatusBadRequest, wantText: "did not accept",
		},
		{
			name: "provider 500 during discovery",
			run: func(t *testing.T, a *connectApp, b *browser) page {
				loc := b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize")
				a.prov.ls.SetFaults(lssandbox.FaultConfig{FailNext: 10, Status: http.StatusInternalServerError})
				p := b.callback(loc)
				a.prov.ls.SetFaults(lssandbox.FaultConfig{})
				return p
			},
			reason: onboard.ReasonProviderError, status: http.StatusBadGateway, wantText: "Lightspeed said",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newConnectApp(t)
			b, tenantID := a.merchant("Harbour Threads")
			b.connect(onboard.Lightspeed)
			before, _ := a.connRow(tenantID, onboard.Lightspeed)
			auditBefore := a.auditActions(tenantID)
			liveBefore := liveLightspeedTokens(a)

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
			if !p.has("form[data-testid=try-again] button") {
				t.Error("no Try again button")
			}
			after, _ := a.connRow(tenantID, onboard.Lightspeed)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("stored connection changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(auditBefore, a.auditActions(tenantID)); diff != "" {
				t.Errorf("audit log changed (-before +after):\n%s", diff)
			}
			// Tokens issued to the failed attempt were revoked: the only
			// live pair is the stored one.
			if live := liveLightspeedTokens(a); live > liveBefore {
				t.Errorf("%d live tokens after the failure; %d before", live, liveBefore)
			}
			// Try again works.
			p = b.submit(p, "form[data-testid=try-again]", nil)
			p = b.callback(b.consent(p, "authorize"))
			if !p.has("[data-testid=connect-page][data-state=connected]") {
				t.Errorf("try again: %d %s", p.status(), p.text("main"))
			}
		})
	}
}

// TestConnectReplayedCallback: a callback URL works once.
func TestConnectReplayedCallback(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	loc := b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize")
	if p := b.callback(loc); !p.has("[data-testid=connect-page][data-state=connected]") {
		t.Fatalf("first callback: %d %s", p.status(), p.text("main"))
	}
	before, _ := a.connRow(tenantID, onboard.Lightspeed)
	p := b.callback(loc)
	if got := p.failureReason(); got != string(onboard.ReasonStateReplayed) {
		t.Fatalf("replay: reason %q; page %s", got, p.text("main"))
	}
	if got := p.text("[data-testid=failure-message]"); !strings.Contains(got, "already was") {
		t.Errorf("message = %q", got)
	}
	if after, _ := a.connRow(tenantID, onboard.Lightspeed); after != before {
		t.Errorf("replay changed the connection")
	}
}

func liveLightspeedTokens(a *connectApp) int {
	n := 0
	for _, tok := range a.prov.ls.Tokens() {
		if tok.Kind == "refresh" && !tok.Revoked {
			n++
		}
	}
	return n
}

// TestConnectConcurrentCallbacksUseStateOnce: the same callback arriving
// several times at once (a double click, a prefetch) is let through once;
// the others are replays. Without a lock each request read the session
// before any had saved the state as used, and several exchanged the code.
func TestConnectConcurrentCallbacksUseStateOnce(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, _ := a.merchant("Harbour Threads")
	loc := b.consent(b.startConnect(onboard.Lightspeed, nil), "authorize")
	const n = 6
	outcomes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := b.c.Get(a.srv.URL + loc.RequestURI())
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			doc, err := goquery.NewDocumentFromReader(res.Body)
			if err != nil {
				t.Error(err)
				return
			}
			outcomes[i] = doc.Find("[data-testid=connect-failure]").AttrOr("data-reason", "")
			if doc.Find("[data-testid=connect-page][data-state=connected]").Length() == 1 {
				outcomes[i] = "connected"
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, o := range outcomes {
		got[o]++
	}
	want := map[string]int{"connected": 1, string(onboard.ReasonStateReplayed): n - 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes of %d simultaneous callbacks (-want +got):\n%s", n, diff)
	}
}
