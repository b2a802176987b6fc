package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
)

// saleRelations are loaded with every sale page: one call brings the sale
// with its lines, items, payments and payment types.
var saleRelations = []string{"SaleLines", "SaleLines.Item", "SalePayments", "SalePayments.PaymentType", "Customer"}

// salesCursor is the sales stream's cursor position, stored as JSON.
type salesCursor struct {
	// UpdatedAt is the updateTime of the last sale committed.
	UpdatedAt time.Time `json:"updated_at"`
	// Bulk is a history import under way through Bulk API (staged).
	Bulk *bulkState `json:"bulk,omitempty"`
	// Import is the history import's progress until it has caught up.
	Import *salesImport `json:"import,omitempty"`
	// Since is where the location's sales start (completeTime), fixed by
	// its first run from the history window chosen in setup ("from now
	// on" is the first run's now); zero is everything.
	Since time.Time `json:"since,omitzero"`
}

// salesImport is how far a location's history import has come.
type salesImport struct {
	Done     int64 `json:"done"`
	Total    int64 `json:"total"`
	Finished bool  `json:"finished"`
	// NoBulk is set when a Bulk API job failed as a whole: the import
	// goes on through Composite Graph.
	NoBulk bool `json:"no_bulk,omitempty"`
}

func parseSalesCursor(pos string) (salesCursor, bool) {
	var c salesCursor
	if pos == "" || json.Unmarshal([]byte(pos), &c) != nil {
		return salesCursor{}, false
	}
	return c, true
}

func (c salesCursor) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// ImportLabel is what the dashboard says of a sales stream's history
// import while it runs ("Importing sales for Harbour Bikes – Downtown: 1,234
// of 5,000"), and "" once it has caught up (done of total, from
// ledger.Stream's ProgressDone and ProgressTotal).
func ImportLabel(shop string, done, total int64) string {
	if total <= 0 || done >= total {
		return ""
	}
	return fmt.Sprintf("Importing sales for %s: %s of %s", shop, thousands(done), thousands(total))
}

// thousands writes n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// salesQuery is the read of a location's completed sales from since (its
// cursor's Since) on.
func (rc *runContext) salesQuery(since time.Time) *lightspeed.Query {
	q := lightspeed.NewQuery().Where("shopID", lightspeed.Eq, rc.key.Location).Where("completed", lightspeed.Eq, true).
		Archived(lightspeed.ArchivedInclude).LoadRelations(saleRelations...).Limit(lightspeed.MaxLimit)
	if !since.IsZero() {
		q.Where("completeTime", lightspeed.GreaterEq, since)
	}
	return q
}

// salesToSalesforce sends a location's completed sales, changed since the
// cursor, to Salesforce. The first run of a location imports its history
// (the window chosen in setup) with progress.
func (rc *runContext) salesToSalesforce(ctx context.Context) (more bool, err error) {
	shop, ok := rc.cfg.Shops[rc.key.Location]
	if !ok || !shop.Enabled {
		// A shop turned off in setup sends nothing.
		return false, nil
	}
	w, err := rc.newSaleWriter(ctx, shop)
	if err != nil {
		return false, err
	}
	pos, _, err := rc.ledger.Cursor(ctx, rc.key)
	if err != nil {
		return false, err
	}
	cur, ok := parseSalesCursor(pos)
	switch {
	case !ok:
		// A new location: its window starts now (the configuration's
		// window moves with the clock: "from now on" is always now), and
		// its history is counted for the progress bar.
		cur = salesCursor{Since: rc.cfg.SalesSince}
		total, err := w.ls.Sales.Count(ctx, rc.salesQuery(cur.Since))
		if err != nil {
			return false, fmt.Errorf("count Lightspeed sales: %w", err)
		}
		cur.Import = &salesImport{Total: total}
		if total == 0 {
			cur.Import.Finished = true
		}
	case cur.Since.IsZero():
		// A cursor from before the window start was kept in it: the
		// window is fixed from this run on (every run commits its
		// cursor).
		cur.Since = rc.cfg.SalesSince
	}
	if cur.Bulk != nil || rc.useBulk(cur) {
		rc.wait, more, err = w.bulkImport(ctx, &cur)
		return more, err
	}
	q := rc.salesQuery(cur.Since).Sort("updatetime", false)
	if !cur.UpdatedAt.IsZero() {
		q.Where("updatetime", lightspeed.GreaterEq, cur.UpdatedAt.Add(-rc.opts.Overlap))
	}
	var batch []lightspeed.Sale
	// fresh counts the batch's sales past the committed cursor: a batch is
	// BatchSize sales to send, not counting the overlap read again.
	fresh, committed := 0, cur.UpdatedAt
	batches := 0
	flush := func(last bool) error {
		if len(batch) == 0 && !last {
			return nil
		}
		if im := cur.Import; im != nil && !im.Finished && len(batch) > 0 {
			// A history import asks about as many new contacts in each
			// batch it has left (contactAccounts).
			w.pagesLeft = max(1, float64(im.Total-im.Done)/float64(len(batch)))
		}
		page, err := w.sendBatch(ctx, batch, false)
		w.pagesLeft = 0
		if err != nil {
			return err
		}
		for i := range batch {
			if batch[i].UpdateTime.After(cur.UpdatedAt) {
				cur.UpdatedAt = batch[i].UpdateTime
			}
		}
		if im := cur.Import; im != nil && !im.Finished {
			im.Done = min(im.Done+int64(len(batch)), im.Total)
			if last {
				im.Finished, im.Done = true, max(im.Done, im.Total)
				im.Total = im.Done
			}
			page.Progress = &ledger.Progress{Done: im.Done, Total: im.Total}
		}
		pos := cur.encode()
		page.Cursor = &pos
		if err := rc.commit(ctx, page); err != nil {
			return err
		}
		batch, fresh, committed = batch[:0], 0, cur.UpdatedAt
		batches++
		return nil
	}
	// A batch is whole Composite Graph calls where it can be (BatchSize
	// rounded up to 75 sales: 200 would go as 75, 75 and 50).
	size := ceilDiv(rc.opts.BatchSize, salesforce.MaxGraphs) * salesforce.MaxGraphs
	// Pages are read ahead while the previous batch is written.
	pages := w.readSales(ctx, q, 1, 0)
	defer pages.stop()
	for {
		p, err := w.nextPage(ctx, pages)
		if err != nil {
			return false, err
		}
		batch = append(batch, p.items...)
		for i := range p.items {
			if p.items[i].UpdateTime.After(committed) {
				fresh++
			}
		}
		last := p.nextURL == ""
		if fresh >= size || last {
			if err := flush(last); err != nil {
				return false, err
			}
		}
		if last {
			return false, nil
		}
		if rc.enough(batches) && len(batch) == 0 {
			return true, nil
		}
	}
}

