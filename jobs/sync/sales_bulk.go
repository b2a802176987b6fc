package sync

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
)

// A large history import goes through Bulk API 2.0, staged in the ledger:
//
//  1. Staging reads the store's history from the cursor, a batch of pages
//     at a time, sends each batch's customers and products (and, through
//     Composite Graph, its sales already in Salesforce), and stages the
//     rows of the rest for all three objects at once (ledger.Stage),
//     committed with the staging's position in the cursor. Lines and payments name their
//     sale by its Lightspeed id (a relationship column), so they need no
//     Salesforce id and are staged with it. A sale's rows are staged as
//     the jobs' CSV records, encoded with the columns seen so far (kept
//     in the cursor, a column first seen appended).
//  2. At the end of the history, or once a job's upload would near
//     Salesforce's size limit, one job per object (sales, then lines,
//     then payments) uploads its rows streamed from Postgres (a record
//     encoded before a later column was seen padded with empty fields,
//     which set nothing); each job's
//     results are read as they come and committed in batches (links, and
//     the failures of sales Salesforce refused a row of).
//  3. The staged sales no job refused anything of are then linked as sent,
//     the staging is cleared and the cursor moves past them.
//
// The step, job id and how far its results were recorded are in the
// cursor, so a worker killed anywhere is resumed by the next run on the
// same job. A run holds a batch of sales (up to stageBatch, and as many
// read ahead), or a batch of results, at a time: a store costs three Bulk
// jobs whatever its size, and memory does not grow with it.
//
// Bulk API saves rows, not sales: a sale whose line or payment was refused
// is left with its link's hash empty and a failed event, so it is sent
// again, whole, through Composite Graph when it changes or is retried.

// Bulk steps: staging, a job per object, and marking the sales sent.
const (
	bulkStage    = "stage"
	bulkSales    = ledger.StepSales
	bulkLines    = ledger.StepLines
	bulkPayments = ledger.StepPayments
	bulkFinal    = "final"
)

// bulkSteps are the import's steps in order.
var bulkSteps = []string{bulkStage, bulkSales, bulkLines, bulkPayments, bulkFinal}

// bulkVersion marks a cursor's bulkState as a staged import's, staged as
// CSV records; an older worker's (a chunk held in memory, or rows staged
// as json) is dropped and its sales staged again.
const bulkVersion = 3

// stageBatch is the most sales staged at once (ten pages): a few
// megabytes, and a commit.
const stageBatch = 1000

// bulkBatch is how many results, or staged sales, a commit takes.
const bulkBatch = 2000

// bulkState is a staged import under way, kept in the cursor.
type bulkState struct {
	Version int    `json:"v,omitempty"`
	Step    string `json:"step"`
	Job     string `json:"job,omitempty"`
	// To is the updateTime of the last sale staged: staging goes on from
	// there, and the cursor moves to it when the import's jobs are done.
	To time.Time `json:"to"`
	// Read counts the sales staged past the cursor (progress).
	Read int64 `json:"read,omitempty"`
	// Bytes estimates each job's upload, to stop staging in time.
	Bytes map[string]int64 `json:"bytes,omitempty"`
	// End is set when staging reached the end of the history.
	End bool `json:"end,omitempty"`
	// Cols are each job's CSV columns, by step, in the order first seen:
	// the staged records are encoded with them (or with the first of
	// them, when a column came later).
	Cols map[string][]string `json:"cols,omitempty"`
	// Rows is how many rows the job holds and Closed when it was closed,
	// which time its polls (nextPoll), in a later run too.
	Rows   int       `json:"rows,omitempty"`
	Closed time.Time `json:"closed,omitzero"`
	// OK and Bad count the job's successful and failed results already
	// recorded; After is the last staged sale marked sent.
	OK    int    `json:"ok,omitempty"`
	Bad   int    `json:"bad,omitempty"`
	After string `json:"after,omitempty"`
}

