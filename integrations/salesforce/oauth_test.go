package salesforce_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

func TestMyDomainLoginURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "acme", want: "https://acme.my.salesforce.com"},
		{in: "acme.my.salesforce.com", want: "https://acme.my.salesforce.com"},
		{in: " https://ACME.my.salesforce.com/ ", want: "https://acme.my.salesforce.com"},
		{in: "https://acme--uat.sandbox.my.salesforce.com", want: "https://acme--uat.sandbox.my.salesforce.com"},
		{in: "login.salesforce.com", want: salesforce.ProductionLoginURL},
		{in: "https://test.salesforce.com", want: salesforce.SandboxLoginURL},
		{in: "", wantErr: "empty"},
		{in: "https://https://acme.my.salesforce.com", wantErr: "scheme twice"},
		{in: "acme.lightning.force.com", wantErr: "use acme.my.salesforce.com"},
		{in: "https://acme.my.salesforce.com/lightning/page/home", wantErr: "has a path"},
		{in: "acme.example.com", wantErr: "must end in .my.salesforce.com"},
		{in: "acme.my.salesforce.com:8443", wantErr: "not a host name"},
		{in: "ac_me.my.salesforce.com", wantErr: "not a valid My Domain name"},
		{in: "-acme.my.salesforce.com", wantErr: "not a valid My Domain name"},
		{in: "acme.my.site.com", wantErr: "must end in .my.salesforce.com"},
		{in: "acme--c.vf.force.com", wantErr: "Visualforce"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := salesforce.MyDomainLoginURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("MyDomainLoginURL(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("MyDomainLoginURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestStartAuth(t *testing.T) {
	t.Parallel()
	for _, login := range []string{salesforce.ProductionLoginURL, salesforce.SandboxLoginURL, "https://acme.my.salesforce.com"} {
		t.Run(login, func(t *testing.T) {
			t.Parallel()
			cfg := &salesforce.OAuthConfig{ClientID: "cid", ClientSecret: "secret-value", RedirectURL: "https://app.test/cb", LoginURL: login}
			ar, err := cfg.StartAuth()
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(ar.URL)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != login+"/services/oauth2/authorize" {
				t.Errorf("authorize endpoint = %s", got)
			}
			q := u.Query()
			want := map[string]string{
				"response_type": "code", "client_id": "cid", "redirect_uri": "https://app.test/cb",
				"scope": "api refresh_token offline_access id", "state": ar.State,
				"code_challenge": salesforce.CodeChallenge(ar.Verifier), "code_challenge_method": "S256",
			}
			for k, v := range want {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v)
				}
			}
			if strings.Contains(ar.URL, "secret-value") {
				t.Error("authorize URL carries the client secret")
			}
			ar2, _ := cfg.StartAuth()
			if ar2.State == ar.State || ar2.Verifier == ar.Verifier || len(ar.Verifier) < 43 {
				t.Errorf("state/verifier not fresh or too short: %q %q", ar.State, ar.Verifier)
			}
		})
	}
}

func TestCodeChallengeRFC7636(t *testing.T) {
	t.Parallel()
	// The example of RFC 7636 appendix B.
	got := salesforce.CodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	if want := "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; got != want {
		t.Errorf("CodeChallenge = %s, want %s", got, want)
	}
}

func TestCallbackCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		query    string
		state    string
		wantCode string
		check    func(error) bool
	}{
		{name: "ok", query: "code=aPrx&state=s1", state: "s1", wantCode: "aPrx"},
		{name: "state mismatch", query: "code=aPrx&state=evil", state: "s1", check: func(err error) bool { return errors.Is(err, salesforce.ErrStateMismatch) }},
		{name: "no state issued", query: "code=aPrx&state=", state: "", check: func(err error) bool { return errors.Is(err, salesforce.ErrStateMismatch) }},
		{name: "denied", query: "error=access_denied&error_description=end-user+denied+authorization&state=s1", state: "s1", check: func(err error) bool {
			var oe *salesforce.OAuthError
			return errors.As(err, &oe) && oe.Code == "access_denied" && oe.Description == "end-user denied authorization"
		}},
		{name: "no code", query: "state=s1", state: "s1", check: func(err error) bool { return err != nil && strings.Contains(err.Error(), "no code") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, _ := url.ParseQuery(tt.query)
			code, err := salesforce.CallbackCode(q, tt.state)
			if tt.check != nil {
				if !tt.check(err) {
					t.Fatalf("CallbackCode = %q, %v: unexpected error", code, err)
				}
				return
			}
			if err != nil || code != tt.wantCode {
				t.Fatalf("CallbackCode = %q, %v; want %q", code, err, tt.wantCode)
			}
		})
	}
}

