package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/google/pprof/profile"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/sql/devpg"
	"github.com/tandemsync/tandem/sql/migrate"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// benchResult is the JSON line `tandem bench` prints last.
type benchResult struct {
	Customers          int            `json:"customers"`
	Sales              int            `json:"sales"`
	CustomersPerS      float64        `json:"customers_per_s"`
	SalesPerS          float64        `json:"sales_per_s"`
	SalesforceCalls    map[string]int `json:"salesforce_calls"`
	SalesforceMinCalls map[string]int `json:"salesforce_min_calls"`
	LightspeedCalls    map[string]int `json:"lightspeed_calls"`
	LightspeedMinCalls map[string]int `json:"lightspeed_min_calls"`
	PeakRSSMB          float64        `json:"peak_rss_mb"`
}

func runBench(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("tandem bench", flag.ContinueOnError)
	nCustomers := fs.Int("customers", 5000, "Lightspeed customers to seed and sync")
	nSales := fs.Int("sales", 20000, "Lightspeed sales to seed and sync")
	nShops := fs.Int("shops", 3, "Lightspeed shops the sales are spread over")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the syncs to this `file`")
	memProfile := fs.String("memprofile", "", "write the heap profile of the moment the engine held the most to this `file`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tandem bench [flags]\n\nRuns the real engine against in-process, unthrottled sandboxes: the first sync of\ncustomers, then of sales with their lines and payments. Uses DATABASE_URL, or a\nprivate PostgreSQL in a temporary folder. Prints progress, then one JSON line.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	if *nCustomers < 1 || *nSales < 0 || *nShops < 1 || *nCustomers > 1_000_000 || *nSales > 1_000_000 || *nShops > 100 {
		return configErrorf("tandem bench: --customers 1..1000000, --sales 0..1000000, --shops 1..100")
	}
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	dbURL := c.DatabaseURL
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "tandem-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		// As root the private server runs as the postgres user, which must
		// reach its folder.
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		pg, err := devpg.Start(ctx, devpg.Options{Dir: filepath.Join(dir, "postgres")})
		if err != nil {
			return err
		}
		defer pg.Stop() //nolint:errcheck // a temporary server
		dbURL = pg.URL
	}
	pool, err := openDB(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrate.Up(ctx, pool); err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(io.err, "bench: "+format+"\n", a...) }

	say("seeding %d customers and %d sales over %d shops", *nCustomers, *nSales, *nShops)
	sales := *nSales
	if sales == 0 {
		sales = -1
	}
	ls := lssandbox.New(lssandbox.Options{Seed: &lssandbox.SeedOptions{Seed: 42, Shops: *nShops, Customers: *nCustomers, Sales: sales},
		BucketSize: 1e9, DripRate: 1e9, Burst: 1e9})
	lsSrv := httptest.NewServer(ls)
	defer lsSrv.Close()
	sf := sfsandbox.New(sfsandbox.Options{DailyAPILimit: 10_000_000})
	defer sf.Close()
	sfSrv := httptest.NewServer(sf)
	defer sfSrv.Close()
	if err := provisionOrg(sf, setup.ModelClassic); err != nil {
		return err
	}

	b, err := newBenchTenant(ctx, pool, ls, lsSrv.URL, sf, sfSrv.URL)
	if err != nil {
		return err
	}
	res := benchResult{SalesforceCalls: map[string]int{}, SalesforceMinCalls: map[string]int{},
		LightspeedCalls: map[string]int{}, LightspeedMinCalls: map[string]int{}}

	// The sandboxes hold every seeded and written record in this process:
	// the heap they keep is reported so the engine's share of the peak
	// can be told apart.
	say("seeded: %.1f MB of heap in use", heapInUseMB())
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var engine engineHeap
	stopWatch := engine.watch(200 * time.Millisecond)
	start := time.Now()
	runs, err := b.runAll(ctx, ledger.StreamKey{TenantID: b.tenant, Stream: ledger.CustomersToSalesforce})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	written := 0
	for _, r := range runs {
		written += r.Records()
		res.SalesforceCalls["customers"] += r.APICalls[sync.ProviderSalesforce]
		res.LightspeedCalls["customers"] += r.APICalls[sync.ProviderLightspeed]
	}
	res.Customers = *nCustomers
	res.CustomersPerS = round1(float64(*nCustomers) / elapsed.Seconds())
	// The fewest calls: Lightspeed pages of 100 customers (relations come
	// in the same call); Salesforce one matching query and one Collections
	// upsert per 200 customers written (matching by Lightspeed ID or email
	// needs the query; a Collections call takes at most 200 records).
	res.LightspeedMinCalls["customers"] = ceilDiv(*nCustomers, lightspeed.MaxLimit)
	res.SalesforceMinCalls["customers"] = 2 * ceilDiv(written, 200)
	say("customers: %d in %s (%d written)", *nCustomers, elapsed.Round(time.Millisecond), written)

	if *nSales > 0 {
		// The locations' streams run at once, as a worker's pool runs them.
		before, lsBefore := sfCalls(sf), lsCalls(ls)
		start = time.Now()
		shopRuns := make([][]*ledger.Run, len(b.shops))
		g, gctx := errgroup.WithContext(ctx)
		for i, shop := range b.shops {
			g.Go(func() error {
				runs, err := b.runAll(gctx, ledger.StreamKey{TenantID: b.tenant, Location: shop, Stream: ledger.SalesToSalesforce})
				shopRuns[i] = runs
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		saleCount := 0
		for _, runs := range shopRuns {
			for _, r := range runs {
				saleCount += r.Counts[ledger.ActionCreated] + r.Counts[ledger.ActionUpdated] + r.Counts[ledger.ActionFailed]
				res.SalesforceCalls["sales"] += r.APICalls[sync.ProviderSalesforce]
				res.LightspeedCalls["sales"] += r.APICalls[sync.ProviderLightspeed]
			}
		}
		elapsed = time.Since(start)
		// Before the bench's own reads below.
		sfByResource, lsByResource := callsSince(before, sfCalls(sf)), callsSince(lsBefore, lsCalls(ls))
		res.Sales = *nSales
		res.SalesPerS = round1(float64(*nSales) / elapsed.Seconds())
		if res.SalesforceMinCalls["sales"], res.LightspeedMinCalls["sales"], err = b.minSalesCalls(ctx); err != nil {
			return err
		}
		say("sales: %d in %s (%d records written)", *nSales, elapsed.Round(time.Millisecond), saleCount)
		say("sales: Salesforce calls by resource: %s", sfByResource)
		say("sales: Lightspeed calls by resource: %s", lsByResource)
	}
	stopWatch()
	res.PeakRSSMB = peakRSSMB()
	say("memory: peak RSS %.1f MB; of the heap, the engine held at most %.1f MB, the sandboxes' records %.1f MB at the end",
		res.PeakRSSMB, engine.mb(), heapInUseMB())
	if *memProfile != "" {
		if err := os.WriteFile(*memProfile, engine.profile(), 0o644); err != nil {
			return err
		}
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Fprintln(io.out, string(out))
	return nil
}

// benchTenant is one onboarded tenant with the engine ready.
type benchTenant struct {
	tenant string
	shops  []string
	ls     *lightspeed.Client
	engine *sync.Engine
	ledger *ledger.Store
}

// runAll runs a stream until it has no more work (and no Bulk API job
// under way) and returns its runs.
func (b *benchTenant) runAll(ctx context.Context, k ledger.StreamKey) ([]*ledger.Run, error) {
	var out []*ledger.Run
	for {
		res, err := b.engine.Run(ctx, k, ledger.TriggerSchedule)
		if err != nil {
			return out, err
		}
		out = append(out, res.Run)
		switch {
		case res.Wait > 0:
			// A Bulk API job is under way: look again shortly, as the
			// worker's snoozed job would.
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(min(res.Wait, 200*time.Millisecond)):
			}
		case !res.More:
			return out, nil
		}
	}
}

// minSalesCalls is the fewest calls the APIs allow for the first sync of
// the tenant's sales. Lightspeed: a page of 100 completed sales per store,
// their lines, items and payments in the same call. Salesforce: store by
// store (each store is its own stream, as stores are synced one by one): a
// store whose history is above
// the Bulk API threshold takes three Bulk API 2.0 jobs (sales, lines,
// payments) of five calls each (create, upload, close, one status check,
// the saved rows); a smaller one a Composite Graph call per 75 sales to
// send (a sale with its lines and payments per graph; one voided or
// deleted before it was sent is not). The sales also need the
// accounts of the contacts they name (a query per 200 contacts, or a read of
// every contact with a Lightspeed customer id, 2,000 a call, if fewer), and the
// tenant's products and their standard prices a write per 200 each, after
// one query for the standard price book. It reads the stores' sales and
// the ledger after the measured syncs.
func (b *benchTenant) minSalesCalls(ctx context.Context) (sf, ls int, err error) {
	sf = 1 // the standard price book
	for _, kind := range []string{ledger.KindProduct, ledger.KindPricebookEn} {
		n, err := b.ledger.CountLinks(ctx, b.tenant, kind, ledger.LinkActive)
		if err != nil {
			return 0, 0, err
		}
		sf += ceilDiv(n, 200)
	}
	customers := map[string]bool{}
	for _, shop := range b.shops {
		q := lightspeed.NewQuery().Where("shopID", lightspeed.Eq, shop).Where("completed", lightspeed.Eq, true).
			Archived(lightspeed.ArchivedInclude).Limit(lightspeed.MaxLimit)
		sales, sent := 0, 0
		for s, err := range b.ls.Sales.ListIter(ctx, q) {
			if err != nil {
				return 0, 0, fmt.Errorf("list shop %s's sales: %w", shop, err)
			}
			sales++
			if s.Voided || s.Archived {
				continue // voided or deleted before it was ever sent: nothing to write
			}
			sent++
			if s.CustomerID > 0 {
				customers[strconv.FormatInt(s.CustomerID, 10)] = true
			}
		}
		ls += ceilDiv(sales, lightspeed.MaxLimit)
		if sales > sync.DefaultBulkThreshold {
			sf += 3 * 5
		} else {
			sf += ceilDiv(sent, salesforce.MaxGraphs)
		}
	}
	links, err := b.ledger.LinksByLightspeed(ctx, b.tenant, ledger.KindCustomer, slices.Collect(maps.Keys(customers)))
	if err != nil {
		return 0, 0, err
	}
	contacts := map[string]bool{}
	for _, l := range links {
		contacts[l.SFID] = true
	}
	// The accounts: by id, a query per 200 contacts; or every contact with
	// a Lightspeed customer id, 2,000 a call, whichever is fewer.
	linked, err := b.ledger.CountLinks(ctx, b.tenant, ledger.KindCustomer, ledger.LinkActive)
	if err != nil {
		return 0, 0, err
	}
	return sf + min(ceilDiv(len(contacts), 200), ceilDiv(linked, 2000)), ls, nil
}

// newBenchTenant signs up a tenant and stores what onboarding would: both
// connections (sealed), the Lightspeed discovery and locations, and the
// settings of a finished setup.
func newBenchTenant(ctx context.Context, pool *pgxpool.Pool, ls *lssandbox.Server, lsURL string, sf *sfsandbox.Server, sfURL string) (*benchTenant, error) {
	key := make([]byte, vault.KeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	keys, err := vault.NewKeyRing(key)
	if err != nil {
		return nil, err
	}
	v := vault.New(pool, keys)
	acct, owner, err := tenants.NewStore(pool).SignUp(ctx, tenants.SignUpParams{
		BusinessName: "Bench " + strconv.FormatInt(time.Now().UnixNano(), 36),
		Email:        "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@tandem.test",
		Password:     "bench-password-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
	if err != nil {
		return nil, err
	}
	pair := ls.MintToken()
	lsTok := lightspeed.Token{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken, Expiry: time.Now().Add(time.Hour)}
	if err := v.Save(ctx, acct.ID, vault.Lightspeed, connect.LightspeedConnection(lsTok, int64(pair.AccountID), "Bench")); err != nil {
		return nil, err
	}
	tr := sf.MintToken(sfURL)
	sfTok := salesforce.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID}
	if err := v.Save(ctx, acct.ID, vault.Salesforce, connect.SalesforceConnection(sfTok, sfURL, "Bench org")); err != nil {
		return nil, err
	}
	providers := connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret", AuthURL: lsURL, APIURL: lsURL},
		Salesforce: connect.SalesforceProvider{ClientID: sfsandbox.DefaultClientID, ClientSecret: sfsandbox.DefaultClientSecret,
			ProductionLoginURL: sfURL, SandboxLoginURL: sfURL},
	}
	clients, err := connect.New(connect.Config{Vault: v, Providers: providers,
		Limits:    lightspeed.NewLimits(lightspeed.LimitsOptions{Store: connect.NewBuckets(pool)}),
		Transport: func(p string, base http.RoundTripper) http.RoundTripper { return sync.CountingTransport(p, base) }})
	if err != nil {
		return nil, err
	}
	lc, err := clients.Lightspeed(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	d := &setup.LightspeedDiscovery{AccountID: int64(pair.AccountID), AccountName: "Bench"}
	for sh, err := range lc.Shops.ListIter(ctx, lightspeed.NewQuery().Limit(lightspeed.MaxLimit)) {
		if err != nil {
			return nil, fmt.Errorf("list shops: %w", err)
		}
		d.Shops = append(d.Shops, setup.LSShop{ID: sh.ShopID, Name: sh.Name, TimeZone: sh.TimeZone})
	}
	for e, err := range lc.Employees.ListIter(ctx, lightspeed.NewQuery().Limit(lightspeed.MaxLimit)) {
		if err != nil {
			return nil, fmt.Errorf("list employees: %w", err)
		}
		d.Employees = append(d.Employees, setup.LSEmployee{ID: e.EmployeeID, Name: strings.TrimSpace(e.FirstName + " " + e.LastName)})
	}
	for r, err := range lc.Registers.ListIter(ctx, lightspeed.NewQuery().Limit(lightspeed.MaxLimit)) {
		if err != nil {
			return nil, fmt.Errorf("list registers: %w", err)
		}
		d.Registers = append(d.Registers, setup.LSRegister{ID: r.RegisterID, Name: r.Name, ShopID: r.ShopID})
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := setup.SaveDiscovery(ctx, tx, acct.ID, &setup.Discovery{Provider: vault.Lightspeed,
			ExternalAccount: strconv.Itoa(pair.AccountID), Lightspeed: d}); err != nil {
			return err
		}
		return setup.UpsertLocations(ctx, tx, acct.ID, d.Shops)
	})
	if err != nil {
		return nil, fmt.Errorf("store discovery: %w", err)
	}
	store := setup.NewStore(pool)
	actor := tenants.Actor{UserID: owner.ID, Email: owner.Email}
	var shops []string
	for _, sh := range d.Shops {
		shops = append(shops, strconv.FormatInt(sh.ID, 10))
	}
	if _, err := store.SaveLocations(ctx, acct.ID, actor, shops, shops); err != nil {
		return nil, err
	}
	if _, err := store.Update(ctx, acct.ID, actor, func(s *setup.Settings) error {
		s.DataModel, s.CustomerTarget, s.History = setup.ModelClassic, setup.TargetContact, setup.HistoryAll
		return nil
	}); err != nil {
		return nil, err
	}
	if err := jobs.EnsureStreams(ctx, pool, acct.ID); err != nil {
		return nil, err
	}
	l := ledger.New(pool)
	engine := sync.New(l, mapping.NewStore(pool), clients, jobs.SetupConfig{Setup: store}, nil, sync.Options{Reserve: -1})
	return &benchTenant{tenant: acct.ID, shops: shops, ls: lc, engine: engine, ledger: l}, nil
}

// provisionOrg creates in a sandbox org every object and field the data
// model needs, as the setup check's "Create them for me" would.
func provisionOrg(sf *sfsandbox.Server, model setup.DataModel) error {
	reqs := mapping.RequiredFor(model)
	for _, r := range reqs {
		if r.IsObject() {
			if err := sf.AddCustomObject(r.Object, r.Label, r.PluralLabel); err != nil {
				return fmt.Errorf("create %s: %w", r.Object, err)
			}
		}
	}
	for _, r := range reqs {
		if r.IsObject() {
			continue
		}
		spec := sfsandbox.FieldSpec{Name: r.Field, Label: r.Label, Type: r.Type, Length: r.Length, Precision: r.Precision,
			Scale: r.Scale, ExternalID: r.ExternalID, Unique: r.Unique, ReferenceTo: r.ReferenceTo}
		if err := sf.AddCustomField(r.Object, spec); err != nil && !strings.Contains(err.Error(), "exists") {
			return fmt.Errorf("create %s.%s: %w", r.Object, r.Field, err)
		}
	}
	return nil
}

// peakRSSMB is the process's peak resident set (VmHWM), in MB.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return round1(kb / 1024)
			}
		}
	}
	return 0
}