// bulkImport runs the import's Bulk steps: stages the history (or goes on
// staging), then starts or polls the step's job, waiting for each job in
// turn while the run has time, its polls timed to land when the job should
// be done (bulk_poll.go). It returns the wait before the job's next poll
// when a job outlasts the run, and more when the run stopped with work
// left that needs no waiting.
func (w *saleWriter) bulkImport(ctx context.Context, cur *salesCursor) (wait time.Duration, more bool, err error) {
	if cur.Bulk != nil && cur.Bulk.Version != bulkVersion {
		// An import chunk of an older worker: its job's sales are staged
		// again from the cursor (those it saved are linked, and written
		// through Composite Graph as any linked sale).
		cur.Bulk = nil
	}
	if cur.Bulk == nil {
		// Whatever is staged belongs to no import under way (a reset
		// cursor): start clean.
		if err := w.ledger.ClearStaging(ctx, w.key); err != nil {
			return 0, false, err
		}
		cur.Bulk = &bulkState{Version: bulkVersion, Step: bulkStage, To: cur.UpdatedAt}
	}
	var seen *salesforce.IngestJob
	switch cur.Bulk.Step {
	case bulkStage:
		done, err := w.stage(ctx, cur)
		if err != nil || !done {
			return 0, err == nil, err
		}
		err = w.advance(ctx, cur)
	case bulkFinal:
		err = w.finish(ctx, cur)
	default:
		if wait, _ := w.nextPoll(cur.Bulk, nil, pollSample{}); cur.Bulk.timed() && wait > w.pollFloor() {
			// A run resuming a job before its first poll is due (the
			// worker ran it early) leaves it for later without a call.
			return wait, false, nil
		}
		seen, err = w.bulkPoll(ctx, cur)
	}
	if err != nil || cur.Bulk == nil {
		return 0, err == nil, err
	}
	// last is the run's last poll of an unfinished job.
	wait, last := w.nextPoll(cur.Bulk, seen, pollSample{})
	if w.opts.BulkWait < 0 {
		return wait, false, nil
	}
	deadline := time.Now().Add(w.opts.BulkWait)
	if budget := w.started.Add(w.opts.RunBudget); budget.Before(deadline) {
		deadline = budget
	}
	for time.Now().Add(wait).Before(deadline) {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, false, ctx.Err()
		case <-t.C:
		}
		if seen, err = w.bulkPoll(ctx, cur); err != nil || cur.Bulk == nil {
			return 0, err == nil, err
		}
		wait, last = w.nextPoll(cur.Bulk, seen, last)
	}
	return wait, false, nil
}

// useBulk reports whether the run imports through Bulk API: a history import
// with more than BulkThreshold sales left.
func (rc *runContext) useBulk(cur salesCursor) bool {
	im := cur.Import
	return rc.opts.BulkThreshold > 0 && im != nil && !im.Finished && !im.NoBulk && im.Total-im.Done > int64(rc.opts.BulkThreshold)
}

// stage reads the history from the staging's position and stages it, a
// batch of pages at a time. It reports done at the end of the history or
// once a job's upload is as large as BulkMaxBytes allows; otherwise the
// run's budget ended it and the next run goes on.
func (w *saleWriter) stage(ctx context.Context, cur *salesCursor) (done bool, err error) {
	bs := cur.Bulk
	q := w.salesQuery(cur.Since).Sort("updatetime", false)
	if !bs.To.IsZero() {
		q.Where("updatetime", lightspeed.GreaterEq, bs.To.Add(-w.opts.Overlap))
	}
	// Pages are staged a few at a time: each batch costs the same few
	// queries and one commit whatever its size, and holds as many sales
	// as a run of BatchSize batches writes at most, up to stageBatch. A run
	// stages up to MaxBatches such batches (a batch writes nothing to
	// Salesforce but what its sales need first). The next batch's pages
	// are read while one is staged, but no page past what the run may
	// stage.
	size := min(stageBatch, w.opts.BatchSize*w.opts.MaxBatches)
	perBatch := ceilDiv(size, lightspeed.MaxLimit)
	limit := perBatch * w.opts.MaxBatches
	pages := w.readSales(ctx, q, perBatch, limit)
	defer pages.stop()
	batches := 0
	var batch []lightspeed.Sale
	for read := 1; ; read++ {
		p, err := w.nextPage(ctx, pages)
		if err != nil {
			return false, err
		}
		last := p.nextURL == ""
		if batch = append(batch, p.items...); len(batch) < size && !last && read < limit {
			continue
		}
		if err := w.stageBatch(ctx, cur, batch, last); err != nil {
			return false, err
		}
		batches++
		batch = batch[:0]
		if last || w.stagingFull(bs) {
			return true, nil
		}
		if read == limit || w.enough(batches) {
			return false, nil
		}
	}
}

