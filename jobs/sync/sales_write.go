package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
)

// Sales data model field names: contracts with the merchant's org, created
// by the setup check (jobs/mapping requirements).
const (
	saleIDField    = "Lightspeed_Sale_ID__c"
	lineIDField    = "Lightspeed_Sale_Line_ID__c"
	parentIDField  = "Lightspeed_Parent_Sale_Line_ID__c"
	paymentObject  = "Lightspeed_Payment__c"
	paymentIDField = "Lightspeed_Payment_ID__c"
	itemIDField    = "Lightspeed_Item_ID__c"
	stageWon       = "Closed Won"
	stageLost      = "Closed Lost"
)

// kindPricebook is the link that remembers the org's standard price book
// (Lightspeed id "standard"), so it is looked up once per tenant.
const kindPricebook = "pricebook"

// saleModel is where sales go in Salesforce: the Classic model
// (Opportunity, OpportunityLineItem) or the Custom one.
type saleModel struct {
	custom                     bool
	saleObject, lineObject     string
	saleRef, paymentParent     string // the payment's lookup to its sale
	lineParent, lineProduct    string
	lineQuantity, linePrice    string
	lineEmployee, saleCustomer string
}

func modelOf(p mapping.Preset) saleModel {
	if p == mapping.PresetCustom {
		return saleModel{custom: true, saleObject: "Lightspeed_Sale__c", lineObject: "Lightspeed_Sale_Line__c",
			paymentParent: "Sale__c", lineParent: "Sale__c", lineProduct: "Product__c", lineQuantity: "Quantity__c",
			linePrice: "Unit_Price__c", lineEmployee: "Employee__c", saleCustomer: "Customer__c"}
	}
	return saleModel{saleObject: "Opportunity", lineObject: "OpportunityLineItem", paymentParent: "Opportunity__c",
		lineParent: "OpportunityId", lineProduct: "PricebookEntryId", lineQuantity: "Quantity", linePrice: "UnitPrice",
		saleCustomer: "ContactId"}
}

// saleWriter writes batches of a location's sales to Salesforce.
type saleWriter struct {
	*runContext
	ls    *lightspeed.Client
	sf    *salesforce.Client
	shop  Shop
	loc   *time.Location
	model saleModel
	names mapping.SaleNames
	// pricebook is the standard price book's id (Classic), once known.
	pricebook string
	customers *customerWriter
	// described is set once this run described the sales objects again
	// after a write named a field Salesforce no longer has.
	described bool
	// pagesLeft is, while a history import stages a batch of sales, how
	// many batches like it the import has left (that one included); 0
	// otherwise.
	pagesLeft float64
	// unsent are the customers this run read from Lightspeed and could not
	// send (archived, or refused), with the event that said why: its
	// later batches do not read them again.
	unsent map[string]ledger.Event
}

