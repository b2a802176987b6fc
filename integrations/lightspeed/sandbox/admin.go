package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Stats counts what the sandbox has served.
type Stats struct {
	// Requests is the total number of API and OAuth requests.
	Requests int `json:"requests"`
	// ByMethod counts requests per HTTP method.
	ByMethod map[string]int `json:"by_method"`
	// ByResource counts requests per resource and method, e.g.
	// ByResource["Customer"]["GET"].
	ByResource map[string]map[string]int `json:"by_resource"`
	// DripsSpent is the total cost of admitted API requests.
	DripsSpent float64 `json:"drips_spent"`
	// RateLimited is the number of 429 responses sent.
	RateLimited int `json:"rate_limited"`
	// FaultsInjected is the number of requests failed by POST /_sandbox/faults.
	FaultsInjected int `json:"faults_injected"`
}

type statsCollector struct {
	mu  sync.Mutex
	s   Stats
	seq uint64
}

func newStatsCollector() *statsCollector {
	c := &statsCollector{}
	c.reset()
	return c
}

func (c *statsCollector) reset() {
	c.mu.Lock()
	c.s = Stats{ByMethod: map[string]int{}, ByResource: map[string]map[string]int{}}
	c.mu.Unlock()
}

func (c *statsCollector) request(method, resource string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Requests++
	c.s.ByMethod[method]++
	m := c.s.ByResource[resource]
	if m == nil {
		m = map[string]int{}
		c.s.ByResource[resource] = m
	}
	m[method]++
}

func (c *statsCollector) drips(cost float64) {
	c.mu.Lock()
	c.s.DripsSpent += cost
	c.mu.Unlock()
}

func (c *statsCollector) rateLimited() {
	c.mu.Lock()
	c.s.RateLimited++
	c.mu.Unlock()
}

func (c *statsCollector) fault() {
	c.mu.Lock()
	c.s.FaultsInjected++
	c.mu.Unlock()
}

// ray returns a Cloudflare-style request id.
func (c *statsCollector) ray() string {
	c.mu.Lock()
	c.seq++
	n := c.seq
	c.mu.Unlock()
	return fmt.Sprintf("%016x-SBX", n)
}

func (c *statsCollector) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.s
	out.ByMethod = make(map[string]int, len(c.s.ByMethod))
	for k, v := range c.s.ByMethod {
		out.ByMethod[k] = v
	}
	out.ByResource = make(map[string]map[string]int, len(c.s.ByResource))
	for k, m := range c.s.ByResource {
		cp := make(map[string]int, len(m))
		for mk, v := range m {
			cp[mk] = v
		}
		out.ByResource[k] = cp
	}
	out.DripsSpent = math.Round(out.DripsSpent*1e4) / 1e4 // hide float noise from summed costs
	return out
}

// FaultConfig is the body of POST /_sandbox/faults. The zero value ({})
// clears every fault.
type FaultConfig struct {
	// ErrorRate is the probability (0..1) that an API request fails with Status.
	ErrorRate float64 `json:"error_rate"`
	// Status is the injected status (default 503).
	Status int `json:"status"`
	// LatencyMS delays every API request.
	LatencyMS int `json:"latency_ms"`
	// FailNext fails exactly the next N API requests with Status,
	// regardless of ErrorRate: the deterministic way to inject errors.
	FailNext int `json:"fail_next"`
	// ExpireTokens expires every access token issued so far (a one-shot
	// action; refresh tokens keep working).
	ExpireTokens bool `json:"expire_tokens"`
	// Seed seeds the error-rate RNG (default 1), so a given sequence of
	// requests fails the same way on every run.
	Seed uint64 `json:"seed"`
}

// faults holds the active fault configuration.
type faults struct {
	mu       sync.Mutex
	cfg      FaultConfig
	rng      *rand.Rand
	failNext int
}

func newFaults() *faults { return &faults{} }

func (f *faults) set(cfg FaultConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cfg.Status == 0 {
		cfg.Status = http.StatusServiceUnavailable
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = 1
	}
	f.cfg = cfg
	f.failNext = cfg.FailNext
	f.rng = rand.New(rand.NewPCG(seed, seed^0x5eed))
}

// fault is what to do to one request.
type fault struct {
	latency time.Duration
	status  int
}

func (f *faults) next() fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := fault{latency: time.Duration(f.cfg.LatencyMS) * time.Millisecond}
	switch {
	case f.failNext > 0:
		f.failNext--
		out.status = f.cfg.Status
	case f.cfg.ErrorRate > 0 && f.rng.Float64() < f.cfg.ErrorRate:
		out.status = f.cfg.Status
	}
	return out
}

// SetFaults applies a fault configuration, like POST /_sandbox/faults.
func (s *Server) SetFaults(cfg FaultConfig) {
	if cfg.ExpireTokens {
		s.auth.expireAll()
	}
	s.faults.set(cfg)
}

// Seed replaces the account's data with deterministic demo data.
func (s *Server) Seed(opts SeedOptions) {
	st := s.freshStore(&opts)
	s.writeLock()
	s.st = st
	s.mu.Unlock()
}

