package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
	"github.com/tandemsync/tandem/web"
)

// setupApp is a Tandem web app whose Salesforce is an in-process sandbox,
// reached through deny: a front that can answer the Tooling API the way
// Salesforce answers a user without the "Customize Application" permission.
type setupApp struct {
	*app
	sf     *sfsandbox.Server
	sfURL  string
	vault  *vault.Vault
	tenant tenants.Tenant
	owner  tenants.User
	deny   bool // set before requests: refuse Tooling creates
}

// insufficientAccess is the body Salesforce sends when the user may not
// change the org's metadata.
const insufficientAccess = `[{"message":"insufficient access rights on object id","errorCode":"INSUFFICIENT_ACCESS_OR_READONLY","fields":[]}]`

func newSetupApp(t *testing.T, opts sfsandbox.Options) *setupApp {
	t.Helper()
	sa := &setupApp{sf: sfsandbox.New(opts)}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sa.deny && r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/tooling/sobjects/") {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(insufficientAccess))
			return
		}
		sa.sf.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	t.Cleanup(sa.sf.Close)
	sa.sfURL = front.URL
	keys, err := vault.NewKeyRing(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	sa.app = newApp(t, func(c *web.Config) {
		sa.vault = vault.New(c.Pool, keys)
		c.Vault = sa.vault
		c.Providers = connect.Providers{
			Lightspeed: connect.LightspeedProvider{ClientID: "ls-client", ClientSecret: "ls-secret",
				AuthURL: "http://127.0.0.1:1", APIURL: "http://127.0.0.1:1"},
			Salesforce: connect.SalesforceProvider{ClientID: sfsandbox.DefaultClientID, ClientSecret: sfsandbox.DefaultClientSecret,
				ProductionLoginURL: front.URL, SandboxLoginURL: front.URL},
		}
	})
	sa.tenant, sa.owner = sa.signUp("Harbour Bikes", "owner@harbour.example")
	return sa
}

// connectSalesforce stores a Salesforce connection as the callback would.
func (sa *setupApp) connectSalesforce() {
	sa.t.Helper()
	tr := sa.sf.MintToken(sa.sfURL)
	tok := salesforce.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID}
	if err := sa.vault.Save(context.Background(), sa.tenant.ID, vault.Salesforce, connect.SalesforceConnection(tok, sa.sfURL, sfsandbox.DefaultOrgName)); err != nil {
		sa.t.Fatal(err)
	}
}

// connectLightspeed stores a Lightspeed connection (never used for calls
// here: the setup pages read shops from the locations table).
func (sa *setupApp) connectLightspeed() {
	sa.t.Helper()
	tok := lightspeed.Token{AccessToken: "ls-access", RefreshToken: "ls-refresh", Expiry: time.Now().Add(time.Hour)}
	if err := sa.vault.Save(context.Background(), sa.tenant.ID, vault.Lightspeed, connect.LightspeedConnection(tok, 41, "Harbour Bikes")); err != nil {
		sa.t.Fatal(err)
	}
}

func (sa *setupApp) addShop(id, name string, enabled, isNew bool) {
	sa.t.Helper()
	_, err := sa.pool.Exec(context.Background(), `INSERT INTO locations (tenant_id, ls_shop_id, name, enabled, is_new) VALUES ($1, $2, $3, $4, $5)`,
		sa.tenant.ID, id, name, enabled, isNew)
	if err != nil {
		sa.t.Fatal(err)
	}
}

// addMember adds a user with role to the tenant.
func (sa *setupApp) addMember(email string, role tenants.Role) {
	sa.t.Helper()
	other, u := sa.signUp("Other "+email, email)
	ctx := context.Background()
	if _, err := sa.pool.Exec(ctx, `DELETE FROM memberships WHERE tenant_id = $1`, other.ID); err != nil {
		sa.t.Fatal(err)
	}
	if _, err := sa.pool.Exec(ctx, `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)`, sa.tenant.ID, u.ID, string(role)); err != nil {
		sa.t.Fatal(err)
	}
}

