package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz says the process is alive and serving; it checks nothing else, so
// an orchestrator does not restart a healthy process over a database outage.
func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// readyz says whether this process can serve traffic, by the caller's check
// (database reachable, schema current), within a few seconds.
func (s *Server) readyz(c echo.Context) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready", slog.String("request_id", requestID(c)), slog.Any("error", err))
			return c.String(http.StatusServiceUnavailable, "not ready: "+err.Error())
		}
	}
	return c.String(http.StatusOK, "ready")
}