// callsSince lists the calls made after before, by method and resource
// (the sandboxes name resources by route, ids left out), most first.
func callsSince(before, after map[string]int) string {
	count := maps.Clone(after)
	for k, n := range before {
		count[k] -= n
	}
	keys := slices.Collect(maps.Keys(count))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(count[b]-count[a], strings.Compare(a, b)) })
	var out []string
	for _, k := range keys {
		if count[k] > 0 {
			out = append(out, fmt.Sprintf("%s %d", k, count[k]))
		}
	}
	return strings.Join(out, ", ")
}

// sfCalls are the Salesforce sandbox's calls so far by method and resource.
func sfCalls(sf *sfsandbox.Server) map[string]int {
	out := map[string]int{}
	for _, c := range sf.Stats().Calls {
		out[c.Method+" "+c.Resource] += c.Count
	}
	return out
}

// lsCalls are the Lightspeed sandbox's calls so far by method and resource.
func lsCalls(ls *lssandbox.Server) map[string]int {
	out := map[string]int{}
	for res, byMethod := range ls.Stats().ByResource {
		for method, n := range byMethod {
			out[method+" "+res] += n
		}
	}
	return out
}

// engineHeap tracks the heap the engine itself holds (allocated under
// sync.Engine's calls: pages, chunks, batches, requests), which the
// sandboxes' records sharing this process would otherwise hide in the
// process's figures. It reads the heap profile (a sample of allocations,
// as of the last collection) every interval and keeps the largest total.
type engineHeap struct {
	mu   gosync.Mutex
	max  int64
	prof []byte // the heap profile of the peak
}

