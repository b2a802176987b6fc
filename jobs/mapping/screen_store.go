package mapping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// KnownSources returns the source keys the mapping screen listed when the
// tenant last saved (mapping_sources), so a Lightspeed custom field added
// since shows as "new". Empty before the first save.
func (s *Store) KnownSources(ctx context.Context, tenantID string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT source_field FROM mapping_sources WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("mapping: read known sources: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("mapping: read known sources: %w", err)
	}
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = true
	}
	return out, nil
}

// RememberSourcesTx records keys as listed on the screen, in the caller's
// transaction (the save's).
func RememberSourcesTx(ctx context.Context, tx pgx.Tx, tenantID string, keys []string) error {
	_, err := tx.Exec(ctx, `INSERT INTO mapping_sources (tenant_id, source_field)
		SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, tenantID, keys)
	if err != nil {
		return fmt.Errorf("mapping: remember sources: %w", err)
	}
	return nil
}

// Resync states.
const (
	ResyncQueued  = "queued"
	ResyncRunning = "running"
	ResyncWaiting = "waiting" // at the Salesforce API reserve
	ResyncDone    = "done"
	ResyncFailed  = "failed"
)

// Resync is a re-send of every linked record with the mapping, as the
// screen shows its progress.
type Resync struct {
	ID             int64
	MappingVersion int
	Status         string
	Total, Done    int
	Message        string
	RequestedBy    string
	RequestedAt    time.Time
	FinishedAt     *time.Time
}

// Finished reports whether the resync is over.
func (r *Resync) Finished() bool { return r.Status == ResyncDone || r.Status == ResyncFailed }

const resyncColumns = `id, mapping_version, status, total, done, message, requested_by, requested_at, finished_at`

func scanResync(row pgx.Row) (*Resync, error) {
	r := &Resync{}
	err := row.Scan(&r.ID, &r.MappingVersion, &r.Status, &r.Total, &r.Done, &r.Message, &r.RequestedBy, &r.RequestedAt, &r.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// StartResyncTx records a resync request with the mapping version it
// re-sends, in the caller's transaction (the one that enqueues its job).
func StartResyncTx(ctx context.Context, tx pgx.Tx, tenantID string, version int, requestedBy string) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO mapping_resyncs (tenant_id, mapping_version, requested_by)
		VALUES ($1, $2, $3) RETURNING id`, tenantID, version, requestedBy).Scan(&id); err != nil {
		return 0, fmt.Errorf("mapping: record resync: %w", err)
	}
	return id, nil
}

// LatestResync returns the tenant's latest resync, or nil.
func (s *Store) LatestResync(ctx context.Context, tenantID string) (*Resync, error) {
	r, err := scanResync(s.pool.QueryRow(ctx, `SELECT `+resyncColumns+` FROM mapping_resyncs
		WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`, tenantID))
	if err != nil {
		return nil, fmt.Errorf("mapping: read resync: %w", err)
	}
	return r, nil
}

// GetResync returns one of the tenant's resyncs, or nil.
func (s *Store) GetResync(ctx context.Context, tenantID string, id int64) (*Resync, error) {
	r, err := scanResync(s.pool.QueryRow(ctx, `SELECT `+resyncColumns+` FROM mapping_resyncs
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("mapping: read resync: %w", err)
	}
	return r, nil
}

// SaveResync stores a resync's status, counts and message; a finished one
// gets its finish time, and finishes older unfinished ones (it re-sent
// everything they would have, with a later mapping).
func (s *Store) SaveResync(ctx context.Context, tenantID string, r *Resync) error {
	_, err := s.pool.Exec(ctx, `UPDATE mapping_resyncs SET status = $3, total = $4, done = $5, message = $6,
			finished_at = CASE WHEN $3 IN ('done', 'failed') THEN now() END
		WHERE tenant_id = $1 AND id = $2`, tenantID, r.ID, r.Status, r.Total, r.Done, r.Message)
	if err != nil {
		return fmt.Errorf("mapping: save resync %d: %w", r.ID, err)
	}
	if r.Finished() {
		if _, err := s.pool.Exec(ctx, `UPDATE mapping_resyncs SET status = $3, total = $4, done = $5,
				message = 'Covered by a later resync.', finished_at = now()
			WHERE tenant_id = $1 AND id < $2 AND status NOT IN ('done', 'failed')`, tenantID, r.ID, r.Status, r.Total, r.Done); err != nil {
			return fmt.Errorf("mapping: close older resyncs: %w", err)
		}
	}
	return nil
}