// readSales reads the pages of q's sales, up to ahead pages ahead of the
// caller, and at most limit pages (0: all).
func (w *saleWriter) readSales(ctx context.Context, q *lightspeed.Query, ahead, limit int) *pager[lightspeed.Sale] {
	return readAhead(ctx, ahead, limit, func(ctx context.Context, next string) ([]lightspeed.Sale, string, error) {
		var ss []lightspeed.Sale
		var resp *lightspeed.Response
		var err error
		if next == "" {
			ss, resp, err = w.ls.Sales.List(ctx, q)
		} else {
			ss, resp, err = w.ls.Sales.ListNext(ctx, next)
		}
		if err != nil {
			return nil, "", fmt.Errorf("read Lightspeed sales: %w", err)
		}
		return ss, resp.Next, nil
	})
}

// nextPage returns the next page read, or why there is none: the run's
// context ended, the read failed, or the org reached the API reserve.
func (w *saleWriter) nextPage(ctx context.Context, pages *pager[lightspeed.Sale]) (page[lightspeed.Sale], error) {
	p, ok := pages.next()
	switch {
	case !ok:
		// The reader stops early only when the run's context ends.
		if err := ctx.Err(); err != nil {
			return p, err
		}
		return p, errors.New("read Lightspeed sales: the reader stopped before the last page")
	case p.err != nil:
		return p, p.err
	}
	return p, w.checkReserve(w.sf)
}

// ResendSales sends the given Lightspeed sales of a location to Salesforce
// again now, whether or not they changed (Retry and Resync on the history
// page). It is a run of the location's sales stream with trigger, and does
// not move its cursor.
func (e *Engine) ResendSales(ctx context.Context, k ledger.StreamKey, saleIDs []string, trigger string) (Result, error) {
	if k.Stream != ledger.SalesToSalesforce {
		return Result{}, fmt.Errorf("sync: resend sales: %w %q", ErrUnknownStream, k.Stream)
	}
	ids := make([]int64, 0, len(saleIDs))
	for _, s := range saleIDs {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return Result{}, fmt.Errorf("sync: resend sales: %q is not a Lightspeed sale id", s)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	cfg, err := e.config.Config(ctx, k.TenantID)
	if err != nil {
		return Result{}, fmt.Errorf("sync: %s: read configuration: %w", k, err)
	}
	m, err := e.mappings.Current(ctx, k.TenantID, cfg.Preset)
	if err != nil {
		return Result{}, fmt.Errorf("sync: %s: %w", k, err)
	}
	return e.runWith(ctx, k, trigger, cfg, m, func(ctx context.Context, rc *runContext) (bool, error) {
		shop, ok := rc.cfg.Shops[k.Location]
		if !ok || !shop.Enabled {
			return false, fmt.Errorf("shop %s is not synced: turn it on in setup first", k.Location)
		}
		w, err := rc.newSaleWriter(ctx, shop)
		if err != nil {
			return false, err
		}
		for chunk := range slices.Chunk(ids, lightspeed.MaxInValues) {
			vals := make([]any, len(chunk))
			for i, id := range chunk {
				vals[i] = id
			}
			q := lightspeed.NewQuery().Where("saleID", lightspeed.In, vals...).Where("shopID", lightspeed.Eq, k.Location).
				Archived(lightspeed.ArchivedInclude).LoadRelations(saleRelations...).Limit(lightspeed.MaxLimit)
			var sales []lightspeed.Sale
			for s, err := range w.ls.Sales.ListIter(ctx, q) {
				if err != nil {
					return false, fmt.Errorf("read Lightspeed sales: %w", err)
				}
				sales = append(sales, s)
			}
			page, err := w.sendBatch(ctx, sales, true)
			if err != nil {
				return false, err
			}
			if err := rc.commit(ctx, page); err != nil {
				return false, err
			}
		}
		return false, nil
	})
}
