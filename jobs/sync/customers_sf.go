package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
)

// sfCursor is the customers:sf→ls position: the SystemModstamp reached, and
// when the stream first ran (contacts created before it are Salesforce's
// own, not new customers, unless the merchant asked for them).
type sfCursor struct {
	Since time.Time `json:"since"`
	Setup time.Time `json:"setup"`
}

// customersToLightspeed brings Salesforce changes to two-way fields to
// Lightspeed, creates Salesforce-born customers in Lightspeed (writing the
// new Lightspeed Customer ID back), and follows deletes and merges.
func (rc *runContext) customersToLightspeed(ctx context.Context) (more bool, err error) {
	ls, w, err := rc.customerSides(ctx)
	if err != nil {
		return false, err
	}
	sf := w.sf
	r := &sfReader{customerWriter: w, ls: ls}
	var cur sfCursor
	pos, ok, err := rc.ledger.Cursor(ctx, rc.key)
	if err != nil {
		return false, err
	}
	if ok {
		if err := json.Unmarshal([]byte(pos), &cur); err != nil {
			return false, fmt.Errorf("read cursor %q: %w", pos, err)
		}
	} else {
		cur.Setup = rc.opts.Now().UTC()
		if !rc.cfg.CreateExistingInLightspeed {
			cur.Since = cur.Setup
		}
	}
	r.setup = cur.Setup
	soql, err := r.query(ctx, cur.Since.Add(-rc.opts.Overlap))
	if err != nil {
		return false, err
	}
	var batch []salesforce.Record
	batches := 0
	flush := func() error {
		if len(batch) > 0 {
			last, _ := batch[len(batch)-1].Time("SystemModstamp")
			if last.After(cur.Since) {
				cur.Since = last
			}
		}
		if err := r.batch(ctx, batch, cur); err != nil {
			return err
		}
		batch = batch[:0]
		batches++
		return nil
	}
	for rec, err := range sf.QueryAll(ctx, soql, &salesforce.QueryOptions{BatchSize: 2000}) {
		if err != nil {
			return false, fmt.Errorf("read Salesforce changes: %w", err)
		}
		batch = append(batch, rec)
		if len(batch) >= rc.opts.BatchSize {
			if err := rc.checkReserve(sf); err != nil {
				return false, err
			}
			if err := flush(); err != nil {
				return false, err
			}
			if rc.enough(batches) {
				return true, nil
			}
		}
	}
	if len(batch) > 0 || !ok {
		return false, flush()
	}
	return false, nil
}

type sfReader struct {
	*customerWriter
	ls          *lightspeed.Client
	setup       time.Time
	hasMaster   bool
	createdRule string // the Salesforce field of the created date, if mapped
}

func (r *sfReader) query(ctx context.Context, since time.Time) (string, error) {
	return r.selectWhere(ctx, "SystemModstamp >= "+since.UTC().Format("2006-01-02T15:04:05Z"))
}

// selectWhere is the stream's query of the customer object, restricted by
// the SOQL condition where.
func (r *sfReader) selectWhere(ctx context.Context, where string) (string, error) {
	fields := []string{"Id", "IsDeleted", "FirstName", "LastName", "CreatedDate", "SystemModstamp", r.idField, r.email}
	has, err := r.masterRecordID(ctx)
	if err != nil {
		return "", err
	}
	if has {
		r.hasMaster = true
		fields = append(fields, "MasterRecordId")
	}
	if r.cachesAccounts() {
		fields = append(fields, "AccountId")
	}
	for _, rule := range r.mapping.Stream(mapping.StreamCustomers) {
		if rule.Object != r.object {
			continue
		}
		if rule.Direction.ToLS() {
			fields = append(fields, rule.Target)
		}
		if rule.Source == mapping.CustCreated {
			r.createdRule = rule.Target
		}
	}
	slices.Sort(fields)
	fields = slices.Compact(fields)
	soql := "SELECT " + strings.Join(fields, ", ") + " FROM " + r.object + " WHERE " + where
	if r.object == "Account" {
		soql += " AND IsPersonAccount = true"
	}
	return soql + " ORDER BY SystemModstamp, Id", nil
}

