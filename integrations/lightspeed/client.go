package lightspeed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the API host of Lightspeed Retail (R-Series).
const DefaultBaseURL = "https://api.lightspeedapp.com/"

// TokenProvider supplies the bearer token of each request. *TokenSource
// implements it; a static token can be wrapped with StaticToken.
type TokenProvider interface {
	Token(ctx context.Context) (Token, error)
}

// tokenRefresher is implemented by providers that can force a refresh
// after the API rejected a token (*TokenSource does).
type tokenRefresher interface {
	Refresh(ctx context.Context, rejected Token) (Token, error)
}

// StaticToken is a TokenProvider that always returns the same token; it
// cannot refresh, so a 401 surfaces as an *APIError.
type StaticToken Token

// Token returns t.
func (t StaticToken) Token(context.Context) (Token, error) { return Token(t), nil }

// Options configures a Client. AccountID and Tokens are required.
type Options struct {
	// BaseURL of the API; DefaultBaseURL when empty. A sandbox's URL in tests.
	BaseURL string
	// AccountID is the Lightspeed account every call addresses.
	AccountID int64
	// Tokens provides the access token of each request.
	Tokens TokenProvider
	// ClientID is the OAuth client id; with AccountID it keys the shared
	// rate-limit bucket (Lightspeed meters each account and client apart).
	ClientID string
	// Limits is the process-wide rate-limit registry. Nil gives this client
	// a private bucket.
	Limits *Limits
	// MaxWait is the longest the client sleeps for the rate limiter or a
	// Retry-After before returning *RateLimitError instead. Zero means 10s.
	MaxWait time.Duration
	// MaxRetries is how many times a failed request is retried (429, 503
	// and other transient failures). Zero means 4; negative disables.
	MaxRetries int
	// RetryBase and RetryCap bound the jittered exponential backoff; zero
	// means 500ms and 15s.
	RetryBase, RetryCap time.Duration
	// UserAgent is sent on every request.
	UserAgent string
	// Now and Sleep replace the clock, for tests. Sleep must return
	// ctx.Err() when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls the Lightspeed Retail API for one account. It is safe for
// concurrent use. Construct it with NewClient; it is cheap, so build one per
// job and share state through Options.Limits and the TokenProvider.
type Client struct {
	hc            *http.Client
	base          *url.URL
	account       int64
	tokens        TokenProvider
	bucket        *Bucket
	maxWait       time.Duration
	retries       int
	rbase         time.Duration
	rcap          time.Duration
	ua            string
	now           func() time.Time
	sleep         func(ctx context.Context, d time.Duration) error
	common        service
	Accounts      *AccountsService
	Shops         *ShopsService
	Registers     *RegistersService
	Employees     *EmployeesService
	Customers     *CustomersService
	CustomerTypes *CustomerTypesService
	CustomFields  *CustomFieldsService
	Sales         *SalesService
	SaleLines     *SaleLinesService
	SalePayments  *SalePaymentsService
	PaymentTypes  *PaymentTypesService
	Items         *ItemsService
}

type service struct{ c *Client }

// NewClient returns a client that sends requests through httpClient
// (http.DefaultClient when nil). It fails on an unparsable BaseURL or when
// AccountID or Tokens is missing.
func NewClient(httpClient *http.Client, opts Options) (*Client, error) {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	if opts.AccountID <= 0 {
		return nil, errors.New("lightspeed: new client: AccountID is required")
	}
	if opts.Tokens == nil {
		return nil, errors.New("lightspeed: new client: Tokens is required")
	}
	raw := opts.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(raw)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("lightspeed: new client: invalid BaseURL %q", raw)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	c := &Client{
		hc: httpClient, base: base, account: opts.AccountID, tokens: opts.Tokens,
		maxWait: opts.MaxWait, retries: opts.MaxRetries, rbase: opts.RetryBase, rcap: opts.RetryCap,
		ua: opts.UserAgent, now: opts.Now, sleep: opts.Sleep,
	}
	if c.maxWait <= 0 {
		c.maxWait = 10 * time.Second
	}
	if c.retries == 0 {
		c.retries = 4
	} else if c.retries < 0 {
		c.retries = 0
	}
	if c.rbase <= 0 {
		c.rbase = 500 * time.Millisecond
	}
	if c.rcap <= 0 {
		c.rcap = 15 * time.Second
	}
	if c.ua == "" {
		c.ua = "tandem-lightspeed-go"
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	limits := opts.Limits
	if limits == nil {
		limits = NewLimits(LimitsOptions{})
	}
	c.bucket = limits.Bucket(opts.AccountID, opts.ClientID)
	c.common.c = c
	c.Accounts = (*AccountsService)(&c.common)
	c.Shops = (*ShopsService)(&c.common)
	c.Registers = (*RegistersService)(&c.common)
	c.Employees = (*EmployeesService)(&c.common)
	c.Customers = (*CustomersService)(&c.common)
	c.CustomerTypes = (*CustomerTypesService)(&c.common)
	c.CustomFields = (*CustomFieldsService)(&c.common)
	c.Sales = (*SalesService)(&c.common)
	c.SaleLines = (*SaleLinesService)(&c.common)
	c.SalePayments = (*SalePaymentsService)(&c.common)
	c.PaymentTypes = (*PaymentTypesService)(&c.common)
	c.Items = (*ItemsService)(&c.common)
	return c, nil
}

// AccountID returns the account the client addresses.
func (c *Client) AccountID() int64 { return c.account }

// Bucket returns the rate-limit bucket the client shares.
func (c *Client) Bucket() *Bucket { return c.bucket }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Response is a decoded API response with the paging and rate state it
// carried.
type Response struct {
	*http.Response
	// Next and Previous are the V3 cursor URLs of the neighbouring pages,
	// "" when there is none.
	Next, Previous string
	// Count, Offset and Limit are set by V2-style (offset) responses and
	// by count=1 queries.
	Count, Offset, Limit int64
	// Bucket is the rate state the response reported.
	Bucket BucketState
	// Attempts is how many times the request was sent.
	Attempts int
}

// accountPath returns the account-scoped path of a resource, e.g.
// "API/V3/Account/42/Customer/7.json".
func (c *Client) accountPath(resource string) string {
	return "API/V3/Account/" + strconv.FormatInt(c.account, 10) + "/" + resource + ".json"
}

// request is everything needed to (re)build an HTTP request.
type request struct {
	method string
	u      *url.URL
	body   []byte
	list   bool // a query endpoint (for the cost table)
}

func (c *Client) newRequest(method, path string, q *Query, body any) (*request, error) {
	rel, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("invalid path %q: %w", path, err)
	}
	u := c.base.ResolveReference(rel)
	r := &request{method: method, u: u}
	if q != nil {
		raw, err := q.Encode()
		if err != nil {
			return nil, err
		}
		u.RawQuery = raw
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		r.body = b
	}
	return r, nil
}

// retryable reports whether a failed attempt may be repeated: always for
// 429 (refused before processing); for 503 and other transient failures
// only when the method is idempotent, since a POST that reached Lightspeed
// must not create a second record (the API has no idempotency keys).
func retryable(method string, status int, netErr bool) bool {
	idempotent := method != http.MethodPost
	switch {
	case status == http.StatusTooManyRequests:
		return true
	case status == http.StatusServiceUnavailable:
		// Lightspeed treats 503 as "throttled"; POSTs are refused before
		// processing then, as with 429.
		return true
	case netErr, status == http.StatusBadGateway, status == http.StatusGatewayTimeout,
		status == http.StatusInternalServerError:
		return idempotent
	}
	return false
}

// do is the single choke point: it waits for the rate limiter, sends the
// request with a fresh body and the current token, records the rate
// headers, retries 429/503/transient failures with capped jittered backoff
// honouring Retry-After, refreshes the token once on a 401, and decodes a
// 2xx body into v (when v is non-nil).
func (c *Client) do(ctx context.Context, r *request, v any) (*Response, error) {
	var (
		refreshed bool
		lastErr   error
	)
	resp := &Response{}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return resp, err
		}
		cost := requestCost(r.method, r.u, r.body, r.list)
		if err := c.waitBucket(ctx, cost); err != nil {
			return resp, err
		}
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return resp, fmt.Errorf("lightspeed: token: %w", err)
		}
		hr, err := c.send(ctx, r, tok)
		resp.Attempts = attempt + 1
		if err != nil {
			if ctx.Err() != nil {
				return resp, ctx.Err()
			}
			err = redactError(err, append(urlSecrets(r.u), tok.AccessToken, tok.RefreshToken))
			lastErr = fmt.Errorf("lightspeed: %s %s: %w", r.method, redactURL(r.u), err)
			if attempt < c.retries && retryable(r.method, 0, true) {
				if err := c.backoff(ctx, attempt, 0); err != nil {
					return resp, err
				}
				continue
			}
			return resp, lastErr
		}
		body, readErr := io.ReadAll(io.LimitReader(hr.Body, 64<<20))
		hr.Body.Close()
		now := c.now()
		c.bucket.observe(ctx, hr.Header, cost, now)
		resp.Response = hr
		resp.Bucket, _ = ParseBucketHeaders(hr.Header)
		if readErr != nil {
			lastErr = fmt.Errorf("lightspeed: %s %s: read body: %w", r.method, redactURL(r.u), readErr)
			if attempt < c.retries && retryable(r.method, 0, true) {
				if err := c.backoff(ctx, attempt, 0); err != nil {
					return resp, err
				}
				continue
			}
			return resp, lastErr
		}
		if hr.StatusCode >= 200 && hr.StatusCode < 300 {
			if v != nil {
				if err := unmarshal(body, v); err != nil {
					return resp, fmt.Errorf("lightspeed: %s %s: %w", r.method, redactURL(r.u), err)
				}
			}
			return resp, nil
		}

		apiErr := newAPIError(r.method, r.u, hr.StatusCode, body, append(urlSecrets(r.u), tok.AccessToken, tok.RefreshToken))
		if hr.StatusCode == http.StatusUnauthorized && !refreshed {
			if rf, ok := c.tokens.(tokenRefresher); ok {
				refreshed = true
				if _, err := rf.Refresh(ctx, tok); err != nil {
					return resp, fmt.Errorf("lightspeed: refresh after 401 (%s): %w", apiErr.Text(), err)
				}
				attempt-- // the retry after a refresh is not a failure
				continue
			}
		}
		if hr.StatusCode == http.StatusTooManyRequests || hr.StatusCode == http.StatusServiceUnavailable {
			ra := parseRetryAfter(hr.Header, now)
			limitType := hr.Header.Get("X-LS-API-RateLimit-Type")
			if hr.StatusCode == http.StatusTooManyRequests {
				// Every client of the account, in every process sharing the
				// store, holds back until Retry-After has passed.
				c.bucket.throttled(ctx, ra, limitType, now)
			}
			if limitType == "" {
				limitType = "http-" + strconv.Itoa(hr.StatusCode)
			}
			if attempt >= c.retries {
				if hr.StatusCode == http.StatusTooManyRequests {
					return resp, &RateLimitError{RetryAfter: max(ra, time.Second), Type: limitType, Err: apiErr}
				}
				return resp, apiErr
			}
			if ra > c.maxWait {
				return resp, &RateLimitError{RetryAfter: ra, Type: limitType, Err: apiErr}
			}
			if err := c.backoff(ctx, attempt, ra); err != nil {
				return resp, err
			}
			continue
		}
		if attempt < c.retries && retryable(r.method, hr.StatusCode, false) {
			if err := c.backoff(ctx, attempt, parseRetryAfter(hr.Header, now)); err != nil {
				return resp, err
			}
			continue
		}
		return resp, apiErr
	}
}

