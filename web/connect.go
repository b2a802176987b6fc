package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/onboard"
	"github.com/tandemsync/tandem/web/ui"
)

// sessionOAuth is the session key of the OAuth bookkeeping (onboard.Flows):
// pending authorizations with their PKCE verifiers, and recently used
// states. The session lives server-side; the browser holds only its id.
const sessionOAuth = "oauth"

// connectProviders are the providers, in dashboard order.
var connectProviders = []string{onboard.Lightspeed, onboard.Salesforce}

// Route names of the connect pages, per provider.
func routeConnect(p string) string         { return "connect." + p }
func routeConnectStart(p string) string    { return "connect." + p + ".start" }
func routeConnectCallback(p string) string { return "connect." + p + ".callback" }
func routeConnectRefresh(p string) string  { return "connect." + p + ".refresh" }
func routeConnectDrop(p string) string     { return "connect." + p + ".disconnect" }

// connectRoutes installs the connect pages of both providers:
//
//	GET  /connect/{p}             the connection's page (Salesforce: the environment choice)
//	POST /connect/{p}             start: redirect to the provider's consent page
//	GET  /connect/{p}/callback    the provider's redirect back
//	POST /connect/{p}/refresh     read the account again ("Refresh from ...")
//	POST /connect/{p}/disconnect  revoke and forget the tokens
//
// The callback is not behind requireUser: a session that ended at the
// provider gets an explanation rather than a log-in page whose "next"
// would carry the authorization code.
func (s *Server) connectRoutes(e *echo.Echo) {
	for _, p := range connectProviders {
		base := "/connect/" + p
		e.GET(base, s.showConnect(p), s.requireUser).Name = routeConnect(p)
		e.POST(base, s.startConnect(p), s.requireUser).Name = routeConnectStart(p)
		e.GET(base+"/callback", s.connectCallback(p)).Name = routeConnectCallback(p)
		e.POST(base+"/refresh", s.refreshConnection(p), s.requireUser).Name = routeConnectRefresh(p)
		e.POST(base+"/disconnect", s.disconnect(p), s.requireUser).Name = routeConnectDrop(p)
	}
}

// canEdit reports whether role may change connections and settings.
func canEdit(r tenants.Role) bool { return r == tenants.RoleOwner || r == tenants.RoleAdmin }

// tenantFor returns the current membership, or an error page when there is
// none (404) or, when change is set, the role may only view (403).
func (s *Server) tenantFor(c echo.Context, change bool) (tenants.Membership, error) {
	cur, _, ok, err := s.currentTenant(c, currentUser(c))
	switch {
	case err != nil:
		return cur, err
	case !ok:
		return cur, echo.ErrNotFound
	case change && !canEdit(cur.Role):
		return cur, echo.ErrForbidden
	}
	c.Set(ctxTenant, cur.TenantName)
	return cur, nil
}

func actor(c echo.Context) tenants.Actor {
	a := tenants.Actor{IP: c.RealIP()}
	if u := currentUser(c); u != nil {
		a.UserID, a.Email = u.ID, u.Email
	}
	return a
}

func (s *Server) showConnect(p string) echo.HandlerFunc {
	return func(c echo.Context) error {
		cur, err := s.tenantFor(c, false)
		if err != nil {
			return err
		}
		v, err := s.onboard.Connection(c.Request().Context(), cur.TenantID, p)
		if err != nil {
			return err
		}
		page := s.connectPage(c, v, canEdit(cur.Role))
		if v.State == onboard.StateConnected {
			// Connected: the way on is the main action, not reconnecting.
			progress, err := s.setupProgress(c.Request().Context(), cur.TenantID)
			if err != nil {
				return err
			}
			page.NextURL, page.NextLabel = progress.NextURL, progress.NextLabel
			if progress.Complete {
				page.NextURL, page.NextLabel = s.url(routeDashboard), "Next: the dashboard"
			}
		}
		return s.render(c, http.StatusOK, onboard.ProviderName(p), ui.ConnectBody(page))
	}
}

