package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/tandemsync/tandem/web"
)

func TestSignUp(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := a.browser()
	p := b.signUpVia("Harbour Bikes", "Owner@Harbour.Example", "ten chars!")
	if p.status() != http.StatusOK || p.path() != "/dashboard" {
		t.Fatalf("after sign-up: %d at %s; want 200 at /dashboard", p.status(), p.path())
	}
	if got := p.text("[data-testid=tenant-name]"); got != "Harbour Bikes" {
		t.Errorf("tenant name = %q", got)
	}
	var got []string
	p.doc.Find(".connections li").Each(func(_ int, s *goquery.Selection) { got = append(got, strings.Join(strings.Fields(s.Text()), " ")) })
	if diff := cmp.Diff([]string{"Lightspeed: not connected", "Salesforce: not connected"}, got); diff != "" {
		t.Errorf("connections (-want +got):\n%s", diff)
	}
	if msg := p.text(".flash.success"); !strings.Contains(msg, "Welcome to Tandem") {
		t.Errorf("flash = %q; want a welcome", msg)
	}
	if p.has("[data-testid=switcher]") {
		t.Error("switcher shown to a member of one tenant")
	}
	if got := p.text("[data-testid=viewer]"); got != "owner@harbour.example · Harbour Bikes" {
		t.Errorf("header viewer = %q", got)
	}
	// The flash shows once.
	if again := b.get("/dashboard"); again.has(".flash") {
		t.Errorf("flash shown twice: %q", again.text(".flash"))
	}
	if n := a.count("users", "email = 'owner@harbour.example'"); n != 1 {
		t.Errorf("users = %d; want 1", n)
	}
}

func TestSignUpErrors(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Existing", "taken@shop.example")
	tests := []struct {
		name, business, email, password string
		want                            map[string]string // field → error shown
	}{
		{"duplicate email", "Second Shop", "Taken@Shop.example", "a good password", map[string]string{
			"email": "An account with this email already exists. Log in instead, or use another email.",
		}},
		{"short password", "Second Shop", "new@shop.example", "123456789", map[string]string{
			"password": "Use at least 10 characters.",
		}},
		{"common password", "Second Shop", "new@shop.example", "password12", map[string]string{
			"password": "This password is too easy to guess: it is a common password, or repeats or runs along characters. Try a few unrelated words.",
		}},
		{"repeated password", "Second Shop", "new@shop.example", "aaaaaaaaaa", map[string]string{
			"password": "This password is too easy to guess: it is a common password, or repeats or runs along characters. Try a few unrelated words.",
		}},
		{"text-direction override in name", "Shop \u202Egnp.exe", "new@shop.example", "a good password", map[string]string{
			"business_name": "Remove the invisible text-direction characters from the name (they are often pasted in by accident).",
		}},
		{"blank fields", "", " ", "", map[string]string{
			"business_name": "Enter your business name.",
			"email":         "Enter your email address.",
			"password":      "Choose a password of at least 10 characters.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := a.browser().signUpVia(tt.business, tt.email, tt.password)
			if p.status() != http.StatusUnprocessableEntity || p.path() != "/signup" {
				t.Fatalf("status %d at %s; want 422 at /signup", p.status(), p.path())
			}
			got := map[string]string{}
			p.doc.Find("[data-field-error]").Each(func(_ int, s *goquery.Selection) {
				got[s.AttrOr("data-field-error", "")] = s.Text()
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			for field := range tt.want {
				if inv := p.doc.Find("#"+field).AttrOr("aria-invalid", ""); inv != "true" {
					t.Errorf("input %s aria-invalid = %q; want true", field, inv)
				}
			}
			if v := p.doc.Find("#business_name").AttrOr("value", "?"); v != tt.business {
				t.Errorf("business name refilled as %q; want %q", v, tt.business)
			}
			if _, ok := p.doc.Find("#password").Attr("value"); ok {
				t.Error("password echoed back into the form")
			}
		})
	}
	t.Cleanup(func() {
		if n := a.count("tenants", "true"); n != 1 {
			t.Errorf("tenants = %d after refused sign-ups; want 1", n)
		}
	})
}

func TestLogIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	tests := []struct {
		name, email, password string
		status                int
		path, errMsg          string
	}{
		{"ok", " ME@shop.example", "a good password", 200, "/dashboard", ""},
		{"wrong password", "me@shop.example", "a bad password", 401, "/login", "Incorrect email or password."},
		{"unknown email", "nobody@shop.example", "a good password", 401, "/login", "Incorrect email or password."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := a.browser().logIn(tt.email, tt.password)
			if p.status() != tt.status || p.path() != tt.path {
				t.Fatalf("status %d at %s; want %d at %s", p.status(), p.path(), tt.status, tt.path)
			}
			if got := p.text("[data-testid=form-error]"); got != tt.errMsg {
				t.Errorf("form error = %q; want %q", got, tt.errMsg)
			}
			if tt.errMsg != "" && p.doc.Find("#email").AttrOr("value", "") != tt.email {
				t.Errorf("email not refilled")
			}
		})
	}
}