func (rc *runContext) newSaleWriter(ctx context.Context, shop Shop) (*saleWriter, error) {
	ls, err := rc.clients.Lightspeed(ctx, rc.key.TenantID)
	if err != nil {
		return nil, err
	}
	sf, err := rc.clients.Salesforce(ctx, rc.key.TenantID)
	if err != nil {
		return nil, err
	}
	if err := rc.confirmDrift(ctx, sf); err != nil {
		return nil, err
	}
	loc := time.UTC
	if shop.TimeZone != "" {
		if l, err := time.LoadLocation(shop.TimeZone); err == nil {
			loc = l
		}
	}
	shopID, _ := strconv.ParseInt(rc.key.Location, 10, 64)
	names := mapping.SaleNames{Shops: map[int64]string{shopID: strings.TrimSpace(shop.Name)}, Employees: maps.Clone(rc.cfg.Employees),
		Registers: maps.Clone(rc.cfg.Registers)}
	if names.Employees == nil {
		names.Employees = map[int64]string{}
	}
	if names.Registers == nil {
		names.Registers = map[int64]string{}
	}
	w := &saleWriter{runContext: rc, ls: ls, sf: sf, shop: shop, loc: loc, model: modelOf(rc.mapping.Preset), names: names}
	if !w.model.custom {
		if err := w.loadPricebook(ctx); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// pendingSale is one sale of a batch on its way to Salesforce.
type pendingSale struct {
	sale    mapping.Sale
	label   string
	hash    string
	link    ledger.Link
	linked  bool
	contact string // the customer's Salesforce record
	account string // the contact's account (Classic)
	// lineIDs are the Salesforce ids of lines already in Salesforce.
	lineIDs map[string]string
	failure *ledger.Event
	// note is said on the sale's event (a customer left out).
	note string
}

func (ps *pendingSale) fail(code, msg string) {
	if ps.failure == nil {
		ps.failure = &ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale, LSID: ps.sale.ID,
			SFID: ps.link.SFID, Label: ps.label, Code: code, Message: msg}
	}
}

// sendBatch writes sales to Salesforce and returns the page to commit
// (without a cursor). force re-sends sales that did not change.
func (w *saleWriter) sendBatch(ctx context.Context, sales []lightspeed.Sale, force bool) (ledger.Page, error) {
	b, err := w.prepare(ctx, sales, force)
	if err != nil {
		return b.page, err
	}
	if err := w.writeSales(ctx, b.ready, b.products, &b.page); err != nil {
		return b.page, err
	}
	return b.page, nil
}

// prepared is a batch of sales ready to write: what changed, with its
// customers and products in Salesforce.
type prepared struct {
	page     ledger.Page
	ready    []*pendingSale
	products map[string]product
}

// prepare turns sales into the writes they need: skips what must not be
// sent, sends missing customers and products, and leaves out what did not
// change (unless force).
func (w *saleWriter) prepare(ctx context.Context, sales []lightspeed.Sale, force bool) (prepared, error) {
	var b prepared
	page := &b.page
	byID := map[int64]*lightspeed.Sale{}
	var order []int64
	for i := range sales {
		s := &sales[i]
		if _, seen := byID[s.SaleID]; !seen {
			order = append(order, s.SaleID)
		}
		byID[s.SaleID] = s
	}
	if len(order) == 0 {
		return b, nil
	}
	if err := w.refreshNames(ctx, byID); err != nil {
		return b, err
	}
	ids := make([]string, len(order))
	for i, id := range order {
		ids[i] = strconv.FormatInt(id, 10)
	}
	links, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, ledger.KindSale, ids)
	if err != nil {
		return b, err
	}
	var todo []*pendingSale
	for _, id := range order {
		s := byID[id]
		cs := mapping.FromLightspeedSale(s, w.names)
		ps := &pendingSale{sale: cs, label: saleLabel(cs)}
		ps.link, ps.linked = links[cs.ID]
		switch {
		case !s.Completed:
			// Open sales, quotes and layaways wait until they are completed.
			continue
		case !ps.linked && cs.Voided:
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindSale, LSID: cs.ID,
				Label: ps.label, Message: "Not sent: voided in Lightspeed before it was sent."})
			continue
		case !ps.linked && cs.Archived:
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindSale, LSID: cs.ID,
				Label: ps.label, Message: "Not sent: deleted (archived) in Lightspeed before it was sent."})
			continue
		}
		todo = append(todo, ps)
	}
	// The page brings each sale's customer record: one archived in
	// Lightspeed is not sent (the customer stream skips it), which needs
	// no second read.
	archived := map[string]bool{}
	for _, s := range byID {
		if c := s.Customer; c != nil && c.Archived && c.CustomerID == s.CustomerID {
			archived[strconv.FormatInt(c.CustomerID, 10)] = true
		}
	}
	if err := w.resolveCustomers(ctx, todo, archived, page); err != nil {
		return b, err
	}
	var send []*pendingSale
	for _, ps := range todo {
		ps.hash = w.saleHash(ps)
		if ps.linked && ps.link.LSHash == ps.hash && !force && ps.failure == nil {
			page.Unchanged++
			continue
		}
		send = append(send, ps)
	}
	products, err := w.prepareShared(ctx, byID, send, page)
	if err != nil {
		return b, err
	}
	for _, ps := range send {
		if ps.failure != nil {
			page.Events = append(page.Events, *ps.failure)
			continue
		}
		b.ready = append(b.ready, ps)
	}
	b.products = products
	return b, nil
}

// saleLabel is what a person searches a sale by: its ticket number.
func saleLabel(s mapping.Sale) string {
	if t := s.Values[mapping.SaleTicket]; t != "" {
		return "#" + t
	}
	return "Sale " + s.ID
}

// saleHash covers everything Tandem writes of a sale: a change to any of it
// (an edit after completion, a void, the customer's record) sends it again.
func (w *saleWriter) saleHash(ps *pendingSale) string {
	flat := mapping.Record{}
	maps.Copy(flat, ps.sale.Values)
	flat["voided"] = strconv.FormatBool(ps.sale.Voided)
	flat["contact"] = ps.contact
	for _, l := range ps.sale.Lines {
		for k, v := range l.Values {
			flat["line:"+l.ID+":"+k] = v
		}
		flat["line:"+l.ID+":item_id"] = l.ItemID
		flat["line:"+l.ID+":parent"] = l.ParentID
	}
	for _, p := range ps.sale.Payments {
		for k, v := range p.Values {
			flat["payment:"+p.ID+":"+k] = v
		}
	}
	return mapping.Hash(flat, slices.Sorted(maps.Keys(flat)))
}

