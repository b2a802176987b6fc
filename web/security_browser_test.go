package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/tenants/setup"
)

// TestBrowserTwoTabsTwoBusinesses: one browser, two tabs. The first shows a
// setup form for one business; the second switches to the other; the first
// tab's form is then refused with a page that says why, and changes
// nothing.
func TestBrowserTwoTabsTwoBusinesses(t *testing.T) {
	t.Parallel()
	first := newTab(t)
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

	first.step("log in and open Beta's model page",
		chromedp.Navigate(sa.srv.URL+"/login"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(css(`#password`), "a good password"),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
		chromedp.Navigate(sa.srv.URL+"/setup/model"),
		chromedp.WaitVisible(css(`[data-testid=model-form]`)),
	)
	secondCtx, cancel := chromedp.NewContext(first.ctx) // a new tab, same cookies
	defer cancel()
	second := &tab{t: t, ctx: secondCtx}
	second.step("switch to Harbour Bikes in the other tab",
		chromedp.Navigate(sa.srv.URL+"/dashboard"),
		chromedp.WaitVisible(css(`[data-testid=switcher]`)),
		chromedp.SetValue(css(`#tenant_id`), harbour.ID),
		chromedp.Click(css(`[data-testid=switcher] button[type=submit]`)),
		chromedp.WaitVisible(css(`.flash.info`)),
	)
	if got := second.text(`[data-testid=tenant-name]`); got != "Harbour Bikes" {
		t.Fatalf("second tab works on %q", got)
	}
	first.step("send Beta's form",
		chromedp.Click(css(`input[name=model][value=classic]`)),
		chromedp.Click(css(`input[name=customer][value=contact]`)),
		chromedp.Click(css(`[data-testid=model-form] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=error]`)),
	)
	if got := first.text(`[data-testid=error] h1`); got != "This form was for another business" {
		t.Errorf("heading %q", got)
	}
	for _, tn := range []string{harbour.ID, beta.ID} {
		st, err := setup.NewStore(sa.pool).Settings(context.Background(), tn)
		if err != nil {
			t.Fatal(err)
		}
		if st.DataModel != "" {
			t.Errorf("tenant %s got data model %q from a refused form", tn, st.DataModel)
		}
	}
}

// TestBrowserStaffLogIn: /staff signed out leads to the log-in page, and
// staff land on the console after logging in.
func TestBrowserStaffLogIn(t *testing.T) {
	t.Parallel()
	b := newTab(t)
	a := newApp(t)
	a.signUp("Harbour Bikes", "owner@harbour.example")
	if _, err := a.store.AddStaff(t.Context(), "support@tandem.example", "staff password"); err != nil {
		t.Fatal(err)
	}
	b.step("open /staff signed out and log in",
		chromedp.Navigate(a.srv.URL+"/staff"),
		chromedp.WaitVisible(css(`form[action="/login"]`)),
		chromedp.SendKeys(css(`#email`), "support@tandem.example"),
		chromedp.SendKeys(css(`#password`), "staff password"),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenants]`)),
	)
	path, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil || path != "/staff" {
		t.Errorf("after log-in at %q (%v); want /staff", path, err)
	}
	if got := b.text(`[data-testid=tenants] tbody`); got == "" {
		t.Error("the console lists no tenants")
	}
}
