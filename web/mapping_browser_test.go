package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// TestBrowserFieldMapping maps, in a real browser, Loyalty tier to a
// Contact field and Sales employee to Opportunity.Stylist__c, is refused
// Student → Birthdate with the reason next to the row, saves, previews a
// real Lightspeed customer with the mapping on screen, resyncs, and finds
// the loyalty tiers on the Salesforce sandbox's contacts.
//
// The sales then synced carry their sales employees in Stylist__c.
func TestBrowserFieldMapping(t *testing.T) {
	t.Parallel()
	d := newDevStack(t)
	// The merchant's own Contact field; the fields Tandem needs are created
	// by the setup check's "Create them for me" below.
	if err := d.sf.AddCustomField("Contact", sfsandbox.FieldSpec{Name: "Loyalty_Tier__c", Label: "Loyalty Tier", Type: "Text", Length: 40}); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t, 180*time.Second)
	b := &chrome{t: t, ctx: ctx, d: d}

	b.step("sign up",
		chromedp.Navigate(d.tandem.URL+"/signup"),
		chromedp.WaitVisible(chromedp.CSS(`#business_name`)),
		chromedp.SendKeys(chromedp.CSS(`#business_name`), "Harbour Bikes"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "a good password"),
		chromedp.Click(chromedp.CSS(`form[action="/signup"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=tenant-name]`)),
	)
	b.step("connect Lightspeed",
		chromedp.Navigate(d.tandem.URL+"/connect/lightspeed"),
		chromedp.Click(chromedp.CSS(`[data-testid=connect-page] form[data-testid=connect] button`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value=authorize]`)),
		chromedp.Click(chromedp.CSS(`button[value=authorize]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=connect-page][data-provider=lightspeed][data-state=connected]`)),
	)
	b.step("connect Salesforce",
		chromedp.Navigate(d.tandem.URL+"/connect/salesforce"),
		chromedp.WaitVisible(chromedp.CSS(`form[data-testid=salesforce-environment]`)),
		chromedp.Click(chromedp.CSS(`input[name=environment][value=production]`)),
		chromedp.Click(chromedp.CSS(`form[data-testid=salesforce-environment] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button.allow`)),
		chromedp.Click(chromedp.CSS(`button.allow`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=connect-page][data-provider=salesforce][data-state=connected]`)),
	)
	b.step("create the fields Tandem needs",
		chromedp.Navigate(d.tandem.URL+"/setup/salesforce-fields"),
		chromedp.Click(chromedp.CSS(`[data-testid=create-fields]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=check-complete]`)),
	)
	// The rest of setup (the Classic model, customers to Contacts, every
	// store, all sales history) is what the wizard test walks; here it is
	// stored directly.
	var tenantID string
	if err := d.pool.QueryRow(context.Background(), `SELECT id FROM tenants WHERE name = 'Harbour Bikes'`).Scan(&tenantID); err != nil {
		t.Fatal(err)
	}
	store := setup.NewStore(d.pool)
	locs, err := store.Locations(context.Background(), tenantID)
	if err != nil || len(locs) == 0 {
		t.Fatalf("locations: %v, %v", locs, err)
	}
	var shops []string
	for _, l := range locs {
		shops = append(shops, l.ShopID)
	}
	// One store: the sales streams of several stores creating the same
	// products at once race on their price book entries, which is the
	// sales stream's business, not this test's.
	shop := shops[0]
	if _, err := store.SaveLocations(context.Background(), tenantID, tenants.Actor{}, shops, []string{shop}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(context.Background(), tenantID, tenants.Actor{}, func(s *setup.Settings) error {
		s.DataModel, s.CustomerTarget, s.History = setup.ModelClassic, setup.TargetContact, setup.HistoryAll
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := jobs.EnsureStreams(context.Background(), d.pool, tenantID); err != nil {
		t.Fatal(err)
	}
	b.step("sync customers", chromedp.Navigate(d.tandem.URL+"/dashboard"), chromedp.Click(chromedp.CSS(`[data-testid=sync-now]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.success`)))
	sf := d.salesforceClient(t)
	ls := d.lightspeedClient(t)
	want := expectedStylists(t, d, ls, tenantID, shop)
	b.waitFor("customers and sales in Salesforce", func() bool {
		if len(contactsByLightspeedID(t, sf)) >= 10 && len(opportunityStylists(t, sf)) >= len(want) {
			return true
		}
		var failed []string
		rows, _ := d.pool.Query(context.Background(), `SELECT kind || ' ' || action || ' ' || coalesce(code, '') || ' ' || message || ' ' || coalesce(detail::text, '') FROM sync_events WHERE action = 'failed' `)
		for rows.Next() {
			var r string
			_ = rows.Scan(&r)
			failed = append(failed, r)
		}
		rows.Close()
		t.Logf("%d opportunities of %d; failed events %q", len(opportunityStylists(t, sf)), len(want), failed)
		return false
	})

	b.step("open the mapping from the dashboard",
		chromedp.Navigate(d.tandem.URL+"/dashboard"),
		chromedp.Click(chromedp.CSS(`[data-testid=mapping-link]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=mapping-form]`)),
	)
	row := func(label string) string { return fmt.Sprintf(`select[aria-label="Salesforce field for %s"]`, label) }
	b.step("map Loyalty tier, Sales employee, and Student to Birthdate",
		chromedp.SetValue(chromedp.CSS(row("Loyalty tier")), "Loyalty_Tier__c"),
		chromedp.SetValue(chromedp.CSS(row("Sales employee")), "Stylist__c"),
		chromedp.SetValue(chromedp.CSS(row("Birth date")), ""),
		chromedp.SetValue(chromedp.CSS(row("Student")), "Birthdate"),
		chromedp.Click(chromedp.CSS(`button[data-testid=save]`)),
		// The Student row's error itself, which only the answer to the
		// save has, not any form error: a loaded CI run once found a form
		// error but no row error. A step that times out prints the page.
		chromedp.WaitVisible(chromedp.CSS(`[data-row-error=f-customers-custom-2]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=form-error]`)),
	)
	if e := b.text(`[data-row-error=f-customers-custom-2]`); !strings.Contains(e, "Student is a checkbox (true or false); Birthdate (Birthdate) is a date field, which cannot hold it.") {
		// Seen once under a loaded CI run and not since: the page as
		// the browser had it says which part went wrong.
		t.Fatalf("Student → Birthdate: row error %q; form error %q; every row error:\n%s\npage:\n%s", e, b.text(`[data-testid=form-error]`), b.rowErrors(), tail(b.text("body"), 3000))
	}
	if n := d.count("field_mappings", "tenant_id = $1", tenantID); n != 0 {
		t.Fatalf("the refused save stored %d rules", n)
	}
	b.step("put Birthdate back and save",
		chromedp.SetValue(chromedp.CSS(row("Student")), ""),
		chromedp.SetValue(chromedp.CSS(row("Birth date")), "Birthdate"),
		chromedp.Click(chromedp.CSS(`button[data-testid=save]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.success, [data-testid=form-error]`)),
	)
	if got := b.text(`.flash.success`); !strings.Contains(got, "Mapping saved as version 1.") {
		t.Fatalf("after save: %q %q\n%s", got, b.text(`[data-testid=form-error]`), b.rowErrors())
	}
	if n := d.count("field_mappings", "tenant_id = $1 AND version = 1 AND stream = 'sales' AND source_field = 'sales_employee' AND target_object = 'Opportunity' AND target_field = 'Stylist__c'", tenantID); n != 1 {
		t.Fatal("the sales employee → Opportunity.Stylist__c rule was not saved")
	}

	// Preview a real customer who has a loyalty tier, found by email.
	var tierID int64
	for f, err := range ls.CustomFields.ListIter(ctx, lightspeed.NewQuery()) {
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "Loyalty tier" {
			tierID = f.CustomFieldID
		}
	}
	tiers := map[string]string{}
	var who lightspeed.Customer
	for c, err := range ls.Customers.ListIter(ctx, lightspeed.NewQuery().LoadRelations("Contact", "CustomFieldValues").Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range c.CustomFieldValues {
			if c.Archived || v.Value == "" || v.CustomFieldID != tierID {
				continue
			}
			tiers[strconv.FormatInt(c.CustomerID, 10)] = v.Value
			if who.CustomerID == 0 && c.Contact != nil && c.Contact.Email("Primary") != "" {
				who = c
			}
		}
	}
	if who.CustomerID == 0 {
		t.Fatal("no Lightspeed customer with a loyalty tier and an email")
	}
	whoID := strconv.FormatInt(who.CustomerID, 10)
	b.step("preview",
		chromedp.SendKeys(chromedp.CSS(`#preview-q`), who.Contact.Email("Primary")),
		chromedp.Click(chromedp.CSS(`button[data-testid=preview-button]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=preview-table]`)),
	)
	if got := b.text(`[data-testid=preview-table] tr[data-field=Loyalty_Tier__c] td[data-value]`); got != tiers[whoID] {
		t.Fatalf("preview writes Loyalty_Tier__c = %q, want %q: %s", got, tiers[whoID], b.text(`[data-testid=preview-result]`))
	}
	if got := b.text(`[data-testid=preview-table] tr[data-field=Lightspeed_Customer_ID__c] td[data-value]`); got != whoID {
		t.Errorf("preview's Lightspeed Customer ID = %q, want %s", got, whoID)
	}
	if before := contactsByLightspeedID(t, sf)[whoID]; before != "" {
		t.Fatalf("the loyalty tier reached Salesforce before the resync: %q", before)
	}

	b.step("resync", chromedp.Click(chromedp.CSS(`button[data-testid=resync]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=resync-status]`)))
	b.waitFor("the resync to finish", func() bool {
		b.step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=resync-status]`)))
		return b.text(`[data-testid=resync-status]`) == "done"
	})
	if p := b.text(`[data-testid=resync-progress]`); !strings.HasSuffix(p, "linked customers and sales re-sent.") || strings.HasPrefix(p, "0 of") {
		t.Errorf("resync progress = %q", p)
	}
	got := contactsByLightspeedID(t, sf)
	matched := 0
	for id, tier := range tiers {
		if v, ok := got[id]; ok {
			matched++
			if v != tier {
				t.Errorf("contact of Lightspeed customer %s: Loyalty_Tier__c = %q, want %q", id, v, tier)
			}
		}
	}
	if matched == 0 || got[whoID] != tiers[whoID] {
		t.Fatalf("no loyalty tier reached Salesforce (%d matched)", matched)
	}

	// The sales synced before the mapping was saved got their sales
	// employees in Opportunity.Stylist__c with the resync: the employees of
	// each sale's lines.
	stylists := opportunityStylists(t, sf)
	if len(want) == 0 || len(stylists) < len(want) {
		t.Fatalf("%d sales in Salesforce, want %d", len(stylists), len(want))
	}
	withEmployee := 0
	for id, w := range want {
		if stylists[id] != w {
			t.Errorf("opportunity of Lightspeed sale %s: Stylist__c = %q, want %q", id, stylists[id], w)
		}
		if w != "" {
			withEmployee++
		}
	}
	if withEmployee == 0 {
		t.Fatal("no synced sale has a sales employee")
	}

	// A sale's preview, found by its ticket number, shows the sales
	// employees going to Stylist__c.
	var saleID, ticket string
	for id, w := range want {
		if w != "" {
			n, _ := strconv.ParseInt(id, 10, 64)
			sale, _, err := ls.Sales.Get(ctx, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			saleID, ticket = id, sale.TicketNumber
			break
		}
	}
	b.step("preview a sale",
		chromedp.Navigate(d.tandem.URL+"/mapping"),
		chromedp.SendKeys(chromedp.CSS(`#preview-q`), ticket),
		chromedp.Click(chromedp.CSS(`button[data-testid=preview-button]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=preview-table]`)),
	)
	if got := b.text(`[data-testid=preview-table] tr[data-field=Stylist__c] td[data-value]`); got != want[saleID] {
		t.Errorf("sale %s (ticket %s) preview writes Stylist__c = %q, want %q: %s", saleID, ticket, got, want[saleID], b.text(`[data-testid=preview-result]`))
	}
}

// expectedStylists is what Tandem should write to Stylist__c for each
// completed, unvoided Lightspeed sale of shop: its sales employees.
func expectedStylists(t *testing.T, d *devStack, ls *lightspeed.Client, tenantID, shop string) map[string]string {
	t.Helper()
	disc, err := setup.NewStore(d.pool).Discovery(context.Background(), tenantID, vault.Lightspeed)
	if err != nil {
		t.Fatal(err)
	}
	names := mapping.SaleNames{Shops: map[int64]string{}, Registers: map[int64]string{}, Employees: map[int64]string{}}
	for _, e := range disc.Lightspeed.Employees {
		names.Employees[e.ID] = e.Name
	}
	out := map[string]string{}
	q := lightspeed.NewQuery().LoadRelations("SaleLines", "SaleLines.Item", "SalePayments", "SalePayments.PaymentType", "Customer").Limit(100)
	for s, err := range ls.Sales.ListIter(context.Background(), q) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Completed && !s.Voided && !s.Archived && strconv.FormatInt(s.ShopID, 10) == shop {
			out[strconv.FormatInt(s.SaleID, 10)] = mapping.FromLightspeedSale(&s, names).Values[mapping.SaleSalesEmployee]
		}
	}
	return out
}

// opportunityStylists maps each synced sale's Lightspeed id to its
// opportunity's Stylist__c.
func opportunityStylists(t *testing.T, sf *salesforce.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for rec, err := range sf.Query(context.Background(), "SELECT Id, Lightspeed_Sale_ID__c, Stylist__c FROM Opportunity WHERE Lightspeed_Sale_ID__c != null", nil) {
		if err != nil {
			t.Fatal(err)
		}
		out[rec.String("Lightspeed_Sale_ID__c")] = rec.String("Stylist__c")
	}
	return out
}

// chrome drives the test's browser.
type chrome struct {
	t   *testing.T
	ctx context.Context
	d   *devStack
}

func (c *chrome) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	err := chromedp.Do(c.ctx, actions...)
	if err != nil && devToolsLostNode(err) {
		// Chrome's DevTools now and then loses the node or page it just
		// found while a page is replaced (seen under a loaded CI run):
		// that is the driver, not the page, so the step is tried once more.
		c.t.Logf("%s: %v; trying again", name, err)
		err = chromedp.Do(c.ctx, actions...)
	}
	if err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		body, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		c.t.Fatalf("%s: %v\nat %s:\n%s\nserver log:\n%s", name, err, loc, tail(body, 3000), tail(c.d.logs.String(), 3000))
	}
}

