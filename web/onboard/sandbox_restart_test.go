package onboard_test

import (
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
	"github.com/tandemsync/tandem/web/onboard"
)

// After `tandem dev` restarts, its sandboxes know nothing of the last run:
// no connection may still say connected, links and cursors into vanished
// records go, the Salesforce check is cleared, and the settings stay.
func TestForgetSandboxConnections(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	keys, err := vault.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(pool, keys)
	store := tenants.NewStore(pool, tenants.WithPasswordParams(tenants.PasswordParams{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}))
	tn, _, err := store.SignUp(ctx, tenants.SignUpParams{BusinessName: "Demo Boutique", Email: "demo@shop.example", Password: "a good password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Save(ctx, tn.ID, vault.Lightspeed, connect.LightspeedConnection(lightspeed.Token{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}, 7, "Demo")); err != nil {
		t.Fatal(err)
	}
	if err := v.Save(ctx, tn.ID, vault.Salesforce, connect.SalesforceConnection(salesforce.Token{AccessToken: "a", RefreshToken: "r", InstanceURL: "http://sf.test", ID: "http://sf.test/id/00D/005"}, "http://sf.test", "Org")); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO links (tenant_id, kind, ls_id, sf_id) VALUES ($1, 'customer', '1', '003A')`, tn.ID); err != nil {
		t.Fatal(err)
	}
	sets := setup.NewStore(pool)
	if _, err := sets.Update(ctx, tn.ID, tenants.Actor{}, func(s *setup.Settings) error {
		s.DataModel, s.History = setup.ModelClassic, setup.History30d
		s.SalesforceCheck = &setup.CheckResult{Model: setup.ModelClassic, CheckedAt: time.Now()}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	n, err := onboard.ForgetSandboxConnections(ctx, pool, v)
	if err != nil || n != 2 {
		t.Fatalf("ForgetSandboxConnections = %d, %v; want 2", n, err)
	}
	for _, p := range []string{vault.Lightspeed, vault.Salesforce} {
		c, err := v.Get(ctx, tn.ID, p)
		if err != nil || c.Status != vault.StatusDisconnected || c.Tokens.AccessToken != "" {
			t.Errorf("%s after restart: %+v, %v", p, c.Status, err)
		}
	}
	var links int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM links WHERE tenant_id = $1`, tn.ID).Scan(&links); err != nil || links != 0 {
		t.Errorf("links left: %d, %v", links, err)
	}
	st, err := sets.Settings(ctx, tn.ID)
	if err != nil || st.SalesforceCheck != nil || st.DataModel != setup.ModelClassic || st.History != setup.History30d {
		t.Errorf("settings after restart: %+v, %v", st, err)
	}
	// A second start finds nothing more to do.
	if n, err := onboard.ForgetSandboxConnections(ctx, pool, v); err != nil || n != 0 {
		t.Errorf("second call = %d, %v", n, err)
	}
}
