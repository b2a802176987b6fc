package lightspeed

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAuthURL is the host of Lightspeed's current OAuth server.
const DefaultAuthURL = "https://cloud.lightspeedapp.com/"

// Endpoint holds the OAuth server's URLs.
type Endpoint struct {
	AuthorizeURL string
	TokenURL     string
	RevokeURL    string // empty when the server has none (legacy)
}

// CurrentEndpoint returns the endpoints of the current OAuth server (since
// 2024-07-31) on base, e.g. DefaultAuthURL or a sandbox URL.
func CurrentEndpoint(base string) Endpoint {
	b := strings.TrimSuffix(base, "/")
	return Endpoint{
		AuthorizeURL: b + "/auth/oauth/authorize",
		TokenURL:     b + "/auth/oauth/token",
		RevokeURL:    b + "/auth/oauth/revoke",
	}
}

// LegacyEndpoint returns the deprecated *.php endpoints on base
// ("https://cloud.lightspeedapp.com" or "https://cloud.merchantos.com").
// Their refresh tokens do not rotate.
func LegacyEndpoint(base string) Endpoint {
	b := strings.TrimSuffix(base, "/")
	return Endpoint{
		AuthorizeURL: b + "/oauth/authorize.php",
		TokenURL:     b + "/oauth/access_token.php",
	}
}

// Config is an OAuth client registration.
type Config struct {
	ClientID     string
	ClientSecret string // optional for publicly distributed clients (PKCE only)
	// Endpoint defaults to CurrentEndpoint(DefaultAuthURL).
	Endpoint Endpoint
	// Scopes requested, e.g. "employee:customers", "employee:register_read".
	Scopes []string
	// RedirectURL is sent on the authorize request when set; Lightspeed
	// otherwise uses the registered URI.
	RedirectURL string
	// HTTPClient sends token requests; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Now is the clock used for expiry; time.Now when nil.
	Now func() time.Time
}

func (c *Config) endpoint() Endpoint {
	if c.Endpoint.TokenURL == "" {
		return CurrentEndpoint(DefaultAuthURL)
	}
	return c.Endpoint
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// PKCE is a proof-key pair: the verifier stays with the caller (e.g. in
// the session) until the code exchange; the challenge goes on the
// authorize URL.
type PKCE struct {
	Verifier  string
	Challenge string // base64url(SHA-256(Verifier)), method S256
}

// NewPKCE returns a fresh S256 pair with a 64-character verifier.
func NewPKCE() (PKCE, error) {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return PKCE{}, fmt.Errorf("lightspeed: pkce: %w", err)
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	return PKCE{Verifier: v, Challenge: S256Challenge(v)}, nil
}

// S256Challenge returns the S256 code challenge of verifier.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewState returns a random state value for the authorize request.
func NewState() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lightspeed: state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// AuthCodeURL returns the URL to send the merchant to. Scopes are
// space-separated (encoded "+"); the PKCE challenge uses S256.
func (c *Config) AuthCodeURL(state string, pkce PKCE) string {
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", c.ClientID)
	if len(c.Scopes) > 0 {
		q.Set("scope", strings.Join(c.Scopes, " "))
	}
	q.Set("state", state)
	if c.RedirectURL != "" {
		q.Set("redirect_uri", c.RedirectURL)
	}
	if pkce.Challenge != "" {
		q.Set("code_challenge", pkce.Challenge)
		q.Set("code_challenge_method", "S256")
	}
	u := c.endpoint().AuthorizeURL
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + q.Encode()
}

// Token is an OAuth token pair. String and LogValue redact it.
type Token struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	// Expiry is when the access token expires; zero when unknown.
	Expiry time.Time
	// AccountID is the Lightspeed account the token reaches, read from the
	// access token's "acct" claim when it is a JWT; zero when unknown (then
	// use AccountsService.List).
	AccountID int64
	// Scope as returned by legacy servers (current servers omit it).
	Scope string
}

