package ledger_test

import (
	"testing"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// A staged import: a sale staged again replaces its records (a line it
// lost is gone), a step's records stream out in sale order as written, a
// failed sale's are left out on request, another location's or tenant's
// staging is untouched, and Clear empties the location's.
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
		s := ledger.StagedSale{SaleID: id, Hash: "h" + id, Label: "#" + id, Detail: map[string]any{"lines": float64(len(lines))},
			CSV: map[string]string{"sales": id + ",10.50\n"}}
		for _, ln := range lines {
			s.CSV["lines"] += id + "/" + ln + "\n"
		}
		return ledger.Stage{Replace: []string{id}, Sales: []ledger.StagedSale{s}}
	}
	k := key(tenant, "1")
	for _, other := range []ledger.StreamKey{key(tenant, "2"), key(other, "1")} {
		commit(other, sale("1", "x"))
	}
	commit(k, sale("1", "a", "b"))
	commit(k, sale("2", "c"))
	commit(k, sale("1", "a")) // read again: line b is gone
	lines := func(withoutFailed bool) string {
		t.Helper()
		var out string
		for text, err := range l.StagedCSV(ctx, k, "lines", withoutFailed) {
			if err != nil {
				t.Fatal(err)
			}
			out += string(text)
		}
		return out
	}
	if got := lines(false); got != "1/a\n2/c\n" {
		t.Errorf("staged lines %q", got)
	}
	for text, err := range l.StagedCSV(ctx, k, "sales", false) {
		if err != nil {
			t.Fatal(err)
		}
		if string(text) != "1,10.50\n" {
			t.Errorf("sale 1's records came back as %q", text)
		}
		break // stopping early closes the query
	}
	if _, err := l.HasStaged(ctx, k, "sale", false); err == nil {
		t.Error("a step that is none was read")
	}
	commit(k, ledger.Stage{Saved: []ledger.StagedSale{{SaleID: "1", SFID: "006A"}, {SaleID: "2", SFID: "006B"}}, Failed: []string{"2"}})
	if got := lines(true); got != "1/a\n" {
		t.Errorf("lines of sales not failed: %q", got)
	}
	for _, tt := range []struct {
		step          string
		withoutFailed bool
		want          bool
	}{{"lines", false, true}, {"payments", false, false}} {
		if got, err := l.HasStaged(ctx, k, tt.step, tt.withoutFailed); err != nil || got != tt.want {
			t.Errorf("%s staged: %v, %v; want %v", tt.step, got, err, tt.want)
		}
	}
	commit(k, ledger.Stage{Failed: []string{"1"}})
	if got, err := l.HasStaged(ctx, k, "lines", true); err != nil || got {
		t.Errorf("lines of sales not failed staged, with both failed: %v, %v", got, err)
	}
	all, err := l.StagedSales(ctx, k, "", 10, true)
	if err != nil || len(all) != 2 || all[0].SaleID != "1" || all[0].SFID != "006A" || all[0].Hash != "h1" || all[0].Detail["lines"] != 1.0 {
		t.Errorf("staged sales: %+v, %v", all, err)
	}
	if ok, err := l.StagedSales(ctx, k, "", 10, false); err != nil || len(ok) != 0 {
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
		want := 2 // a sale, with lines
		if c == k {
			want = 0
		}
		if sales+rows != want {
			t.Errorf("%v: %d sales and %d with lines staged, want %d in all", c, sales, rows, want)
		}
	}
}
