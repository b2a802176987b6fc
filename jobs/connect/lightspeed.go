package connect

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/tenants/vault"
)

// DefaultRefreshAhead is how long before expiry LightspeedTokens refreshes
// a Lightspeed access token.
const DefaultRefreshAhead = 5 * time.Minute

// LightspeedConnection is the Connection to save after a Lightspeed code
// exchange: accountID and accountName come from discovery
// (AccountsService.List).
func LightspeedConnection(tok lightspeed.Token, accountID int64, accountName string) vault.Connection {
	return vault.Connection{
		Status:          vault.StatusConnected,
		ExternalAccount: strconv.FormatInt(accountID, 10),
		ExternalName:    accountName,
		Tokens:          vault.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry},
		Scopes:          tok.Scope,
	}
}

// LightspeedTokens is a lightspeed.TokenProvider (pass it as
// lightspeed.Options.Tokens) whose every refresh goes through
// vault.Vault.Refresh: ahead of expiry from Token, and after a 401 from Refresh
// (the client calls it when the provider has that method). So a rotated
// refresh token is committed before the new access token is used, one
// refresh per connection runs at a time across all processes, and a refused
// refresh marks the connection needs_reauth and returns a *ReauthError.
//
// It keeps the current token in memory and serialises refreshes within the
// process too, so concurrent requests of one client wait for one refresh
// instead of queueing on the row lock. It is safe for concurrent use; build
// one per client.
type LightspeedTokens struct {
	v        *vault.Vault
	tenantID string
	cfg      *lightspeed.Config
	ahead    time.Duration

	sem chan struct{} // one vault round trip at a time in this process

	mu    sync.Mutex
	cur   lightspeed.Token
	curAt time.Time // when cur was obtained, by s.now
}

// aheadFor is the refresh-ahead window for a token obtained at got and
// expiring at expiry: the configured window, but at most half the token's
// life. A token shorter-lived than the window (a server that answers a
// refresh with the remaining life of the same token, a short test TTL)
// would otherwise look expiring as soon as it arrives and be refreshed on
// every call, burning rotating refresh tokens.
func (s *LightspeedTokens) aheadFor(expiry, got time.Time) time.Duration {
	if life := expiry.Sub(got); life > 0 && life/2 < s.ahead {
		return life / 2
	}
	return s.ahead
}

// storedValid reports whether a stored access token will do.
func (s *LightspeedTokens) storedValid(c vault.Connection) bool {
	t := lightspeed.Token{AccessToken: c.Tokens.AccessToken, Expiry: c.Tokens.Expiry}
	return t.Valid(s.now(), s.aheadFor(c.Tokens.Expiry, c.UpdatedAt))
}

// NewLightspeedTokens returns the tenant's Lightspeed token provider. cfg
// is the OAuth client (its Refresh is what runs under the lock and its Now
// is the clock); refreshAhead zero means DefaultRefreshAhead. The stored
// token is read on first use.
func NewLightspeedTokens(v *vault.Vault, tenantID string, cfg *lightspeed.Config, refreshAhead time.Duration) (*LightspeedTokens, error) {
	if v == nil || cfg == nil {
		return nil, errors.New("connect: lightspeed tokens: vault and config are required")
	}
	id, err := vault.CheckTenantID(tenantID)
	if err != nil {
		return nil, fmt.Errorf("connect: lightspeed tokens: %w", err)
	}
	if refreshAhead <= 0 {
		refreshAhead = DefaultRefreshAhead
	}
	return &LightspeedTokens{v: v, tenantID: id, cfg: cfg, ahead: refreshAhead, sem: make(chan struct{}, 1)}, nil
}

func (s *LightspeedTokens) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

func (s *LightspeedTokens) current() lightspeed.Token {
	t, _ := s.currentAt()
	return t
}

func (s *LightspeedTokens) currentAt() (lightspeed.Token, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur, s.curAt
}

