package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserStaffFindsTenantAndFailure: support staff log in, search the
// console for the merchant, see its failure count, open its failed records
// and read Salesforce's reason, then retry on the merchant's behalf saying
// why, and find that in the tenant's activity log.
func TestBrowserStaffFindsTenantAndFailure(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	h := seedHistory(t, a, "Harbour Bikes", "owner@harbour.example", "Jo Bloggs")
	seedHistory(t, a, "Other Shop", "owner@other.example", "Someone Else")
	if _, err := a.store.AddStaff(t.Context(), "support@tandem.example", "staff password"); err != nil {
		t.Fatal(err)
	}
	b := newTab(t)
	b.step("log in as staff",
		chromedp.Navigate(a.srv.URL+"/login"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "support@tandem.example"),
		chromedp.SendKeys(css(`#password`), "staff password"),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=staff-search]`)),
	)
	b.step("search",
		chromedp.SendKeys(css(`#staff-q`), "harbour"),
		chromedp.Click(css(`[data-testid=staff-search] button`)),
		chromedp.WaitVisible(css(`[data-testid=staff-search-result]`)),
	)
	if got := b.text(`[data-testid=tenants] tbody`); !strings.Contains(got, "Harbour Bikes") || strings.Contains(got, "Other Shop") {
		t.Errorf("search result rows = %q", got)
	}
	if got := b.text(`[data-testid=tenant-row] [data-testid=failures-24h]`); got != "1" {
		t.Errorf("failures in 24 h = %q, want 1", got)
	}
	b.step("open the tenant and its failed records",
		chromedp.Click(css(`[data-testid=tenant-row] td a`)),
		chromedp.WaitVisible(css(`[data-testid=staff-failures-link]`)),
		chromedp.Click(css(`[data-testid=staff-failures-link]`)),
		chromedp.WaitVisible(css(`main table`)),
	)
	if got := b.text(`main table`); !strings.Contains(got, "Jo Bloggs") || !strings.Contains(got, "INVALID_EMAIL_ADDRESS") {
		t.Errorf("failed records = %q; want Jo Bloggs refused with INVALID_EMAIL_ADDRESS", got)
	}
	b.step("retry on the merchant's behalf",
		chromedp.Navigate(a.srv.URL+"/staff/tenants/"+h.tenant.ID),
		chromedp.WaitVisible(css(`[data-testid=staff-retry-all]`)),
		chromedp.SendKeys(css(`[data-testid=staff-retry-all] input[name=why]`), "Ticket 4711: merchant fixed the email"),
		chromedp.Click(css(`[data-testid=staff-retry-all] button[type=submit]`)),
		chromedp.WaitVisible(css(`.flash.success`)),
	)
	if got := b.text(`[data-testid=audit]`); !strings.Contains(got, "Ticket 4711: merchant fixed the email") || !strings.Contains(got, "support@tandem.example") {
		t.Errorf("activity log = %q; want the retry with who and why", got)
	}
	if n := a.count("river_job", "kind = 'sync_retry' AND args->>'tenant_id' = $1", h.tenant.ID); n != 1 {
		t.Errorf("retry jobs = %d, want 1", n)
	}
}
