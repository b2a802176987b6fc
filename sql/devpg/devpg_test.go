package devpg_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/sql/devpg"
)

// TestStartStopRestartAfterCrash runs the real server binaries: first start
// (initdb), a restart over a stale postmaster.pid as a crash leaves it, and data
// kept across restarts.
func TestStartStopRestartAfterCrash(t *testing.T) {
	t.Parallel()
	if _, err := devpg.FindBinaries(); err != nil {
		t.Fatalf("%v", err)
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "pg")
	// As root the server runs as the postgres user, who must be able to reach
	// the cluster folder through the test's private temporary folders.
	for _, d := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()

	s, err := devpg.Start(ctx, devpg.Options{Dir: dir})
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// A crash leaves postmaster.pid behind naming a process that is gone.
	stale := strconv.Itoa(2147483000) + "\n" + dir + "\n"
	if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := devpg.Start(ctx, devpg.Options{Dir: dir})
	if err != nil {
		t.Fatalf("start over a stale postmaster.pid: %v", err)
	}
	defer s2.Stop()
	conn, err = pgx.Connect(ctx, s2.URL)
	if err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("data after restart = %d, %v; want 42", v, err)
	}
	// A second server on the same folder is refused, not started over it.
	if _, err := devpg.Start(ctx, devpg.Options{Dir: dir}); err == nil {
		t.Fatal("second Start on a running cluster: want an error")
	}
}
