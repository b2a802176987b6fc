package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero values of [Options].
const (
	DefaultClientID      = "tandem-dev"
	DefaultClientSecret  = "tandem-dev-secret"
	DefaultUsername      = "admin@tandem.test"
	DefaultPassword      = "sandbox-password"
	DefaultOrgName       = "Tandem Demo Org"
	DefaultEdition       = "Developer Edition"
	DefaultDailyAPILimit = 15000
	DefaultTokenTTL      = 2 * time.Hour
	// MaxAPIVersion is the newest API version the sandbox serves; every
	// version from 20.0 up to it is accepted.
	MaxAPIVersion = 66
	minAPIVersion = 20
)

// Options configures a [Server]. The zero value is a usable bare org.
type Options struct {
	// ClientID and ClientSecret identify the one connected app the org
	// knows. Defaults: DefaultClientID, DefaultClientSecret.
	ClientID, ClientSecret string
	// RedirectURIs are the connected app's callback URLs. Empty accepts any
	// absolute http(s) URL, which suits local development.
	RedirectURIs []string
	// Username and Password of the org's admin user. Defaults:
	// DefaultUsername, DefaultPassword.
	Username, Password string
	// OrgName is shown on the consent page and is the Name of the org's
	// Organization record.
	OrgName string
	// Edition is the Organization record's OrganizationType, what Setup
	// shows as the edition ("Enterprise Edition", ...). Default:
	// DefaultEdition.
	Edition string
	// PersonAccounts enables person accounts (and record types) in the org.
	PersonAccounts bool
	// DuplicateRuleEmail turns on an alert-mode duplicate rule on
	// Contact.Email: a save that matches an existing contact fails with
	// DUPLICATES_DETECTED unless it sends Sforce-Duplicate-Rule-Header:
	// allowSave=true.
	DuplicateRuleEmail bool
	// RotateRefreshTokens makes every refresh return a new refresh token and
	// invalidate the one used.
	RotateRefreshTokens bool
	// DailyAPILimit is the rolling 24-hour API allocation (default 15000).
	DailyAPILimit int
	// TokenTTL is how long an access token lives (default 2h).
	TokenTTL time.Duration
	// Seed nil gives a bare org (standard objects, the standard price book,
	// the admin user); non-nil adds deterministic demo data built from it.
	Seed *int64
	// BaseURL is the sandbox's public base URL, used for instance_url, the
	// id URL and nextRecordsUrl. Empty derives it from each request.
	BaseURL string
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// Now is the time source; nil uses the wall clock. Either way
	// [Server.Advance] moves the sandbox's clock forward.
	Now func() time.Time
}

// Server is the Salesforce emulator. It is an http.Handler; all state is in
// memory and safe for concurrent use.
type Server struct {
	opts   Options
	logger *slog.Logger
	clk    *clock

	mu        sync.Mutex // guards the fields below
	redirects []string
	faults    Faults
	failNext  int
	// faulted counts the calls pickFault failed, for Stats.
	faulted int
	rng     *rand.Rand
	usage   usageWindow
	calls   map[[2]string]int

	auth    *authState
	data    *db
	tooling *db
	cursors *cursorStore
	jobs    *jobStore
	wg      sync.WaitGroup

	// refreshHook, when set by a test, runs while a refresh token is marked
	// in flight, so a concurrent refresh can be made to overlap it.
	refreshHook func()
	// queryJobHook, when set by a test, runs at the start of every Bulk
	// query job's background run, so a test can hold a job before it
	// completes.
	queryJobHook func(jobID string)
}

// New builds a sandbox org from opts.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if opts.OrgName == "" {
		opts.OrgName = DefaultOrgName
	}
	if opts.Edition == "" {
		opts.Edition = DefaultEdition
	}
	if opts.DailyAPILimit <= 0 {
		opts.DailyAPILimit = DefaultDailyAPILimit
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	seed := uint64(1)
	if opts.Seed != nil {
		seed = uint64(*opts.Seed)
	}
	s := &Server{
		opts:      opts,
		logger:    logger,
		clk:       &clock{base: opts.Now},
		redirects: slices.Clone(opts.RedirectURIs),
		rng:       rand.New(rand.NewPCG(seed, 0x5f0a)),
		calls:     map[[2]string]int{},
		auth:      newAuthState(),
		cursors:   newCursorStore(),
		jobs:      newJobStore(),
	}
	s.data = &db{}
	s.tooling = &db{}
	s.resetData(opts.Seed)
	return s
}

