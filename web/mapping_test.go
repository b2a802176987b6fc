package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// newMappingApp is a setup app with both connections, a Loyalty_Tier__c
// Contact field in the org, Salesforce's fields read through the page's
// Refresh button, and Lightspeed's custom fields as discovery found them.
func newMappingApp(t *testing.T) (*setupApp, *browser) {
	t.Helper()
	sa := newSetupApp(t, sfsandbox.Options{})
	for _, f := range []sfsandbox.FieldSpec{
		{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 40, ExternalID: true, Unique: true},
		{Name: "Lightspeed_Created_Date__c", Type: "DateTime"},
		{Name: "Lightspeed_Customer_Type__c", Type: "Text", Length: 255},
		{Name: "Loyalty_Tier__c", Label: "Loyalty Tier", Type: "Text", Length: 40},
	} {
		if err := sa.sf.AddCustomField("Contact", f); err != nil {
			t.Fatal(err)
		}
	}
	sa.connectLightspeed()
	sa.connectSalesforce()
	sa.saveLightspeedFields(setup.LSCustomField{ID: 1, Name: "Stylist", Type: "single_choice"},
		setup.LSCustomField{ID: 2, Name: "Student", Type: "boolean"},
		setup.LSCustomField{ID: 3, Name: "Loyalty tier", Type: "string"},
		setup.LSCustomField{ID: 4, Name: "Member since", Type: "date"})
	b := sa.ownerBrowser()
	p := b.get("/mapping")
	if p.status() != http.StatusOK {
		t.Fatalf("GET /mapping: %d", p.status())
	}
	if p = b.send(p, "form[action='/mapping/refresh']", nil); p.path() != "/mapping" || !strings.Contains(p.text(".flash"), "Read Salesforce's fields again") {
		t.Fatalf("refresh: %s: %q", p.path(), p.text(".flash"))
	}
	return sa, b
}

// saveLightspeedFields stores a Lightspeed discovery with these customer
// custom fields.
func (sa *setupApp) saveLightspeedFields(fields ...setup.LSCustomField) {
	sa.t.Helper()
	d := &setup.Discovery{Provider: vault.Lightspeed, ExternalAccount: "41",
		Lightspeed: &setup.LightspeedDiscovery{AccountID: 41, AccountName: "Harbour Bikes", CustomerFields: fields}}
	if err := pgx.BeginFunc(context.Background(), sa.pool, func(tx pgx.Tx) error {
		return setup.SaveDiscovery(context.Background(), tx, sa.tenant.ID, d)
	}); err != nil {
		sa.t.Fatal(err)
	}
}

// mappingForm is the mapping form's values as the page shows them: every
// hidden input and every select's selected option.
func mappingForm(t *testing.T, p page) url.Values {
	t.Helper()
	form := p.doc.Find("form[data-testid=mapping-form]")
	if form.Length() != 1 {
		t.Fatalf("%s: no mapping form", p.path())
	}
	v := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		v.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	form.Find("select").Each(func(_ int, s *goquery.Selection) {
		v.Set(s.AttrOr("name", ""), s.Find("option[selected]").AttrOr("value", s.Find("option").First().AttrOr("value", "")))
	})
	return v
}

// rowError is the error shown next to the row of the select labelled
// "Salesforce field for <label>".
func rowError(p page, label string) string {
	sel := p.doc.Find(`select[aria-label="Salesforce field for ` + label + `"]`)
	return strings.Join(strings.Fields(sel.Parent().Find(".field-error").Text()), " ")
}

