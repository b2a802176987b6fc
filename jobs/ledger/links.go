package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Link states.
const (
	LinkActive  = "active"
	LinkAlias   = "alias"
	LinkGone    = "gone"
	LinkPending = "pending"
)

// Link pairs a Lightspeed record with a Salesforce record.
type Link struct {
	Kind  string
	LSID  string
	SFID  string
	State string // LinkActive when empty on write
	// LSHash and SFHash are the hashes of the values Tandem last wrote to or
	// read from each side: a change that hashes the same is Tandem's own
	// echo, or nothing Tandem maps.
	LSHash string
	SFHash string
	// Values are the canonical values both sides agreed on after the last
	// sync.
	Values map[string]string
	Note   string
	// SyncedAt is when the link was last written (read only).
	SyncedAt time.Time
}

// PendingID is the placeholder Lightspeed id of a link whose Lightspeed
// record is being created for the Salesforce record sfID.
func PendingID(sfID string) string { return "pending:" + sfID }

const linkColumns = `kind, ls_id, sf_id, state, ls_hash, sf_hash, vals, note, synced_at`

func scanLinks(ctx context.Context, q querier, sql string, args ...any) ([]Link, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		var l Link
		var vals []byte
		if err := rows.Scan(&l.Kind, &l.LSID, &l.SFID, &l.State, &l.LSHash, &l.SFHash, &vals, &l.Note, &l.SyncedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(vals, &l.Values); err != nil {
			return nil, fmt.Errorf("decode link values: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LinksByLightspeed returns the links of kind for the given Lightspeed ids,
// keyed by Lightspeed id.
func (s *Store) LinksByLightspeed(ctx context.Context, tenantID, kind string, lsIDs []string) (map[string]Link, error) {
	// A join on unnest, not "ls_id = ANY($3)": under a generic plan (pgx
	// prepares statements) Postgres may scan the tenant's links of kind and
	// test each against the whole array, which took seconds for a Bulk
	// chunk's 12,000 lines. A join is linear in either plan.
	links, err := scanLinks(ctx, s.pool, `SELECT `+linkColumns+` FROM links
		JOIN unnest($3::text[]) AS want(id) ON ls_id = want.id
		WHERE tenant_id = $1 AND kind = $2`, tenantID, kind, lsIDs)
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s links: %w", kind, err)
	}
	out := make(map[string]Link, len(links))
	for _, l := range links {
		out[l.LSID] = l
	}
	return out, nil
}

// LinksBySalesforce returns the links of kind for the given Salesforce ids,
// keyed by Salesforce id. Where several Lightspeed records share one
// Salesforce record, the active (or pending) link wins over aliases.
func (s *Store) LinksBySalesforce(ctx context.Context, tenantID, kind string, sfIDs []string) (map[string]Link, error) {
	links, err := scanLinks(ctx, s.pool, `SELECT `+linkColumns+` FROM links
		JOIN (SELECT DISTINCT id FROM unnest($3::text[]) AS u(id)) AS want ON sf_id = want.id
		WHERE tenant_id = $1 AND kind = $2
		ORDER BY sf_id, (state = 'alias'), created_at`, tenantID, kind, sfIDs)
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s links: %w", kind, err)
	}
	out := make(map[string]Link, len(links))
	for _, l := range links {
		if _, seen := out[l.SFID]; !seen {
			out[l.SFID] = l
		}
	}
	return out, nil
}

// CountLinks returns how many links of kind the tenant has in state.
func (s *Store) CountLinks(ctx context.Context, tenantID, kind, state string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM links WHERE tenant_id = $1 AND kind = $2 AND state = $3`,
		tenantID, kind, state).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ledger: count links: %w", err)
	}
	return n, nil
}

// LinkedPairs calls fn for every active link of kind, in Lightspeed id
// order, a page at a time (for resyncs that re-send every linked record).
func (s *Store) LinkedPairs(ctx context.Context, tenantID, kind string, fn func([]Link) error) error {
	after := ""
	for {
		page, err := scanLinks(ctx, s.pool, `SELECT `+linkColumns+` FROM links
			WHERE tenant_id = $1 AND kind = $2 AND state = 'active' AND ls_id > $3
			ORDER BY ls_id LIMIT 500`, tenantID, kind, after)
		if err != nil {
			return fmt.Errorf("ledger: list %s links: %w", kind, err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		after = page[len(page)-1].LSID
	}
}
