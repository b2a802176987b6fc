package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDisconnectConfirmation: Disconnect on the dashboard leads to a
// page that says what disconnecting does; Cancel changes nothing, and only
// the confirm button disconnects.
func TestBrowserDisconnectConfirmation(t *testing.T) {
	t.Parallel()
	d := newDevStack(t)
	b := newTab(t)
	b.step("sign up and connect Lightspeed",
		chromedp.Navigate(d.tandem.URL+"/signup"),
		chromedp.WaitVisible(css(`#business_name`)),
		chromedp.SendKeys(css(`#business_name`), "Harbour Bikes"),
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(css(`#password`), "a good password"),
		chromedp.Click(css(`form[action="/signup"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
		chromedp.Navigate(d.tandem.URL+"/connect/lightspeed"),
		chromedp.Click(css(`form[data-testid=connect] button`)),
		chromedp.WaitVisible(css(`button[value=authorize]`)),
		chromedp.Click(css(`button[value=authorize]`)),
		chromedp.WaitVisible(css(`[data-testid=connect-page][data-state=connected]`)),
		chromedp.Navigate(d.tandem.URL+"/dashboard"),
		chromedp.Click(css(`form[data-testid=disconnect-lightspeed] button`)),
		chromedp.WaitVisible(css(`[data-testid=disconnect-confirm]`)),
	)
	page := b.text("[data-testid=disconnect-confirm]")
	for _, want := range []string{"Disconnect Lightspeed?", "revokes its access at Lightspeed", "sync history are kept", "picks up where syncing left off"} {
		if !strings.Contains(page, want) {
			t.Errorf("confirmation lacks %q: %q", want, page)
		}
	}
	b.step("cancel",
		chromedp.Click(css(`[data-testid=disconnect-cancel]`)),
		chromedp.WaitVisible(css(`[data-testid=connect-page][data-state=connected]`)),
	)
	b.step("disconnect and confirm",
		chromedp.Navigate(d.tandem.URL+"/dashboard"),
		chromedp.Click(css(`form[data-testid=disconnect-lightspeed] button`)),
		chromedp.WaitVisible(css(`[data-testid=disconnect-confirm]`)),
		chromedp.Click(css(`form[data-testid=disconnect-confirm-lightspeed] button`)),
		chromedp.WaitVisible(css(`[data-testid=connection-card][data-provider=lightspeed][data-state=disconnected]`)),
	)
	if got := b.text(".flash.success"); !strings.HasPrefix(got, "Disconnected from ") {
		t.Errorf("flash = %q", got)
	}
}