// String returns a redacted description, so a Token printed by mistake
// leaks nothing.
func (t Token) String() string {
	return fmt.Sprintf("lightspeed.Token{access:%s refresh:%s expiry:%s account:%d}",
		mask(t.AccessToken), mask(t.RefreshToken), t.Expiry.Format(time.RFC3339), t.AccountID)
}

// GoString redacts like String for %#v.
func (t Token) GoString() string { return t.String() }

// LogValue redacts the token in slog output.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_token", mask(t.AccessToken)),
		slog.String("refresh_token", mask(t.RefreshToken)),
		slog.Time("expiry", t.Expiry),
		slog.Int64("account_id", t.AccountID),
	)
}

func mask(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

// Valid reports whether the access token is set and not expiring within
// leeway.
func (t Token) Valid(now time.Time, leeway time.Duration) bool {
	if t.AccessToken == "" {
		return false
	}
	return t.Expiry.IsZero() || now.Add(leeway).Before(t.Expiry)
}

// tokenResponse is every token-endpoint success form: current
// ({token_type, expires_in, access_token, refresh_token}), legacy with
// "scope" and "expiry_time", and numbers sent as strings.
type tokenResponse struct {
	AccessToken  flexString `json:"access_token"`
	RefreshToken flexString `json:"refresh_token"`
	TokenType    flexString `json:"token_type"`
	ExpiresIn    flexInt    `json:"expires_in"`
	ExpiryTime   flexInt    `json:"expiry_time"`
	Scope        flexString `json:"scope"`
}

// Exchange trades an authorization code and its PKCE verifier for a token
// pair. A wrong, expired or replayed code, or a verifier that does not match,
// returns an *APIError matching ErrInvalidGrant.
func (c *Config) Exchange(ctx context.Context, code, verifier string) (Token, error) {
	form := url.Values{}
	form.Set("grant_type", "authorization_code")
	form.Set("code", code)
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	if c.RedirectURL != "" {
		form.Set("redirect_uri", c.RedirectURL)
	}
	tok, err := c.tokenRequest(ctx, form, []string{code, verifier})
	if err != nil {
		return Token{}, fmt.Errorf("lightspeed: exchange code: %w", err)
	}
	return tok, nil
}

// Refresh trades a refresh token for a new pair. Current servers rotate the
// refresh token; when a legacy server returns none, the old one is kept.
// A used, expired or revoked refresh token returns an *APIError matching
// ErrInvalidGrant: the merchant must authorize again.
func (c *Config) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	if refreshToken == "" {
		return Token{}, errors.New("lightspeed: refresh: no refresh token")
	}
	form := url.Values{}
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", refreshToken)
	// No "scope" here: the current server has refused refresh requests
	// that carry one.
	tok, err := c.tokenRequest(ctx, form, []string{refreshToken})
	if err != nil {
		return Token{}, fmt.Errorf("lightspeed: refresh token: %w", err)
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

// Revoke revokes a refresh token and its access tokens.
func (c *Config) Revoke(ctx context.Context, refreshToken string) error {
	ep := c.endpoint()
	if ep.RevokeURL == "" {
		return errors.New("lightspeed: revoke: endpoint has no revoke URL")
	}
	form := url.Values{}
	form.Set("refresh_token", refreshToken)
	form.Set("token", refreshToken)
	_, err := c.post(ctx, ep.RevokeURL, form, []string{refreshToken})
	if err != nil {
		return fmt.Errorf("lightspeed: revoke: %w", err)
	}
	return nil
}

// tokenRequest posts form (form-urlencoded, which every server generation
// accepts) with the client credentials and decodes the token.
func (c *Config) tokenRequest(ctx context.Context, form url.Values, secrets []string) (Token, error) {
	body, err := c.post(ctx, c.endpoint().TokenURL, form, secrets)
	if err != nil {
		return Token{}, err
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return Token{}, fmt.Errorf("decode token response: %w", redactError(err, secrets))
	}
	if tr.AccessToken == "" {
		return Token{}, errors.New("token response has no access_token")
	}
	now := c.now()
	t := Token{
		AccessToken:  string(tr.AccessToken),
		RefreshToken: string(tr.RefreshToken),
		TokenType:    string(tr.TokenType),
		Scope:        string(tr.Scope),
	}
	switch {
	case tr.ExpiresIn > 0:
		t.Expiry = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	case tr.ExpiryTime > 1e9:
		// Legacy servers may send an absolute unix expiry.
		t.Expiry = time.Unix(int64(tr.ExpiryTime), 0)
	}
	claims := jwtClaims(t.AccessToken)
	t.AccountID = claims.account
	if t.Expiry.IsZero() && !claims.exp.IsZero() {
		t.Expiry = claims.exp
	}
	return t, nil
}

func (c *Config) post(ctx context.Context, endpoint string, form url.Values, secrets []string) ([]byte, error) {
	form.Set("client_id", c.ClientID)
	if c.ClientSecret != "" {
		form.Set("client_secret", c.ClientSecret)
		secrets = append(secrets, c.ClientSecret)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint %q", endpoint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, redactError(err, secrets)
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
			return nil, ctx.Err()
		}
		return nil, redactError(err, secrets)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, redactError(err, secrets)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(http.MethodPost, u, resp.StatusCode, body, secrets)
	}
	return body, nil
}

type claims struct {
	account int64
	exp     time.Time
}

// jwtClaims reads "acct" and "exp" from a JWT access token without
// verifying it: the token came straight from the token endpoint over TLS,
// and these values only route calls (the API verifies the token). Returns
// zero values for opaque tokens.
func jwtClaims(tok string) claims {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}
	}
	var c struct {
		Acct flexString  `json:"acct"`
		Exp  json.Number `json:"exp"` // fractional unix seconds
	}
	if json.Unmarshal(payload, &c) != nil {
		return claims{}
	}
	var out claims
	if n, err := strconv.ParseInt(strings.TrimSpace(string(c.Acct)), 10, 64); err == nil && n > 0 {
		out.account = n
	}
	if f, err := c.Exp.Float64(); err == nil && f > 0 {
		sec := int64(f)
		out.exp = time.Unix(sec, int64((f-float64(sec))*1e9))
	}
	return out
}

