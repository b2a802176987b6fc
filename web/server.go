// Package web is Tandem's web application: the Echo server, its routes,
// middleware (sessions, CSRF, the logged-in user, staff-only areas) and the
// handlers that turn requests into calls on the domain packages and view
// models for package ui.
//
// Every route is in routes.go; every error becomes a response in errors.go.
package web

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/static"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/vault"
	"github.com/tandemsync/tandem/web/onboard"
	"github.com/tandemsync/tandem/web/pgsession"
)

// Config is what the web application needs from its caller.
type Config struct {
	// Pool is the application database.
	Pool *pgxpool.Pool
	// Tenants is the account store; nil means tenants.NewStore(Pool).
	// Tests pass one with cheap password hashing or a fake clock.
	Tenants *tenants.Store
	// Logger receives request logs and errors; nil means slog.Default().
	Logger *slog.Logger
	// BaseURL is where users reach Tandem, e.g. "https://app.tandem.example".
	// An https URL makes cookies Secure.
	BaseURL string
	// SecretKey is 32 random bytes. The session and CSRF keys are derived
	// from it with HKDF, so it can also seed other, unrelated keys.
	SecretKey []byte
	// Registry receives the HTTP metrics and the Go runtime and process
	// collectors, and is what /metrics serves; nil means a new registry.
	Registry *prometheus.Registry
	// Ready reports whether the app can serve: the caller's check of the
	// database and the schema version. nil means always ready.
	Ready func(ctx context.Context) error

	// Vault holds the tenants' provider connections with their tokens
	// sealed; nil means a vault sealing under a key derived from SecretKey
	// alone (no older keys to open).
	Vault *vault.Vault
	// Providers are the Lightspeed and Salesforce OAuth clients and URLs;
	// the zero value means the real services with no client ids (the
	// Connect pages then say the operator must configure them).
	Providers connect.Providers
	// ProviderClient sends every call to the providers; nil means a client
	// with a 30 s timeout.
	ProviderClient *http.Client
	// Now is the clock of OAuth state expiry; nil means time.Now.
	Now func() time.Time
	// Jobs enqueues background work (Sync now, retries); nil means an
	// insert-only River client over Pool.
	Jobs *river.Client[pgx.Tx]
	// LightspeedLimits is the Lightspeed rate-limit registry the web app's
	// calls (discovery) share with the worker; nil means a private one.
	LightspeedLimits *lightspeed.Limits

	// LightspeedWebURL is the Lightspeed Retail back office that record
	// links on the sync history open; empty means https://us.merchantos.com.
	LightspeedWebURL string

	// Mail sends password reset links and invitations; nil means
	// DevMailbox when that is set, else a sender that fails (and the
	// failure is logged).
	Mail mail.Sender
	// DevMailbox, set only by `tandem dev`, is shown at /dev/mail; without
	// it that page does not exist.
	DevMailbox *mail.Mailbox
	// RequestLogLevel is the level of the log line of each request (probes
	// and static files are always debug); the zero value is info.
	// `tandem dev` sets debug so its terminal stays readable.
	RequestLogLevel slog.Level
}

// Server is the web application. Create it with New and serve Handler.
type Server struct {
	e        *echo.Echo
	log      *slog.Logger
	tenants  *tenants.Store
	sessions *pgsession.Store
	assets   *static.Assets
	csrfKey  []byte
	secure   bool // cookies only over https
	ready    func(ctx context.Context) error
	metrics  *metrics
	registry *prometheus.Registry
	onboard  *onboard.Service
	now      func() time.Time
	pool     *pgxpool.Pool
	jobs     *river.Client[pgx.Tx]
	ledger   *ledger.Store
	baseURL  string // without a trailing slash, for links in emails
	// lightspeedWebURL is where Lightspeed records open (history links).
	lightspeedWebURL string
	mail             mail.Sender
	reqLevel         slog.Level
	devMail          *mail.Mailbox
	alerts           *jobs.Alerts
	// csp is the Content-Security-Policy of every response: form-action
	// names the providers' consent pages, where Connect forms lead.
	csp string
}

// Names of the cookies Tandem sets.
const (
	sessionCookie = "tandem_session"
	csrfCookie    = "tandem_csrf"
)

// sessionMaxAge is how long a session lasts after its last save.
const sessionMaxAge = 14 * 24 * 60 * 60

