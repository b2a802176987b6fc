package sync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
)

// customerRelations are loaded with every customer page: one call brings
// the customer with everything the mapping reads.
var customerRelations = []string{"Contact", "CustomFieldValues", "CustomerType"}

// customersToSalesforce sends changed Lightspeed customers to Salesforce.
func (rc *runContext) customersToSalesforce(ctx context.Context) (more bool, err error) {
	ls, w, err := rc.customerSides(ctx)
	if err != nil {
		return false, err
	}
	sf := w.sf
	pos, _, err := rc.ledger.Cursor(ctx, rc.key)
	if err != nil {
		return false, err
	}
	q := lightspeed.NewQuery().Archived(lightspeed.ArchivedInclude).Sort("timeStamp", false).
		LoadRelations(customerRelations...).Limit(lightspeed.MaxLimit)
	if since, err := time.Parse(time.RFC3339Nano, pos); err == nil {
		q.Where("timeStamp", lightspeed.GreaterEq, since.Add(-rc.opts.Overlap))
	}
	// Pages are read ahead while the previous batch is written: the two
	// APIs are far apart, and neither waits for the other.
	pages := readAhead(ctx, 1, 0, func(ctx context.Context, next string) ([]lightspeed.Customer, string, error) {
		var cs []lightspeed.Customer
		var resp *lightspeed.Response
		var err error
		if next == "" {
			cs, resp, err = ls.Customers.List(ctx, q)
		} else {
			cs, resp, err = ls.Customers.ListNext(ctx, next)
		}
		if err != nil {
			return nil, "", fmt.Errorf("read Lightspeed customers: %w", err)
		}
		return cs, resp.Next, nil
	})
	defer pages.stop()
	var batch []lightspeed.Customer
	for batches := 0; ; {
		p, ok := pages.next()
		if !ok {
			// The reader stops early only when the run's context ends.
			return false, ctx.Err()
		}
		if p.err != nil {
			return false, p.err
		}
		if err := rc.checkReserve(sf); err != nil {
			return false, err
		}
		batch = append(batch, p.items...)
		last := p.nextURL == ""
		if len(batch) >= rc.opts.BatchSize || last {
			if len(batch) > 0 {
				if err := w.writeBatch(ctx, batch); err != nil {
					return false, err
				}
				batches++
			}
			batch = batch[:0]
		}
		if last {
			return false, nil
		}
		if rc.enough(batches) && len(batch) == 0 {
			return true, nil
		}
	}
}

// customerWriter writes batches of Lightspeed customers to Salesforce.
type customerWriter struct {
	*runContext
	sf       *salesforce.Client
	object   string
	idField  string
	email    string
	toSF     []string // canonical keys sent to Salesforce
	twoWay   []string // canonical keys that also come back
	hashKeys []string // toSF and twoWay, sorted: what the Lightspeed hash covers
	personRT string   // the person-account record type, for creates
	// force sends linked customers whose values did not change (a resync
	// after the mapping changed) and leaves the cursor where it is.
	force bool
}

func (rc *runContext) newCustomerWriter(ctx context.Context, sf *salesforce.Client) (*customerWriter, error) {
	if err := rc.confirmDrift(ctx, sf); err != nil {
		return nil, err
	}
	p := rc.mapping.Preset
	w := &customerWriter{runContext: rc, sf: sf, object: p.CustomerObject(), idField: p.CustomerIDField(),
		email: p.EmailField(), toSF: rc.mapping.Keys(mapping.StreamCustomers, true),
		twoWay: rc.mapping.Keys(mapping.StreamCustomers, false)}
	w.hashKeys = slices.Compact(slices.Sorted(slices.Values(slices.Concat(w.toSF, w.twoWay))))
	if p == mapping.PresetPersonAccounts {
		for rec, err := range sf.Query(ctx, "SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND IsPersonType = true", nil) {
			if err != nil {
				return nil, fmt.Errorf("find the person account record type: %w", err)
			}
			w.personRT = rec.ID()
			break
		}
		if w.personRT == "" {
			return nil, fmt.Errorf("the Salesforce org has no person account record type: choose Contacts in setup, or enable person accounts")
		}
	}
	return w, nil
}

