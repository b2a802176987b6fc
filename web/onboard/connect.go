package onboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// Providers a tenant connects.
const (
	Lightspeed = vault.Lightspeed
	Salesforce = vault.Salesforce
)

// Salesforce environments a merchant picks from.
const (
	EnvProduction = "production"
	EnvSandbox    = "sandbox"
	EnvMyDomain   = "mydomain"
)

// Audit log actions of this package.
const (
	ActionConnect             = "connection.connect"
	ActionReconnect           = "connection.reconnect"
	ActionDisconnect          = "connection.disconnect"
	ActionRefusedOtherAccount = "connection.refused_other_account"
	ActionReset               = "connection.reset"
	ActionRefreshDiscovery    = "connection.refresh_discovery"
	ActionNeedsReauth         = tenants.ActionNeedsReauth
)

const (
	userAgent          = "Tandem/1.0 (+onboarding)"
	defaultHTTPTimeout = 30 * time.Second
	// disconnectReason is what the connection page says after a
	// disconnect, with who did it.
	disconnectReason = "Disconnected by %s."
)

// Config is what a Service needs.
type Config struct {
	Pool  *pgxpool.Pool
	Vault *vault.Vault
	// Providers: the zero value means the real services (with no client
	// ids, so Connect explains that the operator must configure them).
	Providers connect.Providers
	// BaseURL is where merchants reach Tandem; the redirect URIs are
	// BaseURL + "/connect/{provider}/callback".
	BaseURL string
	// HTTPClient sends every provider call; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock of state expiry; nil means time.Now.
	Now func() time.Time
	// LightspeedLimits is the process's one Lightspeed rate-limit registry,
	// shared with the worker's clients; nil means a private one.
	LightspeedLimits *lightspeed.Limits
}

// Service connects tenants to the providers. It is safe for concurrent use.
type Service struct {
	pool    *pgxpool.Pool
	vault   *vault.Vault
	prov    connect.Providers
	clients *connect.Clients
	base    string
	hc      *http.Client
	log     *slog.Logger
	now     func() time.Time
	setup   *setup.Store
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Pool == nil || cfg.Vault == nil {
		return nil, errors.New("onboard: Config.Pool and Config.Vault are required")
	}
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("onboard: Config.BaseURL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	s := &Service{
		pool:  cfg.Pool,
		vault: cfg.Vault,
		prov:  cfg.Providers.WithDefaults(),
		base:  strings.TrimRight(cfg.BaseURL, "/"),
		hc:    cfg.HTTPClient,
		log:   cmp.Or(cfg.Logger, slog.Default()),
		now:   cfg.Now,
		setup: setup.NewStore(cfg.Pool),
	}
	if err := s.prov.Validate(); err != nil {
		return nil, err
	}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if s.now == nil {
		s.now = time.Now
	}
	limits := cfg.LightspeedLimits
	if limits == nil {
		limits = lightspeed.NewLimits(lightspeed.LimitsOptions{})
	}
	var err error
	s.clients, err = connect.New(connect.Config{
		Vault: s.vault, Providers: s.prov, Limits: limits, HTTPClient: s.hc, UserAgent: userAgent, Now: s.now,
		// The merchant is waiting on a page: fail in seconds, not minutes.
		Lightspeed: connect.LightspeedTuning{MaxWait: 5 * time.Second, MaxRetries: 2, RetryBase: 250 * time.Millisecond, RetryCap: 2 * time.Second},
	})
	if err != nil {
		return nil, fmt.Errorf("onboard: %w", err)
	}
	return s, nil
}

// Providers returns the provider configuration in force (defaults filled).
func (s *Service) Providers() connect.Providers { return s.prov }

// lightspeedConfig is the Lightspeed OAuth client of the callback.
func (s *Service) lightspeedConfig() *lightspeed.Config {
	return s.prov.LightspeedConfig(s.redirectURL(Lightspeed), s.hc, s.now)
}

// salesforceConfig is the connected app on loginURL, for the callback.
func (s *Service) salesforceConfig(loginURL string) *salesforce.OAuthConfig {
	return s.prov.SalesforceConfig(loginURL, s.redirectURL(Salesforce), s.hc)
}

func (s *Service) redirectURL(provider string) string {
	return s.base + "/connect/" + provider + "/callback"
}

// StartRequest asks to send the merchant to a provider's consent page.
type StartRequest struct {
	TenantID string
	Provider string
	// Environment and MyDomain are the Salesforce choice: EnvProduction,
	// EnvSandbox, or EnvMyDomain with what the merchant typed.
	Environment, MyDomain string
	// ResetTo is set when the merchant confirmed replacing the previously
	// connected account with this one (its id, from the refusal page).
	ResetTo string
}

