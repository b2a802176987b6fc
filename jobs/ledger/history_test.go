package ledger_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

func newTenant(t *testing.T, s *tenants.Store, email string) string {
	t.Helper()
	tn, _, err := s.SignUp(t.Context(), tenants.SignUpParams{BusinessName: "Shop " + email, Email: email,
		Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

// run records a finished run of k with events.
func run(t *testing.T, l *ledger.Store, k ledger.StreamKey, events ...ledger.Event) *ledger.Run {
	t.Helper()
	ctx := context.Background()
	r, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CommitPage(ctx, r, ledger.Page{Events: events}); err != nil {
		t.Fatal(err)
	}
	if err := l.FinishRun(ctx, r, nil, map[string]int{"lightspeed": 1, "salesforce": 2}, ledger.Schedule{Interval: time.Minute}); err != nil {
		t.Fatal(err)
	}
	return r
}

func failed(lsID, label, code string) ledger.Event {
	return ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindCustomer, LSID: lsID, Label: label, Code: code,
		Message: code + ": refused"}
}

func created(lsID, sfID, label string) ledger.Event {
	return ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindCustomer, LSID: lsID, SFID: sfID, Label: label}
}

func runIDs(runs []ledger.Run) []int64 {
	out := make([]int64, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

func eventIDs(evs []ledger.StoredEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Action + ":" + e.LSID
	}
	return out
}

func TestHistory(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	ts := tenants.NewStore(pool)
	a, b := newTenant(t, ts, "a@example.com"), newTenant(t, ts, "b@example.com")
	l := ledger.New(pool)
	cust := ledger.StreamKey{TenantID: a, Stream: ledger.CustomersToSalesforce}
	shop1 := ledger.StreamKey{TenantID: a, Stream: ledger.SalesToSalesforce, Location: "1"}
	if err := l.EnsureStreams(ctx, a, []ledger.StreamKey{cust, shop1}); err != nil {
		t.Fatal(err)
	}
	r1 := run(t, l, cust, failed("11", "Jane Doe <frontdesk@localhost>", "INVALID_EMAIL_ADDRESS"), created("12", "003000000000001AAA", "Sam Roe"))
	r2 := run(t, l, shop1, ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale, LSID: "900", Label: "Ticket 220000900", Code: "REQUIRED_FIELD_MISSING"})
	r3 := run(t, l, cust, failed("13", "Ann Poe", "STRING_TOO_LONG"), failed("11", "Jane Doe <frontdesk@localhost>", "INVALID_EMAIL_ADDRESS"))
	r4 := run(t, l, cust, created("13", "003000000000002AAA", "Ann Poe"), ledger.Event{Action: ledger.ActionSkipped, Kind: ledger.KindCustomer, LSID: "11"})
	bRun := run(t, l, ledger.StreamKey{TenantID: b, Stream: ledger.CustomersToSalesforce}, failed("11", "Jane Doe", "INVALID_EMAIL_ADDRESS"))

	list := func(f ledger.RunFilter) []int64 {
		t.Helper()
		runs, err := l.History(ctx, a, f)
		if err != nil {
			t.Fatal(err)
		}
		return runIDs(runs)
	}
	for _, tc := range []struct {
		name string
		f    ledger.RunFilter
		want []int64
	}{
		{"all, newest first", ledger.RunFilter{}, []int64{r4.ID, r3.ID, r2.ID, r1.ID}},
		{"customers", ledger.RunFilter{Stream: ledger.CustomersToSalesforce}, []int64{r4.ID, r3.ID, r1.ID}},
		{"a shop", ledger.RunFilter{Location: "1"}, []int64{r2.ID}},
		{"another shop", ledger.RunFilter{Location: "2"}, []int64{}},
		{"outcome", ledger.RunFilter{Status: ledger.RunPartial}, []int64{r3.ID, r2.ID, r1.ID}},
		{"dates", ledger.RunFilter{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}, []int64{r4.ID, r3.ID, r2.ID, r1.ID}},
		{"future", ledger.RunFilter{From: time.Now().Add(time.Hour)}, []int64{}},
		{"page 2", ledger.RunFilter{After: r3.Position()}, []int64{r2.ID, r1.ID}},
		{"page 2 parsed", ledger.RunFilter{After: ledger.ParseRunPosition(r3.Position().String()), Limit: 1}, []int64{r2.ID}},
	} {
		if got := list(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: runs %v, want %v", tc.name, got, tc.want)
		}
	}
	if runs, _ := l.History(ctx, b, ledger.RunFilter{}); len(runs) != 1 || runs[0].ID != bRun.ID {
		t.Errorf("tenant b sees runs %v", runIDs(runs))
	}

	search := func(q string) []string {
		t.Helper()
		evs, err := l.SearchEvents(ctx, a, ledger.EventFilter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		return eventIDs(evs)
	}
	for q, want := range map[string][]string{
		"jane":               {"failed:11", "failed:11"},
		"FRONTDESK@LOCAL":    {"failed:11", "failed:11"},
		"11":                 {"skipped:11", "failed:11", "failed:11"},
		"003000000000001AAA": {"created:12"},
		"003000000000001":    {"created:12"}, // the 15-character form
		"220000900":          {"failed:900"},
		"100%":               {},
		"ja":                 {}, // too short for a name; no such id
	} {
		if got := search(q); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}

	fails, err := l.Failures(ctx, a, ledger.FailureFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// 13 succeeded since; 11 failed twice (the latest counts, a skip does
	// not resolve it); the sale is its own stream's.
	if got := eventIDs(fails); !slices.Equal(got, []string{"failed:11", "failed:900"}) {
		t.Errorf("failures = %v", got)
	}
	if fails[0].RunID != r3.ID || fails[0].Stream != ledger.CustomersToSalesforce || fails[0].Code != "INVALID_EMAIL_ADDRESS" {
		t.Errorf("failure of 11 = %+v", fails[0])
	}
	ids, err := l.FailedIDs(ctx, cust, 100)
	if err != nil || !slices.Equal(ids, []string{"11"}) {
		t.Errorf("failed ids = %v, %v", ids, err)
	}
	if _, err := l.Failure(ctx, b, fails[0].ID); err != ledger.ErrNotFound {
		t.Errorf("tenant b reads a's failure: %v", err)
	}
	if _, err := l.Failure(ctx, a, fails[0].ID); err != nil {
		t.Errorf("failure: %v", err)
	}
}

// Transient failures come back for an automatic retry until the record
// succeeds or has failed too often in a day; others never do.
func TestRetryableFailures(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	a := newTenant(t, tenants.NewStore(pool), "r@example.com")
	l := ledger.New(pool)
	shop := ledger.StreamKey{TenantID: a, Stream: ledger.SalesToSalesforce, Location: "1"}
	if err := l.EnsureStreams(ctx, a, []ledger.StreamKey{shop}); err != nil {
		t.Fatal(err)
	}
	sale := func(id, code string) ledger.Event {
		return ledger.Event{Action: ledger.ActionFailed, Kind: ledger.KindSale, LSID: id, Code: code}
	}
	run(t, l, shop, sale("1", "CUSTOMER_NOT_SENT"), sale("2", "REQUIRED_FIELD_MISSING"), sale("3", "CUSTOMER_NOT_SENT"))
	run(t, l, shop, ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindSale, LSID: "3"})
	for range 5 {
		run(t, l, shop, sale("4", "CUSTOMER_NOT_SENT"))
	}
	codes := []string{"CUSTOMER_NOT_SENT"}
	got, err := l.RetryableFailures(ctx, shop, codes, time.Now().Add(time.Minute), 5, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"1"}) {
		t.Errorf("retryable = %v, want [1] (2 is not transient, 3 went through since, 4 failed five times today)", got)
	}
	if got, _ := l.RetryableFailures(ctx, shop, codes, time.Now().Add(-time.Hour), 5, 100); len(got) != 0 {
		t.Errorf("failures newer than the cut-off were offered: %v", got)
	}
}
