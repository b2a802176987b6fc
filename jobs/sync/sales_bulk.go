package sync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
)

// A large history import goes through Bulk API 2.0 as resumable steps, a
// chunk of sales at a time: one job upserts the chunk's sales, then one
// their lines, then one their payments. Each step creates its job, uploads
// and closes it, and stores the job id, its rows and when it was closed in
// the stream's cursor. The run then waits for the job itself
// (Options.BulkWait), with the chunk in memory, polling it when it should
// be done (bulk_poll.go), and goes on to the next step when it is done, so
// a chunk is read from Lightspeed once. A job that outlasts the wait ends
// the run with Result.Wait, the time until its next poll; the next run
// polls the job, reads the chunk again, and goes on. A worker killed anywhere finds the job id in the cursor and resumes
// the same job instead of starting another.
//
// Bulk API saves rows, not sales: a sale whose lines or payments were
// refused is left with its link's hash empty and a failed event, so it is
// sent again, whole, through Composite Graph when it changes or is retried.

// Bulk steps.
const (
	bulkSales    = "sales"
	bulkLines    = "lines"
	bulkPayments = "payments"
)

// bulkState is an import chunk under way, kept in the cursor.
type bulkState struct {
	Step string `json:"step"`
	Job  string `json:"job"`
	// To is the updateTime of the chunk's last sale: the chunk is the
	// sales from the cursor to To, read again at each step.
	To time.Time `json:"to"`
	// Failed lists the chunk's sales whose lines or payments were
	// refused.
	Failed []string `json:"failed,omitempty"`
	// Rows is how many rows the job holds and Closed when it was closed,
	// which time its polls (nextPoll), in a later run too. A cursor from
	// before they were kept has neither: its job is polled every BulkPoll.
	Rows   int       `json:"rows,omitempty"`
	Closed time.Time `json:"closed,omitzero"`
}

// bulkChunk is a chunk under way that a run holds in memory between its
// steps.
type bulkChunk struct {
	// read is how many sales the chunk read from Lightspeed (its progress).
	read int
	// fresh are the chunk's sales the sales step sends; inFlight those it
	// saved, whose lines and payments follow.
	fresh    []*pendingSale
	inFlight map[string]*pendingSale
	products map[string]product
}

// bulkImport runs the import's Bulk steps: it starts a chunk's first job
// or polls the cursor's, then waits for each job in turn while the run
// has time, and returns the wait before the job's next poll when a job
// outlasts it (0 when the chunk is done).
func (w *saleWriter) bulkImport(ctx context.Context, cur *salesCursor) (time.Duration, error) {
	var (
		ch   *bulkChunk
		seen *salesforce.IngestJob
		err  error
	)
	if cur.Bulk == nil {
		ch, err = w.bulkStart(ctx, cur)
	} else if wait, _ := w.nextPoll(cur.Bulk, nil, pollSample{}); cur.Bulk.timed() && wait > w.pollFloor() {
		// A run resuming a job before its first poll is due (the worker
		// ran it early) leaves it for later without a call.
		return wait, nil
	} else {
		ch, seen, err = w.bulkStep(ctx, cur, nil)
	}
	if err != nil || cur.Bulk == nil {
		return 0, err
	}
	// last is the run's last poll of an unfinished job.
	wait, last := w.nextPoll(cur.Bulk, seen, pollSample{})
	if w.opts.BulkWait < 0 {
		return wait, nil
	}
	deadline := time.Now().Add(w.opts.BulkWait)
	if budget := w.started.Add(w.opts.RunBudget); budget.Before(deadline) {
		deadline = budget
	}
	for ch != nil && time.Now().Add(wait).Before(deadline) {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
		if ch, seen, err = w.bulkStep(ctx, cur, ch); err != nil || cur.Bulk == nil {
			return 0, err
		}
		wait, last = w.nextPoll(cur.Bulk, seen, last)
	}
	return wait, nil
}

// useBulk reports whether the run imports through Bulk API: a history import
// with more than BulkThreshold sales left.
func (rc *runContext) useBulk(cur salesCursor) bool {
	im := cur.Import
	return rc.opts.BulkThreshold > 0 && im != nil && !im.Finished && !im.NoBulk && im.Total-im.Done > int64(rc.opts.BulkThreshold)
}

