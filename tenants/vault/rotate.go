package vault

import (
	"context"
	"fmt"
)

// rotateBatch is how many rows RotateAll re-seals per transaction: small
// enough that the row locks are brief, large enough to need few round trips.
const rotateBatch = 100

// The keyset pagination walks (tenant_id, provider) upwards, so a row that
// cannot be re-sealed stops the run instead of being retried forever, and
// FOR UPDATE re-checks key_id after waiting for a refresh in flight (which
// re-seals under the current key itself, so such a row is then skipped).
const rotateSelectSQL = `
SELECT tenant_id::text, provider, access_token_enc, refresh_token_enc, key_id
FROM connections
WHERE key_id <> '' AND key_id <> $1 AND (tenant_id, provider) > ($2::uuid, $3)
ORDER BY tenant_id, provider
LIMIT $4
FOR UPDATE`

const rotateUpdateSQL = `
UPDATE connections SET access_token_enc = $3, refresh_token_enc = $4, key_id = $5
WHERE tenant_id = $1 AND provider = $2`

// RotateAll re-seals every connection's tokens under the current key (what
// `tandem keys rotate` runs after a new TANDEM_SECRET_KEY is set and the old
// one moved to TANDEM_SECRET_KEYS). Rows already under the current key are
// skipped, so running it again is harmless; each batch is a transaction
// holding its rows locked. It returns how many rows it re-sealed, also
// when it stops at an error (such as an *UnknownKeyError for a row sealed
// under a key the ring lacks), so a rerun after fixing the key ring
// continues where it stopped.
func (v *Vault) RotateAll(ctx context.Context) (int, error) {
	cur := v.keys.CurrentID()
	afterTenant, afterProvider := "00000000-0000-0000-0000-000000000000", ""
	n := 0
	for {
		done, last, lastProvider, err := v.rotateBatch(ctx, cur, afterTenant, afterProvider)
		n += done
		if err != nil {
			return n, fmt.Errorf("vault: rotate keys: %w", err)
		}
		if last == "" {
			return n, nil
		}
		afterTenant, afterProvider = last, lastProvider
	}
}

// rotateBatch re-seals one batch after (afterTenant, afterProvider) and
// returns how many rows it re-sealed and the last row seen ("" when the
// batch was the last).
func (v *Vault) rotateBatch(ctx context.Context, cur, afterTenant, afterProvider string) (n int, lastTenant, lastProvider string, err error) {
	tx, err := v.pool.Begin(ctx)
	if err != nil {
		return 0, "", "", err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	type row struct {
		tenantID, provider, keyID string
		acc, ref                  []byte
	}
	rows, err := tx.Query(ctx, rotateSelectSQL, cur, afterTenant, afterProvider, rotateBatch)
	if err != nil {
		return 0, "", "", err
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.tenantID, &r.provider, &r.acc, &r.ref, &r.keyID); err != nil {
			rows.Close()
			return 0, "", "", err
		}
		batch = append(batch, r)
	}
	if err := rows.Err(); err != nil {
		return 0, "", "", err
	}
	for _, r := range batch {
		var t Tokens
		if t.AccessToken, err = v.openField(r.keyID, r.tenantID, r.provider, fieldAccess, r.acc); err == nil {
			t.RefreshToken, err = v.openField(r.keyID, r.tenantID, r.provider, fieldRefresh, r.ref)
		}
		if err != nil {
			return 0, "", "", fmt.Errorf("%s connection of tenant %s: %w", r.provider, r.tenantID, err)
		}
		acc, ref, keyID, err := v.sealPair(r.tenantID, r.provider, t)
		if err != nil {
			return 0, "", "", err
		}
		if _, err := tx.Exec(ctx, rotateUpdateSQL, r.tenantID, r.provider, acc, ref, keyID); err != nil {
			return 0, "", "", fmt.Errorf("%s connection of tenant %s: %w", r.provider, r.tenantID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, "", "", err
	}
	if len(batch) < rotateBatch {
		return len(batch), "", "", nil
	}
	last := batch[len(batch)-1]
	return len(batch), last.tenantID, last.provider, nil
}
