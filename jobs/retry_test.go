package jobs_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
)

// Retry all over many records is enqueued as several bounded jobs, with the
// caller's transaction: rolled back, nothing is enqueued.
func TestRetryEnqueuesBoundedJobsInTx(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 1200)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	k := ledger.StreamKey{TenantID: "00000000-0000-0000-0000-000000000001", Stream: ledger.CustomersToSalesforce}
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = 'sync_retry'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = jobs.Retry(ctx, client, tx, k, ids, ledger.TriggerRetry)
	_ = tx.Rollback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d jobs after rollback", n)
	}
	var n int
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		n, err = jobs.Retry(ctx, client, tx, k, ids, ledger.TriggerRetry)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || count() != 3 {
		t.Fatalf("enqueued %d (%d stored), want 3 jobs of at most 500 records", n, count())
	}
	var sizes []int
	rows, _ := pool.Query(ctx, "SELECT jsonb_array_length(args->'ids') FROM river_job WHERE kind = 'sync_retry' ORDER BY id")
	for rows.Next() {
		var s int
		_ = rows.Scan(&s)
		sizes = append(sizes, s)
	}
	if fmt.Sprint(sizes) != "[500 500 200]" {
		t.Errorf("job sizes %v", sizes)
	}
}
