package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/sql/dbtest"
)

// newTenant inserts a tenant and returns its id.
func newTenant(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(t.Context(), "INSERT INTO tenants (name) VALUES ('Test shop') RETURNING id::text").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// setup returns a vault over a fresh database with a random current key.
func setup(t testing.TB) (*Vault, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	return New(pool, mustRing(t, randomKey(t))), pool
}

func sample(suffix string) Connection {
	return Connection{
		ExternalAccount: "200001",
		ExternalName:    "Demo Boutique",
		InstanceURL:     "https://example.my.salesforce.com",
		LoginHost:       "https://login.salesforce.com",
		Tokens: Tokens{
			AccessToken:  "access-" + suffix + "-Zq8wX1",
			RefreshToken: "refresh-" + suffix + "-Pp3kL0",
			Expiry:       time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC),
		},
		Scopes:   "employee:all",
		Metadata: json.RawMessage(`{"shops": 2}`),
	}
}

// ignoreTimes compares connections without the server-set timestamps.
var ignoreTimes = cmpopts.IgnoreFields(Connection{}, "ConnectedAt", "UpdatedAt", "StatusChangedAt")

func normalizeJSON(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("metadata %q: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSaveGet(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	ctx := t.Context()
	tenant := newTenant(t, pool)

	if _, err := v.Get(ctx, tenant, Lightspeed); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Get before Save: %v, want ErrNotConnected", err)
	}
	in := sample("one")
	// Upper case is the same tenant: the vault binds the canonical form.
	if err := v.Save(ctx, strings.ToUpper(tenant), Lightspeed, in); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(ctx, tenant, Lightspeed)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Status = StatusConnected
	want.KeyID = v.keys.CurrentID()
	if diff := cmp.Diff(want, got, ignoreTimes, cmpopts.IgnoreFields(Connection{}, "Metadata")); diff != "" {
		t.Errorf("Get after Save (-want +got):\n%s", diff)
	}
	if got, want := normalizeJSON(t, got.Metadata), `{"shops":2}`; got != want {
		t.Errorf("metadata = %s, want %s", got, want)
	}
	if got.ConnectedAt.IsZero() || got.UpdatedAt.IsZero() {
		t.Errorf("timestamps not set: %+v", got)
	}
	if !got.Tokens.Expiry.Equal(in.Tokens.Expiry) {
		t.Errorf("expiry = %v, want %v", got.Tokens.Expiry, in.Tokens.Expiry)
	}

	// The other provider is a separate row.
	if _, err := v.Get(ctx, tenant, Salesforce); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Get salesforce: %v, want ErrNotConnected", err)
	}

	// Saving again replaces everything; the same account keeps its
	// connected_at, and nil metadata stores {}.
	again := sample("two")
	again.Metadata = nil
	again.Tokens.Expiry = time.Time{}
	if err := v.Save(ctx, tenant, Lightspeed, again); err != nil {
		t.Fatal(err)
	}
	got2, err := v.Get(ctx, tenant, Lightspeed)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(got2.Tokens, again.Tokens) {
		t.Errorf("tokens after second save = %v, want %v", got2.Tokens, again.Tokens)
	}
	if got, want := normalizeJSON(t, got2.Metadata), `{}`; got != want {
		t.Errorf("metadata = %s, want %s", got, want)
	}
	if !got2.ConnectedAt.Equal(got.ConnectedAt) {
		t.Errorf("connected_at moved on a save to the same account: %v → %v", got.ConnectedAt, got2.ConnectedAt)
	}

	// A connection without a refresh token (Salesforce without the
	// refresh_token scope) round-trips with a NULL column.
	noRefresh := sample("three")
	noRefresh.Tokens.RefreshToken = ""
	if err := v.Save(ctx, tenant, Salesforce, noRefresh); err != nil {
		t.Fatal(err)
	}
	got3, err := v.Get(ctx, tenant, Salesforce)
	if err != nil || !cmp.Equal(got3.Tokens, noRefresh.Tokens) {
		t.Errorf("Get = %v, %v; want %v", got3.Tokens, err, noRefresh.Tokens)
	}
}

