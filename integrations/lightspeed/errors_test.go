package lightspeed

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"-4", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second}, // X-Series style
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("Retry-After", tt.in)
		if got := parseRetryAfter(h, now); got != tt.want {
			t.Errorf("Retry-After %q = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://user:pw@api.lightspeedapp.com/API/V3/Account/1/Customer.json?limit=5&access_token=AT1234&Refresh_Token=RT9999&code=C0DE42")
	got := redactURL(u)
	for _, s := range []string{"AT1234", "RT9999", "C0DE42", "pw@"} {
		if strings.Contains(got, s) {
			t.Errorf("%q leaks %q", got, s)
		}
	}
	if !strings.Contains(got, "limit=5") {
		t.Errorf("%q lost the harmless parameter", got)
	}
	if redactURL(nil) != "" {
		t.Error("nil URL")
	}
}

func TestRedactErrorKeepsChain(t *testing.T) {
	t.Parallel()
	base := errors.New("dial: Authorization: Bearer eyJhbGciOi.payload.sig refused, secret s3cr3t-value")
	err := redactError(fmt.Errorf("wrap: %w", base), []string{"s3cr3t-value"})
	if strings.Contains(err.Error(), "eyJhbGciOi") || strings.Contains(err.Error(), "s3cr3t-value") {
		t.Errorf("not redacted: %v", err)
	}
	if !errors.Is(err, base) {
		t.Error("chain lost")
	}
	plain := errors.New("nothing secret")
	if redactError(plain, []string{"xyz1"}) != plain {
		t.Error("clean error was wrapped")
	}
}

func TestTokenValid(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		tok  Token
		want bool
	}{
		{Token{}, false},
		{Token{AccessToken: "a"}, true}, // unknown expiry: use until refused
		{Token{AccessToken: "a", Expiry: now.Add(time.Hour)}, true},
		{Token{AccessToken: "a", Expiry: now.Add(4 * time.Minute)}, false},
		{Token{AccessToken: "a", Expiry: now.Add(-time.Second)}, false},
	}
	for _, tt := range tests {
		if got := tt.tok.Valid(now, 5*time.Minute); got != tt.want {
			t.Errorf("%v.Valid = %v, want %v", tt.tok, got, tt.want)
		}
	}
}

func TestAPIErrorIs(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 400, Code: "invalid_grant"}
	if !errors.Is(e, ErrInvalidGrant) || errors.Is(e, ErrNotFound) || errors.Is(e, ErrUnauthorized) {
		t.Errorf("Is mismatch for %v", e)
	}
	if (&APIError{StatusCode: 404}).Temporary() || !(&APIError{StatusCode: 502}).Temporary() {
		t.Error("Temporary mismatch")
	}
	wrapped := fmt.Errorf("job: %w", &RateLimitError{RetryAfter: time.Second, Err: &APIError{StatusCode: 429}})
	var rl *RateLimitError
	var api *APIError
	if !errors.As(wrapped, &rl) || !errors.As(wrapped, &api) || api.StatusCode != 429 {
		t.Error("RateLimitError does not unwrap to its APIError")
	}
}
