package sync_test

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants/setup"
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

// A Salesforce record with a Lightspeed customer's email (in another case)
// is linked and keyed, not duplicated.
func TestEmailLinking(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 60, sfSeed: true})
	var target lightspeed.Customer
	for _, c := range w.lsCustomers() {
		if !c.Archived && c.Contact.Email("Primary") != "" {
			target = c
			break
		}
	}
	email := target.Contact.Email("Primary")
	res, err := w.sf.CreateRecords(w.ctx, "Contact", []map[string]any{{"LastName": "Existing", "Email": strings.ToUpper(email)}}, nil)
	if err != nil || !res[0].Success {
		t.Fatalf("create contact: %v %+v", err, res)
	}
	results := w.runUntilDone(ledger.CustomersToSalesforce)
	id := strconv.FormatInt(target.CustomerID, 10)
	var matches []salesforce.Record
	for _, rec := range w.contacts("Id, Email, Lightspeed_Customer_ID__c") {
		if strings.EqualFold(rec.String("Email"), email) {
			matches = append(matches, rec)
		}
	}
	if len(matches) != 1 {
		t.Fatalf("%d Salesforce records have %s, want 1", len(matches), email)
	}
	if matches[0].ID() != res[0].ID || matches[0].String("Lightspeed_Customer_ID__c") != id {
		t.Errorf("record %s has Lightspeed id %q; want the existing record %s keyed %s",
			matches[0].ID(), matches[0].String("Lightspeed_Customer_ID__c"), res[0].ID, id)
	}
	var linked bool
	for _, e := range w.events(results[0].Run.ID) {
		if e.LSID == id && e.Action == ledger.ActionLinked && strings.Contains(e.Message, "email") {
			linked = true
		}
	}
	if !linked {
		t.Error("no linked event for the email match")
	}
}

