package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// The staff console's view of a tenant's sync: the same runs, events and
// failed records the merchant sees, read-only, and the fixes staff make on
// the merchant's behalf (retry, resync, reset), each saying why. Every view
// and action is written to the tenant's audit log with who did it.

const (
	routeStaffRun      = "staff.run"
	routeStaffFailures = "staff.failures"
	routeStaffRetryAll = "staff.retry_all"
	routeStaffResync   = "staff.resync"
	routeStaffReset    = "staff.reset"
)

// staffSyncRoutes installs the staff sync pages and actions; the GET pages
// are listed so that other methods answer 404 like unknown paths.
func (s *Server) staffSyncRoutes(e *echo.Echo) (getPaths, postPaths []string) {
	e.GET("/staff/tenants/:id/runs/:run", s.showStaffRun, s.requireStaff).Name = routeStaffRun
	e.GET("/staff/tenants/:id/failed", s.showStaffFailures, s.requireStaff).Name = routeStaffFailures
	e.POST("/staff/tenants/:id/retry", s.staffRetryAll, s.requireStaff).Name = routeStaffRetryAll
	e.POST("/staff/tenants/:id/resync", s.staffResync, s.requireStaff).Name = routeStaffResync
	e.POST("/staff/tenants/:id/reset", s.staffReset, s.requireStaff).Name = routeStaffReset
	return []string{"/staff/tenants/:id/runs/:run", "/staff/tenants/:id/failed"},
		[]string{"/staff/tenants/:id/retry", "/staff/tenants/:id/resync", "/staff/tenants/:id/reset"}
}

// staffTenant reads the tenant the URL names and records the staff
// member's view of page in its audit log before anything is shown.
func (s *Server) staffTenant(c echo.Context, page string) (tenants.Tenant, error) {
	ctx := c.Request().Context()
	t, err := s.tenants.Tenant(ctx, c.Param("id"))
	if err != nil {
		return t, err // ErrNotFound becomes a 404 page
	}
	u := currentUser(c)
	var detail map[string]any
	if page != "" {
		detail = map[string]any{"page": page}
	}
	err = s.tenants.Audit(ctx, tenants.Entry{TenantID: t.ID, ActorUserID: u.ID, ActorEmail: u.Email,
		Action: tenants.ActionStaffViewTenant, Detail: detail, IP: c.RealIP()})
	return t, err
}

