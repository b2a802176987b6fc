package sync_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

// A run killed right after Salesforce saved a call's sales, before Tandem
// committed them, resumes from the last cursor and duplicates nothing:
// sales, lines and payments are each in Salesforce once.
func TestSalesKilledMidBatchResumes(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 400}, custom: custom})
		ctx, kill := context.WithCancel(w.ctx)
		var once stdsync.Once
		var mu stdsync.Mutex
		graphs := 0
		w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
			next.ServeHTTP(rw, r)
			if strings.HasSuffix(r.URL.Path, "/composite/graph") {
				mu.Lock()
				graphs++
				n := graphs
				mu.Unlock()
				if n == 2 { // the second call's sales are saved: kill the run
					once.Do(kill)
				}
			}
		}
		if _, err := w.engine.Run(ctx, w.shopKey(0), ledger.TriggerSchedule); err == nil {
			t.Fatal("the killed run reported no error")
		}
		w.sfFront = nil
		res := w.runShopUntilDone(0)
		w.assertShopSynced(0)
		linked := 0
		for _, r := range res {
			linked += r.Run.Counts[ledger.ActionLinked]
			if r.Run.Counts[ledger.ActionFailed] > 0 {
				for _, e := range w.events(r.Run.ID) {
					if e.Action == ledger.ActionFailed {
						t.Errorf("resume: sale %s failed: %s", e.LSID, e.Message)
					}
				}
			}
		}
		if linked == 0 {
			t.Error("no sale saved by the killed run was linked on resume")
		}
	})
}

// 5xx and 429 answers from both APIs lose no sale and double none.
func TestSalesFaultsLoseNothing(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 300}, custom: custom})
		w.lsSrv.SetFaults(lssandbox.FaultConfig{ErrorRate: 0.2, Status: 503, Seed: 7})
		w.sfSrv.SetFaults(sfsandbox.Faults{ErrorRate: 0.2})
		for range 30 {
			res, err := w.engine.Run(w.ctx, w.shopKey(0), ledger.TriggerSchedule)
			if err == nil && !res.More {
				break
			}
		}
		w.lsSrv.SetFaults(lssandbox.FaultConfig{})
		w.sfSrv.SetFaults(sfsandbox.Faults{})
		w.runShopUntilDone(0)
		w.assertShopSynced(0)
	})
}

// A sale Salesforce refuses (its product was made inactive there) is a
// failed event with the API's message, and nothing of it is written: not
// the sale, not a line, not a payment. Fixed, Retry sends it.
func TestSalesFailedSaleIsWholeOrNothing(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 10}, custom: custom})
		w.runShopUntilDone(0)
		// Item 2's product, inactive: Classic refuses its opportunity
		// products; Custom gets a validation-style refusal on the line.
		prods := w.query("SELECT Id FROM Product2 WHERE Lightspeed_Item_ID__c = '2'")
		if len(prods) != 1 {
			t.Fatalf("item 2's product: %v", prods)
		}
		if custom {
			// The custom line's Product__c lookup to a deleted product is
			// refused.
			if _, err := w.sf.DeleteRecords(w.ctx, []string{prods[0].ID()}, nil); err != nil {
				t.Fatal(err)
			}
		} else if _, err := w.sf.UpdateRecords(w.ctx, "Product2", []map[string]any{{"Id": prods[0].ID(), "IsActive": false}}, nil); err != nil {
			t.Fatal(err)
		}
		sale := w.sell(0, 0, "", pay(ptCash, "1000.00"))
		res := w.runShopUntilDone(0)
		var failed *ledger.StoredEvent
		for _, r := range res {
			for _, e := range w.events(r.Run.ID) {
				if e.Action == ledger.ActionFailed && e.LSID == strconv.FormatInt(sale.SaleID, 10) {
					failed = &e
				}
			}
		}
		if failed == nil || failed.Code == "" || failed.Message == "" {
			t.Fatalf("no failed event with the API's message for sale %d: %+v", sale.SaleID, failed)
		}
		t.Logf("failed: %s %s", failed.Code, failed.Message)
		id := strconv.FormatInt(sale.SaleID, 10)
		if _, ok := w.sfSales("Name")[id]; ok {
			t.Error("the refused sale was written")
		}
		for _, s := range sale.SaleLines {
			if w.countBy(w.lineObject(), "Lightspeed_Sale_Line_ID__c")[strconv.FormatInt(s.SaleLineID, 10)] != 0 {
				t.Errorf("line %d of the refused sale was written", s.SaleLineID)
			}
		}
		for _, p := range sale.SalePayments {
			if w.countBy("Lightspeed_Payment__c", "Lightspeed_Payment_ID__c")[strconv.FormatInt(p.SalePaymentID, 10)] != 0 {
				t.Errorf("payment %d of the refused sale was written", p.SalePaymentID)
			}
		}
		// Fixed in Salesforce, then retried from the history page.
		if custom {
			// The product link points at a deleted record: forget it so the
			// product is upserted again.
			w.forgetLink(ledger.KindProduct, "2")
		} else if _, err := w.sf.UpdateRecords(w.ctx, "Product2", []map[string]any{{"Id": prods[0].ID(), "IsActive": true}}, nil); err != nil {
			t.Fatal(err)
		}
		r, err := w.engine.ResendSales(w.ctx, w.shopKey(0), []string{id}, ledger.TriggerRetry)
		if err != nil {
			t.Fatal(err)
		}
		if r.Run.Counts[ledger.ActionCreated] != 1 {
			t.Errorf("retry: %v", r.Run.Counts)
		}
		w.assertShopSynced(0)
	})
}

