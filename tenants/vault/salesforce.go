package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/tandemsync/tandem/integrations/salesforce"
)

// SalesforceConnection is the Connection to save after a Salesforce code
// exchange: loginHost is the login URL the OAuth config used (refresh must
// go back to it), orgName comes from discovery. The identity URL is kept in
// Metadata ("identity_url") so a client rebuilt from the vault can read the
// identity.
func SalesforceConnection(tok salesforce.Token, loginHost, orgName string) Connection {
	meta, _ := json.Marshal(map[string]string{"identity_url": tok.ID}) // a map of strings always marshals
	return Connection{
		Status:          StatusConnected,
		ExternalAccount: tok.OrgID(),
		ExternalName:    orgName,
		InstanceURL:     tok.InstanceURL,
		LoginHost:       loginHost,
		Tokens:          Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken},
		Scopes:          tok.Scope,
		Metadata:        meta,
	}
}

// salesforceToken rebuilds the client's token from a stored connection.
func salesforceToken(c Connection) salesforce.Token {
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
// by the vault with Refresh's semantics: the client's refresh lock takes the
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
// transaction and fails the call with a *ReauthError wrapping the refusal
// (errors.As finds both). Later refreshes of any client of the connection
// then fail with a *ReauthError at once.
//
// cfg must be for the login host the connection was made through. opts are
// passed on to salesforce.NewClient. A connection that needs
// reauthorization returns a *ReauthError; a missing or disconnected one
// ErrNotConnected.
func NewSalesforceClient(ctx context.Context, v *Vault, tenantID string, hc *http.Client, cfg *salesforce.OAuthConfig, opts ...salesforce.Option) (*salesforce.Client, error) {
	if v == nil || cfg == nil {
		return nil, errors.New("vault: salesforce client: vault and config are required")
	}
	c, err := v.Get(ctx, tenantID, Salesforce)
	if err != nil {
		return nil, err
	}
	id, _ := checkIDs(tenantID, Salesforce) // Get validated it
	switch c.Status {
	case StatusDisconnected:
		return nil, fmt.Errorf("vault: salesforce client for tenant %s: %w", id, ErrNotConnected)
	case StatusNeedsReauth:
		return nil, &ReauthError{TenantID: id, Provider: Salesforce, Reason: c.StatusReason}
	}
	if c.LoginHost != "" && !sameURL(c.LoginHost, cfg.LoginURL) {
		return nil, fmt.Errorf("vault: salesforce client for tenant %s: the connection was made through %s, the OAuth config is for %s", id, c.LoginHost, cfg.LoginURL)
	}
	h := &salesforceHooks{v: v, tenantID: id}
	all := append([]salesforce.Option{salesforce.WithRefresh(cfg, h.save), salesforce.WithRefreshLock(h.lock)}, opts...)
	client, err := salesforce.NewClient(hc, salesforceToken(c), all...)
	if err != nil {
		return nil, fmt.Errorf("vault: salesforce client for tenant %s: %w", id, err)
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
	v        *Vault
	tenantID string

	mu   sync.Mutex
	held *locked
}

func (h *salesforceHooks) lock(ctx context.Context) (salesforce.Token, func(error) error, error) {
	h.mu.Lock()
	l, err := h.v.lock(ctx, h.tenantID, Salesforce)
	if err == nil {
		if err = l.usable(); err != nil {
			l.rollback(ctx)
		}
	}
	if err != nil {
		h.mu.Unlock()
		var re *ReauthError
		if errors.As(err, &re) {
			return salesforce.Token{}, nil, err
		}
		return salesforce.Token{}, nil, fmt.Errorf("vault: lock salesforce connection of tenant %s: %w", h.tenantID, err)
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
			defer l.rollback(ctx) // nothing to keep: no refresh, or it failed
			if outcome != nil {
				err = h.refused(ctx, l, outcome)
			}
		})
		return err
	}
	return salesforceToken(l.conn), unlock, nil
}

// refused handles a failed refresh under the lock: a refusal no retry can
// fix marks the connection needs_reauth in the locked transaction and
// becomes a *ReauthError; any other error is returned with the stored
// tokens redacted.
func (h *salesforceHooks) refused(ctx context.Context, l *locked, outcome error) error {
	cur := l.conn.Tokens
	outcome = redact(outcome, cur.AccessToken, cur.RefreshToken)
	// Only invalid_grant speaks of the merchant's authorization. A refusal
	// of Tandem itself (invalid_client after a secret was mistyped, say) is
	// an operator's error: marking every tenant needs_reauth would ask
	// merchants to reconnect for nothing.
	var oe *salesforce.OAuthError
	if !errors.As(outcome, &oe) || oe.Code != "invalid_grant" {
		return outcome
	}
	reason := "the provider refused the stored authorization (" + outcome.Error() + "): connect again"
	if err := l.markReauth(ctx, reason); err != nil {
		return fmt.Errorf("vault: mark salesforce connection of tenant %s needs reauth after %w: %v", h.tenantID, outcome, err)
	}
	return &ReauthError{TenantID: h.tenantID, Provider: Salesforce, Reason: truncate(reason, 500), Err: outcome}
}

// save stores tok in the locked row and commits at once, so the client
// uses tok only once it is committed: a failed store or commit is returned,
// and the client then fails the call and keeps its old token.
func (h *salesforceHooks) save(ctx context.Context, tok salesforce.Token) error {
	l := h.held
	if l == nil {
		return errors.New("vault: salesforce token saved outside the refresh lock")
	}
	h.held = nil
	defer l.rollback(ctx)
	next := Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	if next.AccessToken == "" {
		return errors.New("vault: salesforce refresh returned no access token")
	}
	if next.RefreshToken == "" {
		next.RefreshToken = l.conn.Tokens.RefreshToken
	}
	if err := l.store(ctx, next, tok.InstanceURL); err != nil {
		return fmt.Errorf("vault: store refreshed salesforce token of tenant %s: %w", h.tenantID, err)
	}
	if err := l.tx.Commit(ctx); err != nil {
		return fmt.Errorf("vault: commit refreshed salesforce token of tenant %s: %w", h.tenantID, err)
	}
	return nil
}
