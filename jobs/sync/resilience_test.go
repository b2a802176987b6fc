package sync_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"

	"errors"

	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

// assertEachOnce checks that every live, non-alias Lightspeed customer is
// in Salesforce exactly once.
func (w *world) assertEachOnce() {
	w.t.Helper()
	got := map[string]int{}
	for _, rec := range w.contacts("Id, Lightspeed_Customer_ID__c") {
		if id := rec.String("Lightspeed_Customer_ID__c"); id != "" {
			got[id]++
		}
	}
	for _, c := range w.lsCustomers() {
		id := strconv.FormatInt(c.CustomerID, 10)
		l, ok := w.link(id)
		switch {
		case c.Archived:
		case !ok:
			w.t.Errorf("customer %s has no link", id)
		case l.State == ledger.LinkAlias:
		case got[id] != 1:
			w.t.Errorf("customer %s is in Salesforce %d times", id, got[id])
		}
	}
	for id, n := range got {
		if n > 1 {
			w.t.Errorf("customer %s is in Salesforce %d times", id, n)
		}
	}
}

// A run killed right after Salesforce accepted a batch, before Tandem
// committed it, resumes from the last cursor and creates nothing twice.
func TestKilledMidBatchResumes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 500})
	ctx, kill := context.WithCancel(w.ctx)
	var once stdsync.Once
	writes := 0
	w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(rw, r)
		if r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/composite/sobjects/") {
			writes++
			if writes == 2 { // the second batch reached Salesforce: kill the run
				once.Do(kill)
			}
		}
	}
	_, err := w.engine.Run(ctx, ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToSalesforce}, ledger.TriggerSchedule)
	if err == nil {
		t.Fatal("the killed run reported no error")
	}
	w.sfFront = nil
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.assertEachOnce()
}

// 5xx and 429 answers from both APIs lose nothing and double nothing.
func TestFaultsLoseNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 300})
	w.lsSrv.SetFaults(lssandbox.FaultConfig{ErrorRate: 0.2, Status: 503, Seed: 7})
	w.sfSrv.SetFaults(sfsandbox.Faults{ErrorRate: 0.2})
	for range 20 {
		res, err := w.engine.Run(w.ctx, ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToSalesforce}, ledger.TriggerSchedule)
		if err == nil && !res.More {
			break
		}
	}
	w.lsSrv.SetFaults(lssandbox.FaultConfig{ErrorRate: 0.2, Status: 429, Seed: 9})
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.lsSrv.SetFaults(lssandbox.FaultConfig{})
	w.sfSrv.SetFaults(sfsandbox.Faults{})
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.assertEachOnce()
}

// A run stops between batches once the org's daily API usage leaves less
// than the reserve, and says so.
func TestReserveStopsRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 450, sfLimit: 40})
	// Use the allocation up to just above the 10% reserve.
	for range 34 {
		if _, err := w.sf.Limits(w.ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, err := w.engine.Run(w.ctx, ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToSalesforce}, ledger.TriggerSchedule)
	var reserve *sync.ReserveError
	if !errors.As(err, &reserve) {
		t.Fatalf("err = %v, want a *sync.ReserveError", err)
	}
	if used := w.sfSrv.Stats().APIUsage; used > 40 {
		t.Errorf("usage went to %d of 40", used)
	}
	if got := jobs.HoldReason(err); !strings.Contains(got, "reserve") {
		t.Errorf("hold reason = %q", got)
	}
}