// TestSignUpRateLimited: one address may create ten accounts an hour.
func TestSignUpRateLimited(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := a.browser()
	for i := range 10 {
		if p := b.signUpVia("Shop", fmt.Sprintf("me%d@shop.example", i), "a good password"); p.path() != "/dashboard" {
			t.Fatalf("sign-up %d: %d at %s", i+1, p.status(), p.path())
		}
		b.submit(b.get("/dashboard"), "form[action='/logout']", nil)
	}
	p := b.signUpVia("Shop", "me10@shop.example", "a good password")
	if p.status() != http.StatusTooManyRequests {
		t.Fatalf("eleventh sign-up: %d; want 429", p.status())
	}
	if got := p.text("[data-testid=form-error]"); got != "Too many sign-ups from your network, try again in 60 minutes." {
		t.Errorf("message = %q", got)
	}
	if p.doc.Find("#email").AttrOr("value", "") != "me10@shop.example" {
		t.Error("email not refilled")
	}
	if n := a.count("tenants", "true"); n != 10 {
		t.Errorf("tenants = %d; want 10", n)
	}
}

func TestLogInThrottled(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	b := a.browser()
	for i := range 5 {
		if p := b.logIn("me@shop.example", "wrong password"); p.status() != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d; want 401", i+1, p.status())
		}
	}
	// The store's clock stands still, so the whole 15-minute window is left.
	p := b.logIn("me@shop.example", "a good password")
	if p.status() != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt: %d; want 429", p.status())
	}
	if got, want := p.text("[data-testid=form-error]"), "Too many attempts, try again in 15 minutes."; got != want {
		t.Errorf("message = %q; want %q", got, want)
	}
	if got := p.res.Header.Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After = %q; want 900", got)
	}
	a.clock.mu.Lock()
	a.clock.now = a.clock.now.Add(15 * time.Minute)
	a.clock.mu.Unlock()
	if p := b.logIn("me@shop.example", "a good password"); p.path() != "/dashboard" {
		t.Errorf("after the window: %d at %s; want the dashboard", p.status(), p.path())
	}
	if logs := a.logs.String(); strings.Contains(logs, "wrong password") || strings.Contains(logs, "a good password") {
		t.Errorf("a password reached the logs:\n%s", logs)
	}
}

func TestLogOut(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, u := a.signUp("Shop", "me@shop.example")
	b := a.browser()
	dash := b.logIn("me@shop.example", "a good password")
	if dash.path() != "/dashboard" {
		t.Fatalf("log-in landed at %s", dash.path())
	}
	loggedIn := *b.cookie("tandem_session")
	if n := a.count("web_sessions", "user_id = $1", u.ID); n != 1 {
		t.Fatalf("sessions for the user = %d; want 1", n)
	}

	p := b.submit(dash, "form[action='/logout']", nil)
	if p.path() != "/login" || p.text(".flash.info") != "You have been logged out." {
		t.Fatalf("after log-out: %s with flash %q", p.path(), p.text(".flash"))
	}
	if n := a.count("web_sessions", "user_id = $1", u.ID); n != 0 {
		t.Errorf("sessions for the user after log-out = %d; want 0", n)
	}
	if p := b.get("/dashboard"); p.path() != "/login?next=%2Fdashboard" {
		t.Errorf("dashboard after log-out: at %s; want the log-in page", p.path())
	}
	// The old cookie, replayed, is worthless.
	thief := a.browser()
	u2, _ := url.Parse(a.srv.URL)
	thief.c.Jar.SetCookies(u2, []*http.Cookie{{Name: loggedIn.Name, Value: loggedIn.Value}})
	if p := thief.get("/dashboard"); !strings.HasPrefix(p.path(), "/login") {
		t.Errorf("replayed session cookie reached %s", p.path())
	}
}

