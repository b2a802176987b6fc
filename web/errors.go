package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// handleError is Echo's HTTPErrorHandler: the one place an error becomes a
// response. People get a friendly page in the layout; the details go only
// to the log, under the request id the page quotes.
func (s *Server) handleError(err error, c echo.Context) {
	ctx := c.Request().Context()
	rid := requestID(c)
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
	case errors.Is(err, tenants.ErrNotFound):
		status = http.StatusNotFound
	}

	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The client went away; nobody is left to answer.
		s.log.DebugContext(ctx, "request canceled", slog.String("request_id", rid))
		return
	case status >= 500:
		s.log.ErrorContext(ctx, "request failed", slog.String("request_id", rid), slog.Int("status", status), slog.Any("error", err))
	case status == http.StatusForbidden:
		s.log.WarnContext(ctx, "request refused", slog.String("request_id", rid), slog.Any("error", err))
	}
	if c.Response().Committed {
		return
	}
	if c.Request().Method == http.MethodHead || stateless(c) {
		_ = c.String(status, http.StatusText(status))
		return
	}

	e := ui.ErrorPage{Status: status, HomeURL: s.url(routeHome)}
	switch {
	case status == http.StatusNotFound:
		e.Heading = "Page not found"
		e.Message = "There is nothing at this address. Check the link, or start again from the home page."
	case status == http.StatusForbidden && errors.Is(err, errCSRF):
		e.Heading = "This form has expired"
		e.Message = "The form was not sent from this page of Tandem, or it is too old. Go back, reload the page and try again."
	case errors.Is(err, errWrongTenant):
		e.Heading = "This form was for another business"
		e.Message = "Since this page was opened you switched to another business, perhaps in another tab. Nothing was changed: reload the page and try again."
	case status == http.StatusForbidden:
		e.Heading = "Not allowed"
		e.Message = "You do not have access to this page."
	case status == http.StatusMethodNotAllowed:
		e.Heading = "Not allowed"
		e.Message = "This address does not accept that kind of request."
	case status >= 500:
		e.Heading = "Something went wrong"
		e.Message = "Tandem could not complete this request. It has been logged; if it keeps happening, contact support and quote the reference below."
		e.RequestID = rid
	default:
		e.Heading = http.StatusText(status)
		e.Message = "Tandem could not process this request."
	}
	p, perr := s.page(c, e.Heading)
	if perr == nil {
		perr = s.write(c, status, p, ui.ErrorBody(e))
	}
	if perr != nil {
		s.log.ErrorContext(ctx, "render error page", slog.String("request_id", rid), slog.Any("error", perr))
		if !c.Response().Committed {
			_ = c.String(status, http.StatusText(status))
		}
	}
}
