package sync

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
)

// product is a Lightspeed item's Product2 and, in the Classic model, its
// standard price book entry.
type product struct {
	productID, entryID string
	// created is set when this run's upsert created the product: it has
	// no standard price yet, so none is looked for.
	created bool
}

// itemInfo is what a Product2 is made of.
type itemInfo struct {
	id     string
	fields map[string]any
	price  decimal.Decimal
}

// ensureProducts makes sure every item the sales sell is a Product2
// (upserted on Lightspeed Item ID, again when its name, SKU or active flag
// changed) with, in the Classic model, an entry in the standard price book,
// created on first use. A sale whose product cannot be saved fails with the
// API's message. Products are links, so steady state spends no call here.
func (w *saleWriter) ensureProducts(ctx context.Context, sales map[int64]*lightspeed.Sale, send []*pendingSale, page *ledger.Page) (map[string]product, error) {
	items := map[string]*itemInfo{}
	var ids []string
	for _, ps := range send {
		if ps.failure != nil {
			continue
		}
		id, _ := strconv.ParseInt(ps.sale.ID, 10, 64)
		s := sales[id]
		for i := range s.SaleLines {
			l := &s.SaleLines[i]
			key := strconv.FormatInt(l.ItemID, 10)
			if _, ok := items[key]; ok {
				continue
			}
			items[key] = productFields(key, l)
			ids = append(ids, key)
		}
	}
	out := map[string]product{}
	if len(ids) == 0 {
		return out, nil
	}
	plinks, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, ledger.KindProduct, ids)
	if err != nil {
		return nil, err
	}
	elinks, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, ledger.KindPricebookEn, ids)
	if err != nil {
		return nil, err
	}
	failed := map[string]string{}
	var upsert []string
	for _, id := range ids {
		l, ok := plinks[id]
		if ok && l.LSHash == productHash(items[id]) {
			out[id] = product{productID: l.SFID, entryID: elinks[id].SFID}
			continue
		}
		upsert = append(upsert, id)
	}
	if len(upsert) > 0 {
		records := make([]map[string]any, len(upsert))
		for i, id := range upsert {
			records[i] = items[id].fields
		}
		results, err := w.sf.UpsertRecords(ctx, "Product2", itemIDField, records, nil)
		if err != nil {
			return nil, fmt.Errorf("write products to Salesforce: %w", err)
		}
		// Another location's stream may have created the same product a
		// moment earlier (products are shared by every shop): its upsert
		// then loses on the unique Lightspeed Item ID. A second upsert
		// finds the record and updates it.
		var again []int
		for i, r := range results {
			if !r.Success && duplicateRace(r.Errors) {
				again = append(again, i)
			}
		}
		if len(again) > 0 {
			retry := make([]map[string]any, len(again))
			for j, i := range again {
				retry[j] = records[i]
			}
			second, err := w.sf.UpsertRecords(ctx, "Product2", itemIDField, retry, nil)
			if err != nil {
				return nil, fmt.Errorf("write products to Salesforce: %w", err)
			}
			for j, i := range again {
				if j < len(second) {
					results[i] = second[j]
				}
			}
		}
		for i, id := range upsert {
			if i >= len(results) {
				break
			}
			r := results[i]
			name, _ := items[id].fields["Name"].(string)
			if !r.Success {
				code, msg := firstError(r.Errors)
				failed[id] = "Not sent: its product " + name + " could not be saved in Salesforce: " + msg
				page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindProduct, LSID: id,
					Label: name, Code: code, Message: msg})
				continue
			}
			out[id] = product{productID: r.ID, entryID: elinks[id].SFID, created: r.Created}
			page.Links = append(page.Links, ledger.Link{Kind: ledger.KindProduct, LSID: id, SFID: r.ID, LSHash: productHash(items[id])})
		}
	}
	if !w.model.custom {
		if err := w.ensureEntries(ctx, items, out, failed, page); err != nil {
			return nil, err
		}
	}
	for _, ps := range send {
		for _, l := range ps.sale.Lines {
			if msg, ok := failed[l.ItemID]; ok {
				ps.fail(CodeProductNotSaved, msg)
			}
		}
	}
	return out, nil
}

// productFields is the Product2 of a sale line's item.
func productFields(id string, l *lightspeed.SaleLine) *itemInfo {
	info := &itemInfo{id: id, price: l.NormalUnitPrice}
	if info.price.IsZero() {
		info.price = l.UnitPrice
	}
	name, sku, active := "Item "+id, "", true
	if it := l.Item; it != nil {
		name = cmpOr(strings.TrimSpace(it.Description), name)
		sku = mapping.ItemSKU(it)
		active = !it.Archived
	}
	if l.ItemID == 0 {
		name = "Miscellaneous (no Lightspeed item)"
	}
	info.fields = map[string]any{itemIDField: id, "Name": truncate(name, 255), "ProductCode": nilIfEmpty(sku), "IsActive": active}
	return info
}

func productHash(it *itemInfo) string {
	rec := mapping.Record{}
	for k, v := range it.fields {
		rec[k] = fmt.Sprint(v)
	}
	return mapping.Hash(rec, []string{itemIDField, "Name", "ProductCode", "IsActive"})
}