// TestLogInGivesFreshSession: a session that existed before log-in (here,
// the anonymous one carrying the log-out flash) is deleted at log-in, and the
// logged-in session has another id.
func TestLogInGivesFreshSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	b := a.browser()
	b.submit(b.logIn("me@shop.example", "a good password"), "form[action='/logout']", nil)
	before := b.cookie("tandem_session")
	if before == nil {
		t.Fatal("no session cookie after log-out")
	}
	rowsBefore := a.count("web_sessions", "true")
	b.logIn("me@shop.example", "a good password")
	after := b.cookie("tandem_session")
	if after == nil || after.Value == before.Value {
		t.Fatalf("session cookie unchanged by log-in")
	}
	if n := a.count("web_sessions", "true"); n != rowsBefore {
		t.Errorf("sessions after log-in = %d; want %d (old row replaced, not kept)", n, rowsBefore)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"http://tandem.test", "https://tandem.example"} {
		a := newApp(t, func(c *web.Config) { c.BaseURL = base })
		b := a.browser()
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		p := b.signUpVia("Shop", "me@shop.example", "a good password")
		if p.status() != http.StatusSeeOther {
			t.Fatalf("%s: sign-up answered %d; want 303", base, p.status())
		}
		var sess *http.Cookie
		for _, c := range p.res.Cookies() {
			if c.Name == "tandem_session" {
				sess = c
			}
		}
		if sess == nil {
			t.Fatalf("%s: no session cookie set at sign-up", base)
		}
		wantSecure := strings.HasPrefix(base, "https")
		if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure != wantSecure {
			t.Errorf("%s: cookie HttpOnly=%v SameSite=%v Secure=%v; want true, Lax, %v", base, sess.HttpOnly, sess.SameSite, sess.Secure, wantSecure)
		}
		var id string
		if err := a.pool.QueryRow(t.Context(), "SELECT id FROM web_sessions").Scan(&id); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sess.Value, id) {
			t.Errorf("%s: cookie carries the raw session id", base)
		}
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	victim := a.browser()
	victim.logIn("me@shop.example", "a good password")
	attacker := a.browser()
	foreign := attacker.get("/signup").doc.Find("input[name=csrf]").AttrOr("value", "")
	if foreign == "" {
		t.Fatal("no csrf token on the sign-up page")
	}
	signup := url.Values{"business_name": {"Evil"}, "email": {"evil@shop.example"}, "password": {"a good password"}}
	with := func(v url.Values, token string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		out.Set("csrf", token)
		return out
	}
	tests := []struct {
		name string
		b    *browser
		path string
		form url.Values
	}{
		{"sign-up without token", a.browser(), "/signup", signup},
		{"sign-up with wrong token", a.browser(), "/signup", with(signup, "bm90IGEgdG9rZW4")},
		{"sign-up with another browser's token", a.browser(), "/signup", with(signup, foreign)},
		{"log-in without token", a.browser(), "/login", url.Values{"email": {"me@shop.example"}, "password": {"a good password"}}},
		{"log-out without token", victim, "/logout", url.Values{}},
		{"log-out with another browser's token", victim, "/logout", url.Values{"csrf": {foreign}}},
	}
	for _, tt := range tests {
		p := tt.b.post(tt.path, tt.form)
		if p.status() != http.StatusForbidden {
			t.Errorf("%s: %d; want 403", tt.name, p.status())
			continue
		}
		if got := p.text("[data-testid=error] h1"); got != "This form has expired" {
			t.Errorf("%s: page heading %q", tt.name, got)
		}
	}
	if n := a.count("tenants", "name = 'Evil'"); n != 0 {
		t.Error("a forged sign-up created a tenant")
	}
	if p := victim.get("/dashboard"); p.path() != "/dashboard" {
		t.Error("a forged log-out logged the victim out")
	}
}