// lsHashKeys are the keys whose values the Lightspeed side's hash covers,
// computed once per writer (they are read for every record).
func (w *customerWriter) lsHashKeys() []string { return w.hashKeys }

// sfCandidate is a Salesforce record the batch's query found.
type sfCandidate struct {
	id, lsID, email string
	modstamp        time.Time
	values          mapping.Record // two-way keys as Salesforce has them
}

// pendingWrite is one record of the batch's Salesforce write.
type pendingWrite struct {
	lsID     string
	label    string
	rec      mapping.Record // Lightspeed's canonical values
	link     ledger.Link    // the link to store on success
	action   string         // created/updated/linked on success
	message  string
	byID     bool // update by Salesforce Id (an email match not yet keyed)
	fields   map[string]any
	conflict map[string]any
	changed  []string
	// aliasOf is the customer of the same batch, with the same email, whose
	// new Salesforce record this one links to.
	aliasOf *pendingWrite
	result  *salesforce.SaveResult
}

func (w *customerWriter) writeBatch(ctx context.Context, customers []lightspeed.Customer) error {
	page, err := w.sendBatch(ctx, customers)
	if err != nil {
		return err
	}
	lastStamp := time.Time{}
	for i := range customers {
		if customers[i].TimeStamp.After(lastStamp) {
			lastStamp = customers[i].TimeStamp
		}
	}
	if !lastStamp.IsZero() && !w.force {
		pos := lastStamp.UTC().Format(time.RFC3339Nano)
		page.Cursor = &pos
	}
	return w.commit(ctx, page)
}

// sendBatch writes customers to Salesforce and returns the page of events
// and links to commit, without a cursor: the sales stream sends a sale's
// customer through it too, before the sale.
func (w *customerWriter) sendBatch(ctx context.Context, customers []lightspeed.Customer) (ledger.Page, error) {
	// The same customer twice in a batch (overlap) is written once, as its
	// latest version.
	byID := map[string]*lightspeed.Customer{}
	var order []string
	for i := range customers {
		c := &customers[i]
		id := strconv.FormatInt(c.CustomerID, 10)
		if _, seen := byID[id]; !seen {
			order = append(order, id)
		}
		byID[id] = c
	}
	links, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, ledger.KindCustomer, order)
	if err != nil {
		return ledger.Page{}, err
	}
	hashKeys := w.lsHashKeys()
	var page ledger.Page
	var todo []*pendingWrite
	var lookupIDs, lookupEmails, lookupSF []string
	unchanged := 0
	for _, id := range order {
		c := byID[id]
		rec := mapping.FromLightspeedCustomer(c)
		label := customerLabel(rec)
		link, linked := links[id]
		h := mapping.Hash(rec, hashKeys)
		switch {
		case linked && link.State == ledger.LinkAlias:
			if link.LSHash != h {
				link.LSHash = h
				page.Links = append(page.Links, link)
				page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer,
					LSID: id, SFID: link.SFID, Label: label,
					Message: "Not sent: this customer shares an email with another Lightspeed customer and is linked to that customer's Salesforce record. " + link.Note})
			} else {
				unchanged++
			}
			continue
		case linked && link.State == ledger.LinkGone:
			if link.LSHash != h {
				link.LSHash = h
				page.Links = append(page.Links, link)
				page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer,
					LSID: id, SFID: link.SFID, Label: label,
					Message: "Not sent: the Salesforce record was deleted, and Tandem does not re-create records deleted in Salesforce."})
			} else {
				unchanged++
			}
			continue
		case linked && link.LSHash == h && !w.force:
			unchanged++
			continue
		case !linked && c.Archived:
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer,
				LSID: id, Label: label, Message: "Not sent: archived in Lightspeed."})
			continue
		}
		pw := &pendingWrite{lsID: id, label: label, rec: rec}
		if linked {
			pw.link = link
			lookupSF = append(lookupSF, link.SFID)
		} else {
			lookupIDs = append(lookupIDs, id)
			if e := rec[mapping.CustEmail]; e != "" {
				lookupEmails = append(lookupEmails, e)
			}
		}
		todo = append(todo, pw)
	}
	if len(todo) > 0 {
		found, err := w.lookup(ctx, lookupIDs, lookupEmails, lookupSF)
		if err != nil {
			return ledger.Page{}, err
		}
		w.plan(todo, found, byID, &page)
		if err := w.write(ctx, todo, &page); err != nil {
			return ledger.Page{}, err
		}
	}
	page.Unchanged = unchanged
	return page, nil
}