// send performs one HTTP exchange. A fresh body reader is made on every
// attempt: reusing one across retries breaks under HTTP/2.
func (c *Client) send(ctx context.Context, r *request, tok Token) (*http.Response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return c.hc.Do(req)
}

// waitBucket blocks until the bucket admits a request of the given cost,
// or returns *RateLimitError when the wait would exceed MaxWait.
func (c *Client) waitBucket(ctx context.Context, cost float64) error {
	var waited time.Duration
	for {
		wait, err := c.bucket.reserve(ctx, cost, c.now())
		if err != nil {
			return fmt.Errorf("lightspeed: rate limiter: %w", err)
		}
		if wait <= 0 {
			return nil
		}
		if waited+wait > c.maxWait {
			return &RateLimitError{RetryAfter: wait, Type: "client-leaky-bucket"}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
		waited += wait
	}
}

// backoff sleeps before retry number attempt+1: full jitter over an
// exponential window capped at RetryCap, but never less than retryAfter.
func (c *Client) backoff(ctx context.Context, attempt int, retryAfter time.Duration) error {
	window := c.rbase << min(attempt, 16)
	if window > c.rcap || window <= 0 {
		window = c.rcap
	}
	d := window/2 + rand.N(window/2+1)
	if retryAfter > d {
		// Honour the server's hint, plus a little jitter so that workers
		// refused together do not return together.
		d = retryAfter + rand.N(c.rbase/2+1)
	}
	// Never sleep past MaxWait, except to honour a Retry-After the caller
	// already accepted (do returns *RateLimitError for longer ones).
	if limit := max(c.maxWait, retryAfter); d > limit {
		d = limit
	}
	return c.sleep(ctx, d)
}
