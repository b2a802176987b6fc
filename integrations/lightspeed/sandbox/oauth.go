package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	codeTTL         = 60 * time.Second
	refreshTTL      = 30 * 24 * time.Hour
	maxRefreshReuse = 5
	jwtKeyID        = "RT_OAUTH2_2024_07_08"
	jwtIssuer       = "https://cloud.lightspeedapp.com"
)

// scopes is the official list of grantable scopes (reference 1.7).
var scopes = []string{
	"employee:all", "employee:admin", "employee:admin_employees", "employee:admin_inventory",
	"employee:admin_purchases", "employee:admin_shops", "employee:admin_void_sale", "employee:categories",
	"employee:customers", "employee:customers_read", "employee:customers_view_gift_card_numbers",
	"employee:inventory", "employee:inventory_counts", "employee:inventory_counts_reconcile",
	"employee:inventory_read", "employee:manufacturers", "employee:product_cost", "employee:product_edit",
	"employee:purchase_orders", "employee:register", "employee:register_layaway", "employee:register_read",
	"employee:register_refund", "employee:reports", "employee:special_orders", "employee:tags",
	"employee:transfers", "employee:vendors", "employee:vendor_returns", "employee:workbench",
}

var verifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

type authCode struct {
	acct              int
	client, scope     string
	redirectURI       string
	challenge, method string
	expires           time.Time
	used              bool
	issued            []*accessToken // tokens minted from this code, revoked on reuse
}

type accessToken struct {
	token         string
	acct          int
	client, scope string
	issued        time.Time
	expires       time.Time
	revoked       bool
	refresh       *refreshToken // issued alongside
	// parent is the refresh token whose use minted this token; it is
	// revoked when this token is first used (deferred revocation).
	parent *refreshToken
}

type refreshToken struct {
	token         string
	acct          int
	client, scope string
	issued        time.Time
	expires       time.Time
	revoked       bool
	uses          int
	access        *accessToken
}

// authServer is the OAuth 2 authorization server: codes and tokens.
type authServer struct {
	clientID, secret string
	ttl              time.Duration
	now              func() time.Time

	mu        sync.Mutex
	redirects []string
	key       *rsa.PrivateKey
	codes     map[string]*authCode
	access    map[string]*accessToken
	refresh   map[string]*refreshToken
	order     []any // *accessToken / *refreshToken in issue order
}

func newAuthServer(opts Options, now func() time.Time) *authServer {
	return &authServer{
		clientID:  opts.ClientID,
		secret:    opts.ClientSecret,
		ttl:       opts.TokenTTL,
		now:       now,
		redirects: slices.Clone(opts.RedirectURIs),
		key:       opts.SigningKey,
		codes:     map[string]*authCode{},
		access:    map[string]*accessToken{},
		refresh:   map[string]*refreshToken{},
	}
}

func (a *authServer) addRedirectURI(uri string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !slices.Contains(a.redirects, uri) {
		a.redirects = append(a.redirects, uri)
	}
}

func (a *authServer) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.codes = map[string]*authCode{}
	a.access = map[string]*accessToken{}
	a.refresh = map[string]*refreshToken{}
	a.order = nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// issue mints an access/refresh pair. parent is the refresh token being
// rotated, if any.
func (a *authServer) issue(acct int, client, scope string, parent *refreshToken) (*accessToken, *refreshToken) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issueLocked(acct, client, scope, parent)
}

func (a *authServer) issueLocked(acct int, client, scope string, parent *refreshToken) (*accessToken, *refreshToken) {
	now := a.now()
	at := &accessToken{acct: acct, client: client, scope: scope, issued: now, expires: now.Add(a.ttl), parent: parent}
	at.token = a.signJWT(at)
	rt := &refreshToken{token: "def50200" + randomHex(48), acct: acct, client: client, scope: scope,
		issued: now, expires: now.Add(refreshTTL), access: at}
	at.refresh = rt
	a.access[at.token] = at
	a.refresh[rt.token] = rt
	a.order = append(a.order, at, rt)
	return at, rt
}