// lookup finds, in one query, the Salesforce records the batch may match:
// by Lightspeed Customer ID, by email, or by the Salesforce id of a link
// (for the current values of two-way fields).
func (w *customerWriter) lookup(ctx context.Context, lsIDs, emails, sfIDs []string) (map[string]*sfCandidate, error) {
	var conds []string
	if len(lsIDs) > 0 {
		conds = append(conds, w.idField+" IN "+soqlList(lsIDs))
	}
	if len(emails) > 0 {
		conds = append(conds, w.email+" IN "+soqlList(emails))
	}
	if len(sfIDs) > 0 {
		conds = append(conds, "Id IN "+soqlList(sfIDs))
	}
	fields := []string{"Id", w.idField, w.email, "SystemModstamp"}
	for _, r := range w.mapping.Stream(mapping.StreamCustomers) {
		if r.Object == w.object && r.Direction.ToLS() {
			fields = append(fields, r.Target)
		}
	}
	slices.Sort(fields)
	fields = slices.Compact(fields)
	soql := "SELECT " + strings.Join(fields, ", ") + " FROM " + w.object + " WHERE (" + strings.Join(conds, " OR ") + ")"
	if w.object == "Account" {
		soql += " AND IsPersonAccount = true"
	}
	soql += " ORDER BY CreatedDate, Id"
	out := map[string]*sfCandidate{}
	for rec, err := range w.sf.Query(ctx, soql, nil) {
		if err != nil {
			return nil, fmt.Errorf("match customers in Salesforce: %w", err)
		}
		modstamp, _ := rec.Time("SystemModstamp")
		cand := &sfCandidate{id: rec.ID(), lsID: rec.String(w.idField), email: rec.String(w.email), modstamp: modstamp,
			values: w.mapping.FromSalesforce(mapping.StreamCustomers, w.object, rec.String)}
		out[cand.id] = cand
	}
	return out, nil
}

