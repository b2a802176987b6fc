package sync_test

import (
	"slices"
	"testing"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

// probeOf is the probe the stream's last idle run left in the ledger.
func (w *world) probeOf(k ledger.StreamKey) string {
	w.t.Helper()
	var p string
	if err := w.pool.QueryRow(w.ctx, `SELECT probe FROM sync_streams WHERE tenant_id = $1 AND location = $2 AND stream = $3`,
		k.TenantID, k.Location, k.Stream).Scan(&p); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// TestProbe checks that the probe an idle run leaves sees exactly what a
// run of its stream would: nothing while nothing changes, and each kind of
// change on its own stream only.
func TestProbe(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{customers: 20, sales: 30, shops: 2}})
	lsCust := ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToSalesforce}
	sfCust := ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToLightspeed}
	keys := []ledger.StreamKey{lsCust, sfCust, w.shopKey(0), w.shopKey(1)}
	for _, k := range keys {
		w.runKeyUntilDone(k)
	}
	probes := map[ledger.StreamKey]string{}
	for _, k := range keys {
		if res := w.runKey(k); !res.Idle {
			t.Fatalf("%s: run after catching up touched %v, want idle", k, res.Run.Counts)
		}
		if probes[k] = w.probeOf(k); probes[k] == "" {
			t.Fatalf("%s: an idle run left no probe", k)
		}
	}
	// expect probes every stream and wants changed only for those named.
	expect := func(what string, changed ...ledger.StreamKey) {
		t.Helper()
		claims := make([]ledger.Claim, len(keys))
		for i, k := range keys {
			claims[i] = ledger.Claim{StreamKey: k, Probe: probes[k]}
		}
		for i, got := range w.engine.Probe(w.ctx, claims, 2) {
			k := keys[i]
			if got.Err != nil {
				t.Fatalf("%s: probe %s: %v", what, k, got.Err)
			}
			if want := slices.Contains(changed, k); got.Changed != want {
				t.Errorf("%s: probe of %s says changed=%t, want %t", what, k, got.Changed, want)
			}
		}
	}
	expect("nothing changed")

	tick() // Lightspeed's and Salesforce's times are in seconds here
	c, link := w.firstLinked()
	if _, _, err := w.ls.Customers.Update(w.ctx, c.CustomerID, lightspeed.CustomerWrite{FirstName: lightspeed.Ptr("Renamed")}); err != nil {
		t.Fatal(err)
	}
	expect("a Lightspeed customer edited", lsCust)

	if _, err := w.sf.UpdateRecords(w.ctx, "Contact", []map[string]any{{"Id": link.SFID, "Title": "Chef"}}, nil); err != nil {
		t.Fatal(err)
	}
	expect("a Salesforce contact edited", lsCust, sfCust)

	// A run takes both changes, and its probe is quiet again; a contact
	// deleted in Salesforce (seen by queryAll only) wakes it.
	w.runKeyUntilDone(lsCust)
	w.runKeyUntilDone(sfCust)
	for _, k := range []ledger.StreamKey{lsCust, sfCust} {
		if res := w.runKey(k); !res.Idle {
			t.Fatalf("%s: touched %v after catching up, want idle", k, res.Run.Counts)
		}
		probes[k] = w.probeOf(k)
	}
	expect("both customer streams caught up")
	tick()
	if _, err := w.sf.DeleteRecords(w.ctx, []string{link.SFID}, nil); err != nil {
		t.Fatal(err)
	}
	expect("a Salesforce contact deleted", sfCust)

	w.sell(0, 0, "", pay(ptCash, "1000.00"))
	expect("a sale completed in the first shop", sfCust, w.shopKey(0))
}

// TestNoProbeDuringImport checks that a sales stream whose history import
// is under way leaves no probe: only a run moves an import on.
func TestNoProbeDuringImport(t *testing.T) {
	t.Parallel()
	w := newSalesWorld(t, salesOptions{worldOptions: worldOptions{customers: 10, sales: 600, shops: 1,
		engine: sync.Options{BatchSize: 100, MaxBatches: 1}}})
	res := w.runShop(0)
	if !res.More {
		t.Fatalf("first run of 600 sales, one batch a run, did not stop with more to do: %v", res.Run.Counts)
	}
	if p := w.probeOf(w.shopKey(0)); p != "" {
		t.Errorf("a stream in its history import left probe %q", p)
	}
}
