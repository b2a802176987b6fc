package connect_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants/vault"
)

// twoVaults returns two vaults over two independent pools of one fresh
// database, as two processes would have, and a tenant.
func twoVaults(t *testing.T) (v1, v2 *vault.Vault, pool *pgxpool.Pool, tenant string) {
	t.Helper()
	pool1, url := dbtest.NewWithURL(t)
	pool2, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool2.Close)
	ring := mustRing(t, randomKey(t))
	return vault.New(pool1, ring), vault.New(pool2, ring), pool1, newTenant(t, pool1, "Test shop")
}

// lsSigningKey is generated once: RSA key generation is slow under -race.
var lsSigningKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

type lsEnv struct {
	sb  *lssandbox.Server
	srv *httptest.Server
	cfg *lightspeed.Config
}

func newLightspeedSandbox(t *testing.T) *lsEnv {
	t.Helper()
	sb := lssandbox.New(lssandbox.Options{SigningKey: lsSigningKey(), BucketSize: 1000, DripRate: 1000, Burst: 1000})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := &lightspeed.Config{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret",
		Endpoint: lightspeed.CurrentEndpoint(srv.URL), HTTPClient: srv.Client(), Now: sb.Now}
	return &lsEnv{sb: sb, srv: srv, cfg: cfg}
}

