package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/jobs/ledger"
)

// reset moves k's cursor to position and wakes it, as Reset a location
// does.
func reset(t *testing.T, pool *pgxpool.Pool, l *ledger.Store, k ledger.StreamKey, position string) {
	t.Helper()
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		if err := l.ResetCursorTx(t.Context(), tx, k, position); err != nil {
			return err
		}
		return l.WakeStreamTx(t.Context(), tx, k)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// streamState is what the scheduler reads of a stream.
type streamState struct {
	due           bool
	idle, probes  int
	probe, cursor string
}

func stateOf(t *testing.T, pool *pgxpool.Pool, k ledger.StreamKey) streamState {
	t.Helper()
	var s streamState
	if err := pool.QueryRow(t.Context(), `
		SELECT st.next_run_at <= now(), st.idle_runs, st.probes, st.probe, COALESCE(c.position, '')
		FROM sync_streams st LEFT JOIN cursors c USING (tenant_id, location, stream)
		WHERE st.tenant_id = $1 AND st.location = $2 AND st.stream = $3`, k.TenantID, k.Location, k.Stream).Scan(
		&s.due, &s.idle, &s.probes, &s.probe, &s.cursor); err != nil {
		t.Fatal(err)
	}
	return s
}

// A page a run read before a reset and commits after it keeps its events
// but not its cursor; the run ends with a note, not a failure, and its
// stream runs again now from the reset position, whole. The next run
// moves the cursor as usual.
func TestResetDuringRunWins(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, l, k := newStream(t)
	const before, reading, resetTo = "2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z", "2026-01-15T00:00:00Z"
	first, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	pos := before
	if err := l.CommitPage(ctx, first, ledger.Page{Cursor: &pos}); err != nil {
		t.Fatal(err)
	}
	if err := l.FinishRun(ctx, first, nil, nil, ledger.Schedule{Interval: time.Minute}); err != nil {
		t.Fatal(err)
	}

	run, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The run reads its page, then waits on the barrier while the reset
	// commits, then commits the page it read.
	read, proceed := make(chan string), make(chan struct{})
	done := make(chan error)
	go func() {
		pos, _, err := l.Cursor(ctx, k)
		if err != nil {
			done <- err
			return
		}
		read <- pos
		<-proceed
		next := reading
		done <- l.CommitPage(ctx, run, ledger.Page{Cursor: &next,
			Events: []ledger.Event{{Action: ledger.ActionCreated, Kind: ledger.KindCustomer, LSID: "7"}}})
	}()
	if got := <-read; got != before {
		t.Fatalf("the run read %q, want %q", got, before)
	}
	reset(t, pool, l, k, resetTo)
	close(proceed)
	if err := <-done; !errors.Is(err, ledger.ErrCursorReset) {
		t.Fatalf("commit after a reset: %v, want ErrCursorReset", err)
	}
	if got := stateOf(t, pool, k).cursor; got != resetTo {
		t.Errorf("cursor %q after the run's page, want the reset %q", got, resetTo)
	}
	var events int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM sync_events WHERE run_id = $1`, run.ID).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 1 || run.Counts[ledger.ActionCreated] != 1 {
		t.Errorf("%d events stored, %d counted: the page's records were written and must be told", events, run.Counts[ledger.ActionCreated])
	}

	// The run found its reset and stops: scheduled as if idle, with a probe
	// of where it had read to, it must leave the stream due and unprobed.
	idle := ledger.Schedule{Interval: time.Minute, MaxIdle: time.Hour, Idle: true, Probe: "ls=Customer after=" + reading}
	if err := l.FinishRun(ctx, run, nil, nil, idle); err != nil {
		t.Fatal(err)
	}
	stored, err := l.Run(ctx, k.TenantID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != ledger.RunSucceeded || stored.Note == "" || stored.Note != run.Note {
		t.Errorf("run ended %s with note %q (kept %q): want succeeded, with a note", stored.Status, stored.Note, run.Note)
	}
	if s := stateOf(t, pool, k); !s.due || s.idle != 0 || s.probe != "" || s.cursor != resetTo {
		t.Errorf("after the run: %+v; want due now, not idle, no probe, cursor %s", s, resetTo)
	}

	next, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	pos = "2026-01-20T00:00:00Z"
	if err := l.CommitPage(ctx, next, ledger.Page{Cursor: &pos}); err != nil {
		t.Fatalf("a run started after the reset: %v", err)
	}
	if err := l.FinishRun(ctx, next, nil, nil, ledger.Schedule{Interval: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if next.Note != "" || stateOf(t, pool, k).cursor != pos {
		t.Errorf("a run started after the reset: note %q, cursor %q, want %q", next.Note, stateOf(t, pool, k).cursor, pos)
	}
}

// An idle run that read the cursor, then finished after a reset, leaves no
// probe of the old position: the stream runs whole, now. A reset of a
// stream with no cursor yet holds too, as does one back to no position.
func TestResetBeforeIdleRunFinishes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, l, k := newStream(t)
	for _, resetTo := range []string{"2026-01-15T00:00:00Z", ""} {
		run, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
		if err != nil {
			t.Fatal(err)
		}
		reset(t, pool, l, k, resetTo)
		pos := "2026-03-05T00:00:00Z"
		if err := l.CommitPage(ctx, run, ledger.Page{Cursor: &pos}); !errors.Is(err, ledger.ErrCursorReset) {
			t.Errorf("reset to %q: commit: %v, want ErrCursorReset", resetTo, err)
		}
		idle := ledger.Schedule{Interval: time.Minute, MaxIdle: time.Hour, Idle: true, Probe: "ls=Customer after=" + pos}
		if err := l.FinishRun(ctx, run, nil, nil, idle); err != nil {
			t.Fatal(err)
		}
		if s := stateOf(t, pool, k); !s.due || s.idle != 0 || s.probe != "" || s.cursor != resetTo {
			t.Errorf("reset to %q: %+v; want due now, no probe", resetTo, s)
		}
		if got, ok, err := l.Cursor(ctx, k); err != nil || got != resetTo || ok != (resetTo != "") {
			t.Errorf("reset to %q: Cursor = %q, %v, %v", resetTo, got, ok, err)
		}
	}
}

// Connecting another account forgets the tenant's links and positions. A
// run going at that moment, for the old account, cannot put its position
// back with its next page: the new account's first run starts from the
// beginning, as if the tenant had just connected.
func TestForgetDuringRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, l, k := newStream(t)
	run, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	pos := "2026-03-01T00:00:00Z"
	if err := l.CommitPage(ctx, run, ledger.Page{Cursor: &pos, Links: []ledger.Link{{Kind: ledger.KindCustomer, LSID: "1", SFID: "003000000000001AAA"}}}); err != nil {
		t.Fatal(err)
	}
	// The stream was probed, from the old account's position.
	if _, err := pool.Exec(ctx, `UPDATE sync_streams SET probe = 'ls=Customer after=2026-03-01T00:00:00Z', idle_runs = 3
		WHERE tenant_id = $1`, k.TenantID); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return ledger.ForgetTx(ctx, tx, k.TenantID) }); err != nil {
		t.Fatal(err)
	}
	if s := stateOf(t, pool, k); s.probe != "" {
		t.Errorf("probe after forgetting: %q, want none", s.probe)
	}
	var links int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM links WHERE tenant_id = $1`, k.TenantID).Scan(&links); err != nil || links != 0 {
		t.Fatalf("links after forgetting: %d, %v", links, err)
	}
	if p, ok, err := l.Cursor(ctx, k); err != nil || ok {
		t.Fatalf("cursor after forgetting: %q %t %v", p, ok, err)
	}

	later := "2026-03-05T00:00:00Z"
	if err := l.CommitPage(ctx, run, ledger.Page{Cursor: &later}); !errors.Is(err, ledger.ErrCursorReset) {
		t.Fatalf("the old run's page after forgetting: %v, want ErrCursorReset", err)
	}
	if p, ok, err := l.Cursor(ctx, k); err != nil || ok {
		t.Errorf("cursor after the old run's page: %q %t %v, want none", p, ok, err)
	}
	if err := l.FinishRun(ctx, run, nil, nil, ledger.Schedule{Interval: time.Minute, Idle: true, Probe: "ls=Customer after=" + later}); err != nil {
		t.Fatal(err)
	}
	if s := stateOf(t, pool, k); !s.due || s.probe != "" {
		t.Errorf("stream after the old run: %+v, want due now, not probed", s)
	}
}
