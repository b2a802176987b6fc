package connect_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/tenants/vault"
)

// countRT counts the requests of one provider.
type countRT struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (c countRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// connectedTenant is a tenant connected to both sandboxes in the vault,
// with the providers that reach them and the Lightspeed token pair minted.
func connectedTenant(t *testing.T) (*vault.Vault, *pgxpool.Pool, string, connect.Providers, *lsEnv, lssandbox.TokenPair) {
	t.Helper()
	v, pool := setup(t)
	tenant := newTenant(t, pool, "Test shop")
	ctx := t.Context()
	ls, sf := newLightspeedSandbox(t), newSalesforceSandbox(t)

	pair := ls.sb.MintToken()
	minted := lightspeed.Token{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken,
		Expiry: ls.sb.Now().Add(time.Duration(pair.ExpiresIn) * time.Second)}
	if err := v.Save(ctx, tenant, vault.Lightspeed, connect.LightspeedConnection(minted, int64(pair.AccountID), "Boutique")); err != nil {
		t.Fatal(err)
	}
	tr := sf.sb.MintToken(sf.srv.URL)
	tok := salesforce.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID, Scope: tr.Scope}
	if err := v.Save(ctx, tenant, vault.Salesforce, connect.SalesforceConnection(tok, sf.srv.URL, "Org")); err != nil {
		t.Fatal(err)
	}
	providers := connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: ls.cfg.ClientID, ClientSecret: ls.cfg.ClientSecret, AuthURL: ls.srv.URL, APIURL: ls.srv.URL},
		Salesforce: connect.SalesforceProvider{ClientID: sf.cfg.ClientID, ClientSecret: sf.cfg.ClientSecret, ProductionLoginURL: sf.srv.URL},
	}
	return v, pool, tenant, providers, ls, pair
}

