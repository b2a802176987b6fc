package salesforce_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce"
)

const (
	testAccess  = "00D5e000001N20Q!AQ0AQEXAMPLEaccessTokenOne"
	testRefresh = "5Aep861EXAMPLErefreshTokenForTests.xyz"
	apiRoot     = "/services/data/v66.0"
)

// fastRetry keeps retry waits tiny so tests stay quick.
var fastRetry = salesforce.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// setup starts an httptest server standing in for an org's instance and
// returns its mux and a client pointed at it (go-github's shape). Handlers
// that do not check the bearer token accept any.
func setup(t testing.TB, opts ...salesforce.Option) (*http.ServeMux, *salesforce.Client, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tok := salesforce.Token{AccessToken: testAccess, RefreshToken: testRefresh, InstanceURL: srv.URL,
		ID: srv.URL + "/id/00D5e000001N20QEAS/0055e000003E8ooAAC"}
	opts = append([]salesforce.Option{salesforce.WithRetryPolicy(fastRetry)}, opts...)
	c, err := salesforce.NewClient(srv.Client(), tok, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return mux, c, srv
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Sforce-Limit-Info", "api-usage=44/15000")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

func decodeBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Errorf("decode request body: %v", err)
	}
	return m
}

// tokenServer is a fake login host: it answers the refresh grant with a new
// access token (and, if rotate, a new refresh token) and counts refreshes.
type tokenServer struct {
	mu        sync.Mutex
	refreshes int
	rotate    bool
	fail      string // if set, the error code every refresh gets
	next      string // the access token the next refresh returns
	instance  string // the instance_url refreshes return
}

func (ts *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if r.Form.Get("grant_type") != "refresh_token" {
		writeJSON(w, 400, `{"error":"unsupported_grant_type","error_description":"grant type not supported"}`)
		return
	}
	ts.refreshes++
	if ts.fail != "" {
		writeJSON(w, 400, `{"error":"`+ts.fail+`","error_description":"expired access/refresh token"}`)
		return
	}
	resp := map[string]string{"access_token": ts.next, "instance_url": ts.instance, "token_type": "Bearer",
		"issued_at": "1767225600000", "id": "https://login.salesforce.com/id/00D5e000001N20QEAS/0055e000003E8ooAAC"}
	if ts.rotate {
		resp["refresh_token"] = "rotated-" + r.Form.Get("refresh_token")
	}
	b, _ := json.Marshal(resp)
	writeJSON(w, 200, string(b))
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.refreshes
}

// savedTokens records what a SaveTokenFunc was given.
type savedTokens struct {
	mu     sync.Mutex
	tokens []salesforce.Token
	err    error
}

func (s *savedTokens) save(_ context.Context, tok salesforce.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.tokens = append(s.tokens, tok)
	return nil
}

func (s *savedTokens) all() []salesforce.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]salesforce.Token(nil), s.tokens...)
}