// stagingFull reports whether a job's upload is as large as one job takes.
func (w *saleWriter) stagingFull(bs *bulkState) bool {
	for _, n := range bs.Bytes {
		if n >= w.opts.BulkMaxBytes {
			return true
		}
	}
	return false
}

// stageBatch prepares a batch of sales as a Composite Graph batch would
// (customers and products sent, sales already in Salesforce written
// through Composite Graph) and stages the rest, with the staging's new
// position.
func (w *saleWriter) stageBatch(ctx context.Context, cur *salesCursor, sales []lightspeed.Sale, last bool) error {
	bs := cur.Bulk
	if im := cur.Import; im != nil && len(sales) > 0 {
		w.pagesLeft = max(1, float64(im.Total-im.Done-bs.Read)/float64(len(sales)))
	}
	b, err := w.prepare(ctx, sales, false)
	w.pagesLeft = 0
	if err != nil {
		return err
	}
	var linked []*pendingSale
	// Every sale read replaces what was staged of it: one that changed
	// since, or that is not sent any more (voided, or its customer failed).
	st := &ledger.Stage{}
	for i := range sales {
		st.Replace = append(st.Replace, strconv.FormatInt(sales[i].SaleID, 10))
	}
	if bs.Bytes == nil {
		bs.Bytes = map[string]int64{}
	}
	enc := bs.newRowEncoder()
	for _, ps := range b.ready {
		if ps.linked {
			linked = append(linked, ps)
			continue
		}
		rows, err := w.bulkRows(ps, b.products)
		if err != nil {
			b.page.Events = append(b.page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale,
				LSID: ps.sale.ID, Label: ps.label, Code: "NOT_SENT", Message: err.Error()})
			continue
		}
		detail := map[string]any{"lines": len(ps.sale.Lines), "payments": len(ps.sale.Payments),
			"total": ps.sale.Values["total"], "channel": ps.sale.Values["channel"]}
		if ps.note != "" {
			detail[stagedNote] = ps.note // said in the event, as Composite Graph's would
		}
		st.Sales = append(st.Sales, ledger.StagedSale{SaleID: ps.sale.ID, Hash: ps.hash, Label: ps.label, Detail: detail})
		for _, r := range rows {
			bs.Bytes[r.step] += rowSize(r.fields)
		}
		if err := enc.add(rows); err != nil {
			return fmt.Errorf("encode sale %s: %w", ps.sale.ID, err)
		}
	}
	enc.set(st.Sales)
	if err := w.writeSales(ctx, linked, b.products, &b.page); err != nil {
		return err
	}
	// Sales read again in the overlap before the position do not count.
	from := bs.To
	for i := range sales {
		if t := sales[i].UpdateTime; t.After(from) {
			bs.Read++
			if t.After(bs.To) {
				bs.To = t
			}
		}
	}
	bs.End = last
	b.page.Stage = st
	return w.commitCursor(ctx, b.page, cur)
}

// bulkRow is one row of a Bulk job: step is the job's.
type bulkRow struct {
	step   string
	fields map[string]any
}

