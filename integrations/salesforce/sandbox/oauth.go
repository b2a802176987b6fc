package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TokenResponse is the body of a successful /services/oauth2/token call,
// key for key as Salesforce sends it. There is no expires_in.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Signature    string `json:"signature"`
	Scope        string `json:"scope"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at"`
}

// TokenRecord is one token the sandbox issued, as GET /_sandbox/tokens
// lists it.
type TokenRecord struct {
	Kind         string    `json:"kind"` // "access" or "refresh"
	Token        string    `json:"token"`
	Grant        string    `json:"grant"`
	Scope        string    `json:"scope"`
	IssuedAt     time.Time `json:"issuedAt"`
	ExpiresAt    time.Time `json:"expiresAt,omitzero"`
	Revoked      bool      `json:"revoked"`
	RefreshToken string    `json:"refreshToken,omitempty"` // the refresh token an access token came from
}

type tokenInfo struct {
	TokenRecord
	expired bool // forced by a fault
}

type authCode struct {
	redirectURI, challenge, method, scope string
	expires                               time.Time
}

type authState struct {
	mu       sync.Mutex
	tokens   map[string]*tokenInfo
	order    []string
	codes    map[string]*authCode
	inflight map[string]bool
}

func newAuthState() *authState {
	return &authState{tokens: map[string]*tokenInfo{}, codes: map[string]*authCode{}, inflight: map[string]bool{}}
}

func (a *authState) expireAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tokens {
		if t.Kind == "access" {
			t.expired = true
		}
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// orgID and userID never change: every reset rebuilds the org with the
// same deterministic ids, so tokens stay valid across resets.
func (s *Server) orgID() string { return orgID }

func (s *Server) userID() string { return adminUserID }

func (s *Server) idURL(base string) string {
	return base + "/id/" + s.orgID() + "/" + s.userID()
}

// issue mints a token pair; refresh is "" for no refresh token, "new" for a
// fresh one, or an existing refresh token to link the access token to.
func (s *Server) issue(base, grant, scope, refresh string) TokenResponse {
	now := s.clk.Now()
	org := s.orgID()
	access := org[:15] + "!AQ" + randomToken(72)
	a := s.auth
	a.mu.Lock()
	if refresh == "new" {
		refresh = "5Aep861" + randomToken(60)
		a.tokens[refresh] = &tokenInfo{TokenRecord: TokenRecord{Kind: "refresh", Token: refresh, Grant: grant, Scope: scope, IssuedAt: now}}
		a.order = append(a.order, refresh)
	}
	a.tokens[access] = &tokenInfo{TokenRecord: TokenRecord{Kind: "access", Token: access, Grant: grant, Scope: scope, IssuedAt: now, RefreshToken: refresh}}
	a.order = append(a.order, access)
	a.mu.Unlock()
	issued := strconv.FormatInt(now.UnixMilli(), 10)
	id := s.idURL(base)
	mac := hmac.New(sha256.New, []byte(s.opts.ClientSecret))
	mac.Write([]byte(id + issued))
	return TokenResponse{AccessToken: access, Signature: base64.StdEncoding.EncodeToString(mac.Sum(nil)), Scope: scope,
		InstanceURL: base, ID: id, TokenType: "Bearer", IssuedAt: issued}
}

// MintToken issues an access and refresh token for the admin user without
// the consent page, as POST /_sandbox/token does. baseURL becomes the
// instance_url (empty uses Options.BaseURL).
func (s *Server) MintToken(baseURL string) TokenResponse {
	if baseURL == "" {
		baseURL = s.opts.BaseURL
	}
	baseURL = strings.TrimSuffix(baseURL, "/")
	tr := s.issue(baseURL, "sandbox", "api refresh_token id", "new")
	s.auth.mu.Lock()
	tr.RefreshToken = s.auth.tokens[tr.AccessToken].RefreshToken
	s.auth.mu.Unlock()
	return tr
}

// Tokens lists every token issued, oldest first.
func (s *Server) Tokens() []TokenRecord {
	now := s.clk.Now()
	ttl := s.tokenTTL()
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]TokenRecord, 0, len(a.order))
	for _, k := range a.order {
		t := a.tokens[k]
		rec := t.TokenRecord
		if t.Kind == "access" {
			rec.ExpiresAt = t.IssuedAt.Add(ttl)
			if t.expired && rec.ExpiresAt.After(now) {
				rec.ExpiresAt = now
			}
		}
		out = append(out, rec)
	}
	return out
}

func (s *Server) tokenTTL() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.TokenTTL > 0 {
		return time.Duration(s.faults.TokenTTL)
	}
	return s.opts.TokenTTL
}

var errInvalidSession = errf("INVALID_SESSION_ID", nil, "Session expired or invalid")

