package salesforce

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Login hosts. A connection records which one it used: refresh must go back
// to the same host.
const (
	ProductionLoginURL = "https://login.salesforce.com"
	SandboxLoginURL    = "https://test.salesforce.com"
)

// DefaultScopes is the scope a sync connection asks for: data access, a
// refresh token (both of its names), and the identity URL.
const DefaultScopes = "api refresh_token offline_access id"

// MyDomainLoginURL turns what a merchant types as their My Domain
// ("acme", "acme.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com/")
// into a login URL, or explains why the input cannot be one. Lightning UI
// hosts (*.lightning.force.com) and Visualforce hosts are refused with a hint
// to use the my.salesforce.com address, because API sessions do not work
// there.
func MyDomainLoginURL(input string) (string, error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return "", errors.New("salesforce: My Domain is empty: enter the address you log in at, e.g. acme.my.salesforce.com")
	}
	lower := strings.ToLower(s)
	for _, p := range []string{"https://", "http://"} {
		if strings.HasPrefix(lower, p) {
			s, lower = s[len(p):], lower[len(p):]
			if strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https//") {
				return "", fmt.Errorf("salesforce: My Domain %q has the scheme twice: enter just the host, e.g. acme.my.salesforce.com", input)
			}
			break
		}
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		if rest := strings.Trim(s[i:], "/"); rest != "" {
			return "", fmt.Errorf("salesforce: My Domain %q has a path: enter just the host, e.g. acme.my.salesforce.com", input)
		}
		s = s[:i]
	}
	host := strings.TrimSuffix(strings.ToLower(s), ".")
	if strings.ContainsAny(host, "@: ") {
		return "", fmt.Errorf("salesforce: My Domain %q is not a host name: enter e.g. acme.my.salesforce.com", input)
	}
	if !strings.Contains(host, ".") {
		// A bare My Domain name.
		host += ".my.salesforce.com"
	}
	switch {
	case strings.HasSuffix(host, ".lightning.force.com"):
		name := strings.TrimSuffix(host, ".lightning.force.com")
		return "", fmt.Errorf("salesforce: %q is the Lightning address, which the API does not accept: use %s.my.salesforce.com", input, name)
	case strings.HasSuffix(host, ".visualforce.com"), strings.HasSuffix(host, ".force.com") && !strings.HasSuffix(host, ".salesforce.com"):
		return "", fmt.Errorf("salesforce: %q is a site or Visualforce address: use your org's my.salesforce.com address", input)
	case host == "login.salesforce.com":
		return ProductionLoginURL, nil
	case host == "test.salesforce.com":
		return SandboxLoginURL, nil
	case !strings.HasSuffix(host, ".my.salesforce.com"):
		return "", fmt.Errorf("salesforce: %q is not a My Domain: it must end in .my.salesforce.com", input)
	}
	name := strings.TrimSuffix(host, ".my.salesforce.com")
	name = strings.TrimSuffix(name, ".sandbox")
	name = strings.TrimSuffix(name, ".develop")
	name = strings.TrimSuffix(name, ".scratch")
	if name == "" || !validMyDomainName(name) {
		return "", fmt.Errorf("salesforce: %q is not a valid My Domain name: use letters, digits and hyphens, e.g. acme.my.salesforce.com", input)
	}
	return "https://" + host, nil
}

