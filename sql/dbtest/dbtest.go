// Package dbtest gives each test its own, fully migrated PostgreSQL database,
// so tests run in parallel against a real server without seeing each other's
// rows (River's tables included).
//
// The first caller in a `go test` run builds a template database migrated to
// the current schema (named after a hash of the migrations, so a schema change
// builds a new one); each test then gets CREATE DATABASE … TEMPLATE, which is a
// file copy and far cheaper than migrating again. Databases are dropped when the
// test ends.
package dbtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/sql/migrate"
)

// DefaultURL is the server tests use when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL returns the URL of the maintenance database tests create their
// databases from.
func AdminURL() string {
	return cmp.Or(os.Getenv("TEST_DATABASE_URL"), DefaultURL)
}

// New returns a pool on a new database holding the current schema. The pool
// is closed and the database dropped when the test ends.
func New(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, _ := NewWithURL(tb)
	return pool
}

// NewWithURL is New that also returns the database's URL, for code under test
// that opens its own connections (a `tandem` subprocess, say).
func NewWithURL(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		tb.Fatalf("dbtest: connect to %s: %v (is PostgreSQL running? set TEST_DATABASE_URL)", redact(AdminURL()), err)
	}
	defer admin.Close(ctx)

	tmpl, err := ensureTemplate(ctx, admin)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	name := "tandem_test_" + randomHex(8)
	// Several packages create databases from the same template at once; the
	// server refuses a copy while another session is connected to the
	// template, so retry briefly when that race is lost.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl))
		if err == nil || attempt == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	dbURL := withDatabase(AdminURL(), name)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		tb.Fatalf("dbtest: open pool: %v", err)
	}
	tb.Cleanup(func() {
		pool.Close()
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			tb.Logf("dbtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			tb.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	return pool, dbURL
}

// ensureTemplate returns the name of a migrated template database, building
// it under an advisory lock when this schema version has none yet.
func ensureTemplate(ctx context.Context, admin *pgx.Conn) (string, error) {
	ms, err := migrate.Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%s\n%s\n", m.Name, m.SQL)
	}
	name := "tandem_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]

	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7461)"); err != nil {
		return "", fmt.Errorf("lock template: %w", err)
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(7461)") //nolint:errcheck // released with the connection anyway

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look up template: %w", err)
	}
	if exists {
		return name, nil
	}
	// A half-built template from a crashed run is not marked datistemplate.
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
		return "", fmt.Errorf("drop stale template: %w", err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", name)); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(AdminURL(), name))
	if err != nil {
		return "", fmt.Errorf("open template: %w", err)
	}
	_, err = migrate.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s WITH is_template true ALLOW_CONNECTIONS false", name)); err != nil {
		return "", fmt.Errorf("mark template: %w", err)
	}
	return name, nil
}

func withDatabase(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + db
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the test database"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
