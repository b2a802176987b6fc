package migrate_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/sql/migrate"
)

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	t.Parallel()
	ms, err := migrate.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d is %s", i+1, m.Name)
		}
	}
}

// The template database is already migrated, so Up must find nothing to do,
// even when several callers race.
func TestUpIsIdempotentAndSafeConcurrently(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()

	var wg sync.WaitGroup
	errs := make([]error, 4)
	results := make([]migrate.Result, 4)
	for i := range errs {
		wg.Go(func() { results[i], errs[i] = migrate.Up(ctx, pool) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Up #%d: %v", i, err)
		}
		if len(results[i].Applied) != 0 || results[i].RiverApplied != 0 {
			t.Errorf("Up #%d applied %v and %d River migrations on a migrated database", i, results[i].Applied, results[i].RiverApplied)
		}
	}
	if err := migrate.Check(ctx, pool); err != nil {
		t.Fatalf("Check after Up: %v", err)
	}
}

func TestUpFromEmptyAndCheck(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	emptyDB(t, ctx, pool)

	if err := migrate.Check(ctx, pool); err == nil {
		t.Fatal("Check on an empty schema: want an error")
	}
	var wg sync.WaitGroup
	applied := make([]int, 3)
	errs := make([]error, 3)
	for i := range applied {
		wg.Go(func() {
			r, err := migrate.Up(ctx, pool)
			applied[i], errs[i] = len(r.Applied), err
		})
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Up #%d: %v", i, err)
		}
		total += applied[i]
	}
	ms, _ := migrate.Migrations()
	if total != len(ms) {
		t.Errorf("concurrent Ups applied %d migrations in all, want each of the %d exactly once", total, len(ms))
	}
	if err := migrate.Check(ctx, pool); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestCheckReportsPending(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)"); err != nil {
		t.Fatal(err)
	}
	if err := migrate.Check(ctx, pool); !errors.Is(err, migrate.ErrPending) {
		t.Fatalf("Check = %v, want ErrPending", err)
	}
}

// emptyDB drops everything the template put in the public schema.
func emptyDB(t *testing.T, ctx context.Context, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		t.Fatal(err)
	}
}
