package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// The sync history: what ran, what each run did to each record, the records
// that failed, and the merchant's fixes (retry, resync, reset, pause). Every
// handler takes the tenant from the session, never from the URL, and every
// read passes its id, so another tenant's run or event is simply not found.
// Changes need an owner or admin; viewers see the same pages read-only.

const (
	routeHistoryRun      = "history.run"
	routeHistoryFailures = "history.failures"
	routeHistoryRetry    = "history.retry"
	routeHistoryRetryAll = "history.retry_all"
	routeHistoryResync   = "history.resync"
	routeHistoryPause    = "history.pause"
	routeHistoryReset    = "history.reset"
	routeHistoryResetDo  = "history.reset.submit"
)

func (s *Server) historyRoutes(e *echo.Echo) {
	e.GET("/history", s.showHistory, s.requireUser).Name = routeHistory
	e.GET("/history/runs/:id", s.showRun, s.requireUser).Name = routeHistoryRun
	e.GET("/history/failed", s.showFailures, s.requireUser).Name = routeHistoryFailures
	e.POST("/history/failed/:id/retry", s.retryFailure, s.requireUser).Name = routeHistoryRetry
	e.POST("/history/failed/retry", s.retryAll, s.requireUser).Name = routeHistoryRetryAll
	e.POST("/history/resync", s.resync, s.requireUser).Name = routeHistoryResync
	e.POST("/history/streams/pause", s.pauseStream, s.requireUser).Name = routeHistoryPause
	e.GET("/history/reset", s.showReset, s.requireUser).Name = routeHistoryReset
	e.POST("/history/reset", s.resetStream, s.requireUser).Name = routeHistoryResetDo
}

// historyPageSize is the rows of one page of runs, events or failures.
const historyPageSize = 50

// runStatusLabels say how a run ended.
var runStatusLabels = map[string]struct{ class, label string }{
	ledger.RunSucceeded: {"connected", "succeeded"},
	ledger.RunPartial:   {"needs_reauth", "some records failed"},
	ledger.RunFailed:    {"needs_reauth", "failed"},
	ledger.RunRunning:   {"new", "running"},
}

// historyTenant is the current tenant for a history page, and whether the
// user may change things.
func (s *Server) historyTenant(c echo.Context) (tenants.Membership, bool, error) {
	cur, err := s.tenantFor(c, false)
	return cur, canEdit(cur.Role), err
}

// streamKeyValue encodes a stream and location in one form value.
func streamKeyValue(stream, location string) string {
	if location == "" {
		return stream
	}
	return stream + "@" + location
}

func parseStreamKey(tenantID, v string) ledger.StreamKey {
	stream, loc, _ := strings.Cut(v, "@")
	return ledger.StreamKey{TenantID: tenantID, Stream: stream, Location: loc}
}

// streamName names a stream (and its shop) for the merchant.
func streamName(stream, location string, shops map[string]string) (label, shop string) {
	label = streamLabels[stream]
	if label == "" {
		label = stream
	}
	if location != "" {
		shop = shops[location]
		if shop == "" {
			shop = "Shop " + location
		}
	}
	return label, shop
}