func TestSaveRejectsBadInput(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	tenant := newTenant(t, pool)
	tests := []struct {
		name, tenant, provider string
		mutate                 func(*Connection)
		wantErr                string
	}{
		{name: "unknown provider", tenant: tenant, provider: "shopify", wantErr: `unknown provider "shopify"`},
		{name: "tenant not a uuid", tenant: "42", provider: Lightspeed, wantErr: `tenant id "42" is not a UUID`},
		{name: "no access token", tenant: tenant, provider: Lightspeed, mutate: func(c *Connection) { c.Tokens.AccessToken = "" }, wantErr: "access token is empty"},
		{name: "no account", tenant: tenant, provider: Lightspeed, mutate: func(c *Connection) { c.ExternalAccount = "" }, wantErr: "external account is empty"},
		{name: "bad status", tenant: tenant, provider: Lightspeed, mutate: func(c *Connection) { c.Status = "paused" }, wantErr: `unknown status "paused"`},
		{name: "metadata not an object", tenant: tenant, provider: Lightspeed, mutate: func(c *Connection) { c.Metadata = json.RawMessage(`[1]`) }, wantErr: "metadata is not a JSON object"},
		{name: "metadata not json", tenant: tenant, provider: Lightspeed, mutate: func(c *Connection) { c.Metadata = json.RawMessage(`{`) }, wantErr: "metadata is not a JSON object"},
		{name: "tenant does not exist", tenant: "00000000-0000-4000-8000-000000000000", provider: Lightspeed, wantErr: "violates foreign key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := sample("bad")
			if tt.mutate != nil {
				tt.mutate(&c)
			}
			err := v.Save(t.Context(), tt.tenant, tt.provider, c)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Save error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), c.Tokens.AccessToken) && c.Tokens.AccessToken != "" {
				t.Errorf("error %q contains the access token", err)
			}
		})
	}
	if _, err := v.Get(t.Context(), tenant, Lightspeed); !errors.Is(err, ErrNotConnected) {
		t.Errorf("a rejected save stored something: %v", err)
	}
}

// TestSaveTxRollback is the "failed callback" case: onboarding saves the
// new connection in its transaction, something after it fails, and the
// previous connection must be exactly as it was.
func TestSaveTxRollback(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	ctx := t.Context()
	tenant := newTenant(t, pool)
	old := sample("old")
	if err := v.Save(ctx, tenant, Lightspeed, old); err != nil {
		t.Fatal(err)
	}
	before, err := v.Get(ctx, tenant, Lightspeed)
	if err != nil {
		t.Fatal(err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := sample("new")
	next.ExternalAccount = "300003"
	if err := v.SaveTx(ctx, tx, tenant, Lightspeed, next); err != nil {
		t.Fatal(err)
	}
	// Discovery (or anything after the save) fails:
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := v.Get(ctx, tenant, Lightspeed)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("connection changed by a rolled-back save (-before +after):\n%s", diff)
	}

	// And a committed one takes effect.
	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SaveTx(ctx, tx, tenant, Lightspeed, next); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(ctx, tenant, Lightspeed)
	if err != nil || got.ExternalAccount != "300003" || !cmp.Equal(got.Tokens, next.Tokens) {
		t.Errorf("after committed SaveTx: %v %v, %v", got.ExternalAccount, got.Tokens, err)
	}
}

func TestTamperDetection(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	ctx := t.Context()
	for _, col := range []string{"access_token_enc", "refresh_token_enc"} {
		t.Run(col, func(t *testing.T) {
			t.Parallel()
			tenant := newTenant(t, pool)
			c := sample("tamper")
			if err := v.Save(ctx, tenant, Lightspeed, c); err != nil {
				t.Fatal(err)
			}
			// Flip one bit in the middle of the ciphertext.
			_, err := pool.Exec(ctx, fmt.Sprintf(
				`UPDATE connections SET %[1]s = set_byte(%[1]s, 20, get_byte(%[1]s, 20) # 1) WHERE tenant_id = $1`, col), tenant)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Get(ctx, tenant, Lightspeed)
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("Get after tampering = %v, want ErrTampered", err)
			}
			if got.Tokens != (Tokens{}) {
				t.Errorf("Get returned tokens with the error: %v", got.Tokens)
			}
			for _, s := range []string{c.Tokens.AccessToken, c.Tokens.RefreshToken} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a token", err)
				}
			}
			_, err = v.Refresh(ctx, tenant, Lightspeed, func(Connection) bool { return true },
				func(context.Context, Tokens) (Tokens, error) {
					t.Error("refresh called with tampered tokens")
					return Tokens{}, nil
				})
			if !errors.Is(err, ErrTampered) {
				t.Errorf("Refresh after tampering = %v, want ErrTampered", err)
			}
		})
	}
}