// masterRecordID reports whether the customer object has MasterRecordId,
// describing it once per tenant and object in this process (Engine.masters).
func (r *sfReader) masterRecordID(ctx context.Context) (bool, error) {
	key := r.key.TenantID + "/" + r.object
	if has, ok := r.masters.Load(key); ok {
		return has.(bool), nil
	}
	d, err := r.sf.Describe(ctx, r.object)
	if err != nil {
		return false, fmt.Errorf("describe %s: %w", r.object, err)
	}
	has := d.Field("MasterRecordId") != nil
	r.masters.Store(key, has)
	return has, nil
}

// sfChange is one Salesforce record of a batch that needs Lightspeed work.
type sfChange struct {
	rec     salesforce.Record
	id      string
	values  mapping.Record // two-way keys as Salesforce has them
	hash    string
	link    ledger.Link
	changed []string
	label   string
}

func (r *sfReader) batch(ctx context.Context, records []salesforce.Record, cur sfCursor) error {
	ids := make([]string, 0, len(records))
	latest := map[string]salesforce.Record{}
	for _, rec := range records {
		if _, seen := latest[rec.ID()]; !seen {
			ids = append(ids, rec.ID())
		}
		latest[rec.ID()] = rec
	}
	links, err := r.ledger.LinksBySalesforce(ctx, r.key.TenantID, ledger.KindCustomer, ids)
	if err != nil {
		return err
	}
	var page ledger.Page
	if err := r.accounts(ctx, ids, latest, &page); err != nil {
		return err
	}
	var updates, creates []*sfChange
	for _, id := range ids {
		rec := latest[id]
		link, linked := links[id]
		if deleted, _ := rec.Get("IsDeleted").(bool); deleted {
			if linked && link.State != ledger.LinkGone {
				r.deleted(rec, link, &page)
			}
			continue
		}
		vals := r.mapping.FromSalesforce(mapping.StreamCustomers, r.object, rec.String)
		ch := &sfChange{rec: rec, id: id, values: vals, hash: mapping.Hash(vals, r.twoWay), link: link,
			label: sfLabel(rec, r.email)}
		switch {
		case linked && link.State == ledger.LinkActive:
			if ch.hash == link.SFHash {
				page.Unchanged++
				continue
			}
			for _, k := range r.twoWay {
				if vals[k] != link.Values[k] {
					ch.changed = append(ch.changed, k)
				}
			}
			if len(ch.changed) == 0 {
				link.SFHash = ch.hash
				page.Links = append(page.Links, link)
				page.Unchanged++
				continue
			}
			updates = append(updates, ch)
		case linked && link.State == ledger.LinkPending:
			creates = append(creates, ch)
		case linked:
			page.Unchanged++ // alias or gone: Salesforce changes go nowhere
		case rec.String(r.idField) != "":
			// Keyed by the Lightspeed → Salesforce stream, which links it.
			page.Unchanged++
		default:
			created, _ := rec.Time("CreatedDate")
			if created.Before(r.setup) && !r.cfg.CreateExistingInLightspeed {
				page.Unchanged++
				continue
			}
			creates = append(creates, ch)
		}
	}
	if err := r.update(ctx, updates, &page); err != nil {
		return err
	}
	if err := r.create(ctx, creates, &page); err != nil {
		return err
	}
	pos, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	p := string(pos)
	page.Cursor = &p
	return r.commit(ctx, page)
}

// accounts keeps the cache of each contact's account (kindContactAccount,
// which the Classic model's sales read instead of asking Salesforce) true
// to what Salesforce says now: a contact moved to another account, or given
// one by the org's automation after Tandem created it, has its later sales
// go to that account. Every changed contact is read here, Tandem's own
// creates included, so a new customer's first sale costs no query either.
// Only entries that differ are written, in the page that moves the cursor.
// A deleted contact's entry is left alone: a merged-away contact is never
// named by a new sale (its customer's link moved to the survivor).
func (r *sfReader) accounts(ctx context.Context, ids []string, latest map[string]salesforce.Record, page *ledger.Page) error {
	if !r.cachesAccounts() {
		return nil
	}
	live := make([]string, 0, len(ids))
	for _, id := range ids {
		if deleted, _ := latest[id].Get("IsDeleted").(bool); !deleted {
			live = append(live, id)
		}
	}
	if len(live) == 0 {
		return nil
	}
	cached, err := r.ledger.LinksByLightspeed(ctx, r.key.TenantID, kindContactAccount, live)
	if err != nil {
		return err
	}
	for _, id := range live {
		account := latest[id].String("AccountId")
		if l, ok := cached[id]; ok && l.SFID == account {
			continue
		}
		page.Links = append(page.Links, ledger.Link{Kind: kindContactAccount, LSID: id, SFID: account})
	}
	return nil
}

