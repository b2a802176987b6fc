package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAPIVersion is the REST API version the client pins unless told
// otherwise (Spring '26).
const DefaultAPIVersion = "66.0"

// SaveTokenFunc persists a token a refresh returned. The client calls it
// before it uses the new access token; if it fails, the new token is not
// used and the call fails, so a rotated refresh token is never held only in
// memory. With a RefreshLockFunc installed it runs while the lock is held.
type SaveTokenFunc func(ctx context.Context, tok Token) error

// RefreshLockFunc serialises refreshes of one connection across processes
// (Tandem takes a row lock on the connection in Postgres). The client calls
// it before a refresh; it returns the token stored for the connection now
// and unlock, which the client calls exactly once when it is done under the
// lock.
//
// If stored carries an access token other than the one the API refused,
// another process refreshed meanwhile: the client adopts stored instead of
// refreshing and calls unlock(nil). (If the API refuses the adopted token
// too, it expired while stored: the client calls the lock again, now with
// the adopted token as the stale one, and refreshes.)
//
// Otherwise it refreshes with stored's refresh token (its own if stored has
// none), hands the result to the SaveTokenFunc and calls unlock with the
// outcome: nil once the token is saved, else the refresh or save error,
// e.g. an [*OAuthError] whose Terminal method reports a refusal. So the
// hook can act on a refusal in the same locked transaction (Tandem marks
// the connection needs_reauth).
//
// unlock returns the error the call fails with: outcome itself, or an error
// that says more (Tandem's vault returns a *vault.ReauthError). A non-nil
// error from unlock(nil) also fails the call, and the token is then not
// used; a nil return for a non-nil outcome leaves outcome as the error.
type RefreshLockFunc func(ctx context.Context) (stored Token, unlock func(outcome error) error, err error)

// Option configures a Client.
type Option func(*Client) error

// WithAPIVersion pins the REST API version, e.g. "66.0" (a leading "v" is
// accepted).
func WithAPIVersion(v string) Option {
	return func(c *Client) error {
		v = strings.TrimPrefix(v, "v")
		if !versionRE.MatchString(v) {
			return fmt.Errorf("salesforce: API version %q is not of the form NN.N", v)
		}
		c.version = v
		return nil
	}
}

var versionRE = regexp.MustCompile(`^[1-9][0-9]\.[0-9]$`)

// WithRefresh lets the client refresh its session on 401 INVALID_SESSION_ID
// with cfg (the connected app and login host the token came from). save is
// required: every token a refresh returns goes through it first.
func WithRefresh(cfg *OAuthConfig, save SaveTokenFunc) Option {
	return func(c *Client) error {
		if cfg == nil || save == nil {
			return errors.New("salesforce: WithRefresh needs an OAuth config and a save function")
		}
		if err := cfg.check(); err != nil {
			return err
		}
		c.oauth, c.save = cfg, save
		return nil
	}
}

// WithRefreshLock installs the cross-process refresh lock. It only takes
// effect together with WithRefresh.
func WithRefreshLock(lock RefreshLockFunc) Option {
	return func(c *Client) error {
		if lock == nil {
			return errors.New("salesforce: WithRefreshLock needs a lock function")
		}
		c.lock = lock
		return nil
	}
}

// WithRetryPolicy replaces the default retry policy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) error {
		c.retry = p.withDefaults()
		return nil
	}
}

// WithCallOptions sets the Sforce-Call-Options client name sent on every
// request; Salesforce copies it into change events, which lets a sync skip
// its own echoes.
func WithCallOptions(clientName string) Option {
	return func(c *Client) error {
		c.callOptions = "client=" + clientName
		return nil
	}
}

// Client talks to one Salesforce org on behalf of one connection. It is safe
// for concurrent use. Clients are cheap; build one per connection.
type Client struct {
	hc          *http.Client
	version     string
	retry       RetryPolicy
	oauth       *OAuthConfig
	save        SaveTokenFunc
	lock        RefreshLockFunc
	callOptions string

	mu  sync.RWMutex
	tok Token
	// refreshMu makes refreshes one at a time; a caller that waited on it
	// finds the token already replaced and does not refresh again.
	refreshMu sync.Mutex

	limitMu sync.Mutex
	limit   LimitInfo

	describes describeCache
}