// refreshNames looks up employees and registers that discovery did not
// know (hired or added since setup).
func (w *saleWriter) refreshNames(ctx context.Context, sales map[int64]*lightspeed.Sale) error {
	var emps, regs []any
	seenE, seenR := map[int64]bool{}, map[int64]bool{}
	for _, s := range sales {
		check := func(id int64) {
			if _, ok := w.names.Employees[id]; id != 0 && !ok && !seenE[id] {
				seenE[id] = true
				emps = append(emps, id)
			}
		}
		check(s.EmployeeID)
		for _, l := range s.SaleLines {
			check(l.EmployeeID)
		}
		if _, ok := w.names.Registers[s.RegisterID]; s.RegisterID != 0 && !ok && !seenR[s.RegisterID] {
			seenR[s.RegisterID] = true
			regs = append(regs, s.RegisterID)
		}
	}
	for chunk := range slices.Chunk(emps, lightspeed.MaxInValues) {
		q := lightspeed.NewQuery().Where("employeeID", lightspeed.In, chunk...).Archived(lightspeed.ArchivedInclude).Limit(lightspeed.MaxLimit)
		for e, err := range w.ls.Employees.ListIter(ctx, q) {
			if err != nil {
				return fmt.Errorf("read Lightspeed employees: %w", err)
			}
			w.names.Employees[e.EmployeeID] = mapping.FullName(e.FirstName + " " + e.LastName)
		}
	}
	for chunk := range slices.Chunk(regs, lightspeed.MaxInValues) {
		q := lightspeed.NewQuery().Where("registerID", lightspeed.In, chunk...).Archived(lightspeed.ArchivedInclude).Limit(lightspeed.MaxLimit)
		for r, err := range w.ls.Registers.ListIter(ctx, q) {
			if err != nil {
				return fmt.Errorf("read Lightspeed registers: %w", err)
			}
			w.names.Registers[r.RegisterID] = strings.TrimSpace(r.Name)
		}
	}
	// An id Lightspeed no longer knows is not looked up again this run.
	for _, id := range emps {
		if _, ok := w.names.Employees[id.(int64)]; !ok {
			w.names.Employees[id.(int64)] = ""
		}
	}
	for _, id := range regs {
		if _, ok := w.names.Registers[id.(int64)]; !ok {
			w.names.Registers[id.(int64)] = ""
		}
	}
	return nil
}

// resolveCustomers finds each sale's customer in Salesforce, sending
// customers the customer stream has not sent yet first (with its code, so
// they link and match exactly as it would).
func (w *saleWriter) resolveCustomers(ctx context.Context, todo []*pendingSale, archived map[string]bool, page *ledger.Page) error {
	var ids []string
	seen := map[string]bool{}
	for _, ps := range todo {
		if id := ps.sale.CustomerID; id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	links, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, ledger.KindCustomer, ids)
	if err != nil {
		return err
	}
	var missing []any
	failed := map[string]ledger.Event{}
	for _, id := range ids {
		if l, ok := links[id]; !ok || l.SFID == "" {
			if e, ok := w.unsent[id]; ok {
				failed[id] = e
				continue
			}
			if !ok && archived[id] {
				// As the customer stream would: it records the skip itself.
				failed[id] = ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer, LSID: id,
					Message: "Not sent: archived in Lightspeed."}
				continue
			}
			n, _ := strconv.ParseInt(id, 10, 64)
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		if w.customers == nil {
			if w.customers, err = w.newCustomerWriter(ctx, w.sf); err != nil {
				return err
			}
		}
		for chunk := range slices.Chunk(missing, lightspeed.MaxInValues) {
			q := lightspeed.NewQuery().Where("customerID", lightspeed.In, chunk...).Archived(lightspeed.ArchivedInclude).
				LoadRelations(customerRelations...).Limit(lightspeed.MaxLimit)
			var customers []lightspeed.Customer
			for c, err := range w.ls.Customers.ListIter(ctx, q) {
				if err != nil {
					return fmt.Errorf("read the sales' Lightspeed customers: %w", err)
				}
				customers = append(customers, c)
			}
			cp, err := w.customers.sendBatch(ctx, customers)
			if err != nil {
				return fmt.Errorf("send the sales' customers: %w", err)
			}
			page.Events = append(page.Events, cp.Events...)
			page.Links = append(page.Links, cp.Links...)
			page.Unchanged += cp.Unchanged
			for _, l := range cp.Links {
				if l.Kind == ledger.KindCustomer {
					links[l.LSID] = l
				}
			}
			for _, e := range cp.Events {
				if e.Action == ledger.ActionFailed || e.Action == ledger.ActionSkipped {
					failed[e.LSID] = e
					if w.unsent == nil {
						w.unsent = map[string]ledger.Event{}
					}
					w.unsent[e.LSID] = e
				}
			}
		}
		// A customer the customer stream linked meanwhile is unchanged to
		// the send above, which then returns no link for it: read it.
		var again []string
		for _, id := range ids {
			if l, ok := links[id]; (!ok || l.SFID == "") && failed[id].Action == "" {
				again = append(again, id)
			}
		}
		if len(again) > 0 {
			found, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, ledger.KindCustomer, again)
			if err != nil {
				return err
			}
			maps.Copy(links, found)
		}
	}
	for _, ps := range todo {
		id := ps.sale.CustomerID
		if id == "" {
			continue
		}
		l, ok := links[id]
		switch {
		case ok && l.SFID != "" && l.State != ledger.LinkGone:
			ps.contact = l.SFID
		case ok && l.State == ledger.LinkGone:
			// The customer's record was deleted in Salesforce: the sale
			// goes without a customer rather than not at all.
		case failed[id].Action == ledger.ActionSkipped:
			// The customer stream does not send this customer (archived in
			// Lightspeed): the sale goes without one.
			ps.note = "Sent without its customer (Lightspeed customer #" + id + "): " + failed[id].Message
		default:
			// Always CUSTOMER_NOT_SENT, with the customer's own reason in
			// the message: the sale is retried on its own once the
			// customer goes through (jobs.SyncWorker's retry of
			// retryable failures).
			msg := "Not sent: its customer (Lightspeed customer #" + id + ") could not be sent to Salesforce first."
			if e, ok := failed[id]; ok {
				if e.Code != "" {
					msg += " " + e.Code + ":"
				}
				msg += " " + e.Message
			}
			ps.fail(CodeCustomerNotSent, msg)
		}
	}
	return nil
}