// signJWT builds an RS256 JWT with the claims the real server uses; the
// sandbox itself validates tokens by lookup, the signature is for clients
// that decode (or verify via /.well-known/jwks) the token.
func (a *authServer) signJWT(at *accessToken) string {
	if a.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("sandbox: generate RSA key: " + err.Error()) // crypto/rand failure: unrecoverable
		}
		a.key = k
	}
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": jwtKeyID})
	frac := func(t time.Time) json.Number {
		return json.Number(strings.TrimRight(strings.TrimRight(
			big.NewFloat(float64(t.UnixMicro())/1e6).Text('f', 4), "0"), "."))
	}
	claims, _ := json.Marshal(map[string]any{
		"aud": at.client, "jti": randomHex(20), "iat": frac(at.issued), "nbf": frac(at.issued),
		"exp": frac(at.expires), "sub": "1", "iss": jwtIssuer, "acct": itoa(at.acct), "scope": at.scope,
	})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, sum[:])
	if err != nil {
		panic("sandbox: sign token: " + err.Error()) // only fails for a malformed key
	}
	return signing + "." + enc.EncodeToString(sig)
}

// tokenOwner is who an authenticated request acts for.
type tokenOwner struct {
	acct   int
	client string
}

// authenticate checks a bearer header; on failure it returns the hint for
// the 401 body. The first use of a rotated access token revokes the
// refresh token it replaced.
func (a *authServer) authenticate(header string) (tokenOwner, string) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return tokenOwner{}, `Missing "Authorization" header`
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	at := a.access[strings.TrimSpace(tok)]
	switch {
	case at == nil:
		return tokenOwner{}, "Access token could not be verified"
	case at.revoked:
		return tokenOwner{}, "Access token has been revoked"
	case !a.now().Before(at.expires):
		return tokenOwner{}, "Access token could not be verified"
	}
	if p := at.parent; p != nil {
		p.revoked = true
		if p.access != nil {
			p.access.revoked = true
		}
		at.parent = nil
	}
	return tokenOwner{at.acct, at.client}, ""
}

// expireAll makes every issued access token expired now.
func (a *authServer) expireAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for _, at := range a.access {
		if at.expires.After(now) {
			at.expires = now
		}
	}
}

// oauthError is an OAuth-server error in the current (league) form.
type oauthError struct {
	status      int
	code        string
	description string
	hint        string
}

func writeOAuthError(w http.ResponseWriter, e oauthError) {
	body, _ := json.Marshal(map[string]string{"error": e.code, "error_description": e.description, "hint": e.hint, "message": e.description})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, body)
}

