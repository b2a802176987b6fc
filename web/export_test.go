package web

import (
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// HandleForTest registers a route that production does not have (one that
// panics, say), behind the full middleware stack.
func (s *Server) HandleForTest(method, path string, h echo.HandlerFunc) {
	s.e.Add(method, path, h)
}

// RenderForTest renders body in the layout the way handlers do.
func (s *Server) RenderForTest(c echo.Context, status int, body templ.Component) error {
	return s.render(c, status, "Test", body)
}

// RoutesForTest is the route table, for tests that walk every route.
func (s *Server) RoutesForTest() []*echo.Route {
	return s.e.Routes()
}
