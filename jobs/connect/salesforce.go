package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/tenants/vault"
)

// SalesforceConnection is the Connection to save after a Salesforce code
// exchange: loginHost is the login URL the OAuth config used (refresh must
// go back to it), orgName comes from discovery. The identity URL is kept in
// Metadata ("identity_url") so a client rebuilt from the vault can read the
// identity.
func SalesforceConnection(tok salesforce.Token, loginHost, orgName string) vault.Connection {
	meta, _ := json.Marshal(map[string]string{"identity_url": tok.ID}) // a map of strings always marshals
	return vault.Connection{
		Status:          vault.StatusConnected,
		ExternalAccount: tok.OrgID(),
		ExternalName:    orgName,
		InstanceURL:     tok.InstanceURL,
		LoginHost:       loginHost,
		Tokens:          vault.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken},
		Scopes:          tok.Scope,
		Metadata:        meta,
	}
}

// salesforceToken rebuilds the client's token from a stored connection.
func salesforceToken(c vault.Connection) salesforce.Token {
	var meta struct {
		IdentityURL string `json:"identity_url"`
	}
	_ = json.Unmarshal(c.Metadata, &meta) // metadata without it leaves ID empty
	return salesforce.Token{
		AccessToken:  c.Tokens.AccessToken,
		RefreshToken: c.Tokens.RefreshToken,
		InstanceURL:  c.InstanceURL,
		ID:           meta.IdentityURL,
		Scope:        c.Scopes,
		TokenType:    "Bearer",
	}
}

// NewSalesforceClient builds a client for the tenant's Salesforce connection
// whose refreshes (on 401 INVALID_SESSION_ID) are serialised and persisted
// by the vault with vault.Vault.Refresh's semantics: the client's refresh lock takes the
// connection row FOR UPDATE in a transaction and hands back the stored token
// (so a client adopts a token another process already refreshed, and
// refreshes after all if that one has expired too); its save hook stores
// the new access token, the rotated refresh token and a moved instance URL
// in that transaction and commits before the client uses them, so a failed
// commit fails the call and the new token is not used.
//
// A refresh Salesforce refuses for good (an *salesforce.OAuthError whose
// Terminal method reports true, e.g. invalid_grant for a revoked or expired
// refresh token) marks the connection needs_reauth in the same locked
// transaction and fails the call with a *vault.ReauthError wrapping the refusal
// (errors.As finds both). Later refreshes of any client of the connection
// then fail with a *vault.ReauthError at once.
//
// cfg must be for the login host the connection was made through. opts are
// passed on to salesforce.NewClient. A connection that needs
// reauthorization returns a *vault.ReauthError; a missing or disconnected
// one vault.ErrNotConnected.
func NewSalesforceClient(ctx context.Context, v *vault.Vault, tenantID string, hc *http.Client, cfg *salesforce.OAuthConfig, opts ...salesforce.Option) (*salesforce.Client, error) {
	if v == nil || cfg == nil {
		return nil, errors.New("connect: salesforce client: vault and config are required")
	}
	c, err := v.Get(ctx, tenantID, vault.Salesforce)
	if err != nil {
		return nil, err
	}
	return salesforceClientFrom(c, v, tenantID, hc, cfg, opts...)
}

// salesforceClientFrom is NewSalesforceClient for the connection c, just
// read from v.
func salesforceClientFrom(c vault.Connection, v *vault.Vault, tenantID string, hc *http.Client, cfg *salesforce.OAuthConfig, opts ...salesforce.Option) (*salesforce.Client, error) {
	id, err := vault.CheckTenantID(tenantID)
	if err != nil {
		return nil, fmt.Errorf("connect: salesforce client: %w", err)
	}
	switch c.Status {
	case vault.StatusDisconnected:
		return nil, fmt.Errorf("connect: salesforce client for tenant %s: %w", id, vault.ErrNotConnected)
	case vault.StatusNeedsReauth:
		return nil, &vault.ReauthError{TenantID: id, Provider: vault.Salesforce, Reason: c.StatusReason}
	}
	if c.LoginHost != "" && !sameURL(c.LoginHost, cfg.LoginURL) {
		return nil, fmt.Errorf("connect: salesforce client for tenant %s: the connection was made through %s, the OAuth config is for %s", id, c.LoginHost, cfg.LoginURL)
	}
	h := &salesforceHooks{v: v, tenantID: id}
	all := append([]salesforce.Option{salesforce.WithRefresh(cfg, h.save), salesforce.WithRefreshLock(h.lock)}, opts...)
	client, err := salesforce.NewClient(hc, salesforceToken(c), all...)
	if err != nil {
		return nil, fmt.Errorf("connect: salesforce client for tenant %s: %w", id, err)
	}
	return client, nil
}

func sameURL(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

// salesforceHooks carries the locked row from the client's refresh lock to
// its save hook and its unlock. mu is held from lock to unlock, so one
// client's refreshes (which the client already runs one at a time) never
// share a transaction.
type salesforceHooks struct {
	v        *vault.Vault
	tenantID string

	mu   sync.Mutex
	held *vault.Locked
}

func (h *salesforceHooks) lock(ctx context.Context) (salesforce.Token, func(error) error, error) {
	h.mu.Lock()
	l, err := h.v.Lock(ctx, h.tenantID, vault.Salesforce)
	if err != nil {
		h.mu.Unlock()
		return salesforce.Token{}, nil, err
	}
	h.held = l
	var once sync.Once
	unlock := func(outcome error) error {
		err := outcome
		once.Do(func() {
			defer h.mu.Unlock()
			l := h.held
			h.held = nil
			if l == nil {
				return // save committed (or rolled back) already
			}
			if outcome == nil {
				l.Release(ctx) // nothing to keep: no refresh happened
				return
			}
			err = l.Refused(ctx, refusal(outcome))
		})
		return err
	}
	return salesforceToken(l.Connection()), unlock, nil
}

// refusal marks a failed refresh as the merchant's authorization refused
// (vault.ErrInvalidGrant) when, and only when, Salesforce answered
// invalid_grant. A refusal of Tandem itself (invalid_client after a secret
// was mistyped, say) is an operator's error: marking every tenant
// needs_reauth would ask merchants to reconnect for nothing.
func refusal(outcome error) error {
	var oe *salesforce.OAuthError
	if errors.As(outcome, &oe) && oe.Code == "invalid_grant" {
		return fmt.Errorf("%w: %w", vault.ErrInvalidGrant, outcome)
	}
	return outcome
}

// save stores tok in the locked row and commits at once, so the client
// uses tok only once it is committed: a failed store or commit is returned,
// and the client then fails the call and keeps its old token.
func (h *salesforceHooks) save(ctx context.Context, tok salesforce.Token) error {
	l := h.held
	if l == nil {
		return errors.New("connect: salesforce token saved outside the refresh lock")
	}
	h.held = nil
	return l.Save(ctx, vault.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}, tok.InstanceURL)
}