// bulkStart reads the next chunk, sends its customers and products, writes
// sales that were sent before through Composite Graph, and starts the Bulk
// job of the rest. It returns the chunk when a job is under way.
func (w *saleWriter) bulkStart(ctx context.Context, cur *salesCursor) (*bulkChunk, error) {
	sales, err := w.readChunk(ctx, *cur, time.Time{})
	if err != nil {
		return nil, err
	}
	if len(sales) == 0 {
		cur.Import.Finished = true
		return nil, w.commitCursor(ctx, ledger.Page{}, cur)
	}
	b, err := w.prepare(ctx, sales, false)
	if err != nil {
		return nil, err
	}
	ch := &bulkChunk{read: len(sales), products: b.products}
	var linked []*pendingSale
	for _, ps := range b.ready {
		if ps.linked {
			linked = append(linked, ps)
		} else {
			ch.fresh = append(ch.fresh, ps)
		}
	}
	if err := w.writeSales(ctx, linked, b.products, &b.page); err != nil {
		return nil, err
	}
	to := sales[len(sales)-1].UpdateTime
	if len(ch.fresh) == 0 {
		cur.UpdatedAt = to
		cur.Import.Done = min(cur.Import.Done+int64(len(sales)), cur.Import.Total)
		return nil, w.commitCursor(ctx, b.page, cur)
	}
	rows := make([]map[string]any, len(ch.fresh))
	for i, ps := range ch.fresh {
		rows[i] = w.saleFields(ps)
		rows[i][saleIDField] = ps.sale.ID
	}
	job, err := w.startJob(ctx, bulkSales, rows)
	if err != nil {
		return nil, err
	}
	cur.Bulk = &bulkState{Step: bulkSales, Job: job, To: to, Rows: len(rows), Closed: w.opts.Now()}
	return ch, w.commitCursor(ctx, b.page, cur)
}

