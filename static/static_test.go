package static

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestPathAndHandler(t *testing.T) {
	t.Parallel()
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := a.Path("css/app.css")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{12}\.css$`).MatchString(p) {
		t.Fatalf("Path(css/app.css) = %q; want a hashed name below /static/", p)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	tests := []struct {
		path      string
		status    int
		ctype     string
		immutable bool
	}{
		{p, 200, "text/css; charset=utf-8", true},
		{a.Path("img/logo.svg"), 200, "image/svg+xml", true},
		{"/static/css/app.css", 404, "", false},
		{"/static/css/app.000000000000.css", 404, "", false},
		{a.Path("css/nope.css"), 404, "", false},
	}
	for _, tt := range tests {
		res, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status {
			t.Errorf("GET %s = %d; want %d", tt.path, res.StatusCode, tt.status)
			continue
		}
		if tt.status != 200 {
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("GET %s Content-Type = %q; want %q", tt.path, got, tt.ctype)
		}
		if got := res.Header.Get("Cache-Control"); tt.immutable != strings.Contains(got, "immutable") {
			t.Errorf("GET %s Cache-Control = %q", tt.path, got)
		}
		if len(body) == 0 {
			t.Errorf("GET %s: empty body", tt.path)
		}
	}
}

func TestHashFollowsContent(t *testing.T) {
	t.Parallel()
	a1, err := load(fstest.MapFS{"css/x.css": {Data: []byte("a{}")}})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := load(fstest.MapFS{"css/x.css": {Data: []byte("b{}")}})
	if err != nil {
		t.Fatal(err)
	}
	if a1.Path("css/x.css") == a2.Path("css/x.css") {
		t.Errorf("different content, same URL %q", a1.Path("css/x.css"))
	}
}

func TestHandlerRejectsWrites(t *testing.T) {
	t.Parallel()
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, a.Path("css/app.css"), nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d; want 405", rec.Code)
	}
}