// writeUnauthorized writes the resource API's 401 in the current form.
func writeUnauthorized(w http.ResponseWriter, hint string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="Lightspeed Retail"`)
	writeOAuthError(w, oauthError{http.StatusUnauthorized, "access_denied",
		"The resource owner or authorization server denied the request.", hint})
}

const (
	errInvalidGrantDesc   = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
	errInvalidRequestDesc = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."
)

func invalidRequest(hint string) oauthError {
	return oauthError{http.StatusBadRequest, "invalid_request", errInvalidRequestDesc, hint}
}

func invalidGrant(hint string) oauthError {
	return oauthError{http.StatusBadRequest, "invalid_grant", errInvalidGrantDesc, hint}
}

func invalidClient() oauthError {
	return oauthError{http.StatusUnauthorized, "invalid_client", "Client authentication failed", ""}
}

// serveOAuth serves the current endpoints under /auth/oauth/ and the
// legacy /oauth/authorize.php and /oauth/access_token.php.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/auth"), "/oauth/")
	s.stats.request(r.Method, "oauth/"+name)
	switch name {
	case "authorize", "authorize.php":
		s.authorize(w, r)
	case "token":
		s.token(w, r, false)
	case "access_token.php":
		s.token(w, r, true)
	case "revoke":
		s.revoke(w, r)
	case "introspect":
		s.introspect(w, r)
	default:
		writeOAuthError(w, oauthError{http.StatusNotFound, "invalid_request", "Unknown OAuth endpoint.", ""})
	}
}

// authorizeRequest is a validated authorization request.
type authorizeRequest struct {
	ClientID, Scope, State, RedirectURI string
	Challenge, Method                   string
	Scopes                              []string
	AccountName                         string
}

func (s *Server) parseAuthorize(v url.Values) (*authorizeRequest, *oauthError) {
	a := s.auth
	if v.Get("client_id") != a.clientID {
		e := oauthError{http.StatusBadRequest, "invalid_client", "Client authentication failed", "Unknown client_id"}
		return nil, &e
	}
	if v.Get("response_type") != "code" {
		e := oauthError{http.StatusBadRequest, "unsupported_response_type", "The authorization server does not support obtaining an access token using this method.", "response_type must be code"}
		return nil, &e
	}
	a.mu.Lock()
	redirects := slices.Clone(a.redirects)
	a.mu.Unlock()
	ru := v.Get("redirect_uri")
	switch {
	case ru == "" && len(redirects) > 0:
		ru = redirects[0]
	case ru == "" || !slices.Contains(redirects, ru):
		e := oauthError{http.StatusBadRequest, "invalid_client", "Client authentication failed", "The redirect URI is not registered for this client"}
		return nil, &e
	}
	req := &authorizeRequest{ClientID: v.Get("client_id"), State: v.Get("state"), RedirectURI: ru,
		Challenge: v.Get("code_challenge"), Method: v.Get("code_challenge_method"), AccountName: s.opts.AccountName}
	req.Scopes = strings.Fields(v.Get("scope"))
	if len(req.Scopes) == 0 {
		e := oauthError{http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed", "Specify a scope in the request or set a default scope"}
		return nil, &e
	}
	for _, sc := range req.Scopes {
		if !slices.Contains(scopes, sc) {
			e := oauthError{http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed", "Check the `" + sc + "` scope"}
			return nil, &e
		}
	}
	req.Scope = strings.Join(req.Scopes, " ")
	if req.Challenge != "" {
		if req.Method == "" {
			req.Method = "plain"
		}
		if req.Method != "S256" && req.Method != "plain" {
			e := invalidRequest("Code challenge method must be one of `plain` or `S256`")
			return nil, &e
		}
		if !verifierPattern.MatchString(req.Challenge) {
			e := invalidRequest("Code challenge must follow the specifications of RFC-7636.")
			return nil, &e
		}
	}
	return req, nil
}

// scopeWords says what each scope lets an application do, for the consent
// page: a merchant reads permissions, not scope codes.
var scopeWords = map[string]string{
	"employee:all":                              "Do everything an employee with every permission can do",
	"employee:admin":                            "Administer the account",
	"employee:admin_employees":                  "Manage employees",
	"employee:admin_inventory":                  "Administer inventory",
	"employee:admin_purchases":                  "Administer purchases",
	"employee:admin_shops":                      "Manage shops",
	"employee:admin_void_sale":                  "Void sales",
	"employee:categories":                       "Manage categories",
	"employee:customers":                        "See and change customers",
	"employee:customers_read":                   "See customers",
	"employee:customers_view_gift_card_numbers": "See gift card numbers",
	"employee:inventory":                        "See and change inventory",
	"employee:inventory_counts":                 "Count inventory",
	"employee:inventory_counts_reconcile":       "Reconcile inventory counts",
	"employee:inventory_read":                   "See products and inventory",
	"employee:manufacturers":                    "Manage manufacturers",
	"employee:product_cost":                     "See product costs",
	"employee:product_edit":                     "Change products",
	"employee:purchase_orders":                  "Manage purchase orders",
	"employee:register":                         "Use registers and make sales",
	"employee:register_layaway":                 "Manage layaways",
	"employee:register_read":                    "See sales, registers and payments",
	"employee:register_refund":                  "Make refunds",
	"employee:reports":                          "See reports",
	"employee:special_orders":                   "Manage special orders",
	"employee:tags":                             "Manage tags",
	"employee:transfers":                        "Manage transfers",
	"employee:vendors":                          "Manage vendors",
	"employee:vendor_returns":                   "Manage vendor returns",
	"employee:workbench":                        "Use the workbench",
}

var consentPage = template.Must(template.New("consent").Funcs(template.FuncMap{
	"words": func(scope string) string { return scopeWords[scope] },
}).Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize application – Lightspeed Retail (sandbox)</title>
<style>
body{margin:0;min-height:100vh;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;background:#f4f6f8}
header{background:#fff;border-bottom:1px solid #dde3ea;padding:.75rem 1.25rem;font-weight:700}
header span{color:#5b6675;font-weight:400}
main{max-width:28rem;margin:2.5rem auto;padding:1.5rem;background:#fff;border:1px solid #dde3ea;border-radius:10px}
h1{font-size:1.4rem;margin:0 0 .75rem}
ul{padding:0;list-style:none;margin:0 0 1.25rem}
li{padding:.6rem .75rem;border:1px solid #dde3ea;border-radius:8px;margin-bottom:.5rem}
li code{display:block;color:#5b6675;font-size:.8rem}
.actions{display:flex;gap:.75rem}
button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border-radius:8px;border:1px solid #1f6feb;cursor:pointer}
.authorize{background:#1f6feb;color:#fff}
.deny{background:#fff;color:#1f6feb}
.muted{color:#5b6675;font-size:.9rem}
</style></head>
<body>
<header>Lightspeed Retail <span>(sandbox)</span></header>
<main>
<h1>Authorize {{.ClientID}}</h1>
<p>The application <strong>{{.ClientID}}</strong> would like to access the Lightspeed Retail account
<strong data-testid="account-name">{{.AccountName}}</strong>.</p>
<p>It asks to:</p>
<ul data-testid="scopes">{{range .Scopes}}<li data-scope="{{.}}">{{with words .}}{{.}}{{else}}Use the {{.}} permission{{end}}<code>{{.}}</code></li>{{end}}</ul>
<form method="post" action="/auth/oauth/authorize">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="scope" value="{{.Scope}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="code_challenge" value="{{.Challenge}}">
<input type="hidden" name="code_challenge_method" value="{{.Method}}">
<div class="actions">
<button class="authorize" type="submit" name="decision" value="authorize">Authorize</button>
<button class="deny" type="submit" name="decision" value="deny">Deny</button>
</div>
</form>
<p class="muted">You can remove this application's access at any time in Lightspeed's settings.</p>
</main>
</body>
</html>
`))

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		req, e := s.parseAuthorize(r.URL.Query())
		if e != nil {
			writeOAuthError(w, *e)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = consentPage.Execute(w, req) // a failed write to the client is not actionable
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			writeOAuthError(w, invalidRequest("Malformed form body"))
			return
		}
		req, e := s.parseAuthorize(r.PostForm)
		if e != nil {
			writeOAuthError(w, *e)
			return
		}
		q := url.Values{}
		switch r.PostForm.Get("decision") {
		case "authorize":
			code := randomHex(32)
			s.auth.mu.Lock()
			s.auth.codes[code] = &authCode{acct: s.opts.AccountID, client: req.ClientID, scope: req.Scope,
				redirectURI: req.RedirectURI, challenge: req.Challenge, method: req.Method, expires: s.clock.now().Add(codeTTL)}
			s.auth.mu.Unlock()
			q.Set("code", code)
		case "deny":
			q.Set("error", "access_denied")
			q.Set("error_description", "The resource owner or authorization server denied the request.")
		default:
			writeOAuthError(w, invalidRequest("decision must be authorize or deny"))
			return
		}
		if req.State != "" {
			q.Set("state", req.State)
		}
		sep := "?"
		if strings.Contains(req.RedirectURI, "?") {
			sep = "&"
		}
		http.Redirect(w, r, req.RedirectURI+sep+q.Encode(), http.StatusFound)
	default:
		writeOAuthError(w, oauthError{http.StatusMethodNotAllowed, "invalid_request", errInvalidRequestDesc, "Use GET or POST"})
	}
}

