package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

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
	p.doc.Find("[data-testid=connect-shops] tbody tr").Each(func(_ int, s *goquery.Selection) {
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
	head := p.text("[data-testid=connect-heading]")
	if !strings.HasPrefix(head, "Connected to ") || !strings.Contains(head, " as ") {
		t.Errorf("heading = %q", head)
	}
	facts := map[string]string{}
	p.doc.Find("[data-testid=connect-facts] dt").Each(func(_ int, s *goquery.Selection) {
		facts[s.Text()] = strings.TrimSpace(s.Next().Text())
	})
	if !strings.HasPrefix(facts["Person accounts"], "on") {
		t.Errorf("person accounts = %q; the sandbox has them on", facts["Person accounts"])
	}
	if !strings.Contains(facts["API usage today"], "of 15000 API calls used") {
		t.Errorf("API usage = %q", facts["API usage today"])
	}
	for _, o := range onboard.WritableObjects() {
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