func (s *Server) showHistory(c echo.Context) error {
	cur, editor, err := s.historyTenant(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	tid := cur.TenantID
	streams, err := s.ledger.Streams(ctx, tid)
	if err != nil {
		return err
	}
	shops, err := s.shopNames(ctx, tid)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	stream, location, outcome, query := q.Get("stream"), q.Get("location"), q.Get("outcome"), strings.TrimSpace(q.Get("q"))
	if !validStream(stream) {
		stream = ""
	}
	if _, ok := runStatusLabels[outcome]; !ok {
		outcome = ""
	}
	p := ui.HistoryPage{FailuresURL: s.url(routeHistoryFailures)}
	if editor {
		p.ResetURL = s.url(routeHistoryReset)
	}
	from, to, notice := parseDates(q.Get("from"), q.Get("to"))
	p.Notice = notice
	p.Filters = ui.HistoryFilters{Action: s.url(routeHistory), Query: query, From: dateValue(from), To: dateValue(time.Time{})}
	if !to.IsZero() {
		p.Filters.To = dateValue(to.AddDate(0, 0, -1))
	}
	p.Filters.Streams = []ui.Option{{Value: "", Label: "All streams"}}
	for _, n := range ledger.StreamNames() {
		p.Filters.Streams = append(p.Filters.Streams, ui.Option{Value: n, Label: streamLabels[n], Selected: n == stream})
	}
	p.Filters.Locations = []ui.Option{{Value: "", Label: "All locations"}}
	p.Filters.Outcomes = []ui.Option{{Value: "", Label: "Any outcome"}}
	for _, o := range []string{ledger.RunSucceeded, ledger.RunPartial, ledger.RunFailed, ledger.RunRunning} {
		p.Filters.Outcomes = append(p.Filters.Outcomes, ui.Option{Value: o, Label: runStatusLabels[o].label, Selected: o == outcome})
	}
	sort.SliceStable(streams, func(i, j int) bool { return streamOrder(streams[i].Stream) < streamOrder(streams[j].Stream) })
	for _, st := range streams {
		label, shop := streamName(st.Stream, st.Location, shops)
		row := ui.HistoryStream{Stream: st.Stream, Label: label, Location: shop, Paused: st.Paused}
		if editor {
			f := &ui.ActionForm{Action: s.url(routeHistoryPause), CSRF: s.csrfToken(c), Variant: "secondary",
				Hidden: []ui.Option{{Value: "stream", Label: streamKeyValue(st.Stream, st.Location)}}}
			if st.Paused {
				f.Label, f.TestID = "Resume", "resume"
				f.Hidden = append(f.Hidden, ui.Option{Value: "paused", Label: "false"})
			} else {
				f.Label, f.TestID = "Pause", "pause"
				f.Hidden = append(f.Hidden, ui.Option{Value: "paused", Label: "true"})
			}
			row.Toggle = f
		}
		p.Streams = append(p.Streams, row)
		if st.Location != "" {
			p.Filters.Locations = append(p.Filters.Locations, ui.Option{Value: st.Location, Label: shop, Selected: st.Location == location})
		}
	}
	next := url.Values{}
	for k, v := range q {
		if k != "after" && k != "before" {
			next[k] = v
		}
	}
	if query != "" {
		p.Searching = true
		evs, err := s.ledger.SearchEvents(ctx, tid, ledger.EventFilter{Query: query, Stream: stream, Location: location,
			From: from, To: to, Before: parseID(q.Get("before")), Limit: historyPageSize + 1})
		if err != nil {
			return err
		}
		if len(evs) > historyPageSize {
			evs = evs[:historyPageSize]
			next.Set("before", strconv.FormatInt(evs[len(evs)-1].ID, 10))
			p.NextURL = s.url(routeHistory) + "?" + next.Encode()
		}
		links, err := s.recordLinks(ctx, tid)
		if err != nil {
			return err
		}
		for _, e := range evs {
			p.Events = append(p.Events, s.eventRow(c, e, links, shops, editor, false))
		}
	} else {
		runs, err := s.ledger.History(ctx, tid, ledger.RunFilter{Stream: stream, Location: location, Status: outcome,
			From: from, To: to, After: ledger.ParseRunPosition(q.Get("after")), Limit: historyPageSize + 1})
		if err != nil {
			return err
		}
		if len(runs) > historyPageSize {
			runs = runs[:historyPageSize]
			next.Set("after", runs[len(runs)-1].Position().String())
			p.NextURL = s.url(routeHistory) + "?" + next.Encode()
		}
		for i := range runs {
			p.Runs = append(p.Runs, s.runRow(&runs[i], shops))
		}
	}
	return s.render(c, http.StatusOK, "Sync history", ui.HistoryBody(p))
}

func validStream(name string) bool {
	for _, n := range ledger.StreamNames() {
		if n == name {
			return true
		}
	}
	return false
}

// parseDates reads the from and to dates (YYYY-MM-DD, UTC) as [from,
// to+1 day); a date that does not parse is dropped with a notice.
func parseDates(from, to string) (time.Time, time.Time, string) {
	var f, t time.Time
	var bad []string
	if from != "" {
		d, err := time.Parse(time.DateOnly, from)
		if err != nil {
			bad = append(bad, from)
		} else {
			f = d
		}
	}
	if to != "" {
		d, err := time.Parse(time.DateOnly, to)
		if err != nil {
			bad = append(bad, to)
		} else {
			t = d.AddDate(0, 0, 1)
		}
	}
	if len(bad) > 0 {
		return f, t, fmt.Sprintf("Not a date: %s. Dates are written 2026-01-31.", strings.Join(bad, ", "))
	}
	return f, t, ""
}

func dateValue(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func parseID(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func (s *Server) runRow(r *ledger.Run, shops map[string]string) ui.HistoryRun {
	label, shop := streamName(r.Key.Stream, r.Key.Location, shops)
	st := runStatusLabels[r.Status]
	row := ui.HistoryRun{ID: strconv.FormatInt(r.ID, 10), URL: s.url(routeHistoryRun, r.ID), Stream: r.Key.Stream,
		Label: label, Location: shop, Trigger: r.Trigger, Started: r.StartedAt.UTC().Format("2 Jan 2006 15:04:05 UTC"),
		Duration: "running", Status: st.class, StatusLbl: st.label, Error: r.Error, Note: r.Note,
		LightspeedCalls: r.APICalls[sync.ProviderLightspeed], SalesforceCalls: r.APICalls[sync.ProviderSalesforce]}
	if r.FinishedAt != nil {
		row.Duration = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
	}
	for _, a := range ledger.Actions() {
		if n := r.Counts[a]; n > 0 {
			row.Counts = append(row.Counts, ui.Count{Action: a, N: n})
		}
	}
	return row
}

func (s *Server) showRun(c echo.Context) error {
	cur, editor, err := s.historyTenant(c)
	if err != nil {
		return err
	}
	p, err := s.runPage(c, cur.TenantID, parseID(c.Param("id")), editor, func(id int64) string { return s.url(routeHistoryRun, id) })
	if err != nil {
		return err
	}
	p.BackURL = s.url(routeHistory)
	return s.render(c, http.StatusOK, "Run "+p.Run.ID, ui.RunBody(p))
}

// runPage is the page of tenantID's run runID, its events after
// the "after" query parameter; runURL is where a run's page is (the
// merchant's or the staff console's). An unknown run is a 404.
func (s *Server) runPage(c echo.Context, tenantID string, runID int64, editor bool, runURL func(int64) string) (ui.RunPage, error) {
	ctx := c.Request().Context()
	run, err := s.ledger.Run(ctx, tenantID, runID)
	if errors.Is(err, ledger.ErrNotFound) {
		return ui.RunPage{}, echo.ErrNotFound
	}
	if err != nil {
		return ui.RunPage{}, err
	}
	shops, err := s.shopNames(ctx, tenantID)
	if err != nil {
		return ui.RunPage{}, err
	}
	evs, err := s.ledger.Events(ctx, tenantID, run.ID, parseID(c.QueryParam("after")), historyPageSize+1)
	if err != nil {
		return ui.RunPage{}, err
	}
	p := ui.RunPage{Run: s.runRow(run, shops)}
	if len(evs) > historyPageSize {
		evs = evs[:historyPageSize]
		p.NextURL = runURL(run.ID) + "?after=" + strconv.FormatInt(evs[len(evs)-1].ID, 10)
	}
	links, err := s.recordLinks(ctx, tenantID)
	if err != nil {
		return ui.RunPage{}, err
	}
	for _, e := range evs {
		e.RunID, e.Stream, e.Location = run.ID, run.Key.Stream, run.Key.Location
		row := s.eventRow(c, e, links, shops, editor, false)
		row.RunURL = runURL(run.ID)
		p.Events = append(p.Events, row)
	}
	return p, nil
}

func (s *Server) showFailures(c echo.Context) error {
	cur, editor, err := s.historyTenant(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	evs, err := s.ledger.Failures(ctx, cur.TenantID, ledger.FailureFilter{Before: parseID(c.QueryParam("before")), Limit: historyPageSize + 1})
	if err != nil {
		return err
	}
	p := ui.FailuresPage{BackURL: s.url(routeHistory)}
	if len(evs) > historyPageSize {
		evs = evs[:historyPageSize]
		p.NextURL = s.url(routeHistoryFailures) + "?before=" + strconv.FormatInt(evs[len(evs)-1].ID, 10)
	}
	if editor && len(evs) > 0 {
		p.RetryAll = &ui.ActionForm{Action: s.url(routeHistoryRetryAll), CSRF: s.csrfToken(c), Label: "Retry all", TestID: "retry-all"}
	}
	shops, err := s.shopNames(ctx, cur.TenantID)
	if err != nil {
		return err
	}
	links, err := s.recordLinks(ctx, cur.TenantID)
	if err != nil {
		return err
	}
	for _, e := range evs {
		p.Events = append(p.Events, s.eventRow(c, e, links, shops, editor, true))
	}
	return s.render(c, http.StatusOK, "Failed records", ui.FailuresBody(p))
}

// recordURLs build links to a record in each system.
type recordURLs struct {
	lightspeed string // the Lightspeed Retail back office
	salesforce string // the org's instance URL; empty when not connected
}

// recordLinks are the tenant's record URL bases: Salesforce records live
// under the org's instance URL.
func (s *Server) recordLinks(ctx context.Context, tenantID string) (recordURLs, error) {
	conns, err := s.tenants.Connections(ctx, tenantID)
	if err != nil {
		return recordURLs{}, err
	}
	out := recordURLs{lightspeed: s.lightspeedWebURL}
	for _, cn := range conns {
		if cn.Provider == tenants.ProviderSalesforce && strings.HasPrefix(cn.InstanceURL, "https://") {
			out.salesforce = strings.TrimRight(cn.InstanceURL, "/")
		}
	}
	return out, nil
}

// lightspeedURL is a record's page in Lightspeed Retail's back office.
func (u recordURLs) lightspeedURL(kind, id string) string {
	if u.lightspeed == "" || parseID(id) <= 0 {
		return ""
	}
	switch kind {
	case ledger.KindCustomer:
		return u.lightspeed + "/?name=customer.views.customer&form_name=view&id=" + id + "&tab=details"
	case ledger.KindSale:
		return u.lightspeed + "/?name=sale.views.sale&form_name=view&id=" + id + "&tab=main"
	}
	return ""
}

func (u recordURLs) salesforceURL(id string) string {
	if u.salesforce == "" || id == "" || strings.ContainsAny(id, "/?#:") {
		return ""
	}
	return u.salesforce + "/" + id
}

// eventRow is the view of one event; failure adds its Retry button.
func (s *Server) eventRow(c echo.Context, e ledger.StoredEvent, links recordURLs, shops map[string]string, editor, failure bool) ui.EventRow {
	label, shop := streamName(e.Stream, e.Location, shops)
	if shop != "" {
		label += " · " + shop
	}
	row := ui.EventRow{ID: strconv.FormatInt(e.ID, 10), Action: e.Action, Kind: e.Kind, Label: e.Label,
		LSID: e.LSID, LSURL: links.lightspeedURL(e.Kind, e.LSID), SFID: e.SFID, SFURL: links.salesforceURL(e.SFID),
		Code: e.Code, Message: e.Message, RunURL: s.url(routeHistoryRun, e.RunID), Stream: label,
		When: e.CreatedAt.UTC().Format("2 Jan 2006 15:04 UTC")}
	if e.Action == ledger.ActionFailed {
		row.Advice = advice(e.Code)
	}
	if changed, ok := e.Detail["changed"].([]any); ok {
		for _, k := range changed {
			if ks, ok := k.(string); ok {
				row.Changed = append(row.Changed, fieldLabel(ks))
			}
		}
	}
	if conflict, ok := e.Detail["conflict"].(map[string]any); ok {
		keys := make([]string, 0, len(conflict))
		for k := range conflict {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := conflict[k].(map[string]any)
			str := func(name string) string { x, _ := v[name].(string); return x }
			winner := "Lightspeed"
			if str("winner") == "salesforce" {
				winner = "Salesforce"
			}
			row.Conflicts = append(row.Conflicts, ui.ConflictRow{Field: fieldLabel(k), Lightspeed: str("lightspeed"),
				Salesforce: str("salesforce"), Winner: winner})
		}
	}
	id := e.RecordID()
	if !editor || id == "" || !validStream(e.Stream) || strings.HasPrefix(id, "pending:") {
		return row
	}
	if failure {
		row.Retry = &ui.ActionForm{Action: s.url(routeHistoryRetry, e.ID), CSRF: s.csrfToken(c), Label: "Retry", TestID: "retry"}
	} else if e.Kind == ledger.KindCustomer || e.Kind == ledger.KindSale {
		row.Resync = &ui.ActionForm{Action: s.url(routeHistoryResync), CSRF: s.csrfToken(c), Label: "Resync",
			Variant: "secondary", TestID: "resync", Hidden: []ui.Option{
				{Value: "stream", Label: streamKeyValue(e.Stream, e.Location)}, {Value: "id", Label: id}}}
	}
	return row
}

// fieldLabel names a canonical field as the mapping screen does.
func fieldLabel(key string) string {
	for _, f := range mapping.CustomerFields(nil) {
		if f.Key == key {
			return f.Label
		}
	}
	for _, f := range mapping.SaleFields() {
		if f.Key == key {
			return f.Label
		}
	}
	return key
}

// advice says what to do about a record the other side refused, by the
// API's error code.
func advice(code string) string {
	if a, ok := adviceByCode[code]; ok {
		return a
	}
	return "Check the record in both systems against the message above, fix it where it is wrong, then retry it."
}

var adviceByCode = map[string]string{
	"INVALID_EMAIL_ADDRESS":                   "Salesforce refuses this email address. Correct it in Lightspeed (or remove it), then retry.",
	"REQUIRED_FIELD_MISSING":                  "Salesforce requires a field this record leaves empty. Fill it in at the source, or map a field to it in the mapping, then retry.",
	"DUPLICATES_DETECTED":                     "A Salesforce duplicate rule blocked this record. Merge the duplicates in Salesforce, or relax the rule for Tandem's user, then retry.",
	"DUPLICATE_VALUE":                         "Another Salesforce record already holds this unique value. Merge or correct the duplicate in Salesforce, then retry.",
	"FIELD_CUSTOM_VALIDATION_EXCEPTION":       "A validation rule in Salesforce refused the record; its message is above. Correct the record at the source, or ask your Salesforce admin to adjust the rule, then retry.",
	"STRING_TOO_LONG":                         "A value is longer than its Salesforce field allows. Shorten it at the source, or choose a longer field (or the truncate transform) in the mapping, then retry.",
	"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "The value is not one of the picklist's allowed values. Add it to the picklist in Salesforce, or map the value in the mapping, then retry.",
	"INVALID_FIELD":                           "The mapping names a field Salesforce does not have (deleted or renamed). Fix the mapping, then retry.",
	"INVALID_FIELD_FOR_INSERT_UPDATE":         "The mapping writes a field Salesforce does not let Tandem write. Fix the mapping or the field's permissions, then retry.",
	"INSUFFICIENT_ACCESS_OR_READONLY":         "Tandem's Salesforce user may not change this record. Give it access (or share the record), then retry.",
	"ENTITY_IS_DELETED":                       "The Salesforce record was deleted. Restore it from the Recycle Bin, or let the next change create a new one.",
	"INVALID_CROSS_REFERENCE_KEY":             "The record points to another record that does not exist in Salesforce. Check the related record (account, product, price book), then retry.",
	"UNABLE_TO_LOCK_ROW":                      "Salesforce was busy with this record. Retry it.",
	"REQUEST_LIMIT_EXCEEDED":                  "The Salesforce org's API allocation is used up. Retry once it frees (within 24 hours).",
}

// retryFailure retries one failed record.
func (s *Server) retryFailure(c echo.Context) error {
	cur, ok, err := s.editorTenant(c)
	if err != nil || !ok {
		return err
	}
	ctx := c.Request().Context()
	e, err := s.ledger.Failure(ctx, cur.TenantID, parseID(c.Param("id")))
	if errors.Is(err, ledger.ErrNotFound) {
		// Another tenant's, or no longer failing: either way not here.
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	k := ledger.StreamKey{TenantID: cur.TenantID, Stream: e.Stream, Location: e.Location}
	if err := s.enqueueRetry(c, k, []string{e.RecordID()}, ledger.TriggerRetry, tenants.ActionSyncRetry,
		map[string]any{"stream": k.Stream, "location": k.Location, "record": e.RecordID(), "label": e.Label}); err != nil {
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("Retrying %s. Its result appears in the sync history in a moment.", orID(e.Label, e.RecordID())))
	return s.backTo(c, s.url(routeHistoryFailures))
}

// retryAll retries every failed record of every stream.
func (s *Server) retryAll(c echo.Context) error {
	cur, ok, err := s.editorTenant(c)
	if err != nil || !ok {
		return err
	}
	total, err := s.retryAllFailed(c, cur.TenantID, nil)
	if err != nil {
		return err
	}
	if total == 0 {
		addFlash(c, ui.FlashInfo, "No failed records to retry.")
	} else {
		addFlash(c, ui.FlashSuccess, fmt.Sprintf("Retrying %s. Results appear in the sync history as they finish.", plural(total, "record")))
	}
	return s.backTo(c, s.url(routeHistoryFailures))
}

// retryAllFailed enqueues a retry of every failed record of every stream
// of tenantID, with its audit entry (detail added to it) in the same
// transaction, and returns how many records it sent.
func (s *Server) retryAllFailed(c echo.Context, tenantID string, detail map[string]any) (int, error) {
	ctx := c.Request().Context()
	streams, err := s.ledger.Streams(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	total := 0
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, st := range streams {
			ids, err := s.ledger.FailedIDs(ctx, st.StreamKey, maxRetryAll)
			if err != nil {
				return err
			}
			if _, err := jobs.Retry(ctx, s.jobs, tx, st.StreamKey, ids, ledger.TriggerRetry); err != nil {
				return err
			}
			total += len(ids)
		}
		d := map[string]any{"all": true, "records": total}
		maps.Copy(d, detail)
		return tenants.AuditTx(ctx, tx, actor(c).Entry(tenantID, tenants.ActionSyncRetry, d))
	})
	return total, err
}

// maxRetryAll bounds the records of one stream one Retry all sends.
const maxRetryAll = 10000

// resync sends one record again now.
func (s *Server) resync(c echo.Context) error {
	_, k, err := s.editorStream(c)
	if err != nil {
		return err
	}
	id := strings.TrimSpace(c.FormValue("id"))
	if id == "" || len(id) > 40 {
		return echo.NewHTTPError(http.StatusBadRequest, "No record to resync.")
	}
	if err := s.enqueueRetry(c, k, []string{id}, ledger.TriggerResync, tenants.ActionSyncResync,
		map[string]any{"stream": k.Stream, "location": k.Location, "record": id}); err != nil {
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("Resyncing record %s. Its result appears in the sync history in a moment.", id))
	return s.backTo(c, s.url(routeHistory))
}

// editorStream is the current tenant, which the user must be allowed to
// change, and the stream its form names: one of the tenant's streams, else
// 404.
func (s *Server) editorStream(c echo.Context) (tenants.Membership, ledger.StreamKey, error) {
	cur, ok, err := s.editorTenant(c)
	if err == nil && !ok {
		err = echo.ErrNotFound
	}
	if err != nil {
		return cur, ledger.StreamKey{}, err
	}
	k := parseStreamKey(cur.TenantID, c.FormValue("stream"))
	if _, err := s.ledger.Stream(c.Request().Context(), k); err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return cur, k, echo.ErrNotFound
		}
		return cur, k, err
	}
	return cur, k, nil
}

// enqueueRetry enqueues a retry job and its audit entry in one transaction.
func (s *Server) enqueueRetry(c echo.Context, k ledger.StreamKey, ids []string, trigger, action string, detail map[string]any) error {
	ctx := c.Request().Context()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := jobs.Retry(ctx, s.jobs, tx, k, ids, trigger); err != nil {
			return err
		}
		return tenants.AuditTx(ctx, tx, actor(c).Entry(k.TenantID, action, detail))
	})
}

