package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
)

// BenchmarkClaimDue measures the scheduler's claim of due streams among
// 10,000 tenants with three locations each (50,000 streams), nothing
// changing: every claim moves the claimed streams one interval on. At the
// default 30 s interval the scheduler must claim 50,000/30 ≈ 1,667 streams
// a second; streams/s says how far above that one scheduler is, and
// db_ms/claim what each pass of 1,000 costs the database.
func BenchmarkClaimDue(b *testing.B) {
	ctx := context.Background()
	pool := dbtest.New(b)
	for _, q := range []string{
		`INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'Tenant ' || i FROM generate_series(1, 10000) i`,
		`INSERT INTO connections (tenant_id, provider, status, external_account)
		 SELECT id, p, 'connected', 'x' FROM tenants, unnest(ARRAY['lightspeed', 'salesforce']) p`,
		`INSERT INTO sync_streams (tenant_id, location, stream, next_run_at)
		 SELECT id, l, s, now() - random() * interval '30 seconds' FROM tenants,
		 (VALUES ('', 'customers:ls→sf'), ('', 'customers:sf→ls'), ('1', 'sales:ls→sf'), ('2', 'sales:ls→sf'), ('3', 'sales:ls→sf')) v(l, s)`,
		`ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	claimed := 0
	start := time.Now()
	now := time.Now()
	for b.Loop() {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			keys, err := ledger.ClaimDue(ctx, tx, now, 30*time.Second, 1000, 72)
			claimed += len(keys)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		// Move the clock so the claimed streams are due again in turn.
		now = now.Add(600 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(claimed)/elapsed.Seconds(), "streams/s")
	b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N), "db_ms/claim")
}
