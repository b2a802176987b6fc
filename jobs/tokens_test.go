package jobs_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants/vault"
)

func TestLightspeedKeepAlive(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	sb := lssandbox.New(lssandbox.Options{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	keys, err := vault.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(pool, keys)
	oauth := &lightspeed.Config{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret", Endpoint: lightspeed.CurrentEndpoint(srv.URL)}

	// Three tenants: idle, idle but revoked at Lightspeed, recently used.
	idle := connectTenant(t, pool, v, sb, "Idle", 25*24*time.Hour)
	revoked := connectTenant(t, pool, v, sb, "Revoked", 25*24*time.Hour)
	busy := connectTenant(t, pool, v, sb, "Busy", time.Hour)
	c, err := v.Get(ctx, revoked, vault.Lightspeed)
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.Revoke(ctx, c.Tokens.RefreshToken); err != nil {
		t.Fatal(err)
	}
	before := map[string]vault.Connection{}
	for _, id := range []string{idle, busy} {
		if before[id], err = v.Get(ctx, id, vault.Lightspeed); err != nil {
			t.Fatal(err)
		}
	}

	w := &jobs.LightspeedKeepAliveWorker{Pool: pool, KeepAlive: jobs.LightspeedKeepAlive{Vault: v, OAuth: oauth}}
	res, err := w.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res != (jobs.KeepAliveResult{Refreshed: 1, NeedsReauth: 1}) {
		t.Errorf("sweep = %+v; want one refreshed, one needs reconnect", res)
	}
	if got, _ := v.Get(ctx, idle, vault.Lightspeed); got.Tokens.RefreshToken == before[idle].Tokens.RefreshToken || got.Status != vault.StatusConnected {
		t.Errorf("idle connection not renewed: %s", got.Status)
	}
	if got, _ := v.Get(ctx, busy, vault.Lightspeed); got.Tokens.RefreshToken != before[busy].Tokens.RefreshToken {
		t.Error("a recently used connection was refreshed")
	}
	if got, _ := v.Get(ctx, revoked, vault.Lightspeed); got.Status != vault.StatusNeedsReauth {
		t.Errorf("revoked connection status = %s; want needs_reauth", got.Status)
	}
	// Nothing is left to do.
	if res, err := w.Sweep(ctx); err != nil || res != (jobs.KeepAliveResult{}) {
		t.Errorf("second sweep = %+v, %v", res, err)
	}
	if err := w.Work(ctx, &river.Job[jobs.LightspeedKeepAliveArgs]{}); err != nil {
		t.Error(err)
	}
}

// connectTenant stores a Lightspeed connection minted by the sandbox for a
// new tenant, last stored idle ago.
func connectTenant(t *testing.T, pool *pgxpool.Pool, v *vault.Vault, sb *lssandbox.Server, name string, idle time.Duration) string {
	t.Helper()
	ctx := context.Background()
	var id string
	if err := pool.QueryRow(ctx, `INSERT INTO tenants (name) VALUES ($1) RETURNING id::text`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	pair := sb.MintToken()
	tok := lightspeed.Token{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken, Expiry: time.Now().Add(time.Duration(pair.ExpiresIn) * time.Second)}
	if err := v.Save(ctx, id, vault.Lightspeed, connect.LightspeedConnection(tok, int64(pair.AccountID), name)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE connections SET updated_at = now() - $2::interval WHERE tenant_id = $1`, id, idle.String()); err != nil {
		t.Fatal(err)
	}
	return id
}
