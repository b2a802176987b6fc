package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/tenants/vault"
)

// SaveSalesforceObject replaces one object's describe in tenantID's cached
// Salesforce discovery (or adds it), leaving the rest as it was: what a
// sync run does when a write names a field Salesforce no longer has, so
// the mapping screen and the dashboard see the change. Without a
// discovery it does nothing.
func (s *Store) SaveSalesforceObject(ctx context.Context, tenantID string, o SObject) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var data []byte
		err := tx.QueryRow(ctx, `SELECT data FROM discoveries WHERE tenant_id = $1 AND provider = $2 FOR UPDATE`,
			tenantID, vault.Salesforce).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var d SalesforceDiscovery
		if err := json.Unmarshal(data, &d); err != nil {
			return err
		}
		replaced := false
		for i := range d.Objects {
			if strings.EqualFold(d.Objects[i].Name, o.Name) {
				d.Objects[i], replaced = o, true
			}
		}
		if !replaced {
			d.Objects = append(d.Objects, o)
		}
		if data, err = json.Marshal(&d); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE discoveries SET data = $3 WHERE tenant_id = $1 AND provider = $2`,
			tenantID, vault.Salesforce, data)
		return err
	})
	if err != nil {
		return fmt.Errorf("setup: save the describe of %s: %w", o.Name, err)
	}
	return nil
}
