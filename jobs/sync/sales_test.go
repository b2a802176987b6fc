package sync_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants/setup"
)

// models runs a test for both data models.
func models(t *testing.T, f func(t *testing.T, custom bool)) {
	for _, custom := range []bool{false, true} {
		t.Run(modelName(custom), func(t *testing.T) {
			t.Parallel()
			f(t, custom)
		})
	}
}

// assertShopSynced checks that every completed sale of shop i that was not
// voided before it was sent is in Salesforce once, with each of its lines
// and payments once, and its total.
func (w *salesWorld) assertShopSynced(i int) {
	w.t.Helper()
	total := "Lightspeed_Total__c"
	if w.custom {
		total = "Total__c"
	}
	sales := w.sfSales(total)
	lines := w.countBy(w.lineObject(), "Lightspeed_Sale_Line_ID__c")
	pays := w.countBy("Lightspeed_Payment__c", "Lightspeed_Payment_ID__c")
	n := 0
	for _, s := range w.lsSales(i) {
		id := strconv.FormatInt(s.SaleID, 10)
		rec, ok := sales[id]
		switch {
		case !s.Completed:
			if ok {
				w.t.Errorf("open sale %s was sent", id)
			}
			continue
		case s.Voided || s.Archived:
			continue // voided (or deleted) before the first sync: not sent
		case !ok:
			w.t.Errorf("completed sale %s is not in Salesforce", id)
			continue
		}
		n++
		if got := decimal.NewFromFloat(num(rec.Get(total))); !got.Equal(s.CalcTotal.Round(2)) {
			w.t.Errorf("sale %s: total %s, want %s", id, got, s.CalcTotal)
		}
		for _, l := range s.SaleLines {
			if lines[strconv.FormatInt(l.SaleLineID, 10)] != 1 {
				w.t.Errorf("sale %s: line %d is not in Salesforce once", id, l.SaleLineID)
			}
		}
		for _, p := range s.SalePayments {
			if pays[strconv.FormatInt(p.SalePaymentID, 10)] != 1 {
				w.t.Errorf("sale %s: payment %d is not in Salesforce once", id, p.SalePaymentID)
			}
		}
	}
	if n == 0 {
		w.t.Errorf("shop %d has no completed sale to check", i)
	}
}

// The demo seed's history reaches Salesforce shop by shop: every completed
// sale once, open ones and a shop turned off not at all, with the import's
// progress recorded.
func TestSalesBackfill(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 3, sales: 300}, custom: custom, off: []int{2}})
		for i := range 2 {
			w.runShopUntilDone(i)
			w.assertShopSynced(i)
		}
		// The shop turned off sends nothing, even when run.
		w.runShop(2)
		off := strconv.FormatInt(w.shops[2].ShopID, 10)
		for _, s := range w.lsSales(2) {
			if _, ok := w.sfSales("Name")[strconv.FormatInt(s.SaleID, 10)]; ok {
				t.Fatalf("sale %d of shop %s (off) was sent", s.SaleID, off)
			}
		}
		st, err := w.ledger.Stream(w.ctx, w.shopKey(0))
		if err != nil {
			t.Fatal(err)
		}
		if st.ProgressTotal == 0 || st.ProgressDone != st.ProgressTotal {
			t.Errorf("progress %d of %d after the import", st.ProgressDone, st.ProgressTotal)
		}
		// A second run finds nothing new and sends nothing.
		before := w.sfCalls("composite/graph")
		res := w.runShop(0)
		if res.Run.Counts[ledger.ActionCreated]+res.Run.Counts[ledger.ActionUpdated] != 0 || w.sfCalls("composite/graph") != before {
			t.Errorf("an idle run wrote: %v", res.Run.Counts)
		}
	})
}

