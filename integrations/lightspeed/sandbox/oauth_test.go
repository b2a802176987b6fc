package sandbox_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

const redirect = "https://app.example.com/oauth/lightspeed/callback"

func oauthEnv(t *testing.T) *env {
	return newEnv(t, sandbox.Options{RedirectURIs: []string{redirect}, AccountName: "Maison Zoë"})
}

// noRedirect is a client that returns redirects instead of following them.
func (e *env) noRedirect() *http.Client {
	c := *e.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func challengeS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize walks the consent page and returns the redirect's query.
func (e *env) authorize(decision string, extra url.Values) url.Values {
	e.t.Helper()
	v := url.Values{"response_type": {"code"}, "client_id": {"tandem-dev"}, "scope": {"employee:customers employee:register_read"}, "state": {"st-123"}}
	for k, x := range extra {
		v[k] = x
	}
	resp, err := e.ts.Client().Get(e.ts.URL + "/auth/oauth/authorize?" + v.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("consent page: status %d: %s", resp.StatusCode, page)
	}
	// Permissions in words, with their scope codes.
	for _, want := range []string{"Maison Zoë", "See and change customers<code>employee:customers</code>",
		"See sales, registers and payments<code>employee:register_read</code>", ">Authorize</button>", ">Deny</button>", `method="post"`, "<style>"} {
		if !strings.Contains(string(page), want) {
			e.t.Errorf("consent page lacks %q", want)
		}
	}
	form := url.Values{"decision": {decision}}
	for k, x := range v {
		form[k] = x
	}
	resp, err = e.noRedirect().PostForm(e.ts.URL+"/auth/oauth/authorize", form)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("consent POST: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
		e.t.Fatalf("redirected to %s, want %s", got, redirect)
	}
	return loc.Query()
}

// tokenCall posts to the token endpoint in the given encoding.
func (e *env) tokenCall(encoding string, p map[string]string) (int, map[string]any) {
	e.t.Helper()
	var body bytes.Buffer
	var ct string
	switch encoding {
	case "json":
		_ = json.NewEncoder(&body).Encode(p)
		ct = "application/json"
	case "form":
		v := url.Values{}
		for k, x := range p {
			v.Set(k, x)
		}
		body.WriteString(v.Encode())
		ct = "application/x-www-form-urlencoded"
	case "multipart":
		mw := multipart.NewWriter(&body)
		for k, x := range p {
			_ = mw.WriteField(k, x)
		}
		mw.Close()
		ct = mw.FormDataContentType()
	}
	resp, err := e.ts.Client().Post(e.ts.URL+"/auth/oauth/token", ct, &body)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, decode(e.t, b)
}

func codeParams(code, verifier string) map[string]string {
	return map[string]string{"grant_type": "authorization_code", "client_id": "tandem-dev", "client_secret": "tandem-dev-secret",
		"code": code, "code_verifier": verifier}
}

func TestOAuthCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	verifier := strings.Repeat("v3r1f13r-", 6)
	for _, enc := range []string{"json", "form", "multipart"} {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			e := oauthEnv(t)
			q := e.authorize("authorize", url.Values{"code_challenge": {challengeS256(verifier)}, "code_challenge_method": {"S256"}})
			if q.Get("state") != "st-123" || q.Get("code") == "" {
				t.Fatalf("callback query %v: want code and state", q)
			}
			status, tok := e.tokenCall(enc, codeParams(q.Get("code"), verifier))
			if status != http.StatusOK {
				t.Fatalf("exchange: %d %v", status, tok)
			}
			if tok["token_type"] != "Bearer" || tok["expires_in"] != 3600.0 || tok["access_token"] == "" || tok["refresh_token"] == "" {
				t.Fatalf("token response %v", tok)
			}
			if _, ok := tok["scope"]; ok {
				t.Error("token response has scope; the current server omits it")
			}
			// The access token is a JWT carrying the account id.
			parts := strings.Split(tok["access_token"].(string), ".")
			if len(parts) != 3 {
				t.Fatalf("access token is not a JWT")
			}
			claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var c map[string]any
			_ = json.Unmarshal(claims, &c)
			if c["acct"] != acct || c["aud"] != "tandem-dev" || c["scope"] != "employee:customers employee:register_read" {
				t.Errorf("claims %v", c)
			}
			resp, body := e.doTok(tok["access_token"].(string), http.MethodGet, "/API/V3/Account.json", "")
			if resp.StatusCode != http.StatusOK {
				t.Errorf("API call with the new token: %d %s", resp.StatusCode, body)
			}
			// A code is single use.
			if status, r := e.tokenCall(enc, codeParams(q.Get("code"), verifier)); status != http.StatusBadRequest || r["error"] != "invalid_grant" {
				t.Errorf("code reuse: %d %v, want 400 invalid_grant", status, r)
			}
		})
	}
}