// bulkRows are a sale's rows for the three jobs. Lines and payments name
// their sale by its Lightspeed id, through the parent lookup's
// relationship, so they need not wait for the sale's Salesforce id.
func (w *saleWriter) bulkRows(ps *pendingSale, products map[string]product) ([]bulkRow, error) {
	m := w.model
	id := ps.sale.ID
	sf := w.saleFields(ps)
	sf[saleIDField] = id
	rows := []bulkRow{{step: bulkSales, fields: sf}}
	for _, l := range ps.sale.Lines {
		lf, _, err := w.lineFields(ps, l, products, "")
		if err != nil {
			return nil, err
		}
		delete(lf, m.lineParent)
		lf[relationship(m.lineParent)+"."+saleIDField] = id
		lf[lineIDField] = l.ID
		rows = append(rows, bulkRow{step: bulkLines, fields: lf})
	}
	for _, p := range ps.sale.Payments {
		pf := w.paymentFields(p, "")
		delete(pf, m.paymentParent)
		pf[relationship(m.paymentParent)+"."+saleIDField] = id
		pf[paymentIDField] = p.ID
		rows = append(rows, bulkRow{step: bulkPayments, fields: pf})
	}
	return rows, nil
}

// rowEncoder encodes a batch's staged sales' rows as CSV records, a sale
// at a time as its rows are made (they are then dropped: a batch holds
// its text, not its rows' maps), adding the columns a sale's rows bring
// to bs.Cols (sorted among themselves, after those already seen): a
// record names a column by its place, so a column keeps its place for the
// whole import, and a record written before a column came is shorter.
type rowEncoder struct {
	bs    *bulkState
	known [3]map[string]bool
	bufs  [3]bytes.Buffer
	ws    [3]*salesforce.CSVWriter
	ends  [][3]int // where each sale's records end in bufs
}

func (bs *bulkState) newRowEncoder() *rowEncoder {
	if bs.Cols == nil {
		bs.Cols = map[string][]string{}
	}
	e := &rowEncoder{bs: bs}
	for j, step := range ledger.StagedSteps {
		e.known[j] = map[string]bool{}
		for _, c := range bs.Cols[step] {
			e.known[j][c] = true
		}
		e.ws[j] = salesforce.NewCSVRecords(&e.bufs[j], bs.Cols[step])
	}
	return e
}

// add encodes the next sale's rows.
func (e *rowEncoder) add(rows []bulkRow) error {
	for j, step := range ledger.StagedSteps {
		var added []string
		for _, r := range rows {
			if r.step != step {
				continue
			}
			for c := range r.fields {
				if !e.known[j][c] {
					e.known[j][c] = true
					added = append(added, c)
				}
			}
		}
		if len(added) > 0 {
			slices.Sort(added)
			e.bs.Cols[step] = append(e.bs.Cols[step], added...)
			e.ws[j] = salesforce.NewCSVRecords(&e.bufs[j], e.bs.Cols[step])
		}
		for _, r := range rows {
			if r.step != step {
				continue
			}
			if err := e.ws[j].Write(r.fields); err != nil {
				return err
			}
		}
		if err := e.ws[j].Flush(); err != nil {
			return err
		}
	}
	e.ends = append(e.ends, [3]int{e.bufs[0].Len(), e.bufs[1].Len(), e.bufs[2].Len()})
	return nil
}

// set gives each sale its records (sales[i] are the i-th added).
func (e *rowEncoder) set(sales []ledger.StagedSale) {
	var text [3]string
	for j := range e.bufs {
		text[j] = e.bufs[j].String()
	}
	var start [3]int
	for i := range sales {
		sales[i].CSV = map[string]string{}
		for j, step := range ledger.StagedSteps {
			if end := e.ends[i][j]; end > start[j] {
				sales[i].CSV[step] = text[j][start[j]:end]
			}
			start[j] = e.ends[i][j]
		}
	}
}

// relationship is the relationship name of a lookup field, as Bulk API
// column headers name a parent by external id ("Opportunity" for
// OpportunityId, "Sale__r" for Sale__c).
func relationship(field string) string {
	if base, ok := strings.CutSuffix(field, "__c"); ok {
		return base + "__r"
	}
	return strings.TrimSuffix(field, "Id")
}