func TestImportLabel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		done, total int64
		want        string
	}{
		{1234, 5000, "Importing sales for Downtown: 1,234 of 5,000"},
		{0, 12, "Importing sales for Downtown: 0 of 12"},
		{5000, 5000, ""},
		{0, 0, ""},
		{999, 1234567, "Importing sales for Downtown: 999 of 1,234,567"},
	} {
		if got := sync.ImportLabel("Downtown", tc.done, tc.total); got != tc.want {
			t.Errorf("ImportLabel(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}

// saleRecord reads one sale's Salesforce record with its lines and
// payments.
func (w *salesWorld) saleRecord(saleID int64, fields string) (sale map[string]any, lines, pays []map[string]any) {
	w.t.Helper()
	id := strconv.FormatInt(saleID, 10)
	recs := w.query("SELECT Id, " + fields + " FROM " + w.saleObject() + " WHERE Lightspeed_Sale_ID__c = '" + id + "'")
	if len(recs) != 1 {
		w.t.Fatalf("sale %s is in Salesforce %d times", id, len(recs))
	}
	parent := "OpportunityId"
	lineFields := "Quantity, UnitPrice, Lightspeed_Sale_Line_ID__c, Lightspeed_Parent_Sale_Line_ID__c, PricebookEntryId"
	payParent := "Opportunity__c"
	if w.custom {
		parent, payParent = "Sale__c", "Sale__c"
		lineFields = "Quantity__c, Unit_Price__c, Lightspeed_Sale_Line_ID__c, Lightspeed_Parent_Sale_Line_ID__c, Product__c, Employee__c"
	}
	for _, r := range w.query("SELECT Id, " + lineFields + " FROM " + w.lineObject() + " WHERE " + parent + " = '" + recs[0].ID() + "' ORDER BY Lightspeed_Sale_Line_ID__c") {
		lines = append(lines, r.Fields)
	}
	for _, r := range w.query("SELECT Id, Payment_Type__c, Amount__c FROM Lightspeed_Payment__c WHERE " + payParent + " = '" + recs[0].ID() + "' ORDER BY Lightspeed_Payment_ID__c") {
		pays = append(pays, r.Fields)
	}
	return recs[0].Fields, lines, pays
}

// Sales made now: split payments, a gift card, an online order's channel,
// a refund with negative lines, a void and an edit after they were sent, a
// customer not yet in Salesforce, and both employees.
func TestSalesScenarios(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 20}, custom: custom})
		w.runShopUntilDone(0)
		if !custom {
			if err := w.sfSrv.AddCustomField("Opportunity", sfsandboxText("Stylist__c")); err != nil {
				t.Fatal(err)
			}
		}
		cust, _, err := w.ls.Customers.Create(w.ctx, lightspeed.CustomerWrite{FirstName: lightspeed.Ptr("Nadia"), LastName: lightspeed.Ptr("Okafor"),
			Contact: &lightspeed.ContactWrite{Emails: []lightspeed.ContactEmail{{Address: "nadia.okafor@example.net", UseType: "Primary"}}}})
		if err != nil {
			t.Fatal(err)
		}
		split := w.sell(0, 0, "", pay(ptCreditCard, "10.00"), pay(ptCash, "1000.00"))
		gift := w.sell(0, cust.CustomerID, "", pay(ptGiftCard, "5.00"), pay(ptCash, "1000.00"))
		online := w.sell(0, 0, "shopify", pay(ptCash, "1000.00"))
		refund := w.lsDo("POST", "Sale/"+strconv.FormatInt(split.SaleID, 10)+"/refund", map[string]any{"paymentTypeID": "1"})

		saleObj := "Opportunity"
		fields := "Name, StageName, CloseDate, ContactId, Lightspeed_Channel__c, Lightspeed_Employee__c, Lightspeed_Shop__c, Lightspeed_Register__c, Lightspeed_Total__c, Lightspeed_Tax__c, Amount, Stylist__c"
		if custom {
			saleObj = "Lightspeed_Sale__c"
			fields = "Name, Voided__c, Customer__c, Completed_At__c, Lightspeed_Channel__c, Lightspeed_Employee__c, Lightspeed_Shop__c, Total__c"
		}
		// The sales employee goes nowhere by default; mapped, it goes to
		// the merchant's field.
		w.runShopUntilDone(0)
		if !custom {
			sale, _, _ := w.saleRecord(split.SaleID, fields)
			if sale["Stylist__c"] != nil {
				t.Errorf("the sales employee was sent without a mapping: %v", sale["Stylist__c"])
			}
			w.saveMapping(mapping.Rule{Stream: mapping.StreamSales, Source: mapping.SaleSalesEmployee, Object: saleObj,
				Target: "Stylist__c", Direction: mapping.ToSalesforce})
			if _, err := w.engine.ResendSales(w.ctx, w.shopKey(0), []string{strconv.FormatInt(split.SaleID, 10)}, ledger.TriggerResync); err != nil {
				t.Fatal(err)
			}
		}

		// Split payments: two payments by type.
		sale, lines, pays := w.saleRecord(split.SaleID, fields)
		if len(lines) != 2 || len(pays) != 2 {
			t.Fatalf("split sale: %d lines, %d payments", len(lines), len(pays))
		}
		if pays[0]["Payment_Type__c"] != "Credit Card" || num(pays[0]["Amount__c"]) != 10 || pays[1]["Payment_Type__c"] != "Cash" {
			t.Errorf("split payments: %v", pays)
		}
		if sale["Lightspeed_Channel__c"] != "In store" {
			t.Errorf("in-store channel: %v", sale["Lightspeed_Channel__c"])
		}
		wantName := strings.TrimSpace(w.shops[0].Name) + " #" + split.TicketNumber
		if sale["Name"] != wantName {
			t.Errorf("name %v, want %q", sale["Name"], wantName)
		}
		emp := ""
		for id, name := range w.cfg.Employees {
			if id == split.EmployeeID {
				emp = mapping.FullName(name)
			}
		}
		if emp == "" || sale["Lightspeed_Employee__c"] != emp {
			t.Errorf("register employee %v, want %q", sale["Lightspeed_Employee__c"], emp)
		}
		if !custom {
			if sale["StageName"] != "Closed Won" {
				t.Errorf("stage %v", sale["StageName"])
			}
			// Distinct line employees in line order.
			want := emp + ", " + mapping.FullName(w.cfg.Employees[1])
			if sale["Stylist__c"] != want {
				t.Errorf("sales employee %v, want %q", sale["Stylist__c"], want)
			}
			if amt, tot := sale["Amount"], sale["Lightspeed_Total__c"]; amt == nil || tot == nil || num(amt) > num(tot) {
				t.Errorf("amount %v (lines roll up) and total %v", amt, tot)
			}
		}

		// Gift card, and a customer who was not in Salesforce yet.
		sale, _, pays = w.saleRecord(gift.SaleID, fields)
		if pays[0]["Payment_Type__c"] != "Gift Card" || num(pays[0]["Amount__c"]) != 5 {
			t.Errorf("gift card payment: %v", pays)
		}
		contacts := w.query("SELECT Id FROM Contact WHERE Lightspeed_Customer_ID__c = '" + strconv.FormatInt(cust.CustomerID, 10) + "'")
		custField := "ContactId"
		if custom {
			custField = "Customer__c"
		}
		if len(contacts) != 1 || sale[custField] != contacts[0].ID() {
			t.Errorf("the sale's customer: %v, contacts %v", sale[custField], contacts)
		}
		w.runUntilDone(ledger.CustomersToSalesforce)
		if n := len(w.query("SELECT Id FROM Contact WHERE Lightspeed_Customer_ID__c = '" + strconv.FormatInt(cust.CustomerID, 10) + "'")); n != 1 {
			t.Errorf("the customer is in Salesforce %d times after the customer stream ran", n)
		}

		// An online order's channel.
		sale, _, _ = w.saleRecord(online.SaleID, fields)
		if sale["Lightspeed_Channel__c"] != "Shopify" {
			t.Errorf("online channel: %v", sale["Lightspeed_Channel__c"])
		}

		// A refund: negative lines pointing at the originals.
		_, lines, pays = w.saleRecord(refund.SaleID, fields)
		_, orig, _ := w.saleRecord(split.SaleID, fields)
		if len(lines) != 2 {
			t.Fatalf("refund lines: %v", lines)
		}
		qty := "Quantity"
		if custom {
			qty = "Quantity__c"
		}
		for i, l := range lines {
			if num(l[qty]) >= 0 || l["Lightspeed_Parent_Sale_Line_ID__c"] != orig[i]["Lightspeed_Sale_Line_ID__c"] {
				t.Errorf("refund line %v does not give back %v", l, orig[i])
			}
		}
		if len(pays) != 1 || num(pays[0]["Amount__c"]) >= 0 {
			t.Errorf("refund payment: %v", pays)
		}

		// Voided and edited after they were sent.
		w.lsDo("PUT", "Sale/"+strconv.FormatInt(gift.SaleID, 10), map[string]any{"voided": "true"})
		w.lsDo("PUT", "Sale/"+strconv.FormatInt(online.SaleID, 10), map[string]any{"referenceNumberSource": "woocommerce"})
		res := w.runShopUntilDone(0)
		sale, lines, _ = w.saleRecord(gift.SaleID, fields)
		if custom && sale["Voided__c"] != true || !custom && sale["StageName"] != "Closed Lost" {
			t.Errorf("voided sale: %v", sale)
		}
		if len(lines) != 2 {
			t.Errorf("the voided sale lost its lines: %v", lines)
		}
		sale, _, _ = w.saleRecord(online.SaleID, fields)
		if sale["Lightspeed_Channel__c"] != "WooCommerce" {
			t.Errorf("edited channel: %v", sale["Lightspeed_Channel__c"])
		}
		updated := 0
		for _, r := range res {
			updated += r.Run.Counts[ledger.ActionUpdated]
		}
		if updated != 2 {
			t.Errorf("%d sales updated, want 2 (the void and the edit)", updated)
		}
	})
}

