// Package migrate applies Tandem's schema: the forward-only SQL files embedded
// from migrations/ and River's own migrations, in one transaction under an
// advisory lock, so running it twice or from several processes at once is safe.
package migrate

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.sql
var files embed.FS

// lockKey is the advisory lock every migrator takes; an arbitrary constant
// ("tandem" in ASCII) that no other part of Tandem uses.
const lockKey = 0x74616e64656d

// Migration is one embedded SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order. File names are
// NNNN_description.sql; a gap or a duplicate version is a programming error
// that the tests catch.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(files, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: read embedded migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		if !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migrate: %s: name must be NNNN_description.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migrate: %s: version %q is not a number", name, num)
		}
		b, err := files.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, fmt.Errorf("migrate: read %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: %s: expected version %d (versions must run 1, 2, 3… without gaps)", m.Name, i+1)
		}
	}
	return ms, nil
}

// Result says what Up did.
type Result struct {
	Applied      []string // names of Tandem migrations applied by this call
	RiverApplied int      // number of River migrations applied by this call
}

// Up applies every pending migration, Tandem's then River's, in one
// transaction. Concurrent callers serialise on an advisory lock; the second
// finds nothing left to do.
func Up(ctx context.Context, pool *pgxpool.Pool) (Result, error) {
	var res Result
	ms, err := Migrations()
	if err != nil {
		return res, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()
	// A session-level lock, because River's migrations must each run in their
	// own transaction (one adds an enum value and uses it), so the whole
	// sequence cannot share one.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return res, fmt.Errorf("migrate: take migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck // released with the session anyway

	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("database schema is at version %d but this binary knows only %d: run a newer tandem", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("record %s: %w", m.Name, err)
			}
			res.Applied = append(res.Applied, m.Name)
		}
		return nil
	})
	if err == nil {
		res.RiverApplied, err = riverUp(ctx, pool, conn)
	}
	if err != nil {
		return Result{}, fmt.Errorf("migrate: %w", err)
	}
	return res, nil
}

// riverUp applies River's pending migrations one per transaction on conn,
// which holds the migration lock; going through the pool instead could wait
// forever for a connection held by another migrator queued on the lock.
func riverUp(ctx context.Context, pool *pgxpool.Pool, conn *pgxpool.Conn) (int, error) {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return 0, fmt.Errorf("river migrator: %w", err)
	}
	applied := 0
	for {
		var n int
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			rr, err := migrator.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
			if err != nil {
				return err
			}
			n = len(rr.Versions)
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("river migrations: %w", err)
		}
		if n == 0 {
			return applied, nil
		}
		applied += n
	}
}

// ErrPending reports that the database lacks migrations this binary has.
var ErrPending = errors.New("migrate: migrations pending")

// Check reports whether the database has every migration this binary knows,
// for readiness probes. It returns ErrPending (wrapped, with the versions) when
// some are missing.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	var current int
	err = pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current)
	if err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if current < len(ms) {
		return fmt.Errorf("%w: database at version %d, binary expects %d", ErrPending, current, len(ms))
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("migrate: river migrator: %w", err)
	}
	vr, err := migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: validate river: %w", err)
	}
	if !vr.OK {
		return fmt.Errorf("%w: river: %s", ErrPending, strings.Join(vr.Messages, "; "))
	}
	return nil
}