// cachesAccounts reports whether sales read contacts' accounts: only the
// Classic preset's opportunities name one (a person account is its own
// account; the Custom model's sales name the contact alone).
func (r *sfReader) cachesAccounts() bool {
	return r.object == "Contact" && r.mapping.Preset == mapping.PresetClassic
}

// deleted follows a Salesforce delete: a merge moves the link to the
// survivor, anything else marks it gone. Tandem never deletes the Lightspeed
// customer.
func (r *sfReader) deleted(rec salesforce.Record, link ledger.Link, page *ledger.Page) {
	master := ""
	if r.hasMaster {
		master = rec.String("MasterRecordId")
	}
	if master != "" {
		page.Moves = append(page.Moves, ledger.Move{Kind: ledger.KindCustomer, FromSF: link.SFID, ToSF: master})
		page.Events = append(page.Events, ledger.Event{Action: ledger.ActionLinked, Kind: ledger.KindCustomer,
			LSID: link.LSID, SFID: master, Label: sfLabel(rec, r.email),
			Message: "Merged in Salesforce into " + master + ": the link moved to the surviving record.",
			Detail:  map[string]any{"merged_from": link.SFID}})
		return
	}
	link.State = ledger.LinkGone
	page.Links = append(page.Links, link)
	page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer,
		LSID: link.LSID, SFID: link.SFID, Label: sfLabel(rec, r.email),
		Message: "Deleted in Salesforce. The Lightspeed customer is kept; Tandem never deletes records."})
}

// update brings changed two-way fields of linked records to Lightspeed,
// after reading the customers' current values in Lightspeed (100 per call)
// to find conflicts.
func (r *sfReader) update(ctx context.Context, changes []*sfChange, page *ledger.Page) error {
	if len(changes) == 0 {
		return nil
	}
	lsIDs := make([]string, len(changes))
	for i, ch := range changes {
		lsIDs[i] = ch.link.LSID
	}
	current, err := r.lightspeedCustomers(ctx, lsIDs)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		c, ok := current[ch.link.LSID]
		if !ok {
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer,
				LSID: ch.link.LSID, SFID: ch.id, Label: ch.label,
				Message: "Not sent: the linked Lightspeed customer no longer exists."})
			continue
		}
		lsRec := mapping.FromLightspeedCustomer(c)
		sfModstamp, _ := ch.rec.Time("SystemModstamp")
		var send []string
		conflict := map[string]any{}
		lsWon := false
		for _, k := range ch.changed {
			lsVal, sfVal, was := lsRec[k], ch.values[k], ch.link.Values[k]
			switch {
			case lsVal == sfVal:
				// Already equal (a replay, or the same edit on both sides).
			case lsVal != was:
				winner := "salesforce"
				if !sfModstamp.After(c.TimeStamp) {
					winner, lsWon = "lightspeed", true
				} else {
					send = append(send, k)
				}
				conflict[k] = map[string]any{"lightspeed": lsVal, "salesforce": sfVal, "before": was, "winner": winner}
			default:
				send = append(send, k)
			}
		}
		// street and street 2 travel as one Salesforce field.
		if slices.Contains(send, mapping.CustStreet) || slices.Contains(send, mapping.CustStreet2) {
			send = append(send, mapping.CustStreet, mapping.CustStreet2)
			slices.Sort(send)
			send = slices.Compact(send)
		}
		ev := ledger.Event{Kind: ledger.KindCustomer, LSID: ch.link.LSID, SFID: ch.id, Label: ch.label,
			Detail: map[string]any{"changed": send}}
		after := lsRec
		if len(send) > 0 {
			updated, _, err := r.ls.Customers.Update(ctx, c.CustomerID, mapping.LightspeedCustomerWrite(ch.values, send, lsRec))
			if err != nil {
				if rejected(err) {
					ev.Action = ledger.ActionFailed
					ev.Code, ev.Message = lightspeedError(err)
					page.Events = append(page.Events, ev)
					continue
				}
				return fmt.Errorf("update Lightspeed customer %s: %w", ch.link.LSID, err)
			}
			after = mapping.FromLightspeedCustomer(updated)
			ev.Action = ledger.ActionUpdated
		} else {
			ev.Action = ledger.ActionSkipped
			ev.Message = "Nothing to send: Lightspeed already has these values."
		}
		link := ch.link
		for _, k := range r.twoWay {
			// What Salesforce holds is now agreed; where Lightspeed won a
			// conflict, Lightspeed's value differs from it, which the
			// other stream sends to Salesforce.
			link.Values[k] = ch.values[k]
		}
		link.SFHash = ch.hash
		link.LSHash = mapping.Hash(after, r.lsHashKeys())
		if lsWon {
			link.LSHash = ""
		}
		page.Links = append(page.Links, link)
		if len(conflict) > 0 {
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionConflict, Kind: ledger.KindCustomer,
				LSID: ch.link.LSID, SFID: ch.id, Label: ch.label, Detail: map[string]any{"conflict": conflict},
				Message: "Changed in both Lightspeed and Salesforce since the last sync; the later change wins."})
		}
		page.Events = append(page.Events, ev)
	}
	return nil
}

