package connect_test

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants/vault"
)

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, vault.KeyLen)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t testing.TB, current []byte) *vault.KeyRing {
	t.Helper()
	r, err := vault.NewKeyRing(current)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// setup returns a vault over a fresh database with a random current key.
func setup(t testing.TB) (*vault.Vault, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	return vault.New(pool, mustRing(t, randomKey(t))), pool
}

// dumpContains returns the secrets found in clear (or hex) in a text dump
// of the connections table.
func dumpContains(t testing.TB, pool *pgxpool.Pool, secrets ...string) []string {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT c::text FROM connections c`)
	if err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		dump.WriteString(s)
		dump.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if dump.Len() == 0 {
		t.Fatal("empty dump")
	}
	d := strings.ToLower(dump.String())
	var found []string
	for _, s := range secrets {
		if s != "" && (strings.Contains(d, strings.ToLower(s)) || strings.Contains(d, hex.EncodeToString([]byte(s)))) {
			found = append(found, s)
		}
	}
	return found
}