// NewClient returns a client for the org tok belongs to. httpClient may be
// nil (http.DefaultClient's transport is used); the client wraps its
// transport with the retry layer and never mutates the one passed in.
func NewClient(httpClient *http.Client, tok Token, opts ...Option) (*Client, error) {
	if tok.AccessToken == "" {
		return nil, errors.New("salesforce: new client: token has no access token")
	}
	if err := checkInstanceURL(tok.InstanceURL); err != nil {
		return nil, fmt.Errorf("salesforce: new client: %w", err)
	}
	tok.InstanceURL = strings.TrimRight(tok.InstanceURL, "/")
	c := &Client{version: DefaultAPIVersion, retry: RetryPolicy{}.withDefaults(), tok: tok}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	hc := http.Client{}
	if httpClient != nil {
		hc = *httpClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &retryTransport{base: base, policy: c.retry}
	c.hc = &hc
	return c, nil
}

func checkInstanceURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("instance URL %q is not an absolute http(s) URL", s)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("instance URL %q must use https", s)
	}
	if strings.HasSuffix(u.Hostname(), ".lightning.force.com") {
		return fmt.Errorf("instance URL %q is a Lightning UI host; the API lives at the my.salesforce.com host", s)
	}
	return nil
}

// Token returns the token the client currently uses.
func (c *Client) Token() Token {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tok
}

// APIVersion returns the pinned version, e.g. "66.0".
func (c *Client) APIVersion() string { return c.version }

// InstanceURL returns the base URL of every call.
func (c *Client) InstanceURL() string { return c.Token().InstanceURL }

// dataPath is the REST root, e.g. "/services/data/v66.0".
func (c *Client) dataPath() string { return "/services/data/v" + c.version }

// LimitInfo is the org's API usage as the last Sforce-Limit-Info header said.
type LimitInfo struct {
	Used, Max int
	// At is when the header was received; zero if none was seen yet.
	At time.Time
}

// Remaining is the number of calls left in the rolling 24-hour window.
func (l LimitInfo) Remaining() int { return max(l.Max-l.Used, 0) }

// The org usage, not the "per-app-api-usage" some orgs add beside it.
var limitRE = regexp.MustCompile(`(?:^|[;,\s])api-usage=(\d+)/(\d+)`)

// ParseLimitInfo reads an "api-usage=N/M" Sforce-Limit-Info header value.
func ParseLimitInfo(h string) (LimitInfo, bool) {
	m := limitRE.FindStringSubmatch(h)
	if m == nil {
		return LimitInfo{}, false
	}
	used, err1 := strconv.Atoi(m[1])
	lim, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return LimitInfo{}, false
	}
	return LimitInfo{Used: used, Max: lim}, true
}

// LastLimitInfo returns the API usage from the most recent response that
// carried it.
func (c *Client) LastLimitInfo() LimitInfo {
	c.limitMu.Lock()
	defer c.limitMu.Unlock()
	return c.limit
}

func (c *Client) recordLimit(h http.Header) *LimitInfo {
	li, ok := ParseLimitInfo(h.Get("Sforce-Limit-Info"))
	if !ok {
		return nil
	}
	li.At = time.Now()
	c.limitMu.Lock()
	if li.At.After(c.limit.At) || c.limit.At.IsZero() {
		c.limit = li
	}
	c.limitMu.Unlock()
	return &li
}

// Response wraps the HTTP response of a call. The body has been consumed.
type Response struct {
	*http.Response
	// Limit is the Sforce-Limit-Info of this response, nil if absent.
	Limit *LimitInfo
}

// NewRequest builds a request to the org. path is relative to the versioned
// REST root ("sobjects/Contact") unless it starts with "/" (e.g. a
// nextRecordsUrl, used as-is on the instance URL). A body that is []byte is
// sent as-is with the given content type (CSV uploads); anything else is
// JSON-encoded. The Authorization header is added by Do.
func (c *Client) NewRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	return c.newRequest(ctx, method, path, body, "")
}

