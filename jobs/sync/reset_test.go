package sync_test

import (
	"net/http"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

// A reset made while a run holds a page it read, before the page is
// committed, wins: the page's records are committed as written, the cursor
// stays at the reset, the run stops there without failing and says why,
// and the next runs read again from the reset date, creating nothing twice
// and leaving nothing out.
func TestResetDuringRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 250, engine: sync.Options{BatchSize: 10}})
	k := ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToSalesforce}

	// The barrier: the run's first write to Salesforce waits until the
	// reset has committed. The run read its page before it.
	held, release := make(chan struct{}), make(chan struct{})
	var once stdsync.Once
	w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/composite/sobjects/") {
			once.Do(func() {
				close(held)
				<-release
			})
		}
		next.ServeHTTP(rw, r)
	}
	type outcome struct {
		res sync.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := w.engine.Run(w.ctx, k, ledger.TriggerSchedule)
		done <- outcome{res, err}
	}()
	select {
	case <-held:
	case o := <-done:
		t.Fatalf("the run ended before writing to Salesforce: %+v, %v", o.res, o.err)
	}
	var resetTo string
	err := pgx.BeginFunc(w.ctx, w.pool, func(tx pgx.Tx) error {
		cur, _, err := w.ledger.CursorTx(w.ctx, tx, k)
		if err != nil {
			return err
		}
		if resetTo, err = sync.CursorAt(k.Stream, cur, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			return err
		}
		if err := w.ledger.ResetCursorTx(w.ctx, tx, k, resetTo); err != nil {
			return err
		}
		return w.ledger.WakeStreamTx(w.ctx, tx, k)
	})
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	o := <-done
	w.sfFront = nil
	if o.err != nil {
		t.Fatalf("the run failed on a reset: %v", o.err)
	}
	run := o.res.Run
	if !o.res.More || run.Status != ledger.RunSucceeded || run.Note == "" {
		t.Errorf("run: more %v, status %s, note %q; want more to do, succeeded, with a note", o.res.More, run.Status, run.Note)
	}
	if n := run.Counts[ledger.ActionCreated]; n == 0 || n >= 250 {
		t.Errorf("the run created %d customers; want its first page's, then to stop", n)
	}
	if got := w.cursor(k.Stream); got != resetTo {
		t.Errorf("cursor %q after the run, want the reset %q", got, resetTo)
	}
	var due bool
	var idle int
	var probe string
	if err := w.pool.QueryRow(w.ctx, `SELECT next_run_at <= now(), idle_runs, probe FROM sync_streams
		WHERE tenant_id = $1 AND location = '' AND stream = $2`, k.TenantID, k.Stream).Scan(&due, &idle, &probe); err != nil {
		t.Fatal(err)
	}
	if !due || idle != 0 || probe != "" {
		t.Errorf("stream after the run: due %v, idle runs %d, probe %q; want due now, whole", due, idle, probe)
	}

	// Read again from the reset date, what the stopped run sent is
	// unchanged; the rest is sent now.
	skipped := 0
	for _, res := range w.runUntilDone(k.Stream) {
		skipped += res.Run.Counts[ledger.ActionSkipped]
	}
	if sent := run.Counts[ledger.ActionCreated]; skipped < sent {
		t.Errorf("%d customers read again unchanged, want at least the %d the stopped run sent", skipped, sent)
	}
	w.assertEachOnce()
}