func TestOAuthCodeErrors(t *testing.T) {
	t.Parallel()
	verifier := strings.Repeat("a", 43)
	tests := []struct {
		name      string
		method    string
		challenge string
		advance   time.Duration
		params    func(code string) map[string]string
		status    int
		errCode   string
		hint      string
	}{
		{"wrong verifier", "S256", challengeS256(verifier), 0,
			func(c string) map[string]string { return codeParams(c, strings.Repeat("b", 43)) }, 400, "invalid_grant", "code_verifier"},
		{"missing verifier", "S256", challengeS256(verifier), 0,
			func(c string) map[string]string { p := codeParams(c, ""); delete(p, "code_verifier"); return p }, 400, "invalid_request", "code_verifier"},
		{"plain verifier ok", "plain", verifier, 0,
			func(c string) map[string]string { return codeParams(c, verifier) }, 200, "", ""},
		{"plain verifier wrong", "plain", verifier, 0,
			func(c string) map[string]string { return codeParams(c, strings.Repeat("c", 43)) }, 400, "invalid_grant", ""},
		{"code expired after 60s", "S256", challengeS256(verifier), 61 * time.Second,
			func(c string) map[string]string { return codeParams(c, verifier) }, 400, "invalid_grant", "expired"},
		{"code still valid at 59s", "S256", challengeS256(verifier), 59 * time.Second,
			func(c string) map[string]string { return codeParams(c, verifier) }, 200, "", ""},
		{"wrong secret", "S256", challengeS256(verifier), 0,
			func(c string) map[string]string { p := codeParams(c, verifier); p["client_secret"] = "nope"; return p }, 401, "invalid_client", ""},
		{"unknown code", "S256", challengeS256(verifier), 0,
			func(string) map[string]string { return codeParams("forged", verifier) }, 400, "invalid_grant", ""},
		{"missing grant_type", "S256", challengeS256(verifier), 0,
			func(c string) map[string]string { p := codeParams(c, verifier); delete(p, "grant_type"); return p }, 400, "invalid_request", "grant_type"},
		{"unsupported grant", "S256", challengeS256(verifier), 0,
			func(c string) map[string]string { p := codeParams(c, verifier); p["grant_type"] = "password"; return p }, 400, "unsupported_grant_type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := oauthEnv(t)
			q := e.authorize("authorize", url.Values{"code_challenge": {tt.challenge}, "code_challenge_method": {tt.method}})
			e.s.Advance(tt.advance)
			status, body := e.tokenCall("form", tt.params(q.Get("code")))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if tt.errCode == "" {
				return
			}
			if body["error"] != tt.errCode || body["error_description"] == "" {
				t.Errorf("body %v, want error %s with a description", body, tt.errCode)
			}
			if hint, _ := body["hint"].(string); !strings.Contains(hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", hint, tt.hint)
			}
		})
	}
}