func (c *Client) newRequest(ctx context.Context, method, path string, body any, contentType string) (*http.Request, error) {
	if !strings.HasPrefix(path, "/") {
		path = c.dataPath() + "/" + path
	}
	var buf []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		buf = b
	default:
		var err error
		buf, err = json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("salesforce: encode %s body: %w", method, err)
		}
		contentType = "application/json"
	}
	var rd io.Reader
	if buf != nil {
		rd = bytes.NewReader(buf)
	}
	// The instance URL is filled in by Do, so a refresh that moves the org
	// to another instance is honoured on replay.
	req, err := http.NewRequestWithContext(ctx, method, "http://"+instancePlaceholder+path, rd)
	if err != nil {
		return nil, fmt.Errorf("salesforce: new request %s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.callOptions != "" {
		req.Header.Set("Sforce-Call-Options", c.callOptions)
	}
	return req, nil
}

// Do sends req with the current access token and decodes a 2xx JSON body
// into v (if v is non-nil and the body is non-empty; an *[]byte receives the
// raw body). On 401 INVALID_SESSION_ID it refreshes (see WithRefresh) and
// replays once; if the refresh only adopted a token another caller had
// stored and the replay is refused too (that token expired as well), it
// refreshes for real and replays once more. A call never runs two
// refreshes. A non-2xx answer is returned as *APIError; a 300 returns
// *APIError with ErrorCode MULTIPLE_CHOICES and the matching record URLs in
// Matches.
// Errors from Do name the method and path but not the package; the
// Client's own methods wrap them as "salesforce: <operation>: ...".
func (c *Client) Do(req *http.Request, v any) (*Response, error) {
	resp, body, err := c.send(req)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode == http.StatusMultipleChoices {
		e := &APIError{StatusCode: resp.StatusCode, Method: req.Method, Path: req.URL.Path,
			ErrorCode: CodeMultipleChoices, Message: "the external ID matches more than one record"}
		json.Unmarshal(body, &e.Matches)
		return resp, e
	}
	if resp.StatusCode/100 != 2 {
		return resp, newAPIError(req.Method, req.URL.Path, resp.StatusCode, body)
	}
	if v == nil || len(body) == 0 {
		return resp, nil
	}
	if raw, ok := v.(*[]byte); ok {
		*raw = body
		return resp, nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp, fmt.Errorf("%s %s: decode response: %w", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// instancePlaceholder stands for the instance host in a built request; Do
// swaps in the current token's instance URL.
const instancePlaceholder = "instance.invalid"

// maxBody bounds a response body (describe of a wide object is a few MB;
// bulk result CSVs can be large and are read through the same path).
const maxBody = 512 << 20

func (c *Client) send(req *http.Request) (*Response, []byte, error) {
	resp, body, _, err := c.sendStream(req, false)
	return resp, body, err
}

// sendStream is send that, with stream set, returns a 2xx answer's body
// unread for the caller to read and close (a large result CSV); any other
// answer is read as send reads it.
func (c *Client) sendStream(req *http.Request, stream bool) (*Response, []byte, io.ReadCloser, error) {
	ctx := req.Context()
	// replays counts the times req was sent again after a refresh; refreshed
	// records whether this call itself ran a refresh (rather than adopting a
	// token another caller stored). See Do and RefreshLockFunc.
	replays, refreshed := 0, false
	for {
		tok := c.Token()
		// Work on a copy: the caller's request keeps its placeholder host,
		// so a replay after a refresh that moved the org goes to the new
		// instance.
		r := req.Clone(ctx)
		if replays > 0 && req.GetBody != nil {
			b, err := req.GetBody()
			if err != nil {
				return nil, nil, nil, err
			}
			r.Body = b
		}
		if r.URL.Host == instancePlaceholder {
			u, err := url.Parse(tok.InstanceURL)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("instance URL: %w", err)
			}
			r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
			r.Host = ""
		}
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		hresp, err := c.hc.Do(r)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, ctx.Err())
			}
			return nil, nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, scrubURLError(err))
		}
		if stream && hresp.StatusCode/100 == 2 {
			return &Response{Response: hresp, Limit: c.recordLimit(hresp.Header)}, nil, hresp.Body, nil
		}
		body, err := io.ReadAll(io.LimitReader(hresp.Body, maxBody))
		hresp.Body.Close()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s %s: read response: %w", req.Method, req.URL.Path, scrubURLError(err))
		}
		resp := &Response{Response: hresp, Limit: c.recordLimit(hresp.Header)}
		// A refreshed token the API still refuses is returned as is: another
		// refresh would not help. A token adopted from another caller may
		// itself have expired since it was stored (Salesforce does not say
		// when tokens expire), so a call that only adopted may refresh once
		// more; with at most two replays it never loops.
		if hresp.StatusCode != http.StatusUnauthorized || refreshed || replays >= 2 || c.oauth == nil || !sessionExpired(body) {
			return resp, body, nil, nil
		}
		did, err := c.refresh(ctx, tok)
		if err != nil {
			return resp, nil, nil, fmt.Errorf("%s %s: session expired and refresh failed: %w", req.Method, req.URL.Path, err)
		}
		refreshed = did
		replays++
	}
}

