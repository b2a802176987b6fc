package web

import "github.com/labstack/echo/v4"

func (s *Server) logOut(c echo.Context) error {
	if err := s.endSession(c, "You have been logged out."); err != nil {
		return err
	}
	return redirect(c, s.url(routeLogin))
}
