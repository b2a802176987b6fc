package ledger

import (
	"context"
	"fmt"
	"time"
)

// PruneEvents deletes events created before before, batch rows per
// statement so that no statement holds locks on millions of rows, and
// returns how many it deleted.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, batch int) (int64, error) {
	return s.prune(ctx, "events", `
		DELETE FROM sync_events WHERE id IN (
			SELECT id FROM sync_events WHERE created_at < $1 LIMIT $2)`, before, batch)
}

// PruneRuns deletes runs started before before (and their events), batch
// rows per statement, keeping each stream's last run: the dashboard shows
// it however old it is.
func (s *Store) PruneRuns(ctx context.Context, before time.Time, batch int) (int64, error) {
	return s.prune(ctx, "runs", `
		DELETE FROM sync_runs WHERE id IN (
			SELECT r.id FROM sync_runs r
			WHERE r.started_at < $1 AND r.status <> 'running'
			  AND NOT EXISTS (SELECT 1 FROM sync_streams st WHERE st.tenant_id = r.tenant_id
			      AND st.location = r.location AND st.stream = r.stream AND st.last_run_id = r.id)
			LIMIT $2)`, before, batch)
}

// PruneIdleRuns deletes, batch rows per statement, the runs started in
// [from, before) that found nothing: they succeeded, wrote no record and
// recorded no event. Each stream's last run is kept. An idle stream is
// still polled every few minutes, and a year of such runs would be most of
// the table while telling nobody anything once a day has passed.
func (s *Store) PruneIdleRuns(ctx context.Context, from, before time.Time, batch int) (int64, error) {
	if batch <= 0 {
		batch = 1000
	}
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `
			DELETE FROM sync_runs WHERE id IN (
				SELECT r.id FROM sync_runs r
				WHERE r.started_at >= $1 AND r.started_at < $2 AND r.status = 'succeeded' AND r.records = 0
				  AND NOT EXISTS (SELECT 1 FROM sync_streams st WHERE st.tenant_id = r.tenant_id
				      AND st.location = r.location AND st.stream = r.stream AND st.last_run_id = r.id)
				  AND NOT EXISTS (SELECT 1 FROM sync_events e WHERE e.tenant_id = r.tenant_id AND e.run_id = r.id)
				LIMIT $3)`, from, before, batch)
		if err != nil {
			return total, fmt.Errorf("ledger: prune idle runs: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return total, nil
		}
	}
}

func (s *Store) prune(ctx context.Context, what, stmt string, before time.Time, batch int) (int64, error) {
	if batch <= 0 {
		batch = 1000
	}
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, stmt, before, batch)
		if err != nil {
			return total, fmt.Errorf("ledger: prune %s: %w", what, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return total, nil
		}
	}
}
