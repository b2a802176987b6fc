package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
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
)

// The production path end to end: River workers and the scheduler run the
// customer streams with vault-backed clients against both sandboxes, while
// both sandboxes expire every token and fail some calls. Every customer
// reaches Salesforce once, and a Salesforce-born contact reaches Lightspeed.
func TestSyncEndToEndThroughRiver(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	keys, err := vault.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(pool, keys)

	ls := lssandbox.New(lssandbox.Options{Seed: &lssandbox.SeedOptions{Seed: 3, Shops: 1, Customers: 150, Sales: -1}})
	lsSrv := httptest.NewServer(ls)
	t.Cleanup(lsSrv.Close)
	sf := sfsandbox.New(sfsandbox.Options{})
	t.Cleanup(sf.Close)
	sfSrv := httptest.NewServer(sf)
	t.Cleanup(sfSrv.Close)
	for _, f := range []sfsandbox.FieldSpec{
		{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 20, ExternalID: true, Unique: true},
		{Name: "Lightspeed_Created_Date__c", Type: "DateTime"},
		{Name: "Lightspeed_Customer_Type__c", Type: "Text", Length: 80},
	} {
		if err := sf.AddCustomField("Contact", f); err != nil {
			t.Fatal(err)
		}
	}

	acct, owner, err := tenants.NewStore(pool).SignUp(ctx, tenants.SignUpParams{BusinessName: "River Run", Email: "owner@river.example", Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	pair := ls.MintToken()
	lsTok := lightspeed.Token{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken, Expiry: time.Now().Add(time.Hour)}
	if err := v.Save(ctx, acct.ID, vault.Lightspeed, connect.LightspeedConnection(lsTok, int64(pair.AccountID), "Demo")); err != nil {
		t.Fatal(err)
	}
	tr := sf.MintToken(sfSrv.URL)
	sfTok := salesforce.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID}
	if err := v.Save(ctx, acct.ID, vault.Salesforce, connect.SalesforceConnection(sfTok, sfSrv.URL, "Org")); err != nil {
		t.Fatal(err)
	}
	st := setup.NewStore(pool)
	if _, err := st.Update(ctx, acct.ID, tenants.Actor{UserID: owner.ID, Email: owner.Email}, func(s *setup.Settings) error {
		s.DataModel, s.History = setup.ModelClassic, setup.HistoryNone
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := jobs.EnsureStreams(ctx, pool, acct.ID); err != nil {
		t.Fatal(err)
	}

	providers := connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret", AuthURL: lsSrv.URL, APIURL: lsSrv.URL},
		Salesforce: connect.SalesforceProvider{ClientID: sfsandbox.DefaultClientID, ClientSecret: sfsandbox.DefaultClientSecret,
			ProductionLoginURL: sfSrv.URL, SandboxLoginURL: sfSrv.URL},
	}
	clients, err := connect.New(connect.Config{Vault: v, Providers: providers,
		Limits:    lightspeed.NewLimits(lightspeed.LimitsOptions{Store: connect.NewBuckets(pool)}),
		Transport: func(p string, base http.RoundTripper) http.RoundTripper { return sync.CountingTransport(p, base) }})
	if err != nil {
		t.Fatal(err)
	}
	engine := sync.New(ledger.New(pool), mapping.NewStore(pool), clients, jobs.SetupConfig{Setup: st}, nil,
		sync.Options{Interval: time.Second})
	client, err := jobs.NewClient(pool, jobs.Config{Sync: &jobs.SyncConfig{Engine: engine, Interval: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	// Faults from the start: expired tokens on both sides, and one call in
	// ten answered 503.
	ls.SetFaults(lssandbox.FaultConfig{ExpireTokens: true, ErrorRate: 0.1, Status: 503, Seed: 5})
	sf.SetFaults(sfsandbox.Faults{ExpireTokens: true, ErrorRate: 0.1})
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stop)
	})

	l := ledger.New(pool)
	customers := map[string]bool{}
	lc, err := lightspeed.NewClient(nil, lightspeed.Options{BaseURL: lsSrv.URL, AccountID: int64(pair.AccountID),
		Tokens: lightspeed.StaticToken{AccessToken: ls.MintToken().AccessToken, TokenType: "Bearer"}})
	if err != nil {
		t.Fatal(err)
	}
	for c, err := range lc.Customers.ListIter(ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		customers[strconv.FormatInt(c.CustomerID, 10)] = true
	}
	ids := make([]string, 0, len(customers))
	for id := range customers {
		ids = append(ids, id)
	}
	waitFor(t, 150*time.Second, "every live customer linked", func() bool {
		links, err := l.LinksByLightspeed(ctx, acct.ID, ledger.KindCustomer, ids)
		return err == nil && len(links) == len(ids)
	})
	ls.SetFaults(lssandbox.FaultConfig{})
	sf.SetFaults(sfsandbox.Faults{})

	sc, err := salesforce.NewClient(nil, salesforce.Token{AccessToken: sf.MintToken(sfSrv.URL).AccessToken, InstanceURL: sfSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	keyed := map[string]int{}
	for rec, err := range sc.Query(ctx, "SELECT Id, Lightspeed_Customer_ID__c FROM Contact", nil) {
		if err != nil {
			t.Fatal(err)
		}
		keyed[rec.String("Lightspeed_Customer_ID__c")]++
	}
	for id, n := range keyed {
		if n > 1 {
			t.Errorf("Lightspeed customer %s is in Salesforce %d times", id, n)
		}
	}
	res, err := sc.CreateRecords(ctx, "Contact", []map[string]any{{"LastName": "Born", "FirstName": "Salesforce", "Email": "born@sf.example"}}, nil)
	if err != nil || !res[0].Success {
		t.Fatalf("create contact: %v %+v", err, res)
	}
	if _, err := jobs.SyncNow(ctx, client, nil, l, acct.ID, ledger.CustomersToLightspeed, ledger.TriggerSyncNow); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, "the Salesforce-born contact in Lightspeed", func() bool {
		found, _, err := lc.Customers.List(ctx, lightspeed.NewQuery().Where("Contact.email", lightspeed.Eq, "born@sf.example"))
		return err == nil && len(found) == 1
	})
	streams, err := l.Streams(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, s := range streams {
		// A run still going has not recorded its calls yet; the scheduler
		// keeps starting runs, so look at finished ones only.
		if s.LastRun == nil || s.LastRun.Status == ledger.RunRunning {
			continue
		}
		checked++
		if s.LastRun.APICalls["salesforce"] == 0 && s.LastRun.APICalls["lightspeed"] == 0 {
			t.Errorf("stream %s: last run %+v records no API calls", s.Stream, s.LastRun)
		}
	}
	if checked == 0 {
		t.Error("no finished run to check the API calls of")
	}
}

// waitFor polls cond until it holds or the time runs out: the streams run
// on their own schedule, in other goroutines.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