func TestMappingPageRows(t *testing.T) {
	t.Parallel()
	_, b := newMappingApp(t)
	p := b.get("/mapping")
	var customers []string
	p.doc.Find("section[data-testid=section-customers] select[aria-label^='Salesforce field for ']").Each(func(_ int, s *goquery.Selection) {
		customers = append(customers, strings.TrimPrefix(s.AttrOr("aria-label", ""), "Salesforce field for "))
	})
	want := []string{"Type", "First name", "Last name", "Company", "Street address", "Street address 2", "City", "State", "ZIP",
		"Country", "Home phone", "Work phone", "Mobile phone", "Email", "Birth date", "Stylist", "Student", "Loyalty tier",
		"Member since", "Lightspeed Customer ID", "Created date"}
	if strings.Join(customers, "|") != strings.Join(want, "|") {
		t.Errorf("customer rows = %q\nwant %q", customers, want)
	}
	var sales []string
	p.doc.Find("section[data-testid=section-sales] select[aria-label^='Salesforce field for ']").Each(func(_ int, s *goquery.Selection) {
		sales = append(sales, strings.TrimPrefix(s.AttrOr("aria-label", ""), "Salesforce field for "))
	})
	wantSales := []string{"Shop", "Register", "Register employee", "Sales employee", "Channel", "Ticket number", "Completed at",
		"Subtotal", "Discount", "Tax", "Total", "Customer", "Item", "SKU", "Quantity", "Unit price", "Discount", "Line employee",
		"Payment type", "Amount"}
	if strings.Join(sales, "|") != strings.Join(wantSales, "|") {
		t.Errorf("sales rows = %q\nwant %q", sales, wantSales)
	}
	for _, h := range []string{"customers-heading", "sales-heading"} {
		if !p.has("section[aria-labelledby=" + h + "] h2#" + h) {
			t.Errorf("no region labelled by %s", h)
		}
	}
	if !p.has(`select[aria-label="Direction for Email"]`) || p.has(`select[aria-label="Direction for First name"]`) {
		t.Error("direction selects: want one for Email, none for First name")
	}
	first := p.doc.Find(`select[aria-label="Salesforce field for Loyalty tier"] option`).First()
	if first.Text() != "Not synced" || first.AttrOr("value", "x") != "" {
		t.Errorf("first option = %q", first.Text())
	}
	if !p.has(`select[aria-label="Salesforce field for Loyalty tier"] option[value=Loyalty_Tier__c]`) {
		t.Error("the Contact's custom field is not offered")
	}
	if !strings.Contains(p.text(`select[aria-label="Salesforce field for First name"] option[selected]`), "(FirstName) · string(40)") {
		t.Errorf("first name's target shows as %q", p.text(`select[aria-label="Salesforce field for First name"] option[selected]`))
	}
}

// Every refusal stores nothing and says, next to the row, what to change.
func TestMappingSaveRefusals(t *testing.T) {
	t.Parallel()
	sa, b := newMappingApp(t)
	tests := []struct {
		name  string
		set   map[string]string
		label string // the row the error is on ("" for the page's summary)
		want  string
	}{
		{"a checkbox to a date", map[string]string{"map.customers.custom:2": "Birthdate", "map.customers.birth_date": ""},
			"Student", "Student is a checkbox (true or false); Birthdate (Birthdate) is a date field, which cannot hold it."},
		{"a read-only field", map[string]string{"map.customers.created": "CreatedDate"},
			"Created date", "read-only in Salesforce"},
		{"the same target twice", map[string]string{"map.customers.company": "FirstName"},
			"Company", "FirstName is already the Salesforce field for First name"},
		{"a required field without a source", map[string]string{"map.customers.last_name": ""},
			"Last name", "Last Name (LastName) is required in Salesforce"},
		{"a field Salesforce does not have", map[string]string{"map.customers.custom:3": "Nope__c"},
			"Loyalty tier", "Contact has no field Nope__c"},
		{"no direction", map[string]string{"dir.customers.email": "sideways"},
			"Email", "Choose a direction for Email."},
		{"text to a date", map[string]string{"map.sales.sales_employee": "CloseDate"},
			"Sales employee", "cannot hold it"},
		{"nothing mapped", allEmpty(), "", "Map at least one customer field."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := mappingForm(t, b.get("/mapping"))
			for k, v := range tt.set {
				form.Set(k, v)
			}
			p := b.post("/mapping", form)
			if p.status() != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.status())
			}
			got := p.text("[data-testid=form-error]")
			if tt.label != "" {
				got = rowError(p, tt.label)
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("error = %q, want %q", got, tt.want)
			}
			if !strings.Contains(p.text("[data-testid=form-error]"), "Nothing was saved") {
				t.Errorf("summary = %q", p.text("[data-testid=form-error]"))
			}
			// The page keeps what was on screen.
			for k, v := range tt.set {
				if v != "" && !p.has(`select[name="`+k+`"] option[selected][value="`+v+`"]`) && !strings.HasPrefix(k, "dir.") {
					t.Errorf("%s lost its value %s", k, v)
				}
			}
		})
	}
	if n := sa.count("field_mappings", "tenant_id = $1", sa.tenant.ID); n != 0 {
		t.Fatalf("refused saves stored %d rules", n)
	}
	if n := sa.count("audit_log", "tenant_id = $1 AND action = 'mapping.save'", sa.tenant.ID); n != 0 {
		t.Fatalf("refused saves audited %d times", n)
	}
}