// tokenParams reads a token/revoke request body in any of the encodings
// the endpoint accepts: JSON, form-urlencoded or multipart.
func tokenParams(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]any
		d := json.NewDecoder(r.Body)
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, false
		}
		for k, v := range m {
			switch t := v.(type) {
			case string:
				out[k] = t
			case json.Number:
				out[k] = t.String()
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return nil, false
		}
		for k, v := range r.MultipartForm.Value {
			out[k] = v[0]
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, false
		}
		for k, v := range r.PostForm {
			out[k] = v[0]
		}
	}
	if id, secret, ok := r.BasicAuth(); ok {
		out["client_id"], out["client_secret"] = id, secret
	}
	return out, true
}

func (a *authServer) clientOK(p map[string]string) bool {
	return p["client_id"] == a.clientID &&
		subtle.ConstantTimeCompare([]byte(p["client_secret"]), []byte(a.secret)) == 1
}

// token serves the token endpoint. legacy selects the pre-2024
// access_token.php behaviour: refresh does not rotate (only a new access
// token is returned) and responses carry a scope with the systemuserid
// pseudo-scope.
func (s *Server) token(w http.ResponseWriter, r *http.Request, legacy bool) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, oauthError{http.StatusMethodNotAllowed, "invalid_request", errInvalidRequestDesc, "The token endpoint only accepts POST"})
		return
	}
	p, ok := tokenParams(w, r)
	if !ok {
		writeOAuthError(w, invalidRequest("Malformed request body"))
		return
	}
	gt := p["grant_type"]
	if gt == "" {
		writeOAuthError(w, invalidRequest("Check the `grant_type` parameter"))
		return
	}
	if gt != "authorization_code" && gt != "refresh_token" {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.", "Check that all required parameters have been provided"})
		return
	}
	if p["client_id"] == "" {
		writeOAuthError(w, invalidRequest("Check the `client_id` parameter"))
		return
	}
	a := s.auth
	if !a.clientOK(p) {
		writeOAuthError(w, invalidClient())
		return
	}
	var at *accessToken
	var rt *refreshToken
	var e *oauthError
	switch {
	case gt == "authorization_code":
		at, rt, e = s.exchangeCode(p)
	case legacy:
		at, e = s.legacyRefresh(p)
	default:
		at, rt, e = s.refreshGrant(p)
	}
	if e != nil {
		writeOAuthError(w, *e)
		return
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": int(a.ttl / time.Second), "access_token": at.token}
	if rt != nil {
		resp["refresh_token"] = rt.token
	}
	if legacy {
		resp["scope"] = at.scope + " systemuserid:1"
	}
	body, _ := json.Marshal(resp)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) exchangeCode(p map[string]string) (*accessToken, *refreshToken, *oauthError) {
	fail := func(e oauthError) (*accessToken, *refreshToken, *oauthError) { return nil, nil, &e }
	code := p["code"]
	if code == "" {
		return fail(invalidRequest("Check the `code` parameter"))
	}
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.codes[code]
	switch {
	case c == nil:
		return fail(invalidGrant("Cannot decrypt the authorization code"))
	case c.used:
		// Reuse of a code revokes what it issued (RFC 6749 §4.1.2).
		for _, at := range c.issued {
			at.revoked = true
			at.refresh.revoked = true
		}
		return fail(invalidGrant("Authorization code has been revoked"))
	case !a.now().Before(c.expires):
		return fail(invalidGrant("Authorization code has expired"))
	case c.client != p["client_id"]:
		return fail(invalidGrant("Authorization code was not issued to this client"))
	case p["redirect_uri"] != "" && p["redirect_uri"] != c.redirectURI:
		return fail(invalidGrant("Invalid redirect URI"))
	}
	if c.challenge != "" {
		v := p["code_verifier"]
		if v == "" {
			return fail(invalidRequest("Check the `code_verifier` parameter"))
		}
		if !verifierPattern.MatchString(v) {
			return fail(invalidRequest("Code Verifier must follow the specifications of RFC-7636."))
		}
		want := v
		if c.method == "S256" {
			sum := sha256.Sum256([]byte(v))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
			return fail(invalidGrant("Failed to verify `code_verifier`."))
		}
	}
	c.used = true
	at, rt := a.issueLocked(c.acct, c.client, c.scope, nil)
	c.issued = append(c.issued, at)
	return at, rt, nil
}