// TokenSourceOptions configures a TokenSource.
type TokenSourceOptions struct {
	// Persist stores every new token pair. It is called after a refresh
	// and before the new access token is used; when it fails the new pair
	// is discarded and the error returned, so the stored refresh token is
	// never one the API has already rotated away (Lightspeed defers revoking
	// the old refresh token until the new access token is first used).
	// Required.
	Persist func(ctx context.Context, t Token) error
	// Lock, when set, is held around each refresh to serialise refreshes of
	// this connection across processes (e.g. a Postgres advisory lock or
	// SELECT ... FOR UPDATE on the connection row). It returns the function
	// that releases the lock.
	Lock func(ctx context.Context) (unlock func(), err error)
	// Reload, when set, is called under Lock to read the latest stored
	// token: another process may have rotated it. A reloaded token that is
	// still valid is used instead of refreshing.
	Reload func(ctx context.Context) (Token, error)
	// RefreshAhead is how long before expiry the token is refreshed; zero
	// means 5 minutes.
	RefreshAhead time.Duration
}

// TokenSource returns a valid access token, refreshing it ahead of expiry.
// Refreshes are serialised: concurrent callers wait for the one refresh in
// flight and receive its token. It is safe for concurrent use and
// implements TokenProvider.
type TokenSource struct {
	cfg  *Config
	opts TokenSourceOptions
	sem  chan struct{} // one refresh at a time in this process

	mu  sync.Mutex
	cur Token
	// obtained is when this source received cur from the token endpoint
	// (zero for a token it was given), so the refresh-ahead window can be
	// capped at half the token's real lifetime; see leeway.
	obtained time.Time
}