func sign(secret, id, issuedAt string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + issuedAt))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// pkceLoginServer is a login host that issues one code bound to a challenge
// and checks the verifier like Salesforce does.
func pkceLoginServer(t *testing.T, challenge string, badSignature bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := r.PostForm
		switch {
		case r.URL.Path != "/services/oauth2/token" || f.Get("grant_type") != "authorization_code":
			writeJSON(w, 400, `{"error":"unsupported_grant_type","error_description":"grant type not supported"}`)
		case f.Get("client_id") != "cid" || f.Get("client_secret") != "secret-value":
			writeJSON(w, 400, `{"error":"invalid_client","error_description":"invalid client credentials"}`)
		case f.Get("code") != "the-code":
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"invalid authorization code"}`)
		case f.Get("code_verifier") == "":
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"invalid code verifier"}`)
		case salesforce.CodeChallenge(f.Get("code_verifier")) != challenge:
			writeJSON(w, 400, `{"error":"invalid_request","error_description":"invalid code verifier"}`)
		default:
			id, issued := "https://login.salesforce.com/id/00D5e000001N20QEAS/0055e000003E8ooAAC", "1767225600000"
			sig := sign("secret-value", id, issued)
			if badSignature {
				sig = sign("other", id, issued)
			}
			writeJSON(w, 200, fmt.Sprintf(`{"access_token":"%s","refresh_token":"%s","signature":"%s","scope":"refresh_token id api",
				"instance_url":"https://tandem-demo.my.salesforce.com","id":"%s","token_type":"Bearer","issued_at":"%s"}`,
				testAccess, testRefresh, sig, id, issued))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestExchangePKCE(t *testing.T) {
	t.Parallel()
	cfg0 := salesforce.OAuthConfig{ClientID: "cid", ClientSecret: "secret-value", RedirectURL: "https://app.test/cb"}
	ar, err := (&salesforce.OAuthConfig{ClientID: "cid", RedirectURL: "https://x.test/cb", LoginURL: salesforce.ProductionLoginURL}).StartAuth()
	if err != nil {
		t.Fatal(err)
	}
	challenge := salesforce.CodeChallenge(ar.Verifier)

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		srv := pkceLoginServer(t, challenge, false)
		cfg := cfg0
		cfg.LoginURL, cfg.HTTPClient = srv.URL, srv.Client()
		tok, err := cfg.Exchange(t.Context(), "the-code", ar.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		want := salesforce.Token{AccessToken: testAccess, RefreshToken: testRefresh, InstanceURL: "https://tandem-demo.my.salesforce.com",
			ID: "https://login.salesforce.com/id/00D5e000001N20QEAS/0055e000003E8ooAAC", IssuedAt: time.UnixMilli(1767225600000).UTC(),
			Scope: "refresh_token id api", TokenType: "Bearer", Signature: tok.Signature}
		if diff := cmp.Diff(want, tok); diff != "" {
			t.Errorf("token (-want +got):\n%s", diff)
		}
		if tok.OrgID() != "00D5e000001N20QEAS" || tok.UserID() != "0055e000003E8ooAAC" {
			t.Errorf("OrgID/UserID = %s/%s", tok.OrgID(), tok.UserID())
		}
	})
	failures := []struct {
		name, verifier, code string
		wantCode             string
	}{
		{name: "wrong verifier", verifier: "not-the-verifier-at-all-not-the-verifier-at-all", code: "the-code", wantCode: "invalid_request"},
		{name: "missing verifier", verifier: "", code: "the-code", wantCode: "invalid_grant"},
		{name: "bad code", verifier: ar.Verifier, code: "stolen", wantCode: "invalid_grant"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pkceLoginServer(t, challenge, false)
			cfg := cfg0
			cfg.LoginURL, cfg.HTTPClient = srv.URL, srv.Client()
			_, err := cfg.Exchange(t.Context(), tt.code, tt.verifier)
			var oe *salesforce.OAuthError
			if !errors.As(err, &oe) || oe.Code != tt.wantCode || oe.StatusCode != 400 {
				t.Fatalf("Exchange error = %v, want OAuthError %s", err, tt.wantCode)
			}
			if strings.Contains(err.Error(), "secret-value") || (tt.verifier != "" && strings.Contains(err.Error(), tt.verifier)) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
	t.Run("tampered signature", func(t *testing.T) {
		t.Parallel()
		srv := pkceLoginServer(t, challenge, true)
		cfg := cfg0
		cfg.LoginURL, cfg.HTTPClient = srv.URL, srv.Client()
		if _, err := cfg.Exchange(t.Context(), "the-code", ar.Verifier); err == nil || !strings.Contains(err.Error(), "signature") {
			t.Fatalf("Exchange = %v, want signature error", err)
		}
	})
}

func TestOAuthConfigRejectsBadLoginURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "login.salesforce.com", "http://login.salesforce.com", "ftp://x"} {
		cfg := &salesforce.OAuthConfig{ClientID: "cid", RedirectURL: "https://a/cb", LoginURL: u}
		if _, err := cfg.StartAuth(); err == nil {
			t.Errorf("StartAuth with login URL %q: no error", u)
		}
		if _, err := cfg.Refresh(t.Context(), "r"); err == nil {
			t.Errorf("Refresh with login URL %q: no error", u)
		}
	}
}

