package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/web"
)

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(body)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if code, _, body := get(t, a.srv.URL+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz = %d %q; want 200 ok", code, body)
	}
	if code, _, body := get(t, a.srv.URL+"/readyz"); code != 200 || body != "ready" {
		t.Errorf("/readyz = %d %q; want 200 ready", code, body)
	}
	a.readyE = errors.New("migrations behind: database at 1, binary at 2")
	if code, _, body := get(t, a.srv.URL+"/readyz"); code != 503 || body != "not ready: migrations behind: database at 1, binary at 2" {
		t.Errorf("/readyz when not ready = %d %q; want 503 with the reason", code, body)
	}
	if code, _, body := get(t, a.srv.URL+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz while not ready = %d %q; want 200 ok", code, body)
	}
}

func TestHealthAndReadinessAnswerHEAD(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Head(a.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s = %d; want 200", path, res.StatusCode)
		}
	}
}

// TestMetrics: the series count requests by route pattern, method and
// status; they are not served on the web port at all.
func TestMetrics(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	get(t, a.srv.URL+"/healthz")
	get(t, a.srv.URL+"/healthz")
	get(t, a.srv.URL+"/no/such/page")
	a.browser().get("/login")
	if code, _, _ := get(t, a.srv.URL+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the web port = %d; want 404", code)
	}
	body := a.metrics()
	for _, want := range []string{
		`tandem_http_requests_total{method="GET",route="/healthz",status="200"} 2`,
		`tandem_http_requests_total{method="GET",route="/login",status="200"} 1`,
		`tandem_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`tandem_http_request_duration_seconds_bucket{method="GET",route="/login",le="+Inf"} 1`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestMetricsBounded: made-up methods share one label, and staff paths
// refused to a merchant are counted like unknown paths.
func TestMetricsBounded(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	for i := range 50 {
		req, err := http.NewRequest(fmt.Sprintf("M%dX", i), a.srv.URL+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	merchant := a.browser()
	merchant.logIn("me@shop.example", "a good password")
	merchant.get("/staff")
	body := a.metrics()
	if strings.Contains(body, `method="M1X"`) || !strings.Contains(body, `tandem_http_requests_total{method="OTHER",route="/healthz",status="405"} 50`) {
		t.Errorf("made-up methods not folded into OTHER:\n%s", grepLines(body, "tandem_http_requests_total"))
	}
	if strings.Contains(body, `route="/staff"`) {
		t.Errorf("a merchant's refused /staff is told apart from an unknown path:\n%s", grepLines(body, "tandem_http_requests_total"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRequestIDFromClient: a short safe X-Request-Id (a proxy's) is kept;
// anything else is replaced by our own, never echoed.
func TestRequestIDFromClient(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, tt := range []struct {
		sent string
		keep bool
	}{
		{"req-01HZX.abc_9", true},
		{"", false},
		{"<script>alert(1)</script>", false},
		{"id with spaces", false},
		{strings.Repeat("a", 65), false},
	} {
		req, err := http.NewRequest(http.MethodGet, a.srv.URL+"/no/such/page", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Request-Id", tt.sent)
		p := a.browser().do(req)
		got := p.res.Header.Get("X-Request-Id")
		if tt.keep && got != tt.sent {
			t.Errorf("%q: id %q; want it kept", tt.sent, got)
		}
		if !tt.keep && (got == tt.sent || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got)) {
			t.Errorf("%q: id %q; want a fresh one of our own", tt.sent, got)
		}
		if !tt.keep && tt.sent != "" && strings.Contains(p.doc.Text(), tt.sent) {
			t.Errorf("%q echoed on the page", tt.sent)
		}
	}
}

func TestPanicBecomes500AndServerKeepsServing(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.web.HandleForTest(http.MethodGet, "/boom", func(echo.Context) error { panic("kaboom: a secret detail") })
	p := a.browser().get("/boom")
	if p.status() != http.StatusInternalServerError {
		t.Fatalf("/boom = %d; want 500", p.status())
	}
	if got := p.text("[data-testid=error] h1"); got != "Something went wrong" {
		t.Errorf("heading = %q", got)
	}
	rid := p.res.Header.Get("X-Request-Id")
	if rid == "" || !strings.Contains(p.text("[data-testid=error] code"), rid) {
		t.Errorf("page does not quote the request id %q", rid)
	}
	if strings.Contains(p.doc.Text(), "kaboom") {
		t.Error("the panic's detail reached the page")
	}
	logs := a.logs.String()
	if !regexp.MustCompile(`msg="panic in handler" request_id=` + regexp.QuoteMeta(rid) + ` panic="kaboom`).MatchString(logs) {
		t.Errorf("panic not logged with its request id:\n%s", logs)
	}
	if code, _, body := get(t, a.srv.URL+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("after the panic /healthz = %d %q", code, body)
	}
	if !strings.Contains(a.metrics(), `tandem_http_requests_total{method="GET",route="/boom",status="500"} 1`) {
		t.Error("the panic's 500 was not counted")
	}
}