// staffHealth fills the list's health columns: connections, last success
// per stream, failures of the last 24 hours and today's API calls.
func (s *Server) staffHealth(ctx context.Context, rows []ui.StaffTenantRow, ids []string) error {
	health, err := s.ledger.Health(ctx)
	if err != nil {
		return err
	}
	calls, err := connect.NewUsage(s.pool, s.now).CallsToday(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	for i := range rows {
		r := &rows[i]
		if r.Connections, err = s.connectionStates(ctx, ids[i]); err != nil {
			return err
		}
		if h := health[ids[i]]; h != nil {
			r.Failures24h = h.Failed24h
			r.Failing = h.Failed24h > 0
			for _, st := range h.Streams {
				label, _ := streamName(st.Stream, st.Location, nil)
				if st.Location != "" {
					label += " (shop " + st.Location + ")"
				}
				when := "never synced"
				if st.LastSuccessAt != nil {
					when = "synced " + ago(now, *st.LastSuccessAt)
				}
				if st.FailedRuns > 0 {
					r.Failing = true
					when += fmt.Sprintf(", %s failed since", plural(st.FailedRuns, "run"))
				}
				r.Streams = append(r.Streams, label+": "+when)
			}
		}
		if c := calls[ids[i]]; len(c) > 0 {
			r.Calls = fmt.Sprintf("Lightspeed %s · Salesforce %s", ui.Thousands(c[connect.ProviderLightspeed]), ui.Thousands(c[connect.ProviderSalesforce]))
		}
	}
	return nil
}

// matchTenant reports whether a tenant matches a staff search: its name,
// owner email or id contains q, ignoring case.
func matchTenant(t tenants.TenantSummary, q string) bool {
	q = strings.ToLower(q)
	return strings.Contains(strings.ToLower(t.Name), q) || strings.Contains(strings.ToLower(t.OwnerEmail), q) ||
		strings.Contains(t.ID, q)
}

// staffSyncView is the sync section of the staff tenant page.
func (s *Server) staffSyncView(c echo.Context, tenantID string) (ui.StaffSync, error) {
	ctx := c.Request().Context()
	v := ui.StaffSync{
		FailuresURL: s.url(routeStaffFailures, tenantID), RiverURL: riverUIPrefix, CSRF: s.csrfToken(c),
		RetryAllAction: s.url(routeStaffRetryAll, tenantID), ResyncAction: s.url(routeStaffResync, tenantID),
		ResetAction: s.url(routeStaffReset, tenantID),
	}
	streams, err := s.ledger.Streams(ctx, tenantID)
	if err != nil {
		return v, err
	}
	shops, err := s.shopNames(ctx, tenantID)
	if err != nil {
		return v, err
	}
	now := s.now()
	sort.SliceStable(streams, func(i, j int) bool { return streamOrder(streams[i].Stream) < streamOrder(streams[j].Stream) })
	for _, st := range streams {
		label, shop := streamName(st.Stream, st.Location, shops)
		row := ui.StaffStreamRow{Label: label, Location: shop, Hold: st.HoldReason, FailedRuns: st.FailedRuns, Paused: st.Paused, LastSuccess: "never"}
		if st.LastSuccessAt != nil {
			row.LastSuccess = ago(now, *st.LastSuccessAt)
		}
		v.Streams = append(v.Streams, row)
		opt := label
		if shop != "" {
			opt = shop + ": " + label
		}
		v.StreamOptions = append(v.StreamOptions, ui.Option{Value: streamKeyValue(st.Stream, st.Location), Label: opt})
	}
	runs, err := s.ledger.History(ctx, tenantID, ledger.RunFilter{Limit: 20})
	if err != nil {
		return v, err
	}
	for i := range runs {
		r := s.runRow(&runs[i], shops)
		r.URL = s.url(routeStaffRun, tenantID, runs[i].ID)
		v.Runs = append(v.Runs, r)
	}
	fails, err := s.ledger.Failures(ctx, tenantID, ledger.FailureFilter{Limit: historyPageSize})
	if err != nil {
		return v, err
	}
	v.Failures = len(fails)
	if v.Jobs, err = s.riverJobs(ctx, tenantID); err != nil {
		return v, err
	}
	return v, nil
}

// riverJobs are the tenant's latest River jobs (their args name it). Args
// hold ids and stream names, never a token.
func (s *Server) riverJobs(ctx context.Context, tenantID string) ([]ui.RiverJobRow, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, kind, state::text, attempt, max_attempts, COALESCE(finalized_at, scheduled_at), left(args::text, 200),
		       COALESCE(errors[array_length(errors, 1)]->>'error', '')
		FROM river_job WHERE args->>'tenant_id' = $1 ORDER BY id DESC LIMIT 50`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("staff: river jobs: %w", err)
	}
	defer rows.Close()
	var out []ui.RiverJobRow
	for rows.Next() {
		var (
			id            int64
			kind, state   string
			attempt, maxA int
			when          time.Time
			args, lastErr string
		)
		if err := rows.Scan(&id, &kind, &state, &attempt, &maxA, &when, &args, &lastErr); err != nil {
			return nil, fmt.Errorf("staff: river jobs: %w", err)
		}
		out = append(out, ui.RiverJobRow{ID: strconv.FormatInt(id, 10), Kind: kind, State: state,
			Attempts: fmt.Sprintf("%d of %d", attempt, maxA), When: when.UTC().Format(timeFormat), Args: args, Error: lastErr})
	}
	return out, rows.Err()
}

// showStaffRun is a run's events, read-only.
func (s *Server) showStaffRun(c echo.Context) error {
	t, err := s.staffTenant(c, "run "+c.Param("run"))
	if err != nil {
		return err
	}
	p, err := s.runPage(c, t.ID, parseID(c.Param("run")), false, func(id int64) string { return s.url(routeStaffRun, t.ID, id) })
	if err != nil {
		return err
	}
	p.BackURL = s.url(routeStaffTenant, t.ID)
	return s.render(c, http.StatusOK, t.Name+": run "+p.Run.ID, ui.RunBody(p))
}

// showStaffFailures is the tenant's failed records, read-only.
func (s *Server) showStaffFailures(c echo.Context) error {
	t, err := s.staffTenant(c, "failed records")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	evs, err := s.ledger.Failures(ctx, t.ID, ledger.FailureFilter{Before: parseID(c.QueryParam("before")), Limit: historyPageSize + 1})
	if err != nil {
		return err
	}
	p := ui.FailuresPage{BackURL: s.url(routeStaffTenant, t.ID)}
	if len(evs) > historyPageSize {
		evs = evs[:historyPageSize]
		p.NextURL = s.url(routeStaffFailures, t.ID) + "?before=" + strconv.FormatInt(evs[len(evs)-1].ID, 10)
	}
	shops, err := s.shopNames(ctx, t.ID)
	if err != nil {
		return err
	}
	links, err := s.recordLinks(ctx, t.ID)
	if err != nil {
		return err
	}
	for _, e := range evs {
		row := s.eventRow(c, e, links, shops, false, true)
		row.RunURL = s.url(routeStaffRun, t.ID, e.RunID)
		p.Events = append(p.Events, row)
	}
	return s.render(c, http.StatusOK, t.Name+": failed records", ui.FailuresBody(p))
}

// staffAction reads the tenant and the why every staff action needs; a
// missing why sends the staff member back with the reason.
func (s *Server) staffAction(c echo.Context) (tenants.Tenant, string, bool, error) {
	t, err := s.tenants.Tenant(c.Request().Context(), c.Param("id"))
	if err != nil {
		return t, "", false, err
	}
	why := strings.TrimSpace(c.FormValue("why"))
	if why == "" || len(why) > 500 {
		addFlash(c, ui.FlashError, "Say why (up to 500 characters): it is recorded in the business's activity log.")
		return t, "", false, s.backTo(c, s.url(routeStaffTenant, t.ID))
	}
	return t, why, true, nil
}

// staffStreamAction is staffAction for an action on one stream: the
// tenant's stream the form names, else 404.
func (s *Server) staffStreamAction(c echo.Context) (tenants.Tenant, ledger.StreamKey, string, bool, error) {
	t, why, ok, err := s.staffAction(c)
	if err != nil || !ok {
		return t, ledger.StreamKey{}, why, ok, err
	}
	k := parseStreamKey(t.ID, c.FormValue("stream"))
	if _, err := s.ledger.Stream(c.Request().Context(), k); err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return t, k, why, false, echo.ErrNotFound
		}
		return t, k, why, false, err
	}
	return t, k, why, true, nil
}

// staffRetryAll retries every failed record of the tenant.
func (s *Server) staffRetryAll(c echo.Context) error {
	t, why, ok, err := s.staffAction(c)
	if err != nil || !ok {
		return err
	}
	total, err := s.retryAllFailed(c, t.ID, map[string]any{"why": why, "staff": true})
	if err != nil {
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("Retrying %s for %s.", plural(total, "failed record"), t.Name))
	return s.backTo(c, s.url(routeStaffTenant, t.ID))
}

// staffResync sends one record of the tenant again.
func (s *Server) staffResync(c echo.Context) error {
	t, k, why, ok, err := s.staffStreamAction(c)
	if err != nil || !ok {
		return err
	}
	id := strings.TrimSpace(c.FormValue("id"))
	if id == "" || len(id) > 40 {
		return echo.NewHTTPError(http.StatusBadRequest, "No record to resync.")
	}
	if err := s.enqueueRetry(c, k, []string{id}, ledger.TriggerResync, tenants.ActionSyncResync,
		map[string]any{"stream": k.Stream, "location": k.Location, "record": id, "why": why, "staff": true}); err != nil {
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("Resyncing record %s for %s.", id, t.Name))
	return s.backTo(c, s.url(routeStaffTenant, t.ID))
}

// staffReset moves a stream of the tenant back to a date and wakes it.
func (s *Server) staffReset(c echo.Context) error {
	t, k, why, ok, err := s.staffStreamAction(c)
	if err != nil || !ok {
		return err
	}
	date := strings.TrimSpace(c.FormValue("date"))
	at, derr := time.Parse(time.DateOnly, date)
	switch {
	case derr != nil:
		addFlash(c, ui.FlashError, "Enter the date to import again from, like 2026-01-31.")
	case at.After(s.now()):
		addFlash(c, ui.FlashError, "The date is in the future: choose today or a day before.")
	case c.FormValue("confirm") != "yes":
		addFlash(c, ui.FlashError, "Tick the confirmation to reset the stream.")
	default:
		if err := s.resetTo(c, k, at, map[string]any{"why": why, "staff": true}); err != nil {
			return err
		}
		addFlash(c, ui.FlashSuccess, fmt.Sprintf("%s will import again from %s for %s.", streamLabels[k.Stream], date, t.Name))
	}
	return s.backTo(c, s.url(routeStaffTenant, t.ID))
}