// plan decides, for each customer to write, whether it creates, updates,
// links or folds into another's record, and which fields it sends.
func (w *customerWriter) plan(todo []*pendingWrite, found map[string]*sfCandidate, byID map[string]*lightspeed.Customer, page *ledger.Page) {
	byLSID := map[string]*sfCandidate{}
	byEmail := map[string]*sfCandidate{}
	for _, c := range found {
		if c.lsID != "" {
			if _, ok := byLSID[c.lsID]; !ok {
				byLSID[c.lsID] = c
			}
		}
		if e := strings.ToLower(c.email); e != "" {
			if _, ok := byEmail[e]; !ok {
				byEmail[e] = c
			}
		}
	}
	// Which Salesforce records already belong to someone: the lookup found
	// them keyed by another Lightspeed id, or an earlier customer of this
	// batch took them.
	claimed := map[string]string{}
	creating := map[string]*pendingWrite{}
	for _, c := range found {
		if c.lsID != "" {
			claimed[c.id] = c.lsID
		}
	}
	for i, pw := range todo {
		if pw.link.SFID != "" { // linked: an update
			cand := found[pw.link.SFID]
			if cand == nil {
				// Deleted or merged in Salesforce since the last sync: an
				// upsert would re-create it. The other stream reads the
				// delete (or merge) and marks or moves the link.
				page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer,
					LSID: pw.lsID, SFID: pw.link.SFID, Label: pw.label,
					Message: "Not sent: the linked Salesforce record was not found (deleted or merged in Salesforce). Tandem does not re-create it."})
				todo[i] = nil
				continue
			}
			pw.action = ledger.ActionUpdated
			skip := w.conflicts(pw, cand, byID[pw.lsID])
			pw.fields = w.mapping.ToSalesforce(mapping.StreamCustomers, w.object, pw.rec, skip)
			pw.fields[w.idField] = pw.lsID
			if cand.lsID != pw.lsID {
				// The record lost its key (edited, or a merge survivor):
				// update it by Id, which also writes the key back.
				pw.byID = true
			}
			continue
		}
		pw.link = ledger.Link{Kind: ledger.KindCustomer, LSID: pw.lsID}
		if cand, ok := byLSID[pw.lsID]; ok {
			pw.link.SFID, pw.action = cand.id, ledger.ActionLinked
			pw.message = "Linked to the Salesforce record that already carries this Lightspeed Customer ID."
			pw.fields = w.mapping.ToSalesforce(mapping.StreamCustomers, w.object, pw.rec, nil)
			pw.fields[w.idField] = pw.lsID
			continue
		}
		email := strings.ToLower(pw.rec[mapping.CustEmail])
		if first, ok := creating[email]; ok && email != "" {
			pw.aliasOf, pw.action = first, ledger.ActionLinked
			pw.link.State = ledger.LinkAlias
			pw.link.Note = fmt.Sprintf("It shares the email %s with Lightspeed customer #%s.", pw.rec[mapping.CustEmail], first.lsID)
			pw.message = "Linked, not created: this customer shares the email " + pw.rec[mapping.CustEmail] +
				" with Lightspeed customer #" + first.lsID + ", whose Salesforce record it now shares. Changes to this customer are not sent."
			continue
		}
		if cand, ok := byEmail[email]; ok && email != "" {
			if owner, taken := claimed[cand.id]; taken && owner != pw.lsID {
				// Several Lightspeed customers, one email: one Salesforce
				// record. The first keeps it; the others link to it.
				pw.link.SFID, pw.link.State = cand.id, ledger.LinkAlias
				pw.link.Note = fmt.Sprintf("It shares the email %s with Lightspeed customer #%s.", pw.rec[mapping.CustEmail], owner)
				pw.action = ledger.ActionLinked
				pw.message = "Linked, not created: this customer shares the email " + pw.rec[mapping.CustEmail] +
					" with Lightspeed customer #" + owner + ", whose Salesforce record it now shares. Changes to this customer are not sent."
				pw.link.LSHash = mapping.Hash(pw.rec, w.lsHashKeys())
				page.Links = append(page.Links, pw.link)
				page.Events = append(page.Events, ledger.Event{Action: pw.action, Kind: ledger.KindCustomer, LSID: pw.lsID,
					SFID: cand.id, Label: pw.label, Message: pw.message})
				todo[i] = nil
				continue
			}
			claimed[cand.id] = pw.lsID
			pw.link.SFID, pw.action, pw.byID = cand.id, ledger.ActionLinked, true
			pw.message = "Linked by email (" + pw.rec[mapping.CustEmail] + ") to an existing Salesforce record; the Lightspeed Customer ID was written to it."
			pw.fields = w.mapping.ToSalesforce(mapping.StreamCustomers, w.object, pw.rec, nil)
			pw.fields[w.idField] = pw.lsID
			continue
		}
		pw.action = ledger.ActionCreated
		pw.fields = w.mapping.ToSalesforce(mapping.StreamCustomers, w.object, pw.rec, nil)
		pw.fields[w.idField] = pw.lsID
		if w.personRT != "" {
			pw.fields["RecordTypeId"] = w.personRT
		}
		if email != "" {
			// A later customer of this batch with the same email folds
			// into this one.
			creating[email] = pw
		}
	}
}

