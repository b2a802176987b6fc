package connect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
)

// Buckets is the lightspeed.BucketStore every Tandem process shares: one
// lightspeed_buckets row per Lightspeed account and OAuth client, read and
// written in one transaction under SELECT ... FOR UPDATE. Two workers that
// reserve drips of one account at once take turns on the row, so together
// they never send more than the bucket holds, and a 429 one of them receives
// holds back all of them.
type Buckets struct {
	pool *pgxpool.Pool
}

var _ lightspeed.BucketStore = (*Buckets)(nil)

// NewBuckets returns the store over pool.
func NewBuckets(pool *pgxpool.Pool) *Buckets { return &Buckets{pool: pool} }

// Update implements lightspeed.BucketStore. The row lock is held only for
// fn, which does no I/O, so the wait per reservation is a few round trips.
func (b *Buckets) Update(ctx context.Context, key lightspeed.BucketKey, fn func(*lightspeed.BucketRecord)) error {
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		rec, err := lockBucket(ctx, tx, key)
		if errors.Is(err, pgx.ErrNoRows) {
			// First use of this account: create the row, then lock it. Two
			// processes arriving together both insert; one waits on the
			// other's insert and then on its lock.
			if _, err := tx.Exec(ctx, `
				INSERT INTO lightspeed_buckets (account_id, client_id) VALUES ($1, $2)
				ON CONFLICT (account_id, client_id) DO NOTHING`, key.AccountID, key.ClientID); err != nil {
				return err
			}
			rec, err = lockBucket(ctx, tx, key)
		}
		if err != nil {
			return err
		}
		fn(&rec)
		_, err = tx.Exec(ctx, `
			UPDATE lightspeed_buckets
			SET level = $3, level_at = $4, size = $5, drip_rate = $6, burst_limit = $7, sent = $8,
			    blocked_until = $9, updated_at = now()
			WHERE account_id = $1 AND client_id = $2`,
			key.AccountID, key.ClientID, rec.Level, nullTime(rec.At), rec.Size, rec.DripRate, rec.BurstLimit,
			rec.Sent, nullTime(rec.BlockedUntil))
		return err
	})
	if err != nil {
		return fmt.Errorf("lightspeed bucket %d/%s: %w", key.AccountID, key.ClientID, err)
	}
	return nil
}

func lockBucket(ctx context.Context, tx pgx.Tx, key lightspeed.BucketKey) (lightspeed.BucketRecord, error) {
	var (
		rec         lightspeed.BucketRecord
		at, blocked *time.Time
	)
	err := tx.QueryRow(ctx, `
		SELECT level, level_at, size, drip_rate, burst_limit, sent, blocked_until
		FROM lightspeed_buckets WHERE account_id = $1 AND client_id = $2
		FOR UPDATE`, key.AccountID, key.ClientID).
		Scan(&rec.Level, &at, &rec.Size, &rec.DripRate, &rec.BurstLimit, &rec.Sent, &blocked)
	if at != nil {
		rec.At = *at
	}
	if blocked != nil {
		rec.BlockedUntil = *blocked
	}
	return rec, err
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
