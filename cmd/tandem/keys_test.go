package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants/vault"
)

// TestKeysRotate seals a connection under one key, rotates to a new key with
// the old one listed in TANDEM_SECRET_KEYS, and checks the tokens then open
// with the new key alone.
func TestKeysRotate(t *testing.T) {
	t.Parallel()
	pool, dbURL := dbtest.NewWithURL(t)
	ctx := t.Context()
	oldKey, newKeyB64 := newKey(), newKey()

	var tenantID string
	if err := pool.QueryRow(ctx, "INSERT INTO tenants (name) VALUES ('Rotating Boutique') RETURNING id").Scan(&tenantID); err != nil {
		t.Fatal(err)
	}
	oldRing, err := vault.ParseKeys(oldKey, "")
	if err != nil {
		t.Fatal(err)
	}
	want := vault.Tokens{AccessToken: "access-secret", RefreshToken: "refresh-secret", Expiry: time.Now().Add(time.Hour).Truncate(time.Second)}
	err = vault.New(pool, oldRing).Save(ctx, tenantID, vault.Lightspeed, vault.Connection{ExternalAccount: "200001", Tokens: want})
	if err != nil {
		t.Fatal(err)
	}

	vars := map[string]string{"DATABASE_URL": dbURL, "TANDEM_SECRET_KEY": newKeyB64, "TANDEM_SECRET_KEYS": oldKey}
	code, out, errOut := runCmd(t, ctx, vars, "", "keys", "rotate")
	if code != 0 || !strings.Contains(out, "Re-sealed 1 connections") {
		t.Fatalf("keys rotate: exit %d, out %q, err %q", code, out, errOut)
	}
	code, out, _ = runCmd(t, ctx, vars, "", "keys", "rotate")
	if code != 0 || !strings.Contains(out, "Re-sealed 0 connections") {
		t.Fatalf("second rotate: exit %d, out %q", code, out)
	}

	newRing, err := vault.ParseKeys(newKeyB64, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := vault.New(pool, newRing).Get(ctx, tenantID, vault.Lightspeed)
	if err != nil {
		t.Fatalf("open with the new key alone: %v", err)
	}
	if got.Tokens.AccessToken != want.AccessToken || got.Tokens.RefreshToken != want.RefreshToken {
		t.Fatal("tokens changed by rotation")
	}

	// Without the old key the command says which variable to fix.
	unknown := newKey()
	code, _, errOut = runCmd(t, ctx, map[string]string{"DATABASE_URL": dbURL, "TANDEM_SECRET_KEY": unknown}, "", "keys", "rotate")
	if code != 1 || !strings.Contains(errOut, "TANDEM_SECRET_KEYS") || strings.Contains(errOut, unknown) || strings.Contains(errOut, newKeyB64) {
		t.Fatalf("rotate with an unknown key: exit %d, stderr %q; want exit 1 naming TANDEM_SECRET_KEYS and no key", code, errOut)
	}
}