// lightspeedCustomers reads customers by id, 100 per call.
func (r *sfReader) lightspeedCustomers(ctx context.Context, ids []string) (map[string]*lightspeed.Customer, error) {
	out := map[string]*lightspeed.Customer{}
	for chunk := range slices.Chunk(ids, lightspeed.MaxInValues) {
		vals := make([]any, len(chunk))
		for i, id := range chunk {
			vals[i] = id
		}
		q := lightspeed.NewQuery().Where("customerID", lightspeed.In, vals...).Archived(lightspeed.ArchivedInclude).
			LoadRelations(customerRelations...).Limit(lightspeed.MaxLimit)
		for c, err := range r.ls.Customers.ListIter(ctx, q) {
			if err != nil {
				return nil, fmt.Errorf("read Lightspeed customers: %w", err)
			}
			out[strconv.FormatInt(c.CustomerID, 10)] = &c
		}
	}
	return out, nil
}

// create makes Salesforce-born customers in Lightspeed, one call each (its
// API has no batch), and writes the new Lightspeed Customer IDs back in one
// Collections call. A pending link is committed before each create, so a
// crash between the create and the page's commit finds the customer again
// instead of creating it twice.
func (r *sfReader) create(ctx context.Context, changes []*sfChange, page *ledger.Page) error {
	type writeback struct {
		ch   *sfChange
		c    *lightspeed.Customer
		link ledger.Link
		ev   ledger.Event
	}
	var backs []writeback
	for _, ch := range changes {
		c, how, err := r.findOrCreate(ctx, ch)
		if err != nil {
			if rejected(err) {
				code, msg := lightspeedError(err)
				page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindCustomer,
					SFID: ch.id, Label: ch.label, Code: code, Message: msg})
				continue
			}
			return err
		}
		lsRec := mapping.FromLightspeedCustomer(c)
		lsID := strconv.FormatInt(c.CustomerID, 10)
		agreed := lsRec.Subset(r.lsHashKeys())
		for _, k := range r.twoWay {
			agreed[k] = ch.values[k]
		}
		link := ledger.Link{Kind: ledger.KindCustomer, LSID: lsID, SFID: ch.id, State: ledger.LinkActive,
			Values: agreed, SFHash: ch.hash, LSHash: mapping.Hash(lsRec, r.lsHashKeys())}
		ev := ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindCustomer, LSID: lsID, SFID: ch.id, Label: ch.label,
			Message: "Created in Lightspeed from Salesforce; its Lightspeed Customer ID was written back."}
		if how == "found" {
			ev.Action = ledger.ActionLinked
			ev.Message = "Linked to the Lightspeed customer with the same email; its Lightspeed Customer ID was written back."
		}
		backs = append(backs, writeback{ch: ch, c: c, link: link, ev: ev})
	}
	if len(backs) == 0 {
		return nil
	}
	records := make([]map[string]any, len(backs))
	for i, b := range backs {
		rec := map[string]any{"Id": b.ch.id, r.idField: strconv.FormatInt(b.c.CustomerID, 10)}
		if r.createdRule != "" && !b.c.CreateTime.IsZero() {
			rec[r.createdRule] = b.c.CreateTime.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		records[i] = rec
	}
	results, err := r.sf.UpdateRecords(ctx, r.object, records, nil)
	if err != nil {
		return fmt.Errorf("write Lightspeed Customer IDs back to Salesforce: %w", err)
	}
	for i, b := range backs {
		if i < len(results) && !results[i].Success {
			// The customer exists in Lightspeed and is linked; the other
			// stream writes the id back with the customer's next change.
			code, msg := firstError(results[i].Errors)
			b.ev.Message += " Writing the Lightspeed Customer ID back failed: " + msg
			b.ev.Code = code
			b.link.LSHash = ""
		}
		page.Links = append(page.Links, b.link)
		page.Deletes = append(page.Deletes, ledger.PendingID(b.ch.id))
		page.Events = append(page.Events, b.ev)
	}
	return nil
}