func (sa *setupApp) settings() setup.Settings {
	sa.t.Helper()
	st, err := setup.NewStore(sa.pool).Settings(context.Background(), sa.tenant.ID)
	if err != nil {
		sa.t.Fatal(err)
	}
	return st
}

// ownerBrowser is the owner, logged in.
func (sa *setupApp) ownerBrowser() *browser {
	sa.t.Helper()
	b := sa.browser()
	if p := b.logIn("owner@harbour.example", "a good password"); p.status() != http.StatusOK {
		sa.t.Fatalf("log in: %d at %s", p.status(), p.path())
	}
	return b
}

// send submits the form matched by sel on p with every hidden input (all
// values of repeated names) plus fields.
func (b *browser) send(p page, sel string, fields url.Values) page {
	b.t.Helper()
	form := p.doc.Find(sel)
	if form.Length() != 1 {
		b.t.Fatalf("%s: %d forms match %q", p.path(), form.Length(), sel)
	}
	v := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		v.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	for k, vals := range fields {
		v[k] = vals
	}
	return b.post(form.AttrOr("action", ""), v)
}

// rowStatuses maps each requirement row of the check page to its status.
func rowStatuses(p page) map[string]string {
	out := map[string]string{}
	p.doc.Find("[data-testid=setup-items] tbody tr").Each(func(_ int, s *goquery.Selection) {
		out[s.AttrOr("data-key", "")] = s.AttrOr("data-status", "")
	})
	return out
}

func countStatus(m map[string]string, status string) int {
	n := 0
	for _, s := range m {
		if s == status {
			n++
		}
	}
	return n
}

func TestSetupEntryRoutesToNextStep(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	b := sa.ownerBrowser()

	// Nothing connected: the first step is connecting Lightspeed.
	if p := b.get("/setup"); p.path() != "/connect/lightspeed" {
		t.Errorf("/setup with nothing connected went to %s", p.path())
	}
	sa.connectLightspeed()
	sa.connectSalesforce()
	p := b.get("/setup")
	// The data model comes first: the setup check depends on it.
	if p.path() != "/setup/model" || p.status() != http.StatusOK {
		t.Fatalf("/setup with both connected: %d at %s", p.status(), p.path())
	}
	if got := p.doc.Find("[data-testid=setup-progress] li[data-done=true]").Length(); got != 2 {
		t.Errorf("%d steps done, want the 2 connections", got)
	}
	if p.has("[data-testid=setup-next]") {
		t.Error("the page of the next step links to itself as next")
	}
	if href := b.get("/setup/history").doc.Find("[data-testid=setup-next]").AttrOr("href", ""); href != "/setup/model" {
		t.Errorf("next link on another step = %q", href)
	}
}

func TestSetupFieldsGateWithoutSalesforce(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	b := sa.ownerBrowser()
	p := b.get("/setup/salesforce-fields")
	if p.status() != http.StatusOK || !strings.Contains(p.text("[data-testid=setup-gate]"), "Connect Salesforce first") {
		t.Fatalf("gate: %d %q", p.status(), p.text("main"))
	}
	if p.has("[data-testid=create-fields]") {
		t.Error("create button shown without a connection")
	}
	if got := p.doc.Find("[data-step=salesforce_fields]").Text(); !strings.Contains(got, "Connect Salesforce first.") {
		t.Errorf("progress does not explain the blocked step: %q", got)
	}
}

