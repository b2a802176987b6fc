package onboard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// Disconnect revokes the tenant's tokens at the provider, deletes them from
// the vault and marks the connection disconnected, keeping the account
// identity, settings, locations, discovery and history, with an audit
// entry in the same transaction. A provider that cannot be reached to
// revoke does not stop the disconnect: the returned *Failure
// (ReasonRevokeFailed) tells the merchant to also remove Tandem at the
// provider. accountName is the name of the account disconnected.
func (s *Service) Disconnect(ctx context.Context, tenantID, provider string, actor tenants.Actor) (accountName string, err error) {
	conn, err := s.vault.Get(ctx, tenantID, provider)
	switch {
	case errors.Is(err, vault.ErrNotConnected):
		return "", failure(provider, ReasonNotConnected, err)
	case err != nil:
		return "", fmt.Errorf("onboard: disconnect %s: %w", provider, err)
	case conn.Status == vault.StatusDisconnected:
		return conn.ExternalName, failure(provider, ReasonNotConnected, nil)
	}
	revoked := true
	if conn.Tokens.RefreshToken != "" || conn.Tokens.AccessToken != "" {
		// A connection the provider already refused has nothing left to
		// revoke: its failure to revoke is no news for the merchant.
		revoked = s.revokeStored(ctx, tenantID, provider, conn) == nil || conn.Status == vault.StatusNeedsReauth
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.vault.DisconnectTx(ctx, tx, tenantID, provider, fmt.Sprintf(disconnectReason, actorName(actor))); err != nil {
			return err
		}
		return tenants.AuditTx(ctx, tx, actor.Entry(tenantID, ActionDisconnect, map[string]any{
			"provider": provider, "account": conn.ExternalAccount, "account_name": conn.ExternalName, "revoked": revoked,
		}))
	})
	if err != nil {
		return "", fmt.Errorf("onboard: disconnect %s: %w", provider, err)
	}
	if !revoked {
		return conn.ExternalName, failure(provider, ReasonRevokeFailed, nil)
	}
	return conn.ExternalName, nil
}

func actorName(a tenants.Actor) string {
	if a.Email != "" {
		return a.Email
	}
	return "Tandem"
}

// LightspeedClient returns an API client for the tenant's Lightspeed
// connection whose token refreshes (ahead of expiry, and after a 401) go
// through the vault: serialised across processes, the rotated refresh token
// committed before use, and a refusal marking the connection needs_reauth
// (the client's calls then fail with a *vault.ReauthError).
func (s *Service) LightspeedClient(ctx context.Context, tenantID string) (*lightspeed.Client, error) {
	c, err := s.clients.Lightspeed(ctx, tenantID)
	return c, connFailure(Lightspeed, err)
}

// SalesforceClient returns an API client for the tenant's Salesforce
// connection that refreshes on INVALID_SESSION_ID through the vault. When
// a call still fails with a session error, pass it to CheckReauth.
func (s *Service) SalesforceClient(ctx context.Context, tenantID string) (*salesforce.Client, error) {
	c, err := s.clients.Salesforce(ctx, tenantID)
	return c, connFailure(Salesforce, err)
}

// connFailure turns a connection that cannot be used into the *Failure
// the merchant sees (not connected, needs reconnecting); other errors are
// returned as they are.
func connFailure(provider string, err error) error {
	var re *vault.ReauthError
	switch {
	case errors.Is(err, vault.ErrNotConnected):
		return failure(provider, ReasonNotConnected, err)
	case errors.As(err, &re):
		return failure(provider, ReasonNeedsReauth, err)
	}
	return err
}

// CheckReauth marks the tenant's Salesforce connection needs_reauth when
// err is a session error that survived the client's refresh (the refresh
// token was refused), and returns a *Failure (ReasonNeedsReauth) for it;
// any other err is returned unchanged.
func (s *Service) CheckReauth(ctx context.Context, tenantID string, actor tenants.Actor, err error) error {
	if err == nil {
		return nil
	}
	var re *vault.ReauthError
	if errors.As(err, &re) {
		return failure(re.Provider, ReasonNeedsReauth, err)
	}
	var oe *salesforce.OAuthError
	refused := errors.As(err, &oe) && oe.Terminal()
	if !refused && !salesforce.IsSessionError(err) {
		return err
	}
	reason := "Salesforce refused Tandem's access (the session could not be renewed). Reconnect to continue; your settings are kept."
	if merr := s.vault.MarkNeedsReauth(ctx, tenantID, Salesforce, reason); merr != nil && !errors.Is(merr, vault.ErrNotConnected) {
		return fmt.Errorf("onboard: mark salesforce needs reconnect: %w (after %w)", merr, err)
	}
	// The vault records the change in the audit log.
	return failure(Salesforce, ReasonNeedsReauth, err)
}