// rowSize estimates a row's bytes in a job's CSV, generously (a column's
// name counts as if it were in every row).
func rowSize(fields map[string]any) int64 {
	n := int64(0)
	for k, v := range fields {
		n += int64(len(k)) + 4
		switch x := v.(type) {
		case string:
			n += int64(len(x))
		case fmt.Stringer:
			n += int64(len(x.String()))
		default:
			n += 20
		}
	}
	return n
}

// bulkPoll polls the step's job and, once it is done, records its results
// and starts the next step (or, after the last, marks the sales sent and
// clears cur.Bulk). It returns the job as the poll found it when it is
// unfinished (nil when the step moved on).
func (w *saleWriter) bulkPoll(ctx context.Context, cur *salesCursor) (*salesforce.IngestJob, error) {
	bs := cur.Bulk
	job, err := w.sf.GetIngestJob(ctx, bs.Job)
	if err != nil {
		return nil, fmt.Errorf("poll Bulk API job %s: %w", bs.Job, err)
	}
	if !job.Terminal() {
		return job, nil
	}
	if job.State != salesforce.JobComplete {
		// The job as a whole failed (or was aborted): the import goes on
		// through Composite Graph from the same cursor, where sales a
		// previous job saved are linked and written whole.
		w.log.Warn("sales import: Bulk API job did not complete; continuing through Composite Graph",
			"tenant", w.key.TenantID, "job", bs.Job, "state", job.State, "error", job.ErrorMessage)
		cur.Bulk, cur.Import.NoBulk = nil, true
		return nil, w.commitCursor(ctx, ledger.Page{Stage: &ledger.Stage{Clear: true}}, cur)
	}
	object, _ := w.bulkObject(bs.Step)
	w.rates.learn(w.key.TenantID, object, job.NumberRecordsProcessed, job.TotalProcessingTime)
	if err := w.recordResults(ctx, cur, job.NumberRecordsFailed > 0); err != nil {
		return nil, err
	}
	return nil, w.advance(ctx, cur)
}

// recordResults reads the finished job's results as they come and commits
// them in batches: the links of the rows it saved, and the failures of the
// sales it refused a row of. The cursor counts the results recorded, so a
// run resuming the job skips them.
func (w *saleWriter) recordResults(ctx context.Context, cur *salesCursor, failures bool) error {
	bs := cur.Bulk
	var page ledger.Page
	st := &ledger.Stage{}
	flush := func() error {
		if len(page.Links) == 0 && len(page.Events) == 0 && len(st.Failed) == 0 {
			return nil
		}
		page.Stage = st
		err := w.commitCursor(ctx, page, cur)
		page, st = ledger.Page{}, &ledger.Stage{}
		return err
	}
	_, key := w.bulkObject(bs.Step)
	kind := map[string]string{bulkSales: ledger.KindSale, bulkLines: ledger.KindSaleLine, bulkPayments: ledger.KindPayment}[bs.Step]
	n := 0
	for r, err := range w.sf.SuccessfulResultsIter(ctx, bs.Job, key) {
		if err != nil {
			return err
		}
		if n++; n <= bs.OK {
			continue
		}
		// A sale's link has no hash until its lines and payments are in.
		// The ids are copied: a result's fields share its whole CSV line.
		l := ledger.Link{Kind: kind, LSID: strings.Clone(r.Fields[key]), SFID: strings.Clone(r.ID)}
		page.Links = append(page.Links, l)
		if bs.Step == bulkSales {
			st.Saved = append(st.Saved, ledger.StagedSale{SaleID: l.LSID, SFID: l.SFID})
		}
		bs.OK = n
		if len(page.Links) >= bulkBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if !failures {
		// A call saved: the job said it refused nothing.
		return flush()
	}
	var bad []salesforce.BulkFailure
	record := func() error {
		if err := w.recordFailures(ctx, bs, bad, &page, st); err != nil {
			return err
		}
		bad = bad[:0]
		return flush()
	}
	n = 0
	for r, err := range w.sf.FailedResultsIter(ctx, bs.Job, w.failureColumn(bs.Step)) {
		if err != nil {
			return err
		}
		if n++; n <= bs.Bad {
			continue
		}
		bad = append(bad, r)
		bs.Bad = n
		if len(bad) >= bulkBatch {
			if err := record(); err != nil {
				return err
			}
		}
	}
	return record()
}

// failureColumn is the column of step's rows naming their sale.
func (w *saleWriter) failureColumn(step string) string {
	switch step {
	case bulkLines:
		return relationship(w.model.lineParent) + "." + saleIDField
	case bulkPayments:
		return relationship(w.model.paymentParent) + "." + saleIDField
	}
	return saleIDField
}

// recordFailures fails the staged sales of refused rows, once each, with
// Salesforce's own message.
func (w *saleWriter) recordFailures(ctx context.Context, bs *bulkState, bad []salesforce.BulkFailure, page *ledger.Page, st *ledger.Stage) error {
	if len(bad) == 0 {
		return nil
	}
	col := w.failureColumn(bs.Step)
	var ids []string
	for _, r := range bad {
		ids = append(ids, r.Fields[col])
	}
	staged, err := w.ledger.StagedSalesByID(ctx, w.key, ids)
	if err != nil {
		return err
	}
	for _, r := range bad {
		s, ok := staged[r.Fields[col]]
		if !ok || s.Failed || slices.Contains(st.Failed, s.SaleID) {
			continue
		}
		st.Failed = append(st.Failed, s.SaleID)
		msg := "The sale: " + r.Code + ": " + r.Message
		switch bs.Step {
		case bulkLines:
			msg = "A line: " + r.Code + ": " + r.Message + " The sale is sent again, whole, when it changes or is retried."
		case bulkPayments:
			msg = "A payment: " + r.Code + ": " + r.Message + " The sale is sent again, whole, when it changes or is retried."
		}
		page.Events = append(page.Events, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale, LSID: s.SaleID,
			SFID: s.SFID, Label: s.Label, Code: r.Code, Message: msg})
	}
	return nil
}