// refreshGrant rotates a refresh token. The old token stays usable until
// the new access token is first used (see authenticate), so a refresh whose
// response was lost can be retried, up to maxRefreshReuse times.
func (s *Server) refreshGrant(p map[string]string) (*accessToken, *refreshToken, *oauthError) {
	fail := func(e oauthError) (*accessToken, *refreshToken, *oauthError) { return nil, nil, &e }
	tok := p["refresh_token"]
	if tok == "" {
		return fail(invalidRequest("Check the `refresh_token` parameter"))
	}
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.refresh[tok]
	switch {
	case old == nil:
		return fail(invalidGrant("Cannot decrypt the refresh token"))
	case old.client != p["client_id"]:
		return fail(invalidGrant("Token is not linked to client"))
	case old.revoked:
		return fail(invalidGrant("Token has been revoked"))
	case !a.now().Before(old.expires):
		return fail(invalidGrant("Token has expired"))
	case old.uses >= maxRefreshReuse:
		return fail(invalidGrant("Token has been used too many times"))
	}
	old.uses++
	at, rt := a.issueLocked(old.acct, old.client, old.scope, old)
	return at, rt, nil
}

// legacyRefresh is the non-rotating refresh of access_token.php: a new
// access token for the same refresh token, which stays valid.
func (s *Server) legacyRefresh(p map[string]string) (*accessToken, *oauthError) {
	tok := p["refresh_token"]
	if tok == "" {
		e := invalidRequest("Check the `refresh_token` parameter")
		return nil, &e
	}
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.refresh[tok]
	if old == nil || old.revoked || old.client != p["client_id"] || !a.now().Before(old.expires) {
		e := invalidGrant("The refresh token is invalid.")
		return nil, &e
	}
	now := a.now()
	at := &accessToken{acct: old.acct, client: old.client, scope: old.scope, issued: now, expires: now.Add(a.ttl), refresh: old}
	at.token = a.signJWT(at)
	old.access = at
	old.expires = now.Add(refreshTTL)
	a.access[at.token] = at
	a.order = append(a.order, at)
	return at, nil
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, oauthError{http.StatusMethodNotAllowed, "invalid_request", errInvalidRequestDesc, "Use POST"})
		return
	}
	p, ok := tokenParams(w, r)
	if !ok {
		writeOAuthError(w, invalidRequest("Malformed request body"))
		return
	}
	a := s.auth
	if !a.clientOK(p) {
		writeOAuthError(w, invalidClient())
		return
	}
	tok := p["refresh_token"]
	if tok == "" {
		tok = p["token"]
	}
	if tok == "" {
		tok = p["access_token"]
	}
	if tok == "" {
		writeOAuthError(w, invalidRequest("Check the `refresh_token` parameter"))
		return
	}
	a.mu.Lock()
	if rt := a.refresh[tok]; rt != nil && rt.client == p["client_id"] {
		rt.revoked = true
		rt.access.revoked = true
	}
	if at := a.access[tok]; at != nil && at.client == p["client_id"] {
		at.revoked = true
		at.refresh.revoked = true
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, []byte("{}"))
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	a := s.auth
	a.mu.Lock()
	at := a.access[tok]
	var body []byte
	if at == nil || at.revoked || !a.now().Before(at.expires) {
		body = []byte(`{"active":false}`)
	} else {
		body, _ = json.Marshal(map[string]any{"active": true, "aud": at.client, "acct": itoa(at.acct), "sub": "1",
			"scope": at.scope, "iss": jwtIssuer, "iat": at.issued.Unix(), "exp": at.expires.Unix()})
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	a := s.auth
	a.mu.Lock()
	if a.key == nil {
		a.signJWT(&accessToken{}) // generates the key
	}
	pub := a.key.PublicKey
	a.mu.Unlock()
	enc := base64.RawURLEncoding
	body, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": jwtKeyID,
		"n": enc.EncodeToString(pub.N.Bytes()), "e": enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	writeJSON(w, http.StatusOK, body)
}

// IssuedToken describes one token the sandbox has issued.
type IssuedToken struct {
	Kind      string    `json:"kind"` // "access" or "refresh"
	Token     string    `json:"token"`
	AccountID int       `json:"account_id"`
	ClientID  string    `json:"client_id"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Revoked   bool      `json:"revoked"`
}

// Tokens lists every access and refresh token issued, in issue order, like
// GET /_sandbox/tokens. Tests use it to check tokens are never stored in clear.
func (s *Server) Tokens() []IssuedToken {
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]IssuedToken, 0, len(a.order))
	for _, t := range a.order {
		switch t := t.(type) {
		case *accessToken:
			out = append(out, IssuedToken{"access", t.token, t.acct, t.client, t.issued, t.expires, t.revoked})
		case *refreshToken:
			out = append(out, IssuedToken{"refresh", t.token, t.acct, t.client, t.issued, t.expires, t.revoked})
		}
	}
	return out
}
