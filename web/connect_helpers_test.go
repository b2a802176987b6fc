package web_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/web"
	"github.com/tandemsync/tandem/web/onboard"
)

// The app under test is reached at this base URL in redirect URIs; tests
// rewrite the provider's redirect to the httptest server.
const testBase = "http://tandem.test"

// signingKey is shared by every Lightspeed sandbox of the run: generating
// an RSA key per test would dominate the package's time.
var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// swap serves whichever handler it holds now: the provider URLs stay put
// while a test moves Tandem to another account's sandbox.
type swap struct{ h atomic.Pointer[http.Handler] }

func (s *swap) set(h http.Handler)                               { s.h.Store(&h) }
func (s *swap) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }

// providers is a running pair of sandboxes behind swappable URLs.
type providers struct {
	ls    *lssandbox.Server
	sf    *sfsandbox.Server
	lsSrv *httptest.Server
	sfSrv *httptest.Server
	lsSw  *swap
	sfSw  *swap
}

func newLightspeedSandbox(accountID int, name string) *lssandbox.Server {
	return lssandbox.New(lssandbox.Options{
		AccountID:    accountID,
		AccountName:  name,
		RedirectURIs: []string{testBase + "/connect/lightspeed/callback"},
		Seed:         &lssandbox.SeedOptions{Seed: 7},
		SigningKey:   signingKey(),
	})
}

func newProviders(t testing.TB) *providers {
	t.Helper()
	p := &providers{lsSw: &swap{}, sfSw: &swap{}}
	p.ls = newLightspeedSandbox(0, "")
	seed := int64(7)
	p.sf = sfsandbox.New(sfsandbox.Options{
		RedirectURIs:   []string{testBase + "/connect/salesforce/callback"},
		PersonAccounts: true,
		Seed:           &seed,
	})
	p.lsSw.set(p.ls)
	p.sfSw.set(p.sf)
	p.lsSrv = httptest.NewServer(p.lsSw)
	p.sfSrv = httptest.NewServer(p.sfSw)
	t.Cleanup(func() {
		p.lsSrv.Close()
		p.sfSrv.Close()
		p.sf.Close()
	})
	return p
}

// config is the providers configuration pointing Tandem at the sandboxes.
func (p *providers) config() connect.Providers {
	return connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret", AuthURL: p.lsSrv.URL, APIURL: p.lsSrv.URL},
		Salesforce: connect.SalesforceProvider{
			ClientID: sfsandbox.DefaultClientID, ClientSecret: sfsandbox.DefaultClientSecret,
			ProductionLoginURL: p.sfSrv.URL, SandboxLoginURL: p.sfSrv.URL,
		},
	}
}

// connectApp is the app wired to a pair of sandboxes, with a clock for the
// OAuth state's expiry.
type connectApp struct {
	*app
	prov  *providers
	clock *clock
}

func newConnectApp(t testing.TB) *connectApp {
	t.Helper()
	prov := newProviders(t)
	clk := &clock{now: time.Now()}
	a := newApp(t, func(c *web.Config) {
		c.BaseURL = testBase
		c.Providers = prov.config()
		c.Now = clk.Now
	})
	return &connectApp{app: a, prov: prov, clock: clk}
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// merchant signs up a tenant and logs its owner in.
func (a *connectApp) merchant(name string) (*browser, string) {
	a.t.Helper()
	email := strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@shop.example"
	tn, _ := a.signUp(name, email)
	b := a.browser()
	b.logIn(email, "a good password")
	return b, tn.ID
}

// startConnect presses the provider's Connect button (Salesforce: with
// env and myDomain) and returns the page the browser lands on: the
// provider's consent page, or Tandem's explanation.
func (b *browser) startConnect(provider string, fields map[string]string) page {
	b.t.Helper()
	p := b.get("/connect/" + provider)
	sel := "form[data-testid=connect]"
	if provider == onboard.Salesforce {
		sel = "form[data-testid=salesforce-environment]"
		if fields == nil {
			fields = map[string]string{"environment": onboard.EnvProduction}
		}
	}
	return b.submit(p, sel, fields)
}

// consent answers the provider's consent page with decision ("authorize"
// or "allow" to grant, "deny") and returns the redirect back to Tandem,
// without following it.
func (b *browser) consent(p page, decision string) *url.URL {
	b.t.Helper()
	form := p.doc.Find("form")
	if form.Length() != 1 {
		b.t.Fatalf("consent page %s: %d forms; body: %.300s", p.res.Request.URL, form.Length(), p.doc.Text())
	}
	v := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		v.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	v.Set("decision", decision)
	action, err := p.res.Request.URL.Parse(form.AttrOr("action", ""))
	if err != nil {
		b.t.Fatal(err)
	}
	nc := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := nc.PostForm(action.String(), v)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound && res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("consent: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	return loc
}

// callback follows the provider's redirect to Tandem.
func (b *browser) callback(loc *url.URL) page {
	b.t.Helper()
	if loc.Host != "tandem.test" {
		b.t.Fatalf("redirect to %s, not to Tandem", loc)
	}
	return b.get(loc.RequestURI())
}

// connect runs a whole successful authorization and returns the page
// Tandem shows after the callback.
func (b *browser) connect(provider string) page {
	b.t.Helper()
	decision := "authorize"
	if provider == onboard.Salesforce {
		decision = "allow"
	}
	p := b.callback(b.consent(b.startConnect(provider, nil), decision))
	if p.status() != http.StatusOK || !p.has("[data-testid=connect-page][data-state=connected]") {
		b.t.Fatalf("connect %s: %d at %s: %s", provider, p.status(), p.path(), strings.Join(strings.Fields(p.doc.Find("main").Text()), " "))
	}
	return p
}

// failureReason is the reason a failure page names, or "".
func (p page) failureReason() string {
	return p.doc.Find("[data-testid=connect-failure]").AttrOr("data-reason", "")
}

// connRow is what the connections table holds for a provider, tokens as
// their sealed bytes.
type connRow struct {
	Status, Account string
	Access, Refresh string
	ConnectedAt     time.Time
	UpdatedAt       time.Time
}

func (a *connectApp) connRow(tenantID, provider string) (connRow, bool) {
	a.t.Helper()
	var r connRow
	var acc, ref []byte
	err := a.pool.QueryRow(context.Background(), `
		SELECT status, external_account, access_token_enc, refresh_token_enc, connected_at, updated_at
		FROM connections WHERE tenant_id = $1 AND provider = $2`, tenantID, provider).
		Scan(&r.Status, &r.Account, &acc, &ref, &r.ConnectedAt, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false
	}
	if err != nil {
		a.t.Fatal(err)
	}
	r.Access, r.Refresh = hex.EncodeToString(acc), hex.EncodeToString(ref)
	return r, true
}

// audit returns tenantID's audit actions, oldest first.
func (a *connectApp) auditActions(tenantID string) []string {
	a.t.Helper()
	rows, err := a.pool.Query(context.Background(), `SELECT action FROM audit_log WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			a.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// userID returns the id of the user with email.
func (a *connectApp) userID(email string) string {
	a.t.Helper()
	var id string
	if err := a.pool.QueryRow(context.Background(), `SELECT id::text FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		a.t.Fatal(err)
	}
	return id
}
