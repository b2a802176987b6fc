package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testRedirect = "http://localhost:9999/callback"

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// consent posts the consent form with the decision and returns the redirect
// target's query.
func (b *bundle) consent(t *testing.T, decision string, params url.Values) url.Values {
	t.Helper()
	params.Set("decision", decision)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, b.ts.URL+"/services/oauth2/authorize", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("consent: status %d, want 302", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), testRedirect) {
		t.Fatalf("consent redirected to %q, want %s", res.Header.Get("Location"), testRedirect)
	}
	return loc.Query()
}

func authParamsFor(challenge string) url.Values {
	v := url.Values{"response_type": {"code"}, "client_id": {DefaultClientID}, "redirect_uri": {testRedirect},
		"scope": {"api refresh_token id"}, "state": {"xyz"}}
	if challenge != "" {
		v.Set("code_challenge", challenge)
		v.Set("code_challenge_method", "S256")
	}
	return v
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func tokenForm(code, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {DefaultClientID},
		"client_secret": {DefaultClientSecret}, "redirect_uri": {testRedirect}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

type oauthErr struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func TestConsentPage(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{RedirectURIs: []string{testRedirect}, OrgName: "Acme Retail"})
	res, err := http.Get(b.ts.URL + "/services/oauth2/authorize?" + authParamsFor("abc").Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(body)
	for _, want := range []string{"Acme Retail", DefaultUsername, "Manage user data via APIs", `value="allow"`, ">Allow<", `value="deny"`, ">Deny<", `name="code_challenge" value="abc"`} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	// An unregistered redirect URI never gets a redirect.
	p := authParamsFor("")
	p.Set("redirect_uri", "https://evil.example/cb")
	res, err = noRedirect.Get(b.ts.URL + "/services/oauth2/authorize?" + p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered redirect: status %d, want 400", res.StatusCode)
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	const verifier = "a-long-random-verifier-string-of-at-least-43-characters-xyz"
	tests := []struct {
		name      string
		challenge string
		verifier  string
		status    int
		errCode   string
	}{
		{"pkce ok", pkce(verifier), verifier, 200, ""},
		{"pkce wrong verifier", pkce(verifier), verifier + "x", 400, "invalid_request"},
		{"pkce missing verifier", pkce(verifier), "", 400, "invalid_grant"},
		{"no pkce", "", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Options{RedirectURIs: []string{testRedirect}})
			q := b.consent(t, "allow", authParamsFor(tt.challenge))
			if q.Get("state") != "xyz" || q.Get("code") == "" {
				t.Fatalf("redirect query %v: want code and state=xyz", q)
			}
			r := b.form(t, "/services/oauth2/token", tokenForm(q.Get("code"), tt.verifier))
			if r.status != tt.status {
				t.Fatalf("token: status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.errCode != "" {
				var e oauthErr
				r.json(t, &e)
				if e.Error != tt.errCode {
					t.Fatalf("error %q, want %q", e.Error, tt.errCode)
				}
				return
			}
			var raw map[string]any
			r.json(t, &raw)
			if _, ok := raw["expires_in"]; ok {
				t.Error("token response has expires_in; Salesforce sends none")
			}
			for _, k := range []string{"access_token", "refresh_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"} {
				if s, _ := raw[k].(string); s == "" {
					t.Errorf("token response lacks string %q: %v", k, raw)
				}
			}
			if raw["instance_url"] != b.ts.URL {
				t.Errorf("instance_url = %v, want %s", raw["instance_url"], b.ts.URL)
			}
			issued := raw["issued_at"].(string)
			if ms, err := strconv.ParseInt(issued, 10, 64); err != nil || len(issued) != 13 || ms != testClock()().UnixMilli() {
				t.Errorf("issued_at = %q, want epoch milliseconds of the sandbox clock", issued)
			}
			mac := hmac.New(sha256.New, []byte(DefaultClientSecret))
			mac.Write([]byte(raw["id"].(string) + issued))
			if raw["signature"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
				t.Error("signature is not HMAC-SHA256(client secret, id + issued_at)")
			}
			if !strings.HasPrefix(raw["access_token"].(string), b.srv.orgID()[:15]+"!") {
				t.Errorf("access token %q does not start with the org id", raw["access_token"])
			}
			// The code is single use.
			r = b.form(t, "/services/oauth2/token", tokenForm(q.Get("code"), tt.verifier))
			if r.status != 400 {
				t.Errorf("second exchange: status %d, want 400", r.status)
			}
		})
	}
}

func TestConsentDenied(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{RedirectURIs: []string{testRedirect}})
	q := b.consent(t, "deny", authParamsFor(""))
	if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "xyz" {
		t.Fatalf("deny redirect query %v: want error=access_denied and state", q)
	}
}

func TestExpiredCode(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{RedirectURIs: []string{testRedirect}})
	q := b.consent(t, "allow", authParamsFor(""))
	b.srv.Advance(16 * time.Minute)
	r := b.form(t, "/services/oauth2/token", tokenForm(q.Get("code"), ""))
	var e oauthErr
	r.json(t, &e)
	if r.status != 400 || e.Error != "invalid_grant" || e.Description != "expired authorization code" {
		t.Fatalf("got %d %+v, want 400 invalid_grant expired authorization code", r.status, e)
	}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	t.Run("no rotation", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{})
		for range 2 {
			r := b.form(t, "/services/oauth2/token", refreshForm(b.tok.RefreshToken))
			var raw map[string]any
			r.json(t, &raw)
			if r.status != 200 || raw["refresh_token"] != nil || raw["access_token"] == "" {
				t.Fatalf("refresh: %d %s; want 200 with an access token and no refresh_token", r.status, r.body)
			}
		}
	})
	t.Run("rotation", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{RotateRefreshTokens: true})
		r := b.form(t, "/services/oauth2/token", refreshForm(b.tok.RefreshToken))
		var tr TokenResponse
		r.json(t, &tr)
		if r.status != 200 || tr.RefreshToken == "" || tr.RefreshToken == b.tok.RefreshToken {
			t.Fatalf("rotating refresh: %d %s; want a new refresh token", r.status, r.body)
		}
		r = b.form(t, "/services/oauth2/token", refreshForm(b.tok.RefreshToken))
		var e oauthErr
		r.json(t, &e)
		if r.status != 400 || e.Error != "invalid_grant" {
			t.Fatalf("reusing a rotated-out token: %d %s; want 400 invalid_grant", r.status, r.body)
		}
		if r := b.form(t, "/services/oauth2/token", refreshForm(tr.RefreshToken)); r.status != 200 {
			t.Fatalf("refresh with the new token: %d %s", r.status, r.body)
		}
	})
	t.Run("concurrent refresh of the same token", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{RotateRefreshTokens: true})
		inFlight, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		b.srv.refreshHook = func() {
			once.Do(func() {
				close(inFlight)
				<-release
			})
		}
		first := make(chan resp, 1)
		go func() { first <- b.form(t, "/services/oauth2/token", refreshForm(b.tok.RefreshToken)) }()
		<-inFlight
		second := b.form(t, "/services/oauth2/token", refreshForm(b.tok.RefreshToken))
		close(release)
		var e oauthErr
		second.json(t, &e)
		if second.status != 400 || e.Error != "invalid_grant" || e.Description != "token request is already being processed" {
			t.Fatalf("overlapping refresh: %d %s; want 400 token request is already being processed", second.status, second.body)
		}
		if r := <-first; r.status != 200 {
			t.Fatalf("first refresh: %d %s", r.status, r.body)
		}
	})
}