// Link kind caching a contact's account (Salesforce ids both sides, "" for
// a private contact), so a returning customer's sale costs no query.
const kindContactAccount = "contact_account"

// Contact account lookups: by id, a query per contactsPerQuery (an IN list
// kept well inside the URL a GET allows); or, for many contacts at once,
// every contact with a Lightspeed customer id, sweepBatch a call.
const (
	contactsPerQuery = 200
	sweepBatch       = 2000
)

// prepareShared sends the sales' products and looks up their contacts'
// accounts under the tenant's lock (see tenantLocks), and saves what it
// learned of these shared records before the next store may start, so
// that store finds them in the ledger instead of asking Salesforce again.
// They are facts about Salesforce, true whether or not this run's cursor
// moves, so they need not wait for the page.
func (w *saleWriter) prepareShared(ctx context.Context, byID map[int64]*lightspeed.Sale, send []*pendingSale, page *ledger.Page) (map[string]product, error) {
	unlock, err := w.shared.lock(ctx, w.key.TenantID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	products, err := w.ensureProducts(ctx, byID, send, page)
	if err != nil {
		return nil, err
	}
	if err := w.lookup(ctx, send, page); err != nil {
		return nil, err
	}
	var shared, accounts []ledger.Link
	rest := page.Links[:0]
	for _, l := range page.Links {
		switch l.Kind {
		case ledger.KindProduct, ledger.KindPricebookEn, kindPricebook:
			shared = append(shared, l)
		case kindContactAccount:
			accounts = append(accounts, l)
		default:
			rest = append(rest, l)
		}
	}
	if err := w.ledger.SaveLinks(ctx, w.key.TenantID, shared); err != nil {
		return nil, err
	}
	// The customer stream keeps accounts current as contacts change; a
	// value read here may already be older than one it wrote meanwhile.
	if err := w.ledger.AddLinks(ctx, w.key.TenantID, accounts); err != nil {
		return nil, err
	}
	page.Links = rest
	return products, nil
}

// lookup prepares the Classic model's writes from the ledger: the lines
// already in Salesforce (an opportunity product's opportunity and price
// book entry cannot be changed, so an existing line is updated by Id
// without them) and each contact's account. The Custom model needs
// neither.
func (w *saleWriter) lookup(ctx context.Context, sales []*pendingSale, page *ledger.Page) error {
	if w.model.custom {
		return nil
	}
	var lineIDs, contacts []string
	seen := map[string]bool{}
	for _, ps := range sales {
		if ps.failure != nil {
			continue
		}
		for _, l := range ps.sale.Lines {
			lineIDs = append(lineIDs, l.ID)
		}
		if ps.contact != "" && w.mapping.Preset == mapping.PresetClassic && !seen[ps.contact] {
			seen[ps.contact] = true
			contacts = append(contacts, ps.contact)
		}
	}
	lines, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, ledger.KindSaleLine, lineIDs)
	if err != nil {
		return err
	}
	accounts, err := w.contactAccounts(ctx, contacts, page)
	if err != nil {
		return err
	}
	for _, ps := range sales {
		ps.account = accounts[ps.contact]
		for _, l := range ps.sale.Lines {
			if link, ok := lines[l.ID]; ok {
				ps.setLine(l.ID, link.SFID)
			}
		}
	}
	return nil
}

