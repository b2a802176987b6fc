package sandbox

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The org and its admin user have fixed ids.
var (
	orgID       = makeID("00D", 1)
	adminUserID = makeID("005", 1)
)

// resetData replaces the org's data with a fresh org: bare, or with demo
// data when seed is non-nil. Tokens, redirect URIs and the clock survive;
// faults, usage, stats, cursors and jobs do not.
func (s *Server) resetData(seed *int64) {
	s.wg.Wait() // let running Bulk jobs finish against the old data
	now := s.clk.Now()
	fresh := newDB(newStandardSchema(s.opts.PersonAccounts, s.opts.Edition, now))
	fresh.dupRule, fresh.created = s.opts.DuplicateRuleEmail, now
	tool := newDB(newToolingSchema(now))
	fresh.orgID, fresh.userID = orgID, adminUserID
	fresh.seq = 1 // the admin user took the first id

	t := fresh.begin(now)
	t.user = fresh.userID
	t.insert(fresh.tables["User"], userRecord(fresh, now, s.opts.Username, "Admin", "User"))
	t.insert(fresh.tables["Organization"], orgRecord(fresh, now, s.opts.OrgName, s.opts.Edition))
	t.systemInsert(fresh.sch.object("Pricebook2"), map[string]any{"Name": "Standard Price Book", "IsActive": true, "IsStandard": true})
	if s.opts.PersonAccounts {
		rt := fresh.sch.object("RecordType")
		t.systemInsert(rt, map[string]any{"Name": "Business Account", "DeveloperName": "Business_Account", "SobjectType": "Account", "IsActive": true, "IsPersonType": false})
		t.systemInsert(rt, map[string]any{"Name": "Person Account", "DeveloperName": "PersonAccount", "SobjectType": "Account", "IsActive": true, "IsPersonType": true})
	}
	if seed != nil {
		if err := seedDemo(fresh, tool, t, *seed); err != nil {
			s.logger.Error("salesforce sandbox: seeding demo data", "err", err)
		}
	}

	s.data.mu.Lock()
	s.tooling.mu.Lock()
	s.data.sch, s.data.tables, s.data.seq, s.data.dupRule = fresh.sch, fresh.tables, fresh.seq, fresh.dupRule
	s.data.orgID, s.data.userID, s.data.created = fresh.orgID, fresh.userID, fresh.created
	s.tooling.sch, s.tooling.tables, s.tooling.seq = tool.sch, tool.tables, tool.seq
	s.tooling.orgID, s.tooling.userID, s.tooling.created = fresh.orgID, fresh.userID, now
	s.tooling.mu.Unlock()
	s.data.mu.Unlock()

	s.cursors.reset()
	s.jobs.reset()
	s.mu.Lock()
	s.faults, s.failNext = Faults{}, 0
	s.usage = usageWindow{}
	s.calls = map[[2]string]int{}
	s.mu.Unlock()
}

func userRecord(d *db, now time.Time, username, first, last string) map[string]any {
	u := map[string]any{}
	for _, f := range d.sch.object("User").Fields {
		u[f.Name] = f.Default
	}
	for k, v := range map[string]any{
		"Id": d.userID, "IsDeleted": false, "Username": username, "FirstName": first, "LastName": last,
		"Name": first + " " + last, "Email": username, "Alias": "admin", "IsActive": true, "Title": "System Administrator",
		"TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
		"CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now, "CreatedById": d.userID, "LastModifiedById": d.userID,
	} {
		u[k] = v
	}
	return u
}

// orgRecord is the org's one Organization row. Its id is the org id the
// identity URL and token ids carry, as in a real org; the locale settings
// are those of a new US Developer Edition org.
func orgRecord(d *db, now time.Time, name, edition string) map[string]any {
	o := map[string]any{}
	for _, f := range d.sch.object("Organization").Fields {
		o[f.Name] = f.Default
	}
	for k, v := range map[string]any{
		"Id": d.orgID, "IsDeleted": false, "Name": name, "OrganizationType": edition, "IsSandbox": false, "IsReadOnly": false,
		"InstanceName": "NA1", "NamespacePrefix": nil, "PrimaryContact": "Admin User", "Country": "US",
		"DefaultLocaleSidKey": "en_US", "TimeZoneSidKey": "America/Los_Angeles", "LanguageLocaleKey": "en_US",
		"FiscalYearStartMonth": int64(1), "UsesStartDateAsFiscalYearName": false,
		"CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now, "CreatedById": d.userID, "LastModifiedById": d.userID,
	} {
		o[k] = v
	}
	return o
}