func TestPasswordGrant(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	form := url.Values{"grant_type": {"password"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret},
		"username": {DefaultUsername}, "password": {DefaultPassword}}
	r := b.form(t, "/services/oauth2/token", form)
	var tr TokenResponse
	r.json(t, &tr)
	if r.status != 200 || tr.AccessToken == "" || tr.RefreshToken != "" {
		t.Fatalf("password grant: %d %s; want an access token and no refresh token", r.status, r.body)
	}
	b.tok = tr
	if got := b.do(t, "GET", "/limits", nil); got.status != 200 {
		t.Fatalf("API call with the password-flow token: %d", got.status)
	}
	tests := []struct {
		name   string
		change func(url.Values)
		code   string
	}{
		{"wrong password", func(v url.Values) { v.Set("password", "nope") }, "invalid_grant"},
		{"wrong client id", func(v url.Values) { v.Set("client_id", "other") }, "invalid_client_id"},
		{"wrong secret", func(v url.Values) { v.Set("client_secret", "other") }, "invalid_client"},
		{"unknown grant", func(v url.Values) { v.Set("grant_type", "magic") }, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		f := url.Values{}
		for k, v := range form {
			f[k] = append([]string(nil), v...)
		}
		tt.change(f)
		r := b.form(t, "/services/oauth2/token", f)
		var e oauthErr
		r.json(t, &e)
		if r.status != 400 || e.Error != tt.code {
			t.Errorf("%s: %d %s; want 400 %s", tt.name, r.status, r.body, tt.code)
		}
		if strings.Contains(string(r.body), "nope") || strings.Contains(string(r.body), DefaultClientSecret) {
			t.Errorf("%s: error body echoes a secret: %s", tt.name, r.body)
		}
	}
}

func TestRevokeAndExpiry(t *testing.T) {
	t.Parallel()
	t.Run("revoke refresh token revokes its access tokens", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{})
		if r := b.form(t, "/services/oauth2/revoke", url.Values{"token": {b.tok.RefreshToken}}); r.status != 200 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		r := b.do(t, "GET", "/limits", nil)
		if r.status != 401 || r.errorCode(t) != "INVALID_SESSION_ID" {
			t.Fatalf("call after revoke: %d %s; want 401 INVALID_SESSION_ID", r.status, r.body)
		}
		if r := b.form(t, "/services/oauth2/token", refreshForm(b.tok.RefreshToken)); r.status != 400 {
			t.Fatalf("refresh after revoke: %d, want 400", r.status)
		}
		if r := b.form(t, "/services/oauth2/revoke", url.Values{"token": {"unknown"}}); r.status != 400 {
			t.Fatalf("revoke unknown token: %d, want 400", r.status)
		}
	})
	t.Run("expired access token", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{TokenTTL: time.Hour})
		if r := b.do(t, "GET", "/limits", nil); r.status != 200 {
			t.Fatalf("fresh token: %d", r.status)
		}
		b.srv.Advance(time.Hour)
		r := b.do(t, "GET", "/limits", nil)
		var errs []restError
		r.json(t, &errs)
		if r.status != 401 || len(errs) != 1 || errs[0].ErrorCode != "INVALID_SESSION_ID" || errs[0].Message != "Session expired or invalid" {
			t.Fatalf("expired token: %d %s", r.status, r.body)
		}
		// Refreshing gets a working token again.
		rr := b.form(t, "/services/oauth2/token", refreshForm(b.tok.RefreshToken))
		rr.json(t, &b.tok)
		if r := b.do(t, "GET", "/limits", nil); r.status != 200 {
			t.Fatalf("refreshed token: %d", r.status)
		}
	})
}