// contactAccounts returns the accounts of contacts. The ledger caches them
// (the Salesforce → Lightspeed customer stream keeps the cache current), so
// only contacts never seen cost calls: by id, a query per 200; or, when
// that would take more calls (a history import naming thousands), one
// sweep over every contact with a Lightspeed customer id, 2,000 a call,
// which also fills the cache for the tenant's other stores. New accounts
// go in page.
func (w *saleWriter) contactAccounts(ctx context.Context, contacts []string, page *ledger.Page) (map[string]string, error) {
	cached, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, kindContactAccount, contacts)
	if err != nil {
		return nil, err
	}
	accounts := map[string]string{}
	var unknown []string
	for _, c := range contacts {
		if l, ok := cached[c]; ok {
			accounts[c] = l.SFID
		} else {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) == 0 {
		return accounts, nil
	}
	found := map[string]string{}
	need := ceilDiv(len(unknown), contactsPerQuery)
	if w.pagesLeft > 1 {
		// A history import staged a batch at a time will ask about as
		// many new contacts in each batch it has left: by id, that is a
		// query a batch at least, which a sweep now saves.
		need = max(need, int(math.Ceil(float64(len(unknown))*w.pagesLeft/contactsPerQuery)))
	}
	if need > 1 {
		linked, err := w.ledger.CountLinks(ctx, w.key.TenantID, ledger.KindCustomer, ledger.LinkActive)
		if err != nil {
			return nil, err
		}
		if ceilDiv(linked, sweepBatch) < need {
			soql := "SELECT Id, AccountId FROM Contact WHERE " + mapping.PresetClassic.CustomerIDField() + " != null"
			for rec, err := range w.sf.Query(ctx, soql, &salesforce.QueryOptions{BatchSize: sweepBatch}) {
				if err != nil {
					return nil, fmt.Errorf("find the customers' accounts in Salesforce: %w", err)
				}
				found[rec.ID()] = rec.String("AccountId")
			}
		}
	}
	// Contacts the sweep did not return (matched by email, without a
	// Lightspeed id yet) are asked for by id.
	var rest []string
	for _, c := range unknown {
		if _, ok := found[c]; !ok {
			rest = append(rest, c)
		}
	}
	for chunk := range slices.Chunk(rest, contactsPerQuery) {
		for rec, err := range w.sf.Query(ctx, "SELECT Id, AccountId FROM Contact WHERE Id IN "+soqlList(chunk), nil) {
			if err != nil {
				return nil, fmt.Errorf("find the customers' accounts in Salesforce: %w", err)
			}
			found[rec.ID()] = rec.String("AccountId")
		}
	}
	// A contact neither query returned is gone: it is cached as private,
	// as a sale naming it can set no account.
	for _, c := range unknown {
		if _, ok := found[c]; !ok {
			found[c] = ""
		}
	}
	for _, c := range slices.Sorted(maps.Keys(found)) {
		accounts[c] = found[c]
		page.Links = append(page.Links, ledger.Link{Kind: kindContactAccount, LSID: c, SFID: found[c]})
	}
	return accounts, nil
}

// ceilDiv is a/b rounded up.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (ps *pendingSale) setLine(lsID, sfID string) {
	if ps.lineIDs == nil {
		ps.lineIDs = map[string]string{}
	}
	ps.lineIDs[lsID] = sfID
}

// findLines looks up, by their Lightspeed ids, the lines of sales that
// Salesforce has although the ledger did not know it (a run stopped after
// Salesforce saved them, before Tandem recorded it).
func (w *saleWriter) findLines(ctx context.Context, sales []*pendingSale) error {
	var ids []string
	for _, ps := range sales {
		for _, l := range ps.sale.Lines {
			ids = append(ids, l.ID)
		}
	}
	found := map[string]string{}
	for chunk := range slices.Chunk(ids, 300) {
		soql := "SELECT Id, " + lineIDField + " FROM OpportunityLineItem WHERE " + lineIDField + " IN " + soqlList(chunk)
		for rec, err := range w.sf.Query(ctx, soql, nil) {
			if err != nil {
				return fmt.Errorf("find sale lines in Salesforce: %w", err)
			}
			found[rec.String(lineIDField)] = rec.ID()
		}
	}
	for _, ps := range sales {
		for _, l := range ps.sale.Lines {
			if id, ok := found[l.ID]; ok {
				ps.setLine(l.ID, id)
			}
		}
	}
	return nil
}

// lineExists reports whether a failed graph failed because a line it
// created is already in Salesforce: the update refused the fields only a
// create takes.
func lineExists(res salesforce.GraphResult) bool {
	for _, r := range res.Responses {
		if !strings.HasPrefix(r.ReferenceID, "line") {
			continue
		}
		var e *salesforce.APIError
		if errors.As(r.Err(), &e) && e.ErrorCode == "INVALID_FIELD_FOR_INSERT_UPDATE" {
			return true
		}
	}
	return false
}

// saleGraph is one sale as a Composite Graph: the sale, its lines and its
// payments, saved together or not at all.
type saleGraph struct {
	ps    *pendingSale
	graph salesforce.Graph
	lines []mapping.SaleLine
	pays  []mapping.Payment
}