// advance starts the job of the next step with rows to upload; with none
// left it marks the staged sales sent (finish).
func (w *saleWriter) advance(ctx context.Context, cur *salesCursor) error {
	bs := cur.Bulk
	for _, step := range bulkSteps[slices.Index(bulkSteps, bs.Step)+1:] {
		if step == bulkFinal {
			bs.Step, bs.Job = bulkFinal, ""
			return w.finish(ctx, cur)
		}
		// Lines and payments go only for sales no job refused a row of.
		withoutFailed := step != bulkSales
		cols := bs.Cols[step]
		if len(cols) == 0 {
			continue
		}
		if ok, err := w.ledger.HasStaged(ctx, w.key, step, withoutFailed); err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		job, rows, err := w.startJob(ctx, step, cols, withoutFailed)
		if err != nil {
			return err
		}
		bs.Step, bs.Job, bs.OK, bs.Bad = step, job, 0, 0
		bs.Rows, bs.Closed = rows, w.opts.Now()
		return w.commitCursor(ctx, ledger.Page{}, cur)
	}
	return fmt.Errorf("sales import: no step after %q", bs.Step)
}

// startJob creates a step's Bulk API upsert job, uploads its staged rows
// streamed from the ledger, and closes it. It returns the job and how
// many rows it holds.
func (w *saleWriter) startJob(ctx context.Context, step string, cols []string, withoutFailed bool) (string, int, error) {
	object, key := w.bulkObject(step)
	job, err := w.sf.CreateIngestJob(ctx, salesforce.IngestJobSpec{Object: object, Operation: salesforce.BulkUpsert, ExternalIDFieldName: key})
	if err != nil {
		return "", 0, err
	}
	// rows counts the rows of the last upload (a retry's, if any): the
	// writer counts them before it closes the pipe the upload reads to
	// its end.
	var rows atomic.Int64
	open := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			n, err := w.writeStaged(ctx, pw, cols, step, withoutFailed)
			rows.Store(int64(n))
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	if err := w.sf.UploadIngestStream(ctx, job.ID, open); err != nil {
		return "", 0, err
	}
	if _, err := w.sf.CloseIngestJob(ctx, job.ID); err != nil {
		return "", 0, err
	}
	return job.ID, int(rows.Load()), nil
}