// clock is the sandbox's time: a base source plus a controllable offset.
type clock struct {
	mu     sync.Mutex
	base   func() time.Time
	offset time.Duration
}

// Now returns the sandbox time, UTC, at millisecond precision as Salesforce
// stores it.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.base != nil {
		now = c.base()
	}
	return now.Add(c.offset).UTC().Truncate(time.Millisecond)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Advance moves the sandbox clock forward by d: tokens age, the API usage
// window rolls, and new writes get later timestamps.
func (s *Server) Advance(d time.Duration) { s.clk.advance(d) }

// Now returns the sandbox's current time.
func (s *Server) Now() time.Time { return s.clk.Now() }

// AddRedirectURI registers another callback URL for the connected app.
func (s *Server) AddRedirectURI(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.redirects, uri) {
		s.redirects = append(s.redirects, uri)
	}
}

func (s *Server) redirectAllowed(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.redirects) == 0 || slices.Contains(s.redirects, uri)
}

// Close waits for background Bulk API jobs to finish. The server stays
// usable; Close exists so tests and the CLI can shut down without leaking
// goroutines.
func (s *Server) Close() { s.wg.Wait() }

// usageWindow counts API calls per minute over a rolling 24 hours.
type usageWindow struct {
	minute [1440]int64
	count  [1440]int
}

func (u *usageWindow) add(now time.Time) {
	m := now.Unix() / 60
	i := m % 1440
	if u.minute[i] != m {
		u.minute[i], u.count[i] = m, 0
	}
	u.count[i]++
}

func (u *usageWindow) used(now time.Time) int {
	m := now.Unix() / 60
	n := 0
	for i := range u.minute {
		if u.count[i] > 0 && m-u.minute[i] < 1440 {
			n += u.count[i]
		}
	}
	return n
}

// Duration is a time.Duration that reads and writes JSON as "1.5s".
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler; it takes "1.5s" or a number of
// milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("duration must be a string like \"200ms\" or milliseconds")
	}
	*d = Duration(time.Duration(ms * float64(time.Millisecond)))
	return nil
}

// Faults are injected failures. They apply to the data API
// (/services/data/vNN.N/...) after authentication and the limit check; the
// latency also delays the OAuth endpoints. The zero value injects nothing.
type Faults struct {
	// ErrorRate is the fraction (0..1) of API calls that fail.
	ErrorRate float64 `json:"errorRate,omitempty"`
	// FailNext makes the next N API calls fail, whatever ErrorRate says.
	FailNext int `json:"failNext,omitempty"`
	// Status of injected failures: default 503, or 400 for
	// UNABLE_TO_LOCK_ROW.
	Status int `json:"status,omitempty"`
	// ErrorCode of injected failures: default SERVER_UNAVAILABLE; also
	// UNABLE_TO_LOCK_ROW, REQUEST_LIMIT_EXCEEDED or any code.
	ErrorCode string `json:"errorCode,omitempty"`
	// Message overrides the error message.
	Message string `json:"message,omitempty"`
	// Latency delays every emulated-API response.
	Latency Duration `json:"latency,omitempty"`
	// ExpireTokens expires every access token issued so far (one shot: it
	// is not kept in the stored faults).
	ExpireTokens bool `json:"expireTokens,omitempty"`
	// TokenTTL overrides Options.TokenTTL while set.
	TokenTTL Duration `json:"tokenTTL,omitempty"`
}