// startConnect sends the browser to the provider's consent page, keeping
// the state and PKCE verifier in the session.
func (s *Server) startConnect(p string) echo.HandlerFunc {
	return func(c echo.Context) error {
		cur, err := s.tenantFor(c, true)
		if err != nil {
			return err
		}
		req := onboard.StartRequest{
			TenantID: cur.TenantID, Provider: p,
			Environment: c.FormValue("environment"), MyDomain: c.FormValue("my_domain"),
		}
		if to := c.FormValue("reset_to"); to != "" {
			if c.FormValue("confirm") != "reset" {
				return s.connectFailurePage(c, cur, &onboard.Failure{
					Provider: p, Reason: onboard.ReasonOtherAccount,
					Title:      "Confirm the reset",
					Message:    "The reset was not confirmed, so nothing was changed. Tick the box below to reset, or sign in to the original account instead.",
					NewAccount: to, NewName: c.FormValue("reset_name"), PreviousName: c.FormValue("previous_name"),
				}, req)
			}
			req.ResetTo = to
		}
		authURL, pending, err := s.onboard.Start(req)
		if f, ok := onboard.AsFailure(err); ok && f.Reason == onboard.ReasonBadInput {
			v, verr := s.onboard.Connection(c.Request().Context(), cur.TenantID, p)
			if verr != nil {
				return verr
			}
			page := s.connectPage(c, v, true)
			page.Environment.Environment, page.Environment.MyDomain = req.Environment, req.MyDomain
			page.Environment.Error, page.Environment.Field = f.Message, f.Field
			return s.render(c, http.StatusUnprocessableEntity, onboard.ProviderName(p), ui.ConnectBody(page))
		}
		if err != nil {
			return s.connectFailurePage(c, cur, err, req)
		}
		flows := onboard.DecodeFlows(sessionString(c, sessionOAuth))
		flows.Begin(pending)
		session(c).Values[sessionOAuth] = flows.Encode()
		if err := s.saveSession(c); err != nil {
			return err
		}
		// 303 from a POST: the browser follows with a GET to the provider.
		return redirect(c, authURL)
	}
}

// connectCallback finishes the authorization. The state is consumed (and
// the session saved) before anything else, so a replay finds it used.
func (s *Server) connectCallback(p string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		q := c.QueryParams()
		if currentUser(c) == nil {
			f := &onboard.Failure{
				Provider: p, Reason: onboard.ReasonStateMissing,
				Title:   "Your Tandem session ended",
				Message: fmt.Sprintf("You were logged out of Tandem while signing in to %s, so Tandem cannot tell which business to connect. Nothing was changed. Log in, then connect %s again from the dashboard.", onboard.ProviderName(p), onboard.ProviderName(p)),
			}
			return s.renderFailure(c, nil, f, onboard.StartRequest{Provider: p}, s.url(routeLogin))
		}
		cur, err := s.tenantFor(c, true)
		if err != nil {
			return err
		}
		// Take the state under the session row's lock: simultaneous
		// callbacks (a double click, a prefetch) must not all find it
		// unused and each exchange the code.
		var pending onboard.Pending
		var terr error
		if err := s.sessions.Update(ctx, session(c), func(v map[any]any) {
			raw, _ := v[sessionOAuth].(string)
			flows := onboard.DecodeFlows(raw)
			pending, terr = flows.Take(p, q.Get("state"), s.now())
			v[sessionOAuth] = flows.Encode()
		}); err != nil {
			return err
		}
		if err := s.saveSession(c); err != nil {
			return err
		}
		retry := onboard.StartRequest{Provider: p, Environment: pending.Environment, MyDomain: pending.MyDomain}
		if terr != nil {
			return s.connectFailurePage(c, cur, terr, retry)
		}
		res, err := s.onboard.Callback(ctx, cur.TenantID, pending, q, actor(c))
		if err != nil {
			return s.connectFailurePage(c, cur, err, retry)
		}
		s.log.InfoContext(ctx, "connected", slog.String("request_id", requestID(c)), slog.String("tenant_id", cur.TenantID),
			slog.String("provider", p), slog.String("account", res.AccountID), slog.Bool("reconnect", res.Reconnected),
			slog.Int("api_calls", res.Discovery.APICalls), slog.Duration("elapsed", res.Elapsed))
		// A reconnect ends the wait of streams parked on this connection.
		if err := s.ledger.Wake(ctx, cur.TenantID, ""); err != nil {
			return err
		}
		addFlash(c, ui.FlashSuccess, connectedMessage(res))
		if p == onboard.Salesforce {
			if err := s.recheckAfterConnect(c); err != nil {
				return err
			}
		}
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeConnect(p)))
	}
}

