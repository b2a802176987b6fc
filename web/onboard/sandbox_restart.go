package onboard

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// sandboxRestartReason is what a connection forgotten by a restarted dev
// sandbox says on its page.
const sandboxRestartReason = "The development sandboxes restarted and start empty, so they no longer know this connection: connect again. Your settings are kept."

// ForgetSandboxConnections is for `tandem dev` only, at start: its API
// sandboxes keep their state in memory, so after a restart they know none
// of the tokens, records or Salesforce fields of the last run, while the
// database still does. Every connection that is not already disconnected
// is marked disconnected (its tokens dropped), the tenant's links and
// cursors (which point at records that are gone) are forgotten, and a
// stored Salesforce setup check (whose fields are gone) is cleared; the
// settings and store choices stay, and the sandboxes seed the same
// accounts, so reconnecting picks up cleanly. Each is audit-logged. It
// returns how many connections it marked.
func ForgetSandboxConnections(ctx context.Context, pool *pgxpool.Pool, v *vault.Vault) (int, error) {
	rows, err := pool.Query(ctx, `SELECT tenant_id::text, provider FROM connections WHERE status <> 'disconnected' ORDER BY tenant_id, provider`)
	if err != nil {
		return 0, fmt.Errorf("onboard: list connections: %w", err)
	}
	type conn struct{ tenantID, provider string }
	conns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (conn, error) {
		var c conn
		return c, r.Scan(&c.tenantID, &c.provider)
	})
	if err != nil {
		return 0, fmt.Errorf("onboard: list connections: %w", err)
	}
	store := setup.NewStore(pool)
	for _, c := range conns {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := v.DisconnectTx(ctx, tx, c.tenantID, c.provider, sandboxRestartReason); err != nil {
				return err
			}
			if err := ledger.ForgetTx(ctx, tx, c.tenantID); err != nil {
				return err
			}
			return tenants.AuditTx(ctx, tx, tenants.Entry{TenantID: c.tenantID, Action: ActionDisconnect,
				Detail: map[string]any{"provider": c.provider, "reason": "the development sandboxes restarted"}})
		})
		if err == nil && c.provider == Salesforce {
			_, err = store.Update(ctx, c.tenantID, tenants.Actor{}, func(s *setup.Settings) error {
				s.SalesforceCheck = nil
				return nil
			})
		}
		if err != nil {
			return 0, fmt.Errorf("onboard: forget %s connection of %s: %w", c.provider, c.tenantID, err)
		}
	}
	return len(conns), nil
}