// A contact created in Salesforce after setup is created in Lightspeed and
// gets its new Lightspeed Customer ID; older contacts stay unless asked.
func TestSalesforceBornContact(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 20, sfSeed: true})
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.run(ledger.CustomersToLightspeed) // first run: setup time
	before := len(w.lsCustomers())

	res, err := w.sf.CreateRecords(w.ctx, "Contact", []map[string]any{{
		"FirstName": "Nadia", "LastName": "Okafor", "Email": "nadia.okafor@example.net",
		"MobilePhone": "+44 7700 900123", "MailingStreet": "1 Quay St\nFlat 2", "MailingCity": "Bristol"}}, nil)
	if err != nil || !res[0].Success {
		t.Fatalf("create contact: %v %+v", err, res)
	}
	run := w.run(ledger.CustomersToLightspeed)
	if run.Run.Counts[ledger.ActionCreated] != 1 {
		t.Fatalf("counts = %v, want one created", run.Run.Counts)
	}
	after := w.lsCustomers()
	if len(after) != before+1 {
		t.Fatalf("Lightspeed has %d customers, want %d (only the new contact; the seeded org's older contacts stay)", len(after), before+1)
	}
	var made *lightspeed.Customer
	for i := range after {
		if after[i].Contact.Email("Primary") == "nadia.okafor@example.net" {
			made = &after[i]
		}
	}
	if made == nil {
		t.Fatal("no Lightspeed customer with the contact's email")
	}
	if made.FirstName != "Nadia" || made.LastName != "Okafor" || made.Contact.Phone("Mobile") != "+44 7700 900123" ||
		made.Contact.Address().Address1 != "1 Quay St" || made.Contact.Address().Address2 != "Flat 2" {
		t.Errorf("Lightspeed customer = %+v %+v", made, made.Contact)
	}
	recs, err := w.sf.RetrieveRecords(w.ctx, "Contact", []string{res[0].ID}, []string{"Lightspeed_Customer_ID__c"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := recs[0].String("Lightspeed_Customer_ID__c"), strconv.FormatInt(made.CustomerID, 10); got != want {
		t.Errorf("Lightspeed Customer ID written back = %q, want %q", got, want)
	}
	// Both streams are quiet afterwards: no echo either way.
	upserts := w.sfCalls("PATCH composite/sobjects")
	w.runUntilDone(ledger.CustomersToSalesforce)
	again := w.run(ledger.CustomersToLightspeed)
	if d := w.sfCalls("PATCH composite/sobjects") - upserts; d != 0 {
		t.Errorf("%d Salesforce writes after the create, want 0", d)
	}
	if again.Run.Records() != 0 {
		t.Errorf("the next Salesforce → Lightspeed run touched records: %v", again.Run.Counts)
	}
	if n := len(w.lsCustomers()); n != before+1 {
		t.Errorf("Lightspeed has %d customers after quiet runs, want %d", n, before+1)
	}
}

// firstLinked returns a live customer with an email, synced and linked.
func (w *world) firstLinked() (lightspeed.Customer, ledger.Link) {
	w.t.Helper()
	for _, c := range w.lsCustomers() {
		if c.Archived || c.Contact.Email("Primary") == "" {
			continue
		}
		if l, ok := w.link(strconv.FormatInt(c.CustomerID, 10)); ok && l.State == ledger.LinkActive {
			return c, l
		}
	}
	w.t.Fatal("no linked customer")
	return lightspeed.Customer{}, ledger.Link{}
}

func (w *world) contact(id string, fields ...string) salesforce.Record {
	w.t.Helper()
	recs, err := w.sf.RetrieveRecords(w.ctx, "Contact", []string{id}, fields)
	if err != nil {
		w.t.Fatal(err)
	}
	return recs[0]
}

// A change at the register reaches Salesforce; a change in Salesforce to a
// two-way field reaches Lightspeed; a one-way field changed in Salesforce
// stays there; neither write comes back as an echo.
func TestUpdatesBothWays(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 30})
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.run(ledger.CustomersToLightspeed)
	c, link := w.firstLinked()

	tick()
	if _, _, err := w.ls.Customers.Update(w.ctx, c.CustomerID, lightspeed.CustomerWrite{
		FirstName: lightspeed.Ptr("Renamed"), DOB: lightspeed.Ptr(time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC))}); err != nil {
		t.Fatal(err)
	}
	res := w.run(ledger.CustomersToSalesforce)
	if res.Run.Counts[ledger.ActionUpdated] != 1 {
		t.Fatalf("ls→sf counts = %v, want one update", res.Run.Counts)
	}
	got := w.contact(link.SFID, "FirstName", "Birthdate")
	if got.String("FirstName") != "Renamed" || got.String("Birthdate") != "1990-05-17" {
		t.Errorf("Salesforce has %q born %q", got.String("FirstName"), got.String("Birthdate"))
	}
	if r := w.run(ledger.CustomersToLightspeed); r.Run.Records() != 0 {
		t.Errorf("our own Salesforce write came back: %v", r.Run.Counts)
	}

	if _, err := w.sf.UpdateRecords(w.ctx, "Contact", []map[string]any{{"Id": link.SFID,
		"HomePhone": "+1 503 555 0199", "MailingCity": "Salem", "Title": "Chef"}}, nil); err != nil {
		t.Fatal(err)
	}
	res = w.run(ledger.CustomersToLightspeed)
	if res.Run.Counts[ledger.ActionUpdated] != 1 {
		t.Fatalf("sf→ls counts = %v, want one update", res.Run.Counts)
	}
	after, _, err := w.ls.Customers.Get(w.ctx, c.CustomerID, lightspeed.NewQuery().LoadRelations("Contact"))
	if err != nil {
		t.Fatal(err)
	}
	if after.Contact.Phone("Home") != "+1 503 555 0199" || after.Contact.Address().City != "Salem" {
		t.Errorf("Lightspeed has phone %q city %q", after.Contact.Phone("Home"), after.Contact.Address().City)
	}
	if after.Contact.Email("Primary") != c.Contact.Email("Primary") {
		t.Errorf("email changed to %q", after.Contact.Email("Primary"))
	}
	upserts := w.sfCalls("PATCH composite/sobjects")
	if r := w.run(ledger.CustomersToSalesforce); r.Run.Records() != 0 {
		t.Errorf("our own Lightspeed write came back: %v", r.Run.Counts)
	}
	if d := w.sfCalls("PATCH composite/sobjects") - upserts; d != 0 {
		t.Errorf("%d Salesforce writes for an echo", d)
	}
}

