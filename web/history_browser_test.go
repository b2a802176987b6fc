package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/web"
)

// syncWorld is both sandboxes and the engine for one tenant, with a River
// worker running retries, as `tandem dev` has them.
type syncWorld struct {
	lsSrv *lssandbox.Server
	sfSrv *sfsandbox.Server
	lsURL string
	sfURL string
}

func (w *syncWorld) Lightspeed(context.Context, string) (*lightspeed.Client, error) {
	tp := w.lsSrv.MintToken()
	return lightspeed.NewClient(&http.Client{Transport: sync.CountingTransport(sync.ProviderLightspeed, nil)},
		lightspeed.Options{BaseURL: w.lsURL, AccountID: int64(tp.AccountID), ClientID: "tandem-dev",
			Tokens: lightspeed.StaticToken{AccessToken: tp.AccessToken, TokenType: "Bearer"}})
}

func (w *syncWorld) Salesforce(context.Context, string) (*salesforce.Client, error) {
	tr := w.sfSrv.MintToken(w.sfURL)
	return salesforce.NewClient(&http.Client{Transport: sync.CountingTransport(sync.ProviderSalesforce, nil)},
		salesforce.Token{AccessToken: tr.AccessToken, InstanceURL: tr.InstanceURL, ID: tr.ID})
}