// watch samples until stop is called.
func (h *engineHeap) watch(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			n, prof, err := engineInUse()
			if err != nil {
				continue
			}
			h.mu.Lock()
			if n > h.max {
				h.max, h.prof = n, prof
			}
			h.mu.Unlock()
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func (h *engineHeap) profile() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.prof
}

func (h *engineHeap) mb() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return round1(float64(h.max) / (1 << 20))
}

// engineInUse sums the in-use bytes of the heap profile's samples
// allocated under sync.Engine.
func engineInUse() (int64, []byte, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&buf, 0); err != nil {
		return 0, nil, err
	}
	p, err := profile.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return 0, nil, err
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "inuse_space" {
			idx = i
		}
	}
	if idx < 0 {
		return 0, nil, fmt.Errorf("no inuse_space in the heap profile")
	}
	var total int64
	for _, smp := range p.Sample {
		if underEngine(smp) {
			total += smp.Value[idx]
		}
	}
	return total, buf.Bytes(), nil
}

func underEngine(s *profile.Sample) bool {
	for _, loc := range s.Location {
		for _, l := range loc.Line {
			if l.Function != nil && strings.Contains(l.Function.Name, "/jobs/sync.(*Engine).") {
				return true
			}
		}
	}
	return false
}

// heapInUseMB is the heap in use after a collection, in MB.
func heapInUseMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return round1(float64(m.HeapInuse) / (1 << 20))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
