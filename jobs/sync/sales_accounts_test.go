package sync_test

import (
	"strconv"
	"testing"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs/ledger"
)

// With the Classic model, a sale's opportunity belongs to its contact's
// account as Salesforce has it when the sale is sent: an account the org
// gives a contact after Tandem created it, and a later move to another
// account, reach the cache of contact accounts through the Salesforce →
// Lightspeed customer stream, so no sale asks Salesforce for them.
func TestSaleFollowsContactAccount(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 10}})
	w.runShopUntilDone(0)
	w.run(ledger.CustomersToLightspeed) // first run: setup time

	accountLookups := w.countQueries("SELECT Id, AccountId FROM Contact")

	res, err := w.sf.CreateRecords(w.ctx, "Account", []map[string]any{{"Name": "Quay Cycling Club"}, {"Name": "Harbour Couriers"}}, nil)
	if err != nil || len(res) != 2 || !res[0].Success || !res[1].Success {
		t.Fatalf("create accounts: %v %+v", err, res)
	}
	acctA, acctB := res[0].ID, res[1].ID
	customer := func(first, last string) (int64, string) {
		t.Helper()
		c, _, err := w.ls.Customers.Create(w.ctx, lightspeed.CustomerWrite{FirstName: lightspeed.Ptr(first), LastName: lightspeed.Ptr(last)})
		if err != nil {
			t.Fatal(err)
		}
		w.runUntilDone(ledger.CustomersToSalesforce)
		recs := w.query("SELECT Id FROM Contact WHERE Lightspeed_Customer_ID__c = '" + strconv.FormatInt(c.CustomerID, 10) + "'")
		if len(recs) != 1 {
			t.Fatalf("%s %s is in Salesforce %d times", first, last, len(recs))
		}
		return c.CustomerID, recs[0].ID()
	}
	moveContact := func(contact, account string) {
		t.Helper()
		res, err := w.sf.UpdateRecords(w.ctx, "Contact", []map[string]any{{"Id": contact, "AccountId": account}}, nil)
		if err != nil || !res[0].Success {
			t.Fatalf("move contact %s to %s: %v %+v", contact, account, err, res)
		}
	}
	cachedLink := func(contact string) (ledger.Link, bool) {
		t.Helper()
		m, err := w.ledger.LinksByLightspeed(w.ctx, w.tenant, "contact_account", []string{contact})
		if err != nil {
			t.Fatal(err)
		}
		l, ok := m[contact]
		return l, ok
	}
	cached := func(contact string) (string, bool) {
		t.Helper()
		l, ok := cachedLink(contact)
		return l.SFID, ok
	}
	saleAccount := func(saleID int64) any {
		t.Helper()
		rec, _, _ := w.saleRecord(saleID, "AccountId")
		return rec["AccountId"]
	}

	// Tandem creates both contacts; the org's automation then puts one in
	// account A. The other stays private.
	moved, movedContact := customer("Nadia", "Okafor")
	private, privateContact := customer("Tomas", "Berg")
	moveContact(movedContact, acctA)
	w.runUntilDone(ledger.CustomersToLightspeed)
	for _, c := range []struct{ contact, want string }{{movedContact, acctA}, {privateContact, ""}} {
		if got, ok := cached(c.contact); !ok || got != c.want {
			t.Errorf("contact %s: cached account %q (cached %v), want %q", c.contact, got, ok, c.want)
		}
	}
	first := w.sell(0, moved, "", pay(ptCash, "1000.00"))
	privateSale := w.sell(0, private, "", pay(ptCash, "1000.00"))
	w.runShopUntilDone(0)
	if got := saleAccount(first.SaleID); got != acctA {
		t.Errorf("first sale's account %v, want %s", got, acctA)
	}
	if got := saleAccount(privateSale.SaleID); got != nil {
		t.Errorf("a private contact's sale has account %v", got)
	}

	// The contact moves to account B in Salesforce: the next sale goes
	// there, the one already sent stays where it was.
	moveContact(movedContact, acctB)
	w.runUntilDone(ledger.CustomersToLightspeed)
	// Read again (the stream's overlap), an entry that did not change is
	// not written again.
	before, _ := cachedLink(movedContact)
	if r := w.run(ledger.CustomersToLightspeed); r.Run.Counts[ledger.ActionSkipped] == 0 {
		t.Fatalf("the stream did not read the moved contact again: %v", r.Run.Counts)
	}
	if after, _ := cachedLink(movedContact); !after.SyncedAt.Equal(before.SyncedAt) {
		t.Errorf("an unchanged account was written again (%v, then %v)", before.SyncedAt, after.SyncedAt)
	}
	second := w.sell(0, moved, "", pay(ptCash, "1000.00"))
	w.runShopUntilDone(0)
	if got := saleAccount(second.SaleID); got != acctB {
		t.Errorf("sale after the move has account %v, want %s", got, acctB)
	}
	if got := saleAccount(first.SaleID); got != acctA {
		t.Errorf("the sale sent before the move has account %v, want %s", got, acctA)
	}
	if n := accountLookups(); n != 0 {
		t.Errorf("%d queries for contacts' accounts; the customer stream had cached them", n)
	}
}
