package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
	"github.com/tandemsync/tandem/web"
	"github.com/tandemsync/tandem/web/onboard"
)

// devStack is `tandem dev` in a test: both sandboxes seeded and served over
// HTTP, their OAuth clients knowing Tandem's redirect URIs, and a Tandem
// web server whose provider URLs point at them.
type devStack struct {
	tandem *httptest.Server
	ls     *lssandbox.Server
	sf     *sfsandbox.Server
	logs   *syncBuffer
	// worker runs the sync streams, as `tandem dev` does.
	worker *river.Client[pgx.Tx]
	// pool is Tandem's database; lsURL and sfURL the sandboxes' addresses.
	pool         *pgxpool.Pool
	lsURL, sfURL string
}

func newDevStack(t *testing.T) *devStack {
	t.Helper()
	const clientID, clientSecret = "tandem-dev", "tandem-dev-secret"
	seed := int64(42)
	d := &devStack{logs: &syncBuffer{}}
	d.ls = lssandbox.New(lssandbox.Options{ClientID: clientID, ClientSecret: clientSecret,
		Seed: &lssandbox.SeedOptions{Seed: seed, Shops: 3, Customers: 20, Sales: 20}})
	d.sf = sfsandbox.New(sfsandbox.Options{ClientID: clientID, ClientSecret: clientSecret, Seed: &seed})
	lsSrv := httptest.NewServer(d.ls)
	t.Cleanup(lsSrv.Close)
	sfSrv := httptest.NewServer(d.sf)
	t.Cleanup(sfSrv.Close)
	t.Cleanup(d.sf.Close)
	d.lsURL, d.sfURL = lsSrv.URL, sfSrv.URL

	// Tandem's address must be known before it is built: its redirect
	// URIs are registered with the sandboxes and it is its BaseURL.
	d.tandem = httptest.NewUnstartedServer(nil)
	t.Cleanup(d.tandem.Close)
	base := "http://" + d.tandem.Listener.Addr().String()
	d.ls.AddRedirectURI(base + "/connect/lightspeed/callback")
	d.sf.AddRedirectURI(base + "/connect/salesforce/callback")

	pool := dbtest.New(t)
	d.pool = pool
	providers := connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: clientID, ClientSecret: clientSecret,
			AuthURL: lsSrv.URL, APIURL: lsSrv.URL},
		Salesforce: connect.SalesforceProvider{ClientID: clientID, ClientSecret: clientSecret,
			ProductionLoginURL: sfSrv.URL, SandboxLoginURL: sfSrv.URL},
	}
	keys, err := vault.NewKeyRing(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(pool, keys)
	limits := lightspeed.NewLimits(lightspeed.LimitsOptions{Store: connect.NewBuckets(pool)})
	s, err := web.New(web.Config{
		Pool:             pool,
		Tenants:          tenants.NewStore(pool, tenants.WithPasswordParams(cheapParams)),
		Logger:           slog.New(slog.NewTextHandler(d.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BaseURL:          base,
		SecretKey:        secretKey,
		Registry:         prometheus.NewRegistry(),
		Providers:        providers,
		Vault:            v,
		LightspeedLimits: limits,
	})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := connect.New(connect.Config{Vault: v, Providers: providers, Limits: limits,
		Transport: func(p string, base http.RoundTripper) http.RoundTripper { return sync.CountingTransport(p, base) }})
	if err != nil {
		t.Fatal(err)
	}
	engine := sync.New(ledger.New(pool), mapping.NewStore(pool), clients, jobs.SetupConfig{Setup: setup.NewStore(pool)},
		nil, sync.Options{Interval: time.Hour, Describes: setup.NewStore(pool)})
	d.worker, err = jobs.NewClient(pool, jobs.Config{Sync: &jobs.SyncConfig{Engine: engine, Interval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.worker.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.worker.Stop(ctx)
	})
	d.tandem.Config.Handler = s.Handler()
	d.tandem.Start()
	return d
}

// newBrowser starts headless Debian chromium with the same flags as the
// account browser test. It fails when chromium is missing unless
// TANDEM_SKIP_BROWSER=1.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("TANDEM_SKIP_BROWSER") == "1" {
			t.Skip("TANDEM_SKIP_BROWSER=1 and chromium is not installed")
		}
		t.Fatalf("%s not found (%v): install Debian's chromium package (apt-get install chromium), or set TANDEM_SKIP_BROWSER=1 to skip this test", chromiumPath, err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// TestBrowserWizard walks the whole onboarding in a real browser against
// both sandboxes: sign up, connect Lightspeed and Salesforce through their
// consent pages, run the setup check and create the fields, choose the
// Custom model (which needs more, created in turn), enable the stores,
// choose the history, and see the dashboard.
func TestBrowserWizard(t *testing.T) {
	t.Parallel()
	d := newDevStack(t)
	// Generous: a cold browser start on a loaded 2-core machine is slow.
	ctx := newBrowser(t, 150*time.Second)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// text reads an element's text without waiting for it: "" when absent.
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("(document.querySelector(%q) || {}).textContent || ''", sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.Join(strings.Fields(v), " ")
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
			t.Fatalf("%s: %v\nat %s:\n%s\nserver log:\n%s", name, err, loc, body, tail(d.logs.String(), 3000))
		}
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
		if err != nil {
			t.Fatalf("count %s: %v", sel, err)
		}
		return n
	}
	path := func() string {
		t.Helper()
		p, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	step("sign up",
		chromedp.Navigate(d.tandem.URL+"/signup"),
		chromedp.WaitVisible(css(`#business_name`)),
		chromedp.SendKeys(css(`#business_name`), "Harbour Bikes"),
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(css(`#password`), "a good password"),
		chromedp.Click(css(`form[action="/signup"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
	)

	// The dashboard walks the merchant through setup from the start.
	if href, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(document.querySelector('[data-testid=setup-next]') || {}).pathname || ''`)); err != nil || href != "/connect/lightspeed" {
		t.Errorf("dashboard's next step after sign-up = %q (%v), want /connect/lightspeed", href, err)
	}

	step("connect Lightspeed",
		chromedp.Click(css(`[data-testid=setup-next]`)),
		chromedp.WaitVisible(css(`[data-testid=connect-page][data-provider=lightspeed] form[data-testid=connect] button`)),
		chromedp.Click(css(`[data-testid=connect-page] form[data-testid=connect] button`)),
		// The sandbox's consent page.
		chromedp.WaitVisible(css(`button[value=authorize]`)),
		chromedp.Click(css(`button[value=authorize]`)),
		chromedp.WaitVisible(css(`[data-testid=connect-page][data-provider=lightspeed][data-state=connected]`)),
	)
	if got := text(".flash.success"); !strings.HasPrefix(got, "Connected to ") {
		t.Errorf("after Lightspeed: flash %q", got)
	}

	step("connect Salesforce",
		chromedp.Navigate(d.tandem.URL+"/dashboard"),
		chromedp.Click(css(`[data-testid=setup-next]`)),
		chromedp.WaitVisible(css(`form[data-testid=salesforce-environment]`)),
		chromedp.Click(css(`input[name=environment][value=production]`)),
		chromedp.Click(css(`form[data-testid=salesforce-environment] button[type=submit]`)),
		chromedp.WaitVisible(css(`button.allow`)),
		chromedp.Click(css(`button.allow`)),
		chromedp.WaitVisible(css(`[data-testid=connect-page][data-provider=salesforce][data-state=connected]`)),
	)
	if got := text(".flash.success"); !strings.HasPrefix(got, "Connected to ") {
		t.Errorf("after Salesforce: flash %q", got)
	}

	// The connect page leads on with Next, to the data model (step 3),
	// which comes before the setup check that depends on it.
	if count(`[data-testid=connect-next]`) != 1 {
		t.Errorf("connected Salesforce page has no Next: %q", text(`main`))
	}
	step("choose the custom model",
		chromedp.Click(css(`[data-testid=connect-next]`)),
		chromedp.WaitVisible(css(`[data-testid=model-form]`)),
		chromedp.Click(css(`input[name=model][value=custom]`)),
		chromedp.Click(css(`input[name=customer][value=contact]`)),
		chromedp.Click(css(`[data-testid=model-form] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=create-fields]`)),
	)
	// Step 4: the setup check lists what the Custom model needs; Create
	// them for me.
	if p := path(); p != "/setup/salesforce-fields" || count(`tr[data-key=Lightspeed_Sale__c][data-status=missing]`) != 1 {
		t.Errorf("after choosing custom: at %s, sale object missing: %d", p, count(`tr[data-key=Lightspeed_Sale__c][data-status=missing]`))
	}
	custom := len(mapping.RequiredFor(setup.ModelCustom))
	step("create the custom objects",
		chromedp.Click(css(`[data-testid=create-fields]`)),
		chromedp.WaitVisible(css(`[data-testid=check-complete]`)),
	)
	if got := count(`tr[data-status=present]`); got != custom {
		t.Errorf("custom model: %d of %d present", got, custom)
	}

	// Step 5: every seeded shop, flagged new until saved.
	step("locations",
		chromedp.Click(css(`[data-testid=next-step]`)),
		chromedp.WaitVisible(css(`[data-testid=locations-form]`)),
	)
	shops, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid=locations-form] input[name=enabled]')).map(e => e.value)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(shops) != 3 || count(`[data-testid=new-badge]`) != 3 {
		t.Errorf("locations page: shops %v, %d new", shops, count(`[data-testid=new-badge]`))
	}
	for _, id := range shops {
		step("enable shop "+id, chromedp.Click(css(fmt.Sprintf(`[data-shop=%q] input[name=enabled]`, id))))
	}
	step("save locations",
		chromedp.Click(css(`[data-testid=locations-form] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=history-form]`)),
	)

	// Step 6: history, and setup is complete.
	step("history",
		chromedp.Click(css(`input[name=history][value="30d"]`)),
		chromedp.Click(css(`[data-testid=history-form] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
	)
	if p := path(); p != "/dashboard" || !strings.Contains(text(".flash.success"), "Setup is complete") {
		t.Errorf("after history: at %s, flash %q", p, text(".flash"))
	}

	// The dashboard: both connections, and every location with its sync
	// turned on (not "synced": nothing has run yet).
	for _, p := range []string{"lightspeed", "salesforce"} {
		if count(fmt.Sprintf(`[data-testid=connection-card][data-provider=%s][data-state=connected]`, p)) != 1 {
			t.Errorf("dashboard: %s not shown connected: %q", p, text(`main`))
		}
	}
	if got := count(`[data-testid=location]`); got != 3 {
		t.Errorf("dashboard lists %d locations, want 3", got)
	}
	if got := count(`[data-testid=location-status].enabled`); got != 3 || strings.Contains(text(`[data-testid=locations]`), "synced") {
		t.Errorf("dashboard locations: %q", text(`[data-testid=locations]`))
	}
	if count(`[data-testid=location-new]`) != 0 {
		t.Error("dashboard still flags saved shops new")
	}
	if count(`[data-testid=setup-progress] [data-done=true]`) != len(onboard.Steps()) || count(`[data-testid=setup-complete]`) != 1 {
		t.Errorf("dashboard setup progress not complete: %q", text(`[data-testid=setup-progress]`))
	}

	// Nothing has synced yet; Sync now runs the streams, and the dashboard
	// then says what each did.
	if got := count(`[data-testid=stream]`); got != 2+3 {
		t.Errorf("dashboard lists %d streams, want 2 customer streams and a sales stream per store: %q", got, text(`[data-testid=sync]`))
	}
	// Streams are due as soon as setup makes them, so the scheduler may
	// already be running them: "synced" may show only for a finished run.
	finished := func(stream, action string) int {
		var n int
		if err := d.pool.QueryRow(t.Context(), `SELECT count(*) FROM sync_runs r WHERE r.stream = $1 AND r.status <> 'running'
			AND ($2 = '' OR EXISTS (SELECT 1 FROM sync_events e WHERE e.tenant_id = r.tenant_id AND e.run_id = r.id AND e.action = $2))`,
			stream, action).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if strings.Contains(text(`[data-testid=sync]`), "synced") && finished("customers:ls→sf", "")+finished("customers:sf→ls", "") == 0 {
		t.Errorf("the sync section says synced before any run: %q", text(`[data-testid=sync]`))
	}
	step("sync now", chromedp.Click(css(`[data-testid=sync-now]`)), chromedp.WaitVisible(css(`.flash.success`)))
	// The streams were due as soon as setup made them, so the scheduler may
	// have started a run before the click; Sync now then runs them again
	// after it. Either way the customers reach Salesforce, and the dashboard
	// says what the stream's last run did.
	customers := `[data-testid=stream][data-stream="customers:ls→sf"]`
	synced := func() bool {
		state := text(customers + ` [data-testid=stream-state]`)
		return strings.Contains(state, "synced") && !strings.Contains(state, "running") &&
			finished("customers:ls→sf", ledger.ActionCreated) > 0 && count(customers+` [data-action]`) > 0
	}
	for deadline := time.Now().Add(60 * time.Second); !synced(); {
		if time.Now().After(deadline) {
			t.Fatalf("no customers created after Sync now: %q", text(`[data-testid=sync]`))
		}
		time.Sleep(300 * time.Millisecond)
		// A reload now and then fails in the driver ("Not attached to an
		// active page") while the page is being replaced: that is Chrome's
		// DevTools, not the dashboard, so it is tried again before failing.
		for try := 1; ; try++ {
			err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid=sync]`)))
			if err == nil {
				break
			}
			if try == 3 {
				step("reload the dashboard", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid=sync]`)))
				break
			}
			t.Logf("reload the dashboard (try %d): %v", try, err)
			time.Sleep(200 * time.Millisecond)
		}
	}

	// The org really holds what Tandem created.
	stats := d.sf.Stats()
	var toolingCreates int
	for _, c := range stats.Calls {
		if strings.HasPrefix(c.Resource, "tooling/sobjects/") && c.Method == "POST" {
			toolingCreates += c.Count
		}
	}
	if toolingCreates == 0 {
		t.Errorf("no Tooling API creates recorded: %+v", stats.Calls)
	}
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