func TestRefreshGrant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		rotate      bool
		wantRefresh string
	}{
		{name: "refresh token kept", wantRefresh: testRefresh},
		{name: "rotated", rotate: true, wantRefresh: "rotated-" + testRefresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{rotate: tt.rotate, next: "new-access", instance: "https://acme.my.salesforce.com"}
			srv := httptest.NewServer(ts)
			defer srv.Close()
			cfg := &salesforce.OAuthConfig{ClientID: "cid", LoginURL: srv.URL}
			tok, err := cfg.Refresh(t.Context(), testRefresh)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "new-access" || tok.RefreshToken != tt.wantRefresh {
				t.Errorf("token = %s / %s, want new-access / %s", tok.AccessToken, tok.RefreshToken, tt.wantRefresh)
			}
		})
	}
}

func TestRefreshRetriesConcurrentRefreshError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"token request is already being processed"}`)
			return
		}
		writeJSON(w, 200, `{"access_token":"new","instance_url":"https://acme.my.salesforce.com","issued_at":"1767225600000"}`)
	}))
	defer srv.Close()
	cfg := &salesforce.OAuthConfig{ClientID: "cid", LoginURL: srv.URL, ConcurrentRetryDelay: time.Millisecond}
	tok, err := cfg.Refresh(t.Context(), testRefresh)
	if err != nil || tok.AccessToken != "new" || calls.Load() != 3 {
		t.Fatalf("Refresh = %v, %v after %d calls; want success after 3", tok, err, calls.Load())
	}
}

func TestOAuthErrorClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op, code, desc       string
		terminal, concurrent bool
		rateLimit            bool
	}{
		{"refresh", "invalid_grant", "expired access/refresh token", true, false, false},
		{"refresh", "invalid_grant", "token request is already being processed", false, true, false},
		// §1.6: the same race, as Salesforce worded it before late 2024.
		{"refresh", "invalid_grant", "expired authorization code", false, true, false},
		{"exchange code", "invalid_grant", "expired authorization code", true, false, false},
		{"refresh", "invalid_grant", "authentication failure", true, false, false},
		{"refresh", "inactive_user", "", true, false, false},
		{"refresh", "inactive_org", "", true, false, false},
		{"refresh", "invalid_client_id", "client identifier invalid", true, false, false},
		{"refresh", "rate_limit_exceeded", "", false, false, true},
		{"refresh", "unsupported_grant_type", "grant type not supported", false, false, false},
	}
	for _, tt := range tests {
		e := &salesforce.OAuthError{Op: tt.op, Code: tt.code, Description: tt.desc, StatusCode: 400}
		if e.Terminal() != tt.terminal || e.Concurrent() != tt.concurrent {
			t.Errorf("%s %s %q: Terminal=%v Concurrent=%v, want %v %v", tt.op, tt.code, tt.desc, e.Terminal(), e.Concurrent(), tt.terminal, tt.concurrent)
		}
		if salesforce.IsSessionError(e) != tt.terminal || salesforce.IsTransient(e) != tt.concurrent {
			t.Errorf("%s %s %q: IsSessionError/IsTransient disagree", tt.op, tt.code, tt.desc)
		}
		if got := salesforce.IsRateLimit(e); got != tt.rateLimit {
			t.Errorf("%s %s %q: IsRateLimit = %v, want %v", tt.op, tt.code, tt.desc, got, tt.rateLimit)
		}
	}
}

func TestTokenRedacted(t *testing.T) {
	t.Parallel()
	tok := salesforce.Token{AccessToken: "SECRET-ACCESS", RefreshToken: "SECRET-REFRESH", InstanceURL: "https://acme.my.salesforce.com"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("connected", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), buf.String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("secret printed: %s", s)
		}
		if !strings.Contains(s, "acme.my.salesforce.com") {
			t.Errorf("instance URL missing from %s", s)
		}
	}
}

func TestPasswordLoginAndRevoke(t *testing.T) {
	t.Parallel()
	var revoked atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		switch r.URL.Path {
		case "/services/oauth2/token":
			if r.PostForm.Get("password") != "sandbox-password" {
				writeJSON(w, 400, `{"error":"invalid_grant","error_description":"authentication failure"}`)
				return
			}
			writeJSON(w, 200, `{"access_token":"a","instance_url":"https://acme.my.salesforce.com","issued_at":"1767225600000"}`)
		case "/services/oauth2/revoke":
			revoked.Store(r.PostForm.Get("token"))
			w.WriteHeader(200)
		}
	}))
	defer srv.Close()
	cfg := &salesforce.OAuthConfig{ClientID: "cid", LoginURL: srv.URL}
	if _, err := cfg.PasswordLogin(t.Context(), "admin@tandem.test", "sandbox-password"); err != nil {
		t.Fatal(err)
	}
	_, err := cfg.PasswordLogin(t.Context(), "admin@tandem.test", "wrong-password-123")
	if !salesforce.IsSessionError(err) || strings.Contains(err.Error(), "wrong-password-123") {
		t.Fatalf("bad password: %v", err)
	}
	if err := cfg.Revoke(t.Context(), "a"); err != nil || revoked.Load() != "a" {
		t.Fatalf("Revoke = %v, revoked %v", err, revoked.Load())
	}
}

// TestRefreshResponseForms feeds the refresh grant the token-response forms
// of reference §1.4 and §1.6.
func TestRefreshResponseForms(t *testing.T) {
	t.Parallel()
	const (
		id     = "https://login.salesforce.com/id/00D5e000001N20QEAS/0055e000003E8ooAAC"
		secret = "secret-value"
	)
	ms := time.UnixMilli(1767225600000).UTC()
	tests := []struct {
		name       string
		body       func() string
		wantIssued time.Time
		wantRT     string
		wantErr    string
	}{
		{name: "no refresh_token: the old one stays", wantIssued: ms, wantRT: testRefresh, body: func() string {
			return `{"access_token":"new","signature":"` + sign(secret, id, "1767225600000") + `","scope":"refresh_token id api",
				"instance_url":"https://tandem-demo.my.salesforce.com","id":"` + id + `","token_type":"Bearer","issued_at":"1767225600000"}`
		}},
		{name: "rotation returns a new refresh_token", wantIssued: ms, wantRT: "5Aep861rotated", body: func() string {
			return `{"access_token":"new","refresh_token":"5Aep861rotated","signature":"` + sign(secret, id, "1767225600000") + `",
				"instance_url":"https://tandem-demo.my.salesforce.com","id":"` + id + `","token_type":"Bearer","issued_at":"1767225600000"}`
		}},
		{name: "issued_at as a bare number", wantIssued: ms, wantRT: testRefresh, body: func() string {
			return `{"access_token":"new","signature":"` + sign(secret, id, "1767225600000") + `",
				"instance_url":"https://tandem-demo.my.salesforce.com","id":"` + id + `","issued_at":1767225600000}`
		}},
		{name: "issued_at in seconds, as some doc text says", wantIssued: ms, wantRT: testRefresh, body: func() string {
			return `{"access_token":"new","instance_url":"https://tandem-demo.my.salesforce.com","id":"` + id + `","issued_at":"1767225600"}`
		}},
		{name: "no issued_at or signature", wantRT: testRefresh, body: func() string {
			return `{"access_token":"new","instance_url":"https://tandem-demo.my.salesforce.com","id":"` + id + `"}`
		}},
		{name: "Experience Cloud and OpenID extras ignored", wantIssued: ms, wantRT: testRefresh, body: func() string {
			return `{"access_token":"new","instance_url":"https://tandem-demo.my.salesforce.com","id":"` + id + `","issued_at":"1767225600000",
				"id_token":"eyJ.x.y","sfdc_community_url":"https://acme.my.site.com","sfdc_community_id":"0DBRM0000000001"}`
		}},
		{name: "signature over another issued_at", wantErr: "signature", body: func() string {
			return `{"access_token":"new","signature":"` + sign(secret, id, "1767225600001") + `",
				"instance_url":"https://tandem-demo.my.salesforce.com","id":"` + id + `","issued_at":"1767225600000"}`
		}},
		{name: "no instance_url", wantErr: "instance_url", body: func() string {
			return `{"access_token":"new","id":"` + id + `","issued_at":"1767225600000"}`
		}},
		{name: "not JSON", wantErr: "decode token response", body: func() string { return `<html>maintenance</html>` }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, tt.body())
			}))
			defer srv.Close()
			cfg := &salesforce.OAuthConfig{ClientID: "cid", ClientSecret: secret, LoginURL: srv.URL}
			tok, err := cfg.Refresh(t.Context(), testRefresh)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Refresh = %v, want error with %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testRefresh) || strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "new" || tok.RefreshToken != tt.wantRT || !tok.IssuedAt.Equal(tt.wantIssued) ||
				tok.InstanceURL != "https://tandem-demo.my.salesforce.com" || tok.OrgID() != "00D5e000001N20QEAS" {
				t.Errorf("token = %+v issued %v, want refresh %s issued %v", tok, tok.IssuedAt, tt.wantRT, tt.wantIssued)
			}
		})
	}
}

// TestLoginHostOutageIsTransient: a refresh that meets a 5xx page from the
// login host (§6.2: 502/503 are retried with backoff) is neither a dead
// connection nor a permanent failure.
func TestLoginHostOutageIsTransient(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, "<html>Service Unavailable</html>")
		}))
		cfg := &salesforce.OAuthConfig{ClientID: "cid", LoginURL: srv.URL}
		_, err := cfg.Refresh(t.Context(), testRefresh)
		srv.Close()
		if err == nil || !salesforce.IsTransient(err) || salesforce.IsSessionError(err) {
			t.Errorf("%d: err = %v, transient %v, session %v; want transient only", status, err, salesforce.IsTransient(err), salesforce.IsSessionError(err))
		}
	}
}

// TestRevokeForms covers the revoke answers of reference §1.7: 200 with an
// empty body, a redirect to the instance ending in 202, and 400 errors in
// JSON or in the form encoding.
func TestRevokeForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantCode string
	}{
		{name: "200 empty", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }},
		{name: "redirect then 202", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/services/oauth2/revoke" {
				http.Redirect(w, r, "/instance/revoke", http.StatusFound)
				return
			}
			w.WriteHeader(202)
		}},
		{name: "JSON error", wantCode: "unsupported_token_type", handler: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, `{"error":"unsupported_token_type","error_description":"this token type is not supported"}`)
		}},
		{name: "form-encoded error", wantCode: "invalid_token", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			w.WriteHeader(400)
			io.WriteString(w, "error=invalid_token&error_description=invalid+token")
		}},
		{name: "HTML error page", wantCode: "Bad Request", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, "<html><body>error=oops</body></html>")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			cfg := &salesforce.OAuthConfig{ClientID: "cid", LoginURL: srv.URL}
			err := cfg.Revoke(t.Context(), testRefresh)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Revoke = %v", err)
				}
				return
			}
			var oe *salesforce.OAuthError
			if !errors.As(err, &oe) || oe.Code != tt.wantCode || oe.StatusCode != 400 {
				t.Fatalf("Revoke = %#v, want code %q", err, tt.wantCode)
			}
			if strings.Contains(err.Error(), testRefresh) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}
