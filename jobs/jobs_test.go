package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/sql/dbtest"
)

func TestCleanupDeletesOnlyExpiredRows(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	_, err := pool.Exec(ctx, `
		INSERT INTO web_sessions (id, data, expires_at) VALUES
			('old', '', now() - interval '1 minute'),
			('live', '', now() + interval '1 hour');
		INSERT INTO login_failures (email, ip, failed_at) VALUES
			('a@example.com', '127.0.0.1', now() - interval '25 hours'),
			('b@example.com', '127.0.0.1', now() - interval '1 hour');`)
	if err != nil {
		t.Fatal(err)
	}
	w := &jobs.CleanupWorker{Pool: pool}
	if err := w.Work(ctx, &river.Job[jobs.CleanupArgs]{}); err != nil {
		t.Fatal(err)
	}
	var sessions, failures []string
	rows, _ := pool.Query(ctx, "SELECT id FROM web_sessions ORDER BY id")
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		sessions = append(sessions, s)
	}
	rows, _ = pool.Query(ctx, "SELECT email FROM login_failures ORDER BY email")
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		failures = append(failures, s)
	}
	if len(sessions) != 1 || sessions[0] != "live" {
		t.Errorf("sessions left = %v, want [live]", sessions)
	}
	if len(failures) != 1 || failures[0] != "b@example.com" {
		t.Errorf("login failures left = %v, want [b@example.com]", failures)
	}
}

// The client starts, runs the periodic cleanup on start, and stops cleanly.
func TestClientRunsPeriodicCleanup(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, "INSERT INTO web_sessions (id, data, expires_at) VALUES ('old', '', now() - interval '1 minute')"); err != nil {
		t.Fatal(err)
	}
	client, err := jobs.NewClient(pool, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	// Other periodic jobs (retention) start with it, in any order.
	timeout := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case ev := <-events:
			switch {
			case ev.Job.Kind != "cleanup":
			case ev.Kind != river.EventKindJobCompleted:
				t.Fatalf("cleanup job: %s", ev.Kind)
			default:
				done = true
			}
		case <-timeout:
			t.Fatal("no cleanup job completed within 30s")
		}
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM web_sessions").Scan(&n); err != nil || n != 0 {
		t.Fatalf("expired sessions left: %d, %v", n, err)
	}
}
