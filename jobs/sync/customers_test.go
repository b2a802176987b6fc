package sync_test

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs/ledger"
)

// The first sync puts every live Lightspeed customer in Salesforce once;
// customers sharing an email become one record; a second run writes nothing.
func TestFirstSyncCustomers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 450})
	results := w.runUntilDone(ledger.CustomersToSalesforce)

	customers := w.lsCustomers()
	// The engine reads customers in timeStamp order; the first of several
	// sharing an email keeps the Salesforce record.
	slices.SortStableFunc(customers, func(a, b lightspeed.Customer) int {
		return cmp.Or(a.TimeStamp.Compare(b.TimeStamp), cmp.Compare(a.CustomerID, b.CustomerID))
	})
	primaryByEmail := map[string]string{}
	wantIDs := map[string]bool{}
	aliases := 0
	for _, c := range customers {
		if c.Archived {
			continue
		}
		id := strconv.FormatInt(c.CustomerID, 10)
		email := strings.ToLower(c.Contact.Email("Primary"))
		if email != "" {
			if _, dup := primaryByEmail[email]; dup {
				aliases++
				continue
			}
			primaryByEmail[email] = id
		}
		wantIDs[id] = true
	}
	if aliases == 0 {
		t.Fatal("the seed has no shared emails; the test needs some")
	}
	got := map[string]int{}
	for _, rec := range w.contacts("Id, Lightspeed_Customer_ID__c, LastName") {
		if id := rec.String("Lightspeed_Customer_ID__c"); id != "" {
			got[id]++
		}
		if rec.String("LastName") == "" {
			t.Errorf("contact %s has no last name", rec.ID())
		}
	}
	for id := range wantIDs {
		if got[id] != 1 {
			t.Errorf("Lightspeed customer %s is in Salesforce %d times, want once", id, got[id])
		}
	}
	for id, n := range got {
		if !wantIDs[id] {
			t.Errorf("Salesforce has %d records for Lightspeed customer %s, which should not be there (archived or alias)", n, id)
		}
	}
	n, err := w.ledger.CountLinks(w.ctx, w.tenant, ledger.KindCustomer, ledger.LinkAlias)
	if err != nil {
		t.Fatal(err)
	}
	if n != aliases {
		t.Errorf("alias links = %d, want %d (customers sharing an email)", n, aliases)
	}
	var created int
	var sawWhy bool
	for _, r := range results {
		created += r.Run.Counts[ledger.ActionCreated]
		for _, e := range w.events(r.Run.ID) {
			if e.Action == ledger.ActionLinked && strings.Contains(e.Message, "shares the email") {
				sawWhy = true
			}
		}
	}
	if created != len(wantIDs) {
		t.Errorf("created events = %d, want %d", created, len(wantIDs))
	}
	if !sawWhy {
		t.Error("no history event says why a customer sharing an email was linked")
	}

	// A quiet cycle writes nothing.
	upserts := w.sfCalls("PATCH composite/sobjects")
	res := w.run(ledger.CustomersToSalesforce)
	if d := w.sfCalls("PATCH composite/sobjects") - upserts; d != 0 {
		t.Errorf("a quiet run made %d Collections writes, want 0", d)
	}
	if res.Run.Records() != 0 {
		t.Errorf("a quiet run touched %d records: %v", res.Run.Records(), res.Run.Counts)
	}
}