// devToolsLostNode reports the DevTools errors of a node or page gone
// between finding it and acting on it.
func devToolsLostNode(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "No node with given id found") || strings.Contains(msg, "Not attached to an active page")
}

// text reads an element's text without waiting for it: "" when absent.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](fmt.Sprintf("(document.querySelector(%q) || {}).textContent || ''", sel)))
	if err != nil {
		c.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(v), " ")
}

// rowErrors lists the mapping rows' errors on the page, one per line.
func (c *chrome) rowErrors() string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-row-error]')).map(e => e.dataset.rowError + ': ' + e.textContent.trim()).join('\n')`))
	if err != nil {
		return "(not read: " + err.Error() + ")"
	}
	return v
}

// waitFor polls done for up to a minute.
func (c *chrome) waitFor(what string, done func() bool) {
	c.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !done(); {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s\nserver log:\n%s", what, tail(c.d.logs.String(), 3000))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (d *devStack) count(table, where string, args ...any) int {
	var n int
	if err := d.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
		panic(err)
	}
	return n
}

func (d *devStack) salesforceClient(t *testing.T) *salesforce.Client {
	t.Helper()
	tr := d.sf.MintToken(d.sfURL)
	c, err := salesforce.NewClient(http.DefaultClient, salesforce.Token{AccessToken: tr.AccessToken, InstanceURL: tr.InstanceURL, ID: tr.ID})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (d *devStack) lightspeedClient(t *testing.T) *lightspeed.Client {
	t.Helper()
	tp := d.ls.MintToken()
	c, err := lightspeed.NewClient(http.DefaultClient, lightspeed.Options{BaseURL: d.lsURL, AccountID: int64(tp.AccountID),
		ClientID: "tandem-dev", Tokens: lightspeed.StaticToken{AccessToken: tp.AccessToken, TokenType: "Bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// contactsByLightspeedID maps the Lightspeed Customer ID of each linked
// Contact to its Loyalty_Tier__c.
func contactsByLightspeedID(t *testing.T, sf *salesforce.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for rec, err := range sf.Query(context.Background(), "SELECT Id, Lightspeed_Customer_ID__c, Loyalty_Tier__c FROM Contact WHERE Lightspeed_Customer_ID__c != null", nil) {
		if err != nil {
			t.Fatal(err)
		}
		out[rec.String("Lightspeed_Customer_ID__c")] = rec.String("Loyalty_Tier__c")
	}
	return out
}
