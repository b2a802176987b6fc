package web_test

import (
	"strings"
	"testing"
	"time"
)

// usageDay is a day the usage charts show, days before today (UTC, the
// server's clock).
func usageDay(daysAgo int) string {
	return time.Now().UTC().AddDate(0, 0, -daysAgo).Format(time.DateOnly)
}

// seedUsage gives a tenant runs and API usage today and the day before,
// with numbers unique to it.
func (a *app) seedUsage(tenantID string, synced, failed, lsCalls, sfCalls int, sfUsed, sfMax, lsLevel float64) {
	a.t.Helper()
	ctx := a.t.Context()
	if _, err := a.pool.Exec(ctx, `
		INSERT INTO sync_runs (tenant_id, stream, trigger, status, counts, started_at, finished_at)
		VALUES ($1, 'customers:ls→sf', 'schedule', 'partial', jsonb_build_object('created', $2::int, 'failed', $3::int),
		        now(), now())`, tenantID, synced, failed); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.pool.Exec(ctx, `
		INSERT INTO api_usage (tenant_id, provider, day, calls, used, capacity, measured_at) VALUES
			($1, 'lightspeed', $7, $2, $4, 60, now() - interval '1 minute'),
			($1, 'salesforce', $7, $3, $5, $6, now() - interval '2 minutes'),
			($1, 'salesforce', $8, 7, NULL, NULL, NULL)`,
		tenantID, lsCalls, sfCalls, lsLevel, sfUsed, sfMax, usageDay(0), usageDay(1)); err != nil {
		a.t.Fatal(err)
	}
}

func TestUsageShowsOnlyTheMerchantsOwnTenant(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mine, _ := a.signUp("Mine", "me@mine.example")
	theirs, _ := a.signUp("Theirs", "them@theirs.example")
	a.seedUsage(mine.ID, 41, 3, 123, 456, 9120, 15000, 12)
	a.seedUsage(theirs.ID, 9999, 777, 8888, 6666, 14900, 15000, 55)

	b := a.browser()
	b.logIn("me@mine.example", "a good password")
	p := b.get("/usage")
	if p.status() != 200 {
		t.Fatalf("GET /usage = %d", p.status())
	}
	bar := func(chart, series, day string) string {
		return p.doc.Find("[data-testid="+chart+"] rect[data-series="+series+"][data-day='"+day+"']").AttrOr("data-value", "missing")
	}
	for _, tt := range []struct{ got, want, what string }{
		{bar("records-chart", "synced", usageDay(0)), "41", "records synced today"},
		{bar("records-chart", "failed", usageDay(0)), "3", "records failed today"},
		{bar("records-chart", "synced", usageDay(1)), "0", "records synced yesterday"},
		{bar("calls-chart", "lightspeed", usageDay(0)), "123", "Lightspeed calls today"},
		{bar("calls-chart", "salesforce", usageDay(0)), "456", "Salesforce calls today"},
		{bar("calls-chart", "salesforce", usageDay(1)), "7", "Salesforce calls yesterday"},
		{bar("calls-chart", "salesforce", usageDay(29)), "0", "the first of 30 days"},
		{bar("calls-chart", "salesforce", usageDay(30)), "missing", "31 days ago"},
		{p.text("[data-testid=sf-used]"), "9,120", "Salesforce used"},
		{p.text("[data-testid=sf-allocation]"), "15,000", "Salesforce allocation"},
		{p.text("[data-testid=sf-reserve-at]"), "13,500", "where the reserve pauses"},
		{p.text("[data-testid=ls-level]"), "12", "Lightspeed bucket level"},
		{p.text("[data-testid=ls-size]"), "60", "Lightspeed bucket size"},
		{p.text("[data-testid=sf-calls-today]"), "456", "Tandem's Salesforce calls today"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.what, tt.got, tt.want)
		}
	}
	if p.has("[data-testid=sf-paused]") {
		t.Error("the reserve shows as reached at 9,120 of 15,000")
	}
	body, _ := p.doc.Html()
	for _, leak := range []string{"9999", "9,999", "8888", "8,888", "6666", "6,666", "14,900", "777"} {
		if strings.Contains(body, leak) {
			t.Errorf("the page shows %s, the other tenant's figure", leak)
		}
	}

	// The other merchant sees theirs, with the reserve reached.
	o := a.browser()
	o.logIn("them@theirs.example", "a good password")
	q := o.get("/usage")
	if got := q.doc.Find("[data-testid=records-chart] rect[data-series=synced][data-day='"+usageDay(0)+"']").AttrOr("data-value", ""); got != "9999" {
		t.Errorf("their records today = %q, want 9999", got)
	}
	if !q.has("[data-testid=sf-paused]") {
		t.Error("14,900 of 15,000 used: the page does not say the reserve is reached")
	}
}

// Logged out, /usage leads to the login page.
func TestUsageNeedsLogin(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	p := a.browser().get("/usage")
	if !strings.HasPrefix(p.path(), "/login") {
		t.Errorf("GET /usage logged out ended at %s", p.path())
	}
}

// The dashboard's alert banner shows the merchant's own failing stream and
// never another tenant's.
func TestDashboardAlertBannerIsTenantScoped(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mine, _ := a.signUp("Mine", "me@mine.example")
	theirs, _ := a.signUp("Theirs", "them@theirs.example")
	if _, err := a.pool.Exec(t.Context(), `
		INSERT INTO sync_streams (tenant_id, stream, failed_runs) VALUES ($1, 'customers:sf→ls', 3);
		`, theirs.ID); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	p := b.logIn("me@mine.example", "a good password")
	if p.has("[data-testid=alert-banner]") {
		t.Errorf("my dashboard shows another tenant's alert: %q", p.text("[data-testid=alert-banner]"))
	}
	_ = mine
	o := a.browser()
	q := o.logIn("them@theirs.example", "a good password")
	if got := q.text("[data-testid=alert-banner][data-kind=failing]"); !strings.Contains(got, "failed its last 3 runs") {
		t.Errorf("their banner = %q; want the failing stream", got)
	}
}
