package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/integrations/salesforce"
)

// This file holds the reads of the sync history pages: runs, newest first,
// with filters; a search over events; and the records whose latest attempt
// failed. Every list is paginated by keyset (the position of the last row
// shown), never by offset, and each query has an index that serves its
// filter and its order (migration 0009), so a page costs the same on the
// millionth event as on the first.

// RunFilter selects runs. Zero fields do not filter.
type RunFilter struct {
	Stream   string
	Location string
	Status   string // RunSucceeded, RunPartial, RunFailed, RunRunning
	// From and To bound the start of the runs: [From, To).
	From, To time.Time
	// After is the position of the last run of the previous page: the page
	// holds the runs started before it.
	After RunPosition
	Limit int
}

// RunPosition is a run's place in the history: its start, then its id.
type RunPosition struct {
	StartedAt time.Time
	ID        int64
}

// IsZero reports whether p is the start of the history.
func (p RunPosition) IsZero() bool { return p.ID == 0 }

// String encodes p for a URL ("<unix µs>-<id>"); ParseRunPosition reads it.
func (p RunPosition) String() string {
	if p.IsZero() {
		return ""
	}
	return strconv.FormatInt(p.StartedAt.UnixMicro(), 10) + "-" + strconv.FormatInt(p.ID, 10)
}

// ParseRunPosition reads a position made by RunPosition.String; anything
// else is the start of the history.
func ParseRunPosition(s string) RunPosition {
	us, id, ok := strings.Cut(s, "-")
	if !ok {
		return RunPosition{}
	}
	u, err1 := strconv.ParseInt(us, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return RunPosition{}
	}
	return RunPosition{StartedAt: time.UnixMicro(u), ID: n}
}

// Position is r's place in the history.
func (r *Run) Position() RunPosition { return RunPosition{StartedAt: r.StartedAt, ID: r.ID} }

// where builds a query's conditions and arguments; $1 is the tenant.
type where struct {
	conds []string
	args  []any
}

func newWhere(tenantID string) *where {
	return &where{conds: []string{"tenant_id = $1"}, args: []any{tenantID}}
}

// add appends a condition whose "?" placeholders take args in order.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