// SetFaults replaces the injected faults; the zero Faults clears them.
func (s *Server) SetFaults(f Faults) {
	if f.ExpireTokens {
		s.auth.expireAll()
		f.ExpireTokens = false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = f.FailNext
	s.faults = f
}

// CallStat counts the calls made to one resource with one method.
type CallStat struct {
	Resource string `json:"resource"`
	Method   string `json:"method"`
	Count    int    `json:"count"`
}

// Stats is what the sandbox counted: calls by resource and verb, and the API
// usage the Sforce-Limit-Info header reports.
type Stats struct {
	// APIUsage is the number of API calls in the rolling 24-hour window;
	// APILimit is the allocation.
	APIUsage int `json:"apiUsage"`
	APILimit int `json:"apiLimit"`
	// Total counts every request to an emulated endpoint (OAuth included).
	Total int        `json:"total"`
	Calls []CallStat `json:"calls"`
	// Records is the number of live (not deleted) records per object.
	Records map[string]int `json:"records"`
	// FaultsInjected is the number of calls failed by POST /_sandbox/faults.
	FaultsInjected int `json:"faultsInjected"`
}

// Stats returns the call counts and API usage so far.
func (s *Server) Stats() Stats {
	now := s.clk.Now()
	s.mu.Lock()
	st := Stats{APIUsage: s.usage.used(now), APILimit: s.opts.DailyAPILimit, Calls: []CallStat{}, FaultsInjected: s.faulted}
	for k, n := range s.calls {
		st.Calls = append(st.Calls, CallStat{Resource: k[0], Method: k[1], Count: n})
		st.Total += n
	}
	s.mu.Unlock()
	sort.Slice(st.Calls, func(i, j int) bool {
		if st.Calls[i].Resource != st.Calls[j].Resource {
			return st.Calls[i].Resource < st.Calls[j].Resource
		}
		return st.Calls[i].Method < st.Calls[j].Method
	})
	st.Records = map[string]int{}
	s.data.mu.RLock()
	for name, t := range s.data.tables {
		n := 0
		for _, r := range t.rows {
			if r["IsDeleted"] != true {
				n++
			}
		}
		st.Records[name] = n
	}
	s.data.mu.RUnlock()
	return st
}

func (s *Server) countCall(resource, method string) {
	s.mu.Lock()
	s.calls[[2]string{resource, method}]++
	s.mu.Unlock()
}

// statusWriter remembers the status for the request log line.
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

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	s.serve(sw, r)
	// The query string is left out on purpose: it can carry oauth_token.
	s.logger.Debug("salesforce sandbox request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/_sandbox/") {
		s.admin(w, r)
		return
	}
	if strings.Contains(p, "//") {
		r = collapseSlashes(r)
		p = r.URL.Path
	}
	if p != "/services/oauth2/token" {
		s.sleepLatency(r)
	}
	switch {
	case p == "/services/oauth2/authorize":
		s.countCall("oauth2/authorize", r.Method)
		s.authorize(w, r)
	case p == "/services/oauth2/token":
		s.countCall("oauth2/token", r.Method)
		s.token(w, r)
	case p == "/services/oauth2/revoke":
		s.countCall("oauth2/revoke", r.Method)
		s.revoke(w, r)
	case p == "/services/oauth2/userinfo":
		s.countCall("oauth2/userinfo", r.Method)
		s.userinfo(w, r)
	case strings.HasPrefix(p, "/id/"):
		s.countCall("id/{org}/{user}", r.Method)
		s.identity(w, r)
	case p == "/services/data" || p == "/services/data/":
		s.countCall("data", r.Method)
		writeJSON(w, http.StatusOK, versionList())
	case strings.HasPrefix(p, "/services/data/"):
		s.api(w, r)
	default:
		writeJSON(w, http.StatusNotFound, restErrors([]apiError{errf("NOT_FOUND", nil, "The requested resource does not exist")}))
	}
}

