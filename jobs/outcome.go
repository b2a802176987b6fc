package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants/vault"
)

// This file is the one place that decides what an error means for a job:
//   - a rate limit snoozes the job until the limit allows more;
//   - a connection that must be reconnected, or a permanent refusal (4xx that
//     is not a rate limit), cancels it with the reason recorded: retrying
//     cannot help, and the scheduler does not poll a tenant whose
//     connection is broken until it is reconnected;
//   - everything else (timeouts, 5xx, lock contention) is returned as is and
//     River retries with backoff.

// Outcome turns a run's error into the job's result.
func Outcome(err error) error {
	if err == nil {
		return nil
	}
	if d, ok := rateLimited(err); ok {
		return river.JobSnooze(d)
	}
	var reserve *sync.ReserveError
	if errors.As(err, &reserve) {
		return river.JobSnooze(reserveSnooze)
	}
	if permanent(err) {
		return river.JobCancel(err)
	}
	return err
}

// HoldReason is what a stream's dashboard row says about a run's error, in
// words for the merchant; "" for errors that retry on their own.
func HoldReason(err error) string {
	var re *vault.ReauthError
	var reserve *sync.ReserveError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &re):
		return "Waiting for " + providerName(re.Provider) + " to be reconnected: " + re.Reason
	case errors.As(err, &reserve):
		return "Paused: " + reserve.Error() + "."
	case salesforce.IsRateLimit(err):
		return "Paused: the Salesforce org's daily API allocation is used up; syncing resumes when it frees."
	}
	if _, ok := rateLimited(err); ok {
		return "Waiting for Lightspeed's rate limit."
	}
	if permanent(err) {
		return "Stopped: " + err.Error()
	}
	return ""
}

func providerName(p string) string {
	switch p {
	case vault.Lightspeed:
		return "Lightspeed"
	case vault.Salesforce:
		return "Salesforce"
	}
	return p
}

func rateLimited(err error) (time.Duration, bool) {
	var rl *lightspeed.RateLimitError
	if errors.As(err, &rl) {
		return max(rl.RetryAfter, time.Second), true
	}
	if salesforce.IsRateLimit(err) {
		// The daily allocation is a rolling 24 hours: look again later.
		return 15 * time.Minute, true
	}
	return 0, false
}

func permanent(err error) bool {
	var re *vault.ReauthError
	if errors.As(err, &re) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var lsErr *lightspeed.APIError
	if errors.As(err, &lsErr) {
		return lsErr.StatusCode >= 400 && lsErr.StatusCode < 500 && lsErr.StatusCode != 429 && lsErr.StatusCode != 408
	}
	var sfErr *salesforce.APIError
	if errors.As(err, &sfErr) {
		return !salesforce.IsTransient(err) && !salesforce.IsRateLimit(err) && !salesforce.IsSessionError(err) &&
			sfErr.StatusCode >= 400 && sfErr.StatusCode < 500
	}
	return false
}
