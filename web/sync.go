package web

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/web/ui"
)

// streamLabels name the streams as the merchant reads them.
var streamLabels = map[string]string{
	ledger.CustomersToSalesforce: "Customers, Lightspeed → Salesforce",
	ledger.CustomersToLightspeed: "Customers, Salesforce → Lightspeed",
	ledger.SalesToSalesforce:     "Sales, Lightspeed → Salesforce",
}

// syncView is the dashboard's sync section for tenantID. Streams exist once
// setup is finished; until then it says nothing has synced.
func (s *Server) syncView(c echo.Context, tenantID string, editor bool) (*ui.SyncView, error) {
	ctx := c.Request().Context()
	streams, err := s.ledger.Streams(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if len(streams) == 0 {
		// Setup saves create the streams; this covers a tenant whose
		// setup was finished before streams existed. A read otherwise.
		if err := jobs.EnsureStreams(ctx, s.pool, tenantID); err != nil {
			return nil, err
		}
		if streams, err = s.ledger.Streams(ctx, tenantID); err != nil {
			return nil, err
		}
	}
	v := &ui.SyncView{Ready: len(streams) > 0}
	if !v.Ready {
		return v, nil
	}
	shops, err := s.shopNames(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if editor {
		v.SyncNow = &ui.SyncNowForm{Action: s.url(routeSyncNow), CSRF: s.csrfToken(c)}
	}
	if r := s.e.Reverse(routeHistory); r != "" {
		v.HistoryURL = r
	}
	v.UsageURL = s.url(routeUsage)
	now := s.now()
	sort.SliceStable(streams, func(i, j int) bool {
		return streamOrder(streams[i].Stream) < streamOrder(streams[j].Stream)
	})
	for _, st := range streams {
		v.Streams = append(v.Streams, streamRow(st, shops[st.Location], now))
	}
	return v, nil
}

func streamOrder(name string) int {
	for i, n := range ledger.StreamNames() {
		if n == name {
			return i
		}
	}
	return len(ledger.StreamNames())
}

func streamRow(st ledger.Stream, shop string, now time.Time) ui.StreamRow {
	row := ui.StreamRow{Stream: st.Stream, Label: streamLabels[st.Stream], Location: shop, Hold: st.HoldReason,
		ProgressDone: st.ProgressDone, ProgressTotal: st.ProgressTotal, LastRun: "not yet"}
	if shop == "" && st.Location != "" {
		row.Location = "Shop " + st.Location
	}
	switch {
	case st.Paused:
		row.State, row.StateLbl, row.NextRun = "disconnected", "paused", "paused"
	case st.LastRun == nil:
		row.State, row.StateLbl = "new", "waiting for its first run"
	case st.LastRun.Status == ledger.RunRunning:
		row.State, row.StateLbl = "connected", "running"
	case st.LastRun.Status == ledger.RunFailed:
		row.State, row.StateLbl = "needs_reauth", "last run failed"
		row.Error = st.LastRun.Error
	case st.LastRun.Status == ledger.RunPartial:
		row.State, row.StateLbl = "needs_reauth", "some records failed"
	default:
		row.State, row.StateLbl = "connected", "synced"
	}
	if r := st.LastRun; r != nil {
		row.LastRun = ago(now, r.StartedAt)
		// A quiet stream is probed between runs (jobs/sync probe.go):
		// each probe that found nothing counts as in sync, after the run.
		if st.LastSuccessAt != nil && r.FinishedAt != nil && st.LastSuccessAt.After(*r.FinishedAt) {
			row.Checked = ago(now, *st.LastSuccessAt)
		}
		for _, a := range ledger.Actions() {
			if n := r.Counts[a]; n > 0 {
				row.Counts = append(row.Counts, ui.Count{Action: a, N: n})
			}
		}
	}
	switch {
	case st.Parked:
		row.NextRun = "after reconnecting" // Hold says which connection
	case !st.Paused:
		row.NextRun = until(now, st.NextRunAt)
	}
	return row
}

// shopNames are the tenant's Lightspeed shops by id.
func (s *Server) shopNames(ctx context.Context, tenantID string) (map[string]string, error) {
	locs, err := s.setupStore().Locations(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(locs))
	for _, l := range locs {
		out[l.ShopID] = l.Name
	}
	return out, nil
}

// syncNow starts every stream of the current tenant now.
func (s *Server) syncNow(c echo.Context) error {
	cur, ok, err := s.editorTenant(c)
	if err != nil || !ok {
		return err
	}
	n, err := jobs.SyncNow(c.Request().Context(), s.jobs, nil, s.ledger, cur.TenantID, "", ledger.TriggerSyncNow)
	if err != nil {
		return err
	}
	if n == 0 {
		addFlash(c, ui.FlashInfo, "Nothing to sync yet: finish setup first.")
	} else {
		addFlash(c, ui.FlashSuccess, fmt.Sprintf("Sync started for %s. The dashboard shows each run as it finishes.", plural(n, "stream")))
	}
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, s.url(routeDashboard))
}

// ago says how long before now t was, in words.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds ago", int(d.Seconds()))
	case d < time.Hour:
		return countUnit(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return countUnit(int(d.Hours()), "hour") + " ago"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// until says how long after now t is, in words.
func until(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("in %d seconds", int(d.Seconds()))
	case d < time.Hour:
		return "in " + countUnit(int(d.Minutes()), "minute")
	}
	return "in " + countUnit(int(d.Hours()), "hour")
}

func countUnit(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
