package sandbox

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentUse mixes writes, reads, queries, schema changes and a Bulk
// job so the race detector can see the locking.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: seed(1)})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				b.create(t, "Contact", map[string]any{"LastName": fmt.Sprintf("G%d-%d", g, i)})
				b.do(t, "GET", "/query?q=SELECT+Id,Account.Name+FROM+Contact+LIMIT+5", nil)
				b.do(t, "GET", "/sobjects/Contact/describe", nil)
				b.do(t, "PATCH", "/sobjects/Contact/Email/x", map[string]any{"LastName": "X"})
			}
		})
	}
	wg.Go(func() {
		for i := range 10 {
			if err := b.srv.AddCustomField("Contact", FieldSpec{Name: fmt.Sprintf("F%d__c", i), Type: "Text", Length: 10}); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Go(func() {
		b.runJob(t, map[string]any{"object": "Contact", "operation": "insert"}, "LastName\nA\nB\n")
		_ = b.srv.Stats()
	})
	wg.Wait()
	if got := b.liveCount(t, "Contact"); got != len(demoPeople)+80+2 {
		t.Errorf("%d contacts, want %d", got, len(demoPeople)+82)
	}
}