// sessionExpired reports a 401 that a refresh can fix. Like jsforce, it
// excludes 401s about sessions that are not API-enabled: refreshing would
// loop.
func sessionExpired(body []byte) bool {
	e := newAPIError("", "", http.StatusUnauthorized, body)
	if e.ErrorCode != CodeInvalidSessionID {
		return false
	}
	m := strings.ToLower(e.Message)
	return !strings.Contains(m, "not valid for use with the rest api") && !strings.Contains(m, "not attached to agent")
}

// scrubURLError drops the URL from a transport error: it may carry a SOQL
// query with customer data. The operation and path are added by the caller.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// refresh replaces stale (the token a failed call used) with a fresh one,
// unless someone else already did, in which case it adopts theirs. It
// reports whether it refreshed. One refresh runs at a time per client; the
// lock hook extends that across processes.
func (c *Client) refresh(ctx context.Context, stale Token) (refreshed bool, err error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	if c.Token().AccessToken != stale.AccessToken {
		return false, nil // replaced while we waited
	}
	if c.lock == nil {
		fresh, err := c.refreshAndSave(ctx, stale)
		if err != nil {
			return false, err
		}
		c.setToken(fresh)
		return true, nil
	}
	stored, unlock, err := c.lock(ctx)
	if err != nil {
		return false, fmt.Errorf("refresh lock: %w", err)
	}
	if unlock == nil {
		return false, errors.New("refresh lock: the lock function returned no unlock function")
	}
	if stored.AccessToken != "" && stored.AccessToken != stale.AccessToken {
		// Another process refreshed; adopt its token.
		if stored.InstanceURL == "" {
			stored.InstanceURL = stale.InstanceURL
		}
		err := checkInstanceURL(stored.InstanceURL)
		if err != nil {
			err = fmt.Errorf("stored token: %w", err)
		}
		if err := settle(unlock, err); err != nil {
			return false, err
		}
		c.setToken(stored)
		return false, nil
	}
	current := stale
	if stored.RefreshToken != "" {
		current.RefreshToken = stored.RefreshToken
	}
	fresh, err := c.refreshAndSave(ctx, current)
	if err := settle(unlock, err); err != nil {
		return false, err
	}
	c.setToken(fresh)
	return true, nil
}

// settle ends a refresh lock with outcome and returns the error the call
// fails with (see RefreshLockFunc).
func settle(unlock func(error) error, outcome error) error {
	if err := unlock(outcome); err != nil {
		return err
	}
	return outcome
}

// refreshAndSave runs the refresh grant with current's refresh token and
// saves the result, filling in what Salesforce omits from current.
func (c *Client) refreshAndSave(ctx context.Context, current Token) (Token, error) {
	fresh, err := c.oauth.Refresh(ctx, current.RefreshToken)
	if err != nil {
		return Token{}, err
	}
	if fresh.InstanceURL == "" {
		fresh.InstanceURL = current.InstanceURL
	}
	if fresh.ID == "" {
		fresh.ID = current.ID
	}
	if err := checkInstanceURL(fresh.InstanceURL); err != nil {
		return Token{}, err
	}
	if err := c.save(ctx, fresh); err != nil {
		return Token{}, fmt.Errorf("save refreshed token: %w", err)
	}
	return fresh, nil
}

func (c *Client) setToken(t Token) {
	t.InstanceURL = strings.TrimRight(t.InstanceURL, "/")
	c.mu.Lock()
	c.tok = t
	c.mu.Unlock()
}

// get is the common GET-and-decode path.
func (c *Client) get(ctx context.Context, op, path string, v any) error {
	req, err := c.NewRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if _, err := c.Do(req, v); err != nil {
		return fmt.Errorf("salesforce: %s: %w", op, err)
	}
	return nil
}
