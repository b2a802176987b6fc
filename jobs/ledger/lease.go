package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A run of a stream holds the stream by a lease on its row, so two runs of
// one stream never overlap, whichever worker process they are in. The lease
// is renewed while the run goes on; a worker that dies stops renewing it,
// and the stream is free again when it runs out. Lease times are the
// database's clock, so workers on other machines agree on them.
//
// While a run holds the lease, the stream's next_run_at follows the lease's
// end, so the scheduler leaves a live run's stream alone and finds a dead
// run's stream due as soon as its lease runs out. Whatever else sets
// next_run_at during the run (FinishRun's schedule, Wake, Park) is kept:
// renewing moves it only while it still equals the lease's end.

// ErrStreamBusy is returned by AcquireRun when another run holds the stream.
var ErrStreamBusy = errors.New("ledger: stream is running")

// AcquireRun takes the stream's lease for owner until ttl from now, unless
// another run holds it: then it returns ErrStreamBusy. A stream that does
// not exist returns ErrNotFound.
func (s *Store) AcquireRun(ctx context.Context, k StreamKey, owner string, ttl time.Duration) error {
	// Two runs taking the lease at once queue on the row's lock; the second
	// re-checks the lease once the first commits, and finds it held.
	tag, err := s.pool.Exec(ctx, `
		UPDATE sync_streams SET run_owner = $4, run_lease_until = now() + $5::interval,
			next_run_at = now() + $5::interval
		WHERE tenant_id = $1 AND location = $2 AND stream = $3
		AND (run_lease_until IS NULL OR run_lease_until <= now())`,
		k.TenantID, k.Location, k.Stream, owner, ttl)
	if err != nil {
		return fmt.Errorf("ledger: take lease of %s: %w", k, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_streams
		WHERE tenant_id = $1 AND location = $2 AND stream = $3)`, k.TenantID, k.Location, k.Stream).Scan(&exists); err != nil {
		return fmt.Errorf("ledger: take lease of %s: %w", k, err)
	}
	if !exists {
		return ErrNotFound
	}
	return ErrStreamBusy
}

// RenewRun extends owner's lease of the stream to ttl from now. It reports
// false when owner no longer holds it (it ran out and another run took it):
// the run must stop.
func (s *Store) RenewRun(ctx context.Context, k StreamKey, owner string, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE sync_streams SET run_lease_until = now() + $5::interval,
			next_run_at = CASE WHEN next_run_at = run_lease_until THEN now() + $5::interval ELSE next_run_at END
		WHERE tenant_id = $1 AND location = $2 AND stream = $3 AND run_owner = $4`,
		k.TenantID, k.Location, k.Stream, owner, ttl)
	if err != nil {
		return false, fmt.Errorf("ledger: renew lease of %s: %w", k, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseRun gives up owner's lease of the stream, if owner still holds it.
// A run that ended without scheduling its stream (it failed before it
// started) leaves it due when its lease would have run out.
func (s *Store) ReleaseRun(ctx context.Context, k StreamKey, owner string) error {
	if _, err := s.pool.Exec(ctx, `
		UPDATE sync_streams SET run_owner = NULL, run_lease_until = NULL
		WHERE tenant_id = $1 AND location = $2 AND stream = $3 AND run_owner = $4`,
		k.TenantID, k.Location, k.Stream, owner); err != nil {
		return fmt.Errorf("ledger: release lease of %s: %w", k, err)
	}
	return nil
}