// recheckAfterConnect runs the Salesforce setup check again after a
// reconnect (or a reset to another org), whose fields and permissions may
// differ from those last checked. A first connect has no check to redo:
// the check runs once the data model is chosen. A check that fails is
// reported, not fatal: the connection itself succeeded.
func (s *Server) recheckAfterConnect(c echo.Context) error {
	st, err := s.loadSetup(c)
	if err != nil {
		return err
	}
	if st.settings.SalesforceCheck == nil {
		return nil
	}
	ctx := c.Request().Context()
	api, err := s.salesforceAPI(ctx, st)
	if err == nil {
		err = s.runCheck(ctx, st, api, nil)
	}
	switch {
	case err != nil:
		addFlash(c, ui.FlashError, "The Salesforce setup check could not run again: "+s.checkProblem(c, st, err))
	case !st.settings.SalesforceCheck.Complete():
		addFlash(c, ui.FlashInfo, fmt.Sprintf("Setup check run again: %d of what Tandem needs is missing in this org.", len(st.settings.SalesforceCheck.Missing())))
	}
	return nil
}

func connectedMessage(res *onboard.Result) string {
	msg := "Connected to " + res.AccountName
	if d := res.Discovery; d != nil && d.Salesforce != nil {
		msg += " as " + d.Salesforce.UserName
	}
	switch {
	case res.Reset:
		msg += ". The previous account's links were reset; your settings are kept."
	case res.Reconnected:
		msg += " again. Your settings are kept."
	default:
		msg += "."
	}
	return msg
}

func (s *Server) refreshConnection(p string) echo.HandlerFunc {
	return func(c echo.Context) error {
		cur, err := s.tenantFor(c, true)
		if err != nil {
			return err
		}
		res, err := s.onboard.RefreshDiscovery(c.Request().Context(), cur.TenantID, p, actor(c))
		if err != nil {
			return s.connectFailurePage(c, cur, err, s.reconnectRequest(c, cur.TenantID, p))
		}
		addFlash(c, ui.FlashSuccess, fmt.Sprintf("Read %s again: %s is up to date.", onboard.ProviderName(p), res.AccountName))
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeConnect(p)))
	}
}

func (s *Server) disconnect(p string) echo.HandlerFunc {
	return func(c echo.Context) error {
		cur, err := s.tenantFor(c, true)
		if err != nil {
			return err
		}
		if c.FormValue("confirm") != "yes" {
			return s.confirmDisconnect(c, cur, p)
		}
		name, err := s.onboard.Disconnect(c.Request().Context(), cur.TenantID, p, actor(c))
		if f, ok := onboard.AsFailure(err); ok && f.Reason == onboard.ReasonRevokeFailed {
			s.log.WarnContext(c.Request().Context(), "disconnect: revoke failed", slog.String("request_id", requestID(c)), slog.String("provider", p))
			addFlash(c, ui.FlashError, f.Message)
			err = nil
		}
		if err != nil {
			return s.connectFailurePage(c, cur, err, onboard.StartRequest{Provider: p})
		}
		addFlash(c, ui.FlashSuccess, fmt.Sprintf("Disconnected from %s. Tandem deleted its access; your settings and history are kept, and Reconnect picks up where you left off.", name))
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeDashboard))
	}
}

// confirmDisconnect answers a Disconnect button: a page that says what
// disconnecting does, whose confirm button sends the form again with
// confirm=yes. Nothing changes until then.
func (s *Server) confirmDisconnect(c echo.Context, cur tenants.Membership, p string) error {
	v, err := s.onboard.Connection(c.Request().Context(), cur.TenantID, p)
	if err != nil {
		return err
	}
	name := onboard.ProviderName(p)
	d := ui.DisconnectConfirm{
		Provider: p, Name: name, Account: v.AccountName,
		Stops: "Customers stop syncing both ways, and sales stop reaching Salesforce, until you reconnect.",
		Confirm: ui.ConnectForm{Action: s.url(routeConnectDrop(p)), CSRF: s.csrfToken(c), Label: "Disconnect " + name,
			TestID: "disconnect-confirm-" + p, Hidden: []ui.HiddenField{{Name: "confirm", Value: "yes"}}},
		CancelURL: s.url(routeConnect(p)),
	}
	return s.render(c, http.StatusOK, "Disconnect "+name, ui.DisconnectConfirmBody(d))
}

// reconnectRequest is the start request that reconnects the tenant's
// existing connection (Salesforce: through the same login host).
func (s *Server) reconnectRequest(c echo.Context, tenantID, p string) onboard.StartRequest {
	req := onboard.StartRequest{Provider: p}
	if p == onboard.Salesforce {
		if v, err := s.onboard.Connection(c.Request().Context(), tenantID, p); err == nil && v.LoginHost != "" {
			req.Environment, req.MyDomain = s.onboard.ReconnectChoice(v.LoginHost)
		}
	}
	return req
}

