package sync_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

// bulkCursor is the part of the sales cursor a test looks at.
type bulkCursor struct {
	Bulk *struct {
		Step   string    `json:"step"`
		Job    string    `json:"job"`
		Rows   int       `json:"rows"`
		Closed time.Time `json:"closed"`
		// Cols are each job's columns, by step.
		Cols map[string][]string `json:"cols"`
	} `json:"bulk"`
}

func (w *salesWorld) cursor(i int) bulkCursor {
	w.t.Helper()
	pos, _, err := w.ledger.Cursor(w.ctx, w.shopKey(i))
	if err != nil {
		w.t.Fatal(err)
	}
	var c bulkCursor
	if pos != "" {
		if err := json.Unmarshal([]byte(pos), &c); err != nil {
			w.t.Fatal(err)
		}
	}
	return c
}

// importShop runs shop i's stream until it has nothing left and waits on
// no Bulk job, as the worker would (snoozing while a job runs).
func (w *salesWorld) importShop(i int) []sync.Result {
	w.t.Helper()
	var out []sync.Result
	for range 500 {
		res := w.runShop(i)
		out = append(out, res)
		if !res.More && res.Wait == 0 {
			return out
		}
		if res.Wait > 0 {
			time.Sleep(5 * time.Millisecond) // the sandbox processes the job in the background
		}
	}
	w.t.Fatal("the import did not finish")
	return nil
}

// salesCreated counts the sales the runs created through Bulk API and
// through Composite Graph.
func (w *salesWorld) salesCreated(results []sync.Result) (bulk, graph int) {
	w.t.Helper()
	for _, r := range results {
		for _, e := range w.events(r.Run.ID) {
			switch {
			case e.Kind != ledger.KindSale || e.Action != ledger.ActionCreated:
			case strings.HasPrefix(e.Message, "Imported through the Bulk API."):
				bulk++
			default:
				graph++
			}
		}
	}
	return bulk, graph
}

// A large history import goes through Bulk API 2.0 in resumable steps:
// every sale once with its lines and payments, progress to the end, and a
// run that fails while polling resumes the same job instead of starting
// another. Runs here never wait for their jobs (BulkWait < 0), so every
// step is resumed by a later run, as after a kill or a slow job.
func TestSalesBulkImport(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 700,
			engine: sync.Options{BulkThreshold: 100, BulkPoll: time.Millisecond, BulkWait: -1}}, custom: custom})
		res := w.runShop(0)
		if res.Wait == 0 {
			t.Fatalf("the first run did not start a Bulk job: %+v", res)
		}
		job := w.cursor(0).Bulk
		if job == nil || job.Step != "sales" || job.Job == "" {
			t.Fatalf("cursor after the first run: %+v", job)
		}
		// The poll fails (a worker killed, Salesforce down): the job id
		// stays in the cursor and the next run polls the same job.
		w.sfSrv.SetFaults(sfsandbox.Faults{FailNext: 100})
		if _, err := w.engine.Run(w.ctx, w.shopKey(0), ledger.TriggerSchedule); err == nil {
			t.Fatal("the failed poll reported no error")
		}
		w.sfSrv.SetFaults(sfsandbox.Faults{})
		if again := w.cursor(0).Bulk; again == nil || again.Job != job.Job {
			t.Fatalf("after a failed poll the cursor's job is %+v, want %s", again, job.Job)
		}
		created := w.sfCalls("POST jobs/ingest")
		time.Sleep(20 * time.Millisecond)
		w.runShop(0)
		if w.sfCalls("POST jobs/ingest") > created+1 {
			t.Fatal("a run after the failed poll started another sales job")
		}
		bulk, graph := w.salesCreated(w.importShop(0))
		w.assertShopSynced(0)
		t.Logf("%d sales imported through Bulk API, %d through Composite Graph", bulk, graph)
		if bulk < 300 {
			t.Errorf("only %d sales went through Bulk API", bulk)
		}
		st, err := w.ledger.Stream(w.ctx, w.shopKey(0))
		if err != nil {
			t.Fatal(err)
		}
		if st.ProgressTotal == 0 || st.ProgressDone != st.ProgressTotal {
			t.Errorf("progress %d of %d after the import", st.ProgressDone, st.ProgressTotal)
		}
		// Steady state afterwards goes through Composite Graph.
		w.sell(0, 0, "", pay(ptCash, "1000.00"))
		before := w.sfCalls("POST jobs/ingest")
		w.importShop(0)
		if w.sfCalls("POST jobs/ingest") != before {
			t.Error("a sale after the import went through Bulk API")
		}
		w.assertShopSynced(0)
	})
}

