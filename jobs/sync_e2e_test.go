package jobs_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
)

// The production path end to end: River workers and the scheduler run the
// customer streams with vault-backed clients against both sandboxes, while
// both sandboxes expire every token and fail some calls. Every customer
// reaches Salesforce once, and a Salesforce-born contact reaches Lightspeed.
func TestSyncEndToEndThroughRiver(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tn := newSandboxTenant(t, "River Run", sandboxOptions{
		ls: lssandbox.Options{Seed: &lssandbox.SeedOptions{Seed: 3, Shops: 1, Customers: 150, Sales: -1}}})
	pool, ls, sf, sfURL, clients := tn.pool, tn.ls, tn.sf, tn.sfURL, tn.clients
	engine := sync.New(ledger.New(pool), mapping.NewStore(pool), clients, jobs.SetupConfig{Setup: tn.setup}, nil,
		sync.Options{Interval: time.Second})
	// Faults from the start: expired tokens on both sides, and one call in
	// ten answered 503.
	ls.SetFaults(lssandbox.FaultConfig{ExpireTokens: true, ErrorRate: 0.1, Status: 503, Seed: 5})
	sf.SetFaults(sfsandbox.Faults{ExpireTokens: true, ErrorRate: 0.1})
	client := tn.startWorker(t, jobs.Config{Sync: &jobs.SyncConfig{Engine: engine, Interval: time.Second}})

	l := ledger.New(pool)
	customers := map[string]bool{}
	lc := tn.lightspeedClient(t)
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
		links, err := l.LinksByLightspeed(ctx, tn.id, ledger.KindCustomer, ids)
		return err == nil && len(links) == len(ids)
	})
	ls.SetFaults(lssandbox.FaultConfig{})
	sf.SetFaults(sfsandbox.Faults{})

	sc, err := salesforce.NewClient(nil, salesforce.Token{AccessToken: sf.MintToken(sfURL).AccessToken, InstanceURL: sfURL})
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
	if _, err := jobs.SyncNow(ctx, client, nil, l, tn.id, ledger.CustomersToLightspeed, ledger.TriggerSyncNow); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, "the Salesforce-born contact in Lightspeed", func() bool {
		found, _, err := lc.Customers.List(ctx, lightspeed.NewQuery().Where("Contact.email", lightspeed.Eq, "born@sf.example"))
		return err == nil && len(found) == 1
	})
	streams, err := l.Streams(ctx, tn.id)
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
