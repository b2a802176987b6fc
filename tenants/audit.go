package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Actions recorded in the audit log by this package and the web app.
const (
	ActionSignUp          = "tenant.signup"
	ActionLogin           = "user.login"
	ActionStaffAdd        = "staff.add"
	ActionStaffViewTenant = "staff.view_tenant"
	// ActionStaffListTenants records a staff view of the tenant list (every
	// tenant's name and owner email); it names no one tenant.
	ActionStaffListTenants = "staff.list_tenants"
	// ActionStaffRiverUI records staff opening River UI (every tenant's
	// jobs); it names no one tenant.
	ActionStaffRiverUI = "staff.river_ui"
	// Sync history actions: a merchant (or staff on their behalf) retried,
	// resynced, reset, paused or resumed sync work.
	ActionSyncRetry  = "sync.retry"
	ActionSyncResync = "sync.resync"
	ActionSyncReset  = "sync.reset"
	ActionSyncPause  = "sync.pause"
	ActionSyncResume = "sync.resume"
	// ActionNeedsReauth records a connection the provider stopped
	// accepting: the merchant must connect again. Written by the vault
	// when the state changes, by no user.
	ActionNeedsReauth = "connection.needs_reauth"
)

// Entry is one audit log record to write: who did what, to which tenant.
type Entry struct {
	TenantID    string         // empty for actions not about one tenant
	ActorUserID string         // empty when not done by a logged-in user
	ActorEmail  string         // kept even if the user is later deleted
	Action      string         // e.g. ActionStaffViewTenant
	Detail      map[string]any // free-form, JSON-encoded; never secrets
	IP          string
}

// Actor is who makes a change, for the audit log: the logged-in user (empty
// UserID for Tandem itself) and the address the request came from.
type Actor struct {
	UserID string
	Email  string
	IP     string
}

// Entry returns the audit entry of action, done by a to tenantID.
func (a Actor) Entry(tenantID, action string, detail map[string]any) Entry {
	return Entry{TenantID: tenantID, ActorUserID: a.UserID, ActorEmail: a.Email, Action: action, Detail: detail, IP: a.IP}
}

// AuditRecord is a stored audit log entry.
type AuditRecord struct {
	Entry
	ID        int64
	CreatedAt time.Time
}

// execer is what audit needs: a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Audit appends e to the audit log.
func (s *Store) Audit(ctx context.Context, e Entry) error {
	if err := audit(ctx, s.pool, e); err != nil {
		return fmt.Errorf("tenants: %w", err)
	}
	return nil
}

// AuditTx appends e to the audit log inside tx, so that a change made by
// another package and its audit entry commit (or roll back) together.
func AuditTx(ctx context.Context, tx pgx.Tx, e Entry) error {
	if err := audit(ctx, tx, e); err != nil {
		return fmt.Errorf("tenants: %w", err)
	}
	return nil
}

func audit(ctx context.Context, db execer, e Entry) error {
	detail, err := marshalDetail(e.Detail)
	if err != nil {
		return fmt.Errorf("audit %s: encode detail: %w", e.Action, err)
	}
	_, err = db.Exec(ctx, `
		INSERT INTO audit_log (tenant_id, actor_user_id, actor_email, action, detail, ip)
		VALUES (nullif($1, '')::uuid, nullif($2, '')::uuid, $3, $4, $5, $6)`,
		e.TenantID, e.ActorUserID, e.ActorEmail, e.Action, detail, e.IP)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog returns tenantID's most recent audit entries, newest first, at
// most limit of them.
func (s *Store) AuditLog(ctx context.Context, tenantID string, limit int) ([]AuditRecord, error) {
	if !validUUID(tenantID) {
		return []AuditRecord{}, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, tenant_id::text, coalesce(actor_user_id::text, ''), actor_email, action, detail, ip, created_at
		FROM audit_log WHERE tenant_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("tenants: list audit log: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditRecord, error) {
		var a AuditRecord
		err := r.Scan(&a.ID, &a.TenantID, &a.ActorUserID, &a.ActorEmail, &a.Action, &a.Detail, &a.IP, &a.CreatedAt)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("tenants: list audit log: %w", err)
	}
	return recs, nil
}

// marshalDetail encodes an audit detail, treating nil as an empty object.
func marshalDetail(d map[string]any) ([]byte, error) {
	if d == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(d)
}
