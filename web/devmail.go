package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/web/ui"
)

// showDevMail lists the mail the dev mailbox caught. The route exists only
// when Config.DevMailbox is set, i.e. in `tandem dev`.
func (s *Server) showDevMail(c echo.Context) error {
	var v ui.DevMail
	for _, m := range s.devMail.Messages() {
		dm := ui.DevMessage{ID: strconv.Itoa(m.ID), To: m.To, Subject: m.Subject, Sent: m.SentAt.UTC().Format(timeFormat)}
		for line := range strings.SplitSeq(m.Body, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "":
			case strings.HasPrefix(line, s.baseURL+"/") && !strings.ContainsAny(line, " \t"):
				// Only our own links are made clickable.
				dm.Lines = append(dm.Lines, ui.DevLine{URL: line})
			default:
				dm.Lines = append(dm.Lines, ui.DevLine{Text: line})
			}
		}
		v.Messages = append(v.Messages, dm)
	}
	return s.render(c, http.StatusOK, "Dev mailbox", ui.DevMailBody(v))
}