// collapseSlashes returns r with every run of slashes in its path made one.
// The real service answers //services/data/v66.0/query as if the slashes
// were one, and clients rely on it: the sf CLI stores its instance URL with
// a trailing slash and joins paths onto it. The control API (/_sandbox/) is
// not Salesforce's, so it is left strict.
func collapseSlashes(r *http.Request) *http.Request {
	squeeze := func(p string) string {
		var b strings.Builder
		b.Grow(len(p))
		for i := 0; i < len(p); i++ {
			if p[i] == '/' && i > 0 && p[i-1] == '/' {
				continue
			}
			b.WriteByte(p[i])
		}
		return b.String()
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = squeeze(r.URL.Path)
	if r.URL.RawPath != "" {
		r2.URL.RawPath = squeeze(r.URL.RawPath)
	}
	return r2
}

func (s *Server) sleepLatency(r *http.Request) {
	s.mu.Lock()
	d := time.Duration(s.faults.Latency)
	s.mu.Unlock()
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// baseURL is the URL clients reach the sandbox at.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(restErrors([]apiError{errf("UNKNOWN_EXCEPTION", nil, "the sandbox could not encode its response: %v", err)}))
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// releaseName is the label of an API version: v20.0 was Winter '11 and three
// releases follow each year.
func releaseName(v int) string {
	n := v - 20
	return fmt.Sprintf("%s '%02d", [3]string{"Winter", "Spring", "Summer"}[n%3], 11+n/3)
}

type versionInfo struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

func versionList() []versionInfo {
	out := make([]versionInfo, 0, MaxAPIVersion-minAPIVersion+1)
	for v := minAPIVersion; v <= MaxAPIVersion; v++ {
		out = append(out, versionInfo{Label: releaseName(v), URL: fmt.Sprintf("/services/data/v%d.0", v), Version: fmt.Sprintf("%d.0", v)})
	}
	return out
}

// parseVersion accepts "v66.0" style path segments within the served range.
func parseVersion(seg string) (string, int, bool) {
	if !strings.HasPrefix(seg, "v") || !strings.HasSuffix(seg, ".0") {
		return "", 0, false
	}
	n, err := strconv.Atoi(seg[1 : len(seg)-2])
	if err != nil || n < minAPIVersion || n > MaxAPIVersion {
		return "", 0, false
	}
	return seg[1:], n, true
}

// call is one data-API request, top level or a composite subrequest.
type call struct {
	method   string
	version  string
	verNum   int
	segs     []string
	query    url.Values
	body     []byte
	header   http.Header
	base     string
	tok      *tokenInfo
	tx       *txn // set when the caller holds the data lock (composite)
	sub      bool // a composite subrequest
	resource string
}

// result is a handler's response before it is written.
type result struct {
	status  int
	body    any
	raw     []byte
	ctype   string
	headers map[string]string
}

func jsonResult(status int, body any) result { return result{status: status, body: body} }

func errResult(status int, errs ...apiError) result {
	return result{status: status, body: restErrors(errs)}
}

const maxBody = 160 << 20 // Bulk uploads go up to 150 MB

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	// Split the escaped path so an external id holding "/" (sent as %2F)
	// stays one segment.
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/services/data/")
	segs := strings.Split(rest, "/")
	for i, sg := range segs {
		if un, err := url.PathUnescape(sg); err == nil {
			segs[i] = un
		}
	}
	version, verNum, ok := parseVersion(segs[0])
	if !ok {
		s.countCall("data/{unknown}", r.Method)
		writeJSON(w, http.StatusNotFound, restErrors([]apiError{errf("NOT_FOUND", nil, "The requested resource does not exist")}))
		return
	}
	segs = segs[1:]
	if n := len(segs); n > 0 && segs[n-1] == "" {
		segs = segs[:n-1]
	}
	tok, authErr := s.authenticate(r)
	if authErr != nil {
		// A refused session does not count, but still reports the usage.
		now := s.clk.Now()
		s.mu.Lock()
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", s.usage.used(now), s.opts.DailyAPILimit))
		s.mu.Unlock()
		s.countCall(resourceName(segs), r.Method)
		writeJSON(w, http.StatusUnauthorized, restErrors([]apiError{*authErr}))
		return
	}
	now := s.clk.Now()
	s.mu.Lock()
	used := s.usage.used(now)
	limit := s.opts.DailyAPILimit
	if used >= limit {
		s.mu.Unlock()
		s.countCall(resourceName(segs), r.Method)
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, limit))
		writeJSON(w, http.StatusForbidden, restErrors([]apiError{errf("REQUEST_LIMIT_EXCEEDED", nil, "TotalRequests Limit exceeded.")}))
		return
	}
	s.usage.add(now)
	used++
	fault := s.pickFault()
	s.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, limit))
	if fault != nil {
		s.countCall(resourceName(segs), r.Method)
		writeJSON(w, fault.status, fault.body)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		s.countCall(resourceName(segs), r.Method)
		writeJSON(w, http.StatusBadRequest, restErrors([]apiError{errf("JSON_PARSER_ERROR", nil, "could not read the request body: %v", err)}))
		return
	}
	c := &call{method: r.Method, version: version, verNum: verNum, segs: segs, query: r.URL.Query(),
		body: body, header: r.Header, base: s.baseURL(r), tok: tok}
	res := s.route(c)
	if c.resource == "" {
		c.resource = resourceName(segs)
	}
	s.countCall(c.resource, r.Method)
	writeResult(w, r, res)
}