func allEmpty() map[string]string {
	out := map[string]string{}
	for _, k := range []string{"type", "first_name", "last_name", "street", "city", "state", "zip", "country", "home_phone",
		"work_phone", "mobile_phone", "email", "birth_date", "customer_id", "created"} {
		out["map.customers."+k] = ""
	}
	return out
}

// A save stores the next version with its conversions, is audit-logged
// with before and after, and warns about truncation; a later Lightspeed
// custom field shows as new; a deleted Salesforce field flags its row and
// the dashboard.
func TestMappingSaveDriftAndNew(t *testing.T) {
	t.Parallel()
	sa, b := newMappingApp(t)
	form := mappingForm(t, b.get("/mapping"))
	form.Set("map.customers.custom:3", "Loyalty_Tier__c")
	form.Set("map.sales.sales_employee", "Description")
	p := b.post("/mapping", form)
	if p.path() != "/mapping" || !strings.Contains(p.text(".flash.success"), "Mapping saved as version 1.") {
		t.Fatalf("save: %d at %s: %q %q", p.status(), p.path(), p.text(".flash"), p.text("[data-testid=form-error]"))
	}
	var transform string
	if err := sa.pool.QueryRow(context.Background(), `SELECT transform FROM field_mappings
		WHERE tenant_id = $1 AND version = 1 AND source_field = 'custom:3' AND target_object = 'Contact' AND target_field = 'Loyalty_Tier__c'`,
		sa.tenant.ID).Scan(&transform); err != nil || transform != "truncate:40" {
		t.Fatalf("loyalty tier rule: %q, %v", transform, err)
	}
	log, err := tenants.NewStore(sa.pool).AuditLog(context.Background(), sa.tenant.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var detail map[string]any
	for _, e := range log {
		if e.Action == "mapping.save" {
			detail = e.Detail
		}
	}
	raw, _ := json.Marshal(detail)
	if detail == nil || !strings.Contains(string(raw), `"after":[`) || !strings.Contains(string(raw), `"before":[`) ||
		!strings.Contains(string(raw), "Loyalty_Tier__c") || detail["before_version"] != float64(0) {
		t.Fatalf("audit detail = %s", raw)
	}
	if !strings.Contains(p.text("[data-testid=mapping-meta]"), "version 1") {
		t.Errorf("meta = %q", p.text("[data-testid=mapping-meta]"))
	}
	if w := p.text(`[data-row-warning=f-customers-custom-3]`); !strings.Contains(w, "cut to 40") {
		t.Errorf("truncation warning = %q", w)
	}
	if p.has("[data-testid=new-field]") {
		t.Error("a field is flagged new right after a save")
	}

	// A custom field added in Lightspeed later is flagged new.
	sa.saveLightspeedFields(setup.LSCustomField{ID: 1, Name: "Stylist", Type: "single_choice"},
		setup.LSCustomField{ID: 2, Name: "Student", Type: "boolean"},
		setup.LSCustomField{ID: 3, Name: "Loyalty tier", Type: "string"},
		setup.LSCustomField{ID: 4, Name: "Member since", Type: "date"},
		setup.LSCustomField{ID: 5, Name: "Shoe size", Type: "string"})
	p = b.get("/mapping")
	if n := p.doc.Find("[data-testid=new-field]").Length(); n != 1 || !strings.Contains(p.text("tr[data-row=f-customers-custom-5]"), "new") {
		t.Errorf("%d rows flagged new; want Shoe size only", n)
	}

	// The mapped field is deleted in Salesforce: once the fields are read
	// again, its row and the dashboard say so, and only that row.
	if err := sa.sf.DeleteCustomField("Contact", "Loyalty_Tier__c"); err != nil {
		t.Fatal(err)
	}
	p = b.send(b.get("/mapping"), "form[action='/mapping/refresh']", nil)
	if got := p.doc.Find("tr[data-drift]").Length(); got != 1 || !p.has("tr[data-row=f-customers-custom-3][data-drift]") {
		t.Fatalf("%d rows flagged as drifted; want the loyalty tier's", got)
	}
	if e := rowError(p, "Loyalty tier"); !strings.Contains(e, "Stopped syncing: Contact has no field Loyalty_Tier__c") {
		t.Errorf("row error = %q", e)
	}
	// The dashboard's alerts speak once the tenant syncs.
	if _, err := setup.NewStore(sa.pool).Update(context.Background(), sa.tenant.ID, tenants.Actor{}, func(s *setup.Settings) error {
		s.History = setup.HistoryNone
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := jobs.EnsureStreams(context.Background(), sa.pool, sa.tenant.ID); err != nil {
		t.Fatal(err)
	}
	dash := b.get("/dashboard")
	alert := dash.doc.Find("[data-testid=alert-banner][data-kind=drift]")
	if banner := strings.Join(strings.Fields(alert.Text()), " "); !strings.Contains(banner, "Loyalty tier → Contact.Loyalty_Tier__c") {
		t.Errorf("dashboard drift alert = %q", banner)
	}
	if href := alert.Find("a").AttrOr("href", ""); href != "/mapping" {
		t.Errorf("the drift alert links %q", href)
	}
	if href := dash.doc.Find("[data-testid=mapping-link]").AttrOr("href", ""); href != "/mapping" {
		t.Errorf("dashboard mapping link = %q", href)
	}
}

// Reset shows a data model's defaults without saving; Resync enqueues a
// background job and shows its progress; both are for editors only, and a
// viewer sees the page read-only.
func TestMappingResetResyncAndViewer(t *testing.T) {
	t.Parallel()
	sa, b := newMappingApp(t)
	p := b.get("/mapping")
	if href := b.get("/setup/history").doc.Find("[data-testid=setup-mapping-link]").AttrOr("href", ""); href != "/mapping" {
		t.Errorf("setup's mapping link = %q", href)
	}
	form := mappingForm(t, p)
	form.Set("map.customers.custom:3", "Loyalty_Tier__c")
	if p = b.post("/mapping", form); p.path() != "/mapping" {
		t.Fatalf("save: %d", p.status())
	}
	p = b.send(p, "form[action='/mapping/reset']", url.Values{"preset": {"classic"}})
	if !strings.Contains(p.text("[data-testid=mapping-notice]"), "Showing the defaults of Classic") ||
		p.has(`select[name="map.customers.custom:3"] option[selected][value=Loyalty_Tier__c]`) {
		t.Fatalf("reset: notice %q", p.text("[data-testid=mapping-notice]"))
	}
	if n := sa.count("field_mappings", "tenant_id = $1 AND version > 1", sa.tenant.ID); n != 0 {
		t.Fatal("reset saved a version")
	}
	if p := b.send(p, "form[action='/mapping/reset']", url.Values{"preset": {"nonsense"}}); p.status() != http.StatusBadRequest {
		t.Errorf("reset to an unknown model: %d", p.status())
	}

	p = b.send(b.get("/mapping"), "form[action='/mapping/resync']", nil)
	if !strings.Contains(p.text(".flash.success"), "Resync started") || p.text("[data-testid=resync-status]") != "queued" {
		t.Fatalf("resync: %d at %s: %q, status %q: %s", p.status(), p.path(), p.text(".flash"), p.text("[data-testid=resync-status]"), p.text("main"))
	}
	if n := sa.count("river_job", "kind = 'mapping_resync' AND args->>'tenant_id' = $1", sa.tenant.ID); n != 1 {
		t.Errorf("%d resync jobs enqueued", n)
	}
	if n := sa.count("audit_log", "tenant_id = $1 AND action = 'mapping.resync'", sa.tenant.ID); n != 1 {
		t.Errorf("%d resyncs audited", n)
	}

	sa.addMember("viewer@harbour.example", tenants.RoleViewer)
	v := sa.browser()
	v.logIn("viewer@harbour.example", "a good password")
	vp := v.get("/mapping")
	if vp.status() != http.StatusOK || !vp.has("[data-testid=read-only]") || vp.has("button[data-testid=save]") ||
		vp.doc.Find("select:not([disabled])").Length() != 0 || vp.has("form[action='/mapping/resync']") {
		t.Fatal("the viewer's page is not read-only")
	}
	token := vp.doc.Find("input[name=csrf]").First().AttrOr("value", "")
	tenant := vp.doc.Find("input[name=form_tenant]").First().AttrOr("value", "")
	for _, path := range []string{"/mapping", "/mapping/resync", "/mapping/reset", "/mapping/preview", "/mapping/refresh"} {
		f := mappingForm(t, vp)
		f.Set("csrf", token)
		f.Set("form_tenant", tenant)
		f.Set("preset", "classic")
		if r := v.post(path, f); r.status() != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", path, r.status())
		}
	}
	if n := sa.count("field_mappings", "tenant_id = $1 AND version > 1", sa.tenant.ID); n != 0 {
		t.Fatal("a viewer saved")
	}
}
