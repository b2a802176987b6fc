package sync_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// mappedWorld is a world whose Contacts have a Loyalty_Tier__c field, whose
// configuration carries the org's describes and Lightspeed's custom fields
// (as discovery caches them), and whose engine keeps refreshed describes in
// the tenant's discovery.
type mappedWorld struct {
	*world
	tierID int64 // the Lightspeed "Loyalty tier" custom field
}

func newMappedWorld(t *testing.T) *mappedWorld {
	t.Helper()
	mw := &mappedWorld{}
	mw.world = newWorld(t, worldOptions{customers: 30})
	w := mw.world
	if err := w.sfSrv.AddCustomField("Contact", sfsandbox.FieldSpec{Name: "Loyalty_Tier__c", Label: "Loyalty Tier", Type: "Text", Length: 40}); err != nil {
		t.Fatal(err)
	}
	for f, err := range w.ls.CustomFields.ListIter(w.ctx, lightspeed.NewQuery()) {
		if err != nil {
			t.Fatal(err)
		}
		w.cfg.CustomFields = append(w.cfg.CustomFields, mapping.CustomField{ID: f.CustomFieldID, Name: f.Name, Type: f.Type})
		if f.Name == "Loyalty tier" {
			mw.tierID = f.CustomFieldID
		}
	}
	if mw.tierID == 0 {
		t.Fatal("the Lightspeed seed has no Loyalty tier field")
	}
	desc, err := w.sf.Describe(w.ctx, "Contact")
	if err != nil {
		t.Fatal(err)
	}
	d := &setup.SalesforceDiscovery{OrgID: "00D", Objects: []setup.SObject{mapping.SObjectOf(desc)}}
	w.cfg.Salesforce = d
	if err := pgx.BeginFunc(w.ctx, w.pool, func(tx pgx.Tx) error {
		return setup.SaveDiscovery(w.ctx, tx, w.tenant, &setup.Discovery{Provider: vault.Salesforce, ExternalAccount: "00D", Salesforce: d})
	}); err != nil {
		t.Fatal(err)
	}
	return mw
}

// save stores m as the tenant's next mapping version.
func (mw *mappedWorld) save(m mapping.Mapping) {
	mw.t.Helper()
	if err := pgx.BeginFunc(mw.ctx, mw.pool, func(tx pgx.Tx) error {
		_, err := mapping.SaveTx(mw.ctx, tx, mw.tenant, m)
		return err
	}); err != nil {
		mw.t.Fatal(err)
	}
}

func (mw *mappedWorld) withTier() mapping.Mapping { return mw.tierTo("Loyalty_Tier__c") }

// tierTo is the default mapping with the loyalty tier sent to target.
func (mw *mappedWorld) tierTo(target string) mapping.Mapping {
	m := mapping.Defaults(mapping.PresetClassic)
	m.Rules = append(m.Rules, mapping.Rule{Stream: mapping.StreamCustomers, Source: mapping.CustomKey(mw.tierID),
		Object: "Contact", Target: target, Direction: mapping.ToSalesforce, Transform: mapping.Truncate(40)})
	return m
}

// tiers are Lightspeed's loyalty tiers by customer id, where set.
func (mw *mappedWorld) tiers() map[string]string {
	mw.t.Helper()
	out := map[string]string{}
	q := lightspeed.NewQuery().LoadRelations("CustomFieldValues").Limit(100)
	for c, err := range mw.ls.Customers.ListIter(mw.ctx, q) {
		if err != nil {
			mw.t.Fatal(err)
		}
		for _, v := range c.CustomFieldValues {
			if v.CustomFieldID == mw.tierID && v.Value != "" {
				out[strconv.FormatInt(c.CustomerID, 10)] = v.Value
			}
		}
	}
	return out
}

