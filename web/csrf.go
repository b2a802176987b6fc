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

// CSRF protection is a signed double submit. The browser holds a random
// value in an HttpOnly cookie; every form carries HMAC(csrfKey, value) in
// its "csrf" field. A cross-site page can make the browser send the cookie
// but can neither read it nor compute the HMAC. The key stops a sibling
// subdomain from inventing a pair, but not from planting a genuine pair it
// fetched from us; binding the value to the session would close that, and
// matters only if a subdomain of ours is ever taken over.

// csrfField is the form field that carries the token.
const csrfField = "csrf"

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
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return next(c)
		}
		got := c.FormValue(csrfField)
		if value == "" || got == "" || !hmac.Equal([]byte(got), []byte(s.csrfSign(value))) {
			return &echo.HTTPError{Code: http.StatusForbidden, Message: "csrf", Internal: errCSRF}
		}
		return next(c)
	}
}

// csrfToken returns the token forms must carry, setting the cookie first
// if this browser has none.
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
	return s.csrfSign(value)
}

func (s *Server) csrfSign(value string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRFValue reports whether v looks like a value csrfToken made, so a
// junk cookie is replaced rather than signed.
func validCSRFValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}
