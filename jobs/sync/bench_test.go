package sync_test

import (
	"testing"
	"time"

	"github.com/tandemsync/tandem/jobs/ledger"
)

// BenchmarkCustomersFirstSync is the first Lightspeed → Salesforce sync of
// 2,000 customers against unthrottled in-process sandboxes. It reports
// customers/s and Salesforce calls per 200 customers; the fewest the API
// allows is 2 (one matching query and one Collections upsert per 200:
// matching by Lightspeed ID or email needs the query, and a Collections call
// takes at most 200 records).
func BenchmarkCustomersFirstSync(b *testing.B) {
	const n = 2000
	var customers, sfCalls int
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, worldOptions{customers: n})
		before := w.sfSrv.Stats().Total
		b.StartTimer()
		start := time.Now()
		results := w.runUntilDone(ledger.CustomersToSalesforce)
		elapsed += time.Since(start)
		b.StopTimer()
		for _, r := range results {
			customers += r.Run.Records()
		}
		sfCalls += w.sfSrv.Stats().Total - before
		b.StartTimer()
	}
	b.ReportMetric(float64(customers)/elapsed.Seconds(), "customers/s")
	b.ReportMetric(float64(sfCalls)/float64(customers)*200, "sf_calls/200")
}