// A two-way field changed on both sides: the later change wins everywhere,
// and a conflict event keeps both values.
func TestConflictLaterWins(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 30})
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.run(ledger.CustomersToLightspeed)
	c, link := w.firstLinked()

	tick()
	if _, _, err := w.ls.Customers.Update(w.ctx, c.CustomerID, lightspeed.CustomerWrite{Contact: &lightspeed.ContactWrite{
		Phones: []lightspeed.ContactPhone{{Number: "111", UseType: "Mobile"}}}}); err != nil {
		t.Fatal(err)
	}
	tick()
	if _, err := w.sf.UpdateRecords(w.ctx, "Contact", []map[string]any{{"Id": link.SFID, "MobilePhone": "222"}}, nil); err != nil {
		t.Fatal(err)
	}
	res := w.run(ledger.CustomersToSalesforce)
	if res.Run.Counts[ledger.ActionConflict] != 1 {
		t.Fatalf("counts = %v, want a conflict", res.Run.Counts)
	}
	var conflict *ledger.StoredEvent
	for _, e := range w.events(res.Run.ID) {
		if e.Action == ledger.ActionConflict {
			conflict = &e
		}
	}
	d, _ := conflict.Detail["conflict"].(map[string]any)["mobile_phone"].(map[string]any)
	if d["lightspeed"] != "111" || d["salesforce"] != "222" || d["winner"] != "salesforce" {
		t.Errorf("conflict detail = %v", conflict.Detail)
	}
	w.run(ledger.CustomersToLightspeed)
	w.run(ledger.CustomersToSalesforce)
	after, _, err := w.ls.Customers.Get(w.ctx, c.CustomerID, lightspeed.NewQuery().LoadRelations("Contact"))
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Contact.Phone("Mobile"); got != "222" {
		t.Errorf("Lightspeed mobile = %q, want Salesforce's later 222", got)
	}
	if got := w.contact(link.SFID, "MobilePhone").String("MobilePhone"); got != "222" {
		t.Errorf("Salesforce mobile = %q, want 222", got)
	}
}

// Archived customers are not created; a contact deleted in Salesforce
// marks the link gone and is never re-created or deleted in Lightspeed.
func TestArchivedAndDeleted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 120})
	res := w.runUntilDone(ledger.CustomersToSalesforce)
	archived := 0
	for _, c := range w.lsCustomers() {
		if c.Archived {
			archived++
			if _, ok := w.link(strconv.FormatInt(c.CustomerID, 10)); ok {
				t.Errorf("archived customer %d was linked", c.CustomerID)
			}
		}
	}
	if archived == 0 {
		t.Fatal("the seed has no archived customers")
	}
	skipped := 0
	for _, e := range w.events(res[0].Run.ID) {
		if e.Action == ledger.ActionSkipped && strings.Contains(e.Message, "archived") {
			skipped++
		}
	}
	if skipped != archived {
		t.Errorf("%d archived skips recorded, want %d", skipped, archived)
	}
	w.run(ledger.CustomersToLightspeed)

	c, link := w.firstLinked()
	if _, err := w.sf.DeleteRecords(w.ctx, []string{link.SFID}, nil); err != nil {
		t.Fatal(err)
	}
	w.run(ledger.CustomersToLightspeed)
	l, _ := w.link(strconv.FormatInt(c.CustomerID, 10))
	if l.State != ledger.LinkGone {
		t.Fatalf("link state = %q, want gone", l.State)
	}
	tick()
	if _, _, err := w.ls.Customers.Update(w.ctx, c.CustomerID, lightspeed.CustomerWrite{FirstName: lightspeed.Ptr("Still here")}); err != nil {
		t.Fatal(err)
	}
	w.run(ledger.CustomersToSalesforce)
	for _, rec := range w.contacts("Id, Lightspeed_Customer_ID__c") {
		if rec.String("Lightspeed_Customer_ID__c") == strconv.FormatInt(c.CustomerID, 10) {
			t.Errorf("the deleted contact was re-created as %s", rec.ID())
		}
	}
	if _, _, err := w.ls.Customers.Get(w.ctx, c.CustomerID, nil); err != nil {
		t.Errorf("the Lightspeed customer is gone: %v", err)
	}
}

// Merging two linked contacts in Salesforce moves the loser's link to the
// survivor: the loser's Lightspeed customer then shares the survivor.
func TestMergeMovesLink(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 30})
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.run(ledger.CustomersToLightspeed)
	var linked []ledger.Link
	for _, c := range w.lsCustomers() {
		if l, ok := w.link(strconv.FormatInt(c.CustomerID, 10)); ok && l.State == ledger.LinkActive {
			linked = append(linked, l)
		}
	}
	master, loser := linked[0], linked[1]
	if _, err := w.sfSrv.Merge("Contact", master.SFID, []string{loser.SFID}); err != nil {
		t.Fatal(err)
	}
	res := w.run(ledger.CustomersToLightspeed)
	moved, _ := w.link(loser.LSID)
	if moved.SFID != master.SFID || moved.State != ledger.LinkAlias {
		t.Errorf("loser's link = %s %s, want an alias of %s", moved.SFID, moved.State, master.SFID)
	}
	kept, _ := w.link(master.LSID)
	if kept.SFID != master.SFID || kept.State != ledger.LinkActive {
		t.Errorf("survivor's link = %s %s", kept.SFID, kept.State)
	}
	var said bool
	for _, e := range w.events(res.Run.ID) {
		if e.LSID == loser.LSID && strings.Contains(e.Message, "Merged") {
			said = true
		}
	}
	if !said {
		t.Error("no event says the link moved")
	}
}

