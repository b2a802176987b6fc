package sandbox

import (
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value serves an empty account for
// the client "tandem-dev" with the 2026 rate-limit model.
type Options struct {
	// ClientID and ClientSecret identify the one registered OAuth client.
	// Defaults "tandem-dev" and "tandem-dev-secret".
	ClientID, ClientSecret string
	// RedirectURIs are the client's registered redirect URIs, matched
	// exactly. More can be added with AddRedirectURI.
	RedirectURIs []string
	// AccountID is the emulated account's id (default 200001).
	AccountID int
	// AccountName is shown on the consent page and in Account.json
	// (default "Tandem Demo Boutique").
	AccountName string
	// BucketSize, DripRate (per second) and Burst (requests per one-second
	// window) configure the rate limiter; defaults 90, 1 and 20.
	BucketSize float64
	DripRate   float64
	Burst      int
	// TokenTTL is the access-token lifetime (default one hour).
	TokenTTL time.Duration
	// Seed fills the account with deterministic demo data; nil leaves it
	// empty (payment types and the owner employee only).
	Seed *SeedOptions
	// BaseURL is the absolute base ("https://host") of next/previous URLs
	// and OAuth redirects; "" derives it from each request's scheme and Host.
	BaseURL string
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// Now is the time source; nil uses the wall clock. Either way Advance
	// (and POST /_sandbox/clock) moves the sandbox's clock forward from it.
	Now func() time.Time
	// SigningKey signs access tokens (RS256). nil generates a 2048-bit key
	// on first use; tests share one key to avoid generating many.
	SigningKey *rsa.PrivateKey
}

// SeedOptions sizes the demo data. A zero size means the default (3 shops,
// 500 customers, 2000 sales); a negative size means none.
type SeedOptions struct {
	Seed      int64
	Shops     int
	Customers int
	Sales     int
}

// TokenPair is a freshly minted access and refresh token.
type TokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	AccountID    int    `json:"account_id"`
}

// Server emulates the Lightspeed Retail R-Series API, its OAuth server and
// a /_sandbox/ admin API. It is an http.Handler; all state is in memory.
type Server struct {
	opts    Options
	res     *resources
	logger  *slog.Logger
	clock   *clock
	auth    *authServer
	limiter *limiter
	faults  *faults
	stats   *statsCollector

	mu      sync.RWMutex // guards st
	st      *store
	version uint64    // bumped on every write, under mu; keys sorts
	sorts   sortCache // sorted indexes for the current version

	bufs sync.Pool // *jw response buffers for list pages
}

// writeLock takes the store lock for a write and invalidates sorted
// indexes. Writers release it with s.mu.Unlock.
func (s *Server) writeLock() {
	s.mu.Lock()
	s.version++
}

func (s *Server) getBuf() *jw {
	if w, ok := s.bufs.Get().(*jw); ok {
		return w
	}
	return &jw{b: make([]byte, 0, 64<<10)}
}

// putBuf recycles a buffer once its response has been written; very large
// ones are dropped so one huge page does not pin memory.
func (s *Server) putBuf(w *jw) {
	if cap(w.b) > 4<<20 {
		return
	}
	w.b, w.comma = w.b[:0], false
	s.bufs.Put(w)
}

// New returns a Server configured by opts, seeded if opts.Seed is set.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = "tandem-dev"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "tandem-dev-secret"
	}
	if opts.AccountID == 0 {
		opts.AccountID = 200001
	}
	if opts.AccountName == "" {
		opts.AccountName = "Tandem Demo Boutique"
	}
	if opts.BucketSize <= 0 {
		opts.BucketSize = 90
	}
	if opts.DripRate <= 0 {
		opts.DripRate = 1
	}
	if opts.Burst <= 0 {
		opts.Burst = 20
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &clock{base: opts.Now}
	if c.base == nil {
		c.base = time.Now
	}
	s := &Server{
		opts:    opts,
		res:     newResources(),
		logger:  logger,
		clock:   c,
		auth:    newAuthServer(opts, c.now),
		limiter: newLimiter(opts.BucketSize, opts.DripRate, opts.Burst),
		faults:  newFaults(),
		stats:   newStatsCollector(),
	}
	s.st = s.freshStore(opts.Seed)
	return s
}

func (s *Server) freshStore(seed *SeedOptions) *store {
	st := newStore(account{ID: s.opts.AccountID, Name: s.opts.AccountName})
	if seed == nil {
		seedBase(st)
		return st
	}
	seedDemo(st, *seed)
	return st
}

// AddRedirectURI registers another redirect URI for the OAuth client.
func (s *Server) AddRedirectURI(uri string) { s.auth.addRedirectURI(uri) }

// MintToken issues a token pair for the default account and client without
// the consent page, like POST /_sandbox/token.
func (s *Server) MintToken() TokenPair {
	a, r := s.auth.issue(s.opts.AccountID, s.opts.ClientID, "employee:all", nil)
	return TokenPair{AccessToken: a.token, RefreshToken: r.token, ExpiresIn: int(s.opts.TokenTTL / time.Second), AccountID: s.opts.AccountID}
}

// Advance moves the sandbox clock forward by d (token expiry, code expiry,
// bucket drain and timestamps of new writes all follow it).
func (s *Server) Advance(d time.Duration) { s.clock.advance(d) }

// Now returns the sandbox clock's current time.
func (s *Server) Now() time.Time { return s.clock.now() }

// Stats returns request counters, like GET /_sandbox/stats.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// clock is the wall clock (or Options.Now) plus an offset Advance moves.
type clock struct {
	base   func() time.Time
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return c.base().Add(off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// statusWriter records the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP routes to the emulated API, the OAuth server and the admin API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/API/"):
		s.serveAPI(sw, r)
	case strings.HasPrefix(path, "/auth/oauth/"), path == "/oauth/authorize.php", path == "/oauth/access_token.php":
		s.serveOAuth(sw, r)
	case path == "/.well-known/jwks":
		s.serveJWKS(sw, r)
	case strings.HasPrefix(path, "/_sandbox/"):
		s.serveAdmin(sw, r)
	default:
		writeAPIError(sw, &apiError{http.StatusNotFound, "Not found: " + path, "Exception"})
	}
	// Only the path is logged: query strings and bodies can carry codes,
	// verifiers and tokens.
	s.logger.LogAttrs(r.Context(), slog.LevelDebug, "lightspeed sandbox request",
		slog.String("method", r.Method), slog.String("path", path),
		slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
}

// baseURL is the absolute scheme://host prefix for URLs the server emits.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	var j jw
	j.beginObj()
	j.kv("httpCode", itoa(e.status))
	j.kv("httpMessage", http.StatusText(e.status))
	j.kv("message", e.message)
	j.kv("errorClass", e.class)
	j.endObj()
	writeJSON(w, e.status, j.b)
}
