package sync_test

import (
	"testing"
	"time"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

// BenchmarkSalesImport is a location's history import of the demo seed's
// sales (2,000 across the account, one shop) against unthrottled
// in-process sandboxes, for both data models. It reports sales/s and
// Salesforce calls per 200 sales, products and first-time customers
// included.
func BenchmarkSalesImport(b *testing.B) {
	benchSales(b, func(custom bool) *salesWorld {
		return newSalesWorld(b, salesOptions{worldOptions: worldOptions{shops: 1, sales: 2000, customers: 300}, custom: custom})
	})
}

// BenchmarkSalesSteadyState is 200 new sales of known products and
// customers, as a busy shop makes between two runs: the Salesforce calls
// they cost (at most 4: three Composite Graph calls of up to 75 sales, and
// in the Classic model one query for the accounts of contacts seen for the
// first time).
func BenchmarkSalesSteadyState(b *testing.B) {
	benchSales(b, func(custom bool) *salesWorld {
		w := newSalesWorld(b, salesOptions{worldOptions: worldOptions{shops: 1, sales: 50, customers: 30}, custom: custom})
		w.runUntilDone(ledger.CustomersToSalesforce)
		w.runShopUntilDone(0)
		w.sellMany(200)
		return w
	})
}

// benchSales times shop 0's runs until done in the world prepare makes,
// for both data models, and reports sales/s and Salesforce calls per 200
// sales.
func benchSales(b *testing.B, prepare func(custom bool) *salesWorld) {
	for _, custom := range []bool{false, true} {
		b.Run(modelName(custom), func(b *testing.B) {
			var sales, sfCalls int
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				w := prepare(custom)
				linked := w.salesLinked()
				b.StartTimer()
				start := time.Now()
				results := w.runShopUntilDone(0)
				elapsed += time.Since(start)
				b.StopTimer()
				for _, r := range results {
					sfCalls += r.Run.APICalls[sync.ProviderSalesforce]
				}
				sales += w.salesLinked() - linked
				b.StartTimer()
			}
			b.ReportMetric(float64(sales)/elapsed.Seconds(), "sales/s")
			b.ReportMetric(float64(sfCalls)/float64(sales)*200, "sf_calls/200")
		})
	}
}

func modelName(custom bool) string {
	if custom {
		return "custom"
	}
	return "classic"
}

// salesLinked counts the sales in Salesforce.
func (w *salesWorld) salesLinked() int {
	w.t.Helper()
	n, err := w.ledger.CountLinks(w.ctx, w.tenant, ledger.KindSale, ledger.LinkActive)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}
