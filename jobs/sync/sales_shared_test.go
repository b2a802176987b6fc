package sync_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

// Two stores importing their histories at once, in one worker, share the
// tenant's contacts and products: the accounts of their customers' contacts
// are read once, in one read of every Lightspeed contact when asking by id
// would take more calls, and each product is upserted once. Each
// opportunity still gets its contact's account.
func TestShopsShareContactsAndProducts(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 2, customers: 400, sales: 1600,
		engine: sync.Options{BulkThreshold: 100, BulkPoll: 5 * time.Millisecond}}})
	w.runUntilDone(ledger.CustomersToSalesforce)
	// Half the contacts belong to an account, as a merchant's B2B
	// customers would.
	acct, err := w.sf.Create(w.ctx, "Account", map[string]any{"Name": "Harbour Fleet Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	var moves []map[string]any
	for i, c := range w.contacts("Id") {
		if i%2 == 0 {
			moves = append(moves, map[string]any{"Id": c.ID(), "AccountId": acct})
		}
	}
	for chunk := range slices.Chunk(moves, 200) {
		if _, err := w.sf.UpdateRecords(w.ctx, "Contact", chunk, nil); err != nil {
			t.Fatal(err)
		}
	}

	// The first account lookup waits for another, so without the tenant's
	// lock both stores would be looking up the same contacts at once.
	var mu stdsync.Mutex
	var lookups []string
	other := make(chan struct{})
	w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		q := r.URL.Query().Get("q")
		if q == "" && strings.Contains(r.URL.Path, "/query/") {
			q = "a next page"
		}
		if strings.Contains(q, "AccountId FROM Contact") {
			mu.Lock()
			lookups = append(lookups, q)
			n := len(lookups)
			mu.Unlock()
			switch n {
			case 1:
				select {
				case <-other:
				case <-time.After(3 * time.Second): // the other store waits for the lock
				}
			case 2:
				close(other)
			}
		}
		next.ServeHTTP(rw, r)
	}
	var wg stdsync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			for range 100 {
				res, err := w.engine.Run(w.ctx, w.shopKey(i), ledger.TriggerSchedule)
				if err != nil {
					errs[i] = err
					return
				}
				if !res.More && res.Wait == 0 {
					return
				}
				time.Sleep(5 * time.Millisecond) // the sandbox processes a Bulk job in the background
			}
			errs[i] = fmt.Errorf("shop %d's import did not finish", i)
		})
	}
	wg.Wait()
	w.sfFront = nil
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		w.assertShopSynced(i)
	}

	named := map[string]bool{}
	for i := range 2 {
		for _, s := range w.lsSales(i) {
			if s.CustomerID > 0 && s.Completed {
				named[fmt.Sprint(s.CustomerID)] = true
			}
		}
	}
	if len(named) <= 200 {
		t.Fatalf("the stores' sales name %d customers; the test needs more than a lookup by id holds", len(named))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lookups) != 1 || strings.Contains(lookups[0], " IN ") {
		for i, q := range lookups {
			lookups[i] = q[:min(len(q), 80)]
		}
		t.Errorf("account lookups for %d contacts: %d calls, want one read of every contact: %q", len(named), len(lookups), lookups)
	}

	products, err := w.ledger.CountLinks(w.ctx, w.tenant, ledger.KindProduct, ledger.LinkActive)
	if err != nil {
		t.Fatal(err)
	}
	if n, want := w.sfCalls("Product2"), (products+199)/200; n != want {
		t.Errorf("%d product upserts for %d products, want %d", n, products, want)
	}

	contactAcct := map[string]string{}
	for _, c := range w.contacts("Id, AccountId") {
		contactAcct[c.ID()] = c.String("AccountId")
	}
	withAccount := 0
	for id, rec := range w.sfSales("ContactId, AccountId") {
		contact := rec.String("ContactId")
		if contact == "" {
			continue
		}
		if got, want := rec.String("AccountId"), contactAcct[contact]; got != want {
			t.Errorf("sale %s: account %q, its contact's is %q", id, got, want)
		}
		if rec.String("AccountId") != "" {
			withAccount++
		}
	}
	if withAccount == 0 {
		t.Error("no sale went to its contact's account")
	}
}

// A history imported a page at a time (staged, or through Composite Graph)
// still reads its contacts' accounts in one sweep when asking by id, page
// after page, would take more calls: the import's pages left count, not
// the page's contacts alone.
func TestStagedImportSweepsContactAccounts(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]sync.Options{
		"staged":          {BulkThreshold: 100, BulkPoll: time.Millisecond, BatchSize: 100, MaxBatches: 1},
		"Composite Graph": {BatchSize: 100, MaxBatches: 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testImportSweepsContactAccounts(t, opts)
		})
	}
}

func testImportSweepsContactAccounts(t *testing.T, opts sync.Options) {
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, customers: 400, sales: 1000, engine: opts}})
	w.runUntilDone(ledger.CustomersToSalesforce)
	var mu stdsync.Mutex
	var lookups []string
	w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		if q := r.URL.Query().Get("q"); strings.Contains(q, "AccountId FROM Contact") {
			mu.Lock()
			lookups = append(lookups, q[:min(len(q), 70)])
			mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	}
	w.importShop(0)
	w.sfFront = nil
	w.assertShopSynced(0)
	if len(lookups) != 1 || strings.Contains(lookups[0], " IN ") {
		t.Errorf("account lookups for the import: %q; want one read of every contact", lookups)
	}
}

// A sale's customer archived in Lightspeed is not sent (the customer
// stream skips it): the sale goes without one and says so, and the engine
// knows it from the customer record the sale page brings, without reading
// the customer again.
func TestSaleOfArchivedCustomerNeedsNoRead(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]sync.Options{
		"Composite Graph": {},
		"Bulk import":     {BulkThreshold: 100, BulkPoll: 5 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testSaleOfArchivedCustomer(t, opts)
		})
	}
}

func testSaleOfArchivedCustomer(t *testing.T, opts sync.Options) {
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, customers: 60, sales: 300, engine: opts}})
	w.runUntilDone(ledger.CustomersToSalesforce)
	archived := map[string]bool{}
	for _, c := range w.lsCustomers() {
		if c.Archived {
			archived[fmt.Sprint(c.CustomerID)] = true
		}
	}
	want := 0
	for _, s := range w.lsSales(0) {
		if s.Completed && !s.Voided && archived[fmt.Sprint(s.CustomerID)] {
			want++
		}
	}
	if want == 0 {
		t.Fatal("no completed sale of the seed names an archived customer")
	}
	reads := func() int { return w.lsSrv.Stats().ByResource["Customer"]["GET"] }
	before := reads()
	var without int
	for _, r := range w.importShop(0) {
		for _, e := range w.events(r.Run.ID) {
			if e.Kind == ledger.KindSale && e.Action == ledger.ActionCreated && strings.Contains(e.Message, "Bulk") == (opts.BulkThreshold > 0) &&
				strings.Contains(e.Message, "Sent without its customer") && strings.Contains(e.Message, "archived in Lightspeed") {
				without++
			}
		}
	}
	if without != want {
		t.Errorf("%d sales sent without their archived customer, want %d", without, want)
	}
	if n := reads() - before; n != 0 {
		t.Errorf("the sales read %d Lightspeed customer pages", n)
	}
	w.assertShopSynced(0)
}