// authenticate checks the bearer token (or oauth_token parameter).
func (s *Server) authenticate(r *http.Request) (*tokenInfo, *apiError) {
	tok := ""
	if h := r.Header.Get("Authorization"); h != "" {
		for _, prefix := range []string{"Bearer ", "OAuth "} {
			if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
				tok = strings.TrimSpace(h[len(prefix):])
			}
		}
	}
	if tok == "" {
		tok = r.URL.Query().Get("oauth_token")
	}
	if tok == "" {
		e := errf("INVALID_SESSION_ID", nil, "Session expired or invalid")
		return nil, &e
	}
	now := s.clk.Now()
	ttl := s.tokenTTL()
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tokens[tok]
	if t == nil || t.Kind != "access" || t.Revoked || t.expired || !now.Before(t.IssuedAt.Add(ttl)) {
		e := errInvalidSession
		return nil, &e
	}
	cp := *t
	return &cp, nil
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Allow Access? | {{.Org}}</title>
<style>body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}main{max-width:28rem;margin:4rem auto;background:#fff;border-radius:.5rem;padding:2rem;box-shadow:0 1px 3px #0003}button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem;border-radius:.25rem;border:1px solid #0176d3}.allow{background:#0176d3;color:#fff}.deny{background:#fff;color:#0176d3}</style>
</head>
<body><main>
<h1>Allow Access?</h1>
<p>Organization: <strong id="org">{{.Org}}</strong></p>
<p>Logged in as <strong id="user">{{.User}}</strong></p>
<p><strong>{{.ClientID}}</strong> is asking to:</p>
<ul id="scopes">{{range .Scopes}}<li data-scope="{{.Name}}">{{.Label}}</li>{{end}}</ul>
<form method="post" action="/services/oauth2/authorize">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit" name="decision" value="allow" class="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="deny">Deny</button>
</form>
</main></body></html>
`))

var scopeLabels = map[string]string{
	"api":            "Manage user data via APIs (api)",
	"refresh_token":  "Perform requests at any time (refresh_token, offline_access)",
	"offline_access": "Perform requests at any time (refresh_token, offline_access)",
	"id":             "Access the identity URL service (id, profile, email, address, phone)",
	"profile":        "Access the identity URL service (id, profile, email, address, phone)",
	"email":          "Access the identity URL service (id, profile, email, address, phone)",
	"openid":         "Access unique user identifiers (openid)",
	"full":           "Full access (full)",
	"web":            "Access the Salesforce API Platform (web)",
}

type scopeView struct{ Name, Label string }

func authParams(r *http.Request) url.Values {
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		return r.PostForm
	}
	return r.URL.Query()
}

// authorize serves the consent page (GET) and the user's decision (POST).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := authParams(r)
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != s.opts.ClientID {
		http.Error(w, "error=invalid_client_id&error_description=client identifier invalid", http.StatusBadRequest)
		return
	}
	if !s.redirectAllowed(redirect) {
		http.Error(w, "error=redirect_uri_mismatch&error_description=redirect_uri must match configuration", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		if st := q.Get("state"); st != "" {
			params.Set("state", st)
		}
		u, _ := url.Parse(redirect)
		qq := u.Query()
		for k, v := range params {
			qq[k] = v
		}
		u.RawQuery = qq.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		back(url.Values{"error": {"unsupported_response_type"}, "error_description": {"response type not supported"}})
		return
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" && method != "" && method != "S256" {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"invalid code_challenge_method"}})
		return
	}
	scope := normalizeScope(q.Get("scope"))
	if r.Method == http.MethodGet {
		hidden := map[string]string{}
		for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method"} {
			if v := q.Get(k); v != "" {
				hidden[k] = v
			}
		}
		var views []scopeView
		seen := map[string]bool{}
		for _, sc := range strings.Fields(scope) {
			label := scopeLabels[sc]
			if label == "" {
				label = sc
			}
			if !seen[label] {
				seen[label] = true
				views = append(views, scopeView{sc, label})
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = consentPage.Execute(w, map[string]any{"Org": s.opts.OrgName, "User": s.opts.Username, "ClientID": s.opts.ClientID, "Scopes": views, "Hidden": hidden})
		return
	}
	if q.Get("decision") != "allow" {
		back(url.Values{"error": {"access_denied"}, "error_description": {"end-user denied authorization"}})
		return
	}
	code := "aPrx" + randomToken(48)
	s.auth.mu.Lock()
	s.auth.codes[code] = &authCode{redirectURI: redirect, challenge: q.Get("code_challenge"), method: method, scope: scope,
		expires: s.clk.Now().Add(15 * time.Minute)}
	s.auth.mu.Unlock()
	back(url.Values{"code": {code}})
}

// normalizeScope keeps the requested scopes in order, defaulting to the
// connected app's set.
func normalizeScope(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "api refresh_token id"
	}
	return strings.Join(f, " ")
}

func hasRefreshScope(scope string) bool {
	for _, s := range strings.Fields(scope) {
		if s == "refresh_token" || s == "offline_access" {
			return true
		}
	}
	return false
}

// token serves the token endpoint's grants.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	f := r.PostForm
	if f.Get("client_id") != s.opts.ClientID {
		if f.Get("grant_type") == "" {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
			return
		}
		oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	}
	secret := f.Get("client_secret")
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) == 1
	if secret != "" && !secretOK {
		oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	base := s.baseURL(r)
	switch f.Get("grant_type") {
	case "authorization_code":
		s.sleepLatency(r)
		s.codeGrant(w, f, secretOK, base)
	case "refresh_token":
		s.refreshGrant(w, r, f, base)
	case "password":
		s.sleepLatency(r)
		if !secretOK {
			oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
		userOK := subtle.ConstantTimeCompare([]byte(f.Get("username")), []byte(s.opts.Username)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(f.Get("password")), []byte(s.opts.Password)) == 1
		if !userOK || !passOK {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "authentication failure")
			return
		}
		// The username-password flow never returns a refresh token.
		writeJSON(w, http.StatusOK, s.issue(base, "password", "api web full id", ""))
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	}
}

func (s *Server) codeGrant(w http.ResponseWriter, f url.Values, secretOK bool, base string) {
	code := f.Get("code")
	a := s.auth
	a.mu.Lock()
	c := a.codes[code]
	delete(a.codes, code) // a code is good for one exchange, right or wrong
	a.mu.Unlock()
	if c == nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid authorization code")
		return
	}
	if !s.clk.Now().Before(c.expires) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "expired authorization code")
		return
	}
	if f.Get("redirect_uri") != c.redirectURI {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri must match configuration")
		return
	}
	verifier := f.Get("code_verifier")
	if c.challenge != "" {
		if verifier == "" {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier")
			return
		}
		sum := sha256.Sum256([]byte(verifier))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			oauthError(w, http.StatusBadRequest, "invalid_request", "invalid code verifier")
			return
		}
	} else if verifier != "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "code_verifier sent without a code_challenge")
		return
	}
	// The connected app requires the secret unless the exchange is PKCE.
	if !secretOK && c.challenge == "" {
		oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	refresh := ""
	if hasRefreshScope(c.scope) {
		refresh = "new"
	}
	tr := s.issue(base, "authorization_code", c.scope, refresh)
	if refresh != "" {
		a.mu.Lock()
		tr.RefreshToken = a.tokens[tr.AccessToken].RefreshToken
		a.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, tr)
}

func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request, f url.Values, base string) {
	rt := f.Get("refresh_token")
	a := s.auth
	a.mu.Lock()
	t := a.tokens[rt]
	if t == nil || t.Kind != "refresh" || t.Revoked {
		a.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
		return
	}
	if a.inflight[rt] {
		a.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "token request is already being processed")
		return
	}
	a.inflight[rt] = true
	scope := t.Scope
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.inflight, rt)
		a.mu.Unlock()
	}()
	// The in-flight window spans the injected latency, as a slow real
	// refresh would.
	s.sleepLatency(r)
	if s.refreshHook != nil {
		s.refreshHook()
	}
	if !s.opts.RotateRefreshTokens {
		writeJSON(w, http.StatusOK, s.issue(base, "refresh_token", scope, rt))
		return
	}
	a.mu.Lock()
	if t.Revoked { // revoked while we waited
		a.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
		return
	}
	t.Revoked = true
	a.mu.Unlock()
	tr := s.issue(base, "refresh_token", scope, "new")
	a.mu.Lock()
	tr.RefreshToken = a.tokens[tr.AccessToken].RefreshToken
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, tr)
}

// revoke invalidates an access token, or a refresh token and every access
// token issued from it.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		oauthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	tok := authParams(r).Get("token")
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tokens[tok]
	if t == nil {
		oauthError(w, http.StatusBadRequest, "invalid_token", "invalid token")
		return
	}
	t.Revoked = true
	if t.Kind == "refresh" {
		for _, o := range a.tokens {
			if o.RefreshToken == tok {
				o.Revoked = true
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

// identity serves the id URL.
func (s *Server) identity(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, restErrors([]apiError{errf("METHOD_NOT_ALLOWED", nil, "HTTP Method '%s' not allowed. Allowed are GET,POST", r.Method)}))
		return
	}
	if _, err := s.authenticate(r); err != nil {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("Bad_OAuth_Token"))
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/id/"), "/"), "/")
	org, user := s.orgID(), s.userID()
	if len(parts) != 2 {
		http.Error(w, "Bad_Id", http.StatusNotFound)
		return
	}
	o, ok1 := normalizeID(parts[0])
	u, ok2 := normalizeID(parts[1])
	if !ok1 || !ok2 || !strings.EqualFold(o, org) || !strings.EqualFold(u, user) {
		http.Error(w, "Bad_Id", http.StatusNotFound)
		return
	}
	version := r.URL.Query().Get("version")
	if version == "latest" {
		version = strconv.Itoa(MaxAPIVersion) + ".0"
	}
	if version == "" {
		version = "{version}"
	}
	base := s.baseURL(r)
	writeJSON(w, http.StatusOK, s.identityBody(base, version))
}

func (s *Server) identityBody(base, version string) map[string]any {
	org, user := s.orgID(), s.userID()
	s.data.mu.RLock()
	u, _ := s.data.tables["User"].get(user)
	s.data.mu.RUnlock()
	created := ""
	if t, ok := u["CreatedDate"].(time.Time); ok {
		created = sfDateTime(t)
	}
	v := "/services/data/v" + version
	return map[string]any{
		"id":                      base + "/id/" + org + "/" + user,
		"asserted_user":           true,
		"user_id":                 user,
		"organization_id":         org,
		"username":                s.opts.Username,
		"nick_name":               strings.SplitN(s.opts.Username, "@", 2)[0],
		"display_name":            u["Name"],
		"email":                   u["Email"],
		"email_verified":          true,
		"first_name":              u["FirstName"],
		"last_name":               u["LastName"],
		"timezone":                u["TimeZoneSidKey"],
		"photos":                  map[string]string{"picture": base + "/profilephoto/005/F", "thumbnail": base + "/profilephoto/005/T"},
		"addr_street":             nil,
		"addr_city":               nil,
		"addr_state":              nil,
		"addr_country":            "US",
		"addr_zip":                nil,
		"mobile_phone":            nil,
		"mobile_phone_verified":   false,
		"is_lightning_login_user": false,
		"status":                  map[string]any{"created_date": nil, "body": nil},
		"urls": map[string]string{
			"enterprise":    base + "/services/Soap/c/" + version + "/" + org[:15],
			"metadata":      base + "/services/Soap/m/" + version + "/" + org[:15],
			"partner":       base + "/services/Soap/u/" + version + "/" + org[:15],
			"rest":          base + v + "/",
			"sobjects":      base + v + "/sobjects/",
			"search":        base + v + "/search/",
			"query":         base + v + "/query/",
			"recent":        base + v + "/recent/",
			"tooling_soap":  base + "/services/Soap/T/" + version + "/" + org[:15],
			"tooling_rest":  base + v + "/tooling/",
			"profile":       base + "/" + user,
			"feeds":         base + v + "/chatter/feeds",
			"groups":        base + v + "/chatter/groups",
			"users":         base + v + "/chatter/users",
			"feed_items":    base + v + "/chatter/feed-items",
			"feed_elements": base + v + "/chatter/feed-elements",
			"custom_domain": base,
		},
		"active":             true,
		"user_type":          "STANDARD",
		"language":           "en_US",
		"locale":             "en_US",
		"utcOffset":          0,
		"last_modified_date": created,
		"is_app_installed":   true,
	}
}

// userinfo serves the OpenID Connect userinfo endpoint.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	if _, err := s.authenticate(r); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("Bad_OAuth_Token"))
		return
	}
	base := s.baseURL(r)
	id := s.identityBody(base, strconv.Itoa(MaxAPIVersion)+".0")
	writeJSON(w, http.StatusOK, map[string]any{
		"sub":                            id["id"],
		"user_id":                        id["user_id"],
		"organization_id":                id["organization_id"],
		"preferred_username":             id["username"],
		"nickname":                       id["nick_name"],
		"name":                           id["display_name"],
		"email":                          id["email"],
		"email_verified":                 true,
		"given_name":                     id["first_name"],
		"family_name":                    id["last_name"],
		"zoneinfo":                       id["timezone"],
		"photos":                         id["photos"],
		"profile":                        base + "/" + s.userID(),
		"picture":                        base + "/profilephoto/005/F",
		"address":                        map[string]string{"country": "US"},
		"is_salesforce_integration_user": false,
		"urls":                           id["urls"],
		"active":                         true,
		"user_type":                      "STANDARD",
		"language":                       "en_US",
		"locale":                         "en_US",
		"utcOffset":                      0,
		"updated_at":                     id["last_modified_date"],
		"is_app_installed":               true,
	})
}