// conflicts compares a linked customer's two-way fields on both sides with
// the values last agreed. A field changed on both sides to different values
// is a conflict: the later change wins (Lightspeed's timeStamp against
// Salesforce's SystemModstamp). It returns the keys Salesforce won, which
// are not sent.
func (w *customerWriter) conflicts(pw *pendingWrite, cand *sfCandidate, c *lightspeed.Customer) map[string]bool {
	agreed := pw.link.Values
	var skip map[string]bool
	for _, k := range w.toSF {
		if pw.rec[k] != agreed[k] {
			pw.changed = append(pw.changed, k)
		}
	}
	for _, k := range w.twoWay {
		lsVal, sfVal, was := pw.rec[k], cand.values[k], agreed[k]
		if lsVal == was || sfVal == was || lsVal == sfVal {
			continue
		}
		winner := "lightspeed"
		if cand.modstamp.After(c.TimeStamp) {
			winner = "salesforce"
			if skip == nil {
				skip = map[string]bool{}
			}
			skip[k] = true
		}
		if pw.conflict == nil {
			pw.conflict = map[string]any{}
		}
		pw.conflict[k] = map[string]any{"lightspeed": lsVal, "salesforce": sfVal, "before": was, "winner": winner}
	}
	if len(skip) > 0 {
		// street and street 2 travel as one Salesforce field.
		if skip[mapping.CustStreet] || skip[mapping.CustStreet2] {
			skip[mapping.CustStreet], skip[mapping.CustStreet2] = true, true
		}
	}
	return skip
}

// write sends the batch in at most two Collections calls (upserts keyed by
// Lightspeed Customer ID; updates by Id for records matched by email), and
// turns each record's result into an event and, on success, a link.
func (w *customerWriter) write(ctx context.Context, todo []*pendingWrite, page *ledger.Page) error {
	var upserts, updates, aliases []*pendingWrite
	for _, pw := range todo {
		if pw == nil {
			continue
		}
		if pw.aliasOf != nil {
			aliases = append(aliases, pw)
			continue
		}
		if pw.byID {
			updates = append(updates, pw)
		} else {
			upserts = append(upserts, pw)
		}
	}
	// A write refused because the describe was stale (a mapped field was
	// deleted or renamed in Salesforce) is sent again, once, without the
	// fields that drifted.
	var stale []*pendingWrite
	send := func(batch []*pendingWrite, byID, retry bool) error {
		if len(batch) == 0 {
			return nil
		}
		records := make([]map[string]any, len(batch))
		for i, pw := range batch {
			rec := maps.Clone(pw.fields)
			if byID {
				rec["Id"] = pw.link.SFID
				delete(rec, "RecordTypeId")
			}
			records[i] = rec
		}
		var results []salesforce.SaveResult
		var err error
		if byID {
			results, err = w.sf.UpdateRecords(ctx, w.object, records, nil)
		} else {
			results, err = w.sf.UpsertRecords(ctx, w.object, w.idField, records, nil)
		}
		if err != nil {
			return fmt.Errorf("write customers to Salesforce: %w", err)
		}
		for i, pw := range batch {
			if i >= len(results) {
				break
			}
			if !retry && !results[i].Success && unknownField(results[i]) {
				stale = append(stale, pw)
				continue
			}
			pw.result = &results[i]
			w.record(pw, results[i], page)
		}
		return nil
	}
	if err := send(upserts, false, false); err != nil {
		return err
	}
	if err := send(updates, true, false); err != nil {
		return err
	}
	if len(stale) > 0 {
		if err := w.resendStale(ctx, stale, send); err != nil {
			return err
		}
	}
	for _, pw := range aliases {
		first := pw.aliasOf
		if first.result == nil || !first.result.Success {
			// The record it would share was not created; it is tried
			// again with its next change.
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer,
				LSID: pw.lsID, Label: pw.label,
				Message: "Not sent: it shares its email with Lightspeed customer #" + first.lsID + ", whose Salesforce record could not be created."})
			continue
		}
		pw.link.SFID = first.link.SFID
		pw.link.LSHash = mapping.Hash(pw.rec, w.lsHashKeys())
		page.Links = append(page.Links, pw.link)
		page.Events = append(page.Events, ledger.Event{Action: ledger.ActionLinked, Kind: ledger.KindCustomer,
			LSID: pw.lsID, SFID: pw.link.SFID, Label: pw.label, Message: pw.message})
	}
	return nil
}