// Start begins an authorization: it returns the provider URL to send the
// browser to and the Pending the caller keeps in the session (Flows.Begin)
// for the callback. A bad Salesforce environment choice is a *Failure with
// ReasonBadInput and Field set.
func (s *Service) Start(req StartRequest) (authURL string, p Pending, err error) {
	p = Pending{Provider: req.Provider, TenantID: req.TenantID, Started: s.now(), ResetTo: strings.TrimSpace(req.ResetTo)}
	switch req.Provider {
	case Lightspeed:
		if !s.prov.Lightspeed.Configured() {
			return "", Pending{}, failure(Lightspeed, ReasonNotConfigured, nil)
		}
		if p.State, err = lightspeed.NewState(); err != nil {
			return "", Pending{}, fmt.Errorf("onboard: lightspeed state: %w", err)
		}
		pk, err := lightspeed.NewPKCE()
		if err != nil {
			return "", Pending{}, fmt.Errorf("onboard: lightspeed pkce: %w", err)
		}
		p.Verifier = pk.Verifier
		return s.lightspeedConfig().AuthCodeURL(p.State, pk), p, nil
	case Salesforce:
		if !s.prov.Salesforce.Configured() {
			return "", Pending{}, failure(Salesforce, ReasonNotConfigured, nil)
		}
		p.Environment, p.MyDomain = req.Environment, strings.TrimSpace(req.MyDomain)
		if p.LoginURL, err = s.SalesforceLoginURL(p.Environment, p.MyDomain); err != nil {
			return "", Pending{}, err
		}
		ar, err := s.salesforceConfig(p.LoginURL).StartAuth()
		if err != nil {
			return "", Pending{}, fmt.Errorf("onboard: salesforce start: %w", err)
		}
		p.State, p.Verifier = ar.State, ar.Verifier
		return ar.URL, p, nil
	}
	return "", Pending{}, fmt.Errorf("onboard: unknown provider %q", req.Provider)
}

// SalesforceLoginURL resolves the merchant's environment choice to a login
// URL. A My Domain that cannot be one is a *Failure (ReasonBadInput,
// Field "my_domain") whose Message says why, in the client's words.
func (s *Service) SalesforceLoginURL(env, myDomain string) (string, error) {
	switch env {
	case EnvProduction:
		return s.prov.Salesforce.ProductionLoginURL, nil
	case EnvSandbox:
		return s.prov.Salesforce.SandboxLoginURL, nil
	case EnvMyDomain:
		if strings.TrimSpace(myDomain) == "" {
			return "", badInput("my_domain", "Enter your My Domain, for example acme.my.salesforce.com.")
		}
		u, err := s.prov.Salesforce.MyDomainLoginURL(myDomain)
		if err != nil {
			return "", badInput("my_domain", strings.TrimPrefix(err.Error(), "salesforce: "))
		}
		return u, nil
	}
	return "", badInput("environment", "Choose Production, Sandbox or My Domain.")
}

func badInput(field, msg string) *Failure {
	f := failure(Salesforce, ReasonBadInput, nil)
	f.Title, f.Message, f.Field = "Check the environment", msg, field
	return f
}

// ReconnectChoice is the Salesforce environment choice that leads back to
// loginHost, the login URL a connection was made through: what a Reconnect
// button submits, so the merchant does not choose again.
func (s *Service) ReconnectChoice(loginHost string) (env, myDomain string) {
	switch strings.TrimRight(loginHost, "/") {
	case "", strings.TrimRight(s.prov.Salesforce.ProductionLoginURL, "/"):
		return EnvProduction, ""
	case strings.TrimRight(s.prov.Salesforce.SandboxLoginURL, "/"):
		return EnvSandbox, ""
	}
	u, err := url.Parse(loginHost)
	if err != nil {
		return EnvMyDomain, ""
	}
	return EnvMyDomain, u.Hostname()
}

// Result is a successful connection (or discovery refresh).
type Result struct {
	Provider    string
	AccountID   string
	AccountName string
	// Reconnected is set when the tenant had a connection to this account
	// before (connected, needs reconnect or disconnected).
	Reconnected bool
	// Reset is set when a confirmed reset replaced another account.
	Reset     bool
	Discovery *setup.Discovery
	// Elapsed is the server-side time of the whole callback: exchange,
	// discovery and the transaction.
	Elapsed time.Duration
}

