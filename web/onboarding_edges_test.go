package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
	"github.com/tandemsync/tandem/web"
	"github.com/tandemsync/tandem/web/onboard"
)

// The dashboard never says "synced" about a store: a store is "Sync on" or
// "Off", and a store whose Lightspeed connection is broken or gone says
// that rather than showing a healthy badge.
func TestLocationBadges(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{Seed: nil})
	sa.connectLightspeed()
	sa.addShop("1", "Harbour Street", true, false)
	sa.addShop("2", "Warehouse", false, false)
	b := sa.ownerBrowser()
	badges := func() []string {
		t.Helper()
		p := b.get("/dashboard")
		var got []string
		for i := range p.doc.Find("[data-testid=location]").Length() {
			row := p.doc.Find("[data-testid=location]").Eq(i)
			got = append(got, strings.Join(strings.Fields(row.Find("td").First().Text()), " ")+": "+
				row.Find("[data-testid=location-status]").Text()+" ("+row.Find("[data-testid=location-status]").AttrOr("class", "")+")")
		}
		if strings.Contains(p.text("[data-testid=locations]"), "synced") {
			t.Errorf("locations say synced: %q", p.text("[data-testid=locations]"))
		}
		return got
	}
	if diff := cmp.Diff([]string{"Harbour Street: Sync on (status enabled)", "Warehouse: Off (status off)"}, badges()); diff != "" {
		t.Errorf("connected (-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ status, want string }{
		{"needs_reauth", "Harbour Street: Sync on, paused: Lightspeed needs to be reconnected (status needs_reauth)"},
		{"disconnected", "Harbour Street: Sync on, paused: Lightspeed is disconnected (status disconnected)"},
	} {
		if _, err := sa.pool.Exec(context.Background(), `UPDATE connections SET status = $2 WHERE tenant_id = $1`, sa.tenant.ID, tt.status); err != nil {
			t.Fatal(err)
		}
		if got := badges(); got[0] != tt.want {
			t.Errorf("%s: %q; want %q", tt.status, got[0], tt.want)
		}
	}
}

// Once connected, the connect page's main action is Next (the next setup
// step), and reconnecting is a secondary button; the page says customers
// sync both ways.
func TestConnectSuccessLeadsOn(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, _ := a.merchant("Harbour Threads")
	if intro := b.get("/connect/lightspeed").text("[data-testid=connect-page] > p"); !strings.Contains(intro, "customers in step both ways") {
		t.Errorf("Lightspeed intro = %q", intro)
	}
	p := b.connect(onboard.Lightspeed)
	next := p.doc.Find("[data-testid=connect-next]")
	if next.AttrOr("href", "") != "/connect/salesforce" || next.Text() != "Next: Connect Salesforce" || next.HasClass("secondary") {
		t.Errorf("Lightspeed's next = %q %q", next.AttrOr("href", ""), next.Text())
	}
	if !p.doc.Find("form[data-testid=connect] button").HasClass("secondary") {
		t.Error("Reconnect Lightspeed is not secondary")
	}
	p = b.connect(onboard.Salesforce)
	// The data model comes before the setup check.
	if href := p.doc.Find("[data-testid=connect-next]").AttrOr("href", ""); href != "/setup/model" {
		t.Errorf("Salesforce's next = %q; want /setup/model", href)
	}
	if !p.doc.Find("form[data-testid=salesforce-environment] button").HasClass("secondary") {
		t.Error("Reconnect Salesforce is not secondary")
	}
}

