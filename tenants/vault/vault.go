package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/tenants"
)

// Providers a tenant connects.
const (
	Lightspeed = "lightspeed"
	Salesforce = "salesforce"
)

// Status is the state of a connection.
type Status string

// Connection states, as stored in connections.status.
const (
	// StatusConnected: the tokens work (as far as Tandem knows).
	StatusConnected Status = "connected"
	// StatusNeedsReauth: the provider refused the refresh token; the
	// merchant must connect again. Settings and history are kept.
	StatusNeedsReauth Status = "needs_reauth"
	// StatusDisconnected: the merchant disconnected; the tokens are gone,
	// the account identity, settings and history are kept.
	StatusDisconnected Status = "disconnected"
)

// Token field names, bound into each sealed value's additional data.
const (
	fieldAccess  = "access"
	fieldRefresh = "refresh"
)

var (
	// ErrNotConnected is returned when the tenant has no connection to the
	// provider, or (for operations that need tokens) it was disconnected.
	ErrNotConnected = errors.New("vault: not connected")
	// ErrInvalidGrant marks a refresh the provider refused for good
	// (OAuth invalid_grant: the refresh token is expired, used or revoked).
	// A refresh callback wraps its error with it to have Refresh mark the
	// connection needs_reauth.
	ErrInvalidGrant = errors.New("vault: refresh token refused (invalid_grant)")
)

// DefaultRefreshTimeout bounds a Refresh whose context has no deadline:
// the row lock is never held longer than this.
const DefaultRefreshTimeout = time.Minute

// Tokens is an OAuth token pair. It prints and logs redacted.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	// Expiry is when the access token expires; zero when unknown
	// (Salesforce says nothing; its session ends when the API answers 401).
	Expiry time.Time
}

const redacted = "[redacted]"

func mask(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

// String returns a redacted description, so a Tokens printed by mistake
// leaks nothing.
func (t Tokens) String() string {
	exp := "unknown"
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("vault.Tokens{access:%s refresh:%s expiry:%s}", mask(t.AccessToken), mask(t.RefreshToken), exp)
}

// GoString redacts like String for %#v.
func (t Tokens) GoString() string { return t.String() }

// LogValue redacts the tokens in slog output.
func (t Tokens) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_token", mask(t.AccessToken)),
		slog.String("refresh_token", mask(t.RefreshToken)),
		slog.Time("expiry", t.Expiry),
	)
}

// Connection is a tenant's connection to one provider.
type Connection struct {
	Status Status
	// StatusReason says, in words fit for the merchant, why the connection
	// needs reauthorization or was disconnected; empty when connected.
	StatusReason string
	// ExternalAccount identifies the provider account: the Lightspeed
	// account id, the Salesforce org id. Reconnecting to another one would
	// corrupt the links, so it survives a disconnect.
	ExternalAccount string
	// ExternalName is the account's display name (shop or org name).
	ExternalName string
	// InstanceURL is the base of API calls (Salesforce).
	InstanceURL string
	// LoginHost is the OAuth host the connection was made through
	// (Salesforce: production, sandbox or a My Domain); refresh goes back
	// to it.
	LoginHost string
	// Tokens are empty once disconnected.
	Tokens Tokens
	// Scopes granted, space-separated.
	Scopes string
	// Metadata is provider-specific JSON (an object); nil stores {}.
	Metadata json.RawMessage
	// KeyID names the key the tokens are sealed under (read-only: Save
	// always seals under the current key).
	KeyID string
	// ConnectedAt is when the connection was last made (a reconnect or a
	// change of account resets it); UpdatedAt when the row last changed;
	// StatusChangedAt when Status last changed (zero if never recorded).
	ConnectedAt, UpdatedAt, StatusChangedAt time.Time
}

// LogValue logs the connection without its tokens.
func (c Connection) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("status", string(c.Status)),
		slog.String("external_account", c.ExternalAccount),
		slog.String("instance_url", c.InstanceURL),
		slog.Any("tokens", c.Tokens),
	)
}

// Vault stores connections with sealed tokens. It is safe for concurrent
// use.
type Vault struct {
	pool *pgxpool.Pool
	keys *KeyRing
}

// New returns a vault over pool that seals with keys.
func New(pool *pgxpool.Pool, keys *KeyRing) *Vault {
	return &Vault{pool: pool, keys: keys}
}

// dbtx is what the vault needs from a pool or a transaction.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Save stores c as the tenant's connection to provider, replacing any
// previous one (tokens, account, metadata and status alike), with the tokens
// sealed under the current key. c.Status defaults to connected.
func (v *Vault) Save(ctx context.Context, tenantID, provider string, c Connection) error {
	return v.save(ctx, v.pool, tenantID, provider, c)
}