func validMyDomainName(name string) bool {
	if len(name) > 80 || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Token is what the OAuth token endpoint returns. Salesforce sends no
// expiry; the session ends when the API answers 401.
type Token struct {
	AccessToken  string
	RefreshToken string
	// InstanceURL is the base of every API call for this connection.
	InstanceURL string
	// ID is the identity URL (https://login.salesforce.com/id/{org}/{user}).
	ID        string
	IssuedAt  time.Time
	Scope     string
	TokenType string
	Signature string
}

// OrgID returns the 18-character organization id from the identity URL.
func (t Token) OrgID() string { return idURLPart(t.ID, 2) }

// UserID returns the 18-character user id from the identity URL.
func (t Token) UserID() string { return idURLPart(t.ID, 1) }

func idURLPart(idURL string, fromEnd int) string {
	u, err := url.Parse(idURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "id" {
		return ""
	}
	return parts[len(parts)-fromEnd]
}

// String prints the token with its secrets redacted.
func (t Token) String() string {
	return fmt.Sprintf("salesforce.Token{instance=%s id=%s access=%s refresh=%s}",
		t.InstanceURL, t.ID, redact(t.AccessToken), redact(t.RefreshToken))
}

// GoString keeps %#v from printing the secrets.
func (t Token) GoString() string { return t.String() }

// LogValue makes slog print the token redacted.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("instance_url", t.InstanceURL),
		slog.String("id", t.ID),
		slog.String("access_token", redact(t.AccessToken)),
		slog.String("refresh_token", redact(t.RefreshToken)),
	)
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// tokenJSON is the wire shape of a token response.
type tokenJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	// IssuedAt is a string of epoch milliseconds; a bare number is
	// accepted too, so an odd proxy cannot make a refresh (whose rotated
	// refresh token would then be lost) undecodable.
	IssuedAt  json.RawMessage `json:"issued_at"`
	Scope     string          `json:"scope"`
	TokenType string          `json:"token_type"`
	Signature string          `json:"signature"`
}

// OAuthError is an error answer from the OAuth endpoints
// ({"error": ..., "error_description": ...}).
type OAuthError struct {
	StatusCode  int
	Code        string
	Description string
	// Op names the call: "exchange code", "refresh", "password login", "revoke".
	Op string
}