// TestRenderErrorBecomes500: a component that fails half-way must not leave
// half a page behind; the buffer is dropped and the 500 page sent instead.
func TestRenderErrorBecomes500(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	broken := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, _ = io.WriteString(w, "<p>half a page</p>")
		return errors.New("template exploded")
	})
	a.web.HandleForTest(http.MethodGet, "/broken", func(c echo.Context) error {
		return a.web.RenderForTest(c, http.StatusOK, broken)
	})
	p := a.browser().get("/broken")
	if p.status() != http.StatusInternalServerError || strings.Contains(p.doc.Text(), "half a page") {
		t.Errorf("/broken = %d with %q; want a clean 500 page", p.status(), p.text("main"))
	}
	if !strings.Contains(a.logs.String(), "template exploded") {
		t.Error("render error not logged")
	}
}

func TestNotFoundPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	p := a.browser().get("/no/such/page")
	if p.status() != http.StatusNotFound || p.text("[data-testid=error] h1") != "Page not found" {
		t.Errorf("unknown page: %d %q; want the 404 page", p.status(), p.text("h1"))
	}
	if !p.has("link[rel=stylesheet]") {
		t.Error("404 page is not in the layout")
	}
}

func TestSecurityHeadersAndStatic(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	p := a.browser().get("/login")
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
	} {
		if got := p.res.Header.Get(h); got != want {
			t.Errorf("%s = %q; want %q", h, got, want)
		}
	}
	if csp := p.res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	css := p.doc.Find("link[rel=stylesheet]").AttrOr("href", "")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{12}\.css$`).MatchString(css) {
		t.Fatalf("stylesheet URL %q is not content-hashed", css)
	}
	code, h, body := get(t, a.srv.URL+css)
	if code != 200 || !strings.Contains(h.Get("Cache-Control"), "immutable") || !strings.Contains(body, "--brand") {
		t.Errorf("GET %s = %d, Cache-Control %q", css, code, h.Get("Cache-Control"))
	}
	if code, _, _ := get(t, a.srv.URL+"/static/css/app.css"); code != 404 {
		t.Errorf("unhashed stylesheet = %d; want 404", code)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tests := []struct {
		name string
		cfg  web.Config
	}{
		{"no pool", web.Config{SecretKey: secretKey, BaseURL: "http://x.test"}},
		{"short key", web.Config{Pool: a.pool, SecretKey: secretKey[:16], BaseURL: "http://x.test"}},
		{"relative base URL", web.Config{Pool: a.pool, SecretKey: secretKey, BaseURL: "/app"}},
		{"ftp base URL", web.Config{Pool: a.pool, SecretKey: secretKey, BaseURL: "ftp://x.test"}},
	}
	for _, tt := range tests {
		if _, err := web.New(tt.cfg); err == nil {
			t.Errorf("%s: New accepted it", tt.name)
		}
	}
}

func TestLargeBodyRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	p := a.browser().post("/login", url.Values{"email": {strings.Repeat("a", 100<<10)}})
	if p.status() != http.StatusRequestEntityTooLarge {
		t.Errorf("100 KiB form = %d; want 413", p.status())
	}
}