// ensureEntries gives every product without a known standard price book
// entry one: found by query, or created.
func (w *saleWriter) ensureEntries(ctx context.Context, items map[string]*itemInfo, out map[string]product, failed map[string]string, page *ledger.Page) error {
	if err := w.standardPricebook(ctx, page); err != nil {
		return err
	}
	byProduct := map[string]string{} // Product2 id → item id
	var need, lookFor []string
	for id, p := range out {
		if p.entryID == "" {
			byProduct[p.productID] = id
			need = append(need, p.productID)
			if !p.created {
				lookFor = append(lookFor, p.productID)
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	slices.Sort(need)
	slices.Sort(lookFor)
	// Products this run created have no standard price to find. Should
	// the org's automation give them one anyway, creating it is refused as
	// a duplicate and read back below.
	found := map[string]string{}
	for chunk := range slices.Chunk(lookFor, 200) {
		soql := "SELECT Id, Product2Id FROM PricebookEntry WHERE Pricebook2Id = " + soqlString(w.pricebook) +
			" AND Product2Id IN " + soqlList(chunk)
		for rec, err := range w.sf.Query(ctx, soql, nil) {
			if err != nil {
				return fmt.Errorf("find standard prices in Salesforce: %w", err)
			}
			found[rec.String("Product2Id")] = rec.ID()
		}
	}
	var create []map[string]any
	var createFor []string
	for _, pid := range need {
		if id, ok := found[pid]; ok {
			w.setEntry(byProduct[pid], id, out, page)
			continue
		}
		it := items[byProduct[pid]]
		create = append(create, map[string]any{"Pricebook2Id": w.pricebook, "Product2Id": pid,
			"UnitPrice": it.price.Abs().StringFixed(2), "IsActive": true})
		createFor = append(createFor, pid)
	}
	if len(create) == 0 {
		return nil
	}
	results, err := w.sf.CreateRecords(ctx, "PricebookEntry", create, nil)
	if err != nil {
		return fmt.Errorf("write standard prices to Salesforce: %w", err)
	}
	// Another location's stream may have created the same standard price
	// a moment earlier: read back the entries that lost that race.
	var raced []string
	for i, r := range results {
		if !r.Success && duplicateRace(r.Errors) && i < len(createFor) {
			raced = append(raced, createFor[i])
		}
	}
	if len(raced) > 0 {
		soql := "SELECT Id, Product2Id FROM PricebookEntry WHERE Pricebook2Id = " + soqlString(w.pricebook) +
			" AND Product2Id IN " + soqlList(raced)
		for rec, err := range w.sf.Query(ctx, soql, nil) {
			if err != nil {
				return fmt.Errorf("find standard prices in Salesforce: %w", err)
			}
			for i, pid := range createFor {
				if pid == rec.String("Product2Id") && !results[i].Success {
					results[i] = salesforce.SaveResult{ID: rec.ID(), Success: true}
				}
			}
		}
	}
	for i, pid := range createFor {
		if i >= len(results) {
			break
		}
		item := byProduct[pid]
		if r := results[i]; r.Success {
			w.setEntry(item, r.ID, out, page)
		} else {
			code, msg := firstError(r.Errors)
			name, _ := items[item].fields["Name"].(string)
			failed[item] = "Not sent: the standard price of its product " + name + " could not be saved in Salesforce: " + msg
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindPricebookEn, LSID: item,
				Label: name, Code: code, Message: msg})
		}
	}
	return nil
}

func (w *saleWriter) setEntry(item, entryID string, out map[string]product, page *ledger.Page) {
	p := out[item]
	p.entryID = entryID
	out[item] = p
	page.Links = append(page.Links, ledger.Link{Kind: ledger.KindPricebookEn, LSID: item, SFID: entryID})
}

// standardPricebook finds the org's standard price book, once per tenant
// (then it is a link).
func (w *saleWriter) standardPricebook(ctx context.Context, page *ledger.Page) error {
	if w.pricebook != "" {
		return nil
	}
	if err := w.loadPricebook(ctx); err != nil || w.pricebook != "" {
		return err
	}
	for rec, err := range w.sf.Query(ctx, "SELECT Id FROM Pricebook2 WHERE IsStandard = true", nil) {
		if err != nil {
			return fmt.Errorf("find the standard price book in Salesforce: %w", err)
		}
		w.pricebook = rec.ID()
	}
	if w.pricebook == "" {
		return fmt.Errorf("the Salesforce org has no standard price book: Opportunities with products need one")
	}
	page.Links = append(page.Links, ledger.Link{Kind: kindPricebook, LSID: "standard", SFID: w.pricebook})
	return nil
}

// loadPricebook reads the standard price book's id from its link.
func (w *saleWriter) loadPricebook(ctx context.Context) error {
	l, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, kindPricebook, []string{"standard"})
	if err != nil {
		return err
	}
	w.pricebook = l["standard"].SFID
	return nil
}

// duplicateRace reports whether a record was refused because an equal one
// already exists: what a concurrent create of the same product or price by
// another location's stream looks like.
func duplicateRace(errs []salesforce.ErrorDetail) bool {
	for _, e := range errs {
		switch e.Code {
		case "DUPLICATE_VALUE", "DUPLICATE_EXTERNAL_ID", "FIELD_INTEGRITY_EXCEPTION":
			if e.Code != "FIELD_INTEGRITY_EXCEPTION" || strings.Contains(strings.ToLower(e.Message), "already exists") {
				return true
			}
		}
	}
	return false
}
