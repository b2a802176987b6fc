package connect

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

// Providers, as api_usage names them.
const (
	ProviderLightspeed = "lightspeed"
	ProviderSalesforce = "salesforce"
)

// DefaultReservePct is the share of a Salesforce org's daily API allocation
// Tandem leaves to the merchant's other tools: syncing pauses when less
// than this is left.
const DefaultReservePct = 10.0

// salesforceReadingTTL is how long a Salesforce usage reading stays
// meaningful: the allocation is a rolling 24 hours, so an older reading
// says nothing about today.
const salesforceReadingTTL = 24 * time.Hour

// Usage keeps each tenant's API usage per provider and UTC day (the
// api_usage table). Calls are counted in memory by the transports it hands
// out, which also keep the latest limit reading of each response, and
// written on Flush: a run's calls cost one upsert per provider, not one per
// call. It is safe for concurrent use.
type Usage struct {
	pool *pgxpool.Pool
	now  func() time.Time

	mu      sync.Mutex
	pending map[usageKey]*usageDelta
}

type usageKey struct {
	tenantID, provider string
	day                time.Time // UTC midnight
}

type usageDelta struct {
	calls int64
	// The latest reading; at is zero when none was seen.
	used, capacity float64
	at             time.Time
}

// NewUsage returns a Usage over pool; now is its clock (nil means time.Now).
func NewUsage(pool *pgxpool.Pool, now func() time.Time) *Usage {
	if now == nil {
		now = time.Now
	}
	return &Usage{pool: pool, now: now, pending: map[usageKey]*usageDelta{}}
}

// Transport returns base wrapped so that every request through it counts as
// one call of tenantID to provider (retries included: each is a call the
// provider meters), and every response's limit headers become the latest
// reading. Put it under the provider client's retry layer, as the
// http.Client's Transport. Counts stay in memory until Flush.
func (u *Usage) Transport(tenantID, provider string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &usageTransport{u: u, tenantID: tenantID, provider: provider, base: base}
}

type usageTransport struct {
	u                  *Usage
	tenantID, provider string
	base               http.RoundTripper
}

func (t *usageTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	var h http.Header
	if err == nil {
		h = resp.Header
	}
	t.u.record(t.tenantID, t.provider, h)
	return resp, err
}