// SaveTx is Save inside the caller's transaction, so a connection is stored
// atomically with other rows (discovery, audit log): if tx rolls back, the
// previous connection is untouched.
func (v *Vault) SaveTx(ctx context.Context, tx pgx.Tx, tenantID, provider string, c Connection) error {
	return v.save(ctx, tx, tenantID, provider, c)
}

const upsertSQL = `
INSERT INTO connections (tenant_id, provider, status, status_reason, status_changed_at,
    external_account, external_name, instance_url, login_host,
    access_token_enc, refresh_token_enc, key_id, expires_at, scopes, metadata, connected_at, updated_at)
VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now(), now())
ON CONFLICT (tenant_id, provider) DO UPDATE SET
    status            = EXCLUDED.status,
    status_reason     = EXCLUDED.status_reason,
    status_changed_at = CASE WHEN connections.status = EXCLUDED.status
                             THEN connections.status_changed_at ELSE now() END,
    external_account  = EXCLUDED.external_account,
    external_name     = EXCLUDED.external_name,
    instance_url      = EXCLUDED.instance_url,
    login_host        = EXCLUDED.login_host,
    access_token_enc  = EXCLUDED.access_token_enc,
    refresh_token_enc = EXCLUDED.refresh_token_enc,
    key_id            = EXCLUDED.key_id,
    expires_at        = EXCLUDED.expires_at,
    scopes            = EXCLUDED.scopes,
    metadata          = EXCLUDED.metadata,
    connected_at      = CASE WHEN connections.status = 'connected'
                              AND connections.external_account = EXCLUDED.external_account
                             THEN connections.connected_at ELSE now() END,
    updated_at        = now()`

