package connect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/tenants/vault"
)

// DefaultHTTPTimeout bounds every provider call when Config.HTTPClient is
// nil.
const DefaultHTTPTimeout = 30 * time.Second

// Config is what Clients needs.
type Config struct {
	Vault *vault.Vault
	// Providers: the zero value means the real services.
	Providers Providers
	// Limits paces every Lightspeed client. Build one per process (over
	// the shared bucket store) and give the same one to the web app and
	// the worker: a second Limits would not see the first one's drips.
	// Required.
	Limits *lightspeed.Limits
	// HTTPClient sends every call; nil means a client with
	// DefaultHTTPTimeout over NewTransport.
	HTTPClient *http.Client
	// Transport, when set, wraps the transport of each provider's API
	// clients (provider is vault.Lightspeed or vault.Salesforce): to count
	// a sync run's calls, say.
	Transport func(provider string, base http.RoundTripper) http.RoundTripper
	// Usage, when set, counts every call of the clients Lightspeed and
	// Salesforce return against their tenant (the api_usage table).
	Usage *Usage
	// Lightspeed tunes how long Lightspeed clients wait and retry; the
	// zero value keeps the client's defaults, fit for background work.
	Lightspeed LightspeedTuning
	// UserAgent of the API calls; empty means the client's default.
	UserAgent string
	// Now is the clock of token expiry; nil means time.Now.
	Now func() time.Time
}

// LightspeedTuning is how Lightspeed clients wait for the bucket and retry
// (see lightspeed.Options); zero fields keep the client's defaults.
type LightspeedTuning struct {
	MaxWait             time.Duration
	MaxRetries          int
	RetryBase, RetryCap time.Duration
}

// idleConnsPerHost is how many idle connections the API calls keep per
// host: more than a worker's calls at once (32 probes, 32 sync runs), which
// mostly go to one or two hosts (Lightspeed's API, a Salesforce instance).
const idleConnsPerHost = 64

// NewTransport is the transport of the API calls when Config.HTTPClient is
// nil: http.DefaultTransport's, but keeping idleConnsPerHost idle
// connections per host rather than 2, so that calls made many at once do
// not each open a new TLS connection (a handshake costs more CPU than the
// call).
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idleConnsPerHost
	t.MaxIdleConns = max(t.MaxIdleConns, 4*idleConnsPerHost)
	return t
}

// Clients builds a tenant's API clients from the vault: each refreshes its
// tokens through the vault (one refresh per connection across all
// processes, the rotated token committed before use, a refusal marking the
// connection needs_reauth). It is safe for concurrent use.
type Clients struct {
	vault  *vault.Vault
	prov   Providers
	limits *lightspeed.Limits
	hc     *http.Client
	wrap   func(string, http.RoundTripper) http.RoundTripper
	usage  *Usage
	tune   LightspeedTuning
	ua     string
	now    func() time.Time
	// conns are the preloaded connections that exist (Preload).
	conns     map[vault.ConnectionKey]vault.Connection
	preloaded map[vault.ConnectionKey]bool
}