// record counts one call and keeps the reading in h, if any.
func (u *Usage) record(tenantID, provider string, h http.Header) {
	now := u.now()
	var (
		used, capacity float64
		ok             bool
	)
	switch provider {
	case ProviderSalesforce:
		if li, found := salesforce.ParseLimitInfo(h.Get("Sforce-Limit-Info")); found {
			used, capacity, ok = float64(li.Used), float64(li.Max), true
		}
	case ProviderLightspeed:
		if st, found := lightspeed.ParseBucketHeaders(h); found {
			used, capacity, ok = st.Level, st.Size, true
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	d := u.delta(usageKey{tenantID, provider, utcDay(now)})
	d.calls++
	if ok && !now.Before(d.at) {
		d.used, d.capacity, d.at = used, capacity, now
	}
}

// delta returns the pending entry of k, creating it. u.mu is held.
func (u *Usage) delta(k usageKey) *usageDelta {
	d := u.pending[k]
	if d == nil {
		d = &usageDelta{}
		u.pending[k] = d
	}
	return d
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Flush writes every tenant's pending counts and readings. Call it
// periodically and at shutdown.
func (u *Usage) Flush(ctx context.Context) error {
	return u.flush(ctx, func(usageKey) bool { return true })
}

// FlushTenant writes tenantID's pending counts and readings: the engine
// calls it at the end of a run, so the run's calls are on the charts when
// the run is.
func (u *Usage) FlushTenant(ctx context.Context, tenantID string) error {
	return u.flush(ctx, func(k usageKey) bool { return k.tenantID == tenantID })
}

func (u *Usage) flush(ctx context.Context, match func(usageKey) bool) error {
	u.mu.Lock()
	take := map[usageKey]*usageDelta{}
	for k, d := range u.pending {
		if match(k) {
			take[k] = d
			delete(u.pending, k)
		}
	}
	u.mu.Unlock()
	if len(take) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for k, d := range take {
		var used, capacity *float64
		var at *time.Time
		if !d.at.IsZero() {
			used, capacity, at = &d.used, &d.capacity, &d.at
		}
		// The latest reading wins, whichever process flushes last.
		b.Queue(`
			INSERT INTO api_usage (tenant_id, provider, day, calls, used, capacity, measured_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, provider, day) DO UPDATE SET
			    calls = api_usage.calls + EXCLUDED.calls,
			    used = CASE WHEN api_usage.measured_at IS NULL OR EXCLUDED.measured_at >= api_usage.measured_at
			                THEN COALESCE(EXCLUDED.used, api_usage.used) ELSE api_usage.used END,
			    capacity = CASE WHEN api_usage.measured_at IS NULL OR EXCLUDED.measured_at >= api_usage.measured_at
			                THEN COALESCE(EXCLUDED.capacity, api_usage.capacity) ELSE api_usage.capacity END,
			    measured_at = GREATEST(api_usage.measured_at, EXCLUDED.measured_at),
			    updated_at = now()`,
			k.tenantID, k.provider, k.day, d.calls, used, capacity, at)
	}
	err := pgx.BeginFunc(ctx, u.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		// Keep the counts for the next flush rather than lose them.
		u.mu.Lock()
		for k, d := range take {
			p := u.delta(k)
			p.calls += d.calls
			if d.at.After(p.at) {
				p.used, p.capacity, p.at = d.used, d.capacity, d.at
			}
		}
		u.mu.Unlock()
		return fmt.Errorf("api usage: flush: %w", err)
	}
	return nil
}

// DayUsage is one provider's usage by a tenant on one UTC day.
type DayUsage struct {
	Day      time.Time // UTC midnight
	Provider string
	Calls    int64
	// Used and Capacity are the day's latest reading (Salesforce: calls
	// used of the daily allocation; Lightspeed: bucket level of its size);
	// MeasuredAt is zero when none was taken.
	Used, Capacity float64
	MeasuredAt     time.Time
}

// Usage returns tenantID's usage from since's UTC day on, oldest day first
// and, within a day, by provider: the calls-per-day chart.
func (u *Usage) Usage(ctx context.Context, tenantID string, since time.Time) ([]DayUsage, error) {
	rows, err := u.pool.Query(ctx, `
		SELECT day, provider, calls, COALESCE(used, 0), COALESCE(capacity, 0), measured_at
		FROM api_usage WHERE tenant_id = $1 AND day >= $2
		ORDER BY day, provider`, tenantID, utcDay(since))
	if err != nil {
		return nil, fmt.Errorf("api usage of %s: %w", tenantID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DayUsage, error) {
		var (
			d  DayUsage
			at *time.Time
		)
		err := row.Scan(&d.Day, &d.Provider, &d.Calls, &d.Used, &d.Capacity, &at)
		d.Day = utcDay(d.Day)
		if at != nil {
			d.MeasuredAt = *at
		}
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("api usage of %s: %w", tenantID, err)
	}
	return out, nil
}

// SalesforceReserve returns the org's API usage as the latest stored
// Sforce-Limit-Info said: calls used in its rolling 24 hours and the daily
// allocation. ok is false when no reading younger than a day is stored.
// Pending readings count only once flushed.
func (u *Usage) SalesforceReserve(ctx context.Context, tenantID string) (used, max int, ok bool, err error) {
	var (
		fu, fm *float64
		at     *time.Time
	)
	err = u.pool.QueryRow(ctx, `
		SELECT used, capacity, measured_at FROM api_usage
		WHERE tenant_id = $1 AND provider = 'salesforce' AND measured_at IS NOT NULL
		ORDER BY measured_at DESC LIMIT 1`, tenantID).Scan(&fu, &fm, &at)
	if err == pgx.ErrNoRows {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("salesforce reserve of %s: %w", tenantID, err)
	}
	if fu == nil || fm == nil || at == nil || u.now().Sub(*at) > salesforceReadingTTL {
		return 0, 0, false, nil
	}
	return int(*fu), int(*fm), true, nil
}

// BelowReserve reports whether an org that has used used of its max daily
// calls has less than reservePct percent of them left: the point where
// Tandem stops calling, so the merchant's other tools keep their share. An
// unknown allocation (max <= 0) is never below it.
func BelowReserve(used, max int, reservePct float64) bool {
	if max <= 0 {
		return false
	}
	return float64(max-used) < reservePct/100*float64(max)
}

// ReserveCheck returns the check the sync worker runs before each run
// (jobs.ReserveCheck): whether tenantID's Salesforce org is below the
// reserve by the latest stored reading, and the reason to show.
func (u *Usage) ReserveCheck(reservePct float64) func(ctx context.Context, tenantID string) (reached bool, reason string, err error) {
	return func(ctx context.Context, tenantID string) (bool, string, error) {
		used, max, ok, err := u.SalesforceReserve(ctx, tenantID)
		if err != nil || !ok || !BelowReserve(used, max, reservePct) {
			return false, "", err
		}
		return true, fmt.Sprintf("Paused: Salesforce API reserve reached: %d of the org's %d daily API calls are used "+
			"and Tandem leaves the last %g%% to your other tools; syncing resumes as the usage falls.", used, max, reservePct), nil
	}
}

// CallsToday returns every tenant's calls today (UTC) per provider, by
// tenant id: the staff console's list.
func (u *Usage) CallsToday(ctx context.Context) (map[string]map[string]int64, error) {
	rows, err := u.pool.Query(ctx, `SELECT tenant_id::text, provider, calls FROM api_usage WHERE day = $1`, utcDay(u.now()))
	if err != nil {
		return nil, fmt.Errorf("api usage today: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for rows.Next() {
		var (
			id, provider string
			n            int64
		)
		if err := rows.Scan(&id, &provider, &n); err != nil {
			return nil, fmt.Errorf("api usage today: %w", err)
		}
		if out[id] == nil {
			out[id] = map[string]int64{}
		}
		out[id][provider] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("api usage today: %w", err)
	}
	return out, nil
}
