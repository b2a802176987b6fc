package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// CSRF protection is a signed double submit bound to the session. The
// browser holds a random value in an HttpOnly cookie; every form carries
// HMAC(csrfKey, value, session id) in its "csrf" field (or, for scripts,
// the X-CSRF-Token header; never the query string, which leaks into logs,
// history and Referer headers). A cross-site page can make the browser send
// the cookie but can neither read it nor compute the HMAC. Binding the
// session id means a pair fetched by someone else (say, planted by a
// taken-over sibling subdomain) does not work in the victim's session, and
// that a log-in or log-out, which gives the session a new id, retires every
// form shown before it. A visitor who is not logged in and has no stored
// session is bound to the empty id: planting a pair can still submit a
// log-in or sign-up form for them.

// csrfField is the form field that carries the token, csrfHeader the
// header that may carry it instead.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// errCSRF is the internal cause of a refused state-changing request.
var errCSRF = errors.New("missing or invalid csrf token")

// csrf refuses state-changing requests without a valid token, with 403.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if stateless(c) {
			return next(c)
		}
		var value string
		if ck, err := c.Cookie(csrfCookie); err == nil && validCSRFValue(ck.Value) {
			value = ck.Value
		}
		c.Set(ctxCSRF, value)
		if !unsafeMethod(c) {
			return next(c)
		}
		got := c.Request().PostFormValue(csrfField) // the body only, never the query
		if got == "" {
			got = c.Request().Header.Get(csrfHeader)
		}
		if value == "" || got == "" || !hmac.Equal([]byte(got), []byte(s.csrfSign(value, sessionID(c)))) {
			return &echo.HTTPError{Code: http.StatusForbidden, Message: "csrf", Internal: errCSRF}
		}
		return next(c)
	}
}

// csrfToken returns the token forms must carry, setting the cookie first
// if this browser has none. It is bound to the session's id as it is now:
// call it after any log-in or log-out in the same request.
func (s *Server) csrfToken(c echo.Context) string {
	value, _ := c.Get(ctxCSRF).(string)
	if value == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
		value = base64.RawURLEncoding.EncodeToString(b)
		c.SetCookie(&http.Cookie{
			Name:     csrfCookie,
			Value:    value,
			Path:     "/",
			HttpOnly: true,
			Secure:   s.secure,
			SameSite: http.SameSiteLaxMode,
		})
		c.Set(ctxCSRF, value)
	}
	return s.csrfSign(value, sessionID(c))
}

// csrfSign is the token for the cookie value and session id. The value has
// a fixed length, so the concatenation is unambiguous.
func (s *Server) csrfSign(value, sessionID string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(value))
	m.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sessionID is the id of the request's stored session, or "" when it has
// none yet.
func sessionID(c echo.Context) string {
	if sess := session(c); sess != nil {
		return sess.ID
	}
	return ""
}

// validCSRFValue reports whether v looks like a value csrfToken made, so a
// junk cookie is replaced rather than signed.
func validCSRFValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// formTenantField is the hidden field in which every form shown while
// working on a tenant names it (ui's csrfField writes it).
const formTenantField = "form_tenant"

// errWrongTenant is the internal cause of a form refused because it was
// shown for another tenant than the session's current one.
var errWrongTenant = errors.New("form was shown for another tenant than the current one")

// unsafeMethod reports whether the request may change state, and so needs
// a token (and, on a tenant's pages, the right tenant).
func unsafeMethod(c echo.Context) bool {
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}
