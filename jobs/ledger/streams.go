package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Stream is a stream's schedule and state.
type Stream struct {
	StreamKey
	Paused     bool
	HoldReason string
	// Parked is set while the stream waits for its tenant to reconnect
	// (Park); NextRunAt is then zero.
	Parked        bool
	NextRunAt     time.Time
	IdleRuns      int
	FailedRuns    int
	LastSuccessAt *time.Time
	ProgressDone  int64
	ProgressTotal int64
	// LastRun is the latest finished or running run, nil before the first.
	LastRun *Run
}

// EnsureStreams creates the streams that do not exist yet, due now, and
// removes the tenant's sales streams of locations not listed in keys (a shop
// turned off sends nothing). It drops the streams' probes: the setup it
// follows may change what they read.
func (s *Store) EnsureStreams(ctx context.Context, tenantID string, keys []StreamKey) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		locs := make([]string, 0, len(keys))
		streams := make([]string, 0, len(keys))
		for _, k := range keys {
			locs = append(locs, k.Location)
			streams = append(streams, k.Stream)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO sync_streams (tenant_id, location, stream)
			SELECT $1, l, s FROM unnest($2::text[], $3::text[]) AS t(l, s)
			ON CONFLICT DO NOTHING`, tenantID, locs, streams); err != nil {
			return err
		}
		// The setup may have changed what a stream reads (its customer
		// object, its history window): its next run is whole, and leaves
		// a probe of what it reads now.
		if _, err := tx.Exec(ctx, `UPDATE sync_streams SET probe = '' WHERE tenant_id = $1 AND probe <> ''`,
			tenantID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			DELETE FROM sync_streams WHERE tenant_id = $1 AND stream = $4
			AND (location, stream) NOT IN (SELECT l, s FROM unnest($2::text[], $3::text[]) AS t(l, s))`,
			tenantID, locs, streams, SalesToSalesforce)
		return err
	})
	if err != nil {
		return fmt.Errorf("ledger: ensure streams: %w", err)
	}
	return nil
}

