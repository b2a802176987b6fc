package ledger

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Run is one execution of a stream.
type Run struct {
	ID             int64
	Key            StreamKey
	Trigger        string
	Status         string
	MappingVersion int
	Counts         map[string]int
	// APICalls are the calls spent per provider ("lightspeed",
	// "salesforce").
	APICalls map[string]int
	Error    string
	// Note is what the merchant should know of the run besides its status
	// and error: its stream's cursor was reset while it went.
	Note       string
	StartedAt  time.Time
	FinishedAt *time.Time
	// resets is the count of its stream's cursor resets when the run
	// started: its pages move the cursor only while it is unchanged.
	resets int
}

// Records is how many records the run touched (every event but skips).
func (r *Run) Records() int {
	n := 0
	for a, c := range r.Counts {
		if a != ActionSkipped {
			n += c
		}
	}
	return n
}

// StartRun records the start of a run, and the cursor resets it starts
// after. It is read before the run reads the cursor, so a reset the run
// does not see in its position is one its pages see in the count.
func (s *Store) StartRun(ctx context.Context, k StreamKey, trigger string, mappingVersion int) (*Run, error) {
	r := &Run{Key: k, Trigger: trigger, Status: RunRunning, MappingVersion: mappingVersion,
		Counts: map[string]int{}, APICalls: map[string]int{}}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO sync_runs (tenant_id, location, stream, trigger, status, mapping_version)
		VALUES ($1, $2, $3, $4, 'running', $5)
		RETURNING id, started_at, COALESCE((SELECT resets FROM cursors
			WHERE tenant_id = $1 AND location = $2 AND stream = $3), 0)`,
		k.TenantID, k.Location, k.Stream, trigger, mappingVersion).Scan(&r.ID, &r.StartedAt, &r.resets)
	if err != nil {
		return nil, fmt.Errorf("ledger: start run of %s: %w", k, err)
	}
	return r, nil
}

// Event is one record a run touched.
type Event struct {
	Action  string
	Kind    string
	LSID    string
	SFID    string
	Label   string // a name, an email, a ticket number: what people search by
	Code    string // the API's error code, for failures
	Message string
	// Detail holds what changed ({"changed": {...}}) and, for conflicts,
	// both values and the winner. Never a secret.
	Detail map[string]any
}

// Page is what one page of a run commits together.
type Page struct {
	Events []Event
	Links  []Link
	// Cursor, when non-nil, is the stream's new position.
	Cursor *string
	// Progress, when non-nil, is a history import's progress.
	Progress *Progress
	// Unchanged counts records read again with nothing to send (the
	// cursor's overlap, Tandem's own echo): counted as skipped, not stored
	// as events.
	Unchanged int
	// Moves re-point links from a Salesforce record merged away to its
	// survivor; Deletes remove links by Lightspeed id (pending placeholders
	// replaced by the real record).
	Moves   []Move
	Deletes []string
	// Stage, when non-nil, writes to the location's staged import
	// (staging.go), with the cursor that says how far it has come.
	Stage *Stage
}

// Move re-points every link of Kind from FromSF to ToSF. Where the survivor
// already has an active link, the moved active links become aliases.
type Move struct {
	Kind         string
	FromSF, ToSF string
}

// Progress is how far a history import has come.
type Progress struct{ Done, Total int64 }

// CommitPage writes a page's events and links, moves the stream's cursor and
// adds the page's counts to the run, all in one transaction. When the
// cursor was reset since the run started, the page is committed without its
// cursor and progress, and CommitPage returns ErrCursorReset.
func (s *Store) CommitPage(ctx context.Context, run *Run, p Page) error {
	reset := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := upsertLinks(ctx, tx, run.Key.TenantID, p.Links); err != nil {
			return err
		}
		for _, m := range p.Moves {
			if _, err := tx.Exec(ctx, `
				UPDATE links SET sf_id = $4, synced_at = now(),
					state = CASE WHEN state = 'active' AND EXISTS (
						SELECT 1 FROM links o WHERE o.tenant_id = $1 AND o.kind = $2 AND o.sf_id = $4 AND o.state = 'active')
						THEN 'alias' ELSE state END
				WHERE tenant_id = $1 AND kind = $2 AND sf_id = $3`, run.Key.TenantID, m.Kind, m.FromSF, m.ToSF); err != nil {
				return fmt.Errorf("move links: %w", err)
			}
		}
		if len(p.Deletes) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM links WHERE tenant_id = $1 AND ls_id = ANY($2)`,
				run.Key.TenantID, p.Deletes); err != nil {
				return fmt.Errorf("delete links: %w", err)
			}
		}
		if err := insertEvents(ctx, tx, run, p.Events); err != nil {
			return err
		}
		if p.Stage != nil {
			if err := writeStage(ctx, tx, run.Key, p.Stage); err != nil {
				return err
			}
		}
		if p.Cursor != nil {
			k := run.Key
			tag, err := tx.Exec(ctx, moveCursor, k.TenantID, k.Location, k.Stream, *p.Cursor, run.resets)
			if err != nil {
				return fmt.Errorf("move cursor: %w", err)
			}
			// The page's records were written on the other side: its
			// events and links stand, only its position gives way.
			reset = tag.RowsAffected() == 0
		}
		// The progress is the cursor's: a reset one keeps its own.
		if p.Progress != nil && !reset {
			k := run.Key
			if _, err := tx.Exec(ctx, `UPDATE sync_streams SET progress_done = $4, progress_total = $5
				WHERE tenant_id = $1 AND location = $2 AND stream = $3`,
				k.TenantID, k.Location, k.Stream, p.Progress.Done, p.Progress.Total); err != nil {
				return fmt.Errorf("save progress: %w", err)
			}
		}
		counts := maps.Clone(run.Counts)
		for _, e := range p.Events {
			counts[e.Action]++
		}
		if p.Unchanged > 0 {
			counts[ActionSkipped] += p.Unchanged
		}
		raw, err := json.Marshal(counts)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sync_runs SET counts = $3 WHERE tenant_id = $1 AND id = $2`,
			run.Key.TenantID, run.ID, raw); err != nil {
			return fmt.Errorf("count events: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ledger: commit page of run %d: %w", run.ID, err)
	}
	for _, e := range p.Events {
		run.Counts[e.Action]++
	}
	if p.Unchanged > 0 {
		run.Counts[ActionSkipped] += p.Unchanged
	}
	if reset {
		return fmt.Errorf("ledger: commit page of run %d: %w", run.ID, ErrCursorReset)
	}
	return nil
}

// AddLinks writes the links that do not exist yet and leaves existing ones
// as they are: for a cache filled from a read that a newer write elsewhere
// may have overtaken.
func (s *Store) AddLinks(ctx context.Context, tenantID string, links []Link) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return writeLinks(ctx, tx, tenantID, links, false) })
	if err != nil {
		return fmt.Errorf("ledger: add links: %w", err)
	}
	return nil
}

func upsertLinks(ctx context.Context, tx pgx.Tx, tenantID string, links []Link) error {
	return writeLinks(ctx, tx, tenantID, links, true)
}

// writeLinks inserts links, replacing existing ones when replace is set.
func writeLinks(ctx context.Context, tx pgx.Tx, tenantID string, links []Link, replace bool) error {
	if len(links) == 0 {
		return nil
	}
	// Rows are locked in key order: two runs of one tenant at once (its
	// locations' sales streams) upsert shared product and account links,
	// and in the caller's order each could hold a row the other waits for.
	links = slices.SortedFunc(slices.Values(links), func(a, b Link) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.LSID, b.LSID))
	})
	n := len(links)
	kinds, lsIDs, sfIDs, states := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	lsHashes, sfHashes, notes := make([]string, n), make([]string, n), make([]string, n)
	vals := make([]string, n)
	for i, l := range links {
		kinds[i], lsIDs[i], sfIDs[i], states[i] = l.Kind, l.LSID, l.SFID, l.State
		if states[i] == "" {
			states[i] = LinkActive
		}
		lsHashes[i], sfHashes[i], notes[i] = l.LSHash, l.SFHash, l.Note
		v := l.Values
		if v == nil {
			v = map[string]string{}
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		vals[i] = string(raw)
	}
	onConflict := `NOTHING`
	if replace {
		onConflict = `UPDATE SET
			sf_id = EXCLUDED.sf_id, state = EXCLUDED.state, ls_hash = EXCLUDED.ls_hash,
			sf_hash = EXCLUDED.sf_hash, vals = EXCLUDED.vals, note = EXCLUDED.note, synced_at = now()`
	}
	// One statement for the whole page. A page never names one link twice
	// (the engine folds repeats), which ON CONFLICT requires.
	_, err := tx.Exec(ctx, `
		INSERT INTO links (tenant_id, kind, ls_id, sf_id, state, ls_hash, sf_hash, vals, note, synced_at)
		SELECT $1, k, l, s, st, lh, sh, v::jsonb, n, now()
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
			AS t(k, l, s, st, lh, sh, v, n)
		ON CONFLICT (tenant_id, kind, ls_id) DO `+onConflict,
		tenantID, kinds, lsIDs, sfIDs, states, lsHashes, sfHashes, vals, notes)
	if err != nil {
		return fmt.Errorf("upsert links: %w", err)
	}
	return nil
}

// DeleteLink removes one link (a pending placeholder replaced by the real
// Lightspeed id).
func (s *Store) DeleteLink(ctx context.Context, tenantID, kind, lsID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM links WHERE tenant_id = $1 AND kind = $2 AND ls_id = $3`,
		tenantID, kind, lsID); err != nil {
		return fmt.Errorf("ledger: delete link: %w", err)
	}
	return nil
}