// bulkStep polls the chunk's job and, once it is done, records it and
// starts the next step. ch is the chunk when the run holds it; nil reads it
// from Lightspeed again (a later run resuming the job). It returns the
// chunk while a job is under way, and the job as the poll found it when it
// is unfinished (nil when the step moved on).
func (w *saleWriter) bulkStep(ctx context.Context, cur *salesCursor, ch *bulkChunk) (*bulkChunk, *salesforce.IngestJob, error) {
	bs := cur.Bulk
	job, err := w.sf.GetIngestJob(ctx, bs.Job)
	if err != nil {
		return ch, nil, fmt.Errorf("poll Bulk API job %s: %w", bs.Job, err)
	}
	if !job.Terminal() {
		return ch, job, nil
	}
	if job.State != salesforce.JobComplete {
		// The job as a whole failed (or was aborted): the import goes on
		// through Composite Graph from the same cursor.
		w.log.Warn("sales import: Bulk API job did not complete; continuing through Composite Graph",
			"tenant", w.key.TenantID, "job", bs.Job, "state", job.State, "error", job.ErrorMessage)
		cur.Bulk, cur.Import.NoBulk = nil, true
		return nil, nil, w.commitCursor(ctx, ledger.Page{}, cur)
	}
	object, _ := w.bulkObject(bs.Step)
	w.rates.learn(w.key.TenantID, object, job.NumberRecordsProcessed, job.TotalProcessingTime)
	ok, err := w.sf.SuccessfulResults(ctx, bs.Job)
	if err != nil {
		return ch, nil, err
	}
	var bad []salesforce.BulkFailure
	if job.NumberRecordsFailed > 0 {
		// A call saved: the job says how many rows it refused.
		if bad, err = w.sf.FailedResults(ctx, bs.Job); err != nil {
			return ch, nil, err
		}
	}
	if ch == nil {
		if ch, err = w.rereadChunk(ctx, cur); err != nil {
			return nil, nil, err
		}
	}
	var page ledger.Page
	switch bs.Step {
	case bulkSales:
		saved := map[string]string{}
		for _, r := range ok {
			saved[r.Fields[saleIDField]] = r.ID
		}
		failed := map[string]salesforce.BulkFailure{}
		for _, r := range bad {
			failed[r.Fields[saleIDField]] = r
		}
		ch.inFlight = map[string]*pendingSale{}
		for _, ps := range ch.fresh {
			if id, ok := saved[ps.sale.ID]; ok {
				ps.link = ledger.Link{Kind: ledger.KindSale, LSID: ps.sale.ID, SFID: id}
				page.Links = append(page.Links, ps.link)
				ch.inFlight[ps.sale.ID] = ps
			} else if f, ok := failed[ps.sale.ID]; ok {
				page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale,
					LSID: ps.sale.ID, Label: ps.label, Code: f.Code, Message: "The sale: " + f.Code + ": " + f.Message})
			}
		}
	default:
		w.recordChildren(bs, ok, bad, ch.inFlight, &page)
	}
	inFlight := ch.inFlight
	next := map[string]string{bulkSales: bulkLines, bulkLines: bulkPayments}[bs.Step]
	for next != "" {
		var rows []map[string]any
		for _, id := range slices.Sorted(maps.Keys(inFlight)) {
			ps := inFlight[id]
			if slices.Contains(bs.Failed, id) {
				continue
			}
			if next == bulkLines {
				for _, l := range ps.sale.Lines {
					lf, existing, err := w.lineFields(ps, l, ch.products, ps.link.SFID)
					if err != nil {
						bs.Failed = append(bs.Failed, id)
						page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale,
							LSID: id, SFID: ps.link.SFID, Label: ps.label, Code: "NOT_SENT", Message: err.Error()})
						break
					}
					_ = existing // an existing line is updated on its key, without create-only fields
					lf[lineIDField] = l.ID
					rows = append(rows, lf)
				}
			} else {
				for _, p := range ps.sale.Payments {
					pf := w.paymentFields(p, ps.link.SFID)
					pf[paymentIDField] = p.ID
					rows = append(rows, pf)
				}
			}
		}
		if len(rows) == 0 {
			next = map[string]string{bulkLines: bulkPayments}[next]
			continue
		}
		job, err := w.startJob(ctx, next, rows)
		if err != nil {
			return ch, nil, err
		}
		bs.Step, bs.Job, bs.Rows, bs.Closed = next, job, len(rows), w.opts.Now()
		return ch, nil, w.commitCursor(ctx, page, cur)
	}
	// The chunk is done: its sales are whole, or failed and sent again
	// when they change or are retried.
	for _, id := range slices.Sorted(maps.Keys(inFlight)) {
		ps := inFlight[id]
		if slices.Contains(bs.Failed, id) {
			continue
		}
		ps.link.LSHash, ps.link.State = ps.hash, ledger.LinkActive
		page.Links = append(page.Links, ps.link)
		page.Events = append(page.Events, ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindSale, LSID: id,
			SFID: ps.link.SFID, Label: ps.label, Message: "Imported through the Bulk API.",
			Detail: map[string]any{"lines": len(ps.sale.Lines), "payments": len(ps.sale.Payments),
				"total": ps.sale.Values["total"], "channel": ps.sale.Values["channel"]}})
	}
	cur.UpdatedAt, cur.Bulk = bs.To, nil
	cur.Import.Done = min(cur.Import.Done+int64(ch.read), cur.Import.Total)
	return nil, nil, w.commitCursor(ctx, page, cur)
}

// rereadChunk reads the chunk of the cursor's Bulk job from Lightspeed
// again, for a run resuming a job another run started: the sales step's
// sales are those prepare would send; a later step's those the sales step
// linked with an empty hash (their lines and payments still to come).
func (w *saleWriter) rereadChunk(ctx context.Context, cur *salesCursor) (*bulkChunk, error) {
	sales, err := w.readChunk(ctx, *cur, cur.Bulk.To)
	if err != nil {
		return nil, err
	}
	b, err := w.prepare(ctx, sales, false)
	if err != nil {
		return nil, err
	}
	ch := &bulkChunk{read: len(sales), fresh: b.ready, products: b.products, inFlight: map[string]*pendingSale{}}
	if cur.Bulk.Step == bulkSales {
		return ch, nil
	}
	links, err := w.ledger.LinksByLightspeed(ctx, w.key.TenantID, ledger.KindSale, saleIDs(b.ready))
	if err != nil {
		return nil, err
	}
	for _, ps := range b.ready {
		if l, ok := links[ps.sale.ID]; ok && l.LSHash == "" {
			ps.link = l
			ch.inFlight[ps.sale.ID] = ps
		}
	}
	return ch, nil
}

