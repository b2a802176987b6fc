package onboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

// Reason is why a connection attempt failed, for tests and the page's
// wording.
type Reason string

// Why a connect, callback, refresh or disconnect failed.
const (
	ReasonDenied          Reason = "denied"           // the merchant pressed Deny
	ReasonStateMissing    Reason = "state_missing"    // no sign-in was started in this browser session
	ReasonStateMismatch   Reason = "state_mismatch"   // the state does not belong to this session
	ReasonStateReplayed   Reason = "state_replayed"   // the callback was already used
	ReasonStateExpired    Reason = "state_expired"    // more than StateTTL went by
	ReasonWrongTenant     Reason = "wrong_tenant"     // the business was switched mid-flow
	ReasonCodeRejected    Reason = "code_rejected"    // the code expired, was used, or PKCE failed
	ReasonProviderError   Reason = "provider_error"   // the provider said no, or failed
	ReasonOtherAccount    Reason = "other_account"    // a different account than before
	ReasonNotConfigured   Reason = "not_configured"   // no client id for the provider
	ReasonBadInput        Reason = "bad_input"        // e.g. a My Domain that cannot be one
	ReasonNeedsReauth     Reason = "needs_reauth"     // the provider refused the stored refresh token
	ReasonNotConnected    Reason = "not_connected"    // nothing to refresh or disconnect
	ReasonAPIDisabled     Reason = "api_disabled"     // Salesforce: the org has no API access
	ReasonUnreachable     Reason = "unreachable"      // the provider could not be reached
	ReasonRevokeFailed    Reason = "revoke_failed"    // disconnect: revoking at the provider failed
	ReasonMissingAccount  Reason = "missing_account"  // the token reaches no account
	ReasonDiscoveryFailed Reason = "discovery_failed" // reading the account failed
	ReasonRateLimited     Reason = "rate_limited"     // the provider asked Tandem to slow down
)

// Failure is a connect attempt that did not work, in words for the
// merchant: Title and Message say what happened and what to do next,
// ProviderText quotes the provider's own explanation when it gave one.
// Err is the internal cause, for the log; it never carries a token.
type Failure struct {
	Provider     string
	Reason       Reason
	Title        string
	Message      string
	ProviderText string
	// Field names the form field at fault for ReasonBadInput.
	Field string
	// For ReasonOtherAccount: the account connected before and the one the
	// merchant just authorised.
	PreviousAccount, PreviousName string
	NewAccount, NewName           string
	Err                           error
}

func (f *Failure) Error() string {
	msg := fmt.Sprintf("onboard: %s: %s", f.Provider, f.Reason)
	if f.Err != nil {
		msg += ": " + f.Err.Error()
	}
	return msg
}

// Unwrap returns the internal cause.
func (f *Failure) Unwrap() error { return f.Err }

// AsFailure returns err's *Failure, if it has one.
func AsFailure(err error) (*Failure, bool) {
	var f *Failure
	ok := errors.As(err, &f)
	return f, ok
}

// ProviderName is how screens name a provider.
func ProviderName(provider string) string {
	switch provider {
	case Lightspeed:
		return "Lightspeed"
	case Salesforce:
		return "Salesforce"
	}
	return provider
}