// writeStaged writes a step's staged records as a job's CSV, a sale's at
// a time, and returns how many it wrote.
func (w *saleWriter) writeStaged(ctx context.Context, out io.Writer, cols []string, step string, withoutFailed bool) (int, error) {
	buf := bufio.NewWriterSize(out, 64<<10)
	cw, err := salesforce.NewCSVWriter(buf, cols)
	if err != nil {
		return 0, err
	}
	if err := cw.Flush(); err != nil {
		return 0, err
	}
	n := 0
	for text, err := range w.ledger.StagedCSV(ctx, w.key, step, withoutFailed) {
		if err != nil {
			return n, err
		}
		k, err := writePadded(buf, text, len(cols))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, buf.Flush()
}

// writePadded writes CSV records (each ended by a newline) with empty
// fields added up to width: a record encoded before the job's later
// columns were seen has fewer fields, and an empty field sets nothing, as
// a column missing from a record does. It returns how many records it
// wrote.
func writePadded(out *bufio.Writer, text []byte, width int) (int, error) {
	n, fields, quoted, from := 0, 1, false, 0
	for i, c := range text {
		switch {
		case c == '"':
			quoted = !quoted // an escaped quote ("") turns it back
		case quoted:
		case c == ',':
			fields++
		case c == '\n':
			if fields > width {
				return n, fmt.Errorf("a staged record has %d fields, more than the job's %d columns", fields, width)
			}
			out.Write(text[from:i])
			for ; fields < width; fields++ {
				out.WriteByte(',')
			}
			if err := out.WriteByte('\n'); err != nil {
				return n, err
			}
			n, fields, from = n+1, 1, i+1
		}
	}
	if from != len(text) {
		return n, errors.New("a staged record does not end with a newline")
	}
	return n, nil
}

// finish marks the staged sales no job refused anything of sent, a batch
// at a time (the cursor keeps the last), and with the last batch clears
// the staging and moves the cursor past them.
// stagedNote is the key of a staged sale's detail that holds what its
// event must say besides (a customer it was sent without).
const stagedNote = "note"

func (w *saleWriter) finish(ctx context.Context, cur *salesCursor) error {
	bs := cur.Bulk
	for {
		sales, err := w.ledger.StagedSales(ctx, w.key, bs.After, bulkBatch, false)
		if err != nil {
			return err
		}
		var page ledger.Page
		for _, s := range sales {
			if s.SFID == "" {
				continue // not in the sales job's results: not sent
			}
			page.Links = append(page.Links, ledger.Link{Kind: ledger.KindSale, LSID: s.SaleID, SFID: s.SFID,
				LSHash: s.Hash, State: ledger.LinkActive})
			msg := "Imported through the Bulk API."
			if note, _ := s.Detail[stagedNote].(string); note != "" {
				msg += " " + note
				delete(s.Detail, stagedNote)
			}
			page.Events = append(page.Events, ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindSale, LSID: s.SaleID,
				SFID: s.SFID, Label: s.Label, Message: msg, Detail: s.Detail})
		}
		if len(sales) == bulkBatch {
			bs.After = sales[len(sales)-1].SaleID
			if err := w.commitCursor(ctx, page, cur); err != nil {
				return err
			}
			continue
		}
		if bs.To.After(cur.UpdatedAt) {
			cur.UpdatedAt = bs.To
		}
		if im := cur.Import; im != nil {
			im.Done = min(im.Done+bs.Read, im.Total)
			if bs.End {
				// The history is all in: later runs are the steady state.
				im.Finished, im.Done = true, max(im.Done, im.Total)
				im.Total = im.Done
			}
		}
		cur.Bulk = nil
		page.Stage = &ledger.Stage{Clear: true}
		return w.commitCursor(ctx, page, cur)
	}
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
