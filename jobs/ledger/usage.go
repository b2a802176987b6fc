package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DayRecords is what a tenant's runs did on one UTC day.
type DayRecords struct {
	Day time.Time // UTC midnight
	// Synced are the records created, updated or linked; Failed those
	// refused.
	Synced, Failed int
}

// RecordsPerDay returns tenantID's records per UTC day from since's day on,
// oldest first; days without runs are absent.
func (s *Store) RecordsPerDay(ctx context.Context, tenantID string, since time.Time) ([]DayRecords, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT (started_at AT TIME ZONE 'UTC')::date,
		       sum(COALESCE((counts->>'created')::bigint, 0) + COALESCE((counts->>'updated')::bigint, 0)
		           + COALESCE((counts->>'linked')::bigint, 0)),
		       sum(COALESCE((counts->>'failed')::bigint, 0))
		FROM sync_runs
		WHERE tenant_id = $1 AND started_at >= $2
		GROUP BY 1 ORDER BY 1`, tenantID, utcDay(since))
	if err != nil {
		return nil, fmt.Errorf("ledger: records per day: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DayRecords, error) {
		var d DayRecords
		err := r.Scan(&d.Day, &d.Synced, &d.Failed)
		d.Day = utcDay(d.Day)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: records per day: %w", err)
	}
	return out, nil
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Tenants returns the ids of the tenants that have streams (setup is
// finished), for work that visits every syncing tenant.
func (s *Store) Tenants(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT tenant_id::text FROM sync_streams ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("ledger: tenants with streams: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("ledger: tenants with streams: %w", err)
	}
	return ids, nil
}

// StreamHealth is one stream's state for the staff console's list.
type StreamHealth struct {
	StreamKey
	Paused        bool
	HoldReason    string
	FailedRuns    int
	LastSuccessAt *time.Time
}

// TenantHealth is a tenant's sync at a glance.
type TenantHealth struct {
	Streams []StreamHealth
	// Failed24h is the records refused by the last 24 hours' runs.
	Failed24h int
}

// Health returns every tenant's streams and recent failures, by tenant id,
// in two queries whatever the number of tenants.
func (s *Store) Health(ctx context.Context) (map[string]*TenantHealth, error) {
	out := map[string]*TenantHealth{}
	get := func(id string) *TenantHealth {
		if out[id] == nil {
			out[id] = &TenantHealth{}
		}
		return out[id]
	}
	rows, err := s.pool.Query(ctx, `SELECT tenant_id::text, location, stream, paused, hold_reason, failed_runs, last_success_at
		FROM sync_streams ORDER BY tenant_id, stream, location`)
	if err != nil {
		return nil, fmt.Errorf("ledger: health: %w", err)
	}
	for rows.Next() {
		var h StreamHealth
		if err := rows.Scan(&h.TenantID, &h.Location, &h.Stream, &h.Paused, &h.HoldReason, &h.FailedRuns, &h.LastSuccessAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger: health: %w", err)
		}
		t := get(h.TenantID)
		t.Streams = append(t.Streams, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: health: %w", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT tenant_id::text, sum(COALESCE((counts->>'failed')::int, 0))::int
		FROM sync_runs WHERE started_at > now() - interval '24 hours' GROUP BY tenant_id`)
	if err != nil {
		return nil, fmt.Errorf("ledger: health: %w", err)
	}
	for rows.Next() {
		var (
			id string
			n  int
		)
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger: health: %w", err)
		}
		get(id).Failed24h = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: health: %w", err)
	}
	return out, nil
}
