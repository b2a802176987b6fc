package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ReauthError is returned when a connection needs the merchant to connect
// again: the provider refused the refresh token just now (Err is its
// refusal, redacted), or the connection was already marked so (Err is nil).
type ReauthError struct {
	TenantID, Provider string
	// Reason is what the dashboard shows.
	Reason string
	Err    error
}

// Error says which connection must be reconnected and why; it carries no
// token.
func (e *ReauthError) Error() string {
	return fmt.Sprintf("vault: %s connection of tenant %s needs to be reconnected: %s", e.Provider, e.TenantID, e.Reason)
}

// Unwrap returns the provider's refusal, if any.
func (e *ReauthError) Unwrap() error { return e.Err }

const lockSQL = selectSQL + ` FOR UPDATE`

const updateTokensSQL = `
UPDATE connections SET access_token_enc = $3, refresh_token_enc = $4, key_id = $5, expires_at = $6,
    instance_url = CASE WHEN $7 = '' THEN instance_url ELSE $7 END, updated_at = now()
WHERE tenant_id = $1 AND provider = $2`

// locked is a connection row held with FOR UPDATE in tx until commit or
// rollback.
type locked struct {
	v                  *Vault
	tx                 pgx.Tx
	tenantID, provider string
	conn               Connection
}

// lock begins a transaction and locks and reads the connection row. The
// caller must end it with commit or rollback.
func (v *Vault) lock(ctx context.Context, tenantID, provider string) (*locked, error) {
	tx, err := v.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	c, err := v.read(ctx, tx, lockSQL, tenantID, provider)
	if err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return &locked{v: v, tx: tx, tenantID: tenantID, provider: provider, conn: c}, nil
}

// usable returns the error to give a caller that wants tokens from a
// connection in a state that has none worth using.
func (l *locked) usable() error {
	switch l.conn.Status {
	case StatusDisconnected:
		return ErrNotConnected
	case StatusNeedsReauth:
		return &ReauthError{TenantID: l.tenantID, Provider: l.provider, Reason: l.conn.StatusReason}
	}
	return nil
}

// store writes next (sealed under the current key) over the locked row;
// instanceURL replaces the stored one unless empty.
func (l *locked) store(ctx context.Context, next Tokens, instanceURL string) error {
	acc, ref, keyID, err := l.v.sealPair(l.tenantID, l.provider, next)
	if err != nil {
		return err
	}
	_, err = l.tx.Exec(ctx, updateTokensSQL, l.tenantID, l.provider, acc, ref, keyID, nullTime(next.Expiry), instanceURL)
	return err
}

// markReauth marks the locked row needs_reauth and commits.
func (l *locked) markReauth(ctx context.Context, reason string) error {
	if err := markReauth(ctx, l.tx, l.tenantID, l.provider, reason); err != nil {
		return err
	}
	return l.tx.Commit(ctx)
}

// refusedGrant marks the locked row needs_reauth after the provider
// refused its refresh token with err (redacted), commits, and returns the
// *ReauthError for the caller.
func (l *locked) refusedGrant(ctx context.Context, err error) error {
	reason := "the provider refused the stored authorization (" + err.Error() + "): connect again"
	if merr := l.markReauth(ctx, reason); merr != nil {
		return fmt.Errorf("mark needs reauth after %w: %v", err, merr)
	}
	return &ReauthError{TenantID: l.tenantID, Provider: l.provider, Reason: truncate(reason, 500), Err: err}
}

func (l *locked) rollback(ctx context.Context) {
	// Rolling back a committed transaction is a no-op; a failed rollback
	// closes the connection, which releases the lock all the same.
	_ = l.tx.Rollback(context.WithoutCancel(ctx))
}

// Refresh returns the connection's tokens, refreshing them first if
// needsRefresh says so, with at most one refresh of a connection at a time
// across all processes (see the package documentation for the lock).
//
// In one transaction it locks the row, opens the tokens stored now and asks
// needsRefresh about them: another process may have refreshed while this one
// waited for the lock, and then the stored tokens are returned without
// calling refresh. Otherwise refresh is called with the stored pair; the new
// access token and refresh token (the old one is kept when refresh returns
// none) are sealed and stored, and the transaction commits before Refresh
// returns them: a rotated refresh token is never held only in memory. If the
// commit fails, the new tokens are not returned.
//
// A refresh error matching ErrInvalidGrant marks the connection
// needs_reauth (committed) and returns a *ReauthError; so does a connection
// already in that state, or one with no refresh token left to use. A
// disconnected or missing connection returns ErrNotConnected. Other errors
// are returned wrapped, with the tokens redacted, and store nothing.
func (v *Vault) Refresh(ctx context.Context, tenantID, provider string,
	needsRefresh func(Connection) bool,
	refresh func(ctx context.Context, current Tokens) (Tokens, error),
) (Tokens, error) {
	tenantID, err := checkIDs(tenantID, provider)
	if err != nil {
		return Tokens{}, fmt.Errorf("vault: refresh: %w", err)
	}
	if needsRefresh == nil || refresh == nil {
		return Tokens{}, errors.New("vault: refresh: needsRefresh and refresh are required")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRefreshTimeout)
		defer cancel()
	}
	t, err := v.refresh(ctx, tenantID, provider, needsRefresh, refresh)
	if err != nil {
		var re *ReauthError
		if errors.As(err, &re) {
			return Tokens{}, err
		}
		return Tokens{}, fmt.Errorf("vault: refresh %s connection of tenant %s: %w", provider, tenantID, err)
	}
	return t, nil
}

func (v *Vault) refresh(ctx context.Context, tenantID, provider string,
	needsRefresh func(Connection) bool,
	refresh func(ctx context.Context, current Tokens) (Tokens, error),
) (Tokens, error) {
	l, err := v.lock(ctx, tenantID, provider)
	if err != nil {
		return Tokens{}, err
	}
	defer l.rollback(ctx)
	if err := l.usable(); err != nil {
		return Tokens{}, err
	}
	cur := l.conn.Tokens
	if !needsRefresh(l.conn) {
		return cur, nil
	}
	if cur.RefreshToken == "" {
		const reason = "no refresh token is stored for this connection: connect again"
		if err := l.markReauth(ctx, reason); err != nil {
			return Tokens{}, fmt.Errorf("mark needs reauth: %w", err)
		}
		return Tokens{}, &ReauthError{TenantID: tenantID, Provider: provider, Reason: reason}
	}

	next, err := refresh(ctx, cur)
	if err != nil {
		err = redact(err, cur.AccessToken, cur.RefreshToken, next.AccessToken, next.RefreshToken)
		if errors.Is(err, ErrInvalidGrant) {
			return Tokens{}, l.refusedGrant(ctx, err)
		}
		return Tokens{}, err
	}
	if next.AccessToken == "" {
		return Tokens{}, errors.New("refresh returned no access token")
	}
	if next.RefreshToken == "" {
		next.RefreshToken = cur.RefreshToken
	}
	if err := l.store(ctx, next, ""); err != nil {
		return Tokens{}, fmt.Errorf("store refreshed tokens: %w", err)
	}
	if err := l.tx.Commit(ctx); err != nil {
		return Tokens{}, fmt.Errorf("commit refreshed tokens: %w", err)
	}
	return next, nil
}

// redactedError hides secrets in err's message and keeps its chain for
// errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every non-empty secret in its message replaced.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := msg
	for _, s := range secrets {
		if s != "" {
			out = strings.ReplaceAll(out, s, redacted)
		}
	}
	if out == msg {
		return err
	}
	return &redactedError{msg: out, err: err}
}