// testClock is the engine's clock in a test: stopped at a time, or the
// wall clock moved by an offset.
type testClock struct {
	mu      stdsync.Mutex
	stopped time.Time
	offset  time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped.IsZero() {
		return c.stopped
	}
	return time.Now().Add(c.offset)
}

func (c *testClock) stop(at time.Time) {
	c.mu.Lock()
	c.stopped = at
	c.mu.Unlock()
}

func (c *testClock) run(offset time.Duration) {
	c.mu.Lock()
	c.stopped, c.offset = time.Time{}, offset
	c.mu.Unlock()
}

// jobPolls counts the status polls of Bulk jobs (not their results).
func (w *salesWorld) jobPolls() int {
	w.t.Helper()
	n := 0
	for _, c := range w.sfSrv.Stats().Calls {
		if c.Method == http.MethodGet && c.Resource == "jobs/ingest/{jobId}" {
			n += c.Count
		}
	}
	return n
}

// A run that ends while its Bulk job runs keeps the job's rows and the
// time it closed it in the cursor, and says to come back when the job
// should be done (not after a blind BulkPoll); a run that comes back
// earlier leaves the job without a call. A cursor from before the rows and
// time were kept polls at once, as it did. The engine's clock is stopped,
// so nothing here depends on how fast the sandbox runs the job.
func TestSalesBulkResumeTimesPoll(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	closed := time.Now().UTC().Truncate(time.Millisecond)
	clock.stop(closed)
	// Enough sales that the first job's predicted time (at the prior rate
	// of a tenant the engine has not seen) is above the polls' floor.
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 1500,
		engine: sync.Options{BulkThreshold: 10, BulkPoll: time.Hour, BulkWait: -1, Now: clock.Now}}})
	first := w.runShop(0)
	bulk := w.cursor(0).Bulk
	if bulk == nil || bulk.Step != "sales" || bulk.Rows < 1000 || !bulk.Closed.Equal(closed) {
		t.Fatalf("cursor after the first run: %+v; want the sales job with its rows, closed at %s", bulk, closed)
	}
	if first.Wait <= 50*time.Millisecond || first.Wait >= time.Hour {
		t.Fatalf("the first run waits %s: want the job's predicted time, between the floor and BulkPoll", first.Wait)
	}
	polls := w.jobPolls()
	again := w.runShop(0)
	if n := w.jobPolls() - polls; n != 0 {
		t.Errorf("a run before the job should be done polled it %d times", n)
	}
	if again.Wait != first.Wait {
		t.Errorf("a run at the same moment waits %s, want %s", again.Wait, first.Wait)
	}
	// The same cursor as an older Tandem wrote it.
	pos, _, err := w.ledger.Cursor(w.ctx, w.shopKey(0))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(pos), &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw["bulk"].(map[string]any), "rows")
	delete(raw["bulk"].(map[string]any), "closed")
	old, _ := json.Marshal(raw)
	if err := pgx.BeginFunc(w.ctx, w.pool, func(tx pgx.Tx) error {
		return w.ledger.ResetCursorTx(w.ctx, tx, w.shopKey(0), string(old))
	}); err != nil {
		t.Fatal(err)
	}
	polls = w.jobPolls()
	w.runShop(0)
	if n := w.jobPolls() - polls; n != 1 {
		t.Errorf("a run resuming an old cursor's job polled it %d times, want 1", n)
	}
	clock.run(time.Hour)
	w.importShop(0)
	w.assertShopSynced(0)
}

