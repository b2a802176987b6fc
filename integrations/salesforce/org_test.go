package salesforce_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

func TestIdentityUserInfoVersions(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("GET /id/00D5e000001N20QEAS/0055e000003E8ooAAC", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testAccess || r.URL.Query().Get("version") != "66.0" {
			t.Errorf("auth %q version %q", r.Header.Get("Authorization"), r.URL.Query().Get("version"))
		}
		writeJSON(w, 200, `{"id":"https://login.salesforce.com/id/00D5e000001N20QEAS/0055e000003E8ooAAC","user_id":"0055e000003E8ooAAC",
			"organization_id":"00D5e000001N20QEAS","username":"admin@tandem.test","display_name":"Admin","email":"admin@tandem.test","active":true,
			"urls":{"rest":"https://acme.my.salesforce.com/services/data/v66.0/"}}`)
	})
	mux.HandleFunc("GET /services/oauth2/userinfo", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"sub":"https://login.salesforce.com/id/00D5e000001N20QEAS/0055e000003E8ooAAC","user_id":"0055e000003E8ooAAC","organization_id":"00D5e000001N20QEAS","preferred_username":"admin@tandem.test"}`)
	})
	mux.HandleFunc("GET /services/data/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[{"label":"Spring '26","url":"/services/data/v66.0","version":"66.0"}]`)
	})
	id, err := c.Identity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if id.OrganizationID != "00D5e000001N20QEAS" || id.Username != "admin@tandem.test" || !id.Active || id.URLs["rest"] == "" {
		t.Errorf("identity = %+v", id)
	}
	ui, err := c.UserInfo(t.Context())
	if err != nil || ui.PreferredUsername != "admin@tandem.test" {
		t.Errorf("userinfo = %+v, %v", ui, err)
	}
	vs, err := c.Versions(t.Context())
	if err != nil || !cmp.Equal(vs, []salesforce.Version{{Label: "Spring '26", URL: "/services/data/v66.0", Version: "66.0"}}) {
		t.Errorf("versions = %+v, %v", vs, err)
	}
}

func TestCreateCustomField(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	describes := 0
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/describe", func(w http.ResponseWriter, r *http.Request) {
		describes++
		writeJSON(w, 200, contactDescribe)
	})
	mux.HandleFunc("POST "+apiRoot+"/tooling/sobjects/CustomField", func(w http.ResponseWriter, r *http.Request) {
		got := decodeBody(t, r)
		want := map[string]any{"FullName": "Contact.Lightspeed_Created_Date__c", "Metadata": map[string]any{"label": "Lightspeed Created Date", "type": "DateTime"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		writeJSON(w, 201, `{"id":"00NRM000001abcdAAA","success":true,"errors":[]}`)
	})
	if _, err := c.Describe(t.Context(), "Contact"); err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateCustomField(t.Context(), salesforce.CustomField{FullName: "Contact.Lightspeed_Created_Date__c",
		Metadata: salesforce.CustomFieldMetadata{Label: "Lightspeed Created Date", Type: "DateTime"}})
	if err != nil || id != "00NRM000001abcdAAA" {
		t.Fatalf("CreateCustomField = %q, %v", id, err)
	}
	c.Describe(t.Context(), "Contact")
	if describes != 2 {
		t.Errorf("describes = %d, want 2 (cache dropped after the new field)", describes)
	}
	for _, bad := range []string{"Contact", "Contact.Foo", "Con tact.Foo__c", ".Foo__c"} {
		if _, err := c.CreateCustomField(t.Context(), salesforce.CustomField{FullName: bad, Metadata: salesforce.CustomFieldMetadata{Label: "x", Type: "Text"}}); err == nil || !strings.Contains(err.Error(), "Object.Field__c") {
			t.Errorf("full name %q: %v", bad, err)
		}
	}
}