func (w *salesWorld) forgetLink(kind, lsID string) {
	w.t.Helper()
	if err := w.ledger.DeleteLink(w.ctx, w.tenant, kind, lsID); err != nil {
		w.t.Fatal(err)
	}
}

// sellMany makes n completed sales in shop 0 with known items and
// customers, as a busy day brings.
func (w *salesWorld) sellMany(n int) {
	w.t.Helper()
	for i := range n {
		w.sell(0, int64(1+i%20), "", pay(ptCash, "1000.00"))
	}
}

// In steady state (products and customers known), 200 new sales cost at
// most 4 Salesforce calls.
func TestSalesCallBudget(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 50, customers: 30}, custom: custom})
		w.runUntilDone(ledger.CustomersToSalesforce)
		w.runShopUntilDone(0)
		w.sellMany(200)
		res := w.runShopUntilDone(0)
		calls, created := 0, 0
		for _, r := range res {
			calls += r.Run.APICalls[sync.ProviderSalesforce]
			created += r.Run.Counts[ledger.ActionCreated]
		}
		t.Logf("%d new sales: %d Salesforce calls", created, calls)
		if created != 200 {
			t.Fatalf("%d sales created, want 200", created)
		}
		if calls > 4 {
			t.Errorf("%d Salesforce calls for 200 sales, want at most 4", calls)
		}
	})
}

// Salesforce stops processing a Composite Graph request's graphs after 14
// failures: the graphs it did not try are sent again, not reported failed.
func TestSalesHaltedGraphsSentAgain(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 10}})
	w.runShopUntilDone(0)
	prods := w.query("SELECT Id FROM Product2 WHERE Lightspeed_Item_ID__c = '1'")
	if len(prods) != 1 {
		t.Fatalf("item 1's product: %v", prods)
	}
	if _, err := w.sf.UpdateRecords(w.ctx, "Product2", []map[string]any{{"Id": prods[0].ID(), "IsActive": false}}, nil); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		w.sell(0, 0, "", pay(ptCash, "1000.00")) // item 1: refused
	}
	tick()
	good := map[string]bool{}
	for range 20 {
		s, _, err := w.ls.Sales.Create(w.ctx, lightspeed.SaleWrite{ShopID: w.shops[0].ShopID, RegisterID: w.anyRegister(0), EmployeeID: 1,
			Completed: true, Lines: []lightspeed.SaleLineWrite{{ItemID: 3, UnitQuantity: 1}},
			Payments: []lightspeed.SalePaymentWrite{pay(ptCash, "1000.00")}})
		if err != nil {
			t.Fatal(err)
		}
		good[strconv.FormatInt(s.SaleID, 10)] = true
	}
	failed, created := 0, 0
	for _, r := range w.runShopUntilDone(0) {
		for _, e := range w.events(r.Run.ID) {
			if e.Kind != ledger.KindSale {
				continue
			}
			switch e.Action {
			case ledger.ActionFailed:
				failed++
				if e.Code != "FIELD_INTEGRITY_EXCEPTION" || good[e.LSID] {
					t.Errorf("sale %s failed: %s %s", e.LSID, e.Code, e.Message)
				}
			case ledger.ActionCreated:
				created++
			}
		}
	}
	if failed != 20 || created != 20 {
		t.Errorf("%d failed, %d created; want 20 and 20", failed, created)
	}
}

func (w *salesWorld) anyRegister(i int) int64 {
	w.t.Helper()
	for r, err := range w.ls.Registers.ListIter(w.ctx, lightspeed.NewQuery().Where("shopID", lightspeed.Eq, w.shops[i].ShopID).Limit(100)) {
		if err != nil {
			w.t.Fatal(err)
		}
		return r.RegisterID
	}
	w.t.Fatal("no register")
	return 0
}
