package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

func (s *Server) showHome(c echo.Context) error {
	if u := currentUser(c); u != nil {
		return redirect(c, s.landing(u))
	}
	return redirect(c, s.url(routeLogin))
}

// currentTenant returns the membership the user is working in (the one the
// session names, else the first) and all of the user's memberships. ok is
// false when the user belongs to no tenant.
//
// Every form shown after this call carries the tenant's id (see
// ui.WithFormTenant), and a state-changing request is refused with
// errWrongTenant unless its form names the same tenant: with two tabs on
// two businesses, a form from the first must not act on the second.
func (s *Server) currentTenant(c echo.Context, u *tenants.User) (cur tenants.Membership, all []tenants.Membership, ok bool, err error) {
	all, err = s.tenants.Memberships(c.Request().Context(), u.ID)
	if err != nil {
		return tenants.Membership{}, all, false, err
	}
	if ok = len(all) > 0; ok {
		cur = all[0]
	}
	want, _ := session(c).Values[sessionTenantID].(string)
	for _, m := range all {
		if m.TenantID == want {
			cur = m
		}
	}
	if unsafeMethod(c) && c.Request().PostFormValue(formTenantField) != cur.TenantID {
		return cur, all, ok, &echo.HTTPError{Code: http.StatusConflict, Message: "wrong tenant", Internal: errWrongTenant}
	}
	c.Set(ctxFormTenant, cur.TenantID)
	return cur, all, ok, nil
}

func (s *Server) showDashboard(c echo.Context) error {
	u := currentUser(c)
	cur, all, ok, err := s.currentTenant(c, u)
	if err != nil {
		return err
	}
	if !ok {
		d := ui.Dashboard{NoTenant: true}
		if u.IsStaff {
			d.StaffURL = s.url(routeStaffTenants)
		}
		return s.render(c, http.StatusOK, "Dashboard", ui.DashboardBody(d, ui.Home{}))
	}
	conns, err := s.connectionStates(c.Request().Context(), cur.TenantID)
	if err != nil {
		return err
	}
	d := ui.Dashboard{TenantName: cur.TenantName, Role: string(cur.Role), Connections: conns}
	if len(all) > 1 {
		sw := &ui.Switcher{Action: s.url(routeSwitchTenant), CSRF: s.csrfToken(c)}
		for _, m := range all {
			sw.Options = append(sw.Options, ui.TenantOption{ID: m.TenantID, Name: m.TenantName, Role: string(m.Role), Current: m.TenantID == cur.TenantID})
		}
		d.Switcher = sw
	}
	h, err := s.home(c, cur.TenantID, canEdit(cur.Role))
	if err != nil {
		return err
	}
	progress, err := s.setupProgress(c.Request().Context(), cur.TenantID)
	if err != nil {
		return err
	}
	progress.MappingURL = "" // the dashboard links it once, below
	h.Setup = &progress
	h.MappingURL = s.url(routeMapping)
	if h.Sync, err = s.syncView(c, cur.TenantID, canEdit(cur.Role)); err != nil {
		return err
	}
	if h.Alerts, err = s.alertBanners(c.Request().Context(), cur.TenantID); err != nil {
		return err
	}
	c.Set(ctxTenant, cur.TenantName)
	return s.render(c, http.StatusOK, "Dashboard", ui.DashboardBody(d, h))
}

// switchTenant makes another of the user's tenants the current one. A
// tenant the user does not belong to is answered as if it did not exist.
func (s *Server) switchTenant(c echo.Context) error {
	u := currentUser(c)
	want := c.FormValue("tenant_id")
	all, err := s.tenants.Memberships(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	for _, m := range all {
		if m.TenantID == want {
			session(c).Values[sessionTenantID] = m.TenantID
			addFlash(c, ui.FlashInfo, fmt.Sprintf("You are now working on %s.", m.TenantName))
			if err := s.saveSession(c); err != nil {
				return err
			}
			return redirect(c, s.url(routeDashboard))
		}
	}
	return echo.ErrNotFound
}

// providerNames are how screens name each provider.
var providerNames = map[tenants.Provider]string{
	tenants.ProviderLightspeed: "Lightspeed",
	tenants.ProviderSalesforce: "Salesforce",
}

// statusLabels are how screens describe each connection state.
var statusLabels = map[tenants.ConnectionStatus]string{
	tenants.StatusNotConnected: "not connected",
	tenants.StatusConnected:    "connected",
	tenants.StatusNeedsReauth:  "needs to be reconnected",
	tenants.StatusDisconnected: "disconnected",
}

// connectionStates returns the view of tenantID's connections.
func (s *Server) connectionStates(ctx context.Context, tenantID string) ([]ui.ConnectionState, error) {
	conns, err := s.tenants.Connections(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]ui.ConnectionState, len(conns))
	for i, cn := range conns {
		out[i] = ui.ConnectionState{
			Provider: string(cn.Provider),
			Name:     providerNames[cn.Provider],
			Status:   string(cn.Status),
			Label:    statusLabels[cn.Status],
			Account:  cn.ExternalName,
			Detail:   cn.StatusReason,
		}
	}
	return out, nil
}

// editorTenant is the current tenant of a user who may change it (owner or
// admin). A viewer gets a 403 page; ok is false when the user has no tenant.
func (s *Server) editorTenant(c echo.Context) (tenants.Membership, bool, error) {
	cur, _, ok, err := s.currentTenant(c, currentUser(c))
	if err != nil || !ok {
		return cur, false, err
	}
	if !canEdit(cur.Role) {
		return cur, false, echo.NewHTTPError(http.StatusForbidden, "Only an owner or admin of this business can do that.")
	}
	return cur, true, nil
}