func TestOAuthAuthorizeDenyAndBadRequests(t *testing.T) {
	t.Parallel()
	e := oauthEnv(t)
	q := e.authorize("deny", nil)
	if q.Get("error") != "access_denied" || q.Get("state") != "st-123" || q.Has("code") {
		t.Errorf("deny callback %v, want error=access_denied and state", q)
	}
	for name, tt := range map[string]struct {
		query, wantErr string
	}{
		"unknown client":         {"response_type=code&client_id=evil&scope=employee:all", "invalid_client"},
		"unregistered redirect":  {"response_type=code&client_id=tandem-dev&scope=employee:all&redirect_uri=https://evil.example/cb", "invalid_client"},
		"unknown scope":          {"response_type=code&client_id=tandem-dev&scope=employee:everything", "invalid_scope"},
		"no scope":               {"response_type=code&client_id=tandem-dev", "invalid_scope"},
		"token response type":    {"response_type=token&client_id=tandem-dev&scope=employee:all", "unsupported_response_type"},
		"bad challenge method":   {"response_type=code&client_id=tandem-dev&scope=employee:all&code_challenge=" + strings.Repeat("x", 43) + "&code_challenge_method=S512", "invalid_request"},
		"challenge out of range": {"response_type=code&client_id=tandem-dev&scope=employee:all&code_challenge=short&code_challenge_method=S256", "invalid_request"},
	} {
		resp, body := e.do(http.MethodGet, "/auth/oauth/authorize?"+tt.query, "")
		if resp.StatusCode != http.StatusBadRequest || decode(t, body)["error"] != tt.wantErr {
			t.Errorf("%s: %d %s, want 400 %s", name, resp.StatusCode, body, tt.wantErr)
		}
	}
}

func refreshParams(rt string) map[string]string {
	return map[string]string{"grant_type": "refresh_token", "client_id": "tandem-dev", "client_secret": "tandem-dev-secret", "refresh_token": rt}
}

func (e *env) apiStatus(tok string) (int, map[string]any) {
	resp, body := e.doTok(tok, http.MethodGet, "Shop.json", "")
	return resp.StatusCode, decode(e.t, body)
}

func TestOAuthRefreshRotationAndDeferredRevocation(t *testing.T) {
	t.Parallel()
	e := oauthEnv(t)
	first := e.s.MintToken()

	// Refresh rotates both tokens.
	status, r2 := e.tokenCall("json", refreshParams(first.RefreshToken))
	if status != http.StatusOK || r2["refresh_token"] == first.RefreshToken || r2["access_token"] == first.AccessToken {
		t.Fatalf("refresh: %d %v; want a new pair", status, r2)
	}
	// Until the new access token is used, the old refresh token may be retried
	// (its response might have been lost), and the old access token works.
	status, r3 := e.tokenCall("form", refreshParams(first.RefreshToken))
	if status != http.StatusOK {
		t.Fatalf("retrying the old refresh token before first use: %d %v", status, r3)
	}
	if s, _ := e.apiStatus(first.AccessToken); s != http.StatusOK {
		t.Errorf("old access token before the new one is used: %d", s)
	}
	// First use of the newest access token revokes the old pair.
	if s, b := e.apiStatus(r3["access_token"].(string)); s != http.StatusOK {
		t.Fatalf("new access token: %d %v", s, b)
	}
	if status, b := e.tokenCall("form", refreshParams(first.RefreshToken)); status != http.StatusBadRequest || b["error"] != "invalid_grant" {
		t.Errorf("old refresh token after the new access token was used: %d %v, want 400 invalid_grant", status, b)
	}
	s, b := e.apiStatus(first.AccessToken)
	if s != http.StatusUnauthorized || b["error"] != "access_denied" || b["hint"] != "Access token has been revoked" {
		t.Errorf("old access token after rotation: %d %v, want 401 revoked", s, b)
	}
	// The newest refresh token rotates on.
	if status, b := e.tokenCall("multipart", refreshParams(r3["refresh_token"].(string))); status != http.StatusOK {
		t.Errorf("refresh with the newest token: %d %v", status, b)
	}
}

