package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web"
)

// cheapParams keep password hashing out of the tests' running time.
var cheapParams = tenants.PasswordParams{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

var secretKey = []byte("0123456789abcdef0123456789abcdef")

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clock is a controllable time source for the tenants store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// app is a running Tandem web server on its own database.
type app struct {
	t      testing.TB
	srv    *httptest.Server
	web    *web.Server
	pool   *pgxpool.Pool
	store  *tenants.Store
	reg    *prometheus.Registry // what the caller would serve on the metrics port
	logs   *syncBuffer
	clock  *clock
	readyE error // what Ready returns; set before requests
}

type appOption func(*web.Config)

func newApp(t testing.TB, opts ...appOption) *app {
	t.Helper()
	pool := dbtest.New(t)
	a := &app{t: t, pool: pool, logs: &syncBuffer{}, reg: prometheus.NewRegistry(), clock: &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	a.store = tenants.NewStore(pool, tenants.WithPasswordParams(cheapParams), tenants.WithClock(a.clock.Now))
	cfg := web.Config{
		Pool:      pool,
		Tenants:   a.store,
		Logger:    slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BaseURL:   "http://tandem.test",
		SecretKey: secretKey,
		Registry:  a.reg,
		Ready:     func(context.Context) error { return a.readyE },
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.web = s
	a.srv = httptest.NewServer(s.Handler())
	t.Cleanup(a.srv.Close)
	return a
}

// metrics returns the registry in Prometheus' text format, as a scrape of
// the metrics port would.
func (a *app) metrics() string {
	a.t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// count returns the number of rows of table matching where.
func (a *app) count(table, where string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// signUp creates a merchant directly in the store.
func (a *app) signUp(name, email string) (tenants.Tenant, tenants.User) {
	a.t.Helper()
	tn, u, err := a.store.SignUp(context.Background(), tenants.SignUpParams{BusinessName: name, Email: email, Password: "a good password"})
	if err != nil {
		a.t.Fatal(err)
	}
	return tn, u
}

// browser is an HTTP client with its own cookie jar: one person's browser.
type browser struct {
	t   testing.TB
	app *app
	c   *http.Client
}

func (a *app) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return &browser{t: a.t, app: a, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// page is a response with its parsed HTML.
type page struct {
	res *http.Response
	doc *goquery.Document
}

func (p page) status() int { return p.res.StatusCode }

// path is where the browser ended up after redirects.
func (p page) path() string { return p.res.Request.URL.RequestURI() }

func (p page) text(sel string) string {
	return strings.Join(strings.Fields(p.doc.Find(sel).Text()), " ")
}

func (p page) has(sel string) bool { return p.doc.Find(sel).Length() > 0 }

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{res: res, doc: doc}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.app.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends form exactly as given, without a CSRF token unless it has one.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.app.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submit fills in and sends the form matched by sel on p, as a browser
// would: hidden fields (the CSRF token among them) come from the page.
func (b *browser) submit(p page, sel string, fields map[string]string) page {
	b.t.Helper()
	form := p.doc.Find(sel)
	if form.Length() != 1 {
		b.t.Fatalf("%s: %d forms match %q", p.path(), form.Length(), sel)
	}
	v := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		v.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	for k, val := range fields {
		v.Set(k, val)
	}
	return b.post(form.AttrOr("action", ""), v)
}

// signUpVia signs up through the web form and returns the page it lands on.
func (b *browser) signUpVia(name, email, password string) page {
	b.t.Helper()
	return b.submit(b.get("/signup"), "form[action='/signup']", map[string]string{
		"business_name": name, "email": email, "password": password,
	})
}

// logIn logs in through the web form and returns the page it lands on.
func (b *browser) logIn(email, password string) page {
	b.t.Helper()
	return b.submit(b.get("/login"), "form[action='/login']", map[string]string{"email": email, "password": password})
}

// cookie returns the browser's cookie named name for the app, or nil.
func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.app.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}
