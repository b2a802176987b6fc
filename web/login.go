package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// loginForm builds the log-in view model.
func (s *Server) loginForm(c echo.Context, email, next, problem string) ui.LoginForm {
	return ui.LoginForm{
		Action: s.url(routeLoginSubmit),
		CSRF:   s.csrfToken(c),
		Error:  problem,
		Next:   next,
		Email: ui.Field{Name: "email", Label: "Email", Type: "email", Value: email,
			Autocomplete: "username", Autofocus: email == ""},
		Password:  ui.Field{Name: "password", Label: "Password", Type: "password", Autocomplete: "current-password", Autofocus: email != ""},
		SignUpURL: s.url(routeSignUp),
		ForgotURL: s.url(routeForgotPassword),
	}
}

// localPath returns next if it is a path on this site, and "" otherwise, so
// the log-in form cannot be used to send people to another site. Control
// characters are refused outright: browsers strip tabs and newlines from a
// Location, so "/\t/evil.example" would become "//evil.example".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	return next
}

func (s *Server) showLogin(c echo.Context) error {
	if u := currentUser(c); u != nil {
		return redirect(c, s.landing(u))
	}
	next := localPath(c.QueryParam("next"))
	f := s.loginForm(c, "", next, "")
	if next != "" {
		f.Notice = "Log in to continue."
	}
	return s.render(c, http.StatusOK, "Log in", ui.LoginBody(f), narrow)
}

func (s *Server) logIn(c echo.Context) error {
	email, next := c.FormValue("email"), localPath(c.FormValue("next"))
	u, err := s.tenants.Authenticate(c.Request().Context(), email, c.FormValue("password"), c.RealIP())
	var throttled *tenants.ThrottledError
	switch {
	case errors.Is(err, tenants.ErrInvalidCredentials):
		f := s.loginForm(c, email, next, "Incorrect email or password.")
		return s.render(c, http.StatusUnauthorized, "Log in", ui.LoginBody(f), narrow)
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", retryAfter(throttled.RetryAfter))
		f := s.loginForm(c, email, next, fmt.Sprintf("Too many attempts, try again in %s.", minutes(throttled)))
		return s.render(c, http.StatusTooManyRequests, "Log in", ui.LoginBody(f), narrow)
	case err != nil:
		return err
	}
	if err := s.startSession(c, u, ""); err != nil {
		return err
	}
	if next == "" {
		next = s.landing(&u)
	}
	return redirect(c, next)
}

// minutes says how long a throttled person waits, in whole minutes.
func minutes(e *tenants.ThrottledError) string {
	if n := e.Minutes(); n != 1 {
		return fmt.Sprintf("%d minutes", n)
	}
	return "1 minute"
}
