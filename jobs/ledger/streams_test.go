package ledger_test

import (
	"testing"
	"time"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// A tenant parked until it reconnects still lists its streams (the
// dashboard shows why they wait), and a wake makes them due again.
func TestStreamsOfParkedTenant(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	tenant := newTenant(t, tenants.NewStore(pool), "parked@shop.example")
	k := ledger.StreamKey{TenantID: tenant, Stream: ledger.CustomersToSalesforce}
	if err := l.EnsureStreams(ctx, tenant, []ledger.StreamKey{k}); err != nil {
		t.Fatal(err)
	}
	if err := l.Park(ctx, tenant, "Reconnect Lightspeed"); err != nil {
		t.Fatal(err)
	}
	st, err := l.Stream(ctx, k)
	if err != nil {
		t.Fatalf("streams of a parked tenant: %v", err)
	}
	if !st.Parked || st.HoldReason != "Reconnect Lightspeed" {
		t.Errorf("parked stream: %+v", st)
	}
	if err := l.Wake(ctx, tenant, ""); err != nil {
		t.Fatal(err)
	}
	if st, err = l.Stream(ctx, k); err != nil || st.Parked || st.HoldReason != "" || time.Until(st.NextRunAt) > 0 {
		t.Errorf("woken stream: %+v, %v; want due now, no reason", st, err)
	}
}