func (e *lsEnv) client(t *testing.T, v *vault.Vault, tenant string, account int64) *lightspeed.Client {
	t.Helper()
	ts, err := connect.NewLightspeedTokens(v, tenant, e.cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := lightspeed.NewClient(e.srv.Client(), lightspeed.Options{BaseURL: e.srv.URL, AccountID: account,
		Tokens: ts, ClientID: e.cfg.ClientID, RetryBase: time.Millisecond, RetryCap: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// refreshTokens returns the refresh tokens the sandbox has issued, oldest
// first.
func (e *lsEnv) refreshTokens() []string {
	var out []string
	for _, it := range e.sb.Tokens() {
		if it.Kind == "refresh" {
			out = append(out, it.Token)
		}
	}
	return out
}

// TestLightspeedThroughVault runs real rotating refreshes of the Lightspeed
// sandbox through the vault: ahead of expiry, after a 401, from two
// processes at once, and one the server refuses.
func TestLightspeedThroughVault(t *testing.T) {
	t.Parallel()
	v1, v2, pool, tenant := twoVaults(t)
	ctx := t.Context()
	env := newLightspeedSandbox(t)
	pair := env.sb.MintToken()
	minted := lightspeed.Token{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken,
		Expiry: env.sb.Now().Add(time.Duration(pair.ExpiresIn) * time.Second)}
	if err := v1.Save(ctx, tenant, vault.Lightspeed, connect.LightspeedConnection(minted, int64(pair.AccountID), "Tandem Demo Boutique")); err != nil {
		t.Fatal(err)
	}
	c1 := env.client(t, v1, tenant, int64(pair.AccountID))
	c2 := env.client(t, v2, tenant, int64(pair.AccountID))

	stored := func() vault.Tokens {
		t.Helper()
		c, err := v1.Get(ctx, tenant, vault.Lightspeed)
		if err != nil {
			t.Fatal(err)
		}
		return c.Tokens
	}
	// checkRotated asserts one more refresh happened and the vault holds
	// the refresh token the sandbox issued last.
	issued := 1
	checkRotated := func(step string) {
		t.Helper()
		rts := env.refreshTokens()
		if len(rts) != issued+1 {
			t.Fatalf("%s: the sandbox issued %d refresh tokens, want %d (one refresh)", step, len(rts), issued+1)
		}
		issued++
		if got := stored().RefreshToken; got != rts[len(rts)-1] {
			t.Fatalf("%s: the vault holds an older refresh token than the sandbox's latest: rotation lost", step)
		}
	}

	if _, _, err := c1.Accounts.Get(ctx); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if n := len(env.refreshTokens()); n != 1 {
		t.Fatalf("a valid stored token was refreshed (%d refresh tokens issued)", n)
	}

	// Ahead of expiry.
	env.sb.Advance(2 * time.Hour)
	if _, _, err := c1.Accounts.Get(ctx); err != nil {
		t.Fatalf("call after expiry: %v", err)
	}
	checkRotated("expiry")
	if stored().RefreshToken == minted.RefreshToken {
		t.Fatal("the refresh token did not rotate")
	}

	// After a 401 (the sandbox expires every access token now), and with
	// the rotated refresh token from the step before.
	env.sb.SetFaults(lssandbox.FaultConfig{ExpireTokens: true})
	if _, _, err := c1.Accounts.Get(ctx); err != nil {
		t.Fatalf("call after a 401: %v", err)
	}
	checkRotated("401")

	// Two processes, with two requests each, find the token expired at
	// once: one refresh.
	env.sb.Advance(2 * time.Hour)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, c := range []*lightspeed.Client{c1, c2, c1, c2} {
		wg.Go(func() { _, _, errs[i] = c.Accounts.Get(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i+1, err)
		}
	}
	checkRotated("two processes")

	// Nothing any sandbox issued is in the table in clear.
	var all []string
	for _, it := range env.sb.Tokens() {
		all = append(all, it.Token)
	}
	if found := dumpContains(t, pool, all...); len(found) > 0 {
		t.Errorf("the table dump contains %d sandbox tokens in clear", len(found))
	}

	// The merchant revokes Tandem's access: the next refresh is refused,
	// the connection needs reauthorization, and the error says so.
	if err := env.cfg.Revoke(ctx, stored().RefreshToken); err != nil {
		t.Fatal(err)
	}
	env.sb.Advance(2 * time.Hour)
	_, _, err := c2.Accounts.Get(ctx)
	var re *vault.ReauthError
	if !errors.As(err, &re) || !errors.Is(err, lightspeed.ErrInvalidGrant) {
		t.Fatalf("call after revocation = %v, want *vault.ReauthError wrapping lightspeed.ErrInvalidGrant", err)
	}
	c, err := v1.Get(ctx, tenant, vault.Lightspeed)
	if err != nil || c.Status != vault.StatusNeedsReauth {
		t.Fatalf("status after refusal = %q, %v; want needs_reauth", c.Status, err)
	}
	if _, _, err := c1.Accounts.Get(ctx); !errors.As(err, &re) {
		t.Errorf("another client after refusal = %v, want *vault.ReauthError", err)
	}
}

type sfEnv struct {
	sb  *sfsandbox.Server
	srv *httptest.Server
	cfg *salesforce.OAuthConfig
}

func newSalesforceSandbox(t *testing.T) *sfEnv {
	t.Helper()
	sb := sfsandbox.New(sfsandbox.Options{RotateRefreshTokens: true})
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		sb.Close()
	})
	cfg := &salesforce.OAuthConfig{ClientID: sfsandbox.DefaultClientID, ClientSecret: sfsandbox.DefaultClientSecret,
		LoginURL: srv.URL, HTTPClient: srv.Client(), ConcurrentRetryDelay: time.Millisecond}
	return &sfEnv{sb: sb, srv: srv, cfg: cfg}
}

func (e *sfEnv) refreshTokens() []string {
	var out []string
	for _, r := range e.sb.Tokens() {
		if r.Kind == "refresh" {
			out = append(out, r.Token)
		}
	}
	return out
}

// TestSalesforceThroughVault runs real rotating refreshes of the Salesforce
// sandbox (on 401 INVALID_SESSION_ID) through the vault's lock and save
// hooks, from one client and then from two processes at once.
func TestSalesforceThroughVault(t *testing.T) {
	t.Parallel()
	v1, v2, pool, tenant := twoVaults(t)
	ctx := t.Context()
	env := newSalesforceSandbox(t)
	tr := env.sb.MintToken(env.srv.URL)
	tok := salesforce.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID, Scope: tr.Scope}
	if err := v1.Save(ctx, tenant, vault.Salesforce, connect.SalesforceConnection(tok, env.srv.URL, "Tandem Demo Org")); err != nil {
		t.Fatal(err)
	}
	newClient := func(v *vault.Vault) *salesforce.Client {
		t.Helper()
		c, err := connect.NewSalesforceClient(ctx, v, tenant, env.srv.Client(), env.cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2 := newClient(v1), newClient(v2)
	stored := func() vault.Connection {
		t.Helper()
		c, err := v1.Get(ctx, tenant, vault.Salesforce)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := stored(); got.ExternalAccount != tok.OrgID() || got.InstanceURL != tok.InstanceURL {
		t.Fatalf("stored account %q instance %q, want %q %q", got.ExternalAccount, got.InstanceURL, tok.OrgID(), tok.InstanceURL)
	}
	id, err := c1.Identity(ctx)
	if err != nil {
		t.Fatalf("identity from a client rebuilt from the vault: %v", err)
	}
	if id.OrganizationID != tok.OrgID() {
		t.Errorf("identity org %q, want %q", id.OrganizationID, tok.OrgID())
	}

	issued := len(env.refreshTokens())
	checkRotated := func(step string) {
		t.Helper()
		rts := env.refreshTokens()
		if len(rts) != issued+1 {
			t.Fatalf("%s: the sandbox issued %d refresh tokens, want %d (one refresh)", step, len(rts), issued+1)
		}
		issued++
		if got := stored().Tokens.RefreshToken; got != rts[len(rts)-1] {
			t.Fatalf("%s: the vault does not hold the sandbox's latest refresh token: rotation lost", step)
		}
	}

	env.sb.SetFaults(sfsandbox.Faults{ExpireTokens: true})
	if _, err := c1.Count(ctx, "SELECT COUNT() FROM Account"); err != nil {
		t.Fatalf("call after the session expired: %v", err)
	}
	checkRotated("one client")

	// The other process's session is the expired one: it adopts the token
	// the first one stored, without refreshing.
	if _, err := c2.Count(ctx, "SELECT COUNT() FROM Account"); err != nil {
		t.Fatalf("second process after the first refreshed: %v", err)
	}
	if n := len(env.refreshTokens()); n != issued {
		t.Fatalf("the second process refreshed again (%d refresh tokens issued, want %d)", n, issued)
	}
	if c2.Token().AccessToken != stored().Tokens.AccessToken {
		t.Fatal("the second process did not adopt the stored token")
	}

	// Both processes' sessions expire; both calls succeed with one refresh
	// (the sandbox invalidates a refresh token once used, so a second
	// refresh with it would fail).
	env.sb.SetFaults(sfsandbox.Faults{ExpireTokens: true})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []*salesforce.Client{c1, c2} {
		wg.Go(func() { _, errs[i] = c.Count(ctx, "SELECT COUNT() FROM Account") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process %d: %v", i+1, err)
		}
	}
	checkRotated("two processes")

	var all []string
	for _, r := range env.sb.Tokens() {
		all = append(all, r.Token)
	}
	if found := dumpContains(t, pool, all...); len(found) > 0 {
		t.Errorf("the table dump contains %d sandbox tokens in clear", len(found))
	}

	// A wrong login host and a connection needing reauthorization are
	// refused before any call.
	other := *env.cfg
	other.LoginURL = salesforce.SandboxLoginURL
	if _, err := connect.NewSalesforceClient(ctx, v1, tenant, nil, &other); err == nil {
		t.Error("a client for another login host was built")
	}
	if err := v1.MarkNeedsReauth(ctx, tenant, vault.Salesforce, "session refused"); err != nil {
		t.Fatal(err)
	}
	var re *vault.ReauthError
	if _, err := connect.NewSalesforceClient(ctx, v1, tenant, nil, env.cfg); !errors.As(err, &re) {
		t.Errorf("client for a needs_reauth connection: %v, want *vault.ReauthError", err)
	}
	// A client built before that sees it at its next refresh.
	env.sb.SetFaults(sfsandbox.Faults{ExpireTokens: true})
	if _, err := c2.Count(ctx, "SELECT COUNT() FROM Account"); !errors.As(err, &re) {
		t.Errorf("refresh of a needs_reauth connection: %v, want *vault.ReauthError", err)
	}
}

func TestAdapterConstructorsRejectBadInput(t *testing.T) {
	t.Parallel()
	v, _ := setup(t)
	if _, err := connect.NewLightspeedTokens(nil, "00000000-0000-4000-8000-000000000000", &lightspeed.Config{}, 0); err == nil {
		t.Error("connect.NewLightspeedTokens accepted a nil vault")
	}
	if _, err := connect.NewLightspeedTokens(v, "nope", &lightspeed.Config{}, 0); err == nil {
		t.Error("connect.NewLightspeedTokens accepted a bad tenant id")
	}
	if _, err := connect.NewSalesforceClient(context.Background(), v, "00000000-0000-4000-8000-000000000000", nil, &salesforce.OAuthConfig{}); !errors.Is(err, vault.ErrNotConnected) {
		t.Errorf("connect.NewSalesforceClient without a connection = %v, want vault.ErrNotConnected", err)
	}
}

// TestLightspeedShortLivedTokenNotRefreshedEveryCall: a token that lives
// less than the refresh-ahead window must not look expiring on arrival, or
// every call would spend a rotating refresh token.
func TestLightspeedShortLivedTokenNotRefreshedEveryCall(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	v := vault.New(pool, mustRing(t, randomKey(t)))
	tenant := newTenant(t, pool, "Test shop")
	ctx := t.Context()
	sb := lssandbox.New(lssandbox.Options{SigningKey: lsSigningKey(), TokenTTL: 2 * time.Minute})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := &lightspeed.Config{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret",
		Endpoint: lightspeed.CurrentEndpoint(srv.URL), HTTPClient: srv.Client()}

	pair := sb.MintToken()
	minted := lightspeed.Token{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken,
		Expiry: time.Now().Add(time.Duration(pair.ExpiresIn) * time.Second)}
	if err := v.Save(ctx, tenant, vault.Lightspeed, connect.LightspeedConnection(minted, int64(pair.AccountID), "Boutique")); err != nil {
		t.Fatal(err)
	}
	ts, err := connect.NewLightspeedTokens(v, tenant, cfg, 0) // default window: 5 minutes > 2-minute tokens
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := ts.Token(ctx); err != nil {
			t.Fatalf("Token #%d: %v", i, err)
		}
	}
	refreshes := 0
	for _, it := range sb.Tokens() {
		if it.Kind == "refresh" {
			refreshes++
		}
	}
	// The minted pair plus at most one refresh.
	if refreshes > 2 {
		t.Fatalf("10 Token calls issued %d refresh tokens; a fresh 2-minute token was refreshed on every call", refreshes)
	}
}