// SaveLinks writes links outside a page (a pending placeholder that must be
// durable before the create it stands for).
func (s *Store) SaveLinks(ctx context.Context, tenantID string, links []Link) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return upsertLinks(ctx, tx, tenantID, links) })
	if err != nil {
		return fmt.Errorf("ledger: save links: %w", err)
	}
	return nil
}

func insertEvents(ctx context.Context, tx pgx.Tx, run *Run, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([][]any, len(events))
	for i, e := range events {
		detail := e.Detail
		if detail == nil {
			detail = map[string]any{}
		}
		raw, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("encode event detail: %w", err)
		}
		rows[i] = []any{run.Key.TenantID, run.ID, e.Action, e.Kind, e.LSID, e.SFID, e.Message, string(raw),
			run.Key.Stream, run.Key.Location, e.Label, e.Code}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"sync_events"},
		[]string{"tenant_id", "run_id", "action", "kind", "ls_id", "sf_id", "message", "detail", "stream", "location", "label", "code"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// Schedule says when a finished run's stream runs next: now when More, else
// after Interval, doubled for each idle run in a row up to MaxIdle.
type Schedule struct {
	Interval time.Duration
	MaxIdle  time.Duration
	More     bool
	Idle     bool
	// Probe is, for an idle run, the read that tells whether its stream
	// has anything new (ClaimDue); empty when it cannot be probed. An idle
	// run whose probe differs from the last one's moved its cursor (it
	// read records it had nothing to do for): it counts as the first idle
	// run, so the stream is probed only after a run that read nothing new.
	Probe string
}

// noteCursorReset is the note of a run whose stream's cursor was reset while
// it went (ResetCursorTx, ForgetTx).
const noteCursorReset = "The stream was reset while this run was going (Reset a location, or another account connected); the next run starts again from the reset position."

// FinishRun records the end of a run: its status (RunSucceeded, or
// RunPartial when records failed, RunFailed with runErr), the API calls it
// spent, and when its stream runs next. A run that touched records wakes
// the tenant's backed-off streams. A run whose stream's cursor was reset
// after it started says so in its note, and its stream runs again at once,
// whole: the schedule and probe it brings were made before the reset.
func (s *Store) FinishRun(ctx context.Context, run *Run, runErr error, apiCalls map[string]int, sched Schedule) error {
	status := RunSucceeded
	errText := ""
	switch {
	case runErr != nil:
		status, errText = RunFailed, runErr.Error()
	case run.Counts[ActionFailed] > 0:
		status = RunPartial
	}
	run.Status, run.Error = status, errText
	if apiCalls != nil {
		run.APICalls = apiCalls
	}
	calls, err := json.Marshal(run.APICalls)
	if err != nil {
		return err
	}
	k := run.Key
	reset := false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The stream's row is locked before its cursor is read: a reset
		// (ResetCursorTx, then WakeStreamTx) either committed before, and
		// its count is read below, or wakes the stream after this commits,
		// over the schedule made here. The count is read by a statement of
		// its own: one taking the lock would read it from a snapshot made
		// before a reset it waited for had committed.
		if _, err := tx.Exec(ctx, `SELECT FROM sync_streams WHERE tenant_id = $1 AND location = $2 AND stream = $3 FOR UPDATE`,
			k.TenantID, k.Location, k.Stream); err != nil {
			return err
		}
		var resets int
		if err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT resets FROM cursors
			WHERE tenant_id = $1 AND location = $2 AND stream = $3), 0)`, k.TenantID, k.Location, k.Stream).Scan(&resets); err != nil {
			return err
		}
		reset = resets != run.resets
		note := ""
		if reset {
			note = noteCursorReset
		}
		if _, err := tx.Exec(ctx, `UPDATE sync_runs SET status = $3, error = $4, api_calls = $5, records = $6, note = $7,
			finished_at = now() WHERE tenant_id = $1 AND id = $2`, k.TenantID, run.ID, status, errText, calls, run.Records(), note); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			UPDATE sync_streams SET
				last_run_id = $4,
				next_run_at = CASE
					WHEN $8 OR $11 THEN now()
					WHEN $6 THEN now() + LEAST($5::interval * power(2, LEAST(idle_runs, 20)), $9::interval)
					ELSE now() + $5::interval END,
				idle_runs = CASE WHEN $11 OR NOT $6 THEN 0
					WHEN probe <> '' AND probe <> $10 THEN 1
					ELSE idle_runs + 1 END,
				probe = CASE WHEN $6 AND NOT $11 THEN $10 ELSE '' END,
				probes = 0,
				failed_runs = CASE WHEN $7 THEN failed_runs + 1 ELSE 0 END,
				last_success_at = CASE WHEN $7 THEN last_success_at ELSE now() END
			WHERE tenant_id = $1 AND location = $2 AND stream = $3`,
			k.TenantID, k.Location, k.Stream, run.ID, sched.Interval, sched.Idle, status == RunFailed, sched.More,
			max(sched.MaxIdle, sched.Interval), sched.Probe, reset)
		if err != nil || run.Records() == 0 {
			return err
		}
		// Changes seen on one stream often come with changes on the
		// tenant's others (a sale with a new customer, a customer edited
		// in the shop and then in Salesforce), which a backed-off stream
		// would see up to ten intervals late: wake them. Parked streams
		// wait for their reconnect; a stream running now (its lease held)
		// keeps its lease's end and only starts its backoff over.
		_, err = tx.Exec(ctx, `
			UPDATE sync_streams SET idle_runs = 0,
				next_run_at = CASE WHEN run_lease_until > now() THEN next_run_at ELSE now() END
			WHERE tenant_id = $1 AND NOT (location = $2 AND stream = $3)
			  AND idle_runs > 0 AND next_run_at > now() AND next_run_at <> 'infinity'`,
			k.TenantID, k.Location, k.Stream)
		return err
	})
	if err != nil {
		return fmt.Errorf("ledger: finish run %d: %w", run.ID, err)
	}
	if reset {
		run.Note = noteCursorReset
	}
	return nil
}