// recordChildren links the lines or payments a job saved, and fails the
// sales some of whose rows it refused.
func (w *saleWriter) recordChildren(bs *bulkState, ok []salesforce.BulkSuccess, bad []salesforce.BulkFailure, inFlight map[string]*pendingSale, page *ledger.Page) {
	kind, key := ledger.KindSaleLine, lineIDField
	if bs.Step == bulkPayments {
		kind, key = ledger.KindPayment, paymentIDField
	}
	// Line and payment ids are separate sequences: look up only the step's.
	owner := map[string]*pendingSale{}
	for _, ps := range inFlight {
		if bs.Step == bulkPayments {
			for _, p := range ps.sale.Payments {
				owner[p.ID] = ps
			}
			continue
		}
		for _, l := range ps.sale.Lines {
			owner[l.ID] = ps
		}
	}
	for _, r := range ok {
		page.Links = append(page.Links, ledger.Link{Kind: kind, LSID: r.Fields[key], SFID: r.ID})
	}
	for _, r := range bad {
		ps := owner[r.Fields[key]]
		if ps == nil || slices.Contains(bs.Failed, ps.sale.ID) {
			continue
		}
		bs.Failed = append(bs.Failed, ps.sale.ID)
		what := "A line"
		if bs.Step == bulkPayments {
			what = "A payment"
		}
		page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale, LSID: ps.sale.ID,
			SFID: ps.link.SFID, Label: ps.label, Code: r.Code,
			Message: what + ": " + r.Code + ": " + r.Message + " The sale is sent again, whole, when it changes or is retried."})
	}
}

// readChunk reads the chunk of sales after the cursor: BulkChunk sales
// (whole pages), or all that are left when no more than BulkThreshold
// would be left after them (a tail that small would otherwise go through
// Composite Graph, a call per 75 sales); or, with to set, the sales up to
// to again.
func (w *saleWriter) readChunk(ctx context.Context, cur salesCursor, to time.Time) ([]lightspeed.Sale, error) {
	full := func(n int) bool {
		if !to.IsZero() || n < w.opts.BulkChunk {
			return false
		}
		im := cur.Import
		return im == nil || im.Total-im.Done-int64(n) > int64(w.opts.BulkThreshold)
	}
	q := w.salesQuery().Sort("updatetime", false)
	if !cur.UpdatedAt.IsZero() {
		q.Where("updatetime", lightspeed.GreaterEq, cur.UpdatedAt.Add(-w.opts.Overlap))
	}
	if !to.IsZero() {
		q.Where("updatetime", lightspeed.LessEq, to)
	}
	var out []lightspeed.Sale
	sales, resp, err := w.ls.Sales.List(ctx, q)
	for {
		if err != nil {
			return nil, fmt.Errorf("read Lightspeed sales: %w", err)
		}
		out = append(out, sales...)
		if resp.Next == "" || full(len(out)) {
			return out, nil
		}
		sales, resp, err = w.ls.Sales.ListNext(ctx, resp.Next)
	}
}

// startJob creates the Bulk API upsert job of a step with rows, uploads
// and closes it.
func (w *saleWriter) startJob(ctx context.Context, step string, rows []map[string]any) (string, error) {
	object, key := w.bulkObject(step)
	cols := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			cols[k] = true
		}
	}
	data, err := salesforce.EncodeCSV(slices.Sorted(maps.Keys(cols)), rows)
	if err != nil {
		return "", err
	}
	job, err := w.sf.CreateIngestJob(ctx, salesforce.IngestJobSpec{Object: object, Operation: salesforce.BulkUpsert, ExternalIDFieldName: key})
	if err != nil {
		return "", err
	}
	if err := w.sf.UploadIngestData(ctx, job.ID, data); err != nil {
		return "", err
	}
	if _, err := w.sf.CloseIngestJob(ctx, job.ID); err != nil {
		return "", err
	}
	return job.ID, nil
}

// commitCursor commits page with the cursor and the import's progress.
func (w *saleWriter) commitCursor(ctx context.Context, page ledger.Page, cur *salesCursor) error {
	pos := cur.encode()
	page.Cursor = &pos
	if im := cur.Import; im != nil {
		page.Progress = &ledger.Progress{Done: im.Done, Total: im.Total}
	}
	return w.ledger.CommitPage(ctx, w.run, page)
}

func saleIDs(sales []*pendingSale) []string {
	out := make([]string, len(sales))
	for i, ps := range sales {
		out[i] = ps.sale.ID
	}
	return out
}