// TestSetupFieldsCreateAndRecheck is the happy path: the check lists every
// requirement as missing, Create them for me creates them through the
// Tooling API, and the page turns green.
func TestSetupFieldsCreateAndRecheck(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectLightspeed()
	sa.connectSalesforce()
	b := sa.ownerBrowser()

	p := b.get("/setup/salesforce-fields")
	want := len(mapping.RequiredFor(setup.ModelClassic))
	rows := rowStatuses(p)
	if len(rows) != want || countStatus(rows, "missing") != want {
		t.Fatalf("first check: %v", rows)
	}
	if !p.has("[data-testid=create-fields]") || p.has("[data-testid=manual-steps]") {
		t.Error("want the create button and no manual steps")
	}
	if got := p.text("tr[data-key='Contact.Lightspeed_Customer_ID__c']"); !strings.Contains(got, "Text(40)") || !strings.Contains(got, "External ID") || !strings.Contains(got, "Unique") {
		t.Errorf("key field row: %q", got)
	}
	if st := sa.settings(); st.SalesforceCheck == nil || len(st.SalesforceCheck.Missing()) != want {
		t.Errorf("check not stored: %+v", st.SalesforceCheck)
	}

	p = b.send(p, "form[action='/setup/salesforce-fields/create']", nil)
	if p.path() != "/setup/salesforce-fields" || p.status() != http.StatusOK {
		t.Fatalf("after create: %d at %s", p.status(), p.path())
	}
	if got := p.text(".flash.success"); !strings.Contains(got, "Created") {
		t.Errorf("flash = %q", got)
	}
	rows = rowStatuses(p)
	if countStatus(rows, "present") != want || !p.has("[data-testid=check-complete]") || p.has("[data-testid=create-fields]") {
		t.Errorf("after create: %v", rows)
	}
	if !strings.Contains(p.text("tr[data-key='Opportunity.Lightspeed_Sale_ID__c']"), "created") {
		t.Error("created items are not marked created")
	}
	// The org really has them, as an external ID.
	c := sfClient(t, sa)
	d, err := c.Describe(t.Context(), "Contact")
	if err != nil {
		t.Fatal(err)
	}
	if f := d.Field("Lightspeed_Customer_ID__c"); f == nil || !f.ExternalID || !f.Unique {
		t.Errorf("Contact.Lightspeed_Customer_ID__c in the org: %+v", f)
	}
	if !sa.settings().SalesforceCheck.Complete() {
		t.Error("stored check not complete")
	}
	if n := sa.count("audit_log", "tenant_id = $1 AND action = $2", sa.tenant.ID, setup.ActionSetupChange); n < 2 {
		t.Errorf("%d setup audit entries", n)
	}

	// Re-check is one click and stays green.
	p = b.send(p, "form[action='/setup/salesforce-fields/check']", nil)
	if got := p.text(".flash.success"); !strings.Contains(got, "everything Tandem needs") || p.path() != "/setup/salesforce-fields" {
		t.Errorf("re-check: %q at %s", got, p.path())
	}
	if href := p.doc.Find("[data-testid=next-step]").AttrOr("href", ""); href != "/setup" {
		t.Errorf("continue link = %q", href)
	}
}

