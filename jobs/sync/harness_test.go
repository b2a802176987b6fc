package sync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
)

// world is one tenant with both sandboxes in process, and the engine.
type world struct {
	t      testing.TB
	ctx    context.Context
	pool   *pgxpool.Pool
	tenant string
	lsSrv  *lssandbox.Server
	sfSrv  *sfsandbox.Server
	lsURL  string
	sfURL  string
	ls     *lightspeed.Client // the test's own client, for edits
	sf     *salesforce.Client
	ledger *ledger.Store
	engine *sync.Engine
	cfg    sync.TenantConfig
	// front lets a test interfere with the engine's Salesforce calls.
	sfFront func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

type worldOptions struct {
	customers  int
	sales      int
	shops      int
	personAcct bool
	sfSeed     bool
	sfLimit    int // the org's daily API allocation; 0 is the sandbox's default
	engine     sync.Options
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{t: t, ctx: ctx, pool: dbtest.New(t)}
	acct, _, err := tenants.NewStore(w.pool).SignUp(ctx, tenants.SignUpParams{
		BusinessName: "Harbour Bikes", Email: "owner@harbour.example", Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	w.tenant = acct.ID
	if o.customers == 0 {
		o.customers = 80
	}
	if o.sales == 0 {
		o.sales = -1
	}
	if o.shops == 0 {
		o.shops = 2
	}
	w.lsSrv = lssandbox.New(lssandbox.Options{Seed: &lssandbox.SeedOptions{Seed: 42, Shops: o.shops, Customers: o.customers, Sales: o.sales},
		BucketSize: 1e6, DripRate: 1e6, Burst: 1e6})
	lsHTTP := httptest.NewServer(w.lsSrv)
	t.Cleanup(lsHTTP.Close)
	w.lsURL = lsHTTP.URL
	sfOpts := sfsandbox.Options{PersonAccounts: o.personAcct, DailyAPILimit: o.sfLimit}
	if o.sfSeed {
		seed := int64(42)
		sfOpts.Seed = &seed
	}
	w.sfSrv = sfsandbox.New(sfOpts)
	t.Cleanup(w.sfSrv.Close)
	sfHTTP := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.sfFront != nil {
			w.sfFront(rw, r, w.sfSrv)
			return
		}
		w.sfSrv.ServeHTTP(rw, r)
	}))
	t.Cleanup(sfHTTP.Close)
	w.sfURL = sfHTTP.URL
	for _, obj := range []string{"Contact"} {
		for _, f := range []sfsandbox.FieldSpec{
			{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 20, ExternalID: true, Unique: true},
			{Name: "Lightspeed_Created_Date__c", Type: "DateTime"},
			{Name: "Lightspeed_Customer_Type__c", Type: "Text", Length: 80},
		} {
			if err := w.sfSrv.AddCustomField(obj, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.ls, w.sf = w.newLightspeed(nil), w.newSalesforce(nil)
	preset := mapping.PresetClassic
	if o.personAcct {
		preset = mapping.PresetPersonAccounts
	}
	w.cfg = sync.TenantConfig{Preset: preset}
	w.ledger = ledger.New(w.pool)
	if o.engine.Describes == nil {
		o.engine.Describes = setup.NewStore(w.pool)
	}
	w.engine = sync.New(w.ledger, mapping.NewStore(w.pool), w, sync.ConfigFunc(func(context.Context, string) (sync.TenantConfig, error) {
		return w.cfg, nil
	}), nil, o.engine)
	if err := w.ledger.EnsureStreams(ctx, w.tenant, []ledger.StreamKey{
		{TenantID: w.tenant, Stream: ledger.CustomersToSalesforce},
		{TenantID: w.tenant, Stream: ledger.CustomersToLightspeed},
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) newLightspeed(rt http.RoundTripper) *lightspeed.Client {
	tp := w.lsSrv.MintToken()
	c, err := lightspeed.NewClient(&http.Client{Transport: rt}, lightspeed.Options{BaseURL: w.lsURL, AccountID: int64(tp.AccountID),
		ClientID: "tandem-dev", Tokens: lightspeed.StaticToken{AccessToken: tp.AccessToken, TokenType: "Bearer"}})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) newSalesforce(rt http.RoundTripper) *salesforce.Client {
	tr := w.sfSrv.MintToken(w.sfURL)
	c, err := salesforce.NewClient(&http.Client{Transport: rt}, salesforce.Token{AccessToken: tr.AccessToken,
		InstanceURL: tr.InstanceURL, ID: tr.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// Lightspeed and Salesforce make world the engine's Clients: fresh clients
// counting their calls, as jobs/connect builds them.
func (w *world) Lightspeed(context.Context, string) (*lightspeed.Client, error) {
	return w.newLightspeed(sync.CountingTransport(sync.ProviderLightspeed, nil)), nil
}

func (w *world) Salesforce(context.Context, string) (*salesforce.Client, error) {
	return w.newSalesforce(sync.CountingTransport(sync.ProviderSalesforce, nil)), nil
}

func (w *world) run(stream string) sync.Result {
	w.t.Helper()
	return w.runKey(ledger.StreamKey{TenantID: w.tenant, Stream: stream})
}

func (w *world) runKey(k ledger.StreamKey) sync.Result {
	w.t.Helper()
	res, err := w.engine.Run(w.ctx, k, ledger.TriggerSchedule)
	if err != nil {
		w.t.Fatalf("run %s: %v", k, err)
	}
	return res
}

// runUntilDone runs a stream until it reports no more work.
func (w *world) runUntilDone(stream string) []sync.Result {
	w.t.Helper()
	return w.runKeyUntilDone(ledger.StreamKey{TenantID: w.tenant, Stream: stream})
}

func (w *world) runKeyUntilDone(k ledger.StreamKey) []sync.Result {
	w.t.Helper()
	var out []sync.Result
	for range 100 {
		res := w.runKey(k)
		out = append(out, res)
		if !res.More {
			return out
		}
	}
	w.t.Fatalf("%s still had work after 100 runs", k)
	return nil
}

// contacts returns every live Contact with the fields asked.
func (w *world) contacts(fields string) []salesforce.Record {
	w.t.Helper()
	var out []salesforce.Record
	for rec, err := range w.sf.Query(w.ctx, "SELECT "+fields+" FROM Contact", nil) {
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

// lsCustomers returns every Lightspeed customer, archived included.
func (w *world) lsCustomers() []lightspeed.Customer {
	w.t.Helper()
	var out []lightspeed.Customer
	q := lightspeed.NewQuery().Archived(lightspeed.ArchivedInclude).LoadRelations("Contact").Limit(100)
	for c, err := range w.ls.Customers.ListIter(w.ctx, q) {
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func (w *world) events(runID int64) []ledger.StoredEvent {
	w.t.Helper()
	ev, err := w.ledger.Events(w.ctx, w.tenant, runID, 0, 100000)
	if err != nil {
		w.t.Fatal(err)
	}
	return ev
}

func (w *world) link(lsID string) (ledger.Link, bool) {
	w.t.Helper()
	m, err := w.ledger.LinksByLightspeed(w.ctx, w.tenant, ledger.KindCustomer, []string{lsID})
	if err != nil {
		w.t.Fatal(err)
	}
	l, ok := m[lsID]
	return l, ok
}

// sfCalls counts the Salesforce sandbox's calls whose method and resource
// ("PATCH composite/sobjects") contain substr.
func (w *world) sfCalls(substr string) int {
	n := 0
	for _, c := range w.sfSrv.Stats().Calls {
		if strings.Contains(c.Method+" "+c.Resource, substr) {
			n += c.Count
		}
	}
	return n
}

// countQueries counts from now on the engine's Salesforce queries whose
// SOQL contains substr (Stats counts calls by route, not by query); the
// func returned reads the count. It takes the world's sfFront.
func (w *world) countQueries(substr string) func() int {
	var mu stdsync.Mutex
	n := 0
	w.sfFront = func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.Contains(r.URL.Query().Get("q"), substr) {
			mu.Lock()
			n++
			mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	}
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// tick waits past the one-second resolution of Lightspeed's timeStamps, so
// an edit made now sorts after what a run already read.
func tick() { time.Sleep(1100 * time.Millisecond) }