// Callback finishes an authorization: p is what Flows.Take returned for
// the callback's state; query is the callback's query string. It checks
// for an error answer, exchanges the code with the PKCE verifier, discovers
// the account and, in one transaction, saves the connection, the discovery,
// the locations (Lightspeed) and the audit entry. Any failure is a *Failure
// and leaves the previous connection untouched.
func (s *Service) Callback(ctx context.Context, tenantID string, p Pending, query url.Values, actor tenants.Actor) (*Result, error) {
	start := time.Now()
	if p.TenantID != tenantID {
		return nil, failure(p.Provider, ReasonWrongTenant, nil)
	}
	if e := query.Get("error"); e != "" {
		r := ReasonProviderError
		if e == "access_denied" {
			r = ReasonDenied
		}
		f := failure(p.Provider, r, fmt.Errorf("onboard: %s: authorization answered %q", p.Provider, e))
		f.ProviderText = firstNonEmpty(query.Get("error_description"), e)
		return nil, f
	}
	code := query.Get("code")
	if code == "" {
		return nil, failure(p.Provider, ReasonStateMismatch, errors.New("onboard: callback without code"))
	}
	var res *Result
	var err error
	switch p.Provider {
	case Lightspeed:
		res, err = s.callbackLightspeed(ctx, tenantID, p, code, actor)
	case Salesforce:
		res, err = s.callbackSalesforce(ctx, tenantID, p, code, actor)
	default:
		return nil, fmt.Errorf("onboard: unknown provider %q", p.Provider)
	}
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func (s *Service) callbackLightspeed(ctx context.Context, tenantID string, p Pending, code string, actor tenants.Actor) (*Result, error) {
	cfg := s.lightspeedConfig()
	tok, err := cfg.Exchange(ctx, code, p.Verifier)
	if err != nil {
		return nil, classify(Lightspeed, ReasonProviderError, fmt.Errorf("onboard: lightspeed: exchange code: %w", err))
	}
	revoke := func() {
		if err := cfg.Revoke(context.WithoutCancel(ctx), tok.RefreshToken); err != nil {
			s.log.WarnContext(ctx, "revoke refused lightspeed token", slog.String("tenant_id", tenantID), slog.Any("error", err))
		}
	}
	d, err := s.discoverLightspeed(ctx, lightspeed.StaticToken(tok), tok.AccountID)
	if err != nil {
		revoke()
		return nil, classify(Lightspeed, ReasonDiscoveryFailed, err)
	}
	conn := connect.LightspeedConnection(tok, d.Lightspeed.AccountID, d.Lightspeed.AccountName)
	res, err := s.save(ctx, tenantID, p, conn, d, actor)
	if err != nil {
		revoke()
		return nil, err
	}
	return res, nil
}

func (s *Service) callbackSalesforce(ctx context.Context, tenantID string, p Pending, code string, actor tenants.Actor) (*Result, error) {
	cfg := s.salesforceConfig(p.LoginURL)
	tok, err := cfg.Exchange(ctx, code, p.Verifier)
	if err != nil {
		return nil, classify(Salesforce, ReasonProviderError, fmt.Errorf("onboard: salesforce: exchange code: %w", err))
	}
	revoke := func() {
		if err := cfg.Revoke(context.WithoutCancel(ctx), cmp.Or(tok.RefreshToken, tok.AccessToken)); err != nil {
			s.log.WarnContext(ctx, "revoke refused salesforce token", slog.String("tenant_id", tenantID), slog.Any("error", err))
		}
	}
	d, err := s.discoverSalesforce(ctx, tok, p.LoginURL)
	if err != nil {
		revoke()
		return nil, classify(Salesforce, ReasonDiscoveryFailed, err)
	}
	conn := connect.SalesforceConnection(tok, p.LoginURL, d.Salesforce.OrgName)
	res, err := s.save(ctx, tenantID, p, conn, d, actor)
	if err != nil {
		revoke()
		return nil, err
	}
	return res, nil
}

// save stores a new connection with its discovery in one transaction,
// after checking it is for the account connected before (or a confirmed
// reset allows another). The old tokens, when they differ, are revoked at
// the provider after the commit.
func (s *Service) save(ctx context.Context, tenantID string, p Pending, conn vault.Connection, d *setup.Discovery, actor tenants.Actor) (*Result, error) {
	res := &Result{Provider: p.Provider, AccountID: conn.ExternalAccount, AccountName: conn.ExternalName, Discovery: d}
	old, oldErr := s.vault.Get(ctx, tenantID, p.Provider) // for revoking the replaced pair
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("onboard: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	var prevAccount, prevName string
	err = tx.QueryRow(ctx, `
		SELECT external_account, external_name FROM connections
		WHERE tenant_id = $1 AND provider = $2 FOR UPDATE`, tenantID, p.Provider).Scan(&prevAccount, &prevName)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("onboard: read connection: %w", err)
	}
	if prevAccount != "" && prevAccount != conn.ExternalAccount {
		if p.ResetTo != conn.ExternalAccount {
			_ = tx.Rollback(ctx)
			f := failure(p.Provider, ReasonOtherAccount, nil)
			f.PreviousAccount, f.PreviousName = prevAccount, prevName
			f.NewAccount, f.NewName = conn.ExternalAccount, conn.ExternalName
			if err := s.auditAlone(ctx, tenantID, actor, ActionRefusedOtherAccount, map[string]any{
				"provider": p.Provider, "previous_account": prevAccount, "previous_name": prevName,
				"new_account": conn.ExternalAccount, "new_name": conn.ExternalName,
			}); err != nil {
				return nil, err
			}
			return nil, f
		}
		if err := resetProvider(ctx, tx, tenantID, p.Provider); err != nil {
			return nil, err
		}
		if err := tenants.AuditTx(ctx, tx, actor.Entry(tenantID, ActionReset, map[string]any{
			"provider": p.Provider, "previous_account": prevAccount, "previous_name": prevName,
			"new_account": conn.ExternalAccount, "new_name": conn.ExternalName,
		})); err != nil {
			return nil, err
		}
		res.Reset = true
	}
	res.Reconnected = prevAccount == conn.ExternalAccount
	if err := s.vault.SaveTx(ctx, tx, tenantID, p.Provider, conn); err != nil {
		return nil, fmt.Errorf("onboard: save connection: %w", err)
	}
	if err := setup.SaveDiscovery(ctx, tx, tenantID, d); err != nil {
		return nil, err
	}
	if d.Lightspeed != nil {
		if err := setup.UpsertLocations(ctx, tx, tenantID, d.Lightspeed.Shops); err != nil {
			return nil, err
		}
	}
	action := ActionConnect
	if res.Reconnected {
		action = ActionReconnect
	}
	detail := map[string]any{"provider": p.Provider, "account": conn.ExternalAccount, "account_name": conn.ExternalName, "api_calls": d.APICalls}
	if p.LoginURL != "" {
		detail["login_host"] = p.LoginURL
	}
	if err := tenants.AuditTx(ctx, tx, actor.Entry(tenantID, action, detail)); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("onboard: commit connection: %w", err)
	}
	if oldErr == nil && old.Tokens.RefreshToken != "" && old.Tokens.RefreshToken != conn.Tokens.RefreshToken {
		s.revokeStored(ctx, tenantID, p.Provider, old)
	}
	return res, nil
}