func TestCrossRowReplay(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	ctx := t.Context()
	tenants := []string{newTenant(t, pool), newTenant(t, pool)}
	for i, tn := range tenants {
		for _, p := range []string{Lightspeed, Salesforce} {
			if err := v.Save(ctx, tn, p, sample(fmt.Sprintf("%d-%s", i, p))); err != nil {
				t.Fatal(err)
			}
		}
	}
	type cell struct {
		tenant   int
		provider string
		column   string
	}
	tests := []struct {
		name     string
		from, to cell
	}{
		{"other tenant, same field", cell{0, Lightspeed, "access_token_enc"}, cell{1, Lightspeed, "access_token_enc"}},
		{"other tenant, refresh", cell{0, Lightspeed, "refresh_token_enc"}, cell{1, Lightspeed, "refresh_token_enc"}},
		{"other provider, same tenant", cell{0, Lightspeed, "access_token_enc"}, cell{0, Salesforce, "access_token_enc"}},
		{"refresh into access", cell{1, Salesforce, "refresh_token_enc"}, cell{1, Salesforce, "access_token_enc"}},
		{"access into refresh", cell{1, Lightspeed, "access_token_enc"}, cell{1, Lightspeed, "refresh_token_enc"}},
	}
	for _, tt := range tests {
		// Sequential: each case overwrites one row, then restores it.
		t.Run(tt.name, func(t *testing.T) {
			var saved []byte
			if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT %s FROM connections WHERE tenant_id = $1 AND provider = $2`, tt.to.column),
				tenants[tt.to.tenant], tt.to.provider).Scan(&saved); err != nil {
				t.Fatal(err)
			}
			_, err := pool.Exec(ctx, fmt.Sprintf(`UPDATE connections SET %s = (SELECT %s FROM connections WHERE tenant_id = $3 AND provider = $4)
				WHERE tenant_id = $1 AND provider = $2`, tt.to.column, tt.from.column),
				tenants[tt.to.tenant], tt.to.provider, tenants[tt.from.tenant], tt.from.provider)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Get(ctx, tenants[tt.to.tenant], tt.to.provider)
			if !errors.Is(err, ErrTampered) {
				t.Errorf("Get of the row with a copied ciphertext = %v, %v; want ErrTampered", got.Tokens, err)
			}
			if _, err := pool.Exec(ctx, fmt.Sprintf(`UPDATE connections SET %s = $3 WHERE tenant_id = $1 AND provider = $2`, tt.to.column),
				tenants[tt.to.tenant], tt.to.provider, saved); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Get(ctx, tenants[tt.to.tenant], tt.to.provider); err != nil {
				t.Fatalf("restored row does not open: %v", err)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	oldKey, newKey := randomKey(t), randomKey(t)
	oldVault := New(pool, mustRing(t, oldKey))

	// More rows than one rotation batch, both providers.
	const tenantsN = rotateBatch/2 + 10
	var tenants []string
	rows, err := pool.Query(ctx, `INSERT INTO tenants (name) SELECT 'shop ' || g FROM generate_series(1, $1) g RETURNING id::text`, tenantsN)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]Tokens{}
	for i, tn := range tenants {
		for _, p := range []string{Lightspeed, Salesforce} {
			c := sample(fmt.Sprintf("%d-%s", i, p))
			if err := oldVault.Save(ctx, tn, p, c); err != nil {
				t.Fatal(err)
			}
			want[tn+p] = c.Tokens
		}
	}
	// A disconnected row has nothing to re-seal.
	if err := oldVault.Disconnect(ctx, tenants[0], Salesforce, "test"); err != nil {
		t.Fatal(err)
	}
	delete(want, tenants[0]+Salesforce)

	// The new key alone cannot open the old rows, and says what to do.
	newOnly := New(pool, mustRing(t, newKey))
	_, err = newOnly.Get(ctx, tenants[1], Lightspeed)
	var uk *UnknownKeyError
	if !errors.As(err, &uk) || uk.KeyID != KeyID(oldKey) || !strings.Contains(err.Error(), "TANDEM_SECRET_KEYS") {
		t.Fatalf("Get with only the new key = %v, want *UnknownKeyError naming the old key id and TANDEM_SECRET_KEYS", err)
	}
	if n, err := newOnly.RotateAll(ctx); !errors.As(err, &uk) || n != 0 {
		t.Fatalf("RotateAll with only the new key = %d, %v; want 0 and *UnknownKeyError", n, err)
	}

	// New current key with the old one in TANDEM_SECRET_KEYS: old rows open.
	ring, err := ParseKeys(b64(newKey), b64(randomKey(t))+","+b64(oldKey))
	if err != nil {
		t.Fatal(err)
	}
	both := New(pool, ring)
	got, err := both.Get(ctx, tenants[1], Lightspeed)
	if err != nil || !cmp.Equal(got.Tokens, want[tenants[1]+Lightspeed]) || got.KeyID != KeyID(oldKey) {
		t.Fatalf("Get with new+old keys = %v (key %s), %v", got.Tokens, got.KeyID, err)
	}

	n, err := both.RotateAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("RotateAll re-sealed %d rows, want %d", n, len(want))
	}
	var stale int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM connections WHERE key_id <> $1 AND key_id <> ''`, KeyID(newKey)).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	if stale != 0 {
		t.Errorf("%d rows still under another key after RotateAll", stale)
	}
	if n, err := both.RotateAll(ctx); err != nil || n != 0 {
		t.Errorf("second RotateAll = %d, %v; want 0, nil", n, err)
	}
	// Now the new key alone opens everything, with the same tokens.
	for _, tn := range tenants {
		for _, p := range []string{Lightspeed, Salesforce} {
			got, err := newOnly.Get(ctx, tn, p)
			if err != nil {
				t.Fatalf("Get %s/%s after rotation: %v", tn, p, err)
			}
			if wt, ok := want[tn+p]; ok && (!cmp.Equal(got.Tokens, wt) || got.KeyID != KeyID(newKey)) {
				t.Errorf("%s/%s after rotation: %v under %s, want %v under %s", tn, p, got.Tokens, got.KeyID, wt, KeyID(newKey))
			}
		}
	}
}

func TestDisconnectAndMarkNeedsReauth(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	ctx := t.Context()
	tenant := newTenant(t, pool)
	if err := v.MarkNeedsReauth(ctx, tenant, Lightspeed, "x"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("MarkNeedsReauth without a connection = %v, want ErrNotConnected", err)
	}
	if err := v.Disconnect(ctx, tenant, Lightspeed, "x"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Disconnect without a connection = %v, want ErrNotConnected", err)
	}
	c := sample("d")
	if err := v.Save(ctx, tenant, Lightspeed, c); err != nil {
		t.Fatal(err)
	}

	if err := v.MarkNeedsReauth(ctx, tenant, Lightspeed, "Lightspeed refused the authorization"); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(ctx, tenant, Lightspeed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusNeedsReauth || got.StatusReason != "Lightspeed refused the authorization" || got.StatusChangedAt.IsZero() {
		t.Errorf("after MarkNeedsReauth: status %q reason %q changed %v", got.Status, got.StatusReason, got.StatusChangedAt)
	}
	if !cmp.Equal(got.Tokens, c.Tokens) {
		t.Errorf("MarkNeedsReauth dropped the tokens (they are needed to revoke): %v", got.Tokens)
	}
	// The change is in the tenant's audit log, once: marking again is no
	// new event.
	if err := v.MarkNeedsReauth(ctx, tenant, Lightspeed, "refused again"); err != nil {
		t.Fatal(err)
	}
	var n int
	var detail map[string]any
	if err := pool.QueryRow(ctx, `SELECT count(*) OVER (), detail FROM audit_log WHERE tenant_id = $1 AND action = 'connection.needs_reauth'`,
		tenant).Scan(&n, &detail); err != nil {
		t.Fatal(err)
	}
	if n != 1 || detail["provider"] != Lightspeed || detail["reason"] != "Lightspeed refused the authorization" {
		t.Errorf("needs-reconnect audit: %d entries, detail %v", n, detail)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.DisconnectTx(ctx, tx, tenant, Lightspeed, "Disconnected by owner@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err = v.Get(ctx, tenant, Lightspeed)
	if err != nil {
		t.Fatal(err)
	}
	want := c
	want.Status, want.StatusReason, want.Tokens, want.KeyID = StatusDisconnected, "Disconnected by owner@example.com", Tokens{}, ""
	if diff := cmp.Diff(want, got, ignoreTimes, cmpopts.IgnoreFields(Connection{}, "Metadata")); diff != "" {
		t.Errorf("after Disconnect (-want +got):\n%s", diff)
	}
	var nulls bool
	if err := pool.QueryRow(ctx, `SELECT access_token_enc IS NULL AND refresh_token_enc IS NULL FROM connections WHERE tenant_id = $1`, tenant).Scan(&nulls); err != nil || !nulls {
		t.Errorf("sealed tokens still stored after Disconnect (%v)", err)
	}
	if err := v.MarkNeedsReauth(ctx, tenant, Lightspeed, "x"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("MarkNeedsReauth of a disconnected connection = %v, want ErrNotConnected", err)
	}
	_, err = v.Refresh(ctx, tenant, Lightspeed, func(Connection) bool { return true },
		func(context.Context, Tokens) (Tokens, error) {
			t.Error("refresh called after disconnect")
			return Tokens{}, nil
		})
	if !errors.Is(err, ErrNotConnected) {
		t.Errorf("Refresh of a disconnected connection = %v, want ErrNotConnected", err)
	}

	// Reconnecting resets the status and connected_at.
	if err := v.Save(ctx, tenant, Lightspeed, sample("e")); err != nil {
		t.Fatal(err)
	}
	again, err := v.Get(ctx, tenant, Lightspeed)
	if err != nil || again.Status != StatusConnected || again.StatusReason != "" || !again.ConnectedAt.After(got.ConnectedAt) {
		t.Errorf("after reconnect: %q %q connected %v (was %v), %v", again.Status, again.StatusReason, again.ConnectedAt, got.ConnectedAt, err)
	}
}

func TestTokensRedacted(t *testing.T) {
	t.Parallel()
	c := sample("redact")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("conn", "connection", c, "tokens", c.Tokens)
	log.Info("ptr", "tokens", &c.Tokens)
	outs := []string{
		buf.String(),
		fmt.Sprint(c.Tokens), fmt.Sprintf("%v %+v %#v %s", c.Tokens, c.Tokens, c.Tokens, c.Tokens),
		fmt.Sprintf("%v %+v", c, c), fmt.Sprintf("%+v", &c),
	}
	for _, out := range outs {
		for _, s := range []string{c.Tokens.AccessToken, c.Tokens.RefreshToken} {
			if strings.Contains(out, s) {
				t.Errorf("output leaks a token: %s", out)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(c.Tokens), "[redacted]") {
		t.Errorf("String = %s, want it to say the tokens are redacted", c.Tokens)
	}
}

// dumpContains reports which of secrets appear in a text dump of the
// connections table, as themselves or hex-encoded (bytea's text form).
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
		if s == "" {
			continue
		}
		if strings.Contains(d, strings.ToLower(s)) || strings.Contains(d, hex.EncodeToString([]byte(s))) {
			found = append(found, s)
		}
	}
	return found
}

func TestDumpHasNoPlaintext(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	ctx := t.Context()
	tenant := newTenant(t, pool)
	c := sample("dump")
	if err := v.Save(ctx, tenant, Lightspeed, c); err != nil {
		t.Fatal(err)
	}
	next := Tokens{AccessToken: "access-next-Jd83Kq", RefreshToken: "refresh-next-Wm20Xa"}
	if _, err := v.Refresh(ctx, tenant, Lightspeed, func(Connection) bool { return true },
		func(context.Context, Tokens) (Tokens, error) { return next, nil }); err != nil {
		t.Fatal(err)
	}
	// Control: the dump does show what is stored in clear.
	if found := dumpContains(t, pool, c.ExternalName); len(found) != 1 {
		t.Fatal("the dump check cannot see stored text")
	}
	if found := dumpContains(t, pool, c.Tokens.AccessToken, c.Tokens.RefreshToken, next.AccessToken, next.RefreshToken); len(found) > 0 {
		t.Errorf("the table dump contains tokens in clear: %q", found)
	}
}

func BenchmarkGet(b *testing.B) {
	v, pool := setup(b)
	ctx := context.Background()
	tenant := newTenant(b, pool)
	if err := v.Save(ctx, tenant, Lightspeed, sample("bench")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Get(ctx, tenant, Lightspeed); err != nil {
			b.Fatal(err)
		}
	}
}

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// BenchmarkRotateAll measures re-sealing 200 connections under a new key.
func BenchmarkRotateAll(b *testing.B) {
	pool := dbtest.New(b)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO tenants (name) SELECT 'shop ' || g FROM generate_series(1, 100) g`); err != nil {
		b.Fatal(err)
	}
	var tenants []string
	rows, err := pool.Query(ctx, `SELECT id::text FROM tenants`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		tenants = append(tenants, id)
	}
	keys := [][]byte{randomKey(b), randomKey(b)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		// Seal everything under one key, then time re-sealing under the other.
		v := New(pool, mustRing(b, keys[i%2]))
		for _, tn := range tenants {
			for _, p := range []string{Lightspeed, Salesforce} {
				if err := v.Save(ctx, tn, p, sample("rot")); err != nil {
					b.Fatal(err)
				}
			}
		}
		i++
		rotator := New(pool, mustRing(b, keys[i%2], keys[(i+1)%2]))
		b.StartTimer()
		n, err := rotator.RotateAll(ctx)
		if err != nil || n != 2*len(tenants) {
			b.Fatalf("RotateAll = %d, %v", n, err)
		}
	}
}

// GetAll reads a batch of connections at once, each as Get reads it, and
// leaves out the ones that do not exist and those not asked for.
func TestGetAll(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	v, pool := setup(t)
	a, b, none, other := newTenant(t, pool), newTenant(t, pool), newTenant(t, pool), newTenant(t, pool)
	for _, c := range []ConnectionKey{{a, Lightspeed}, {a, Salesforce}, {b, Salesforce}, {other, Lightspeed}} {
		if err := v.Save(ctx, c.TenantID, c.Provider, sample(c.TenantID[:8]+c.Provider)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := v.GetAll(ctx, []ConnectionKey{{strings.ToUpper(a), Lightspeed}, {a, Salesforce}, {b, Salesforce},
		{b, Lightspeed}, {none, Salesforce}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[ConnectionKey]Connection{}
	for _, k := range []ConnectionKey{{a, Lightspeed}, {a, Salesforce}, {b, Salesforce}} {
		if want[k], err = v.Get(ctx, k.TenantID, k.Provider); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetAll (-Get's +GetAll's):\n%s", diff)
	}
	if only, err := v.GetAll(ctx, []ConnectionKey{{a, Salesforce}}); err != nil || len(only) != 1 {
		t.Errorf("GetAll of one of a tenant's connections: %d, %v; want that one", len(only), err)
	}
	for _, bad := range []ConnectionKey{{"not-a-uuid", Lightspeed}, {a, "shopify"}} {
		if _, err := v.GetAll(ctx, []ConnectionKey{{a, Lightspeed}, bad}); err == nil {
			t.Errorf("GetAll with %+v: no error", bad)
		}
	}
}