// A store's history goes through Bulk API as one job per object, whatever
// its size (here above the 5,000 sales an import once took a job per
// object for): every sale whole, each Lightspeed page read once (but the
// overlap page a run reads again where the previous one stopped), and no
// call for the refused rows of jobs that refused none. The staging is
// empty afterwards.
func TestSalesBulkImportThreeJobs(t *testing.T) {
	t.Parallel()
	const sales = 5200
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: sales,
		engine: sync.Options{BulkPoll: time.Millisecond}}})
	results := w.importShop(0)
	bulk, graph := w.salesCreated(results)
	lsCalls := w.lsSrv.Stats().ByResource["Sale"]["GET"]
	runs := 0
	for _, r := range results {
		if r.Run.APICalls[sync.ProviderLightspeed] > 0 {
			runs++
		}
	}
	w.assertShopSynced(0)
	if bulk == 0 || graph != 0 {
		t.Errorf("%d sales went through Bulk API and %d through Composite Graph; want all through Bulk API", bulk, graph)
	}
	if n := w.sfCalls("POST jobs/ingest"); n != 3 {
		t.Errorf("the import created %d Bulk jobs; want 3 (sales, lines, payments)", n)
	}
	// The fewest reads of sales: the count, every page of 100 once, and
	// the overlap page again in each run after the first.
	pages := (len(w.lsSales(0)) + 99) / 100
	if most := 1 + pages + runs - 1; lsCalls > most {
		t.Errorf("the import read Lightspeed sales %d times in %d runs; reading each page once takes at most %d", lsCalls, runs, most)
	}
	if n := w.sfCalls("failedResults"); n != 0 {
		t.Errorf("%d calls for the refused rows of jobs that refused none", n)
	}
	w.assertNothingStaged(0)
}

// A run holds a page of sales at a time: staging commits each page to
// Postgres before the next (a run allowed one batch stages one page and
// stops), and a job's upload is streamed from what was staged, not from
// memory.
func TestSalesBulkStagesPageByPage(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 450,
			engine: sync.Options{BulkThreshold: 100, BulkPoll: time.Millisecond, BatchSize: 100, MaxBatches: 1}}, custom: custom})
		res := w.runShop(0)
		if !res.More || res.Wait != 0 {
			t.Fatalf("the first run: %+v; want it to stop after a page with more to do", res)
		}
		if c := w.cursor(0).Bulk; c == nil || c.Step != "stage" {
			t.Fatalf("cursor after a page: %+v; want the import staging", c)
		}
		if n, _ := w.staged(0); n == 0 || n > 100 {
			t.Errorf("%d sales staged after a run of one page", n)
		}
		firstCols := w.cursor(0).Bulk.Cols
		// At the sales job's upload the whole history is in Postgres: the
		// upload's rows are the staged ones. Every job's CSV has a field
		// for each of its columns in every record, those staged before a
		// column was first seen too.
		var uploaded, staged, jobs int
		var lastCols map[string][]string
		w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
			if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/batches") {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					t.Error(err)
				}
				if _, err := csv.NewReader(bytes.NewReader(body)).ReadAll(); err != nil {
					t.Errorf("job %d's CSV: %v", jobs, err)
				}
				if jobs++; jobs == 1 {
					uploaded = bytes.Count(body, []byte{'\n'}) - 1
					staged, _ = w.staged(0)
					lastCols = w.cursor(0).Bulk.Cols // staging's end
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			next.ServeHTTP(rw, r)
		}
		bulk, graph := w.salesCreated(w.importShop(0))
		w.assertShopSynced(0)
		if uploaded == 0 || uploaded != staged {
			t.Errorf("the sales job uploaded %d rows with %d sales staged", uploaded, staged)
		}
		if jobs != 3 || graph != 0 || bulk == 0 {
			t.Errorf("%d jobs uploaded; %d sales created through Bulk API, %d through Composite Graph; want all through Bulk API", jobs, bulk, graph)
		}
		// A column keeps its place (records are staged by place).
		for step, cols := range lastCols {
			if len(cols) < len(firstCols[step]) || !slices.Equal(cols[:len(firstCols[step])], firstCols[step]) {
				t.Errorf("%s columns %v after the first run, %v at the end: a column moved", step, firstCols[step], cols)
			}
		}
		w.assertNothingStaged(0)
	})
}

// Staging stops where a job's upload would grow past what one Bulk job
// takes (BulkMaxBytes): the staged sales go through their three jobs, and
// staging goes on from there, every sale whole.
func TestSalesBulkStagingCapped(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 700,
		engine: sync.Options{BulkThreshold: 100, BulkPoll: time.Millisecond, BulkMaxBytes: 60_000,
			BatchSize: 100, MaxBatches: 1}}}) // staged a page at a time
	bulk, graph := w.salesCreated(w.importShop(0))
	w.assertShopSynced(0)
	jobs := w.sfCalls("POST jobs/ingest")
	if jobs <= 3 || jobs%3 != 0 {
		t.Errorf("%d Bulk jobs; want rounds of three, more than one", jobs)
	}
	t.Logf("%d jobs; %d sales through Bulk API, %d through Composite Graph", jobs, bulk, graph)
	w.assertNothingStaged(0)
}