// pauseStream pauses or resumes one stream.
func (s *Server) pauseStream(c echo.Context) error {
	cur, k, err := s.editorStream(c)
	if err != nil {
		return err
	}
	paused := c.FormValue("paused") == "true"
	ctx := c.Request().Context()
	action, verb := tenants.ActionSyncResume, "resumed"
	if paused {
		action, verb = tenants.ActionSyncPause, "paused"
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tenants.AuditTx(ctx, tx, actor(c).Entry(cur.TenantID, action,
			map[string]any{"stream": k.Stream, "location": k.Location})); err != nil {
			return err
		}
		return s.ledger.SetPaused(ctx, k, paused)
	})
	if err != nil {
		return err
	}
	shops, err := s.shopNames(ctx, cur.TenantID)
	if err != nil {
		return err
	}
	label, shop := streamName(k.Stream, k.Location, shops)
	if shop != "" {
		label += " (" + shop + ")"
	}
	addFlash(c, ui.FlashSuccess, label+" is "+verb+".")
	return s.backTo(c, s.url(routeHistory))
}

func (s *Server) resetView(c echo.Context, tenantID, chosen, date string) (ui.ResetPage, error) {
	ctx := c.Request().Context()
	streams, err := s.ledger.Streams(ctx, tenantID)
	if err != nil {
		return ui.ResetPage{}, err
	}
	shops, err := s.shopNames(ctx, tenantID)
	if err != nil {
		return ui.ResetPage{}, err
	}
	p := ui.ResetPage{Action: s.url(routeHistoryResetDo), CSRF: s.csrfToken(c), Date: date, BackURL: s.url(routeHistory)}
	sort.SliceStable(streams, func(i, j int) bool { return streamOrder(streams[i].Stream) < streamOrder(streams[j].Stream) })
	for _, st := range streams {
		label, shop := streamName(st.Stream, st.Location, shops)
		if shop != "" {
			label = shop + ": " + label
		}
		v := streamKeyValue(st.Stream, st.Location)
		p.Streams = append(p.Streams, ui.Option{Value: v, Label: label, Selected: v == chosen})
		if v == chosen {
			p.StreamLabel, p.StreamValue = label, v
		}
	}
	return p, nil
}

