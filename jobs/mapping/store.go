package mapping

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store keeps tenants' field mappings (the field_mappings table), versioned:
// a save writes a new version's rows and keeps the old ones, so a run can
// say which version it used.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns a Store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Current returns the tenant's latest saved mapping, or preset's defaults
// (version 0) when none was saved.
func (s *Store) Current(ctx context.Context, tenantID string, preset Preset) (Mapping, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT version, stream, source_field, target_object, target_field, direction, transform
		FROM field_mappings
		WHERE tenant_id = $1 AND version = (SELECT max(version) FROM field_mappings WHERE tenant_id = $1)
		ORDER BY position, id`, tenantID)
	if err != nil {
		return Mapping{}, fmt.Errorf("mapping: read mapping: %w", err)
	}
	m, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (versionedRule, error) {
		var v versionedRule
		err := row.Scan(&v.version, &v.Stream, &v.Source, &v.Object, &v.Target, &v.Direction, &v.Transform)
		return v, err
	})
	if err != nil {
		return Mapping{}, fmt.Errorf("mapping: read mapping: %w", err)
	}
	if len(m) == 0 {
		return Defaults(preset), nil
	}
	out := Mapping{Version: m[0].version, Preset: preset}
	for _, v := range m {
		out.Rules = append(out.Rules, v.Rule)
	}
	return out, nil
}

type versionedRule struct {
	Rule
	version int
}

// SaveTx stores rules as the tenant's next version, in the caller's
// transaction (which also writes the audit entry), and returns the version.
func SaveTx(ctx context.Context, tx pgx.Tx, tenantID string, m Mapping) (int, error) {
	if err := m.Check(); err != nil {
		return 0, err
	}
	// Lock the tenant's row so two saves get distinct versions.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tenantID); err != nil {
		return 0, fmt.Errorf("mapping: lock tenant: %w", err)
	}
	var version int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM field_mappings WHERE tenant_id = $1`,
		tenantID).Scan(&version); err != nil {
		return 0, fmt.Errorf("mapping: next version: %w", err)
	}
	rows := make([][]any, len(m.Rules))
	for i, r := range m.Rules {
		rows[i] = []any{tenantID, version, i, r.Stream, r.Source, r.Object, r.Target, string(r.Direction), string(r.Transform)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"field_mappings"},
		[]string{"tenant_id", "version", "position", "stream", "source_field", "target_object", "target_field", "direction", "transform"},
		pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("mapping: save version %d: %w", version, err)
	}
	return version, nil
}