func sfClient(t *testing.T, sa *setupApp) *salesforce.Client {
	t.Helper()
	tr := sa.sf.MintToken(sa.sfURL)
	c, err := salesforce.NewClient(nil, salesforce.Token{AccessToken: tr.AccessToken, InstanceURL: tr.InstanceURL, ID: tr.ID})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSetupFieldsPermissionDenied: Salesforce refuses the Tooling API with
// its real error body; the page quotes it and shows the manual steps, and
// a re-check after the admin created the fields by hand turns green.
func TestSetupFieldsPermissionDenied(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectLightspeed()
	sa.connectSalesforce()
	b := sa.ownerBrowser()
	p := b.get("/setup/salesforce-fields")

	sa.deny = true
	p = b.send(p, "form[action='/setup/salesforce-fields/create']", nil)
	if p.path() != "/setup/salesforce-fields" {
		t.Fatalf("after create: %s", p.path())
	}
	if got := p.text(".flash.error"); !strings.Contains(got, "did not let your user create fields") {
		t.Errorf("flash = %q", got)
	}
	if got := p.text("[data-testid=create-error]"); !strings.Contains(got, "INSUFFICIENT_ACCESS_OR_READONLY: insufficient access rights on object id") {
		t.Errorf("API error not quoted: %q", got)
	}
	manual := p.text("[data-testid=manual-steps]")
	for _, want := range []string{"Customize Application", "Setup → Object Manager → Contact → Fields & Relationships → New",
		"Lightspeed_Customer_ID__c", "Length: 40", `Tick "External ID"`, `Tick "Unique"`, "Setup → Object Manager → Create → Custom Object"} {
		if !strings.Contains(manual, want) {
			t.Errorf("manual steps lack %q", want)
		}
	}
	if p.has("[data-testid=create-fields]") {
		t.Error("create button still offered after a permission refusal")
	}
	if st := sa.settings(); st.SalesforceCheck.Create == nil || !st.SalesforceCheck.Create.PermissionDenied {
		t.Errorf("outcome not stored: %+v", st.SalesforceCheck.Create)
	}

	// The admin creates everything by hand; one click re-checks.
	for _, r := range mapping.RequiredFor(setup.ModelClassic) {
		var err error
		if r.IsObject() {
			err = sa.sf.AddCustomObject(r.Object, r.Label, r.PluralLabel)
		} else {
			err = sa.sf.AddCustomField(r.Object, sfsandbox.FieldSpec{Name: r.Field, Type: r.Type, Length: r.Length, Precision: r.Precision,
				Scale: r.Scale, ExternalID: r.ExternalID, Unique: r.Unique, ReferenceTo: r.ReferenceTo})
		}
		if err != nil {
			t.Fatalf("by hand %s: %v", r.Key(), err)
		}
	}
	p = b.send(p, "form[action='/setup/salesforce-fields/check']", nil)
	if !p.has("[data-testid=check-complete]") || p.has("[data-testid=manual-steps]") {
		t.Errorf("after re-check: %v", rowStatuses(p))
	}
}

// TestSetupViewerSeesButCannotChange: a viewer sees every page read-only
// and every form is refused.
func TestSetupViewerSeesButCannotChange(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectLightspeed()
	sa.connectSalesforce()
	sa.addShop("1", "Main Street", false, true)
	sa.addMember("viewer@harbour.example", tenants.RoleViewer)
	b := sa.browser()
	b.logIn("viewer@harbour.example", "a good password")

	for _, path := range []string{"/setup/salesforce-fields", "/setup/model", "/setup/locations", "/setup/history"} {
		p := b.get(path)
		if p.status() != http.StatusOK || !p.has("[data-testid=read-only]") {
			t.Errorf("%s: %d, read-only notice %v", path, p.status(), p.has("[data-testid=read-only]"))
		}
		if p.has("main button[type=submit]") {
			t.Errorf("%s offers a submit button to a viewer", path)
		}
	}
	hist := b.get("/setup/history")
	csrf := hist.doc.Find("input[name=csrf]").First().AttrOr("value", "")
	formTenant := hist.doc.Find("input[name=form_tenant]").First().AttrOr("value", "")
	for path, form := range map[string]url.Values{
		"/setup/salesforce-fields/create": {},
		"/setup/salesforce-fields/check":  {},
		"/setup/model":                    {"model": {"custom"}, "customer": {"contact"}},
		"/setup/locations":                {"shown": {"1"}, "enabled": {"1"}},
		"/setup/history":                  {"history": {"all"}},
	} {
		form.Set("csrf", csrf)
		form.Set("form_tenant", formTenant)
		if p := b.post(path, form); p.status() != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d", path, p.status())
		}
	}
	if st := sa.settings(); st.DataModel != "" || st.History != "" || st.LocationsSaved || st.SalesforceCheck != nil {
		t.Errorf("a viewer changed settings: %+v", st)
	}
	if n := sa.count("locations", "tenant_id = $1 AND (enabled OR NOT is_new)", sa.tenant.ID); n != 0 {
		t.Errorf("a viewer changed locations")
	}
}

