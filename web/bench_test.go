package web_test

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkDashboard measures a logged-in dashboard request through the
// whole stack: session row, user, memberships and connections from
// Postgres, templ rendering, over loopback HTTP.
func BenchmarkDashboard(b *testing.B) {
	a := newApp(b)
	a.signUp("Shop", "me@shop.example")
	br := a.browser()
	if p := br.logIn("me@shop.example", "a good password"); p.path() != "/dashboard" {
		b.Fatalf("log-in landed at %s", p.path())
	}
	b.ReportAllocs()
	for b.Loop() {
		// A new request each time: the client adds the jar's cookies to it.
		req, err := http.NewRequest(http.MethodGet, a.srv.URL+"/dashboard", nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := br.c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
