package vault

import (
	"context"
	"errors"
	"fmt"
)

// Locked is a connection row held with SELECT … FOR UPDATE in an open
// transaction, for an API client that drives its own refresh and calls back
// to lock, store and unlock (the Salesforce client refreshes after
// INVALID_SESSION_ID). It gives the same guarantees as Refresh: one refresh
// of a connection at a time across all processes, the new tokens committed
// before they are used, a refusal marking the connection needs_reauth.
//
// Save, Refused or Release ends it; Release after the others is a no-op.
type Locked struct {
	l *locked
}

// Lock begins a transaction, locks tenantID's connection to provider and
// reads it. A disconnected or missing connection is ErrNotConnected and one
// that needs reauthorization a *ReauthError; neither keeps the lock.
func (v *Vault) Lock(ctx context.Context, tenantID, provider string) (*Locked, error) {
	id, err := checkIDs(tenantID, provider)
	if err != nil {
		return nil, fmt.Errorf("vault: lock: %w", err)
	}
	l, err := v.lock(ctx, id, provider)
	if err != nil {
		return nil, fmt.Errorf("vault: lock %s connection of tenant %s: %w", provider, id, err)
	}
	if err := l.usable(); err != nil {
		l.rollback(ctx)
		if errors.Is(err, ErrNotConnected) {
			return nil, fmt.Errorf("vault: lock %s connection of tenant %s: %w", provider, id, err)
		}
		return nil, err
	}
	return &Locked{l: l}, nil
}

// Connection returns the connection as read under the lock.
func (k *Locked) Connection() Connection { return k.l.conn }

// Save stores next over the locked row and commits; the caller may use next
// only once Save returned nil. The stored refresh token is kept when next
// has none; instanceURL replaces the stored one unless empty.
func (k *Locked) Save(ctx context.Context, next Tokens, instanceURL string) error {
	defer k.l.rollback(ctx)
	if next.AccessToken == "" {
		return errors.New("vault: save: the refresh returned no access token")
	}
	if next.RefreshToken == "" {
		next.RefreshToken = k.l.conn.Tokens.RefreshToken
	}
	if err := k.l.store(ctx, next, instanceURL); err != nil {
		return fmt.Errorf("vault: store refreshed %s token of tenant %s: %w", k.l.provider, k.l.tenantID, err)
	}
	if err := k.l.tx.Commit(ctx); err != nil {
		return fmt.Errorf("vault: commit refreshed %s token of tenant %s: %w", k.l.provider, k.l.tenantID, err)
	}
	return nil
}

// Refused ends a refresh that failed with cause, returning the error for
// the caller with the stored tokens redacted from it. A refusal no retry can
// fix (cause matches ErrInvalidGrant) marks the connection needs_reauth,
// commits, and becomes a *ReauthError wrapping cause; any other failure
// changes nothing.
func (k *Locked) Refused(ctx context.Context, cause error) error {
	defer k.l.rollback(ctx)
	cur := k.l.conn.Tokens
	cause = redact(cause, cur.AccessToken, cur.RefreshToken)
	if !errors.Is(cause, ErrInvalidGrant) {
		return cause
	}
	return k.l.refusedGrant(ctx, cause)
}

// Release ends the transaction without a change, releasing the lock.
func (k *Locked) Release(ctx context.Context) { k.l.rollback(ctx) }

// CheckTenantID returns tenantID in canonical form, or an error when it is
// not a UUID and so names no tenant: for adapters that take a tenant id
// long before they first read the vault.
func CheckTenantID(tenantID string) (string, error) {
	id, ok := canonicalUUID(tenantID)
	if !ok {
		return "", fmt.Errorf("vault: tenant id %q is not a UUID", truncate(tenantID, 40))
	}
	return id, nil
}
