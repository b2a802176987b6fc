package ledger_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// A staged import: a sale staged again replaces its rows (a line it lost
// is gone), rows stream out in order with their numbers as written, a
// failed sale's rows are left out on request, another location's or
// tenant's staging is untouched, and Clear empties the location's.
func TestStaging(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	l := ledger.New(pool)
	ts := tenants.NewStore(pool)
	tenant, other := newTenant(t, ts, "stage@example.com"), newTenant(t, ts, "other@example.com")
	key := func(tenant, loc string) ledger.StreamKey {
		return ledger.StreamKey{TenantID: tenant, Location: loc, Stream: ledger.SalesToSalesforce}
	}
	commit := func(k ledger.StreamKey, st ledger.Stage) {
		t.Helper()
		run, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.CommitPage(ctx, run, ledger.Page{Stage: &st}); err != nil {
			t.Fatal(err)
		}
	}
	sale := func(id string, lines ...string) ledger.Stage {
		st := ledger.Stage{Replace: []string{id}, Sales: []ledger.StagedSale{{SaleID: id, Hash: "h" + id, Label: "#" + id,
			Detail: map[string]any{"lines": float64(len(lines))}}},
			Rows: []ledger.StagedRow{{Step: "sales", LSID: id, SaleID: id, Fields: map[string]any{"Ext__c": id, "Total__c": json.Number("10.50")}}}}
		for _, ln := range lines {
			st.Rows = append(st.Rows, ledger.StagedRow{Step: "lines", LSID: ln, SaleID: id, Fields: map[string]any{"Line__c": ln, "Note__c": nil}})
		}
		return st
	}
	k := key(tenant, "1")
	for _, other := range []ledger.StreamKey{key(tenant, "2"), key(other, "1")} {
		commit(other, sale("1", "x"))
	}
	commit(k, sale("1", "a", "b"))
	commit(k, sale("2", "c"))
	commit(k, sale("1", "a")) // read again: line b is gone
	lines := func(withoutFailed bool) []string {
		t.Helper()
		var out []string
		for r, err := range l.StagedRows(ctx, k, "lines", withoutFailed) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r.SaleID+"/"+r.LSID)
		}
		return out
	}
	if got := lines(false); !slices.Equal(got, []string{"1/a", "2/c"}) {
		t.Errorf("staged lines %v", got)
	}
	for r, err := range l.StagedRows(ctx, k, "sales", false) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Fields["Total__c"] != json.Number("10.50") {
			t.Errorf("sale %s's total came back as %#v", r.LSID, r.Fields["Total__c"])
		}
		break // stopping early closes the query
	}
	cols, err := l.StagedColumns(ctx, k, "lines", false)
	if err != nil || !slices.Equal(cols, []string{"Line__c", "Note__c"}) {
		t.Errorf("columns %v, %v", cols, err)
	}
	commit(k, ledger.Stage{Saved: []ledger.StagedSale{{SaleID: "1", SFID: "006A"}, {SaleID: "2", SFID: "006B"}}, Failed: []string{"2"}})
	if got := lines(true); !slices.Equal(got, []string{"1/a"}) {
		t.Errorf("lines of sales not failed: %v", got)
	}
	ok, err := l.StagedSales(ctx, k, "", 10, false)
	if err != nil || len(ok) != 1 || ok[0].SaleID != "1" || ok[0].SFID != "006A" || ok[0].Hash != "h1" || ok[0].Detail["lines"] != 1.0 {
		t.Errorf("staged sales not failed: %+v, %v", ok, err)
	}
	byID, err := l.StagedSalesByID(ctx, k, []string{"2"})
	if err != nil || !byID["2"].Failed || byID["2"].Label != "#2" {
		t.Errorf("sale 2: %+v, %v", byID, err)
	}
	commit(k, ledger.Stage{Clear: true})
	for _, c := range []ledger.StreamKey{k, key(tenant, "2"), key(other, "1")} {
		sales, rows, err := l.StagedCount(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		want := 3 // a sale with its row and a line's
		if c == k {
			want = 0
		}
		if sales+rows != want {
			t.Errorf("%v: %d sales and %d rows staged, want %d in all", c, sales, rows, want)
		}
	}
}
