package lightspeed

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeJWT returns an unsigned JWT-shaped token with the given claims.
func fakeJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"RT_OAUTH2_2024_07_08"}`)) + "." + enc([]byte(claims)) + ".sig"
}

// tokenServer is a minimal OAuth server for unit tests: codes with PKCE,
// rotating refresh tokens, and hooks to slow or fail requests.
type tokenServer struct {
	t      *testing.T
	clock  *fakeClock
	mu     sync.Mutex
	codes  map[string]codeGrant
	valid  map[string]bool // refresh tokens
	n      int
	calls  atomic.Int32
	before func() // called at the start of each refresh
	legacy bool   // answer like access_token.php
}

type codeGrant struct {
	challenge string
	expires   time.Time
}

func newTokenServer(t *testing.T, clock *fakeClock) (*tokenServer, *httptest.Server) {
	ts := &tokenServer{t: t, clock: clock, codes: map[string]codeGrant{}, valid: map[string]bool{}}
	srv := httptest.NewServer(ts)
	t.Cleanup(srv.Close)
	return ts, srv
}

func (s *tokenServer) issueCode(challenge string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	code := fmt.Sprintf("code-%d", s.n)
	s.codes[code] = codeGrant{challenge: challenge, expires: s.clock.Now().Add(60 * time.Second)}
	return code
}

func (s *tokenServer) addRefresh(tok string) {
	s.mu.Lock()
	s.valid[tok] = true
	s.mu.Unlock()
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/auth/oauth/token" || r.Method != http.MethodPost {
		writeJSON(w, 405, `{"error":"invalid_request"}`)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, `{"error":"invalid_request"}`)
		return
	}
	if r.PostForm.Get("client_id") != "tandem-dev" || r.PostForm.Get("client_secret") != "tandem-dev-secret" {
		// Echo the submitted secret, as a careless server might.
		writeJSON(w, 401, `{"error":"invalid_client","error_description":"Client authentication failed","message":"secret `+r.PostForm.Get("client_secret")+` wrong"}`)
		return
	}
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, ok := s.codes[r.PostForm.Get("code")]
		delete(s.codes, r.PostForm.Get("code"))
		switch {
		case !ok:
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"The provided authorization grant is invalid","hint":"Authorization code has been revoked"}`)
			return
		case s.clock.Now().After(g.expires):
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"The provided authorization grant is invalid","hint":"Authorization code has expired"}`)
			return
		case S256Challenge(r.PostForm.Get("code_verifier")) != g.challenge:
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"The provided authorization grant is invalid","hint":"Failed to verify code_verifier"}`)
			return
		}
	case "refresh_token":
		if r.PostForm.Has("scope") {
			writeJSON(w, 400, `{"error":"invalid_scope"}`)
			return
		}
		if s.before != nil {
			s.mu.Unlock()
			s.before()
			s.mu.Lock()
		}
		rt := r.PostForm.Get("refresh_token")
		if !s.valid[rt] {
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"The refresh token is invalid.","hint":"Token has been revoked"}`)
			return
		}
		if !s.legacy {
			delete(s.valid, rt)
		}
	default:
		writeJSON(w, 400, `{"error":"unsupported_grant_type"}`)
		return
	}
	s.n++
	access := fakeJWT(fmt.Sprintf(`{"acct":"182255","sub":"5","exp":%d.2479,"n":%d}`, s.clock.Now().Add(time.Hour).Unix(), s.n))
	if s.legacy {
		writeJSON(w, 200, fmt.Sprintf(`{"access_token":"legacy-%d","expires_in":"1800","token_type":"bearer","scope":"employee:all systemuserid:393608"}`, s.n))
		return
	}
	refresh := fmt.Sprintf("def50200-refresh-%d", s.n)
	s.valid[refresh] = true
	writeJSON(w, 200, fmt.Sprintf(`{"token_type":"Bearer","expires_in":3600,"access_token":%q,"refresh_token":%q}`, access, refresh))
}

func testConfig(srv *httptest.Server, clock *fakeClock) *Config {
	return &Config{
		ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret",
		Endpoint: CurrentEndpoint(srv.URL), Scopes: []string{"employee:customers", "employee:register_read"},
		HTTPClient: srv.Client(), Now: clock.Now,
	}
}

func TestAuthCodeURL(t *testing.T) {
	t.Parallel()
	cfg := &Config{ClientID: "tandem-dev", Scopes: []string{"employee:customers", "employee:register_read"}}
	p, err := NewPKCE()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Verifier) < 43 || len(p.Verifier) > 128 || strings.ContainsAny(p.Verifier, "+/=") {
		t.Errorf("verifier %q violates RFC 7636", p.Verifier)
	}
	u, err := url.Parse(cfg.AuthCodeURL("st-1", p))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != "https://cloud.lightspeedapp.com/auth/oauth/authorize" {
		t.Errorf("endpoint = %s", got)
	}
	q := u.Query()
	want := map[string]string{
		"response_type": "code", "client_id": "tandem-dev", "state": "st-1",
		"scope": "employee:customers employee:register_read", "code_challenge": p.Challenge, "code_challenge_method": "S256",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if !strings.Contains(u.RawQuery, "scope=employee%3Acustomers+employee%3Aregister_read") {
		t.Errorf("scopes not +-joined: %s", u.RawQuery)
	}
	// RFC 7636 appendix B test vector.
	if got := S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("S256Challenge = %s", got)
	}
	if l := LegacyEndpoint("https://cloud.merchantos.com/"); l.TokenURL != "https://cloud.merchantos.com/oauth/access_token.php" {
		t.Errorf("legacy = %+v", l)
	}
}

func TestExchange(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts, srv := newTokenServer(t, clock)
	cfg := testConfig(srv, clock)
	p, _ := NewPKCE()

	tok, err := cfg.Exchange(t.Context(), ts.issueCode(p.Challenge), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccountID != 182255 || tok.RefreshToken == "" || !tok.Expiry.Equal(clock.Now().Add(time.Hour)) || tok.TokenType != "Bearer" {
		t.Errorf("token = %+v (expiry %s)", tok, tok.Expiry)
	}

	tests := []struct {
		name     string
		code     func() string
		verifier string
		hint     string
	}{
		{"wrong verifier", func() string { return ts.issueCode(p.Challenge) }, "not-the-verifier-not-the-verifier-not-the-verifier", "code_verifier"},
		{"missing verifier", func() string { return ts.issueCode(p.Challenge) }, "", "code_verifier"},
		{"expired code", func() string { c := ts.issueCode(p.Challenge); clock.Sleep(t.Context(), 61*time.Second); return c }, p.Verifier, "expired"},
		{"unknown code", func() string { return "code-nope" }, p.Verifier, "revoked"},
	}
	for _, tt := range tests {
		code := tt.code()
		_, err := cfg.Exchange(t.Context(), code, tt.verifier)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || !errors.Is(err, ErrInvalidGrant) || !strings.Contains(apiErr.Hint, tt.hint) {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		for _, secret := range []string{code, tt.verifier, "tandem-dev-secret"} {
			if secret != "" && strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error leaks %q: %v", tt.name, secret, err)
			}
		}
	}

	bad := *cfg
	bad.ClientSecret = "tandem-dev-secret-wrong"
	_, err = bad.Exchange(t.Context(), ts.issueCode(p.Challenge), p.Verifier)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "invalid_client" || strings.Contains(err.Error(), "tandem-dev-secret-wrong") {
		t.Errorf("bad secret: err = %v", err)
	}
}

func TestRefreshRotatesAndLegacyKeepsToken(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts, srv := newTokenServer(t, clock)
	cfg := testConfig(srv, clock)
	ts.addRefresh("r0")
	t1, err := cfg.Refresh(t.Context(), "r0")
	if err != nil || t1.RefreshToken == "r0" || t1.RefreshToken == "" {
		t.Fatalf("rotation: %+v, %v", t1, err)
	}
	if _, err := cfg.Refresh(t.Context(), "r0"); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("reused refresh token: err = %v", err)
	}
	if _, err := cfg.Refresh(t.Context(), ""); err == nil {
		t.Error("empty refresh token accepted")
	}

	clock2 := newFakeClock()
	ts2, srv2 := newTokenServer(t, clock2)
	ts2.legacy = true
	ts2.addRefresh("old-r")
	cfg2 := testConfig(srv2, clock2)
	cfg2.Endpoint.TokenURL = srv2.URL + "/auth/oauth/token"
	t2, err := cfg2.Refresh(t.Context(), "old-r")
	if err != nil {
		t.Fatal(err)
	}
	if t2.RefreshToken != "old-r" || t2.Scope != "employee:all systemuserid:393608" || !t2.Expiry.Equal(clock2.Now().Add(30*time.Minute)) {
		t.Errorf("legacy token = %+v", t2)
	}
}

func TestJWTClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tok  string
		acct int64
		exp  int64
	}{
		{fakeJWT(`{"acct":"120645","exp":1720462133.2479}`), 120645, 1720462133},
		{fakeJWT(`{"acct":120645}`), 120645, 0},
		{fakeJWT(`{"acct":"x"}`), 0, 0},
		{"def50200opaque", 0, 0},
		{"a.!!!.c", 0, 0},
	}
	for _, tt := range tests {
		c := jwtClaims(tt.tok)
		if c.account != tt.acct || (tt.exp != 0 && c.exp.Unix() != tt.exp) {
			t.Errorf("%s: %+v", tt.tok, c)
		}
	}
}

func TestTokenRedacted(t *testing.T) {
	t.Parallel()
	tok := Token{AccessToken: "acc-SECRET", RefreshToken: "ref-SECRET", AccountID: 5}
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("tok", "t", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), logs.String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("leak: %s", s)
		}
	}
}

func TestTokenSourceRefreshAheadAndPersistFirst(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts, srv := newTokenServer(t, clock)
	cfg := testConfig(srv, clock)
	ts.addRefresh("r0")
	var persisted []Token
	failPersist := true
	src, err := NewTokenSource(cfg, Token{AccessToken: "a0", RefreshToken: "r0", Expiry: clock.Now().Add(10 * time.Minute)},
		TokenSourceOptions{Persist: func(ctx context.Context, tk Token) error {
			persisted = append(persisted, tk)
			if failPersist {
				return errors.New("db down")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if tk, _ := src.Token(t.Context()); tk.AccessToken != "a0" || ts.calls.Load() != 0 {
		t.Fatalf("fresh token refreshed: %+v", tk)
	}
	clock.Sleep(t.Context(), 6*time.Minute) // inside the 5-minute refresh-ahead window
	if _, err := src.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "db down") {
		t.Fatalf("persist failure not surfaced: %v", err)
	}
	if cur := src.Current(); cur.AccessToken != "a0" {
		t.Fatalf("unpersisted token adopted: %+v", cur)
	}
	if len(persisted) != 1 {
		t.Fatalf("persist calls = %d", len(persisted))
	}
	// The server here revokes immediately, so the old refresh token is gone;
	// Lightspeed defers that until the new access token is used, which is
	// why not using it is safe. Give the source a token the server knows.
	ts.addRefresh("r0")
	failPersist = false
	tk, err := src.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tk.AccessToken == "a0" || tk.AccountID != 182255 || persisted[len(persisted)-1].AccessToken != tk.AccessToken {
		t.Errorf("token = %+v, persisted = %+v", tk, persisted[len(persisted)-1])
	}
}

func TestTokenSourceRefreshRace(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts, srv := newTokenServer(t, clock)
	cfg := testConfig(srv, clock)
	ts.addRefresh("r0")
	var persists atomic.Int32
	src, err := NewTokenSource(cfg, Token{AccessToken: "a0", RefreshToken: "r0", Expiry: clock.Now().Add(-time.Minute)},
		TokenSourceOptions{Persist: func(context.Context, Token) error { persists.Add(1); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	// Hold the refresh on the server until both goroutines have asked for
	// a token, so the second one really contends with the first.
	var asked sync.WaitGroup
	asked.Add(2)
	ts.before = func() {
		asked.Wait()
		time.Sleep(20 * time.Millisecond) // let the second caller reach the lock
	}
	var wg sync.WaitGroup
	got := make([]Token, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			asked.Done()
			got[i], errs[i] = src.Token(t.Context())
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
	}
	if ts.calls.Load() != 1 || persists.Load() != 1 {
		t.Errorf("refreshes = %d, persists = %d; want exactly 1 each", ts.calls.Load(), persists.Load())
	}
	if got[0].AccessToken != got[1].AccessToken || got[0].AccessToken == "a0" {
		t.Errorf("tokens differ: %v vs %v", got[0], got[1])
	}
}

func TestTokenSourceLockAndReload(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts, srv := newTokenServer(t, clock)
	cfg := testConfig(srv, clock)
	var locked, unlocked atomic.Int32
	other := Token{AccessToken: "rotated-by-other-process", RefreshToken: "r9", Expiry: clock.Now().Add(time.Hour)}
	src, _ := NewTokenSource(cfg, Token{AccessToken: "a0", RefreshToken: "r0", Expiry: clock.Now()},
		TokenSourceOptions{
			Persist: func(context.Context, Token) error { t.Error("persisted without refreshing"); return nil },
			Lock: func(context.Context) (func(), error) {
				locked.Add(1)
				return func() { unlocked.Add(1) }, nil
			},
			Reload: func(context.Context) (Token, error) { return other, nil },
		})
	tk, err := src.Token(t.Context())
	if err != nil || tk.AccessToken != other.AccessToken {
		t.Fatalf("token = %v, %v", tk, err)
	}
	if ts.calls.Load() != 0 || locked.Load() != 1 || unlocked.Load() != 1 {
		t.Errorf("calls=%d locked=%d unlocked=%d", ts.calls.Load(), locked.Load(), unlocked.Load())
	}

	src2, _ := NewTokenSource(cfg, Token{AccessToken: "a0", RefreshToken: "r0", Expiry: clock.Now()},
		TokenSourceOptions{
			Persist: func(context.Context, Token) error { return nil },
			Lock:    func(context.Context) (func(), error) { return nil, errors.New("lock timeout") },
		})
	if _, err := src2.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "lock timeout") {
		t.Errorf("lock failure: %v", err)
	}
}

func TestClientRefreshesOnceOn401(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts, srv := newTokenServer(t, clock)
	cfg := testConfig(srv, clock)
	ts.addRefresh("r0")
	src, _ := NewTokenSource(cfg, Token{AccessToken: "revoked-a0", RefreshToken: "r0", Expiry: clock.Now().Add(time.Hour)},
		TokenSourceOptions{Persist: func(context.Context, Token) error { return nil }})
	c, mux, _ := setup(t, src)
	var calls atomic.Int32
	mux.HandleFunc("GET "+acctPath("Shop/1.json"), func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") == "Bearer revoked-a0" {
			writeJSON(w, 401, `{"error":"access_denied","error_description":"The resource owner or authorization server denied the request.","hint":"Access token has been revoked"}`)
			return
		}
		writeJSON(w, 200, `{"Shop":{"shopID":"1"}}`)
	})
	if _, resp, err := c.Shops.Get(t.Context(), 1, nil); err != nil || resp.Attempts != 1 {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 2 || ts.calls.Load() != 1 {
		t.Errorf("api calls = %d, refreshes = %d", calls.Load(), ts.calls.Load())
	}

	// A refresh that is refused surfaces as ErrInvalidGrant (needs_reauth).
	src2, _ := NewTokenSource(cfg, Token{AccessToken: "revoked-a0", RefreshToken: "dead", Expiry: clock.Now().Add(time.Hour)},
		TokenSourceOptions{Persist: func(context.Context, Token) error { return nil }})
	c2, mux2, _ := setup(t, src2)
	mux2.HandleFunc("GET "+acctPath("Shop/1.json"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"error":"access_denied","hint":"Access token has been revoked"}`)
	})
	_, _, err := c2.Shops.Get(t.Context(), 1, nil)
	if !errors.Is(err, ErrInvalidGrant) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("err = %v", err)
	}

	// A token that stays rejected after one refresh is a 401 error, not a loop.
	ts.addRefresh("r5")
	src3, _ := NewTokenSource(cfg, Token{AccessToken: "x", RefreshToken: "r5", Expiry: clock.Now().Add(time.Hour)},
		TokenSourceOptions{Persist: func(context.Context, Token) error { return nil }})
	c3, mux3, _ := setup(t, src3)
	var n atomic.Int32
	mux3.HandleFunc("GET "+acctPath("Shop/1.json"), func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 401, `{"httpCode":"401","httpMessage":"Unauthorized","message":"Invalid access token.","errorClass":"BadAuthenticationRequestError"}`)
	})
	if _, _, err := c3.Shops.Get(t.Context(), 1, nil); !errors.Is(err, ErrUnauthorized) || n.Load() != 2 {
		t.Errorf("err = %v, calls = %d", err, n.Load())
	}
}