func TestSetupCSRF(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	b := sa.ownerBrowser()
	if p := b.post("/setup/history", url.Values{"history": {"all"}}); p.status() != http.StatusForbidden {
		t.Errorf("POST without a token: %d", p.status())
	}
	if sa.settings().History != "" {
		t.Error("saved without a token")
	}
}

func TestSetupModel(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectLightspeed()
	sa.connectSalesforce()
	b := sa.ownerBrowser()

	p := b.get("/setup/model")
	if p.status() != http.StatusOK {
		t.Fatalf("model page: %d", p.status())
	}
	for _, want := range []string{"Classic", "Custom", "Opportunity", "custom objects"} {
		if !strings.Contains(p.text("[data-testid=model-form]"), want) {
			t.Errorf("model page lacks %q", want)
		}
	}
	// No person accounts in this org: offered, but disabled with a reason.
	pa := p.doc.Find("input[name=customer][value=person_account]")
	if _, disabled := pa.Attr("disabled"); !disabled || !strings.Contains(p.text("[data-testid=model-form]"), "does not have Person Accounts") {
		t.Error("person accounts not disabled in an org without them")
	}

	for _, tc := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"model": {"fancy"}}, "Choose Classic or Custom."},
		{url.Values{"model": {"classic"}, "customer": {"lead"}}, "Choose Contacts or Person Accounts."},
		{url.Values{"model": {"classic"}, "customer": {"person_account"}}, "does not have Person Accounts enabled"},
	} {
		got := b.send(p, "[data-testid=model-form]", tc.form)
		if got.status() != http.StatusUnprocessableEntity || !strings.Contains(got.text("[data-testid=form-error]"), tc.msg) {
			t.Errorf("%v: %d %q", tc.form, got.status(), got.text("[data-testid=form-error]"))
		}
	}
	if sa.settings().DataModel != "" {
		t.Error("an invalid choice was saved")
	}

	// Custom needs custom objects: the check runs again and the wizard
	// goes back to it.
	got := b.send(p, "[data-testid=model-form]", url.Values{"model": {"custom"}, "customer": {"contact"}})
	if got.path() != "/setup/salesforce-fields" {
		t.Fatalf("after choosing custom: %s", got.path())
	}
	if rows := rowStatuses(got); rows["Lightspeed_Sale__c"] != "missing" || rows["Opportunity.Lightspeed_Sale_ID__c"] != "" {
		t.Errorf("check after the change is not for the custom model: %v", rows)
	}
	st := sa.settings()
	if st.DataModel != setup.ModelCustom || st.CustomerTarget != setup.TargetContact || st.SalesforceCheck.Model != setup.ModelCustom {
		t.Errorf("stored: %+v", st)
	}
	if !strings.Contains(got.text(".flash.info"), "Custom model") {
		t.Errorf("flash = %q", got.text(".flash.info"))
	}
}

func TestSetupModelPersonAccounts(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{PersonAccounts: true})
	sa.connectLightspeed()
	sa.connectSalesforce()
	b := sa.ownerBrowser()
	b.get("/setup/salesforce-fields") // the check detects person accounts
	p := b.get("/setup/model")
	if _, disabled := p.doc.Find("input[name=customer][value=person_account]").Attr("disabled"); disabled {
		t.Fatal("person accounts disabled in an org that has them")
	}
	b.send(p, "[data-testid=model-form]", url.Values{"model": {"classic"}, "customer": {"person_account"}})
	if st := sa.settings(); st.CustomerTarget != setup.TargetPersonAccount || st.DataModel != setup.ModelClassic {
		t.Errorf("stored: %+v", st)
	}
}