func (s *Server) showReset(c echo.Context) error {
	cur, ok, err := s.editorTenant(c)
	if err != nil || !ok {
		return err
	}
	p, err := s.resetView(c, cur.TenantID, c.QueryParam("stream"), "")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "Reset a location", ui.ResetBody(p))
}

// resetStream checks the form, asks to confirm, and on confirmation moves
// the stream's cursor back to the date and wakes it.
func (s *Server) resetStream(c echo.Context) error {
	cur, ok, err := s.editorTenant(c)
	if err != nil || !ok {
		return err
	}
	chosen, date := c.FormValue("stream"), strings.TrimSpace(c.FormValue("date"))
	p, err := s.resetView(c, cur.TenantID, chosen, date)
	if err != nil {
		return err
	}
	at, derr := time.Parse(time.DateOnly, date)
	switch {
	case p.StreamValue == "":
		p.Error = "Choose a location or stream to reset."
	case derr != nil:
		p.Error = "Enter the date to import again from, like 2026-01-31."
	case at.After(s.now()):
		p.Error = "The date is in the future: choose today or a day before."
	}
	if p.Error != "" {
		return s.render(c, http.StatusUnprocessableEntity, "Reset a location", ui.ResetBody(p))
	}
	if c.FormValue("confirm") != "yes" {
		p.Confirm = true
		return s.render(c, http.StatusOK, "Reset a location", ui.ResetBody(p))
	}
	k := parseStreamKey(cur.TenantID, p.StreamValue)
	if err := s.resetTo(c, k, at, nil); err != nil {
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("%s will import again everything changed since %s; it starts with its next run.", p.StreamLabel, date))
	return s.backTo(c, s.url(routeHistory))
}