// With person accounts, a sale's opportunity belongs to the customer's
// person account.
func TestSalesPersonAccounts(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 30, personAcct: true}})
	cust, _, err := w.ls.Customers.Create(w.ctx, lightspeed.CustomerWrite{FirstName: lightspeed.Ptr("Ines"), LastName: lightspeed.Ptr("Moreau")})
	if err != nil {
		t.Fatal(err)
	}
	sale := w.sell(0, cust.CustomerID, "", pay(ptCash, "1000.00"))
	w.runShopUntilDone(0)
	w.assertShopSynced(0)
	accts := w.query("SELECT Id FROM Account WHERE Lightspeed_Customer_ID__pc = '" + strconv.FormatInt(cust.CustomerID, 10) + "'")
	rec, _, _ := w.saleRecord(sale.SaleID, "AccountId, ContactId")
	if len(accts) != 1 || rec["AccountId"] != accts[0].ID() {
		t.Errorf("opportunity account %v, person accounts %v", rec["AccountId"], accts)
	}
}

// Two locations' streams creating the same products and standard prices
// at once, in two worker processes (in one, the tenant's lock keeps them
// apart): the one that loses the race reads the winner's record back
// instead of failing its sales.
func TestShopsRaceOnSharedProducts(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 2, sales: 120}})
	engines := []*sync.Engine{w.engine, sync.New(w.ledger, mapping.NewStore(w.pool), w.world,
		sync.ConfigFunc(func(context.Context, string) (sync.TenantConfig, error) { return w.cfg, nil }), nil,
		sync.Options{Describes: setup.NewStore(w.pool)})}
	// Hold each stream's first standard-price create until the other's
	// arrives, so both found no price before either writes one.
	var mu stdsync.Mutex
	arrived := map[string]bool{}
	both := make(chan struct{})
	w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		var body []byte
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/composite/sobjects") {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if bytes.Contains(body, []byte(`"PricebookEntry"`)) {
			mu.Lock()
			arrived[r.Header.Get("Authorization")] = true
			if len(arrived) == 2 {
				select {
				case <-both:
				default:
					close(both)
				}
			}
			mu.Unlock()
			select {
			case <-both:
			case <-time.After(5 * time.Second): // one stream had no products to write
			}
		}
		next.ServeHTTP(rw, r)
	}
	var wg stdsync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			for range 50 {
				res, err := engines[i].Run(w.ctx, w.shopKey(i), ledger.TriggerSchedule)
				if err != nil || !res.More {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("shop %d: %v", i, err)
		}
	}
	w.sfFront = nil
	for i := range 2 {
		w.assertShopSynced(i)
	}
}