func (v *Vault) save(ctx context.Context, db dbtx, tenantID, provider string, c Connection) error {
	tenantID, err := checkIDs(tenantID, provider)
	if err != nil {
		return fmt.Errorf("vault: save: %w", err)
	}
	if c.Status == "" {
		c.Status = StatusConnected
	}
	switch c.Status {
	case StatusConnected, StatusNeedsReauth, StatusDisconnected:
	default:
		return fmt.Errorf("vault: save: unknown status %q", c.Status)
	}
	if c.ExternalAccount == "" {
		return errors.New("vault: save: external account is empty")
	}
	if c.Status != StatusDisconnected && c.Tokens.AccessToken == "" {
		return errors.New("vault: save: access token is empty")
	}
	meta := []byte(c.Metadata)
	if len(meta) == 0 {
		meta = []byte("{}")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(meta, &obj); err != nil || obj == nil {
		return errors.New("vault: save: metadata is not a JSON object")
	}
	acc, ref, keyID, err := v.sealPair(tenantID, provider, c.Tokens)
	if err != nil {
		return fmt.Errorf("vault: save: %w", err)
	}
	_, err = db.Exec(ctx, upsertSQL, tenantID, provider, string(c.Status), c.StatusReason,
		c.ExternalAccount, c.ExternalName, c.InstanceURL, c.LoginHost,
		acc, ref, keyID, nullTime(c.Tokens.Expiry), c.Scopes, string(meta))
	if err != nil {
		return fmt.Errorf("vault: save %s connection of tenant %s: %w", provider, tenantID, err)
	}
	return nil
}

// sealPair seals both tokens under the current key; an empty token is
// stored as NULL, and a pair with neither has no key id.
func (v *Vault) sealPair(tenantID, provider string, t Tokens) (acc, ref []byte, keyID string, err error) {
	if t.AccessToken != "" {
		if acc, err = v.keys.seal(tenantID, provider, fieldAccess, t.AccessToken); err != nil {
			return nil, nil, "", err
		}
	}
	if t.RefreshToken != "" {
		if ref, err = v.keys.seal(tenantID, provider, fieldRefresh, t.RefreshToken); err != nil {
			return nil, nil, "", err
		}
	}
	if acc != nil || ref != nil {
		keyID = v.keys.CurrentID()
	}
	return acc, ref, keyID, nil
}

// connectionColumns are what scan reads of a connection.
const connectionColumns = `status, status_reason, status_changed_at, external_account, external_name, instance_url, login_host,
       access_token_enc, refresh_token_enc, key_id, expires_at, scopes, metadata, connected_at, updated_at`

const selectSQL = `SELECT ` + connectionColumns + ` FROM connections WHERE tenant_id = $1 AND provider = $2`

// Get returns the tenant's connection to provider with its tokens opened.
// It returns ErrNotConnected when there is none; a disconnected connection
// is returned (Status tells) with empty Tokens, so a reconnect can be
// checked against its ExternalAccount.
func (v *Vault) Get(ctx context.Context, tenantID, provider string) (Connection, error) {
	tenantID, err := checkIDs(tenantID, provider)
	if err != nil {
		return Connection{}, fmt.Errorf("vault: get: %w", err)
	}
	c, err := v.read(ctx, v.pool, selectSQL, tenantID, provider)
	if err != nil {
		return Connection{}, fmt.Errorf("vault: get %s connection of tenant %s: %w", provider, tenantID, err)
	}
	return c, nil
}

// ConnectionKey names a tenant's connection to a provider.
type ConnectionKey struct {
	TenantID, Provider string
}

// GetAll returns the connections named, with their tokens opened, in one
// query: for many clients built at once (the scheduler's probes). A
// connection that does not exist is absent.
func (v *Vault) GetAll(ctx context.Context, keys []ConnectionKey) (map[ConnectionKey]Connection, error) {
	tenants := make([]string, 0, len(keys))
	providers := make([]string, 0, len(keys))
	for _, k := range keys {
		id, err := checkIDs(k.TenantID, k.Provider)
		if err != nil {
			return nil, fmt.Errorf("vault: get connections: %w", err)
		}
		tenants, providers = append(tenants, id), append(providers, k.Provider)
	}
	rows, err := v.pool.Query(ctx, `SELECT tenant_id, provider, `+connectionColumns+`
		FROM connections WHERE (tenant_id, provider) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`, tenants, providers)
	if err != nil {
		return nil, fmt.Errorf("vault: get connections: %w", err)
	}
	defer rows.Close()
	out := make(map[ConnectionKey]Connection, len(keys))
	for rows.Next() {
		var k ConnectionKey
		c, err := v.scan(rows, &k.TenantID, &k.Provider, &k.TenantID, &k.Provider)
		if err != nil {
			return nil, fmt.Errorf("vault: get connections: %w", err)
		}
		out[k] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vault: get connections: %w", err)
	}
	return out, nil
}

// read runs query (selectSQL, possibly FOR UPDATE) and opens the tokens.
func (v *Vault) read(ctx context.Context, db dbtx, query, tenantID, provider string) (Connection, error) {
	c, err := v.scan(db.QueryRow(ctx, query, tenantID, provider), &tenantID, &provider)
	if errors.Is(err, pgx.ErrNoRows) {
		return Connection{}, ErrNotConnected
	}
	return c, err
}

// scan reads a connection as selectSQL selects it, preceded by the columns
// before scans, and opens its tokens, sealed for *tenantID and *provider
// (read once the row is scanned, so before may fill them).
func (v *Vault) scan(row pgx.Row, tenantID, provider *string, before ...any) (Connection, error) {
	var (
		c                  Connection
		status             string
		acc, ref           []byte
		expires, statusChg *time.Time
		meta               []byte
	)
	dest := append(before, &status, &c.StatusReason, &statusChg,
		&c.ExternalAccount, &c.ExternalName, &c.InstanceURL, &c.LoginHost,
		&acc, &ref, &c.KeyID, &expires, &c.Scopes, &meta, &c.ConnectedAt, &c.UpdatedAt)
	if err := row.Scan(dest...); err != nil {
		return Connection{}, err
	}
	c.Status = Status(status)
	c.Metadata = json.RawMessage(meta)
	if expires != nil {
		c.Tokens.Expiry = *expires
	}
	if statusChg != nil {
		c.StatusChangedAt = *statusChg
	}
	var err error
	if c.Tokens.AccessToken, err = v.openField(c.KeyID, *tenantID, *provider, fieldAccess, acc); err != nil {
		return Connection{}, err
	}
	if c.Tokens.RefreshToken, err = v.openField(c.KeyID, *tenantID, *provider, fieldRefresh, ref); err != nil {
		return Connection{}, err
	}
	return c, nil
}

func (v *Vault) openField(keyID, tenantID, provider, field string, sealed []byte) (string, error) {
	if sealed == nil {
		return "", nil
	}
	s, err := v.keys.open(keyID, tenantID, provider, field, sealed)
	if err != nil {
		return "", fmt.Errorf("open %s token: %w", field, err)
	}
	return s, nil
}

const disconnectSQL = `
UPDATE connections SET status = 'disconnected', status_reason = $3,
    status_changed_at = CASE WHEN status = 'disconnected' THEN status_changed_at ELSE now() END,
    access_token_enc = NULL, refresh_token_enc = NULL, key_id = '', expires_at = NULL, updated_at = now()
WHERE tenant_id = $1 AND provider = $2`

// Disconnect deletes the connection's sealed tokens and marks it
// disconnected, keeping the account identity (and everything else the
// tenant owns). reason is shown to the merchant. The caller revokes the
// tokens at the provider first (Get them, revoke, then Disconnect). It
// returns ErrNotConnected when there is no connection.
func (v *Vault) Disconnect(ctx context.Context, tenantID, provider, reason string) error {
	return v.disconnect(ctx, v.pool, tenantID, provider, reason)
}

// DisconnectTx is Disconnect inside the caller's transaction (with the
// audit-log row, say).
func (v *Vault) DisconnectTx(ctx context.Context, tx pgx.Tx, tenantID, provider, reason string) error {
	return v.disconnect(ctx, tx, tenantID, provider, reason)
}

func (v *Vault) disconnect(ctx context.Context, db dbtx, tenantID, provider, reason string) error {
	tenantID, err := checkIDs(tenantID, provider)
	if err != nil {
		return fmt.Errorf("vault: disconnect: %w", err)
	}
	tag, err := db.Exec(ctx, disconnectSQL, tenantID, provider, reason)
	if err != nil {
		return fmt.Errorf("vault: disconnect %s connection of tenant %s: %w", provider, tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("vault: disconnect %s connection of tenant %s: %w", provider, tenantID, ErrNotConnected)
	}
	return nil
}

const markReauthSQL = `
UPDATE connections c SET status = 'needs_reauth', status_reason = $3,
    status_changed_at = CASE WHEN o.status = 'needs_reauth' THEN c.status_changed_at ELSE now() END,
    updated_at = now()
FROM (SELECT status FROM connections WHERE tenant_id = $1 AND provider = $2 AND status <> 'disconnected' FOR UPDATE) o
WHERE c.tenant_id = $1 AND c.provider = $2
RETURNING o.status`

// MarkNeedsReauth marks the connection as needing the merchant to connect
// again (the dashboard's red banner), with reason in words fit for the
// merchant; the tokens and settings stay. Jobs call it when the API refuses
// the connection in a way no refresh fixes. It returns ErrNotConnected when
// there is no connection or it was disconnected.
func (v *Vault) MarkNeedsReauth(ctx context.Context, tenantID, provider, reason string) error {
	tenantID, err := checkIDs(tenantID, provider)
	if err != nil {
		return fmt.Errorf("vault: mark needs reauth: %w", err)
	}
	err = pgx.BeginFunc(ctx, v.pool, func(tx pgx.Tx) error { return markReauth(ctx, tx, tenantID, provider, reason) })
	if err != nil {
		return fmt.Errorf("vault: mark %s connection of tenant %s needs reauth: %w", provider, tenantID, err)
	}
	return nil
}

// markReauth marks the connection needs_reauth in tx and, when that is a
// change, records it in the tenant's audit log (by Tandem, with the
// reason), so support staff see when and why a connection broke.
func markReauth(ctx context.Context, tx pgx.Tx, tenantID, provider, reason string) error {
	reason = truncate(reason, 500)
	var was string
	err := tx.QueryRow(ctx, markReauthSQL, tenantID, provider, reason).Scan(&was)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotConnected
	}
	if err != nil {
		return err
	}
	if was == string(StatusNeedsReauth) {
		return nil
	}
	return tenants.AuditTx(ctx, tx, tenants.Entry{TenantID: tenantID, Action: tenants.ActionNeedsReauth,
		Detail: map[string]any{"provider": provider, "reason": reason}})
}

// checkIDs validates the provider and returns tenantID in canonical UUID
// form (lowercase, hyphenated): the form bound into the sealed values and
// the form Postgres returns, so RotateAll opens what Save sealed.
func checkIDs(tenantID, provider string) (string, error) {
	if provider != Lightspeed && provider != Salesforce {
		return "", fmt.Errorf("unknown provider %q (want %q or %q)", provider, Lightspeed, Salesforce)
	}
	id, ok := canonicalUUID(tenantID)
	if !ok {
		return "", fmt.Errorf("tenant id %q is not a UUID", truncate(tenantID, 40))
	}
	return id, nil
}

func canonicalUUID(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 36 {
		return "", false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return "", false
			}
		default:
			if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
				return "", false
			}
		}
	}
	return s, true
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