// demoPeople are the org's existing customers. The first three share emails
// with the Lightspeed sandbox's demo customers, so email matching has
// something to match.
var demoPeople = []struct{ first, last, email, city string }{
	{"Ana", "Silva", "ana.silva@example.com", "Lisbon"},
	{"Li", "Wei", "li.wei@example.com", "Vancouver"},
	{"Sam", "Jones", "sam.jones@example.com", "Leeds"},
	{"Maria", "Garcia", "maria.garcia@example.com", "Austin"},
	{"Tom", "Baker", "tom.baker@example.com", "Portland"},
}

var demoProducts = []struct {
	name, code string
	price      float64
}{
	{"Classic Tee", "TEE-001", 25},
	{"Denim Jacket", "JKT-014", 89.5},
	{"Leather Belt", "BLT-007", 39},
	{"Wool Scarf", "SCF-003", 29.99},
}

// seedDemo adds the demo data: a merchant custom field, accounts, contacts
// (or person accounts), products with standard prices and one won
// opportunity. Values that vary come from seed, so the same seed gives the
// same org.
func seedDemo(d, tool *db, t *txn, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7a11))
	if _, err := addCustomFieldLocked(d, tool, "Opportunity", FieldSpec{Name: "Stylist__c", Label: "Stylist", Type: "Text", Length: 80}, t.now); err != nil {
		return err
	}
	phone := func() string { return fmt.Sprintf("+1 555 %03d %04d", rng.IntN(1000), rng.IntN(10000)) }
	acct := d.sch.object("Account")
	store := t.systemInsert(acct, map[string]any{"Name": "Tandem Demo Retail", "Type": "Customer - Direct", "Phone": phone(), "BillingCity": "Portland"})
	var personRT any
	for _, r := range d.tables["RecordType"].rows {
		if r["IsPersonType"] == true {
			personRT = r["Id"]
		}
	}
	contact := d.sch.object("Contact")
	var firstContact any
	for _, p := range demoPeople {
		if personRT != nil {
			a := t.systemInsert(acct, map[string]any{"RecordTypeId": personRT, "IsPersonAccount": true, "FirstName": p.first, "LastName": p.last,
				"Name": p.first + " " + p.last, "PersonEmail": p.email, "PersonMobilePhone": phone(), "PersonMailingCity": p.city})
			t.syncPersonContact(a)
			continue
		}
		c := t.systemInsert(contact, map[string]any{"AccountId": store["Id"], "FirstName": p.first, "LastName": p.last, "Name": p.first + " " + p.last,
			"Email": p.email, "MobilePhone": phone(), "MailingCity": p.city, "LeadSource": "In Store"})
		if firstContact == nil {
			firstContact = c["Id"]
		}
	}
	var std any
	for _, r := range d.tables["Pricebook2"].rows {
		if r["IsStandard"] == true {
			std = r["Id"]
		}
	}
	var entries []map[string]any
	for _, p := range demoProducts {
		price := p.price + float64(rng.IntN(5))
		prod := t.systemInsert(d.sch.object("Product2"), map[string]any{"Name": p.name, "ProductCode": p.code, "IsActive": true, "Family": "Apparel"})
		e := t.systemInsert(d.sch.object("PricebookEntry"), map[string]any{"Name": p.name, "ProductCode": p.code, "Pricebook2Id": std,
			"Product2Id": prod["Id"], "UnitPrice": price, "IsActive": true})
		entries = append(entries, e)
	}
	close := time.Date(t.now.Year(), t.now.Month(), t.now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -3)
	opp := t.systemInsert(d.sch.object("Opportunity"), map[string]any{"AccountId": store["Id"], "Name": "Demo sale", "StageName": "Closed Won",
		"CloseDate": close, "Probability": 100.0, "IsClosed": true, "IsWon": true, "Pricebook2Id": std, "Stylist__c": "Jamie", "ContactId": firstContact})
	e := entries[0]
	qty := float64(1 + rng.IntN(3))
	unit := e["UnitPrice"].(float64)
	t.systemInsert(d.sch.object("OpportunityLineItem"), map[string]any{"OpportunityId": opp["Id"], "PricebookEntryId": e["Id"], "Product2Id": e["Product2Id"],
		"ProductCode": e["ProductCode"], "Name": "Demo sale " + e["Name"].(string), "Quantity": qty, "UnitPrice": unit, "ListPrice": unit, "TotalPrice": qty * unit})
	_ = t.rollupOpportunity(opp["Id"].(string))
	return nil
}