// Reconnecting Salesforce runs the setup check again: the org may have
// changed (or be another org after a reset).
func TestReconnectSalesforceRerunsCheck(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	b.connect(onboard.Salesforce)
	store := setup.NewStore(a.pool)
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := store.Update(t.Context(), tenantID, tenants.Actor{}, func(s *setup.Settings) error {
		s.DataModel = setup.ModelClassic
		s.SalesforceCheck = &setup.CheckResult{Model: setup.ModelClassic, CheckedAt: old,
			Items: []setup.CheckItem{{Key: "Contact.Lightspeed_Customer_ID__c", Status: setup.StatusPresent}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p := b.connect(onboard.Salesforce)
	st, err := store.Settings(t.Context(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	chk := st.SalesforceCheck
	if chk == nil || !chk.CheckedAt.After(old) || chk.Complete() {
		t.Fatalf("check after reconnect = %+v; want a fresh one finding the sandbox's missing fields", chk)
	}
	if got := p.text(".flash.info"); !strings.Contains(got, "Setup check run again") {
		t.Errorf("flash = %q", got)
	}
}

// The staff activity log says who did what, to which provider, and the
// detail, in words, with UTC times said so; a connection marked as needing
// to be reconnected is there too.
func TestStaffActivityLogInWords(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, tenantID := a.merchant("Harbour Threads")
	b.connect(onboard.Lightspeed)
	keys, err := vault.NewKeyRing(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := vault.New(a.pool, keys).MarkNeedsReauth(t.Context(), tenantID, vault.Lightspeed, "Lightspeed refused the stored authorization"); err != nil {
		t.Fatal(err)
	}
	b.inviteVia("clerk@harbour.example", "viewer")
	if _, err := a.store.AddStaff(t.Context(), "staff@tandem.example", "a good password"); err != nil {
		t.Fatal(err)
	}
	sb := a.browser()
	sb.logIn("staff@tandem.example", "a good password")
	p := sb.get("/staff/tenants/" + tenantID)
	if got := p.text("[data-testid=audit] thead"); !strings.Contains(got, "When (UTC)") {
		t.Errorf("audit header = %q", got)
	}
	var rows []string
	p.doc.Find("[data-testid=audit] tbody tr").Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(i int, td *goquery.Selection) {
			if i > 0 && i < 5 { // who, what, provider, detail
				cells = append(cells, strings.TrimSpace(td.Text()))
			}
		})
		rows = append(rows, strings.Join(cells, " | "))
		if when := s.Find("td").First().Text(); !strings.HasSuffix(when, " UTC") {
			t.Errorf("time %q does not say UTC", when)
		}
	})
	for _, want := range []string{
		"harbourthreads@shop.example | Invited clerk@harbour.example |  | as viewer",
		"Tandem | Marked as needing to be reconnected | Lightspeed | Lightspeed refused the stored authorization",
		"harbourthreads@shop.example | Connected | Lightspeed | to Tandem Demo Boutique (",
		"harbourthreads@shop.example | Signed up, creating this business |  | ",
	} {
		found := false
		for _, r := range rows {
			if strings.HasPrefix(r, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row %q in:\n%s", want, strings.Join(rows, "\n"))
		}
	}
}

// The employee count of the summary is the sum of the per-store rows:
// each active employee counted once, and the page says who is counted.
func TestEmployeeCountsAgree(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, _ := a.merchant("Harbour Threads")
	p := b.connect(onboard.Lightspeed)
	var found string
	p.doc.Find("[data-testid=connect-facts] dt").Each(func(_ int, s *goquery.Selection) {
		if s.Text() == "Found" {
			found = s.Next().Text()
		}
	})
	var total int
	if _, err := fmt.Sscanf(found[strings.LastIndex(found, ", ")+2:], "%d active employees", &total); err != nil || !strings.Contains(found, "archived ones are not counted") {
		t.Fatalf("Found = %q (%v)", found, err)
	}
	sum := 0
	p.doc.Find("[data-testid=connect-shops] tbody tr").Each(func(_ int, s *goquery.Selection) {
		n, err := strconv.Atoi(strings.TrimSpace(s.Find("td").Last().Text()))
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	})
	if sum != total || total == 0 {
		t.Errorf("per-store rows add up to %d; the summary says %d", sum, total)
	}
	if !strings.Contains(p.text("main"), "Each active employee is counted once") {
		t.Error("the page does not say who is counted")
	}
	if card := b.get("/dashboard").text("[data-testid=connection-card][data-provider=lightspeed] [data-testid=connection-summary]"); !strings.Contains(card, fmt.Sprintf("%d active employees", total)) {
		t.Errorf("dashboard summary %q; want %d active employees", card, total)
	}
}

// `tandem dev` logs requests at debug level, so its terminal stays
// readable; a logger at debug (LOG_LEVEL=debug) still shows them.
func TestRequestLogLevel(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		level, logger slog.Level
		logged        bool
	}{
		{slog.LevelInfo, slog.LevelInfo, true},
		{slog.LevelDebug, slog.LevelInfo, false},
		{slog.LevelDebug, slog.LevelDebug, true},
	} {
		var buf syncBuffer
		a := newApp(t, func(c *web.Config) {
			c.RequestLogLevel = tt.level
			c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.logger}))
		})
		a.browser().get("/login")
		if got := strings.Contains(buf.String(), "msg=request"); got != tt.logged {
			t.Errorf("request level %v, logger %v: logged %v; want %v", tt.level, tt.logger, got, tt.logged)
		}
	}
}
