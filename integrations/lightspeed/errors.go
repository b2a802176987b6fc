package lightspeed

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors that *APIError matches with errors.Is, so callers can
// branch without inspecting status codes.
var (
	// ErrNotFound matches a 404 (unknown id or URL).
	ErrNotFound = errors.New("lightspeed: not found")
	// ErrUnauthorized matches a 401 from the API (token expired, revoked
	// or unverifiable).
	ErrUnauthorized = errors.New("lightspeed: unauthorized")
	// ErrForbidden matches a 403 (token lacks the scope).
	ErrForbidden = errors.New("lightspeed: forbidden")
	// ErrInvalidGrant matches an OAuth invalid_grant: the code or refresh
	// token is expired, used, or belongs to another client. The connection
	// needs the merchant to authorize again.
	ErrInvalidGrant = errors.New("lightspeed: invalid grant")
)

// APIError is a non-2xx response from the API or the OAuth server, with the
// decoded body. The resource API uses {"httpCode","httpMessage","message",
// "errorClass"} (also the 2017 form of a 401); the OAuth server and the
// current 401 use {"error","error_description","hint"}. Fields of the form
// not used are empty.
type APIError struct {
	StatusCode int    // HTTP status of the response
	Method     string // request method
	URL        string // request URL with secrets redacted

	// Resource-API form.
	HTTPCode    string // "400"
	HTTPMessage string // "Bad Request"
	Message     string // "name cannot be blank."
	ErrorClass  string // "Exception", "BadAuthenticationRequestError", ...

	// OAuth form.
	Code             string // "access_denied", "invalid_grant", ...
	ErrorDescription string
	Hint             string // "Access token could not be verified", "Access token has been revoked"

	// Body is the raw response body (truncated) when it could not be decoded.
	Body string
}

// Error returns a one-line description with the API's own message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lightspeed: %s %s: %d", e.Method, e.URL, e.StatusCode)
	if e.ErrorClass != "" {
		b.WriteString(" " + e.ErrorClass)
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if m := e.Text(); m != "" {
		b.WriteString(": " + m)
	}
	return b.String()
}

// Text returns the most specific human-readable message in the body.
func (e *APIError) Text() string {
	parts := make([]string, 0, 3)
	for _, s := range []string{e.Message, e.ErrorDescription, e.Hint} {
		if s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 && e.Body != "" {
		return e.Body
	}
	return strings.Join(parts, " ")
}

// Is matches the sentinel errors of this package.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrInvalidGrant:
		return e.Code == "invalid_grant"
	}
	return false
}

// Temporary reports whether retrying the same request later may succeed.
func (e *APIError) Temporary() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusConflict:
		return true
	}
	return false
}

// RateLimitError reports that a request was not sent, or was refused with
// 429/503, and that the wait before it may be sent is longer than the
// client's MaxWait. Jobs should snooze for RetryAfter instead of sleeping.
type RateLimitError struct {
	// RetryAfter is how long to wait before trying again.
	RetryAfter time.Duration
	// Type is "api-leaky-bucket", "api-burst-limiter" or, when the client
	// refused before sending, "client-leaky-bucket".
	Type string
	// Err is the API's refusal, nil when the client refused before sending.
	Err *APIError
}

// Error describes the limit and the wait.
func (e *RateLimitError) Error() string {
	msg := fmt.Sprintf("lightspeed: rate limited (%s), retry after %s", e.Type, e.RetryAfter.Round(time.Millisecond))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the API's refusal, if any.
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// errorBody is both error forms on the wire.
type errorBody struct {
	HTTPCode         flexString `json:"httpCode"`
	HTTPMessage      flexString `json:"httpMessage"`
	Message          flexString `json:"message"`
	ErrorClass       flexString `json:"errorClass"`
	Error            flexString `json:"error"`
	ErrorDescription flexString `json:"error_description"`
	Hint             flexString `json:"hint"`
}

// newAPIError builds the error for a non-2xx response. The body is decoded
// whatever its Content-Type (2016 JSON errors came as text/html).
func newAPIError(method string, u *url.URL, status int, body []byte, secrets []string) *APIError {
	e := &APIError{StatusCode: status, Method: method, URL: redactURL(u)}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		e.HTTPCode = string(eb.HTTPCode)
		e.HTTPMessage = string(eb.HTTPMessage)
		e.Message = string(eb.Message)
		e.ErrorClass = string(eb.ErrorClass)
		e.Code = string(eb.Error)
		e.ErrorDescription = string(eb.ErrorDescription)
		e.Hint = string(eb.Hint)
	}
	if e.Message == "" && e.Code == "" && e.ErrorDescription == "" && len(body) > 0 {
		e.Body = truncateBody(string(body))
	}
	// A server may echo what it was sent; never let a secret through.
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		e.Message = strings.ReplaceAll(e.Message, s, redacted)
		e.ErrorDescription = strings.ReplaceAll(e.ErrorDescription, s, redacted)
		e.Hint = strings.ReplaceAll(e.Hint, s, redacted)
		e.Body = strings.ReplaceAll(e.Body, s, redacted)
	}
	return e
}

func truncateBody(s string) string {
	const max = 512
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

const redacted = "REDACTED"

// isSecretParam reports whether a query or form parameter's value must
// never appear in an error string or log line.
func isSecretParam(name string) bool {
	switch strings.ToLower(name) {
	case "access_token", "refresh_token", "client_secret", "code", "code_verifier", "token", "password":
		return true
	}
	return false
}

// urlSecrets returns the values of u's secret query parameters, so that a
// server echoing them in a message cannot leak them.
func urlSecrets(u *url.URL) []string {
	if u == nil || u.RawQuery == "" {
		return nil
	}
	var out []string
	for k, v := range u.Query() {
		if isSecretParam(k) {
			out = append(out, v...)
		}
	}
	return out
}

// redactURL returns u as a string with secret query parameters replaced.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	q := c.Query()
	changed := false
	for k := range q {
		if isSecretParam(k) {
			q.Set(k, redacted)
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// bearerPattern matches tokens that may leak through transport errors.
var bearerPattern = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*`)

// redactError wraps err so that its message has every secret replaced.
// The chain is kept for errors.Is/As.
func redactError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := bearerPattern.ReplaceAllString(msg, "${1}"+redacted)
	for _, s := range secrets {
		if len(s) >= 4 {
			clean = strings.ReplaceAll(clean, s, redacted)
		}
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// parseRetryAfter reads Retry-After as seconds (Lightspeed) or an HTTP date
// (other Lightspeed products); zero when absent or unreadable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
