package onboard

import (
	"context"
	"errors"

	"github.com/tandemsync/tandem/tenants/setup"
)

// Setup returns the settings and locations store over the service's
// database.
func (s *Service) Setup() *setup.Store { return s.setup }

// ProblemText says in words fit for the merchant why a setup step could
// not talk to Salesforce: the connection's *Failure wording (not connected,
// needs reconnecting) when there is one, else Salesforce's own message.
func ProblemText(err error) string {
	if f, ok := AsFailure(err); ok {
		return f.Title + ". " + f.Message
	}
	if errors.Is(err, context.Canceled) {
		return "The request was cancelled. Try again."
	}
	return "Tandem could not read your Salesforce org. " + apiMessage(err)
}