// TestBrowserFixRefusedCustomer: a merchant finds, from the dashboard, the
// customer Salesforce refused with Salesforce's own reason, fixes it in
// Lightspeed, retries it and sees it synced; then resets a location to a
// date, confirming first.
func TestBrowserFixRefusedCustomer(t *testing.T) {
	t.Parallel()
	sw := &syncWorld{
		lsSrv: lssandbox.New(lssandbox.Options{Seed: &lssandbox.SeedOptions{Seed: 7, Shops: 1, Customers: 8, Sales: -1},
			BucketSize: 1e6, DripRate: 1e6, Burst: 1e6}),
		sfSrv: sfsandbox.New(sfsandbox.Options{}),
	}
	t.Cleanup(sw.sfSrv.Close)
	lsHTTP, sfHTTP := httptest.NewServer(sw.lsSrv), httptest.NewServer(sw.sfSrv)
	t.Cleanup(lsHTTP.Close)
	t.Cleanup(sfHTTP.Close)
	sw.lsURL, sw.sfURL = lsHTTP.URL, sfHTTP.URL
	for _, f := range []sfsandbox.FieldSpec{
		{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 20, ExternalID: true, Unique: true},
		{Name: "Lightspeed_Created_Date__c", Type: "DateTime"},
		{Name: "Lightspeed_Customer_Type__c", Type: "Text", Length: 80},
	} {
		if err := sw.sfSrv.AddCustomField("Contact", f); err != nil {
			t.Fatal(err)
		}
	}

	var worker *river.Client[pgx.Tx]
	a := newApp(t, func(cfg *web.Config) {
		l := ledger.New(cfg.Pool)
		engine := sync.New(l, mapping.NewStore(cfg.Pool), sw, sync.ConfigFunc(func(context.Context, string) (sync.TenantConfig, error) {
			return sync.TenantConfig{Preset: mapping.PresetClassic, Shops: map[string]sync.Shop{"1": {Name: "Harbour Bikes – Downtown", Enabled: true}}}, nil
		}), nil, sync.Options{})
		var err error
		worker, err = jobs.NewClient(cfg.Pool, jobs.Config{Sync: &jobs.SyncConfig{Engine: engine, Interval: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Jobs = worker
	})
	ctx := t.Context()
	tn, _ := a.signUp("Harbour Bikes", "owner@harbour.example")
	l := ledger.New(a.pool)
	cust := ledger.StreamKey{TenantID: tn.ID, Stream: ledger.CustomersToSalesforce}
	shop := ledger.StreamKey{TenantID: tn.ID, Stream: ledger.SalesToSalesforce, Location: "1"}
	if err := l.EnsureStreams(ctx, tn.ID, []ledger.StreamKey{cust, shop}); err != nil {
		t.Fatal(err)
	}
	completed, cancel := worker.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = worker.Stop(context.WithoutCancel(ctx)) })

	// A customer whose email Salesforce refuses, synced by a scheduled run.
	ls, err := sw.Lightspeed(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	var bad lightspeed.Customer
	for c, err := range ls.Customers.ListIter(ctx, lightspeed.NewQuery().LoadRelations("Contact")) {
		if err != nil {
			t.Fatal(err)
		}
		if !c.Archived {
			bad = c
			break
		}
	}
	setEmail := func(email string) {
		t.Helper()
		if _, _, err := ls.Customers.Update(ctx, bad.CustomerID, lightspeed.CustomerWrite{Contact: &lightspeed.ContactWrite{
			Emails: []lightspeed.ContactEmail{{Address: email, UseType: "Primary"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	setEmail("frontdesk@localhost")
	engine := sync.New(l, mapping.NewStore(a.pool), sw, sync.ConfigFunc(func(context.Context, string) (sync.TenantConfig, error) {
		return sync.TenantConfig{Preset: mapping.PresetClassic}, nil
	}), nil, sync.Options{})
	if _, err := engine.Run(ctx, cust, ledger.TriggerSchedule); err != nil {
		t.Fatal(err)
	}
	lsID := strconv.FormatInt(bad.CustomerID, 10)

	b := newTab(t)
	b.step("log in and open the sync history from the dashboard",
		chromedp.Navigate(a.srv.URL+"/login"),
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(css(`#password`), "a good password"),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=sync]`)),
		chromedp.Click(css(`a[href="/history"]`)),
		chromedp.WaitVisible(css(`[data-testid=runs]`)),
	)
	if got := b.text(`[data-testid=runs] tbody`); !strings.Contains(got, "1 failed") {
		t.Errorf("the runs: %q", got)
	}
	b.step("find the refused customer",
		chromedp.Click(css(`[data-testid=failures-link]`)),
		chromedp.WaitVisible(css(`[data-testid=failures] [data-testid=event]`)),
	)
	row := `[data-testid=event][data-ls-id="` + lsID + `"]`
	if got := b.text(row + ` [data-testid=event-code]`); got != "INVALID_EMAIL_ADDRESS" {
		t.Errorf("code shown: %q", got)
	}
	if got := b.text(row + ` [data-testid=event-message]`); !strings.Contains(got, "invalid email address: frontdesk@localhost") {
		t.Errorf("Salesforce's message: %q", got)
	}
	if got := b.text(row + ` [data-testid=event-advice]`); !strings.Contains(got, "Correct it in Lightspeed") {
		t.Errorf("advice: %q", got)
	}

	// Fixed in Lightspeed, then retried from the list.
	setEmail("frontdesk@harbour.example")
	b.step("retry it", chromedp.Click(css(row+` [data-testid=retry]`)), chromedp.WaitVisible(css(`.flash.success`)))
	for done := false; !done; {
		select {
		case ev := <-completed:
			if ev.Job.Kind != "sync_retry" {
				continue // housekeeping
			}
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("the retry job ended %s: %v", ev.Kind, ev.Job.Errors)
			}
			done = true
		case <-time.After(60 * time.Second):
			t.Fatal("the retry job did not finish within 60 s")
		}
	}
	b.step("the failure is gone", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid=no-failures]`)))
	b.step("the retry run created it",
		chromedp.Navigate(a.srv.URL+"/history?q="+lsID),
		chromedp.WaitVisible(css(`[data-testid=search-results]`)),
	)
	if got := b.text(`[data-testid=event] [data-testid=event-action]`); got != "created" {
		t.Errorf("newest event of the customer: %q", got)
	}
	if n := len(sw.sfSrv.Stats().Calls); n == 0 {
		t.Error("Salesforce saw no call")
	}

	// Reset the location to a date: confirmed, then done.
	cursorOf := func() string {
		pos, _, err := l.Cursor(ctx, shop)
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	// The shop's stream runs on its own from the start; read its cursor
	// once its first run has finished, so only the reset can move it.
	for deadline := time.Now().Add(60 * time.Second); ; {
		st, err := l.Stream(ctx, shop)
		if err != nil {
			t.Fatal(err)
		}
		if st.LastRun != nil && st.LastRun.Status != ledger.RunRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shop's stream never finished a run")
		}
		time.Sleep(100 * time.Millisecond)
	}
	before := cursorOf()
	b.step("reset a location",
		chromedp.Navigate(a.srv.URL+"/history"),
		chromedp.Click(css(`[data-testid=reset-link]`)),
		chromedp.WaitVisible(css(`#stream`)),
		chromedp.SetValue(css(`#stream`), ledger.SalesToSalesforce+"@1"),
		chromedp.SetValue(css(`#date`), "2026-01-15"),
		chromedp.Click(css(`[data-testid=reset-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=reset-confirm]`)),
	)
	if got := b.text(`[data-testid=reset-confirm-text]`); !strings.Contains(got, "Harbour Bikes – Downtown") && !strings.Contains(got, "Shop 1") {
		t.Errorf("confirmation: %q", got)
	}
	if cursorOf() != before {
		t.Fatal("the cursor moved before the reset was confirmed")
	}
	b.step("confirm", chromedp.Click(css(`[data-testid=reset-confirm]`)), chromedp.WaitVisible(css(`.flash.success`)))
	if n := a.count("cursors", "tenant_id = $1 AND location = '1' AND position::jsonb->>'updated_at' = '2026-01-15T00:00:00Z'", tn.ID); n != 1 {
		t.Error("the location's cursor was not reset to 2026-01-15")
	}
	if n := a.count("audit_log", "tenant_id = $1 AND action IN ('sync.retry', 'sync.reset')", tn.ID); n != 2 {
		t.Errorf("%d audit entries for the retry and the reset, want 2", n)
	}
}