func TestIdentityAndUserinfo(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: seed(1)})
	r := b.do(t, "GET", b.tok.ID+"?version=66.0", nil)
	var id map[string]any
	r.json(t, &id)
	if r.status != 200 || id["user_id"] != b.srv.userID() || id["organization_id"] != b.srv.orgID() || id["username"] != DefaultUsername {
		t.Fatalf("identity: %d %s", r.status, r.body)
	}
	urls := id["urls"].(map[string]any)
	if urls["rest"] != b.ts.URL+"/services/data/v66.0/" {
		t.Errorf("urls.rest = %v", urls["rest"])
	}
	// jsforce's form: ?format=json&oauth_token=...
	res, err := http.Get(b.tok.ID + "?format=json&oauth_token=" + url.QueryEscape(b.tok.AccessToken))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("identity with oauth_token: %v %v", err, res.StatusCode)
	}
	res.Body.Close()
	r = b.do(t, "GET", b.ts.URL+"/services/oauth2/userinfo", nil)
	var ui map[string]any
	r.json(t, &ui)
	if r.status != 200 || ui["preferred_username"] != DefaultUsername || ui["sub"] != b.tok.ID {
		t.Fatalf("userinfo: %d %s", r.status, r.body)
	}
	// The root resource points at the identity URL too.
	r = b.do(t, "GET", "/", nil)
	var root map[string]string
	r.json(t, &root)
	if root["identity"] != b.tok.ID || root["sobjects"] != "/services/data/v66.0/sobjects" {
		t.Errorf("resource root: %v", root)
	}
	b.tok.AccessToken = "bogus"
	if r := b.do(t, "GET", b.tok.ID, nil); r.status != http.StatusForbidden {
		t.Errorf("identity with a bad token: %d, want 403", r.status)
	}
}