// TestClientsWithLimits checks that Clients.WithLimits pace Lightspeed by
// the Limits given (the probes' process-local ones), leaving the buckets
// every process shares alone, while the Clients they came from use those.
func TestClientsWithLimits(t *testing.T) {
	t.Parallel()
	v, pool, tenant, providers, _, _ := connectedTenant(t)
	ctx := t.Context()
	shared, err := connect.New(connect.Config{Vault: v, Providers: providers,
		Limits: lightspeed.NewLimits(lightspeed.LimitsOptions{Store: connect.NewBuckets(pool)})})
	if err != nil {
		t.Fatal(err)
	}
	buckets := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM lightspeed_buckets`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		name    string
		clients *connect.Clients
		want    int
	}{
		{"process-local limits", shared.WithLimits(lightspeed.NewLimits(lightspeed.LimitsOptions{})), 0},
		{"shared limits", shared, 1},
	} {
		lc, err := c.clients.Lightspeed(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := lc.Accounts.Get(ctx); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := buckets(); got != c.want {
			t.Errorf("after a call through the clients with %s: %d shared buckets, want %d", c.name, got, c.want)
		}
	}
}

// TestClients builds both clients of a tenant from the vault alone, sends
// their calls through Config.Transport per provider, and refuses
// connections that cannot be used with the vault's errors.
func TestClients(t *testing.T) {
	t.Parallel()
	v, pool, tenant, providers, ls, pair := connectedTenant(t)
	ctx := t.Context()

	calls := map[string]*atomic.Int64{vault.Lightspeed: new(atomic.Int64), vault.Salesforce: new(atomic.Int64)}
	clients, err := connect.New(connect.Config{
		Vault:     v,
		Providers: providers,
		Limits:    lightspeed.NewLimits(lightspeed.LimitsOptions{}),
		Transport: func(provider string, base http.RoundTripper) http.RoundTripper {
			if base == nil {
				base = http.DefaultTransport
			}
			return countRT{base: base, n: calls[provider]}
		},
		Now: ls.sb.Now,
	})
	if err != nil {
		t.Fatal(err)
	}

	lc, err := clients.Lightspeed(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if acct, _, err := lc.Accounts.Get(ctx); err != nil || acct.AccountID != int64(pair.AccountID) {
		t.Fatalf("lightspeed account = %+v, %v", acct, err)
	}
	sc, err := clients.Salesforce(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Count(ctx, "SELECT COUNT() FROM Account"); err != nil {
		t.Fatalf("salesforce count: %v", err)
	}
	if calls[vault.Lightspeed].Load() != 1 || calls[vault.Salesforce].Load() != 1 {
		t.Errorf("counted %d Lightspeed and %d Salesforce calls, want 1 and 1", calls[vault.Lightspeed].Load(), calls[vault.Salesforce].Load())
	}

	// A tenant with no connection, and one that must reconnect.
	other := newTenant(t, pool, "Test shop")
	if _, err := clients.Lightspeed(ctx, other); !errors.Is(err, vault.ErrNotConnected) {
		t.Errorf("Lightspeed without a connection = %v, want vault.ErrNotConnected", err)
	}
	if err := v.MarkNeedsReauth(ctx, tenant, vault.Salesforce, "refused"); err != nil {
		t.Fatal(err)
	}
	var re *vault.ReauthError
	if _, err := clients.Salesforce(ctx, tenant); !errors.As(err, &re) || re.Reason != "refused" {
		t.Errorf("Salesforce needing reauth = %v, want *vault.ReauthError", err)
	}
	if err := v.Disconnect(ctx, tenant, vault.Lightspeed, "by test"); err != nil {
		t.Fatal(err)
	}
	if _, err := clients.Lightspeed(ctx, tenant); !errors.Is(err, vault.ErrNotConnected) {
		t.Errorf("Lightspeed after disconnect = %v, want vault.ErrNotConnected", err)
	}
}

func TestNewRequiresVaultAndLimits(t *testing.T) {
	t.Parallel()
	v, _ := setup(t)
	if _, err := connect.New(connect.Config{Vault: v}); err == nil {
		t.Error("New accepted a config without Limits")
	}
	if _, err := connect.New(connect.Config{Limits: lightspeed.NewLimits(lightspeed.LimitsOptions{})}); err == nil {
		t.Error("New accepted a config without a vault")
	}
}

// TestClientsPreload checks that preloaded Clients build a tenant's
// clients from the connections read once (a change after the preload is
// not seen by them) and that tenants they did not preload read the vault.
func TestClientsPreload(t *testing.T) {
	t.Parallel()
	v, pool, tenant, providers, _, _ := connectedTenant(t)
	ctx := t.Context()
	clients, err := connect.New(connect.Config{Vault: v, Providers: providers, Limits: lightspeed.NewLimits(lightspeed.LimitsOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	other := newTenant(t, pool, "Other shop")
	pre, err := clients.Preload(ctx, []vault.ConnectionKey{{TenantID: tenant, Provider: vault.Salesforce},
		{TenantID: other, Provider: vault.Lightspeed}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.MarkNeedsReauth(ctx, tenant, vault.Salesforce, "refused after the preload"); err != nil {
		t.Fatal(err)
	}
	if _, err := pre.Salesforce(ctx, tenant); err != nil {
		t.Errorf("preloaded Salesforce client: %v; want the connection as preloaded (connected)", err)
	}
	var re *vault.ReauthError
	if _, err := clients.Salesforce(ctx, tenant); !errors.As(err, &re) {
		t.Errorf("Salesforce client read from the vault: %v; want *vault.ReauthError", err)
	}
	if _, err := pre.Lightspeed(ctx, other); !errors.Is(err, vault.ErrNotConnected) {
		t.Errorf("preloaded tenant without a connection: %v; want vault.ErrNotConnected", err)
	}
	if _, err := pre.Lightspeed(ctx, tenant); err != nil {
		t.Errorf("a connection not preloaded, read from the vault: %v", err)
	}
	third := newTenant(t, pool, "Third shop")
	if _, err := pre.Lightspeed(ctx, third); !errors.Is(err, vault.ErrNotConnected) {
		t.Errorf("tenant not preloaded, without a connection: %v; want vault.ErrNotConnected", err)
	}
	if _, err := clients.Preload(ctx, []vault.ConnectionKey{{TenantID: "not-a-uuid", Provider: vault.Lightspeed}}); err == nil {
		t.Error("Preload of a tenant id that is not a UUID: no error")
	}
}