// New builds the web application from cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Pool == nil {
		return nil, errors.New("web: Config.Pool is required")
	}
	if len(cfg.SecretKey) != 32 {
		return nil, fmt.Errorf("web: Config.SecretKey must be 32 bytes, got %d", len(cfg.SecretKey))
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("web: Config.BaseURL %q must be an absolute http or https URL", cfg.BaseURL)
	}
	s := &Server{
		log:      cfg.Logger,
		tenants:  cfg.Tenants,
		secure:   base.Scheme == "https",
		ready:    cfg.Ready,
		registry: cfg.Registry,
		baseURL:  strings.TrimRight(cfg.BaseURL, "/"),
		mail:     cfg.Mail,
		devMail:  cfg.DevMailbox,
		reqLevel: cfg.RequestLogLevel,
	}
	switch {
	case s.mail != nil:
	case s.devMail != nil:
		s.mail = s.devMail
	default:
		s.mail = noMail{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.pool, s.jobs, s.ledger = cfg.Pool, cfg.Jobs, ledger.New(cfg.Pool)
	if s.lightspeedWebURL = strings.TrimRight(cfg.LightspeedWebURL, "/"); s.lightspeedWebURL == "" {
		s.lightspeedWebURL = "https://us.merchantos.com"
	}
	if s.jobs == nil {
		// Insert-only: the web app never works jobs.
		if s.jobs, err = river.NewClient(riverpgxv5.New(cfg.Pool), &river.Config{}); err != nil {
			return nil, fmt.Errorf("web: river client: %w", err)
		}
	}
	if s.tenants == nil {
		s.tenants = tenants.NewStore(cfg.Pool)
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if s.metrics, err = newMetrics(s.registry); err != nil {
		return nil, err
	}
	if s.assets, err = static.New(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.now = cfg.Now; s.now == nil {
		s.now = time.Now
	}
	v := cfg.Vault
	if v == nil {
		keys, err := vault.NewKeyRing(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		v = vault.New(cfg.Pool, keys)
	}
	s.onboard, err = onboard.New(onboard.Config{
		Pool: cfg.Pool, Vault: v, Providers: cfg.Providers, BaseURL: cfg.BaseURL,
		HTTPClient: cfg.ProviderClient, Logger: s.log, Now: s.now, LightspeedLimits: cfg.LightspeedLimits,
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	// The dashboard's banner shows the same alerts the worker mails.
	s.alerts = jobs.NewAlerts(cfg.Pool, jobs.SetupConfig{Setup: s.onboard.Setup(), Now: s.now}, nil, "", s.log)
	s.alerts.Now = s.now
	s.csp = contentSecurityPolicy(cfg.Providers.FormActionOrigins())

	// Separate keys per purpose, so that no value signed for one use can
	// be replayed for another.
	sessionKey, err := hkdf.Key(sha256.New, cfg.SecretKey, nil, "tandem web session v1", 32)
	if err != nil {
		return nil, fmt.Errorf("web: derive session key: %w", err)
	}
	if s.csrfKey, err = hkdf.Key(sha256.New, cfg.SecretKey, nil, "tandem web csrf v1", 32); err != nil {
		return nil, fmt.Errorf("web: derive csrf key: %w", err)
	}
	s.sessions, err = pgsession.New(cfg.Pool, sessionKey, sessions.Options{
		Path:     "/",
		MaxAge:   sessionMaxAge,
		HttpOnly: true,
		Secure:   s.secure,
		// Lax, not Strict: the redirect back from an OAuth provider is a
		// cross-site navigation and must still carry the session.
		SameSite: http.SameSiteLaxMode,
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}

	s.e = echo.New()
	s.e.HideBanner = true
	s.e.HidePort = true
	s.e.HTTPErrorHandler = s.handleError
	// Trust X-Forwarded-For only from proxies on loopback or private
	// networks: a client on the internet must not pick the address that
	// log-in throttling counts against.
	s.e.IPExtractor = echo.ExtractIPFromXFFHeader()
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the application as an http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// contentSecurityPolicy allows no scripts at all. form-action also governs
// where a form's redirect may lead, so it names the origins a Connect
// button's POST redirects to (the providers' consent pages).
func contentSecurityPolicy(formOrigins []string) string {
	formAction := strings.Join(append([]string{"'self'"}, formOrigins...), " ")
	return "default-src 'none'; style-src 'self'; img-src 'self'; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
}

// noMail is the sender of a server configured without one: every message
// fails, saying why, and the caller logs it.
type noMail struct{}

func (noMail) Send(context.Context, mail.Message) error {
	return errors.New("web: no mail sender configured (set SMTP_URL)")
}
