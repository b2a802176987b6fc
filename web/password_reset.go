package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// Reset and invitation links carry their token in the query string, never
// in the path: request logs record paths, not queries.

func (s *Server) forgotForm(c echo.Context, email string) ui.ForgotPasswordForm {
	f := ui.ForgotPasswordForm{
		Action:   s.url(routeForgotPasswordSubmit),
		CSRF:     s.csrfToken(c),
		Email:    ui.Field{Name: "email", Label: "Email", Type: "email", Value: email, Autocomplete: "username", Autofocus: true},
		LoginURL: s.url(routeLogin),
	}
	if s.devMail != nil {
		f.DevMailURL = s.url(routeDevMail)
	}
	return f
}

func (s *Server) showForgotPassword(c echo.Context) error {
	return s.render(c, http.StatusOK, "Reset your password", ui.ForgotPasswordBody(s.forgotForm(c, "")), narrow)
}

// requestPasswordReset emails a reset link when the email has an account.
// The page says the same either way, and a failure to send is logged, not
// shown, for the same reason.
func (s *Server) requestPasswordReset(c echo.Context) error {
	ctx := c.Request().Context()
	email := c.FormValue("email")
	f := s.forgotForm(c, email)
	if tenants.NormalizeEmail(email) == "" {
		f.Email.Error = "Enter your email address."
		return s.render(c, http.StatusUnprocessableEntity, "Reset your password", ui.ForgotPasswordBody(f), narrow)
	}
	r, ok, err := s.tenants.RequestPasswordReset(ctx, email, c.RealIP())
	if err != nil {
		return err
	}
	if ok {
		link := s.absURL(routeResetPassword) + "?token=" + url.QueryEscape(r.Token)
		m := mail.Message{
			To:      r.Email,
			Subject: "Reset your Tandem password",
			Body: fmt.Sprintf("Someone, hopefully you, asked to reset the password of the Tandem account %s.\n\n"+
				"Choose a new password here within the next hour:\n\n%s\n\n"+
				"The link works once. If you did not ask for this, ignore this email: your password stays as it is.\n",
				r.Email, link),
		}
		if err := s.mail.Send(ctx, m); err != nil {
			s.log.ErrorContext(ctx, "send password reset", slog.String("request_id", requestID(c)), slog.Any("error", err))
		}
	}
	f.Sent, f.SentTo = true, email
	f.Email.Autofocus = false
	return s.render(c, http.StatusOK, "Reset your password", ui.ForgotPasswordBody(f), narrow)
}

func (s *Server) resetForm(c echo.Context, token, email string) ui.ResetPasswordForm {
	return ui.ResetPasswordForm{
		Action: s.url(routeResetPasswordSubmit),
		CSRF:   s.csrfToken(c),
		Token:  token,
		Email:  email,
		Password: ui.Field{Name: "password", Label: "New password", Type: "password", Autocomplete: "new-password",
			Hint: fmt.Sprintf("At least %d characters.", tenants.MinPasswordLen), MinLength: tenants.MinPasswordLen, Autofocus: true},
		ForgotURL: s.url(routeForgotPassword),
	}
}

func (s *Server) showResetPassword(c echo.Context) error {
	token := c.QueryParam("token")
	email, err := s.tenants.PasswordResetEmail(c.Request().Context(), token)
	f := s.resetForm(c, token, email)
	switch {
	case errors.Is(err, tenants.ErrLinkInvalid):
		f.Invalid, f.Token = true, ""
		return s.render(c, http.StatusNotFound, "Reset your password", ui.ResetPasswordBody(f), narrow)
	case err != nil:
		return err
	}
	return s.render(c, http.StatusOK, "Choose a new password", ui.ResetPasswordBody(f), narrow)
}

// resetPassword sets the new password. Every session of the account has
// ended, this browser's too if it was logged in: it gets a fresh, anonymous
// session and goes to the log-in page.
func (s *Server) resetPassword(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	_, err := s.tenants.ResetPassword(ctx, token, c.FormValue("password"), c.RealIP())
	var verr *tenants.ValidationError
	switch {
	case errors.As(err, &verr):
		email, _ := s.tenants.PasswordResetEmail(ctx, token)
		f := s.resetForm(c, token, email)
		f.Password.Error = verr.Message("password")
		return s.render(c, http.StatusUnprocessableEntity, "Choose a new password", ui.ResetPasswordBody(f), narrow)
	case errors.Is(err, tenants.ErrLinkInvalid):
		f := s.resetForm(c, "", "")
		f.Invalid = true
		return s.render(c, http.StatusNotFound, "Reset your password", ui.ResetPasswordBody(f), narrow)
	case err != nil:
		return err
	}
	if err := s.endSession(c, "Your password has been changed and every device logged out. Log in with the new password."); err != nil {
		return err
	}
	return redirect(c, s.url(routeLogin))
}

// absURL is the named route's address as a link in an email: absolute,
// on the public base URL.
func (s *Server) absURL(name string, params ...any) string {
	return s.baseURL + s.url(name, params...)
}
