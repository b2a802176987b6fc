package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/jobs/ledger"
)

// Sizes of the benchmark's history: one merchant with a million events.
const (
	benchRuns         = 20_000
	benchEventsPerRun = 50 // 1,000,000 events
	benchCustomers    = 200_000
)

// seedBenchHistory gives tenantID benchRuns runs over three streams and
// benchRuns × benchEventsPerRun events (COPY), one in twenty failed, and
// returns the id of a run in the middle.
func seedBenchHistory(b *testing.B, a *app, tenantID string) int64 {
	b.Helper()
	ctx := context.Background()
	l := ledger.New(a.pool)
	if err := l.EnsureStreams(ctx, tenantID, []ledger.StreamKey{
		{TenantID: tenantID, Stream: ledger.CustomersToSalesforce},
		{TenantID: tenantID, Stream: ledger.CustomersToLightspeed},
		{TenantID: tenantID, Stream: ledger.SalesToSalesforce, Location: "1"},
	}); err != nil {
		b.Fatal(err)
	}
	// Runs a minute apart over the last two weeks, newest last.
	rows, err := a.pool.Query(ctx, `
		INSERT INTO sync_runs (tenant_id, location, stream, trigger, status, counts, api_calls, started_at, finished_at)
		SELECT $1, CASE WHEN i % 3 = 2 THEN '1' ELSE '' END,
		       (ARRAY['customers:ls→sf', 'customers:sf→ls', 'sales:ls→sf'])[i % 3 + 1], 'schedule',
		       CASE WHEN i % 10 = 0 THEN 'partial' ELSE 'succeeded' END,
		       '{"updated": 47, "failed": 3}', '{"lightspeed": 2, "salesforce": 1}',
		       now() - ($2 - i) * interval '1 minute', now() - ($2 - i) * interval '1 minute' + interval '2 seconds'
		FROM generate_series(1, $2) AS i
		RETURNING id, stream, location`, tenantID, benchRuns)
	if err != nil {
		b.Fatal(err)
	}
	type runRow struct {
		id               int64
		stream, location string
	}
	runs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (runRow, error) {
		var x runRow
		err := r.Scan(&x.id, &x.stream, &x.location)
		return x, err
	})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	_, err = a.pool.CopyFrom(ctx, pgx.Identifier{"sync_events"},
		[]string{"tenant_id", "run_id", "stream", "location", "action", "kind", "ls_id", "sf_id", "label", "code", "message"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if n == len(runs)*benchEventsPerRun {
				return nil, nil
			}
			r := runs[n/benchEventsPerRun]
			c := (n * 7919) % benchCustomers
			action, code, msg := "updated", "", ""
			if n%20 == 0 {
				action, code, msg = "failed", "INVALID_EMAIL_ADDRESS", "INVALID_EMAIL_ADDRESS: invalid email address"
			}
			kind := "customer"
			if r.stream == ledger.SalesToSalesforce {
				kind = "sale"
			}
			n++
			return []any{tenantID, r.id, r.stream, r.location, action, kind, fmt.Sprint(c + 1),
				fmt.Sprintf("003%012dAAA", c+1), fmt.Sprintf("Customer %d <c%d@example.com>", c+1, c+1), code, msg}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.pool.Exec(ctx, "ANALYZE sync_runs; ANALYZE sync_events"); err != nil {
		b.Fatal(err)
	}
	return runs[len(runs)/2].id
}

// BenchmarkHistoryPages measures the history pages of a merchant with a
// million events, through the whole stack (session, queries, templ, HTTP),
// and reports each page's p50 and p99 besides ns/op.
func BenchmarkHistoryPages(b *testing.B) {
	a := newApp(b)
	tn, _ := a.signUp("Shop", "me@shop.example")
	start := time.Now()
	mid := seedBenchHistory(b, a, tn.ID)
	b.Logf("seeded %d runs and %d events in %s", benchRuns, benchRuns*benchEventsPerRun, time.Since(start).Round(time.Millisecond))
	br := a.browser()
	if p := br.logIn("me@shop.example", "a good password"); p.path() != "/dashboard" {
		b.Fatalf("log-in landed at %s", p.path())
	}
	older := br.get("/history").doc.Find("[data-testid=next-page]").AttrOr("href", "")
	if older == "" {
		b.Fatal("the history has no second page")
	}
	for _, page := range []struct{ name, path string }{
		{"runs", "/history"},
		{"runs_page2", older},
		{"runs_stream", "/history?stream=" + ledger.CustomersToLightspeed},
		{"runs_location", "/history?location=1"},
		{"runs_outcome", "/history?outcome=partial"},
		{"runs_dates", "/history?from=" + time.Now().AddDate(0, 0, -8).Format(time.DateOnly) + "&to=" + time.Now().AddDate(0, 0, -7).Format(time.DateOnly)},
		{"search_name", "/history?q=Customer+123457"},
		{"search_email", "/history?q=c98765@example"},
		{"search_ls_id", "/history?q=4242"},
		{"search_sf_id", "/history?q=003000000004242AAA"},
		{"run", fmt.Sprintf("/history/runs/%d", mid)},
		{"failed", "/history/failed"},
	} {
		b.Run(page.name, func(b *testing.B) {
			var took []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				req, err := http.NewRequest(http.MethodGet, a.srv.URL+page.path, nil)
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				res, err := br.c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				took = append(took, time.Since(t0))
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", page.path, res.StatusCode)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