// connectFailurePage renders err: a *onboard.Failure as its explanation
// (status 400, or 502 when the provider failed), anything else as a 500
// through the error handler.
func (s *Server) connectFailurePage(c echo.Context, cur tenants.Membership, err error, retry onboard.StartRequest) error {
	f, ok := onboard.AsFailure(err)
	if !ok {
		return err
	}
	return s.renderFailure(c, &cur, f, retry, s.url(routeDashboard))
}

func (s *Server) renderFailure(c echo.Context, cur *tenants.Membership, f *onboard.Failure, retry onboard.StartRequest, back string) error {
	ctx := c.Request().Context()
	attrs := []any{slog.String("request_id", requestID(c)), slog.String("provider", f.Provider), slog.String("reason", string(f.Reason))}
	if f.Err != nil {
		attrs = append(attrs, slog.Any("error", f.Err))
	}
	s.log.WarnContext(ctx, "connect failed", attrs...)

	v := ui.ConnectFailure{
		Provider: f.Provider, Reason: string(f.Reason), Title: f.Title, Message: f.Message,
		ProviderName: onboard.ProviderName(f.Provider), ProviderText: f.ProviderText, DashboardURL: back,
	}
	if cur != nil && canEdit(cur.Role) {
		csrf := s.csrfToken(c)
		switch f.Reason {
		case onboard.ReasonNotConfigured, onboard.ReasonNotConnected:
		case onboard.ReasonOtherAccount:
			if f.NewAccount != "" {
				hidden := startFields(retry)
				hidden = append(hidden,
					ui.HiddenField{Name: "reset_to", Value: f.NewAccount},
					ui.HiddenField{Name: "reset_name", Value: f.NewName},
					ui.HiddenField{Name: "previous_name", Value: f.PreviousName})
				v.Reset = &ui.ResetForm{
					ConnectForm: ui.ConnectForm{
						Action: s.url(routeConnectStart(f.Provider)), CSRF: csrf, TestID: "reset",
						Label: "Reset and connect " + cmpOr(f.NewName, "the new account"), Hidden: hidden,
					},
					PreviousName: cmpOr(f.PreviousName, "the previous account"),
					NewName:      cmpOr(f.NewName, "the new account"),
					Clears:       resetClears(f.Provider),
				}
			}
			v.TryAgain = &ui.ConnectForm{Action: s.url(routeConnectStart(f.Provider)), CSRF: csrf, TestID: "try-again",
				Label: "Sign in to the original account", Hidden: startFields(retry)}
		default:
			label := "Try again"
			if f.Reason == onboard.ReasonNeedsReauth {
				label = "Reconnect " + onboard.ProviderName(f.Provider)
			}
			v.TryAgain = &ui.ConnectForm{Action: s.url(routeConnectStart(f.Provider)), CSRF: csrf, TestID: "try-again", Label: label, Hidden: startFields(retry)}
			if f.Provider == onboard.Salesforce && retry.Environment == "" {
				// No environment to repeat: choose it again on the page.
				v.TryAgain, v.TryAgainURL = nil, s.url(routeConnect(f.Provider))
			}
		}
	}
	status := http.StatusBadRequest
	switch f.Reason {
	case onboard.ReasonProviderError, onboard.ReasonUnreachable, onboard.ReasonDiscoveryFailed:
		status = http.StatusBadGateway
	case onboard.ReasonOtherAccount:
		status = http.StatusConflict
	case onboard.ReasonNotConfigured:
		status = http.StatusServiceUnavailable
	}
	if err := s.saveSession(c); err != nil { // flashes queued for this page
		return err
	}
	return s.render(c, status, f.Title, ui.ConnectFailureBody(v), narrow)
}

func startFields(r onboard.StartRequest) []ui.HiddenField {
	if r.Provider != onboard.Salesforce || r.Environment == "" {
		return nil
	}
	return []ui.HiddenField{{Name: "environment", Value: r.Environment}, {Name: "my_domain", Value: r.MyDomain}}
}

func resetClears(p string) []string {
	out := []string{"which records are linked between Lightspeed and Salesforce (they point at the old account)", "where each sync stream resumes"}
	if p == onboard.Lightspeed {
		return append(out, "the stores of the old account and whether each was enabled", "what Tandem read from the old account")
	}
	return append(out, "what Tandem read from the old org")
}

func cmpOr(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// sessionString returns the session's string value at key, or "".
func sessionString(c echo.Context, key string) string {
	if sess := session(c); sess != nil {
		v, _ := sess.Values[key].(string)
		return v
	}
	return ""
}

// Onboard returns the connection service: the setup wizard and tests use
// it for provider clients (LightspeedClient, SalesforceClient) and what
// discovery found.
func (s *Server) Onboard() *onboard.Service { return s.onboard }