// failure builds the Failure for reason with its standard wording.
func failure(provider string, reason Reason, err error) *Failure {
	name := ProviderName(provider)
	f := &Failure{Provider: provider, Reason: reason, Err: err}
	switch reason {
	case ReasonDenied:
		f.Title = "You did not allow access"
		f.Message = fmt.Sprintf("%s reported that access was denied, so Tandem is not connected. Nothing was changed. To connect, press Try again and choose Allow on %s's page.", name, name)
	case ReasonStateMissing:
		f.Title = "This sign-in was not started here"
		f.Message = fmt.Sprintf("Tandem has no record of starting a %s sign-in in this browser, perhaps because you logged out and in again, or opened the link in another browser. Nothing was changed. Press Try again to start over.", name)
	case ReasonStateMismatch:
		f.Title = "This sign-in does not match"
		f.Message = fmt.Sprintf("The answer from %s does not belong to the sign-in this browser started (it may come from an older tab or someone else's link). For your safety Tandem ignored it and changed nothing. Press Try again to start over.", name)
	case ReasonStateReplayed:
		f.Title = "This sign-in link was already used"
		f.Message = fmt.Sprintf("Each %s sign-in can be completed once, and this one already was (the page may have been reloaded or opened from history). Nothing was changed. Check the dashboard, or press Try again to connect again.", name)
	case ReasonStateExpired:
		f.Title = "The sign-in took too long"
		f.Message = fmt.Sprintf("More than %d minutes went by between pressing Connect and coming back from %s, so Tandem discarded the sign-in. Nothing was changed. Press Try again and complete it within %d minutes.", int(StateTTL.Minutes()), name, int(StateTTL.Minutes()))
	case ReasonWrongTenant:
		f.Title = "You switched business during the sign-in"
		f.Message = fmt.Sprintf("The %s sign-in was started for another business than the one you are working on now. Nothing was changed. Switch back to the right business, or press Try again to connect this one.", name)
	case ReasonCodeRejected:
		f.Title = fmt.Sprintf("%s did not accept the sign-in", name)
		f.Message = fmt.Sprintf("%s refused the one-time code it had just sent, usually because it expired (such codes are valid for only a short time) or was already used. Nothing was changed. Press Try again.", name)
	case ReasonProviderError:
		f.Title = fmt.Sprintf("%s reported a problem", name)
		f.Message = fmt.Sprintf("%s answered with an error, so Tandem could not finish connecting. Nothing was changed; your previous connection, if any, still works. Try again in a few minutes; if it keeps failing, check %s's status page or contact support.", name, name)
	case ReasonUnreachable:
		f.Title = fmt.Sprintf("%s could not be reached", name)
		f.Message = fmt.Sprintf("Tandem could not reach %s. Nothing was changed. Try again in a few minutes.", name)
	case ReasonDiscoveryFailed:
		f.Title = fmt.Sprintf("Tandem could not read your %s account", name)
		f.Message = fmt.Sprintf("The sign-in worked, but reading your %s account failed, so nothing was saved and your previous connection, if any, is untouched. Try again in a few minutes.", name)
	case ReasonOtherAccount:
		f.Title = fmt.Sprintf("This is a different %s account", name)
		f.Message = fmt.Sprintf("This business was connected to another %s account before. Tandem remembers which records it has already synced between the two systems; syncing a different account on top of that would link the wrong records together. Your previous connection and settings are untouched. Sign in to the original account instead, or reset Tandem's link to %s and start fresh with this account.", name, name)
	case ReasonNotConfigured:
		f.Title = fmt.Sprintf("%s is not set up on this Tandem server", name)
		f.Message = fmt.Sprintf("The operator of this Tandem server has not configured its %s client id, so connecting is not possible yet. Ask them to set %s_CLIENT_ID and %s_CLIENT_SECRET.", name, envPrefix(provider), envPrefix(provider))
	case ReasonNeedsReauth:
		f.Title = fmt.Sprintf("%s needs to be reconnected", name)
		f.Message = fmt.Sprintf("%s no longer accepts Tandem's access (it was revoked, expired, or the password changed). Your settings are kept. Press Reconnect and sign in again.", name)
	case ReasonNotConnected:
		f.Title = fmt.Sprintf("%s is not connected", name)
		f.Message = fmt.Sprintf("This business has no working %s connection. Connect it first.", name)
	case ReasonAPIDisabled:
		f.Title = "The Salesforce API is not enabled for this org"
		f.Message = "Salesforce refused API access for this org. API access is included in Enterprise, Performance, Unlimited and Developer editions; Professional Edition needs the API add-on, and the user needs the API Enabled permission. Nothing was saved. Enable API access, then press Try again."
	case ReasonMissingAccount:
		f.Title = fmt.Sprintf("No %s account found", name)
		f.Message = fmt.Sprintf("The sign-in worked, but the user has access to no %s account. Sign in as an employee of the account you want to sync, then press Try again.", name)
	case ReasonRateLimited:
		f.Title = fmt.Sprintf("%s asked Tandem to slow down", name)
		f.Message = fmt.Sprintf("%s limits how many requests an app may make per account, and Tandem reached that limit while reading your account. Nothing was changed. Wait a minute, then press Try again.", name)
	case ReasonRevokeFailed:
		f.Title = fmt.Sprintf("%s could not be reached to revoke access", name)
		f.Message = fmt.Sprintf("Tandem deleted its copy of the %s access, so it can no longer use it, but could not tell %s to revoke it. You can also remove Tandem from the connected apps in %s's settings.", name, name, name)
	}
	return f
}

func envPrefix(provider string) string {
	if provider == Salesforce {
		return "SALESFORCE"
	}
	return "LIGHTSPEED"
}

// classify turns an error from a provider call into a Failure: the
// provider's own words are kept where it gave some.
func classify(provider string, during Reason, err error) *Failure {
	if f, ok := AsFailure(err); ok {
		return f
	}
	var lerr *lightspeed.APIError
	var rl *lightspeed.RateLimitError
	var soerr *salesforce.OAuthError
	var saerr *salesforce.APIError
	switch {
	case errors.As(err, &rl), salesforce.IsRateLimit(err):
		f := failure(provider, ReasonRateLimited, err)
		if rl != nil && rl.RetryAfter > 0 {
			f.Message = strings.Replace(f.Message, "Wait a minute", fmt.Sprintf("Wait %s", rl.RetryAfter.Round(time.Second)), 1)
		}
		return f
	case errors.Is(err, lightspeed.ErrInvalidGrant):
		f := failure(provider, during, err)
		if during == ReasonProviderError {
			f = failure(provider, ReasonCodeRejected, err)
		}
		if errors.As(err, &lerr) {
			f.ProviderText = lerr.ErrorDescription
		}
		return f
	case errors.As(err, &lerr):
		f := failure(provider, reasonFor(during, lerr.StatusCode), err)
		f.ProviderText = firstNonEmpty(lerr.ErrorDescription, lerr.Message, lerr.HTTPMessage, http.StatusText(lerr.StatusCode))
		return f
	case errors.As(err, &soerr):
		r := reasonFor(during, soerr.StatusCode)
		if soerr.Code == "invalid_grant" && soerr.Op == "exchange code" {
			r = ReasonCodeRejected
		}
		f := failure(provider, r, err)
		f.ProviderText = firstNonEmpty(soerr.Description, soerr.Code)
		return f
	case errors.As(err, &saerr):
		r := reasonFor(during, saerr.StatusCode)
		if saerr.HasCode("API_DISABLED_FOR_ORG") {
			r = ReasonAPIDisabled
		}
		f := failure(provider, r, err)
		f.ProviderText = firstNonEmpty(saerr.Message, saerr.ErrorCode)
		return f
	}
	return failure(provider, ReasonUnreachable, err)
}

// reasonFor keeps during unless the status says the provider itself failed.
func reasonFor(during Reason, status int) Reason {
	if status >= 500 {
		return ReasonProviderError
	}
	return during
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