// usable returns the tenant's connection to provider if it can be used.
func (s *Service) usable(ctx context.Context, tenantID, provider string) (vault.Connection, error) {
	conn, err := s.vault.Get(ctx, tenantID, provider)
	switch {
	case errors.Is(err, vault.ErrNotConnected):
		return vault.Connection{}, failure(provider, ReasonNotConnected, err)
	case err != nil:
		return vault.Connection{}, fmt.Errorf("onboard: %s connection: %w", provider, err)
	case conn.Status == vault.StatusDisconnected:
		return vault.Connection{}, failure(provider, ReasonNotConnected, nil)
	case conn.Status == vault.StatusNeedsReauth:
		return vault.Connection{}, failure(provider, ReasonNeedsReauth, nil)
	}
	return conn, nil
}

// RefreshDiscovery reads the connected account again ("Refresh from
// Lightspeed" / "Refresh from Salesforce") and stores the result with the
// locations, in one transaction with its audit entry. Tokens are refreshed
// through the vault as needed; a refresh the provider refuses marks the
// connection needs_reauth and returns a *Failure (ReasonNeedsReauth).
func (s *Service) RefreshDiscovery(ctx context.Context, tenantID, provider string, actor tenants.Actor) (*Result, error) {
	start := time.Now()
	conn, err := s.usable(ctx, tenantID, provider)
	if err != nil {
		return nil, err
	}
	var d *setup.Discovery
	switch provider {
	case Lightspeed:
		acct, perr := strconv.ParseInt(conn.ExternalAccount, 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("onboard: lightspeed account id %q: %w", conn.ExternalAccount, perr)
		}
		tokens, terr := s.clients.LightspeedTokens(tenantID)
		if terr != nil {
			return nil, terr
		}
		d, err = s.discoverLightspeed(ctx, tokens, acct)
	case Salesforce:
		d, err = s.refreshSalesforce(ctx, tenantID, conn)
	default:
		return nil, fmt.Errorf("onboard: unknown provider %q", provider)
	}
	if err != nil {
		if cerr := s.CheckReauth(ctx, tenantID, actor, err); cerr != err {
			return nil, cerr
		}
		return nil, classify(provider, ReasonDiscoveryFailed, err)
	}
	if d.ExternalAccount != conn.ExternalAccount {
		// The same tokens cannot reach another account; refuse rather
		// than mix two accounts' data.
		return nil, failure(provider, ReasonOtherAccount, fmt.Errorf("onboard: %s discovery found account %s, connected to %s", provider, d.ExternalAccount, conn.ExternalAccount))
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := setup.SaveDiscovery(ctx, tx, tenantID, d); err != nil {
			return err
		}
		if d.Lightspeed != nil {
			if err := setup.UpsertLocations(ctx, tx, tenantID, d.Lightspeed.Shops); err != nil {
				return err
			}
		}
		return tenants.AuditTx(ctx, tx, actor.Entry(tenantID, ActionRefreshDiscovery, map[string]any{"provider": provider, "api_calls": d.APICalls}))
	})
	if err != nil {
		return nil, err
	}
	name := conn.ExternalName
	if d.Lightspeed != nil {
		name = d.Lightspeed.AccountName
	}
	return &Result{Provider: provider, AccountID: d.ExternalAccount, AccountName: name, Reconnected: true, Discovery: d, Elapsed: time.Since(start)}, nil
}

func (s *Service) refreshSalesforce(ctx context.Context, tenantID string, conn vault.Connection) (*setup.Discovery, error) {
	start := time.Now()
	hc, counter := countingClient(s.hc)
	c, err := s.clients.SalesforceClient(ctx, hc, tenantID)
	if err != nil {
		return nil, err
	}
	sd, err := discoverOrg(ctx, c)
	if err != nil {
		return nil, err
	}
	sd.LoginHost = conn.LoginHost
	return &setup.Discovery{
		Provider: Salesforce, ExternalAccount: sd.OrgID, Salesforce: sd,
		APICalls: int(counter.n.Load()), Duration: time.Since(start), DiscoveredAt: s.now(),
	}, nil
}