// writeSales sends sales as Composite Graphs, one graph per sale (so a sale
// is never half-written), as many graphs per call as the API takes.
func (w *saleWriter) writeSales(ctx context.Context, sales []*pendingSale, products map[string]product, page *ledger.Page) error {
	var graphs []*saleGraph
	for _, ps := range sales {
		g, err := w.buildGraph(ps, products)
		if err != nil {
			ev := ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale, LSID: ps.sale.ID, SFID: ps.link.SFID,
				Label: ps.label, Code: "NOT_SENT", Message: err.Error()}
			page.Events = append(page.Events, ev)
			continue
		}
		graphs = append(graphs, g)
	}
	rechecked := map[*pendingSale]bool{}
	for len(graphs) > 0 {
		var call []*saleGraph
		nodes := 0
		for len(graphs) > 0 && len(call) < salesforce.MaxGraphs && nodes+len(graphs[0].graph.Requests) <= salesforce.MaxGraphNodes {
			nodes += len(graphs[0].graph.Requests)
			call, graphs = append(call, graphs[0]), graphs[1:]
		}
		if len(call) == 0 { // one sale alone is over the node limit
			g := graphs[0]
			graphs = graphs[1:]
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale, LSID: g.ps.sale.ID,
				Label: g.ps.label, Code: "LIMIT_EXCEEDED",
				Message: fmt.Sprintf("Not sent: the sale has %d lines and payments, more than Salesforce takes in one transaction.", len(g.graph.Requests)-1)})
			continue
		}
		req := make([]salesforce.Graph, len(call))
		for i, g := range call {
			req[i] = g.graph
		}
		results, err := w.sf.CompositeGraph(ctx, req)
		if err != nil {
			return fmt.Errorf("write sales to Salesforce: %w", err)
		}
		if len(results) != len(call) {
			return fmt.Errorf("write sales to Salesforce: %d results for %d sales", len(results), len(call))
		}
		var again []*saleGraph
		var recheck []*pendingSale
		var stale []*saleGraph
		for i, g := range call {
			switch {
			case !w.described && unknownColumn(results[i]):
				// The cached describe was stale: a mapped field is gone.
				stale = append(stale, g)
			case onlyHalted(results[i]):
				// Salesforce stops processing a request's graphs after too
				// many failures: these were not tried, so send them again.
				again = append(again, g)
			case !w.model.custom && !rechecked[g.ps] && lineExists(results[i]):
				rechecked[g.ps] = true
				recheck = append(recheck, g.ps)
			default:
				w.record(g, results[i], page)
			}
		}
		if len(recheck) > 0 {
			if err := w.findLines(ctx, recheck); err != nil {
				return err
			}
			for _, ps := range recheck {
				g, err := w.buildGraph(ps, products)
				if err != nil {
					return err
				}
				again = append(again, g)
			}
		}
		if len(stale) > 0 {
			// Describe the sales objects again (once a run), leave the
			// drifted fields out, and send those sales once more.
			w.described = true
			for _, obj := range slices.Compact([]string{w.model.saleObject, w.model.lineObject, paymentObject}) {
				if _, err := w.refreshDrift(ctx, w.sf, obj); err != nil {
					return fmt.Errorf("refresh the %s describe: %w", obj, err)
				}
			}
			for _, g := range stale {
				ng, err := w.buildGraph(g.ps, products)
				if err != nil {
					return err
				}
				again = append(again, ng)
			}
		}
		graphs = append(again, graphs...)
	}
	return nil
}

// unknownColumn reports whether a failed graph named a field Salesforce
// does not have.
func unknownColumn(r salesforce.GraphResult) bool {
	for _, sr := range r.Responses {
		var e *salesforce.APIError
		if errors.As(sr.Err(), &e) && e.ErrorCode == "INVALID_FIELD" && strings.Contains(e.Message, "No such column") {
			return true
		}
	}
	return false
}

// onlyHalted reports whether a failed graph was rolled back without being
// tried (every step PROCESSING_HALTED).
func onlyHalted(r salesforce.GraphResult) bool {
	if r.IsSuccessful || len(r.Responses) == 0 {
		return false
	}
	for _, sr := range r.Responses {
		var e *salesforce.APIError
		if err := sr.Err(); !errors.As(err, &e) || e.ErrorCode != salesforce.CodeProcessingHalted ||
			strings.Contains(e.Message, "Invalid reference") {
			return false
		}
	}
	return true
}

