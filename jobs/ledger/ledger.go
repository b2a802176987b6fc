// Package ledger is the sync engine's bookkeeping: links (the identity map
// between Lightspeed and Salesforce records), cursors, streams (the
// scheduler's state), runs and events. It owns the tables links, cursors,
// sync_streams, sync_runs and sync_events, and a sales import's staging
// (bulk_sales); everything else reads and writes
// them through this package.
//
// A run commits its work one page at a time: the page's events, the links it
// made or moved and the stream's cursor in one transaction (CommitPage), so a
// crash anywhere resumes from the last committed cursor and the writes it
// replays are idempotent upserts. Every query takes the tenant id.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Stream names. They are stored as they are and shown to people.
const (
	CustomersToSalesforce = "customers:ls→sf"
	CustomersToLightspeed = "customers:sf→ls"
	SalesToSalesforce     = "sales:ls→sf"
)

// StreamNames lists the streams in the order screens show them.
func StreamNames() []string {
	return []string{CustomersToSalesforce, CustomersToLightspeed, SalesToSalesforce}
}

// Link kinds.
const (
	KindCustomer    = "customer"
	KindSale        = "sale"
	KindSaleLine    = "sale_line"
	KindPayment     = "payment"
	KindProduct     = "product"
	KindPricebookEn = "pricebook_entry"
)

// Event actions.
const (
	ActionCreated  = "created"
	ActionUpdated  = "updated"
	ActionLinked   = "linked"
	ActionSkipped  = "skipped"
	ActionConflict = "conflict"
	ActionFailed   = "failed"
)

// Actions lists the event actions in the order counts are shown.
func Actions() []string {
	return []string{ActionCreated, ActionUpdated, ActionLinked, ActionSkipped, ActionConflict, ActionFailed}
}

// Triggers: what started a run.
const (
	TriggerSchedule = "schedule"
	TriggerSyncNow  = "sync now"
	TriggerResync   = "resync"
	TriggerRetry    = "retry"
)

// Run states.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	// RunPartial is a run that finished with some records failed.
	RunPartial = "partial"
)

// ErrNotFound is returned for a run or stream that does not exist for the
// tenant asked about.
var ErrNotFound = errors.New("ledger: not found")

// Store reads and writes the ledger. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// New returns a Store over pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, now: time.Now} }

// StreamKey names one stream of one tenant; Location is the Lightspeed shop
// id for sales and empty for customers.
type StreamKey struct {
	TenantID string
	Location string
	Stream   string
}

func (k StreamKey) String() string {
	if k.Location == "" {
		return k.Stream
	}
	return k.Stream + " (shop " + k.Location + ")"
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Cursor returns a stream's committed position, and false before its first
// commit.
func (s *Store) Cursor(ctx context.Context, k StreamKey) (string, bool, error) {
	var pos string
	err := s.pool.QueryRow(ctx, `SELECT position FROM cursors WHERE tenant_id = $1 AND location = $2 AND stream = $3`,
		k.TenantID, k.Location, k.Stream).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("ledger: read cursor of %s: %w", k, err)
	}
	return pos, true, nil
}

// ResetCursor sets (or, with an empty position, deletes) a stream's cursor,
// so its next run starts from there.
func (s *Store) ResetCursor(ctx context.Context, k StreamKey, position string) error {
	var err error
	if position == "" {
		_, err = s.pool.Exec(ctx, `DELETE FROM cursors WHERE tenant_id = $1 AND location = $2 AND stream = $3`,
			k.TenantID, k.Location, k.Stream)
	} else {
		_, err = s.pool.Exec(ctx, upsertCursor, k.TenantID, k.Location, k.Stream, position)
	}
	if err != nil {
		return fmt.Errorf("ledger: reset cursor of %s: %w", k, err)
	}
	return nil
}

const upsertCursor = `
	INSERT INTO cursors (tenant_id, location, stream, position, updated_at) VALUES ($1, $2, $3, $4, now())
	ON CONFLICT (tenant_id, location, stream) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`