func TestSetupLocations(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectLightspeed()
	sa.addShop("1", "Main Street", false, true)
	sa.addShop("2", "Harbour", false, true)
	sa.addShop("3", "Warehouse", false, false)
	b := sa.ownerBrowser()

	p := b.get("/setup/locations")
	if got := p.doc.Find("[data-testid=new-badge]").Length(); got != 2 {
		t.Errorf("%d new badges, want 2", got)
	}
	if !p.has("[data-shop='1'] [data-testid=new-badge]") || p.has("[data-shop='3'] [data-testid=new-badge]") {
		t.Error("badges on the wrong shops")
	}

	got := b.send(p, "[data-testid=locations-form]", nil)
	if got.status() != http.StatusUnprocessableEntity || !strings.Contains(got.text("[data-testid=form-error]"), "at least one store") {
		t.Errorf("no store enabled: %d %q", got.status(), got.text("[data-testid=form-error]"))
	}
	forged := b.send(p, "[data-testid=locations-form]", url.Values{"enabled": {"99"}})
	if forged.status() != http.StatusUnprocessableEntity {
		t.Errorf("unknown shop: %d", forged.status())
	}

	got = b.send(p, "[data-testid=locations-form]", url.Values{"enabled": {"1", "3"}})
	if got.status() != http.StatusOK || !strings.Contains(got.text(".flash.success"), "2 of 3 stores") {
		t.Errorf("save: %d at %s, flash %q", got.status(), got.path(), got.text(".flash.success"))
	}
	p = b.get("/setup/locations")
	if p.has("[data-testid=new-badge]") {
		t.Error("new badges survive a save")
	}
	for id, want := range map[string]bool{"1": true, "2": false, "3": true} {
		if _, on := p.doc.Find("[data-shop='" + id + "'] input[name=enabled]").Attr("checked"); on != want {
			t.Errorf("shop %s enabled = %v", id, on)
		}
	}
	// A shop discovered later shows up new.
	sa.addShop("4", "Pop-up", false, true)
	p = b.get("/setup/locations")
	if !p.has("[data-shop='4'] [data-testid=new-badge]") || p.doc.Find("[data-testid=new-badge]").Length() != 1 {
		t.Error("a newly discovered shop is not flagged new")
	}
	var detail map[string]any
	if err := sa.pool.QueryRow(t.Context(), `SELECT detail FROM audit_log WHERE tenant_id = $1 AND action = $2 AND detail ? 'locations'`,
		sa.tenant.ID, setup.ActionSetupChange).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(detail["locations"]); string(b) != `{"disabled":[],"enabled":["1","3"]}` {
		t.Errorf("audit: %s", b)
	}
}

func TestSetupLocationsGate(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	p := sa.ownerBrowser().get("/setup/locations")
	if !strings.Contains(p.text("[data-testid=setup-gate]"), "Connect Lightspeed first") {
		t.Errorf("no gate: %q", p.text("main"))
	}
}

// TestSetupHistoryFinishes walks the last step: an invalid choice is
// refused, a valid one saved, and a finished setup lands on the dashboard.
func TestSetupHistoryFinishes(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectLightspeed()
	sa.connectSalesforce()
	sa.addShop("1", "Main Street", false, true)
	b := sa.ownerBrowser()
	// Fields, model and locations done.
	p := b.get("/setup/salesforce-fields")
	b.send(p, "form[action='/setup/salesforce-fields/create']", nil)
	b.send(b.get("/setup/model"), "[data-testid=model-form]", url.Values{"model": {"classic"}, "customer": {"contact"}})
	got := b.send(b.get("/setup/locations"), "[data-testid=locations-form]", url.Values{"enabled": {"1"}})
	if got.path() != "/setup/history" {
		t.Fatalf("after locations the wizard went to %s", got.path())
	}

	p = b.get("/setup/history")
	for _, want := range []string{"None", "30 days", "1 year", "Everything"} {
		if !strings.Contains(p.text("[data-testid=history-form]"), want) {
			t.Errorf("history page lacks %q", want)
		}
	}
	bad := b.send(p, "[data-testid=history-form]", url.Values{"history": {"2y"}})
	if bad.status() != http.StatusUnprocessableEntity || !strings.Contains(bad.text("[data-testid=form-error]"), "how far back") {
		t.Errorf("invalid history: %d", bad.status())
	}
	done := b.send(p, "[data-testid=history-form]", url.Values{"history": {"1y"}})
	if done.path() != "/dashboard" || !strings.Contains(done.text(".flash.success"), "Setup is complete") {
		t.Errorf("after the last step: %s %q", done.path(), done.text(".flash"))
	}
	if st := sa.settings(); st.History != setup.History1y {
		t.Errorf("history stored as %q", st.History)
	}
	p = b.get("/setup/history")
	if _, on := p.doc.Find("input[name=history][value='1y']").Attr("checked"); !on {
		t.Error("the saved choice is not selected")
	}
	if p.has("[data-testid=setup-next]") || !p.has("[data-testid=setup-complete]") {
		t.Error("progress does not say setup is complete")
	}
}

