package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// dateFormat and timeFormat are how staff screens show times, in UTC so
// that support staff in different places quote the same value.
const (
	dateFormat = "2 Jan 2006"
	timeFormat = "2 Jan 2006 15:04 UTC"
)

// showStaffTenants lists every tenant to support staff, recording the view
// in the audit log (under no tenant) before anything is shown.
func (s *Server) showStaffTenants(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if err := s.tenants.Audit(ctx, tenants.Entry{
		ActorUserID: u.ID, ActorEmail: u.Email, Action: tenants.ActionStaffListTenants, IP: c.RealIP(),
	}); err != nil {
		return err
	}
	list, err := s.tenants.ListTenantsForStaff(ctx)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	v := ui.StaffTenants{SearchAction: s.url(routeStaffTenants), Query: q, Total: len(list)}
	var ids []string
	for _, t := range list {
		if q != "" && !matchTenant(t, q) {
			continue
		}
		ids = append(ids, t.ID)
		v.Tenants = append(v.Tenants, ui.StaffTenantRow{
			Name:       t.Name,
			URL:        s.url(routeStaffTenant, t.ID),
			Created:    t.CreatedAt.UTC().Format(dateFormat),
			OwnerEmail: t.OwnerEmail,
			Members:    t.Members,
		})
	}
	if err := s.staffHealth(ctx, v.Tenants, ids); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "Tenants", ui.StaffTenantsBody(v))
}

// showStaffTenant shows one tenant to support staff, recording the view in
// the tenant's audit log before anything is shown.
func (s *Server) showStaffTenant(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	t, err := s.tenants.Tenant(ctx, c.Param("id"))
	if err != nil {
		return err // ErrNotFound becomes a 404 page
	}
	if err := s.tenants.Audit(ctx, tenants.Entry{
		TenantID: t.ID, ActorUserID: u.ID, ActorEmail: u.Email,
		Action: tenants.ActionStaffViewTenant, IP: c.RealIP(),
	}); err != nil {
		return err
	}
	conns, err := s.connectionStates(ctx, t.ID)
	if err != nil {
		return err
	}
	members, err := s.tenants.Members(ctx, t.ID)
	if err != nil {
		return err
	}
	log, err := s.tenants.AuditLog(ctx, t.ID, 50)
	if err != nil {
		return err
	}
	v := ui.StaffTenant{
		Name:        t.Name,
		ID:          t.ID,
		Created:     t.CreatedAt.UTC().Format(timeFormat),
		Connections: conns,
		BackURL:     s.url(routeStaffTenants),
	}
	for _, m := range members {
		v.Members = append(v.Members, ui.MemberRow{Email: m.Email, Role: string(m.Role), Since: m.CreatedAt.UTC().Format(dateFormat)})
	}
	for _, a := range log {
		v.Audit = append(v.Audit, auditRow(a))
	}
	if v.Sync, err = s.staffSyncView(c, t.ID); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, t.Name, ui.StaffTenantBody(v))
}
