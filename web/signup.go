package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// signUpForm builds the sign-up view model, refilled with what was typed
// (never the password) and the problems found.
func (s *Server) signUpForm(c echo.Context, p tenants.SignUpParams, verr *tenants.ValidationError) ui.SignUpForm {
	msg := func(field string) string {
		if verr == nil {
			return ""
		}
		return verr.Message(field)
	}
	return ui.SignUpForm{
		Action: s.url(routeSignUpSubmit),
		CSRF:   s.csrfToken(c),
		BusinessName: ui.Field{Name: "business_name", Label: "Business name", Type: "text", Value: p.BusinessName,
			Error: msg("business_name"), Autocomplete: "organization", Autofocus: true},
		Email: ui.Field{Name: "email", Label: "Email", Type: "email", Value: p.Email,
			Error: msg("email"), Autocomplete: "email"},
		Password: ui.Field{Name: "password", Label: "Password", Type: "password", Error: msg("password"),
			Hint:         fmt.Sprintf("At least %d characters.", tenants.MinPasswordLen),
			Autocomplete: "new-password", MinLength: tenants.MinPasswordLen},
		LoginURL: s.url(routeLogin),
	}
}

func (s *Server) showSignUp(c echo.Context) error {
	if currentUser(c) != nil {
		return redirect(c, s.url(routeDashboard))
	}
	return s.render(c, http.StatusOK, "Sign up", ui.SignUpBody(s.signUpForm(c, tenants.SignUpParams{}, nil)), narrow)
}

func (s *Server) signUp(c echo.Context) error {
	p := tenants.SignUpParams{
		BusinessName: c.FormValue("business_name"),
		Email:        c.FormValue("email"),
		Password:     c.FormValue("password"),
		IP:           c.RealIP(),
	}
	t, u, err := s.tenants.SignUp(c.Request().Context(), p)
	var verr *tenants.ValidationError
	var throttled *tenants.ThrottledError
	switch {
	case errors.As(err, &verr):
		return s.render(c, http.StatusUnprocessableEntity, "Sign up", ui.SignUpBody(s.signUpForm(c, p, verr)), narrow)
	case errors.Is(err, tenants.ErrEmailTaken):
		verr = &tenants.ValidationError{Fields: []tenants.FieldError{{
			Field: "email", Message: "An account with this email already exists. Log in instead, or use another email.",
		}}}
		return s.render(c, http.StatusUnprocessableEntity, "Sign up", ui.SignUpBody(s.signUpForm(c, p, verr)), narrow)
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", retryAfter(throttled.RetryAfter))
		f := s.signUpForm(c, p, nil)
		f.Error = fmt.Sprintf("Too many sign-ups from your network, try again in %s.", minutes(throttled))
		return s.render(c, http.StatusTooManyRequests, "Sign up", ui.SignUpBody(f), narrow)
	case err != nil:
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("Welcome to Tandem. %s is ready to connect.", t.Name))
	if err := s.startSession(c, u, t.ID); err != nil {
		return err
	}
	return redirect(c, s.url(routeDashboard))
}