// Reset empties the account and forgets tokens, rate-limit buckets, stats
// and faults. Registered redirect URIs and the clock are kept.
func (s *Server) Reset() {
	st := s.freshStore(nil)
	s.writeLock()
	s.st = st
	s.mu.Unlock()
	s.auth.reset()
	s.limiter.reset()
	s.stats.reset()
	s.faults.set(FaultConfig{})
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v) // plain structs and maps: cannot fail
	writeJSON(w, status, b)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	adminJSON(w, status, map[string]string{"error": msg})
}

// decodeAdmin decodes an optional JSON body; an empty body leaves v as is.
func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		adminError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// serveAdmin serves the /_sandbox/ admin API:
//
//	POST /_sandbox/reset    empty account; tokens, buckets, stats, faults cleared
//	POST /_sandbox/seed     {"shops":3,"customers":500,"sales":2000,"seed":42}
//	POST /_sandbox/token    mint a token pair for the default account
//	GET  /_sandbox/tokens   every token issued
//	GET  /_sandbox/stats    request counters
//	POST /_sandbox/faults   {"error_rate":0.1,"status":503,"latency_ms":200,"expire_tokens":true}; {} clears
//	GET|POST /_sandbox/clock  {"advance":"90m"} moves the clock; returns {"now":...}
//	POST /_sandbox/redirect_uris {"uri":"https://..."} registers a redirect URI
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path[len("/_sandbox/"):]
	want := map[string]string{"reset": "POST", "seed": "POST", "token": "POST", "tokens": "GET", "stats": "GET",
		"faults": "POST", "redirect_uris": "POST"}
	if m, ok := want[name]; ok && r.Method != m {
		w.Header().Set("Allow", m)
		adminError(w, http.StatusMethodNotAllowed, name+" accepts "+m+" only")
		return
	}
	switch name {
	case "reset":
		s.Reset()
		adminJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case "seed":
		var body struct {
			Shops     *int   `json:"shops"`
			Customers *int   `json:"customers"`
			Sales     *int   `json:"sales"`
			Seed      *int64 `json:"seed"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		opts := SeedOptions{Seed: 42}
		size := func(p *int) int {
			switch {
			case p == nil:
				return 0
			case *p <= 0:
				return -1
			}
			return *p
		}
		opts.Shops, opts.Customers, opts.Sales = size(body.Shops), size(body.Customers), size(body.Sales)
		if body.Seed != nil {
			opts.Seed = *body.Seed
		}
		if opts.Shops > 100 || opts.Customers > 1_000_000 || opts.Sales > 1_000_000 {
			adminError(w, http.StatusBadRequest, "seed sizes too large (max 100 shops, 1000000 customers and sales)")
			return
		}
		s.Seed(opts)
		s.mu.RLock()
		counts := map[string]int{"shops": len(s.st.shops.rows), "registers": len(s.st.registers.rows),
			"employees": len(s.st.employees.rows), "customers": len(s.st.customers.rows),
			"sales": len(s.st.sales.rows), "items": len(s.st.items.rows)}
		s.mu.RUnlock()
		adminJSON(w, http.StatusOK, counts)
	case "token":
		adminJSON(w, http.StatusOK, s.MintToken())
	case "tokens":
		toks := s.Tokens()
		var access, refresh []string
		for _, t := range toks {
			if t.Kind == "access" {
				access = append(access, t.Token)
			} else {
				refresh = append(refresh, t.Token)
			}
		}
		adminJSON(w, http.StatusOK, map[string]any{"access_tokens": access, "refresh_tokens": refresh, "tokens": toks})
	case "stats":
		adminJSON(w, http.StatusOK, s.Stats())
	case "faults":
		var cfg FaultConfig
		if !decodeAdmin(w, r, &cfg) {
			return
		}
		if cfg.ErrorRate < 0 || cfg.ErrorRate > 1 || cfg.LatencyMS < 0 || cfg.FailNext < 0 ||
			cfg.Status != 0 && (cfg.Status < 400 || cfg.Status > 599) {
			adminError(w, http.StatusBadRequest, "error_rate must be in [0,1], status a 4xx/5xx code, latency_ms and fail_next >= 0")
			return
		}
		s.SetFaults(cfg)
		adminJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case "clock":
		if r.Method == http.MethodPost {
			var body struct {
				Advance string `json:"advance"`
			}
			if !decodeAdmin(w, r, &body) {
				return
			}
			d, err := time.ParseDuration(body.Advance)
			if body.Advance != "" && (err != nil || d < 0) {
				adminError(w, http.StatusBadRequest, "advance must be a non-negative Go duration such as \"90m\"")
				return
			}
			s.Advance(d)
		} else if r.Method != http.MethodGet {
			adminError(w, http.StatusMethodNotAllowed, "clock accepts GET and POST")
			return
		}
		adminJSON(w, http.StatusOK, map[string]string{"now": s.Now().UTC().Format(time.RFC3339Nano)})
	case "redirect_uris":
		var body struct {
			URI string `json:"uri"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		if body.URI == "" {
			adminError(w, http.StatusBadRequest, "uri is required")
			return
		}
		s.AddRedirectURI(body.URI)
		adminJSON(w, http.StatusOK, map[string]bool{"ok": true})
	default:
		adminError(w, http.StatusNotFound, "unknown admin endpoint "+strconv.Quote(name))
	}
}
