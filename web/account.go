package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// accountForm builds the account settings page. verr's messages are shown
// under the fields they name; form says which form they belong to.
func (s *Server) accountForm(c echo.Context, form string, verr *tenants.ValidationError, typed map[string]string) (ui.AccountSettings, error) {
	u := currentUser(c)
	msg := func(f, field string) string {
		if verr == nil || f != form {
			return ""
		}
		return verr.Message(field)
	}
	a := ui.AccountSettings{
		CSRF:           s.csrfToken(c),
		Email:          u.Email,
		PasswordAction: s.url(routeAccountPassword),
		CurrentPassword: ui.Field{Name: "current_password", Label: "Current password", Type: "password",
			Autocomplete: "current-password", Error: msg("password", "current_password")},
		NewPassword: ui.Field{Name: "new_password", Label: "New password", Type: "password", Autocomplete: "new-password",
			Hint: fmt.Sprintf("At least %d characters.", tenants.MinPasswordLen), MinLength: tenants.MinPasswordLen,
			Error: msg("password", "new_password")},
		EmailAction: s.url(routeAccountEmail),
		NewEmail: ui.Field{Name: "email", Label: "New email", Type: "email", Autocomplete: "email",
			Value: typed["email"], Error: msg("email", "email")},
		EmailPassword: ui.Field{Name: "email_password", Label: "Your password", Type: "password",
			Autocomplete: "current-password", Error: msg("email", "email_password")},
	}
	cur, _, ok, err := s.currentTenant(c, u)
	if err != nil {
		return a, err
	}
	if ok && canEdit(cur.Role) {
		name := cur.TenantName
		if v, typedName := typed["business_name"]; typedName {
			name = v
		}
		a.Business = &ui.BusinessForm{
			Action: s.url(routeAccountBusiness),
			Name: ui.Field{Name: "business_name", Label: "Business name", Type: "text", Autocomplete: "organization",
				Value: name, Error: msg("business", "business_name")},
		}
		c.Set(ctxTenant, cur.TenantName)
	}
	return a, nil
}

func (s *Server) renderAccount(c echo.Context, status int, form string, verr *tenants.ValidationError, typed map[string]string) error {
	a, err := s.accountForm(c, form, verr, typed)
	if err != nil {
		return err
	}
	return s.render(c, status, "Account settings", ui.AccountBody(a))
}

func (s *Server) showAccount(c echo.Context) error {
	return s.renderAccount(c, http.StatusOK, "", nil, nil)
}

func fieldError(field, msg string) *tenants.ValidationError {
	return &tenants.ValidationError{Fields: []tenants.FieldError{{Field: field, Message: msg}}}
}

// changePassword checks the current password and sets the new one. Every
// session of the user ends; this browser gets a fresh one and stays in.
func (s *Server) changePassword(c echo.Context) error {
	u := currentUser(c)
	err := s.tenants.ChangePassword(c.Request().Context(), u.ID, c.FormValue("current_password"), c.FormValue("new_password"), c.RealIP())
	var verr *tenants.ValidationError
	switch {
	case errors.Is(err, tenants.ErrInvalidCredentials):
		return s.renderAccount(c, http.StatusUnprocessableEntity, "password", fieldError("current_password", "That is not your current password."), nil)
	case errors.As(err, &verr):
		return s.renderAccount(c, http.StatusUnprocessableEntity, "password", verr, nil)
	case err != nil:
		return err
	}
	tenantID, _ := session(c).Values[sessionTenantID].(string)
	addFlash(c, ui.FlashSuccess, "Your password has been changed. Every other device has been logged out.")
	if err := s.startSession(c, *u, tenantID); err != nil {
		return err
	}
	return redirect(c, s.url(routeAccount))
}

func (s *Server) changeEmail(c echo.Context) error {
	u := currentUser(c)
	email := c.FormValue("email")
	typed := map[string]string{"email": email}
	nu, err := s.tenants.ChangeEmail(c.Request().Context(), u.ID, email, c.FormValue("email_password"), c.RealIP())
	var verr *tenants.ValidationError
	switch {
	case errors.Is(err, tenants.ErrInvalidCredentials):
		return s.renderAccount(c, http.StatusUnprocessableEntity, "email", fieldError("email_password", "That is not your password."), typed)
	case errors.Is(err, tenants.ErrEmailTaken):
		return s.renderAccount(c, http.StatusUnprocessableEntity, "email", fieldError("email", "Another account uses this email."), typed)
	case errors.As(err, &verr):
		return s.renderAccount(c, http.StatusUnprocessableEntity, "email", verr, typed)
	case err != nil:
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("You now log in as %s.", nu.Email))
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, s.url(routeAccount))
}

func (s *Server) renameBusiness(c echo.Context) error {
	cur, err := s.tenantFor(c, true)
	if err != nil {
		return err
	}
	name := c.FormValue("business_name")
	t, err := s.tenants.RenameTenant(c.Request().Context(), cur.TenantID, name, *currentUser(c), c.RealIP())
	var verr *tenants.ValidationError
	switch {
	case errors.As(err, &verr):
		return s.renderAccount(c, http.StatusUnprocessableEntity, "business", verr, map[string]string{"business_name": name})
	case err != nil:
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("The business is now called %s.", t.Name))
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, s.url(routeAccount))
}