// stream filters by stream and location (of table alias p). A location
// alone is a shop's sales; a customer stream has no location, which is
// said, so the (stream, location, ...) indexes serve it.
func (w *where) stream(p, stream, location string) {
	if location != "" && stream == "" {
		stream = SalesToSalesforce
	}
	if stream != "" {
		w.add(p+"stream = ?", stream)
	}
	if location != "" || (stream != "" && stream != SalesToSalesforce) {
		w.add(p+"location = ?", location)
	}
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

// History returns the tenant's runs, newest first, that match f.
func (s *Store) History(ctx context.Context, tenantID string, f RunFilter) ([]Run, error) {
	w := newWhere(tenantID)
	w.stream("", f.Stream, f.Location)
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if !f.From.IsZero() {
		w.add("started_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		w.add("started_at < ?", f.To)
	}
	if !f.After.IsZero() {
		w.add("(started_at, id) < (?, ?)", f.After.StartedAt, f.After.ID)
	}
	w.args = append(w.args, limit(f.Limit))
	rows, err := s.pool.Query(ctx, `SELECT id, location, stream, trigger, status, counts, api_calls, error, note, started_at, finished_at, mapping_version
		FROM sync_runs WHERE `+w.String()+`
		ORDER BY started_at DESC, id DESC LIMIT $`+strconv.Itoa(len(w.args)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: list runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) {
		r := Run{Key: StreamKey{TenantID: tenantID}}
		err := row.Scan(&r.ID, &r.Key.Location, &r.Key.Stream, &r.Trigger, &r.Status, &r.Counts, &r.APICalls, &r.Error,
			&r.Note, &r.StartedAt, &r.FinishedAt, &r.MappingVersion)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: list runs: %w", err)
	}
	return runs, nil
}

// EventFilter selects events. Zero fields do not filter.
type EventFilter struct {
	// Query is a Lightspeed or Salesforce id (exact), or a part of a name,
	// an email or a ticket number (three characters at least; shorter is
	// matched as an id only).
	Query    string
	Stream   string
	Location string
	From, To time.Time
	// Before is the id of the last event of the previous page.
	Before int64
	Limit  int
}

// MinLabelQuery is the shortest text searched inside labels: shorter text
// has no trigram to look up and would read every event.
const MinLabelQuery = 3

// SearchEvents returns the tenant's events, newest first, that match f.
func (s *Store) SearchEvents(ctx context.Context, tenantID string, f EventFilter) ([]StoredEvent, error) {
	w := newWhere(tenantID)
	if q := strings.TrimSpace(f.Query); q != "" {
		ids := []string{q}
		if salesforce.ValidID(q) {
			if long, err := salesforce.ID18(q); err == nil && long != q {
				ids = append(ids, long)
			}
		}
		match := "(ls_id = ANY(?) OR sf_id = ANY(?)"
		args := []any{ids, ids}
		// A Salesforce id is in no label; looking for it there would read
		// the trigram index for nothing.
		sfID := len(ids) > 1 || (salesforce.ValidID(q) && strings.ContainsAny(q, "0123456789"))
		if len([]rune(q)) >= MinLabelQuery && !sfID {
			match += " OR lower(label) LIKE ?"
			args = append(args, "%"+likeEscape(strings.ToLower(q))+"%")
		}
		w.add(match+")", args...)
	}
	w.stream("", f.Stream, f.Location)
	if !f.From.IsZero() {
		w.add("created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		w.add("created_at < ?", f.To)
	}
	if f.Before > 0 {
		w.add("id < ?", f.Before)
	}
	w.args = append(w.args, limit(f.Limit))
	return s.scanEvents(ctx, `SELECT `+eventColumns+` FROM sync_events WHERE `+w.String()+`
		ORDER BY id DESC LIMIT $`+strconv.Itoa(len(w.args)), w.args...)
}

// FailureFilter selects failed records.
type FailureFilter struct {
	Stream   string
	Location string
	// Before is the event id of the last failure of the previous page.
	Before int64
	Limit  int
}

// Failures returns the tenant's failed records, newest first: each
// record's latest failure, unless the record was written successfully (or
// failed again) since. A record is its Lightspeed id, or its Salesforce id
// when it has none yet (a Salesforce-born customer), within one stream.
func (s *Store) Failures(ctx context.Context, tenantID string, f FailureFilter) ([]StoredEvent, error) {
	w := newWhere(tenantID)
	w.conds[0] = "e.tenant_id = $1"
	w.add("e.action = 'failed'")
	w.stream("e.", f.Stream, f.Location)
	if f.Before > 0 {
		w.add("e.id < ?", f.Before)
	}
	w.args = append(w.args, limit(f.Limit))
	return s.scanEvents(ctx, `SELECT `+prefixed("e.", eventColumns)+` FROM sync_events e
		WHERE `+w.String()+` AND `+unresolved+`
		ORDER BY e.id DESC LIMIT $`+strconv.Itoa(len(w.args)), w.args...)
}

// unresolved holds for a failed event e that no later event of the same
// record and stream supersedes (a skip is no attempt, so it does not). Each
// branch is one probe of an index on (tenant_id, ls_id|sf_id, id).
const unresolved = `
	(e.ls_id = '' OR NOT EXISTS (SELECT 1 FROM sync_events l
		WHERE l.tenant_id = e.tenant_id AND l.ls_id = e.ls_id AND l.id > e.id
		  AND l.kind = e.kind AND l.stream = e.stream AND l.location = e.location AND l.action <> 'skipped'))
	AND (e.ls_id <> '' OR NOT EXISTS (SELECT 1 FROM sync_events l
		WHERE l.tenant_id = e.tenant_id AND l.sf_id = e.sf_id AND l.id > e.id
		  AND l.kind = e.kind AND l.stream = e.stream AND l.location = e.location AND l.action <> 'skipped'))`

// FailedIDs returns the ids Retry all resends for stream k: the record id
// (RecordID) of every unresolved failure, at most limit of them.
func (s *Store) FailedIDs(ctx context.Context, k StreamKey, limit int) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	before := int64(0)
	for len(out) < limit {
		page, err := s.Failures(ctx, k.TenantID, FailureFilter{Stream: k.Stream, Location: k.Location, Before: before, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if id := e.RecordID(); id != "" && !seen[id] && len(out) < limit {
				seen[id] = true
				out = append(out, id)
			}
		}
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	return out, nil
}

// RecordID is the id a resend of e's stream takes: the Salesforce id for
// customers:sf→ls, the Lightspeed id otherwise.
func (e StoredEvent) RecordID() string {
	if e.Stream == CustomersToLightspeed {
		return e.SFID
	}
	return e.LSID
}

// Failure returns one unresolved failure of the tenant by event id, or
// ErrNotFound.
func (s *Store) Failure(ctx context.Context, tenantID string, eventID int64) (StoredEvent, error) {
	evs, err := s.scanEvents(ctx, `SELECT `+prefixed("e.", eventColumns)+` FROM sync_events e
		WHERE e.tenant_id = $1 AND e.id = $2 AND e.action = 'failed' AND `+unresolved, tenantID, eventID)
	if err != nil {
		return StoredEvent{}, err
	}
	if len(evs) == 0 {
		return StoredEvent{}, ErrNotFound
	}
	return evs[0], nil
}

const eventColumns = `id, run_id, stream, location, action, kind, ls_id, sf_id, label, code, message, detail, created_at`

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (s *Store) scanEvents(ctx context.Context, sql string, args ...any) ([]StoredEvent, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: read events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredEvent, error) {
		var e StoredEvent
		err := row.Scan(&e.ID, &e.RunID, &e.Stream, &e.Location, &e.Action, &e.Kind, &e.LSID, &e.SFID, &e.Label,
			&e.Code, &e.Message, &e.Detail, &e.CreatedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: read events: %w", err)
	}
	return evs, nil
}

// limit bounds a page: default 50, at most 500.
func limit(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, 500)
}

// likeEscape escapes LIKE's wildcards in s.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// RetryableFailures returns the Lightspeed ids of stream k's records whose
// latest attempt failed with one of codes before olderThan, and that failed
// fewer than maxAttempts times in the last day: what the worker sends again
// on its own. At most limit, newest first.
func (s *Store) RetryableFailures(ctx context.Context, k StreamKey, codes []string, olderThan time.Time, maxAttempts, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT ON (e.ls_id) e.ls_id FROM sync_events e
		WHERE e.tenant_id = $1 AND e.stream = $2 AND e.location = $3 AND e.action = 'failed' AND e.ls_id <> ''
		  AND e.code = ANY($4) AND e.created_at < $5 AND `+unresolved+`
		  AND (SELECT count(*) FROM sync_events f WHERE f.tenant_id = e.tenant_id AND f.ls_id = e.ls_id
		       AND f.stream = e.stream AND f.location = e.location AND f.action = 'failed'
		       AND f.created_at > now() - interval '1 day') < $6
		ORDER BY e.ls_id, e.id DESC
		LIMIT $7`, k.TenantID, k.Stream, k.Location, codes, olderThan, maxAttempts, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: retryable failures of %s: %w", k, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