func (w *saleWriter) buildGraph(ps *pendingSale, products map[string]product) (*saleGraph, error) {
	m := w.model
	s := ps.sale
	g := &saleGraph{ps: ps, graph: salesforce.Graph{GraphID: "sale" + s.ID}}
	g.graph.Requests = append(g.graph.Requests, salesforce.Subrequest{Method: "PATCH", ReferenceID: "sale",
		URL: "sobjects/" + m.saleObject + "/" + saleIDField + "/" + url.PathEscape(s.ID), Body: w.saleFields(ps)})
	for i, l := range s.Lines {
		lf, existing, err := w.lineFields(ps, l, products, "@{sale.id}")
		if err != nil {
			return nil, err
		}
		ref := fmt.Sprintf("line%d", i)
		if existing != "" {
			g.graph.Requests = append(g.graph.Requests, salesforce.Subrequest{Method: "PATCH", ReferenceID: ref,
				URL: "sobjects/" + m.lineObject + "/" + existing, Body: lf})
		} else {
			g.graph.Requests = append(g.graph.Requests, salesforce.Subrequest{Method: "PATCH", ReferenceID: ref,
				URL: "sobjects/" + m.lineObject + "/" + lineIDField + "/" + url.PathEscape(l.ID), Body: lf})
		}
		g.lines = append(g.lines, l)
	}
	for i, p := range s.Payments {
		g.graph.Requests = append(g.graph.Requests, salesforce.Subrequest{Method: "PATCH", ReferenceID: fmt.Sprintf("payment%d", i),
			URL: "sobjects/" + paymentObject + "/" + paymentIDField + "/" + url.PathEscape(p.ID), Body: w.paymentFields(p, "@{sale.id}")})
		g.pays = append(g.pays, p)
	}
	return g, nil
}

// saleFields are the sale's Salesforce fields: the fixed shape, then the
// merchant's mapping.
func (w *saleWriter) saleFields(ps *pendingSale) map[string]any {
	m := w.model
	s := ps.sale
	fields := map[string]any{
		"Name":                   truncate(s.Values[mapping.SaleShop]+" "+saleLabel(s), 80),
		"Lightspeed_Shop__c":     nilIfEmpty(s.Values[mapping.SaleShop]),
		"Lightspeed_Register__c": nilIfEmpty(s.Values[mapping.SaleRegister]),
		"Lightspeed_Employee__c": nilIfEmpty(s.Values[mapping.SaleRegisterEmployee]),
		"Lightspeed_Channel__c":  s.Values[mapping.SaleChannel],
		"Lightspeed_Tax__c":      json.Number(s.Values[mapping.SaleTax]),
	}
	if m.custom {
		fields["Total__c"] = json.Number(s.Values[mapping.SaleTotal])
		fields["Voided__c"] = s.Voided
		fields["Customer__c"] = nilIfEmpty(ps.contact)
		if !s.CompletedAt.IsZero() {
			fields["Completed_At__c"] = s.CompletedAt.UTC().Format("2006-01-02T15:04:05.000Z")
		}
	} else {
		fields["Lightspeed_Total__c"] = json.Number(s.Values[mapping.SaleTotal])
		fields["StageName"] = stageWon
		if s.Voided {
			fields["StageName"] = stageLost
		}
		fields["CloseDate"] = s.CompletedAt.In(w.loc).Format(time.DateOnly)
		if w.pricebook != "" {
			fields["Pricebook2Id"] = w.pricebook
		}
		if w.mapping.Preset == mapping.PresetPersonAccounts {
			fields["AccountId"] = nilIfEmpty(ps.contact)
		} else {
			fields["ContactId"] = nilIfEmpty(ps.contact)
			if ps.account != "" || ps.linked {
				fields["AccountId"] = nilIfEmpty(ps.account)
			}
		}
	}
	maps.Copy(fields, w.mapping.SalesToSalesforce(mapping.StreamSales, m.saleObject, s.Values))
	return fields
}

// lineFields are a line's Salesforce fields, with parent as its sale. A
// line already in Salesforce (Classic) is updated by existing, its Id,
// without the fields an opportunity product only takes on create.
func (w *saleWriter) lineFields(ps *pendingSale, l mapping.SaleLine, products map[string]product, parent string) (fields map[string]any, existing string, err error) {
	m := w.model
	p, ok := products[l.ItemID]
	if !ok {
		return nil, "", fmt.Errorf("Not sent: the product of line %s (Lightspeed item #%s) is not in Salesforce.", l.ID, l.ItemID)
	}
	lf := map[string]any{
		m.lineQuantity: l.Quantity,
		m.linePrice:    json.Number(l.UnitPrice.StringFixed(2)),
		parentIDField:  nilIfEmpty(l.ParentID),
	}
	if m.custom {
		lf["Name"] = truncate(cmpOr(l.Values[mapping.LineItem], "Item "+l.ItemID), 80)
		lf[m.lineEmployee] = nilIfEmpty(l.Values[mapping.LineEmployee])
	}
	maps.Copy(lf, w.mapping.SalesToSalesforce(mapping.StreamLines, m.lineObject, l.Values))
	if id, ok := ps.lineIDs[l.ID]; ok && !m.custom {
		return lf, id, nil
	}
	lf[m.lineParent] = parent
	if m.custom {
		lf[m.lineProduct] = p.productID
	} else {
		if p.entryID == "" {
			return nil, "", fmt.Errorf("Not sent: the product of line %s (Lightspeed item #%s) has no standard price.", l.ID, l.ItemID)
		}
		lf[m.lineProduct] = p.entryID
	}
	return lf, "", nil
}