// resetTo moves k's cursor back to at and wakes the stream, with the audit
// entry (detail added to it) in the same transaction: all three happen, or
// none. A run of the stream going now cannot move the cursor past the reset
// afterwards (ledger.CommitPage); it stops, and the stream runs again from
// at.
func (s *Server) resetTo(c echo.Context, k ledger.StreamKey, at time.Time, detail map[string]any) error {
	ctx := c.Request().Context()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// What the position keeps besides the time (a sales import's
		// progress) is read under the reset's lock, so a page committed
		// meanwhile is not undone.
		current, _, err := s.ledger.CursorTx(ctx, tx, k)
		if err != nil {
			return err
		}
		pos, err := sync.CursorAt(k.Stream, current, at)
		if err != nil {
			return err
		}
		d := map[string]any{"stream": k.Stream, "location": k.Location, "from": at.Format(time.DateOnly)}
		maps.Copy(d, detail)
		if err := tenants.AuditTx(ctx, tx, actor(c).Entry(k.TenantID, tenants.ActionSyncReset, d)); err != nil {
			return err
		}
		if err := s.ledger.ResetCursorTx(ctx, tx, k, pos); err != nil {
			return err
		}
		return s.ledger.WakeStreamTx(ctx, tx, k)
	})
}

// backTo saves the flash and redirects.
func (s *Server) backTo(c echo.Context, to string) error {
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, to)
}

func orID(label, id string) string {
	if label != "" {
		return label
	}
	return "record " + id
}