// revokeStored revokes a connection's tokens at the provider, logging (not
// returning) a failure: it is hygiene, Tandem no longer holds them.
func (s *Service) revokeStored(ctx context.Context, tenantID, provider string, c vault.Connection) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	switch provider {
	case Lightspeed:
		err = s.lightspeedConfig().Revoke(ctx, c.Tokens.RefreshToken)
	case Salesforce:
		err = s.salesforceConfig(cmp.Or(c.LoginHost, s.prov.Salesforce.ProductionLoginURL)).Revoke(ctx, cmp.Or(c.Tokens.RefreshToken, c.Tokens.AccessToken))
	}
	if err != nil {
		s.log.WarnContext(ctx, "revoke tokens", slog.String("tenant_id", tenantID), slog.String("provider", provider), slog.Any("error", err))
	}
	return err
}

// resetProvider forgets what ties the tenant to its previous account at
// provider: the identity links and cursors (they name records of the old
// account; both directions, since a link pairs a record on each side), the
// provider's discovery and, for Lightspeed, the locations (the old
// account's shops) or, for Salesforce, the locations' Salesforce values.
// Settings and sync history are kept.
func resetProvider(ctx context.Context, tx pgx.Tx, tenantID, provider string) error {
	if err := ledger.ForgetTx(ctx, tx, tenantID); err != nil {
		return fmt.Errorf("onboard: reset %s: %w", provider, err)
	}
	stmts := []string{
		`DELETE FROM discoveries WHERE tenant_id = $1 AND provider = $2`,
	}
	if provider == Lightspeed {
		stmts = append(stmts, `DELETE FROM locations WHERE tenant_id = $1`)
	} else {
		stmts = append(stmts, `UPDATE locations SET sf_value = '' WHERE tenant_id = $1`)
	}
	for _, q := range stmts {
		args := []any{tenantID}
		if strings.Contains(q, "$2") {
			args = append(args, provider)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("onboard: reset %s: %w", provider, err)
		}
	}
	return nil
}

// auditAlone appends an audit entry that records no other change (a
// refusal), in a transaction of its own.
func (s *Service) auditAlone(ctx context.Context, tenantID string, actor tenants.Actor, action string, detail map[string]any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tenants.AuditTx(ctx, tx, actor.Entry(tenantID, action, detail))
	})
}