func TestLogInRedirectsToNext(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	tests := []struct{ next, want string }{
		{"/dashboard", "/dashboard"},
		{"//evil.example/x", "/dashboard"},
		{"https://evil.example/", "/dashboard"},
		{"/\\evil.example", "/dashboard"},
	}
	for _, tt := range tests {
		b := a.browser()
		login := b.get("/login?next=" + url.QueryEscape(tt.next))
		p := b.submit(login, "form[action='/login']", map[string]string{"email": "me@shop.example", "password": "a good password"})
		if p.res.Request.URL.Host != strings.TrimPrefix(a.srv.URL, "http://") || p.path() != tt.want {
			t.Errorf("next=%q: landed at %s; want %s on this site", tt.next, p.res.Request.URL, tt.want)
		}
	}
}

func TestDashboardRequiresLogIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	b := a.browser()
	p := b.get("/dashboard")
	if p.path() != "/login?next=%2Fdashboard" || p.text(".flash.info") != "Log in to continue." {
		t.Fatalf("anonymous dashboard: at %s with %q; want the log-in page asking to continue", p.path(), p.text(".flash.info"))
	}
	p = b.submit(p, "form[action='/login']", map[string]string{"email": "me@shop.example", "password": "a good password"})
	if p.path() != "/dashboard" {
		t.Errorf("after log-in: at %s; want /dashboard", p.path())
	}
	// Logged in, the home page, sign-up and log-in pages lead to the dashboard.
	for _, path := range []string{"/", "/signup", "/login"} {
		if p := b.get(path); p.path() != "/dashboard" {
			t.Errorf("GET %s while logged in: at %s", path, p.path())
		}
	}
	if p := a.browser().get("/"); p.path() != "/login" {
		t.Errorf("GET / anonymously: at %s; want /login", p.path())
	}
}

// TestLogInNextWithControlCharacters checks the raw Location after log-in:
// browsers strip tabs and newlines from it, so "/\t/evil.example" would
// lead to //evil.example, another site.
func TestLogInNextWithControlCharacters(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	for _, next := range []string{"/\t/evil.example", "/\t\\evil.example", "/\x00/x", "/\x7f/x"} {
		b := a.browser()
		login := b.get("/login?next=" + url.QueryEscape(next))
		if login.has("input[name=next]") {
			t.Errorf("next=%q: the log-in form carries it on", next)
		}
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		p := b.post("/login", url.Values{"csrf": {login.doc.Find("input[name=csrf]").AttrOr("value", "")},
			"email": {"me@shop.example"}, "password": {"a good password"}, "next": {next}})
		if got := p.res.Header.Get("Location"); p.status() != http.StatusSeeOther || got != "/dashboard" {
			t.Errorf("next=%q: %d to %q; want 303 to /dashboard", next, p.status(), got)
		}
	}
}

// TestOddBytesInAccountForms sends what Postgres cannot store as text (a
// NUL byte, invalid UTF-8): each is a form error or a failed log-in, never
// a 500.
func TestOddBytesInAccountForms(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signUp("Shop", "me@shop.example")
	signUps := []struct{ name, business, email, field string }{
		{"nul in business name", "Biz\x00Co", "one@shop.example", "business_name"},
		{"invalid utf-8 in business name", "B\xffiz", "two@shop.example", "business_name"},
		{"nul in email", "Biz", "thr\x00ee@shop.example", "email"},
	}
	for _, tt := range signUps {
		p := a.browser().signUpVia(tt.business, tt.email, "a good password")
		if p.status() != http.StatusUnprocessableEntity || !p.has("[data-field-error="+tt.field+"]") {
			t.Errorf("sign-up, %s: status %d, %s error shown %v; want 422 with one", tt.name, p.status(), tt.field, p.has("[data-field-error="+tt.field+"]"))
		}
	}
	if n := a.count("tenants", "true"); n != 1 {
		t.Errorf("tenants = %d after refused sign-ups; want 1", n)
	}
	for _, email := range []string{"me\x00@shop.example", "me@shop.example\x00"} {
		p := a.browser().logIn(email, "a good password")
		if p.status() != http.StatusUnauthorized || p.text("[data-testid=form-error]") != "Incorrect email or password." {
			t.Errorf("log-in as %q: status %d, error %q; want 401 and the generic message", email, p.status(), p.text("[data-testid=form-error]"))
		}
	}
}
