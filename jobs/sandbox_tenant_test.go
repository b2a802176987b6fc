package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// sandboxTenant is a tenant connected to both in-process sandboxes through
// the vault, as production connects them, with setup finished (Classic
// model, no history) and its streams created.
type sandboxTenant struct {
	pool  *pgxpool.Pool
	ls    *lssandbox.Server
	sf    *sfsandbox.Server
	lsURL string
	sfURL string
	id    string
	// lsAccount is the tenant's Lightspeed account id.
	lsAccount int64
	setup     *setup.Store
	clients   *connect.Clients
	// usage counts the clients' calls per tenant and day (api_usage).
	usage *connect.Usage
}

type sandboxOptions struct {
	ls lssandbox.Options
	// shops are the Lightspeed shop ids turned on (a sales stream each);
	// none leaves the tenant with its customer streams only.
	shops  []string
	limits lightspeed.LimitsOptions
}

func newSandboxTenant(tb testing.TB, name string, o sandboxOptions) *sandboxTenant {
	tb.Helper()
	ctx := tb.Context()
	pool := dbtest.New(tb)
	keys, err := vault.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	v := vault.New(pool, keys)
	ls := lssandbox.New(o.ls)
	lsSrv := httptest.NewServer(ls)
	tb.Cleanup(lsSrv.Close)
	sf := sfsandbox.New(sfsandbox.Options{})
	tb.Cleanup(sf.Close)
	sfSrv := httptest.NewServer(sf)
	tb.Cleanup(sfSrv.Close)
	for _, f := range []sfsandbox.FieldSpec{
		{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 20, ExternalID: true, Unique: true},
		{Name: "Lightspeed_Created_Date__c", Type: "DateTime"},
		{Name: "Lightspeed_Customer_Type__c", Type: "Text", Length: 80},
	} {
		if err := sf.AddCustomField("Contact", f); err != nil {
			tb.Fatal(err)
		}
	}

	acct, owner, err := tenants.NewStore(pool).SignUp(ctx, tenants.SignUpParams{BusinessName: name,
		Email: "owner@tenant.example", Password: "a long enough passphrase"})
	if err != nil {
		tb.Fatal(err)
	}
	pair := ls.MintToken()
	lsTok := lightspeed.Token{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken, Expiry: time.Now().Add(time.Hour)}
	if err := v.Save(ctx, acct.ID, vault.Lightspeed, connect.LightspeedConnection(lsTok, int64(pair.AccountID), "Demo")); err != nil {
		tb.Fatal(err)
	}
	tr := sf.MintToken(sfSrv.URL)
	sfTok := salesforce.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID}
	if err := v.Save(ctx, acct.ID, vault.Salesforce, connect.SalesforceConnection(sfTok, sfSrv.URL, "Org")); err != nil {
		tb.Fatal(err)
	}
	st := setup.NewStore(pool)
	actor := tenants.Actor{UserID: owner.ID, Email: owner.Email}
	if len(o.shops) > 0 {
		// The shops as discovery stores them, then turned on.
		if _, err := pool.Exec(ctx, `INSERT INTO locations (tenant_id, ls_shop_id, name)
			SELECT $1, id, 'Shop ' || id FROM unnest($2::text[]) id`, acct.ID, o.shops); err != nil {
			tb.Fatal(err)
		}
		if _, err := st.SaveLocations(ctx, acct.ID, actor, o.shops, o.shops); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := st.Update(ctx, acct.ID, actor, func(s *setup.Settings) error {
		s.DataModel, s.History = setup.ModelClassic, setup.HistoryNone
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	if err := jobs.EnsureStreams(ctx, pool, acct.ID); err != nil {
		tb.Fatal(err)
	}

	providers := connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret", AuthURL: lsSrv.URL, APIURL: lsSrv.URL},
		Salesforce: connect.SalesforceProvider{ClientID: sfsandbox.DefaultClientID, ClientSecret: sfsandbox.DefaultClientSecret,
			ProductionLoginURL: sfSrv.URL, SandboxLoginURL: sfSrv.URL},
	}
	limits := o.limits
	limits.Store = connect.NewBuckets(pool)
	usage := connect.NewUsage(pool, nil)
	clients, err := connect.New(connect.Config{Vault: v, Providers: providers, Limits: lightspeed.NewLimits(limits), Usage: usage,
		Transport: func(p string, base http.RoundTripper) http.RoundTripper { return sync.CountingTransport(p, base) }})
	if err != nil {
		tb.Fatal(err)
	}
	return &sandboxTenant{pool: pool, ls: ls, sf: sf, lsURL: lsSrv.URL, sfURL: sfSrv.URL, id: acct.ID, lsAccount: int64(pair.AccountID),
		setup: st, clients: clients, usage: usage}
}

// startWorker starts a River client for cfg, as `tandem worker` does, and
// stops it when the test ends.
func (tn *sandboxTenant) startWorker(tb testing.TB, cfg jobs.Config) *river.Client[pgx.Tx] {
	tb.Helper()
	client, err := jobs.NewClient(tn.pool, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := client.Start(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stop)
	})
	return client
}

// lightspeedClient is a client of the tenant's Lightspeed account with a
// token of its own, for a test to read and change records as the
// merchant's till would.
func (tn *sandboxTenant) lightspeedClient(tb testing.TB) *lightspeed.Client {
	tb.Helper()
	c, err := lightspeed.NewClient(nil, lightspeed.Options{BaseURL: tn.lsURL, AccountID: tn.lsAccount,
		Tokens: lightspeed.StaticToken{AccessToken: tn.ls.MintToken().AccessToken, TokenType: "Bearer"}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
