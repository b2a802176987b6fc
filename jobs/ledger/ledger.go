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
// commit (or after a reset to no position).
func (s *Store) Cursor(ctx context.Context, k StreamKey) (string, bool, error) {
	return readCursor(ctx, s.pool, k, "")
}

// CursorTx is Cursor in the caller's transaction, the row locked until it
// ends: for a reset made from the position (ResetCursorTx), which no page
// of a run may move in between.
func (s *Store) CursorTx(ctx context.Context, tx pgx.Tx, k StreamKey) (string, bool, error) {
	return readCursor(ctx, tx, k, " FOR UPDATE")
}

func readCursor(ctx context.Context, q querier, k StreamKey, lock string) (string, bool, error) {
	var pos string
	err := q.QueryRow(ctx, `SELECT position FROM cursors WHERE tenant_id = $1 AND location = $2 AND stream = $3`+lock,
		k.TenantID, k.Location, k.Stream).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("ledger: read cursor of %s: %w", k, err)
	}
	return pos, pos != "", nil
}

// ErrCursorReset is returned by CommitPage when the stream's cursor was
// reset after the run started: the page's events and links are committed
// (its writes happened), its cursor is not, and the run must stop, so the
// next run starts from the reset position.
var ErrCursorReset = errors.New("ledger: the stream's cursor was reset during the run")

// ResetCursorTx sets a stream's cursor in the caller's transaction, so its
// next run starts from position (empty: from the start, as before its first
// run). It counts the reset on the cursor's row, which a run in flight
// started with an older count of: its pages no longer move the cursor
// (CommitPage), and its end schedules the stream again at once (FinishRun).
// The row is kept even for an empty position, or a run's next page would
// insert its own position as if there had been no reset.
func (s *Store) ResetCursorTx(ctx context.Context, tx pgx.Tx, k StreamKey, position string) error {
	if _, err := tx.Exec(ctx, `
		INSERT INTO cursors (tenant_id, location, stream, position, resets, updated_at) VALUES ($1, $2, $3, $4, 1, now())
		ON CONFLICT (tenant_id, location, stream) DO UPDATE SET
			position = EXCLUDED.position, resets = cursors.resets + 1, updated_at = now()`,
		k.TenantID, k.Location, k.Stream, position); err != nil {
		return fmt.Errorf("ledger: reset cursor of %s: %w", k, err)
	}
	return nil
}

// ForgetTx, in the caller's transaction, forgets what ties the tenant to
// the records of its connected accounts, when one is replaced by another
// (or by nothing): every identity link, every stream's probe, and every
// stream's position, each cursor reset to the start and counted as a reset
// (ResetCursorTx), so that a run going now cannot put its own position
// back with its next page and skip, in the new account, everything before
// it.
func ForgetTx(ctx context.Context, tx pgx.Tx, tenantID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM links WHERE tenant_id = $1`, tenantID); err != nil {
		return fmt.Errorf("ledger: forget links: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE cursors SET position = '', resets = resets + 1, updated_at = now() WHERE tenant_id = $1`,
		tenantID); err != nil {
		return fmt.Errorf("ledger: forget cursors: %w", err)
	}
	// A probe reads past the forgotten position: the streams' next runs
	// are whole, and leave probes of the new account.
	if _, err := tx.Exec(ctx, `UPDATE sync_streams SET probe = '', probes = 0 WHERE tenant_id = $1 AND probe <> ''`,
		tenantID); err != nil {
		return fmt.Errorf("ledger: forget probes: %w", err)
	}
	return nil
}

// moveCursor sets a run's stream's cursor unless it was reset since the run
// started (Run.resets): ON CONFLICT DO UPDATE checks its condition against
// the row's latest version, after waiting for a reset that holds it, so a
// reset committed at any point before is seen. No row is written then.
const moveCursor = `
	INSERT INTO cursors (tenant_id, location, stream, position, updated_at) VALUES ($1, $2, $3, $4, now())
	ON CONFLICT (tenant_id, location, stream) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
	WHERE cursors.resets = $5`
