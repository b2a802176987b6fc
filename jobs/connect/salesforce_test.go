package connect_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/tenants/vault"
)

// sfConnection is a Salesforce connection saved in the vault from a token
// the sandbox minted, with a client per vault (two processes).
type sfConnection struct {
	env    *sfEnv
	v1     *vault.Vault
	pool   *pgxpool.Pool
	tenant string
	c1, c2 *salesforce.Client
}

func newSFConnection(t *testing.T) *sfConnection {
	t.Helper()
	v1, v2, pool, tenant := twoVaults(t)
	env := newSalesforceSandbox(t)
	tr := env.sb.MintToken(env.srv.URL)
	tok := salesforce.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID, Scope: tr.Scope}
	if err := v1.Save(t.Context(), tenant, vault.Salesforce, connect.SalesforceConnection(tok, env.srv.URL, "Tandem Demo Org")); err != nil {
		t.Fatal(err)
	}
	newClient := func(v *vault.Vault) *salesforce.Client {
		t.Helper()
		c, err := connect.NewSalesforceClient(t.Context(), v, tenant, env.srv.Client(), env.cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return &sfConnection{env: env, v1: v1, pool: pool, tenant: tenant, c1: newClient(v1), c2: newClient(v2)}
}

func (s *sfConnection) stored(t *testing.T) vault.Connection {
	t.Helper()
	c, err := s.v1.Get(t.Context(), s.tenant, vault.Salesforce)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func count(t *testing.T, c *salesforce.Client) error {
	_, err := c.Count(t.Context(), "SELECT COUNT() FROM Account")
	return err
}

// TestSalesforceRefusedRefreshMarksReauth: the merchant revokes Tandem's
// access, so the refresh the next call needs is refused. The adapter marks
// the connection needs_reauth under the row lock and the call fails with a
// *vault.ReauthError wrapping Salesforce's refusal; the other process's client
// then fails the same way without asking Salesforce again.
func TestSalesforceRefusedRefreshMarksReauth(t *testing.T) {
	t.Parallel()
	s := newSFConnection(t)
	ctx := t.Context()
	if err := s.env.cfg.Revoke(ctx, s.stored(t).Tokens.RefreshToken); err != nil {
		t.Fatal(err)
	}
	issued := len(s.env.refreshTokens())

	err := count(t, s.c2)
	var re *vault.ReauthError
	if !errors.As(err, &re) {
		t.Fatalf("call after revocation = %v, want a *vault.ReauthError", err)
	}
	var oe *salesforce.OAuthError
	if !errors.As(err, &oe) || !oe.Terminal() || oe.Code != "invalid_grant" {
		t.Errorf("call after revocation = %v, want it to wrap the invalid_grant refusal", err)
	}
	if re.TenantID != s.tenant || re.Provider != vault.Salesforce || re.Reason == "" {
		t.Errorf("ReauthError = %+v, want tenant %s, provider salesforce and a reason", re, s.tenant)
	}
	got := s.stored(t)
	if got.Status != vault.StatusNeedsReauth || got.StatusReason != re.Reason {
		t.Errorf("connection status %q reason %q, want needs_reauth with %q", got.Status, got.StatusReason, re.Reason)
	}
	for _, tok := range s.env.sb.Tokens() {
		if strings.Contains(err.Error(), tok.Token) || strings.Contains(got.StatusReason, tok.Token) {
			t.Fatal("the error or the stored reason contains a token")
		}
	}

	// The first process's session ends too; its refresh lock finds the
	// connection needs reauthorization and refreshes nothing.
	s.env.sb.SetFaults(sfsandbox.Faults{ExpireTokens: true})
	if err := count(t, s.c1); !errors.As(err, &re) {
		t.Errorf("other process after the refusal = %v, want a *vault.ReauthError", err)
	}
	if n := len(s.env.refreshTokens()); n != issued {
		t.Errorf("%d refresh tokens issued after the refusal, want none", n-issued)
	}
}

// TestSalesforceStaleTakeover: process 1 refreshes, then the token it
// stored expires too before process 2's next call. Process 2 adopts the
// stored token, is refused again, and refreshes once under the lock: its
// call succeeds and the connection stays connected. Process 1 then adopts
// that refresh without another.
func TestSalesforceStaleTakeover(t *testing.T) {
	t.Parallel()
	s := newSFConnection(t)
	issued := len(s.env.refreshTokens())
	checkIssued := func(step string, want int) {
		t.Helper()
		rts := s.env.refreshTokens()
		if len(rts) != issued+want {
			t.Fatalf("%s: the sandbox issued %d refresh tokens, want %d", step, len(rts)-issued, want)
		}
		issued = len(rts)
		if got := s.stored(t); got.Status != vault.StatusConnected || got.Tokens.RefreshToken != rts[len(rts)-1] {
			t.Fatalf("%s: connection %q, latest refresh token stored %v; want connected with the latest", step,
				got.Status, got.Tokens.RefreshToken == rts[len(rts)-1])
		}
	}

	s.env.sb.SetFaults(sfsandbox.Faults{ExpireTokens: true})
	if err := count(t, s.c1); err != nil {
		t.Fatalf("process 1 after its session expired: %v", err)
	}
	checkIssued("process 1", 1)

	// Everything issued so far expires, including what process 1 stored.
	s.env.sb.Advance(sfsandbox.DefaultTokenTTL + time.Minute)
	if err := count(t, s.c2); err != nil {
		t.Fatalf("process 2 taking over an expired stored token: %v", err)
	}
	checkIssued("process 2", 1)
	if s.c2.Token().AccessToken != s.stored(t).Tokens.AccessToken {
		t.Error("process 2 does not use the token it stored")
	}

	if err := count(t, s.c1); err != nil {
		t.Fatalf("process 1 after process 2 refreshed: %v", err)
	}
	checkIssued("process 1 adopting", 0)
}

// TestSalesforceFailedCommit: the refreshed token cannot be committed. The
// call fails with the commit error, the client keeps its old token, the row
// keeps the old tokens and stays connected (a database failure is not a
// refusal).
func TestSalesforceFailedCommit(t *testing.T) {
	t.Parallel()
	s := newSFConnection(t)
	ctx := t.Context()
	before := s.stored(t)
	// A deferred constraint trigger fails the commit, not the UPDATE.
	for _, q := range []string{
		`CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN RAISE EXCEPTION 'test: commit refused'; END $$`,
		`CREATE CONSTRAINT TRIGGER refuse_commit AFTER UPDATE OF access_token_enc ON connections
		 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	old := s.c1.Token()
	s.env.sb.SetFaults(sfsandbox.Faults{ExpireTokens: true})
	err := count(t, s.c1)
	if err == nil || !strings.Contains(err.Error(), "commit refreshed salesforce token") || !strings.Contains(err.Error(), "test: commit refused") {
		t.Fatalf("call whose refreshed token was not committed = %v, want the commit error", err)
	}
	var re *vault.ReauthError
	if errors.As(err, &re) || salesforce.IsSessionError(err) {
		t.Errorf("a failed commit reads as a refusal: %v", err)
	}
	if s.c1.Token() != old {
		t.Error("the client uses a token that was not committed")
	}
	after := s.stored(t)
	if after.Status != vault.StatusConnected || after.Tokens != before.Tokens {
		t.Errorf("connection %q, tokens changed %v; want connected with the old tokens", after.Status, after.Tokens != before.Tokens)
	}
}