// findOrCreate returns the Lightspeed customer for a Salesforce-born
// record: one with the same email if there is one, the one a crashed
// earlier attempt created (pending link), or a new one.
func (r *sfReader) findOrCreate(ctx context.Context, ch *sfChange) (*lightspeed.Customer, string, error) {
	email := ch.values[mapping.CustEmail]
	if email != "" {
		q := lightspeed.NewQuery().Where("Contact.email", lightspeed.Eq, email).
			LoadRelations(customerRelations...).Limit(lightspeed.MaxLimit)
		found, _, err := r.ls.Customers.List(ctx, q)
		if err != nil {
			return nil, "", fmt.Errorf("look up %s in Lightspeed: %w", email, err)
		}
		for i := range found {
			id := strconv.FormatInt(found[i].CustomerID, 10)
			links, err := r.ledger.LinksByLightspeed(ctx, r.key.TenantID, ledger.KindCustomer, []string{id})
			if err != nil {
				return nil, "", err
			}
			if _, taken := links[id]; !taken {
				return &found[i], "found", nil
			}
		}
	}
	first, last := strings.TrimSpace(ch.rec.String("FirstName")), strings.TrimSpace(ch.rec.String("LastName"))
	if ch.link.State == ledger.LinkPending && email == "" {
		// A create may have happened before a crash: look for it by name,
		// created since the pending link.
		q := lightspeed.NewQuery().Where("firstName", lightspeed.Eq, first).Where("lastName", lightspeed.Eq, last).
			Where("createTime", lightspeed.GreaterEq, ch.link.SyncedAt.Add(-time.Minute)).
			LoadRelations(customerRelations...).Limit(lightspeed.MaxLimit)
		found, _, err := r.ls.Customers.List(ctx, q)
		if err != nil {
			return nil, "", fmt.Errorf("look for an earlier create in Lightspeed: %w", err)
		}
		if len(found) > 0 {
			return &found[0], "created", nil
		}
	}
	if ch.link.State != ledger.LinkPending {
		pending := ledger.Link{Kind: ledger.KindCustomer, LSID: ledger.PendingID(ch.id), SFID: ch.id, State: ledger.LinkPending}
		if err := r.ledger.SaveLinks(ctx, r.key.TenantID, []ledger.Link{pending}); err != nil {
			return nil, "", err
		}
	}
	rec := ch.values.Subset(r.twoWay)
	rec[mapping.CustFirst], rec[mapping.CustLast] = first, last
	keys := []string{mapping.CustFirst, mapping.CustLast}
	for _, k := range r.twoWay {
		if rec[k] != "" {
			keys = append(keys, k)
		}
	}
	c, _, err := r.ls.Customers.Create(ctx, mapping.LightspeedCustomerWrite(rec, keys, nil))
	if err != nil {
		return nil, "", fmt.Errorf("create Lightspeed customer for %s: %w", ch.id, err)
	}
	return c, "created", nil
}

// rejected reports whether Lightspeed refused a record for what it holds
// (a 4xx other than auth and rate limits): a failed event, not a failed run.
func rejected(err error) bool {
	var apiErr *lightspeed.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.StatusCode {
	case 400, 404, 409, 422:
		return true
	}
	return false
}

// lightspeedError is Lightspeed's own class and message for a refusal.
func lightspeedError(err error) (code, message string) {
	var apiErr *lightspeed.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorClass
		if code == "" {
			code = strconv.Itoa(apiErr.StatusCode)
		}
		msg := apiErr.Message
		if msg == "" {
			msg = apiErr.HTTPMessage
		}
		return code, msg
	}
	return "", err.Error()
}

func sfLabel(rec salesforce.Record, emailField string) string {
	name := strings.TrimSpace(rec.String("FirstName") + " " + rec.String("LastName"))
	if e := rec.String(emailField); e != "" {
		if name == "" {
			return e
		}
		return name + " <" + e + ">"
	}
	return name
}