// Products a run creates have no standard price to look for: the first
// sync creates their price book entries without querying for them. A
// product Salesforce already had is looked up, and its entry reused.
func TestSalesNewProductsSkipPriceLookup(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 40}})
	lookups := w.countQueries("FROM PricebookEntry")
	w.runShopUntilDone(0)
	if n := lookups(); n != 0 {
		t.Errorf("%d standard price lookups for products the run created", n)
	}
	w.assertShopSynced(0)
	if n := len(w.query("SELECT Id FROM PricebookEntry")); n == 0 {
		t.Fatal("no standard prices were created")
	}
}

// TestHistoryWindowIsFixedByTheFirstRun checks that a location's window
// ("only sales made from now on" here) starts where its first run found
// it, though the configuration's window moves with the clock: a sale made
// after that first run is sent, one completed before it is not.
func TestHistoryWindowIsFixedByTheFirstRun(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{customers: 10, sales: 20, shops: 1}})
	fromNowOn := func() { w.cfg.SalesSince = time.Now().Add(time.Second) } // as SetupConfig has it each run
	fromNowOn()
	w.runShopUntilDone(0)
	if n := len(w.sfSales("Name")); n != 0 {
		t.Fatalf("%d sales of the history sent with no history chosen", n)
	}
	tick()
	sale := w.sell(0, 0, "", pay(ptCash, "1000.00"))
	tick()
	fromNowOn()
	w.runShopUntilDone(0)
	got := w.sfSales("Name")
	if _, ok := got[strconv.FormatInt(sale.SaleID, 10)]; !ok || len(got) != 1 {
		t.Errorf("Salesforce has sales %v, want only the one made after the first run (%d)", slices.Collect(maps.Keys(got)), sale.SaleID)
	}
}