// A resync after the mapping changed re-sends every linked customer with
// the new mapping, though none changed in Lightspeed (and the values the
// mapping reads are the same: only where they go changed), and leaves the
// stream's cursor where it was.
func TestResendAfterMappingChange(t *testing.T) {
	t.Parallel()
	mw := newMappedWorld(t)
	w := mw.world
	mw.save(mw.tierTo("Description"))
	w.runUntilDone(ledger.CustomersToSalesforce)
	k := ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToSalesforce}
	cursor, _, err := w.ledger.Cursor(w.ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range w.contacts("Id, Loyalty_Tier__c") {
		if rec.String("Loyalty_Tier__c") != "" {
			t.Fatal("the loyalty tier was sent to Loyalty_Tier__c before it was mapped there")
		}
	}
	mw.save(mw.withTier())
	// A normal run finds nothing changed: the mapping alone changed.
	if res := w.run(ledger.CustomersToSalesforce); res.Run.Counts[ledger.ActionUpdated] != 0 {
		t.Fatalf("a normal run updated %d customers", res.Run.Counts[ledger.ActionUpdated])
	}
	var ids []string
	if err := w.ledger.LinkedPairs(w.ctx, w.tenant, ledger.KindCustomer, func(ls []ledger.Link) error {
		for _, l := range ls {
			ids = append(ids, l.LSID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res, err := w.engine.Resend(w.ctx, w.tenant, ids)
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Trigger != ledger.TriggerResync || res.Run.MappingVersion != 2 || res.Run.Counts[ledger.ActionUpdated] != len(ids) {
		t.Fatalf("resend run: trigger %q, mapping v%d, counts %v; want %d updated", res.Run.Trigger, res.Run.MappingVersion, res.Run.Counts, len(ids))
	}
	want := mw.tiers()
	if len(want) == 0 {
		t.Fatal("no Lightspeed customer has a loyalty tier")
	}
	got := 0
	for _, rec := range w.contacts("Id, Lightspeed_Customer_ID__c, Loyalty_Tier__c") {
		id := rec.String("Lightspeed_Customer_ID__c")
		if tier, ok := want[id]; ok {
			if rec.String("Loyalty_Tier__c") != tier {
				t.Errorf("contact of %s: tier %q, want %q", id, rec.String("Loyalty_Tier__c"), tier)
			}
			got++
		}
	}
	if got == 0 {
		t.Fatal("no contact carries a loyalty tier")
	}
	after, _, err := w.ledger.Cursor(w.ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if after != cursor {
		t.Fatalf("cursor moved from %s to %s", cursor, after)
	}
}

// A mapped Salesforce field deleted in the org stops only that field: the
// write that named it is refused, the describe is refreshed and kept, and
// the record is sent again without it; the event says which field stopped.
// The next run leaves it out from the start.
func TestDeletedFieldStopsOnlyItself(t *testing.T) {
	t.Parallel()
	mw := newMappedWorld(t)
	w := mw.world
	mw.save(mw.withTier())
	w.cfg.Salesforce = mw.cachedDescribe() // the engine reads config each run
	w.runUntilDone(ledger.CustomersToSalesforce)

	if err := w.sfSrv.DeleteCustomField("Contact", "Loyalty_Tier__c"); err != nil {
		t.Fatal(err)
	}
	var c lightspeed.Customer
	for cust, err := range w.ls.Customers.ListIter(w.ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		if l, ok := w.link(strconv.FormatInt(cust.CustomerID, 10)); ok && l.State == ledger.LinkActive {
			c = cust
			break
		}
	}
	tick()
	if _, _, err := w.ls.Customers.Update(w.ctx, c.CustomerID, lightspeed.CustomerWrite{FirstName: lightspeed.Ptr("Renamed"),
		CustomFieldValues: []lightspeed.CustomFieldValueWrite{{CustomFieldID: mw.tierID, Value: "Platinum"}}}); err != nil {
		t.Fatal(err)
	}
	res := w.run(ledger.CustomersToSalesforce)
	if res.Run.Counts[ledger.ActionUpdated] != 1 || res.Run.Counts[ledger.ActionFailed] != 0 {
		t.Fatalf("counts = %v, want one update and no failure", res.Run.Counts)
	}
	id := strconv.FormatInt(c.CustomerID, 10)
	found := false
	for _, rec := range w.contacts("Id, FirstName, Lightspeed_Customer_ID__c") {
		if rec.String("Lightspeed_Customer_ID__c") == id {
			found = rec.String("FirstName") == "Renamed"
		}
	}
	if !found {
		t.Fatal("the first name did not reach Salesforce: the deleted field stopped the whole record")
	}
	var msg string
	for _, e := range w.events(res.Run.ID) {
		if e.LSID == id {
			msg = e.Message
		}
	}
	if !strings.Contains(msg, "Loyalty tier → Contact.Loyalty_Tier__c") {
		t.Fatalf("event message = %q, want it to name the stopped field", msg)
	}
	// The refreshed describe is kept: the mapping screen and the
	// dashboard see the drift.
	cached := mw.cachedDescribe()
	if cached.Object("Contact").Field("Loyalty_Tier__c") != nil || cached.Object("Contact").Field("FirstName") == nil {
		t.Fatal("the cached describe was not refreshed")
	}
	drift := mapping.Drift(mw.withTier(), mapping.Catalog(w.cfg.CustomFields), cached)
	if len(drift) != 1 || drift[0].Field() != "Contact.Loyalty_Tier__c" {
		t.Fatalf("drift = %+v", drift)
	}
	// The next run starts without the field: no refused write at all.
	w.cfg.Salesforce = cached
	tick()
	if _, _, err := w.ls.Customers.Update(w.ctx, c.CustomerID, lightspeed.CustomerWrite{FirstName: lightspeed.Ptr("Again")}); err != nil {
		t.Fatal(err)
	}
	before := w.sfCalls("composite/sobjects")
	res = w.run(ledger.CustomersToSalesforce)
	if res.Run.Counts[ledger.ActionUpdated] != 1 || w.sfCalls("composite/sobjects")-before != 1 {
		t.Fatalf("second run: counts %v, %d writes; want one update in one call", res.Run.Counts, w.sfCalls("composite/sobjects")-before)
	}
}

// cachedDescribe is the tenant's cached Salesforce discovery.
func (mw *mappedWorld) cachedDescribe() *setup.SalesforceDiscovery {
	mw.t.Helper()
	d, err := setup.NewStore(mw.pool).Discovery(mw.ctx, mw.tenant, vault.Salesforce)
	if err != nil {
		mw.t.Fatal(err)
	}
	return d.Salesforce
}

// A mapped sales field deleted in Salesforce stops only itself: the sale
// graph naming it is refused, the sales objects are described again, and
// the sale is sent without the field; its event says which field stopped.
func TestDeletedSalesFieldStopsOnlyItself(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 5}})
	if err := w.sfSrv.AddCustomField("Opportunity", sfsandboxText("Stylist__c")); err != nil {
		t.Fatal(err)
	}
	w.saveMapping(mapping.Rule{Stream: mapping.StreamSales, Source: mapping.SaleSalesEmployee, Object: "Opportunity",
		Target: "Stylist__c", Direction: mapping.ToSalesforce})
	d := &setup.SalesforceDiscovery{}
	for _, obj := range []string{"Contact", "Opportunity", "OpportunityLineItem", "Lightspeed_Payment__c"} {
		desc, err := w.sf.Describe(w.ctx, obj)
		if err != nil {
			t.Fatal(err)
		}
		d.Objects = append(d.Objects, mapping.SObjectOf(desc))
	}
	w.cfg.Salesforce = d // as discovery cached it, with Stylist__c
	w.runShopUntilDone(0)

	if err := w.sfSrv.DeleteCustomField("Opportunity", "Stylist__c"); err != nil {
		t.Fatal(err)
	}
	sale := w.sell(0, 0, "", pay(ptCash, "1000.00"))
	res := w.runShop(0)
	if res.Run.Counts[ledger.ActionFailed] != 0 || res.Run.Counts[ledger.ActionCreated] == 0 {
		t.Fatalf("counts = %v, want the new sale created and nothing failed", res.Run.Counts)
	}
	id := strconv.FormatInt(sale.SaleID, 10)
	if _, ok := w.sfSales("Name")[id]; !ok {
		t.Fatal("the sale is not in Salesforce: the deleted field stopped the whole sale")
	}
	var msg string
	for _, e := range w.events(res.Run.ID) {
		if e.LSID == id && e.Kind == ledger.KindSale {
			msg = e.Message
		}
	}
	if !strings.Contains(msg, "Sales employee → Opportunity.Stylist__c") {
		t.Fatalf("sale event message = %q, want it to name the stopped field", msg)
	}
}
