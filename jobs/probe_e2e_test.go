package jobs_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
)

// Once a tenant is quiet, the scheduler probes its streams instead of
// running them: no run is recorded, the probes' calls are counted against
// the tenant, and the streams keep backing off. A change a probe sees gets
// a whole run, which syncs it.
func TestSchedulerProbesIdleStreams(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tn := newSandboxTenant(t, "Quiet Shop", sandboxOptions{
		ls:    lssandbox.Options{Seed: &lssandbox.SeedOptions{Seed: 3, Shops: 1, Customers: 10, Sales: -1}},
		shops: []string{"1"}})
	pool := tn.pool
	l := ledger.New(pool)
	engine := sync.New(l, mapping.NewStore(pool), tn.clients, jobs.SetupConfig{Setup: tn.setup}, nil,
		sync.Options{Interval: time.Second, MaxIdle: 2 * time.Second})
	tn.startWorker(t, jobs.Config{Sync: &jobs.SyncConfig{Engine: engine, Interval: time.Second,
		Flush: tn.usage.FlushTenant, FlushAll: tn.usage.Flush}})

	// state is the streams' fewest probes since their last run, the runs
	// recorded, and the API calls counted against the tenant.
	state := func() (probes, runs, calls int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT
			(SELECT coalesce(min(probes), 0) FROM sync_streams WHERE tenant_id = $1),
			(SELECT count(*) FROM sync_runs WHERE tenant_id = $1),
			(SELECT coalesce(sum(calls), 0) FROM api_usage WHERE tenant_id = $1)`, tn.id).Scan(&probes, &runs, &calls); err != nil {
			t.Fatal(err)
		}
		return probes, runs, calls
	}
	waitFor(t, 60*time.Second, "every stream probed", func() bool {
		p, _, _ := state()
		return p >= 1
	})
	_, runs, calls := state()
	waitFor(t, 60*time.Second, "every stream probed three times more", func() bool {
		p, _, _ := state()
		return p >= 4
	})
	_, runsAfter, callsAfter := state()
	if runsAfter != runs {
		t.Errorf("%d runs recorded while the streams were only probed", runsAfter-runs)
	}
	if callsAfter < calls+9 {
		t.Errorf("three rounds of probes of three streams counted %d API calls against the tenant, want at least 9",
			callsAfter-calls)
	}

	// A customer edited in Lightspeed: its stream's probe sees it, and a
	// run sends it to Salesforce.
	lc := tn.lightspeedClient(t)
	cs, _, err := lc.Customers.List(ctx, lightspeed.NewQuery().Limit(1))
	if err != nil || len(cs) == 0 {
		t.Fatalf("a Lightspeed customer: %v %v", cs, err)
	}
	if _, _, err := lc.Customers.Update(ctx, cs[0].CustomerID, lightspeed.CustomerWrite{LastName: lightspeed.Ptr("Probed")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the edit in Salesforce", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM sync_events WHERE tenant_id = $1 AND action = $2 AND ls_id = $3`,
			tn.id, ledger.ActionUpdated, strconv.FormatInt(cs[0].CustomerID, 10)).Scan(&n)
		return err == nil && n == 1
	})
}