// Error describes the failure with the OAuth error code and description.
func (e *OAuthError) Error() string {
	msg := fmt.Sprintf("salesforce: oauth %s: %s", e.Op, e.Code)
	if e.StatusCode != 0 {
		msg = fmt.Sprintf("salesforce: oauth %s: %d %s", e.Op, e.StatusCode, e.Code)
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Concurrent reports the 400 Salesforce gives a refresh that races another
// refresh of the same token. It clears within moments and is retried.
// Until late 2024 Salesforce described this case as "expired authorization
// code"; a refresh sends no authorization code, so on a refresh that text
// can only mean the race.
func (e *OAuthError) Concurrent() bool {
	if e.Code != "invalid_grant" {
		return false
	}
	return strings.Contains(e.Description, "already being processed") ||
		e.Op == "refresh" && strings.Contains(e.Description, "expired authorization code")
}

// Terminal reports a refusal that no retry can fix: the user must connect
// again (needs_reauth).
func (e *OAuthError) Terminal() bool {
	switch e.Code {
	case "invalid_grant":
		return !e.Concurrent()
	case "inactive_user", "inactive_org", "invalid_client", "invalid_client_id", "invalid_client_credentials", "unauthorized_client":
		return true
	}
	return false
}

// OAuthConfig is a connected app's settings for one login host.
type OAuthConfig struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// LoginURL is ProductionLoginURL, SandboxLoginURL, the result of
	// MyDomainLoginURL, or an emulator's base URL in tests.
	LoginURL string
	// Scopes defaults to the scopes in DefaultScopes.
	Scopes []string
	// HTTPClient defaults to http.DefaultClient.
	HTTPClient *http.Client
	// ConcurrentRetries is how many times a refresh that collided with
	// another refresh ("token request is already being processed") is
	// retried; 0 means 3. ConcurrentRetryDelay defaults to 500ms.
	ConcurrentRetries    int
	ConcurrentRetryDelay time.Duration
}

func (c *OAuthConfig) check() error {
	if c.ClientID == "" {
		return errors.New("salesforce: oauth: client id is empty")
	}
	u, err := url.Parse(c.LoginURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("salesforce: oauth: login URL %q is not an absolute http(s) URL", c.LoginURL)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("salesforce: oauth: login URL %q must use https", c.LoginURL)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *OAuthConfig) endpoint(path string) string {
	return strings.TrimRight(c.LoginURL, "/") + path
}

// AuthRequest is a started authorization: send the user to URL and keep
// State and Verifier (server-side, e.g. in the session) for the callback.
type AuthRequest struct {
	URL      string
	State    string
	Verifier string
}

// StartAuth builds the authorize URL of the web server flow with a fresh
// random state and PKCE verifier (S256).
func (c *OAuthConfig) StartAuth() (AuthRequest, error) {
	if err := c.check(); err != nil {
		return AuthRequest{}, err
	}
	if c.RedirectURL == "" {
		return AuthRequest{}, errors.New("salesforce: oauth: redirect URL is empty")
	}
	state, verifier := randomString(24), randomString(48)
	scope := strings.Join(c.Scopes, " ")
	if len(c.Scopes) == 0 {
		scope = DefaultScopes
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ClientID},
		"redirect_uri":          {c.RedirectURL},
		"scope":                 {scope},
		"state":                 {state},
		"code_challenge":        {CodeChallenge(verifier)},
		"code_challenge_method": {"S256"},
	}
	return AuthRequest{URL: c.endpoint("/services/oauth2/authorize") + "?" + q.Encode(), State: state, Verifier: verifier}, nil
}

// CodeChallenge is the S256 PKCE challenge of verifier.
func CodeChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrStateMismatch is returned by CallbackCode when the callback's state is
// not the one StartAuth issued (a forged or replayed callback).
var ErrStateMismatch = errors.New("salesforce: oauth callback: state does not match")

// CallbackCode checks the query of the redirect back from Salesforce against
// the state StartAuth issued and returns the authorization code. A user who
// pressed Deny yields an *OAuthError with Code "access_denied".
func CallbackCode(query url.Values, wantState string) (string, error) {
	got := query.Get("state")
	if wantState == "" || subtle.ConstantTimeCompare([]byte(got), []byte(wantState)) != 1 {
		return "", ErrStateMismatch
	}
	if e := query.Get("error"); e != "" {
		return "", &OAuthError{Op: "authorize", Code: e, Description: query.Get("error_description")}
	}
	code := query.Get("code")
	if code == "" {
		return "", errors.New("salesforce: oauth callback: no code")
	}
	return code, nil
}

// Exchange trades an authorization code (and the PKCE verifier of the
// same AuthRequest) for a token.
func (c *OAuthConfig) Exchange(ctx context.Context, code, verifier string) (Token, error) {
	if err := c.check(); err != nil {
		return Token{}, err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"client_id":     {c.ClientID},
		"client_secret": {c.ClientSecret},
		"redirect_uri":  {c.RedirectURL},
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return c.tokenRequest(ctx, "exchange code", form)
}

// PasswordLogin runs the username-password flow. Salesforce discourages it
// for production; Tandem uses it only against its sandbox and in tests.
func (c *OAuthConfig) PasswordLogin(ctx context.Context, username, password string) (Token, error) {
	if err := c.check(); err != nil {
		return Token{}, err
	}
	form := url.Values{
		"grant_type":    {"password"},
		"client_id":     {c.ClientID},
		"client_secret": {c.ClientSecret},
		"username":      {username},
		"password":      {password},
	}
	return c.tokenRequest(ctx, "password login", form)
}

// Refresh uses a refresh token to get a new access token. The result keeps
// refreshToken unless Salesforce rotated it, in which case it carries the new
// one (which the caller must store before using the access token). A refresh
// that collides with another one is retried a few times.
func (c *OAuthConfig) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	if err := c.check(); err != nil {
		return Token{}, err
	}
	if refreshToken == "" {
		return Token{}, &OAuthError{Op: "refresh", Code: "invalid_grant", Description: "no refresh token (was the refresh_token scope granted?)"}
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"client_id":     {c.ClientID},
	}
	if c.ClientSecret != "" {
		form.Set("client_secret", c.ClientSecret)
	}
	retries := c.ConcurrentRetries
	if retries <= 0 {
		retries = 3
	}
	delay := c.ConcurrentRetryDelay
	if delay <= 0 {
		delay = 500 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.tokenRequest(ctx, "refresh", form)
		var oe *OAuthError
		if err == nil || !errors.As(err, &oe) || !oe.Concurrent() || attempt >= retries {
			if err == nil && tok.RefreshToken == "" {
				tok.RefreshToken = refreshToken
			}
			return tok, err
		}
		if err := sleepCtx(ctx, jitter(delay<<attempt)); err != nil {
			return Token{}, err
		}
	}
}

// Revoke revokes an access token, or a refresh token and every access token
// issued from it.
func (c *OAuthConfig) Revoke(ctx context.Context, token string) error {
	if err := c.check(); err != nil {
		return err
	}
	resp, body, err := c.post(ctx, "/services/oauth2/revoke", url.Values{"token": {token}})
	if err != nil {
		return fmt.Errorf("salesforce: oauth revoke: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return oauthError("revoke", resp.StatusCode, body)
	}
	return nil
}

func (c *OAuthConfig) post(ctx context.Context, path string, form url.Values) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		// *url.Error would repeat the URL; the form (with secrets) is in the
		// body, never in the URL, so this is safe to show.
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

func (c *OAuthConfig) tokenRequest(ctx context.Context, op string, form url.Values) (Token, error) {
	resp, body, err := c.post(ctx, "/services/oauth2/token", form)
	if err != nil {
		return Token{}, fmt.Errorf("salesforce: oauth %s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Token{}, oauthError(op, resp.StatusCode, body)
	}
	var tj tokenJSON
	if err := json.Unmarshal(body, &tj); err != nil {
		return Token{}, fmt.Errorf("salesforce: oauth %s: decode token response: %w", op, err)
	}
	if tj.AccessToken == "" || tj.InstanceURL == "" {
		return Token{}, fmt.Errorf("salesforce: oauth %s: token response lacks access_token or instance_url", op)
	}
	issued := strings.Trim(string(tj.IssuedAt), `"`)
	if c.ClientSecret != "" && tj.Signature != "" && !validSignature(c.ClientSecret, tj.ID, issued, tj.Signature) {
		return Token{}, fmt.Errorf("salesforce: oauth %s: token signature does not match the identity URL", op)
	}
	tok := Token{
		AccessToken: tj.AccessToken, RefreshToken: tj.RefreshToken, InstanceURL: strings.TrimRight(tj.InstanceURL, "/"),
		ID: tj.ID, Scope: tj.Scope, TokenType: tj.TokenType, Signature: tj.Signature,
	}
	tok.IssuedAt = parseIssuedAt(issued)
	return tok, nil
}

// parseIssuedAt reads issued_at: epoch milliseconds, as every captured
// response has it. Some Salesforce doc text says seconds, so a value too
// small to be milliseconds after 1973 is read as seconds. Anything else
// gives the zero time.
func parseIssuedAt(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	if n < 1e11 {
		return time.Unix(n, 0).UTC()
	}
	return time.UnixMilli(n).UTC()
}

// validOAuthCode reports whether s looks like an OAuth error code
// (invalid_token), so an HTML page that happens to parse as a query is not
// taken for one.
func validOAuthCode(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_') {
			return false
		}
	}
	return true
}

// validSignature checks the HMAC-SHA256 Salesforce computes over id+issued_at
// with the client secret.
func validSignature(secret, id, issuedAt, sig string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + issuedAt))
	want := m.Sum(nil)
	got, err := base64.StdEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(got, want)
}

func oauthError(op string, status int, body []byte) error {
	e := &OAuthError{Op: op, StatusCode: status}
	var w struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &w) == nil && w.Error != "" {
		e.Code, e.Description = w.Error, w.Description
	} else if q, err := url.ParseQuery(strings.TrimSpace(string(body))); err == nil && validOAuthCode(q.Get("error")) {
		// The revoke endpoint may answer in the form encoding
		// (error=invalid_token&error_description=...).
		e.Code, e.Description = q.Get("error"), q.Get("error_description")
	} else {
		e.Code = http.StatusText(status)
		e.Description = excerpt(strings.TrimSpace(string(body)), 200)
	}
	return e
}
