package web

import (
	"fmt"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/web/ui"
)

// pageOption adjusts the layout of one page.
type pageOption func(*ui.Page)

// narrow draws the page as a single narrow column, for short forms.
func narrow(p *ui.Page) { p.Narrow = true }

// render writes body inside the layout with status. It renders into a
// buffer first, so a failing component becomes a 500 page instead of half a
// page.
func (s *Server) render(c echo.Context, status int, title string, body templ.Component, opts ...pageOption) error {
	p, err := s.page(c, title)
	if err != nil {
		return err
	}
	for _, o := range opts {
		o(&p)
	}
	return s.write(c, status, p, body)
}

func (s *Server) write(c echo.Context, status int, p ui.Page, body templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	ctx := c.Request().Context()
	if id, _ := c.Get(ctxFormTenant).(string); id != "" {
		ctx = ui.WithFormTenant(ctx, id)
	}
	if err := ui.Layout(p, body).Render(ctx, buf); err != nil {
		return fmt.Errorf("web: render %q: %w", p.Title, err)
	}
	// Pages show account data: keep them out of shared caches and off the
	// back button after log-out.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// page builds the layout's view model for the current request.
func (s *Server) page(c echo.Context, title string) (ui.Page, error) {
	flashes, err := s.takeFlashes(c)
	if err != nil {
		return ui.Page{}, err
	}
	p := ui.Page{
		Title:         title,
		StylesheetURL: s.assets.Path("css/app.css"),
		LogoURL:       s.assets.Path("img/logo.svg"),
		HomeURL:       s.url(routeHome),
		LoginURL:      s.url(routeLogin),
		SignUpURL:     s.url(routeSignUp),
		LogoutURL:     s.url(routeLogout),
		Flashes:       flashes,
	}
	if u := currentUser(c); u != nil {
		tenant, _ := c.Get(ctxTenant).(string)
		p.Viewer = &ui.Viewer{Email: u.Email, IsStaff: u.IsStaff, TenantName: tenant}
		p.CSRF = s.csrfToken(c)
		p.Nav = append(p.Nav, s.navItem(c, "Dashboard", routeDashboard), s.navItem(c, "Team", routeTeam), s.navItem(c, "Account", routeAccount))
		if u.IsStaff {
			p.Nav = append(p.Nav, s.navItem(c, "Staff", routeStaffTenants))
		}
	}
	return p, nil
}

func (s *Server) navItem(c echo.Context, label, route string) ui.NavItem {
	u := s.url(route)
	// A section's link stays current on its sub-pages (/staff/tenants/:id).
	return ui.NavItem{Label: label, URL: u, Current: c.Path() == u || strings.HasPrefix(c.Path(), u+"/")}
}