// TestSetupFieldsCheckFails: when Salesforce refuses the describe the page
// says so in words, with Salesforce's own code, and stores nothing.
func TestSetupFieldsCheckFails(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectSalesforce()
	sa.sf.SetFaults(sfsandbox.Faults{ErrorRate: 1, Status: http.StatusForbidden, ErrorCode: "API_DISABLED_FOR_ORG",
		Message: "The REST API is not enabled for this Organization."})
	b := sa.ownerBrowser()
	p := b.get("/setup/salesforce-fields")
	got := p.text("[data-testid=check-error]")
	if p.status() != http.StatusOK || !strings.Contains(got, "Tandem could not read your Salesforce org") || !strings.Contains(got, "API_DISABLED_FOR_ORG") {
		t.Errorf("check error: %d %q", p.status(), got)
	}
	if rows := rowStatuses(p); countStatus(rows, "unknown") != len(mapping.RequiredFor(setup.ModelClassic)) {
		t.Errorf("rows after a failed check: %v", rows)
	}
	if sa.settings().SalesforceCheck != nil {
		t.Error("a failed check was stored")
	}
	// Re-check reports the failure as a flash and keeps the page.
	p = b.send(p, "form[action='/setup/salesforce-fields/check']", nil)
	if !strings.Contains(p.text(".flash.error"), "API_DISABLED_FOR_ORG") {
		t.Errorf("re-check flash: %q", p.text(".flash"))
	}
}

// TestSetupFieldsNeedsReconnect: a connection Salesforce refused is not
// used; the page explains that it must be reconnected first.
func TestSetupFieldsNeedsReconnect(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectSalesforce()
	if err := sa.vault.MarkNeedsReauth(t.Context(), sa.tenant.ID, vault.Salesforce, "refresh token revoked"); err != nil {
		t.Fatal(err)
	}
	before := sa.sf.Stats().Total
	p := sa.ownerBrowser().get("/setup/salesforce-fields")
	if got := p.text("[data-testid=setup-gate]"); !strings.Contains(got, "needs to be reconnected") {
		t.Errorf("gate: %q", got)
	}
	if sa.sf.Stats().Total != before {
		t.Error("a refused connection was used")
	}
}

// TestSetupLocationsOddShopIDs: a forged form whose shop id Postgres cannot
// hold as text (NUL, invalid UTF-8) is an unknown shop, not a 500.
func TestSetupLocationsOddShopIDs(t *testing.T) {
	t.Parallel()
	sa := newSetupApp(t, sfsandbox.Options{})
	sa.connectLightspeed()
	sa.addShop("1", "Main Street", false, true)
	b := sa.ownerBrowser()
	p := b.get("/setup/locations")
	for _, id := range []string{"1\x00", "\xff"} {
		got := b.send(p, "[data-testid=locations-form]", url.Values{"shown": {"1", id}, "enabled": {id}})
		if got.status() != http.StatusUnprocessableEntity || !strings.Contains(got.text("[data-testid=form-error]"), "list of stores changed") {
			t.Errorf("shop id %q: %d %q; want 422 saying the list changed", id, got.status(), got.text("[data-testid=form-error]"))
		}
	}
}
