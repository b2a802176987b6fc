package sandbox

import (
	"net/http"
	"net/url"
	"path"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// orgQuery reads the org's Organization rows through SOQL.
func orgQuery(t *testing.T, b *bundle, soql string) []map[string]any {
	t.Helper()
	r := b.do(t, "GET", "/query?q="+url.QueryEscape(soql), nil)
	if r.status != http.StatusOK {
		t.Fatalf("query %q: %d %s", soql, r.status, r.body)
	}
	var page struct {
		TotalSize int              `json:"totalSize"`
		Records   []map[string]any `json:"records"`
	}
	r.json(t, &page)
	if page.TotalSize != len(page.Records) {
		t.Fatalf("totalSize %d with %d records", page.TotalSize, len(page.Records))
	}
	return page.Records
}

func TestOrganizationQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        Options
		wantName    string
		wantEdition string
	}{
		{"defaults", Options{}, DefaultOrgName, DefaultEdition},
		{"configured", Options{OrgName: "Acme Retail", Edition: "Enterprise Edition", Seed: seed(3)}, "Acme Retail", "Enterprise Edition"},
		{"edition outside the standard list", Options{Edition: "Performance Edition", PersonAccounts: true}, DefaultOrgName, "Performance Edition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.opts)
			// The identity URL ends in /{org id}/{user id}.
			orgID := path.Base(path.Dir(b.tok.ID))
			recs := orgQuery(t, b, "SELECT Id, Name, OrganizationType, IsSandbox, InstanceName, NamespacePrefix, LanguageLocaleKey, TimeZoneSidKey, DefaultLocaleSidKey FROM Organization LIMIT 1")
			if len(recs) != 1 {
				t.Fatalf("%d Organization rows, want 1", len(recs))
			}
			got := recs[0]
			delete(got, "attributes")
			want := map[string]any{
				"Id": orgID, "Name": tt.wantName, "OrganizationType": tt.wantEdition, "IsSandbox": false,
				"InstanceName": "NA1", "NamespacePrefix": nil, "LanguageLocaleKey": "en_US",
				"TimeZoneSidKey": "America/Los_Angeles", "DefaultLocaleSidKey": "en_US",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Organization row (-want +got):\n%s", diff)
			}
			if orgID[:3] != "00D" || len(orgID) != 18 {
				t.Errorf("org id %q: want an 18-character 00D id", orgID)
			}

			// The edition is one of the picklist's values, whatever it is.
			var d describeBody
			b.do(t, "GET", "/sobjects/Organization/describe", nil).json(t, &d)
			var values []string
			for _, f := range d.Fields {
				if f.Name == "OrganizationType" {
					for _, p := range f.PicklistValues {
						values = append(values, p.Value)
					}
				}
			}
			if !contains(values, tt.wantEdition) {
				t.Errorf("OrganizationType picklist %v lacks %q", values, tt.wantEdition)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestOrganizationDescribe(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	var g struct {
		SObjects []globalEntry `json:"sobjects"`
	}
	b.do(t, "GET", "/sobjects", nil).json(t, &g)
	var entry *globalEntry
	for i := range g.SObjects {
		if g.SObjects[i].Name == "Organization" {
			entry = &g.SObjects[i]
		}
	}
	if entry == nil {
		t.Fatal("describe global lists no Organization")
	}
	type objAttrs struct {
		KeyPrefix                                              string
		Createable, Updateable, Deletable, Undeletable, Custom bool
		Queryable, Retrieveable                                bool
	}
	gotObj := objAttrs{entry.KeyPrefix, entry.Createable, entry.Updateable, entry.Deletable, entry.Undeletable, entry.Custom, entry.Queryable, entry.Retrieveable}
	if diff := cmp.Diff(objAttrs{KeyPrefix: "00D", Queryable: true, Retrieveable: true}, gotObj); diff != "" {
		t.Errorf("Organization global describe (-want +got):\n%s", diff)
	}

	r := b.do(t, "GET", "/sobjects/Organization/describe", nil)
	if r.status != http.StatusOK {
		t.Fatalf("describe: %d %s", r.status, r.body)
	}
	var full struct {
		Name       string          `json:"name"`
		KeyPrefix  string          `json:"keyPrefix"`
		Createable bool            `json:"createable"`
		Updateable bool            `json:"updateable"`
		Deletable  bool            `json:"deletable"`
		Fields     []fieldDescribe `json:"fields"`
	}
	r.json(t, &full)
	if full.Name != "Organization" || full.KeyPrefix != "00D" || full.Createable || full.Updateable || full.Deletable {
		t.Errorf("describe: name %q prefix %q createable %v updateable %v deletable %v", full.Name, full.KeyPrefix, full.Createable, full.Updateable, full.Deletable)
	}
	type fieldAttrs struct {
		Type, Label string
		Length      int
		Nillable    bool
	}
	byName := map[string]fieldAttrs{}
	for _, f := range full.Fields {
		if f.Createable || f.Updateable {
			t.Errorf("Organization.%s is writable in describe", f.Name)
		}
		byName[f.Name] = fieldAttrs{f.Type, f.Label, f.Length, f.Nillable}
	}
	for name, want := range map[string]fieldAttrs{
		"Id":               {"id", "Organization ID", 18, false},
		"Name":             {"string", "Name", 80, false},
		"OrganizationType": {"picklist", "Edition", 255, false},
		"IsSandbox":        {"boolean", "Is Sandbox", 0, false},
		"InstanceName":     {"string", "Instance Name", 5, true},
		"NamespacePrefix":  {"string", "Namespace Prefix", 15, true},
		"SystemModstamp":   {"datetime", "System Modstamp", 0, false},
	} {
		if diff := cmp.Diff(want, byName[name]); diff != "" {
			t.Errorf("Organization.%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestOrganizationRetrieve(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{OrgName: "Acme Retail"})
	orgID := path.Base(path.Dir(b.tok.ID))
	tests := []struct {
		name, path string
		status     int
		want       map[string]any
	}{
		{"all fields", "/sobjects/Organization/" + orgID, 200, map[string]any{"Id": orgID, "Name": "Acme Retail", "OrganizationType": DefaultEdition}},
		{"15-character id", "/sobjects/Organization/" + orgID[:15], 200, map[string]any{"Id": orgID, "Name": "Acme Retail"}},
		{"fields=", "/sobjects/Organization/" + orgID + "?fields=Name,IsSandbox", 200, map[string]any{"Name": "Acme Retail", "IsSandbox": false}},
		{"unknown id", "/sobjects/Organization/" + makeID("00D", 99), 404, nil},
	}
	for _, tt := range tests {
		r := b.do(t, "GET", tt.path, nil)
		if r.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, r.status, r.body, tt.status)
			continue
		}
		if tt.want == nil {
			continue
		}
		var got map[string]any
		r.json(t, &got)
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", tt.name, k, got[k], v)
			}
		}
		if _, ok := got["InstanceName"]; tt.name == "fields=" && ok {
			t.Errorf("%s: InstanceName returned though not asked for", tt.name)
		}
	}
}

func TestOrganizationWritesRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	orgID := path.Base(path.Dir(b.tok.ID))
	before := orgQuery(t, b, "SELECT Id, Name, SystemModstamp FROM Organization")

	type restErr struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	tests := []struct {
		name, method, path string
		body               any
		wantMessage        string
	}{
		{"create", "POST", "/sobjects/Organization", map[string]any{"Name": "Second Org"}, "entity type cannot be inserted: Organization"},
		{"update", "PATCH", "/sobjects/Organization/" + orgID, map[string]any{"Name": "Renamed"}, "entity type cannot be updated: Organization"},
		{"delete", "DELETE", "/sobjects/Organization/" + orgID, nil, "entity type cannot be deleted: Organization"},
	}
	for _, tt := range tests {
		r := b.do(t, tt.method, tt.path, tt.body)
		var got []restErr
		r.json(t, &got)
		want := []restErr{{Message: tt.wantMessage, ErrorCode: "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", Fields: []string{}}}
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.name, r.status)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: body (-want +got):\n%s", tt.name, diff)
		}
	}

	// sObject Collections report the same refusal per record.
	r := b.do(t, "POST", "/composite/sobjects", map[string]any{"records": []any{
		map[string]any{"attributes": map[string]any{"type": "Organization"}, "Name": "Via collections"},
	}})
	var results []struct {
		Success bool `json:"success"`
		Errors  []struct {
			StatusCode string `json:"statusCode"`
			Message    string `json:"message"`
		} `json:"errors"`
	}
	r.json(t, &results)
	if len(results) != 1 || results[0].Success || len(results[0].Errors) != 1 ||
		results[0].Errors[0].StatusCode != "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY" {
		t.Errorf("collections create of Organization: %d %s", r.status, r.body)
	}

	if diff := cmp.Diff(before, orgQuery(t, b, "SELECT Id, Name, SystemModstamp FROM Organization")); diff != "" {
		t.Errorf("the Organization row changed after refused writes (-before +after):\n%s", diff)
	}
}

func TestOrganizationSurvivesReset(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{OrgName: "Acme Retail"})
	if r := b.do(t, "POST", b.ts.URL+"/_sandbox/seed", map[string]any{"seed": 2}); r.status != http.StatusOK {
		t.Fatalf("seed: %d %s", r.status, r.body)
	}
	recs := orgQuery(t, b, "SELECT Id, Name FROM Organization")
	if len(recs) != 1 || recs[0]["Id"] != path.Base(path.Dir(b.tok.ID)) || recs[0]["Name"] != "Acme Retail" {
		t.Errorf("Organization after seeding: %v", recs)
	}
}