// New returns Clients for cfg.
func New(cfg Config) (*Clients, error) {
	if cfg.Vault == nil || cfg.Limits == nil {
		return nil, errors.New("connect: Config.Vault and Config.Limits are required")
	}
	c := &Clients{
		vault:  cfg.Vault,
		prov:   cfg.Providers.WithDefaults(),
		limits: cfg.Limits,
		hc:     cfg.HTTPClient,
		wrap:   cfg.Transport,
		usage:  cfg.Usage,
		tune:   cfg.Lightspeed,
		ua:     cfg.UserAgent,
		now:    cfg.Now,
	}
	if err := c.prov.Validate(); err != nil {
		return nil, err
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: DefaultHTTPTimeout, Transport: NewTransport()}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// WithLimits returns Clients that pace their Lightspeed clients by l
// instead, sharing everything else. The scheduler's probes use it: a probe
// is one call of a quiet account, and pacing it through the buckets shared
// by every process (two locked transactions a call) cost more than the
// rest of the probe; a process-local Limits still spaces a process's
// probes of one account, and a 429 still stops them (the client waits
// out its Retry-After).
func (c *Clients) WithLimits(l *lightspeed.Limits) *Clients {
	cp := *c
	cp.limits = l
	return &cp
}

// Preload returns Clients that build clients for the connections named
// from one read of them (vault.GetAll) rather than a read per client: for
// many clients built at once, such as a scheduler pass's probes. Refreshes
// go through the vault as always; other connections are read as usual.
func (c *Clients) Preload(ctx context.Context, keys []vault.ConnectionKey) (*Clients, error) {
	conns, err := c.vault.GetAll(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("connect: preload connections: %w", err)
	}
	cp := *c
	cp.conns, cp.preloaded = conns, make(map[vault.ConnectionKey]bool, len(keys))
	for _, k := range keys {
		if id, err := vault.CheckTenantID(k.TenantID); err == nil {
			cp.preloaded[vault.ConnectionKey{TenantID: id, Provider: k.Provider}] = true
		}
	}
	return &cp, nil
}

// Providers returns the provider configuration in force (defaults filled).
func (c *Clients) Providers() Providers { return c.prov }

// Lightspeed returns an API client for tenantID's Lightspeed account. A
// connection that is missing or disconnected is vault.ErrNotConnected; one
// that needs the merchant to reconnect is a *vault.ReauthError (and so is
// every call of the client after a refresh Lightspeed refuses).
func (c *Clients) Lightspeed(ctx context.Context, tenantID string) (*lightspeed.Client, error) {
	conn, err := c.usable(ctx, tenantID, vault.Lightspeed)
	if err != nil {
		return nil, err
	}
	acct, err := strconv.ParseInt(conn.ExternalAccount, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("connect: lightspeed account id %q: %w", conn.ExternalAccount, err)
	}
	tokens, err := c.LightspeedTokens(tenantID)
	if err != nil {
		return nil, err
	}
	// The token just read will do unless it is near its expiry: the
	// first call need not read the vault again (one query fewer for
	// every run and probe).
	if tokens.storedValid(conn) {
		tokens.set(conn.Tokens, acct)
	}
	return c.LightspeedClient(c.counted(tenantID, vault.Lightspeed), acct, tokens)
}

// counted is the Clients' HTTP client counting calls against tenantID
// (Config.Usage), or nil (the Clients' own) without Usage.
func (c *Clients) counted(tenantID, provider string) *http.Client {
	if c.usage == nil {
		return nil
	}
	hc := *c.hc
	hc.Transport = c.usage.Transport(tenantID, provider, c.hc.Transport)
	return &hc
}

// LightspeedTokens returns the token provider of tenantID's Lightspeed
// connection, refreshing through the vault.
func (c *Clients) LightspeedTokens(tenantID string) (*LightspeedTokens, error) {
	return NewLightspeedTokens(c.vault, tenantID, c.prov.LightspeedConfig("", c.hc, c.now), 0)
}

// LightspeedClient builds a Lightspeed client for account with tokens,
// paced by the shared Limits: for calls made before a connection is stored
// (discovery right after the OAuth exchange) or through a particular HTTP
// client. hc nil means the Clients' own.
func (c *Clients) LightspeedClient(hc *http.Client, account int64, tokens lightspeed.TokenProvider) (*lightspeed.Client, error) {
	lc, err := lightspeed.NewClient(c.httpClient(hc, vault.Lightspeed), lightspeed.Options{
		BaseURL:    c.prov.Lightspeed.APIURL,
		AccountID:  account,
		Tokens:     tokens,
		ClientID:   c.prov.Lightspeed.ClientID,
		Limits:     c.limits,
		MaxWait:    c.tune.MaxWait,
		MaxRetries: c.tune.MaxRetries,
		RetryBase:  c.tune.RetryBase,
		RetryCap:   c.tune.RetryCap,
		UserAgent:  c.ua,
		Now:        c.now,
	})
	if err != nil {
		return nil, fmt.Errorf("connect: lightspeed client: %w", err)
	}
	return lc, nil
}

// Salesforce returns an API client for tenantID's Salesforce org that
// refreshes on INVALID_SESSION_ID through the vault. Errors are as for
// Lightspeed.
func (c *Clients) Salesforce(ctx context.Context, tenantID string) (*salesforce.Client, error) {
	return c.SalesforceClient(ctx, c.counted(tenantID, vault.Salesforce), tenantID)
}

// SalesforceClient is Salesforce sending through hc (nil: the Clients'
// own HTTP client).
func (c *Clients) SalesforceClient(ctx context.Context, hc *http.Client, tenantID string) (*salesforce.Client, error) {
	conn, err := c.usable(ctx, tenantID, vault.Salesforce)
	if err != nil {
		return nil, err
	}
	hc = c.httpClient(hc, vault.Salesforce)
	return salesforceClientFrom(conn, c.vault, tenantID, hc, c.prov.SalesforceConfig(conn.LoginHost, "", hc), c.prov.SalesforceOptions()...)
}

// usable returns tenantID's connection to provider if it can be used.
func (c *Clients) usable(ctx context.Context, tenantID, provider string) (vault.Connection, error) {
	conn, err := c.connection(ctx, tenantID, provider)
	if err != nil {
		return vault.Connection{}, fmt.Errorf("connect: %s connection: %w", provider, err)
	}
	switch conn.Status {
	case vault.StatusDisconnected:
		return vault.Connection{}, fmt.Errorf("connect: %s connection of tenant %s: %w", provider, tenantID, vault.ErrNotConnected)
	case vault.StatusNeedsReauth:
		return vault.Connection{}, &vault.ReauthError{TenantID: tenantID, Provider: provider, Reason: conn.StatusReason}
	}
	return conn, nil
}

// connection is tenantID's connection to provider: preloaded, or read.
func (c *Clients) connection(ctx context.Context, tenantID, provider string) (vault.Connection, error) {
	if id, err := vault.CheckTenantID(tenantID); err == nil && c.preloaded[vault.ConnectionKey{TenantID: id, Provider: provider}] {
		if conn, ok := c.conns[vault.ConnectionKey{TenantID: id, Provider: provider}]; ok {
			return conn, nil
		}
		return vault.Connection{}, vault.ErrNotConnected
	}
	return c.vault.Get(ctx, tenantID, provider)
}

// httpClient returns hc (or the Clients' own) with its transport wrapped
// for provider when Config.Transport asks.
func (c *Clients) httpClient(hc *http.Client, provider string) *http.Client {
	if hc == nil {
		hc = c.hc
	}
	if c.wrap == nil {
		return hc
	}
	w := *hc
	w.Transport = c.wrap(provider, hc.Transport)
	return &w
}
