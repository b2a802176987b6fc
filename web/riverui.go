package web

import (
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
	"riverqueue.com/riverui"

	"github.com/tandemsync/tandem/tenants"
)

// riverUIPrefix is where River UI is mounted, behind staff authentication.
const riverUIPrefix = "/staff/river"

// routeStaffRiver names River UI's routes.
const routeStaffRiver = "staff.river"

// riverUICSP lets River UI's own bundled script and styles run on its pages
// only; every other page allows no script at all.
const riverUICSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// riverUIRoutes mounts River UI (its prebuilt front end ships inside the Go
// module) read-only: GET and HEAD reach it; its buttons that change jobs
// (cancel, retry, delete, pause a queue) get 404, because staff change a
// merchant's work through the audited actions on the tenant page instead.
// Opening it is audit-logged.
func (s *Server) riverUIRoutes(e *echo.Echo) error {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(s.jobs, nil),
		Logger:    s.log,
		Prefix:    riverUIPrefix,
	})
	if err != nil {
		return fmt.Errorf("web: river ui: %w", err)
	}
	serve := func(c echo.Context) error {
		r := c.Request()
		if page(r.URL.Path) {
			u := currentUser(c)
			if err := s.tenants.Audit(r.Context(), tenants.Entry{ActorUserID: u.ID, ActorEmail: u.Email,
				Action: tenants.ActionStaffRiverUI, IP: c.RealIP()}); err != nil {
				return err
			}
		}
		c.Response().Header().Set("Content-Security-Policy", riverUICSP)
		h.ServeHTTP(c.Response(), r)
		return nil
	}
	for _, p := range []string{riverUIPrefix, riverUIPrefix + "/*"} {
		for _, r := range e.Match([]string{http.MethodGet, http.MethodHead}, p, serve, s.requireStaff) {
			r.Name = routeStaffRiver
		}
		for _, r := range e.Match(slicesWithout(staffOtherMethods, http.MethodHead), p, notFound) {
			r.Name = routeStaffOther
		}
	}
	return nil
}

// page reports whether a River UI path is a page a person opens, rather
// than its API or an asset.
func page(p string) bool {
	rest := strings.TrimPrefix(p, riverUIPrefix)
	return !strings.HasPrefix(rest, "/api") && path.Ext(rest) == ""
}

func slicesWithout(list []string, drop string) []string {
	var out []string
	for _, v := range list {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}
