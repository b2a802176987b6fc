package web

import (
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

		level := slog.LevelInfo
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
		to := s.url(routeLogin)
		if c.Request().Method == http.MethodGet {
			to += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		return redirect(c, to)
	}
}

// requireStaff answers 404 to anyone but support staff.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := currentUser(c); u == nil || !u.IsStaff {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// retryAfter formats d for a Retry-After header, in whole seconds.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