// A contact deleted in Salesforce is not re-created by a Lightspeed change
// that arrives before Tandem has read the delete.
func TestDeletedNotRecreatedBeforeReported(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 20})
	w.runUntilDone(ledger.CustomersToSalesforce)
	c, link := w.firstLinked()
	if _, err := w.sf.DeleteRecords(w.ctx, []string{link.SFID}, nil); err != nil {
		t.Fatal(err)
	}
	tick()
	if _, _, err := w.ls.Customers.Update(w.ctx, c.CustomerID, lightspeed.CustomerWrite{FirstName: lightspeed.Ptr("Changed")}); err != nil {
		t.Fatal(err)
	}
	w.run(ledger.CustomersToSalesforce)
	for _, rec := range w.contacts("Id, Lightspeed_Customer_ID__c") {
		if rec.String("Lightspeed_Customer_ID__c") == strconv.FormatInt(c.CustomerID, 10) {
			t.Errorf("the deleted contact was re-created as %s", rec.ID())
		}
	}
}

// With person accounts chosen, customers become person accounts keyed on
// Lightspeed_Customer_ID__pc, and the Salesforce side comes back from them.
func TestPersonAccounts(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 40, personAcct: true})
	res := w.runUntilDone(ledger.CustomersToSalesforce)
	created := 0
	for _, r := range res {
		created += r.Run.Counts[ledger.ActionCreated]
	}
	if created == 0 {
		t.Fatalf("no person accounts created: %v", res[0].Run.Counts)
	}
	var n int
	var someID string
	for rec, err := range w.sf.Query(w.ctx, "SELECT Id, Lightspeed_Customer_ID__pc, PersonEmail FROM Account WHERE IsPersonAccount = true", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.String("Lightspeed_Customer_ID__pc") != "" {
			n++
			someID = rec.ID()
		}
	}
	if n != created {
		t.Errorf("%d person accounts carry a Lightspeed id, want %d", n, created)
	}
	w.run(ledger.CustomersToLightspeed)
	if _, err := w.sf.UpdateRecords(w.ctx, "Account", []map[string]any{{"Id": someID, "PersonMobilePhone": "+1 555 0100"}}, nil); err != nil {
		t.Fatal(err)
	}
	if r := w.run(ledger.CustomersToLightspeed); r.Run.Counts[ledger.ActionUpdated] != 1 {
		t.Errorf("sf→ls counts = %v, want the mobile phone change sent", r.Run.Counts)
	}
}

// A field missing from the cached describes (created after the cache was
// taken) is checked with Salesforce before it is treated as drift: it is
// written, and no event calls it changed.
func TestStaleDescribeIsNotDrift(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 20})
	desc, err := w.sf.Describe(w.ctx, "Contact")
	if err != nil {
		t.Fatal(err)
	}
	o := mapping.SObjectOf(desc)
	o.Fields = slices.DeleteFunc(o.Fields, func(f setup.SField) bool { return f.Name == "Lightspeed_Created_Date__c" })
	w.cfg.Salesforce = &setup.SalesforceDiscovery{Objects: []setup.SObject{o}}
	res := w.runUntilDone(ledger.CustomersToSalesforce)
	for _, e := range w.events(res[0].Run.ID) {
		if strings.Contains(e.Message, "field changed") {
			t.Fatalf("event says a field changed: %s", e.Message)
		}
	}
	n := 0
	for _, rec := range w.contacts("Id, Lightspeed_Created_Date__c") {
		if rec.String("Lightspeed_Created_Date__c") != "" {
			n++
		}
	}
	if n == 0 {
		t.Error("no contact got its Lightspeed created date: the field was treated as gone")
	}
}

// TestSalesforceRunsDescribeOnce checks that the Salesforce → Lightspeed
// stream describes its object once, not on every run: each describe is an
// API call of the merchant's daily allocation.
func TestSalesforceRunsDescribeOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 5})
	w.run(ledger.CustomersToLightspeed)
	before := w.sfCalls("describe")
	for range 3 {
		w.run(ledger.CustomersToLightspeed)
	}
	if n := w.sfCalls("describe") - before; n != 0 {
		t.Errorf("three more runs described objects %d times, want 0", n)
	}
}