// paymentFields are a payment's Salesforce fields, with parent as its sale.
func (w *saleWriter) paymentFields(p mapping.Payment, parent string) map[string]any {
	pf := map[string]any{
		"Payment_Type__c":     nilIfEmpty(p.Values[mapping.PaymentType]),
		"Amount__c":           json.Number(p.Amount.StringFixed(2)),
		w.model.paymentParent: parent,
	}
	maps.Copy(pf, w.mapping.SalesToSalesforce(mapping.StreamPayments, paymentObject, p.Values))
	return pf
}

// record turns one sale's graph result into events and links.
func (w *saleWriter) record(g *saleGraph, res salesforce.GraphResult, page *ledger.Page) {
	ps := g.ps
	if !res.IsSuccessful {
		code, msg := graphFailure(res)
		page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale, LSID: ps.sale.ID,
			SFID: ps.link.SFID, Label: ps.label, Code: code, Message: msg})
		return
	}
	byRef := map[string]salesforce.SubResponse{}
	for _, r := range res.Responses {
		byRef[r.ReferenceID] = r
	}
	sale := byRef["sale"]
	sfID := sale.ID()
	if sfID == "" {
		sfID = ps.link.SFID
	}
	var created struct {
		Created bool `json:"created"`
	}
	json.Unmarshal(sale.Body, &created)
	action, msg := ledger.ActionUpdated, ""
	switch {
	case created.Created || sale.HTTPStatusCode == 201:
		action = ledger.ActionCreated
	case !ps.linked:
		action, msg = ledger.ActionLinked, "Already in Salesforce (sent before): updated and linked."
	}
	if ps.sale.Voided {
		if w.model.custom {
			msg = "Voided in Lightspeed: Voided__c is ticked in Salesforce."
		} else {
			msg = "Voided in Lightspeed: the opportunity is marked Closed Lost."
		}
	}
	if ps.note != "" {
		msg = strings.TrimSpace(msg + " " + ps.note)
	}
	detail := map[string]any{"lines": len(g.lines), "payments": len(g.pays), "total": ps.sale.Values[mapping.SaleTotal],
		"channel": ps.sale.Values[mapping.SaleChannel]}
	page.Events = append(page.Events, ledger.Event{Action: action, Kind: ledger.KindSale, LSID: ps.sale.ID, SFID: sfID,
		Label: ps.label, Message: msg, Detail: detail})
	link := ps.link
	link.Kind, link.LSID, link.SFID, link.State, link.LSHash = ledger.KindSale, ps.sale.ID, sfID, ledger.LinkActive, ps.hash
	page.Links = append(page.Links, link)
	for i, l := range g.lines {
		id := byRef[fmt.Sprintf("line%d", i)].ID()
		if id == "" {
			id = ps.lineIDs[l.ID]
		}
		if id != "" {
			page.Links = append(page.Links, ledger.Link{Kind: ledger.KindSaleLine, LSID: l.ID, SFID: id})
		}
	}
	for i, p := range g.pays {
		if id := byRef[fmt.Sprintf("payment%d", i)].ID(); id != "" {
			page.Links = append(page.Links, ledger.Link{Kind: ledger.KindPayment, LSID: p.ID, SFID: id})
		}
	}
}

// graphFailure is a failed graph's first real error, as the API gave it.
func graphFailure(res salesforce.GraphResult) (code, message string) {
	var halted []salesforce.ErrorDetail
	for _, r := range res.Responses {
		if r.HTTPStatusCode/100 == 2 {
			continue
		}
		var details []salesforce.ErrorDetail
		if json.Unmarshal(r.Body, &details) != nil || len(details) == 0 {
			continue
		}
		if details[0].Code == salesforce.CodeProcessingHalted && !strings.Contains(details[0].Message, "Invalid reference") {
			halted = details
			continue
		}
		code, message = firstError(details)
		return code, stepName(r.ReferenceID) + message
	}
	return firstError(halted)
}

// stepName says which part of a sale a graph step wrote.
func stepName(ref string) string {
	switch {
	case ref == "sale":
		return "The sale: "
	case strings.HasPrefix(ref, "line"):
		n, _ := strconv.Atoi(strings.TrimPrefix(ref, "line"))
		return fmt.Sprintf("Line %d: ", n+1)
	case strings.HasPrefix(ref, "payment"):
		n, _ := strconv.Atoi(strings.TrimPrefix(ref, "payment"))
		return fmt.Sprintf("Payment %d: ", n+1)
	}
	return ""
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// truncate cuts s to n characters (runes).
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