// NewTokenSource returns a source starting from the stored token t.
func NewTokenSource(cfg *Config, t Token, opts TokenSourceOptions) (*TokenSource, error) {
	if cfg == nil {
		return nil, errors.New("lightspeed: token source: nil Config")
	}
	if opts.Persist == nil {
		return nil, errors.New("lightspeed: token source: Persist is required")
	}
	if opts.RefreshAhead <= 0 {
		opts.RefreshAhead = 5 * time.Minute
	}
	return &TokenSource{cfg: cfg, opts: opts, sem: make(chan struct{}, 1), cur: t}, nil
}

// Current returns the token the source holds, without refreshing.
func (s *TokenSource) Current() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Token returns a token valid for at least RefreshAhead, refreshing first
// when needed.
func (s *TokenSource) Token(ctx context.Context) (Token, error) {
	if t := s.Current(); t.Valid(s.cfg.now(), s.leeway(t)) {
		return t, nil
	}
	return s.refresh(ctx, func(cur Token) bool { return !cur.Valid(s.cfg.now(), s.leeway(cur)) })
}

// leeway is how long before t's expiry it is refreshed: RefreshAhead, but at
// most half the lifetime t had when this source received it. Without the cap
// a token issued for less than RefreshAhead would be refreshed on every call:
// pre-2024 servers answered a refresh with the same access token and only
// the remaining lifetime, and the sandbox issues short-lived tokens.
func (s *TokenSource) leeway(t Token) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	lead := s.opts.RefreshAhead
	if t.AccessToken == s.cur.AccessToken && !s.obtained.IsZero() && !t.Expiry.IsZero() {
		if half := t.Expiry.Sub(s.obtained) / 2; half < lead {
			lead = max(half, 0)
		}
	}
	return lead
}

// Refresh forces a refresh because the API rejected the access token of
// rejected, unless another caller already replaced it; it then returns the
// replacement.
func (s *TokenSource) Refresh(ctx context.Context, rejected Token) (Token, error) {
	return s.refresh(ctx, func(cur Token) bool { return cur.AccessToken == rejected.AccessToken })
}

// refresh runs one refresh when stale(current) still holds once this
// caller has the in-process (and optional cross-process) lock.
func (s *TokenSource) refresh(ctx context.Context, stale func(Token) bool) (Token, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
	defer func() { <-s.sem }()

	cur := s.Current()
	if !stale(cur) {
		return cur, nil // refreshed by the caller we waited for
	}
	if s.opts.Lock != nil {
		unlock, err := s.opts.Lock(ctx)
		if err != nil {
			return Token{}, fmt.Errorf("lightspeed: token lock: %w", err)
		}
		defer unlock()
	}
	if s.opts.Reload != nil {
		stored, err := s.opts.Reload(ctx)
		if err != nil {
			return Token{}, fmt.Errorf("lightspeed: token reload: %w", err)
		}
		if stored.AccessToken != "" && !stale(stored) {
			s.set(stored)
			return stored, nil
		}
		if stored.RefreshToken != "" {
			cur = stored
		}
	}
	next, err := s.cfg.Refresh(ctx, cur.RefreshToken)
	if err != nil {
		return Token{}, err
	}
	if next.AccountID == 0 {
		next.AccountID = cur.AccountID
	}
	obtained := s.cfg.now()
	if err := s.opts.Persist(ctx, next); err != nil {
		return Token{}, fmt.Errorf("lightspeed: persist refreshed token: %w", redactError(err, []string{next.AccessToken, next.RefreshToken}))
	}
	s.mu.Lock()
	s.cur, s.obtained = next, obtained
	s.mu.Unlock()
	return next, nil
}

func (s *TokenSource) set(t Token) {
	s.mu.Lock()
	s.cur, s.obtained = t, time.Time{}
	s.mu.Unlock()
}