// resendStale refreshes the describe after writes named a field Salesforce
// no longer has, and sends those records again without the drifted fields.
// When the describe shows nothing new, the records fail as Salesforce said.
func (w *customerWriter) resendStale(ctx context.Context, stale []*pendingWrite, send func([]*pendingWrite, bool, bool) error) error {
	drifted, err := w.refreshDrift(ctx, w.sf, w.object)
	if err != nil {
		return fmt.Errorf("refresh the %s describe: %w", w.object, err)
	}
	var upserts, updates []*pendingWrite
	for _, pw := range stale {
		for _, d := range drifted {
			if d.Rule.Object == w.object {
				delete(pw.fields, d.Rule.Target)
			}
		}
		if pw.byID {
			updates = append(updates, pw)
		} else {
			upserts = append(upserts, pw)
		}
	}
	if err := send(upserts, false, true); err != nil {
		return err
	}
	return send(updates, true, true)
}

// record turns one write result into an event and a link.
func (w *customerWriter) record(pw *pendingWrite, res salesforce.SaveResult, page *ledger.Page) {
	ev := ledger.Event{Kind: ledger.KindCustomer, LSID: pw.lsID, SFID: pw.link.SFID, Label: pw.label}
	if !res.Success {
		ev.Action = ledger.ActionFailed
		ev.Code, ev.Message = firstError(res.Errors)
		page.Events = append(page.Events, ev)
		return
	}
	if res.ID != "" {
		pw.link.SFID, ev.SFID = res.ID, res.ID
	}
	ev.Action = pw.action
	if pw.action == ledger.ActionUpdated && res.Created {
		ev.Action = ledger.ActionCreated
	}
	ev.Message = pw.message
	// The values both sides now agree on are Lightspeed's. Where
	// Salesforce won a conflict, its value differs from them, so the other
	// stream sees it as a change to bring to Lightspeed.
	agreed := pw.rec.Subset(w.lsHashKeys())
	pw.link.Values = agreed
	pw.link.LSHash = mapping.Hash(pw.rec, w.lsHashKeys())
	pw.link.SFHash = mapping.Hash(agreed, w.twoWay)
	if pw.link.State == "" {
		pw.link.State = ledger.LinkActive
	}
	detail := map[string]any{}
	if len(pw.changed) > 0 {
		detail["changed"] = pw.changed
	}
	page.Links = append(page.Links, pw.link)
	if len(pw.conflict) > 0 {
		detail["conflict"] = pw.conflict
		page.Events = append(page.Events, ledger.Event{Action: ledger.ActionConflict, Kind: ledger.KindCustomer,
			LSID: pw.lsID, SFID: pw.link.SFID, Label: pw.label, Detail: detail,
			Message: "Changed in both Lightspeed and Salesforce since the last sync; the later change wins."})
	}
	ev.Detail = detail
	page.Events = append(page.Events, ev)
}

// firstError is a failed record's code and message, as the API gave them.
func firstError(errs []salesforce.ErrorDetail) (code, message string) {
	if len(errs) == 0 {
		return "UNKNOWN_ERROR", "Salesforce refused the record without saying why."
	}
	var msgs []string
	for _, e := range errs {
		m := e.Code + ": " + e.Message
		if len(e.Fields) > 0 {
			m += " (" + strings.Join(e.Fields, ", ") + ")"
		}
		msgs = append(msgs, m)
	}
	return errs[0].Code, strings.Join(msgs, "; ")
}

// customerLabel is what a person searches a customer by.
func customerLabel(rec mapping.Record) string {
	name := strings.TrimSpace(rec[mapping.CustFirst] + " " + rec[mapping.CustLast])
	if e := rec[mapping.CustEmail]; e != "" {
		if name == "" {
			return e
		}
		return name + " <" + e + ">"
	}
	if name == "" {
		return "#" + rec[mapping.CustID]
	}
	return name
}

// soqlList is a SOQL IN list of string literals.
func soqlList(values []string) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		appendSOQLString(&b, v)
	}
	b.WriteByte(')')
	return b.String()
}

// soqlString quotes s as a SOQL string literal.
func soqlString(s string) string {
	var b strings.Builder
	appendSOQLString(&b, s)
	return b.String()
}

// appendSOQLString writes s to b as a SOQL string literal. It escapes
// byte by byte rather than with a strings.Replacer, which would be built
// anew for every value of every batch.
func appendSOQLString(b *strings.Builder, s string) {
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := range len(s) {
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
}
