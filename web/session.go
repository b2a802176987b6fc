package web

import (
	"fmt"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/pgsession"
	"github.com/tandemsync/tandem/web/ui"
)

// Session values.
const (
	sessionUserID   = pgsession.UserIDKey // string UUID of the logged-in user
	sessionTenantID = "tenant_id"         // string UUID of the tenant being worked on
)

// flashKinds are the kinds of flash a session can hold, in display order.
var flashKinds = [...]ui.FlashKind{ui.FlashError, ui.FlashSuccess, ui.FlashInfo}

// session returns the request's session, or nil on stateless routes or
// when it could not be loaded.
func session(c echo.Context) *sessions.Session {
	sess, _ := c.Get(ctxSession).(*sessions.Session)
	return sess
}

// saveSession writes the session and its cookie.
func (s *Server) saveSession(c echo.Context) error {
	sess := session(c)
	if sess == nil {
		return nil
	}
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	return nil
}

// addFlash queues a message for the next page shown; the caller saves the
// session (usually just before redirecting).
func addFlash(c echo.Context, kind ui.FlashKind, msg string) {
	if sess := session(c); sess != nil {
		sess.AddFlash(msg, "flash_"+string(kind))
	}
}

// takeFlashes removes and returns the session's flash messages, saving the
// session when there were any.
func (s *Server) takeFlashes(c echo.Context) ([]ui.Flash, error) {
	sess := session(c)
	if sess == nil {
		return nil, nil
	}
	var out []ui.Flash
	for _, k := range flashKinds {
		for _, m := range sess.Flashes("flash_" + string(k)) {
			if msg, ok := m.(string); ok {
				out = append(out, ui.Flash{Kind: k, Message: msg})
			}
		}
	}
	if len(out) == 0 || sess.IsNew {
		// A session with no stored row got its flashes during this
		// request: there is nothing stored to remove them from, and saving
		// now would give it an id after this page's forms were signed.
		return out, nil
	}
	return out, s.saveSession(c)
}

// startSession logs u in: the session gets a fresh id (the old row is
// deleted, so an id fixed before log-in is worthless), u's id and, when
// given, the tenant to work on. Flashes queued before the call are kept.
func (s *Server) startSession(c echo.Context, u tenants.User, tenantID string) error {
	sess := session(c)
	if sess == nil {
		return fmt.Errorf("web: no session to log %s in to", u.ID)
	}
	if err := s.sessions.Renew(c.Request().Context(), sess); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	sess.Values[sessionUserID] = u.ID
	if tenantID != "" {
		sess.Values[sessionTenantID] = tenantID
	} else {
		delete(sess.Values, sessionTenantID)
	}
	c.Set(ctxUser, &u)
	return s.saveSession(c)
}

// endSession logs out: the session's row is deleted and the browser gets a
// new, anonymous session carrying only msg as a flash.
func (s *Server) endSession(c echo.Context, msg string) error {
	sess := session(c)
	if sess == nil {
		return nil
	}
	if err := s.sessions.Renew(c.Request().Context(), sess); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	clear(sess.Values)
	c.Set(ctxUser, nil)
	addFlash(c, ui.FlashInfo, msg)
	return s.saveSession(c)
}
