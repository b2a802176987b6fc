package connect_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/sql/dbtest"
)

func newTenant(t *testing.T, pool *pgxpool.Pool, name string) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(t.Context(), "INSERT INTO tenants (name) VALUES ($1) RETURNING id::text", name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// testClock is a settable clock.
type testClock struct{ unixNano atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.set(t)
	return c
}

func (c *testClock) Now() time.Time  { return time.Unix(0, c.unixNano.Load()).UTC() }
func (c *testClock) set(t time.Time) { c.unixNano.Store(t.UnixNano()) }

// usageEnv is a tenant's two providers, as sandboxes, with clients that
// send through a Usage's transports.
type usageEnv struct {
	pool   *pgxpool.Pool
	ls     *lssandbox.Server
	sf     *sfsandbox.Server
	lsSrv  *httptest.Server
	sfSrv  *httptest.Server
	lsTok  lssandbox.TokenPair
	sfTok  sfsandbox.TokenResponse
	tenant string
}

func newUsageEnv(t *testing.T) *usageEnv {
	t.Helper()
	e := &usageEnv{pool: dbtest.New(t)}
	e.tenant = newTenant(t, e.pool, "Usage Boutique")
	e.ls = lssandbox.New(lssandbox.Options{})
	e.lsSrv = httptest.NewServer(e.ls)
	e.sf = sfsandbox.New(sfsandbox.Options{DailyAPILimit: 100})
	e.sfSrv = httptest.NewServer(e.sf)
	t.Cleanup(func() {
		e.lsSrv.Close()
		e.sfSrv.Close()
		e.sf.Close()
	})
	e.lsTok = e.ls.MintToken()
	e.sfTok = e.sf.MintToken(e.sfSrv.URL)
	return e
}

func (e *usageEnv) lightspeed(t *testing.T, u *connect.Usage, tenant string) *lightspeed.Client {
	t.Helper()
	c, err := lightspeed.NewClient(&http.Client{Transport: u.Transport(tenant, connect.ProviderLightspeed, e.lsSrv.Client().Transport)},
		lightspeed.Options{BaseURL: e.lsSrv.URL, AccountID: int64(e.lsTok.AccountID), ClientID: "tandem-dev",
			Tokens: lightspeed.StaticToken{AccessToken: e.lsTok.AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *usageEnv) salesforce(t *testing.T, u *connect.Usage, tenant string) *salesforce.Client {
	t.Helper()
	c, err := salesforce.NewClient(&http.Client{Transport: u.Transport(tenant, connect.ProviderSalesforce, e.sfSrv.Client().Transport)},
		salesforce.Token{AccessToken: e.sfTok.AccessToken, InstanceURL: e.sfSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUsageCountsCallsAndReadings(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newUsageEnv(t)
	other := newTenant(t, e.pool, "Other Boutique")
	clock := newTestClock(time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC))
	u := connect.NewUsage(e.pool, clock.Now)
	ls, sf := e.lightspeed(t, u, e.tenant), e.salesforce(t, u, e.tenant)

	for range 3 {
		if _, _, err := ls.Shops.List(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sf.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	// The other tenant's flush leaves these counts pending, and nothing is
	// written before a flush.
	if err := u.FlushTenant(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got, err := u.Usage(ctx, e.tenant, time.Time{}); err != nil || len(got) != 0 {
		t.Fatalf("before flush: %+v, %v", got, err)
	}
	if err := u.FlushTenant(ctx, e.tenant); err != nil {
		t.Fatal(err)
	}
	// Past midnight UTC: the next calls land on the next day.
	clock.set(time.Date(2026, 3, 2, 0, 1, 0, 0, time.UTC))
	if _, err := sf.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sf.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	day1, day2 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	lsStats, sfStats := e.ls.Stats(), e.sf.Stats()
	want := []connect.DayUsage{
		{Day: day1, Provider: "lightspeed", Calls: int64(lsStats.Requests), Used: 3, Capacity: 90, MeasuredAt: day1.Add(23*time.Hour + 59*time.Minute)},
		{Day: day1, Provider: "salesforce", Calls: 1, Used: 1, Capacity: 100, MeasuredAt: day1.Add(23*time.Hour + 59*time.Minute)},
		{Day: day2, Provider: "salesforce", Calls: 2, Used: float64(sfStats.APIUsage), Capacity: 100, MeasuredAt: day2.Add(time.Minute)},
	}
	got, err := u.Usage(ctx, e.tenant, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// The sandbox's bucket drains in real time: the level is about 3 drips.
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 0.05), cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if got, _ := u.Usage(ctx, e.tenant, day2.Add(12*time.Hour)); len(got) != 1 || !got[0].Day.Equal(day2) {
		t.Errorf("since day 2: %+v", got)
	}
	if got, _ := u.Usage(ctx, other, time.Time{}); len(got) != 0 {
		t.Errorf("the other tenant sees %+v", got)
	}
}

// Two processes flush into one row: calls add up, and the reading taken
// last wins even when it is flushed first.
func TestUsageFlushesFromTwoProcesses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newUsageEnv(t)
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	early, late := connect.NewUsage(e.pool, func() time.Time { return start }), connect.NewUsage(e.pool, func() time.Time { return start.Add(time.Minute) })
	if _, err := e.salesforce(t, early, e.tenant).Limits(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.salesforce(t, late, e.tenant).Limits(ctx); err != nil {
		t.Fatal(err)
	}
	if err := late.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := early.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := early.Usage(ctx, e.tenant, start)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Calls != 2 || got[0].Used != 2 || !got[0].MeasuredAt.Equal(start.Add(time.Minute)) {
		t.Errorf("usage = %+v, want 2 calls and the later reading (2 used)", got)
	}
}

// A flush that fails keeps its counts for the next one.
func TestUsageFlushFailureKeepsCounts(t *testing.T) {
	t.Parallel()
	e := newUsageEnv(t)
	u := connect.NewUsage(e.pool, nil)
	if _, err := e.salesforce(t, u, e.tenant).Limits(t.Context()); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if err := u.Flush(cancelled); err == nil {
		t.Fatal("flush with a cancelled context succeeded")
	}
	if err := u.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := u.Usage(t.Context(), e.tenant, time.Now()); len(got) != 1 || got[0].Calls != 1 {
		t.Errorf("usage after a failed then a good flush = %+v, want 1 call", got)
	}
}

func TestSalesforceReserve(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newUsageEnv(t)
	clock := newTestClock(time.Now())
	u := connect.NewUsage(e.pool, clock.Now)
	check := u.ReserveCheck(connect.DefaultReservePct)
	if _, _, ok, err := u.SalesforceReserve(ctx, e.tenant); ok || err != nil {
		t.Fatalf("no reading yet: ok = %v, err = %v", ok, err)
	}
	sf := e.salesforce(t, u, e.tenant)
	// 100 a day with a 10% reserve: the 91st call leaves 9, under 10.
	for range 91 {
		if _, err := sf.Limits(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	used, max, ok, err := u.SalesforceReserve(ctx, e.tenant)
	if err != nil || !ok || used != 91 || max != 100 {
		t.Fatalf("reserve = %d/%d ok %v err %v, want 91/100", used, max, ok, err)
	}
	reached, reason, err := check(ctx, e.tenant)
	if err != nil || !reached || reason == "" {
		t.Errorf("check = %v %q %v, want reached with a reason", reached, reason, err)
	}
	if reached, _, _ := u.ReserveCheck(5)(ctx, e.tenant); reached {
		t.Error("a 5% reserve is reached at 9 of 100 left")
	}
	// A reading older than the rolling day says nothing.
	clock.set(clock.Now().Add(25 * time.Hour))
	if _, _, ok, _ := u.SalesforceReserve(ctx, e.tenant); ok {
		t.Error("a day-old reading still counts")
	}
}

func TestBelowReserve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		used, max int
		pct       float64
		want      bool
	}{
		{0, 15000, 10, false},
		{13500, 15000, 10, false}, // exactly 10% left
		{13501, 15000, 10, true},
		{15000, 15000, 10, true},
		{16000, 15000, 10, true}, // over the allocation
		{14999, 15000, 0, false},
		{100, 0, 10, false}, // allocation unknown
	}
	for _, tt := range tests {
		if got := connect.BelowReserve(tt.used, tt.max, tt.pct); got != tt.want {
			t.Errorf("BelowReserve(%d, %d, %v) = %v, want %v", tt.used, tt.max, tt.pct, got, tt.want)
		}
	}
}
