package jobs_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/sql/dbtest"
)

// The sync metrics aggregate across tenants, labelled by stream or
// provider only.
func TestSyncCollector(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	a := signUp(t, pool, "A", "a@a.example")
	b := signUp(t, pool, "B", "b@b.example")
	if _, err := pool.Exec(ctx, strings.NewReplacer("$1", "'"+a+"'", "$2", "'"+b+"'").Replace(`
		INSERT INTO sync_streams (tenant_id, stream, failed_runs, last_success_at) VALUES
			($1, 'customers:ls→sf', 0, now() - interval '60 seconds'),
			($2, 'customers:ls→sf', 2, now() - interval '600 seconds');
		INSERT INTO sync_runs (tenant_id, stream, trigger, status, counts) VALUES
			($1, 'customers:ls→sf', 'schedule', 'partial', '{"created": 5, "linked": 2, "failed": 1}'),
			($2, 'customers:ls→sf', 'schedule', 'succeeded', '{"updated": 3}'),
			($2, 'customers:ls→sf', 'schedule', 'succeeded', '{"created": 100}');
		UPDATE sync_runs SET started_at = now() - interval '2 days' WHERE counts->>'created' = '100';
		INSERT INTO api_usage (tenant_id, provider, day, calls, used, capacity, measured_at) VALUES
			($1, 'lightspeed', (now() AT TIME ZONE 'UTC')::date, 40, 30, 60, now()),
			($2, 'lightspeed', (now() AT TIME ZONE 'UTC')::date, 2, 15, 60, now()),
			($2, 'salesforce', (now() AT TIME ZONE 'UTC')::date, 9, 900, 1000, now());`)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(jobs.NewSyncCollector(pool))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	lag := got["tandem_sync_stream_lag_seconds{stream=customers:ls→sf}"]
	if lag < 600 || lag > 660 {
		t.Errorf("lag = %v, want about 600 (the worst tenant's)", lag)
	}
	delete(got, "tandem_sync_stream_lag_seconds{stream=customers:ls→sf}")
	want := map[string]float64{
		"tandem_api_calls_today{provider=lightspeed}":            42,
		"tandem_api_calls_today{provider=salesforce}":            9,
		"tandem_api_limit_used_ratio{provider=lightspeed}":       0.5,
		"tandem_api_limit_used_ratio{provider=salesforce}":       0.9,
		"tandem_sync_failed_records_24h{stream=customers:ls→sf}": 1,
		"tandem_sync_records_24h{stream=customers:ls→sf}":        10,
		"tandem_sync_streams_failing{stream=customers:ls→sf}":    1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}