func TestOAuthRefreshErrorsAndExpiry(t *testing.T) {
	t.Parallel()
	e := oauthEnv(t)
	pair := e.s.MintToken()
	if status, b := e.tokenCall("json", map[string]string{"grant_type": "refresh_token", "client_id": "tandem-dev", "client_secret": "tandem-dev-secret"}); status != 400 || b["error"] != "invalid_request" {
		t.Errorf("missing refresh_token: %d %v", status, b)
	}
	if status, b := e.tokenCall("json", refreshParams("def50200bogus")); status != 400 || b["error"] != "invalid_grant" {
		t.Errorf("unknown refresh token: %d %v", status, b)
	}
	// Access tokens expire after the TTL; the refresh token still works.
	e.s.Advance(time.Hour)
	if s, b := e.apiStatus(pair.AccessToken); s != http.StatusUnauthorized || b["hint"] != "Access token could not be verified" {
		t.Errorf("expired access token: %d %v", s, b)
	}
	if status, b := e.tokenCall("json", refreshParams(pair.RefreshToken)); status != http.StatusOK {
		t.Errorf("refresh after access expiry: %d %v", status, b)
	}
	// Unused refresh tokens die after 30 days.
	other := e.s.MintToken()
	e.s.Advance(30 * 24 * time.Hour)
	if status, b := e.tokenCall("json", refreshParams(other.RefreshToken)); status != 400 || b["hint"] != "Token has expired" {
		t.Errorf("30-day-old refresh token: %d %v", status, b)
	}
}

func TestOAuthRevoke(t *testing.T) {
	t.Parallel()
	e := oauthEnv(t)
	pair := e.s.MintToken()
	v := url.Values{"client_id": {"tandem-dev"}, "client_secret": {"tandem-dev-secret"}, "refresh_token": {pair.RefreshToken}}
	resp, err := e.ts.Client().PostForm(e.ts.URL+"/auth/oauth/revoke", v)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if s, b := e.apiStatus(pair.AccessToken); s != http.StatusUnauthorized || b["hint"] != "Access token has been revoked" {
		t.Errorf("access token after revoke: %d %v", s, b)
	}
	if status, b := e.tokenCall("form", refreshParams(pair.RefreshToken)); status != 400 || b["error"] != "invalid_grant" {
		t.Errorf("refresh after revoke: %d %v", status, b)
	}
	v.Set("client_secret", "wrong")
	resp, _ = e.ts.Client().PostForm(e.ts.URL+"/auth/oauth/revoke", v)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoke with a wrong secret: %d, want 401", resp.StatusCode)
	}
}

func TestUnauthorizedBodies(t *testing.T) {
	t.Parallel()
	e := oauthEnv(t)
	for name, tc := range map[string]struct{ tok, hint string }{
		"missing": {"", `Missing "Authorization" header`},
		"bogus":   {"not-a-token", "Access token could not be verified"},
	} {
		resp, body := e.doTok(tc.tok, http.MethodGet, "Customer.json", "")
		m := decode(t, body)
		if resp.StatusCode != http.StatusUnauthorized || m["error"] != "access_denied" || m["hint"] != tc.hint ||
			m["error_description"] != "The resource owner or authorization server denied the request." {
			t.Errorf("%s token: %d %s", name, resp.StatusCode, body)
		}
	}
	// Another account's id in the path is refused.
	resp, body := e.do(http.MethodGet, "/API/V3/Account/999/Customer.json", "")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign account: %d %s, want 403", resp.StatusCode, body)
	} else {
		errBody(t, body, "403")
	}
}

func TestOAuthLegacyEndpointDoesNotRotate(t *testing.T) {
	t.Parallel()
	e := oauthEnv(t)
	pair := e.s.MintToken()
	v := url.Values{"grant_type": {"refresh_token"}, "client_id": {"tandem-dev"}, "client_secret": {"tandem-dev-secret"}, "refresh_token": {pair.RefreshToken}}
	for i := range 2 {
		resp, err := e.ts.Client().PostForm(e.ts.URL+"/oauth/access_token.php", v)
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, readAll(t, resp))
		resp.Body.Close()
		if resp.StatusCode != 200 || m["refresh_token"] != nil || m["scope"] != "employee:all systemuserid:1" {
			t.Fatalf("legacy refresh %d: %d %v", i, resp.StatusCode, m)
		}
		if s, _ := e.apiStatus(m["access_token"].(string)); s != 200 {
			t.Errorf("legacy access token refused: %d", s)
		}
	}
}