// A worker killed while it records a job's results (here the lines job's)
// leaves the job in the cursor: the next run records them and goes on with
// the same job, and no job is created twice.
func TestSalesBulkKilledWorkerResumesJob(t *testing.T) {
	t.Parallel()
	models(t, func(t *testing.T, custom bool) {
		w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 400,
			engine: sync.Options{BulkThreshold: 100, BulkPoll: time.Millisecond}}, custom: custom})
		ctx, kill := context.WithCancel(w.ctx)
		defer kill()
		var killed atomic.Bool
		w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
			if strings.Contains(r.URL.Path, "/successfulResults") && w.sfCalls("POST jobs/ingest") == 2 &&
				killed.CompareAndSwap(false, true) {
				kill()
				<-r.Context().Done() // the worker is gone
				return
			}
			next.ServeHTTP(rw, r)
		}
		if _, err := w.engine.Run(ctx, w.shopKey(0), ledger.TriggerSchedule); err == nil || !killed.Load() {
			t.Fatalf("the run was not killed reading the lines job's results (err %v)", err)
		}
		c := w.cursor(0).Bulk
		if c == nil || c.Step != "lines" {
			t.Fatalf("cursor after the kill: %+v; want the lines job", c)
		}
		w.sfFront = nil
		w.importShop(0)
		w.assertShopSynced(0)
		if n := w.sfCalls("POST jobs/ingest"); n != 3 {
			t.Errorf("%d Bulk jobs after the kill; want the same 3", n)
		}
		w.assertNothingStaged(0)
	})
}

// staged counts the sales and rows shop i has staged.
func (w *salesWorld) staged(i int) (sales, rows int) {
	w.t.Helper()
	sales, rows, err := w.ledger.StagedCount(w.ctx, w.shopKey(i))
	if err != nil {
		w.t.Fatal(err)
	}
	return sales, rows
}

func (w *salesWorld) assertNothingStaged(i int) {
	w.t.Helper()
	if sales, rows := w.staged(i); sales != 0 || rows != 0 {
		w.t.Errorf("%d sales and %d rows still staged after the import", sales, rows)
	}
}

// A sale whose line Bulk API refuses is a failed event and is not marked
// sent: Retry sends it again, whole, through Composite Graph.
func TestSalesBulkRefusedLineRetried(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{shops: 1, sales: 300,
		engine: sync.Options{BulkThreshold: 10, BulkPoll: time.Millisecond, BulkWait: -1}}})
	if res := w.runShop(0); res.Wait == 0 {
		t.Fatal("the first run did not start a Bulk job")
	}
	// While the sales job runs, item 1's product is made inactive: its
	// lines are refused by the lines job.
	prods := w.query("SELECT Id FROM Product2 WHERE Lightspeed_Item_ID__c = '1'")
	if len(prods) != 1 {
		t.Fatalf("item 1's product: %v", prods)
	}
	if _, err := w.sf.UpdateRecords(w.ctx, "Product2", []map[string]any{{"Id": prods[0].ID(), "IsActive": false}}, nil); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, r := range w.importShop(0) {
		for _, e := range w.events(r.Run.ID) {
			if e.Kind == ledger.KindSale && e.Action == ledger.ActionFailed {
				failed = append(failed, e.LSID)
				if !strings.HasPrefix(e.Message, "A line: FIELD_INTEGRITY_EXCEPTION") {
					t.Errorf("failed sale %s: %s", e.LSID, e.Message)
				}
			}
		}
	}
	if len(failed) == 0 {
		t.Fatal("no sale failed on its refused line")
	}
	for _, id := range failed {
		if l, ok := w.saleLink(id); !ok || l.LSHash != "" {
			t.Errorf("failed sale %s is marked sent: %+v", id, l)
		}
	}
	if _, err := w.sf.UpdateRecords(w.ctx, "Product2", []map[string]any{{"Id": prods[0].ID(), "IsActive": true}}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := w.engine.ResendSales(w.ctx, w.shopKey(0), failed, ledger.TriggerRetry)
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Counts[ledger.ActionFailed] != 0 {
		t.Errorf("retry: %v", res.Run.Counts)
	}
	w.assertShopSynced(0)
}

func (w *salesWorld) saleLink(id string) (ledger.Link, bool) {
	w.t.Helper()
	m, err := w.ledger.LinksByLightspeed(w.ctx, w.tenant, ledger.KindSale, []string{id})
	if err != nil {
		w.t.Fatal(err)
	}
	l, ok := m[id]
	return l, ok
}