// Streams returns the tenant's streams with their latest run.
func (s *Store) Streams(ctx context.Context, tenantID string) ([]Stream, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT st.location, st.stream, st.paused, st.hold_reason, st.next_run_at = 'infinity',
		       CASE WHEN st.next_run_at <> 'infinity' THEN st.next_run_at END, st.idle_runs, st.failed_runs,
		       st.last_success_at, st.progress_done, st.progress_total,
		       r.id, r.trigger, r.status, r.counts, r.api_calls, r.error, r.started_at, r.finished_at, r.mapping_version
		FROM sync_streams st
		LEFT JOIN LATERAL (
			SELECT * FROM sync_runs r WHERE r.tenant_id = st.tenant_id AND r.location = st.location AND r.stream = st.stream
			ORDER BY r.id DESC LIMIT 1) r ON true
		WHERE st.tenant_id = $1
		ORDER BY st.stream, st.location`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("ledger: list streams: %w", err)
	}
	defer rows.Close()
	var out []Stream
	for rows.Next() {
		st := Stream{StreamKey: StreamKey{TenantID: tenantID}}
		var (
			id                   *int64
			trigger, status, msg *string
			counts, calls        map[string]int
			started              *time.Time
			finished             *time.Time
			version              *int
			next                 *time.Time
		)
		if err := rows.Scan(&st.Location, &st.Stream, &st.Paused, &st.HoldReason, &st.Parked, &next, &st.IdleRuns,
			&st.FailedRuns, &st.LastSuccessAt, &st.ProgressDone, &st.ProgressTotal,
			&id, &trigger, &status, &counts, &calls, &msg, &started, &finished, &version); err != nil {
			return nil, fmt.Errorf("ledger: list streams: %w", err)
		}
		if next != nil {
			st.NextRunAt = *next
		}
		if id != nil {
			st.LastRun = &Run{ID: *id, Key: st.StreamKey, Trigger: *trigger, Status: *status, Counts: counts,
				APICalls: calls, Error: *msg, StartedAt: *started, FinishedAt: finished, MappingVersion: *version}
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Stream returns one stream.
func (s *Store) Stream(ctx context.Context, k StreamKey) (Stream, error) {
	all, err := s.Streams(ctx, k.TenantID)
	if err != nil {
		return Stream{}, err
	}
	for _, st := range all {
		if st.Location == k.Location && st.Stream == k.Stream {
			return st, nil
		}
	}
	return Stream{}, ErrNotFound
}

// SetPaused pauses or resumes a stream.
func (s *Store) SetPaused(ctx context.Context, k StreamKey, paused bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE sync_streams SET paused = $4, next_run_at = now()
		WHERE tenant_id = $1 AND location = $2 AND stream = $3`, k.TenantID, k.Location, k.Stream, paused)
	if err != nil {
		return fmt.Errorf("ledger: pause %s: %w", k, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Hold records why a stream cannot run now (empty clears it). Every run
// ends with one, mostly clearing a reason already clear: that writes no row.
func (s *Store) Hold(ctx context.Context, k StreamKey, reason string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sync_streams SET hold_reason = $4
		WHERE tenant_id = $1 AND location = $2 AND stream = $3 AND hold_reason <> $4`,
		k.TenantID, k.Location, k.Stream, reason); err != nil {
		return fmt.Errorf("ledger: hold %s: %w", k, err)
	}
	return nil
}

// Park holds every stream of the tenant until Wake, with the reason shown:
// a connection needs reconnecting, and polling cannot help.
func (s *Store) Park(ctx context.Context, tenantID, reason string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sync_streams SET next_run_at = 'infinity', hold_reason = $2 WHERE tenant_id = $1`,
		tenantID, reason); err != nil {
		return fmt.Errorf("ledger: park streams: %w", err)
	}
	return nil
}

// WakeStreamTx makes one stream due now, in the caller's transaction, to
// run whole: its idle backoff and its probe are dropped, since what made it
// (a reset cursor) may be what the probe would read past.
func (s *Store) WakeStreamTx(ctx context.Context, tx pgx.Tx, k StreamKey) error {
	tag, err := tx.Exec(ctx, `UPDATE sync_streams SET next_run_at = now(), idle_runs = 0, probe = '', probes = 0,
		hold_reason = CASE WHEN next_run_at = 'infinity' THEN '' ELSE hold_reason END
		WHERE tenant_id = $1 AND location = $2 AND stream = $3`, k.TenantID, k.Location, k.Stream)
	if err != nil {
		return fmt.Errorf("ledger: wake %s: %w", k, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Wake makes a tenant's streams due now (Sync now, a change announced, a
// reconnect) and clears their idle backoff. An empty stream wakes them all.
func (s *Store) Wake(ctx context.Context, tenantID, stream string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sync_streams SET next_run_at = now(), idle_runs = 0,
		hold_reason = CASE WHEN next_run_at = 'infinity' THEN '' ELSE hold_reason END
		WHERE tenant_id = $1 AND ($2 = '' OR stream = $2)`, tenantID, stream); err != nil {
		return fmt.Errorf("ledger: wake streams: %w", err)
	}
	return nil
}

// Claim is a stream the scheduler claimed (ClaimDue).
type Claim struct {
	StreamKey
	// Until is the claim's end: the stream is due again then unless a run
	// or FinishProbes moves it.
	Until time.Time
	// Probe is set when the stream may be probed rather than run: the read
	// its last idle run left (Schedule.Probe), for a stream idle twice in a
	// row, held by nothing, and probed fewer than maxProbes times since its
	// last whole run. Empty means run it.
	Probe string
}

// ClaimDue takes up to limit due, unpaused streams, moves each one's next
// run to now+lease (so a lost job is retried after the lease), and returns
// them, with the probe of those that may be probed (Claim.Probe; maxProbes
// 0 never probes). A tenant whose connection needs reconnecting is not
// claimed: its streams wait (Park) until the reconnect wakes them. It runs
// in the caller's transaction so the jobs it enqueues commit with the
// claim. Only due rows are read, through the partial index on next_run_at.
//
// A probe is offered only after two idle runs in a row: the second started
// at least an interval after the last record its stream read, so every
// record up to its cursor was visible to it (the reads' overlap covers
// only records that show up late by seconds), and a probe needs to look
// only past the cursor.
func ClaimDue(ctx context.Context, tx pgx.Tx, now time.Time, lease time.Duration, limit, maxProbes int) ([]Claim, error) {
	// The claimed rows are updated by ctid through an array, which plans as
	// a TID scan: a join on the key would hash the whole table each pass.
	rows, err := tx.Query(ctx, `
		UPDATE sync_streams s SET next_run_at = $1 + $2::interval
		WHERE s.ctid = ANY(ARRAY(
			SELECT st.ctid FROM sync_streams st
			WHERE st.next_run_at <= $1 AND NOT st.paused
			ORDER BY st.next_run_at
			LIMIT $3
			FOR UPDATE OF st SKIP LOCKED))
		RETURNING s.tenant_id, s.location, s.stream, s.next_run_at,
			CASE WHEN s.idle_runs >= 2 AND s.probes < $4 AND s.hold_reason = '' THEN s.probe ELSE '' END`,
		now, lease, limit, maxProbes)
	if err != nil {
		return nil, fmt.Errorf("ledger: claim due streams: %w", err)
	}
	defer rows.Close()
	var out []Claim
	for rows.Next() {
		var c Claim
		if err := rows.Scan(&c.TenantID, &c.Location, &c.Stream, &c.Until, &c.Probe); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FinishProbes records probes that found nothing, as an idle run would:
// each stream backs off (sched's Interval doubled per idle run, up to
// MaxIdle) and counts as in sync now. A stream whose claim changed since
// (a Sync now, a wake, a run that took it) is left as that made it.
func (s *Store) FinishProbes(ctx context.Context, idle []Claim, sched Schedule) error {
	if len(idle) == 0 {
		return nil
	}
	tenants := make([]string, len(idle))
	locs := make([]string, len(idle))
	streams := make([]string, len(idle))
	until := make([]time.Time, len(idle))
	for i, c := range idle {
		tenants[i], locs[i], streams[i], until[i] = c.TenantID, c.Location, c.Stream, c.Until
	}
	if _, err := s.pool.Exec(ctx, `
		UPDATE sync_streams s SET
			next_run_at = now() + LEAST($5::interval * power(2, LEAST(s.idle_runs, 20)), $6::interval),
			idle_runs = s.idle_runs + 1,
			probes = s.probes + 1,
			last_success_at = now()
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS c(tenant_id, location, stream, until)
		WHERE s.tenant_id = c.tenant_id AND s.location = c.location AND s.stream = c.stream
		  AND s.next_run_at = c.until`,
		tenants, locs, streams, until, sched.Interval, max(sched.MaxIdle, sched.Interval)); err != nil {
		return fmt.Errorf("ledger: finish probes: %w", err)
	}
	return nil
}

// Run returns one of the tenant's runs.
func (s *Store) Run(ctx context.Context, tenantID string, id int64) (*Run, error) {
	r := &Run{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT location, stream, trigger, status, counts, api_calls, error, note, started_at, finished_at, mapping_version
		FROM sync_runs WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(
		&r.Key.Location, &r.Key.Stream, &r.Trigger, &r.Status, &r.Counts, &r.APICalls, &r.Error, &r.Note, &r.StartedAt, &r.FinishedAt, &r.MappingVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read run: %w", err)
	}
	r.Key.TenantID = tenantID
	return r, nil
}

// Events returns a run's events in order (at most limit, after the event id
// after), for the tenant.
func (s *Store) Events(ctx context.Context, tenantID string, runID int64, after int64, limit int) ([]StoredEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, action, kind, ls_id, sf_id, label, code, message, detail, created_at
		FROM sync_events WHERE tenant_id = $1 AND run_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
		tenantID, runID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: read events: %w", err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		var e StoredEvent
		if err := rows.Scan(&e.ID, &e.Action, &e.Kind, &e.LSID, &e.SFID, &e.Label, &e.Code, &e.Message, &e.Detail, &e.CreatedAt); err != nil {
			return nil, err
		}
		e.RunID = runID
		out = append(out, e)
	}
	return out, rows.Err()
}

// StoredEvent is an event as stored.
type StoredEvent struct {
	Event
	ID    int64
	RunID int64
	// Stream and Location are the run's; set by the history reads.
	Stream    string
	Location  string
	CreatedAt time.Time
}