// heldValid reports whether the token held in memory will do.
func (s *LightspeedTokens) heldValid() bool {
	t, at := s.currentAt()
	return t.Valid(s.now(), s.aheadFor(t.Expiry, at))
}

// Token returns an access token valid for at least the refresh-ahead
// window, reading the vault (and refreshing through it) when the one held
// in memory is not.
func (s *LightspeedTokens) Token(ctx context.Context) (lightspeed.Token, error) {
	if s.heldValid() {
		return s.current(), nil
	}
	return s.load(ctx,
		func(lightspeed.Token) bool { return s.heldValid() },
		func(c vault.Connection) bool { return !s.storedValid(c) })
}

// Refresh replaces rejected, an access token the API answered 401 to,
// unless another caller (in this process or another) already replaced it,
// and returns the replacement.
func (s *LightspeedTokens) Refresh(ctx context.Context, rejected lightspeed.Token) (lightspeed.Token, error) {
	return s.load(ctx,
		func(t lightspeed.Token) bool { return t.AccessToken != "" && t.AccessToken != rejected.AccessToken },
		func(c vault.Connection) bool {
			// A token another process stored is adopted only if it is not
			// also expiring: the client replays once, and a second 401
			// would fail the call.
			return c.Tokens.AccessToken == rejected.AccessToken || !s.storedValid(c)
		})
}

// load returns the held token if fresh says it will do once this caller
// has the in-process lock, else the stored token unless stale says it will
// not do, else refreshes through Vault.Refresh (which asks stale again
// under the row lock).
func (s *LightspeedTokens) load(ctx context.Context, fresh func(lightspeed.Token) bool, stale func(vault.Connection) bool) (lightspeed.Token, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return lightspeed.Token{}, ctx.Err()
	}
	defer func() { <-s.sem }()
	if t := s.current(); fresh(t) {
		return t, nil // replaced by the caller we waited for
	}
	// Most of the time the stored token will do (a new client, or another
	// process refreshed): read it without taking the row lock.
	if c, err := s.v.Get(ctx, s.tenantID, vault.Lightspeed); err == nil && c.Status == vault.StatusConnected && !stale(c) {
		account, _ := strconv.ParseInt(c.ExternalAccount, 10, 64)
		return s.set(c.Tokens, account), nil
	}
	var account int64
	t, err := s.v.Refresh(ctx, s.tenantID, vault.Lightspeed,
		func(c vault.Connection) bool {
			account, _ = strconv.ParseInt(c.ExternalAccount, 10, 64)
			return stale(c)
		},
		LightspeedRefresh(s.cfg))
	if err != nil {
		return lightspeed.Token{}, err
	}
	return s.set(t, account), nil
}

func (s *LightspeedTokens) set(t vault.Tokens, account int64) lightspeed.Token {
	lt := lightspeed.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer", Expiry: t.Expiry, AccountID: account}
	s.mu.Lock()
	s.cur, s.curAt = lt, s.now()
	s.mu.Unlock()
	return lt
}

// LightspeedRefresh is the refresh callback of vault.Vault.Refresh for
// Lightspeed: it spends the stored refresh token with cfg, and marks
// Lightspeed's refusal (invalid_grant) as vault.ErrInvalidGrant so the vault
// sets the connection needs_reauth.
func LightspeedRefresh(cfg *lightspeed.Config) func(ctx context.Context, cur vault.Tokens) (vault.Tokens, error) {
	return func(ctx context.Context, cur vault.Tokens) (vault.Tokens, error) {
		next, err := cfg.Refresh(ctx, cur.RefreshToken)
		if errors.Is(err, lightspeed.ErrInvalidGrant) {
			return vault.Tokens{}, fmt.Errorf("%w: %w", vault.ErrInvalidGrant, err)
		}
		if err != nil {
			return vault.Tokens{}, err
		}
		return vault.Tokens{AccessToken: next.AccessToken, RefreshToken: next.RefreshToken, Expiry: next.Expiry}, nil
	}
}