// resourceName is a path with its variable parts replaced, for stats:
// sobjects/Contact/{id}, query/{locator}, jobs/ingest/{jobId}/batches.
func resourceName(segs []string) string {
	if len(segs) == 0 {
		return "{version}"
	}
	out := slices.Clone(segs)
	switch out[0] {
	case "query", "queryAll":
		if len(out) > 1 {
			out[1] = "{locator}"
		}
	case "sobjects":
		switch {
		case len(out) == 3 && out[2] != "describe" && out[2] != "updated" && out[2] != "deleted":
			out[2] = "{id}"
		case len(out) == 4:
			out[3] = "{value}" // sobjects/{T}/{externalIdField}/{value}
		}
	case "jobs":
		if len(out) > 2 {
			out[2] = "{jobId}"
		}
	}
	return strings.Join(out, "/")
}

func writeResult(w http.ResponseWriter, r *http.Request, res result) {
	for k, v := range res.headers {
		w.Header().Set(k, v)
	}
	if res.status == http.StatusNoContent || res.status == http.StatusNotModified {
		w.WriteHeader(res.status)
		return
	}
	if res.raw != nil || res.ctype != "" {
		ct := res.ctype
		if ct == "" {
			ct = "application/json;charset=UTF-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(res.status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(res.raw)
		}
		return
	}
	b, err := json.Marshal(res.body)
	if err != nil {
		res.status = http.StatusInternalServerError
		b, _ = json.Marshal(restErrors([]apiError{errf("UNKNOWN_EXCEPTION", nil, "the sandbox could not encode its response: %v", err)}))
	}
	if len(b) > 0 && r.Header.Get("X-PrettyPrint") == "1" {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			b = buf.Bytes()
		}
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(res.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// pickFault decides whether this call fails; s.mu must be held.
func (s *Server) pickFault() *result {
	f := s.faults
	hit := false
	if s.failNext > 0 {
		s.failNext--
		hit = true
	} else if f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		hit = true
	}
	if !hit {
		return nil
	}
	s.faulted++
	code := f.ErrorCode
	if code == "" {
		code = "SERVER_UNAVAILABLE"
	}
	status := f.Status
	msg := f.Message
	switch code {
	case "UNABLE_TO_LOCK_ROW":
		if status == 0 {
			status = http.StatusBadRequest
		}
		if msg == "" {
			msg = "unable to obtain exclusive access to this record or 1 records: " + adminUserID
		}
	case "REQUEST_LIMIT_EXCEEDED":
		if status == 0 {
			status = http.StatusForbidden
		}
		if msg == "" {
			msg = "TotalRequests Limit exceeded."
		}
	}
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if msg == "" {
		msg = "Server temporarily unavailable. Please retry your request."
	}
	res := errResult(status, errf(code, nil, "%s", msg))
	return &res
}

// read runs fn with the db read-locked, unless the caller already holds it.
func (c *call) read(d *db, fn func() result) result {
	if c.tx != nil {
		return fn()
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return fn()
}

// write runs fn in a transaction, rolled back when fn answers an error. A
// composite subrequest reuses its parent's transaction.
func (s *Server) write(c *call, d *db, fn func(t *txn) result) result {
	if c.tx != nil {
		return fn(c.tx)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.begin(s.clk.Now())
	res := fn(t)
	if res.status >= 400 {
		t.rollback()
	}
	return res
}

func (c *call) opts() writeOpts {
	h := strings.ToLower(strings.ReplaceAll(c.header.Get("Sforce-Duplicate-Rule-Header"), " ", ""))
	return writeOpts{allowDupSave: strings.Contains(h, "allowsave=true"), version: c.version}
}

func methodNotAllowed(method string, allowed ...string) result {
	return errResult(http.StatusMethodNotAllowed, errf("METHOD_NOT_ALLOWED", nil, "HTTP Method '%s' not allowed. Allowed are %s", method, strings.Join(allowed, ",")))
}

func notFound() result {
	return errResult(http.StatusNotFound, errf("NOT_FOUND", nil, "The requested resource does not exist"))
}

// route dispatches a data-API call.
func (s *Server) route(c *call) result {
	segs := c.segs
	if len(segs) == 0 {
		if c.method != http.MethodGet && c.method != http.MethodHead {
			return methodNotAllowed(c.method, "GET", "HEAD")
		}
		return jsonResult(http.StatusOK, s.resourceRoot(c))
	}
	switch segs[0] {
	case "sobjects":
		return s.routeSObjects(c)
	case "query", "queryAll":
		return s.routeQuery(c, s.data, segs[0] == "queryAll", segs[1:])
	case "composite":
		return s.routeComposite(c)
	case "limits":
		if len(segs) != 1 {
			return notFound()
		}
		if c.method != http.MethodGet && c.method != http.MethodHead {
			return methodNotAllowed(c.method, "GET", "HEAD")
		}
		return jsonResult(http.StatusOK, s.limits())
	case "jobs":
		if c.sub {
			return notFound()
		}
		return s.routeJobs(c)
	case "tooling":
		if c.sub {
			return notFound()
		}
		return s.routeTooling(c)
	}
	return notFound()
}

func (s *Server) resourceRoot(c *call) map[string]string {
	p := "/services/data/v" + c.version
	out := map[string]string{}
	for _, k := range []string{"sobjects", "query", "queryAll", "composite", "limits", "tooling", "jobs", "search", "recent", "tabs", "theme", "analytics", "connect", "chatter"} {
		out[k] = p + "/" + k
	}
	if c.tok != nil {
		out["identity"] = s.idURL(c.base)
	}
	return out
}

func (s *Server) limits() map[string]map[string]int {
	now := s.clk.Now()
	s.mu.Lock()
	used := s.usage.used(now)
	s.mu.Unlock()
	max := s.opts.DailyAPILimit
	l := func(m, rem int) map[string]int { return map[string]int{"Max": m, "Remaining": rem} }
	s.jobs.mu.Lock()
	batches, queryJobs := s.jobs.batches, s.jobs.queryJobs
	s.jobs.mu.Unlock()
	return map[string]map[string]int{
		"ConcurrentAsyncGetReportInstances": l(200, 200),
		"ConcurrentSyncReportRuns":          l(20, 20),
		"DailyApiRequests":                  l(max, max-used),
		"DailyAsyncApexExecutions":          l(250000, 250000),
		"DailyBulkApiBatches":               l(15000, 15000-batches),
		"DailyBulkV2QueryFileStorageMB":     l(976562, 976562),
		"DailyBulkV2QueryJobs":              l(10000, 10000-queryJobs),
		"DailyStreamingApiEvents":           l(10000, 10000),
		"DataStorageMB":                     l(5, 5),
		"FileStorageMB":                     l(20, 20),
		"HourlyDashboardRefreshes":          l(200, 200),
		"MassEmail":                         l(10, 10),
		"SingleEmail":                       l(15, 15),
	}
}
