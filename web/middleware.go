package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
)

// Keys of the request-scoped values middleware stores on echo.Context.
const (
	ctxSession = "tandem.session"
	ctxUser    = "tandem.user"
	ctxCSRF    = "tandem.csrf"
	ctxTenant  = "tandem.tenant" // name of the tenant being viewed, for the header
	// ctxFormTenant is the id of the tenant being worked on, which forms
	// shown in this response carry.
	ctxFormTenant = "tandem.form_tenant"
)

// requestID returns the id the RequestID middleware gave this request.
func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// assignRequestID gives the request an id, quoted on error pages and in
// every log line: the client's X-Request-Id (a proxy's, say) when it is a
// short safe token, else a fresh random one. Anything else a client sends
// would be echoed into pages and logs unchecked.
func assignRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rid := c.Request().Header.Get(echo.HeaderXRequestID)
		if !safeRequestID(rid) {
			b := make([]byte, 16)
			_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
			rid = hex.EncodeToString(b)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, rid)
		return next(c)
	}
}

// safeRequestID reports whether id is 1 to 64 ASCII letters, digits, dots,
// dashes or underscores.
func safeRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// observe logs every request and records its metrics. It hands errors to
// the central error handler itself, so that the status it records is the
// one the client got.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		res, req := c.Response(), c.Request()
		route := c.Path() // a registered pattern, or "" when nothing matched
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, req.Method, res.Status, elapsed)

		level := s.reqLevel
		if stateless(c) {
			level = slog.LevelDebug // probes and assets would drown the rest
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestID(c)),
			slog.String("method", req.Method),
			// The path only: query strings may carry OAuth codes or tokens.
			slog.String("path", req.URL.Path),
			slog.String("route", route),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("duration", elapsed),
			slog.String("ip", c.RealIP()),
		}
		if u := currentUser(c); u != nil {
			attrs = append(attrs, slog.String("user_id", u.ID))
		}
		s.log.LogAttrs(req.Context(), level, "request", attrs...)
		return nil
	}
}

// secureHeaders sets the headers every response should carry.
func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// See contentSecurityPolicy: form-action includes the providers'
		// consent pages, where Connect buttons lead.
		h.Set("Content-Security-Policy", s.csp)
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// loadSession reads the session, if any, into the context.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if stateless(c) {
			return next(c)
		}
		sess, err := s.sessions.Get(c.Request(), sessionCookie)
		if err != nil {
			return err
		}
		c.Set(ctxSession, sess)
		return next(c)
	}
}

// loadUser puts the session's user, if any, into the context. A session
// whose user was deleted counts as logged out.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := session(c)
		if sess == nil {
			return next(c)
		}
		id, _ := sess.Values[sessionUserID].(string)
		if id == "" {
			return next(c)
		}
		u, err := s.tenants.User(c.Request().Context(), id)
		switch {
		case err == nil:
			c.Set(ctxUser, &u)
		case !errors.Is(err, tenants.ErrNotFound):
			return err
		}
		return next(c)
	}
}

// currentUser returns the logged-in user, or nil.
func currentUser(c echo.Context) *tenants.User {
	u, _ := c.Get(ctxUser).(*tenants.User)
	return u
}

// requireUser sends visitors who are not logged in to the log-in page,
// remembering where they were going.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) != nil {
			return next(c)
		}
		return s.toLogin(c)
	}
}

// toLogin redirects to the log-in page, which sends a GET back here after.
func (s *Server) toLogin(c echo.Context) error {
	to := s.url(routeLogin)
	if c.Request().Method == http.MethodGet {
		to += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	}
	return redirect(c, to)
}

// requireStaff sends visitors who are not logged in to the log-in page
// (staff log in there too) and answers 404 to merchants, so the console's
// existence is not shown to anyone who has an account but is not staff.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch u := currentUser(c); {
		case u == nil:
			return s.toLogin(c)
		case !u.IsStaff:
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// landing is where u goes after logging in, or when visiting a page for
// visitors (log-in, sign-up) while logged in: staff to the console,
// merchants to their dashboard.
func (s *Server) landing(u *tenants.User) string {
	if u.IsStaff {
		return s.url(routeStaffTenants)
	}
	return s.url(routeDashboard)
}

// retryAfter formats d for a Retry-After header, in whole seconds.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
