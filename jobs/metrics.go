package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// SyncCollector exports the sync's state across all tenants to Prometheus,
// read from Postgres at each scrape. Labels are bounded: the stream name and
// the provider, never a tenant.
type SyncCollector struct {
	pool    *pgxpool.Pool
	timeout time.Duration

	lag, records, failed, failing, calls, level *prometheus.Desc
}

// NewSyncCollector returns a collector over pool.
func NewSyncCollector(pool *pgxpool.Pool) *SyncCollector {
	return &SyncCollector{
		pool:    pool,
		timeout: 5 * time.Second,
		lag: prometheus.NewDesc("tandem_sync_stream_lag_seconds",
			"Seconds since the last successful run, the worst stream of each name across tenants (paused streams excluded).",
			[]string{"stream"}, nil),
		records: prometheus.NewDesc("tandem_sync_records_24h",
			"Records created, updated or linked by the runs of the last 24 hours.", []string{"stream"}, nil),
		failed: prometheus.NewDesc("tandem_sync_failed_records_24h",
			"Records refused by the runs of the last 24 hours.", []string{"stream"}, nil),
		failing: prometheus.NewDesc("tandem_sync_streams_failing",
			"Streams whose last run failed (failed_runs > 0).", []string{"stream"}, nil),
		calls: prometheus.NewDesc("tandem_api_calls_today",
			"API calls made today (UTC) across tenants.", []string{"provider"}, nil),
		level: prometheus.NewDesc("tandem_api_limit_used_ratio",
			"The highest share of a limit used among tenants' readings of the last hour: Lightspeed's bucket level of its size, Salesforce's daily calls of the allocation.",
			[]string{"provider"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *SyncCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lag, c.records, c.failed, c.failing, c.calls, c.level} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A query that fails is reported
// as an invalid metric, which makes the scrape fail visibly.
func (c *SyncCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		ch <- prometheus.NewInvalidMetric(c.lag, err)
	}
}

func (c *SyncCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	queries := []struct {
		desc *prometheus.Desc
		sql  string
	}{
		{c.lag, `SELECT stream, COALESCE(max(extract(epoch FROM now() - last_success_at)), 0)::float8
			FROM sync_streams WHERE NOT paused AND last_success_at IS NOT NULL GROUP BY stream`},
		{c.records, `SELECT stream, COALESCE(sum(COALESCE((counts->>'created')::bigint, 0) + COALESCE((counts->>'updated')::bigint, 0)
				+ COALESCE((counts->>'linked')::bigint, 0)), 0)::float8
			FROM sync_runs WHERE started_at > now() - interval '24 hours' GROUP BY stream`},
		{c.failed, `SELECT stream, COALESCE(sum(COALESCE((counts->>'failed')::bigint, 0)), 0)::float8
			FROM sync_runs WHERE started_at > now() - interval '24 hours' GROUP BY stream`},
		{c.failing, `SELECT stream, count(*) FILTER (WHERE failed_runs > 0)::float8 FROM sync_streams GROUP BY stream`},
		{c.calls, `SELECT provider, sum(calls)::float8 FROM api_usage WHERE day = (now() AT TIME ZONE 'UTC')::date GROUP BY provider`},
		{c.level, `SELECT provider, max(used / capacity)::float8 FROM api_usage
			WHERE day >= (now() AT TIME ZONE 'UTC')::date - 1 AND capacity > 0 AND measured_at > now() - interval '1 hour'
			GROUP BY provider`},
	}
	for _, q := range queries {
		rows, err := c.pool.Query(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("sync metrics: %w", err)
		}
		for rows.Next() {
			var (
				label string
				v     float64
			)
			if err := rows.Scan(&label, &v); err != nil {
				rows.Close()
				return fmt.Errorf("sync metrics: %w", err)
			}
			ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, v, label)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sync metrics: %w", err)
		}
	}
	return nil
}
