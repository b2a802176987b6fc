package salesforce_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

// contactDescribe is a trimmed Contact describe in the shape of the
// reference's examples (section 2.3).
const contactDescribe = `{"name":"Contact","label":"Contact","keyPrefix":"003","custom":false,"createable":true,"updateable":true,
"fields":[
 {"name":"Id","type":"id","length":18,"createable":false,"updateable":false,"nillable":false,"defaultedOnCreate":true,"idLookup":true},
 {"name":"LastName","label":"Last Name","type":"string","length":80,"createable":true,"updateable":true,"nillable":false,"defaultedOnCreate":false},
 {"name":"FirstName","label":"First Name","type":"string","length":40,"createable":true,"updateable":true,"nillable":true},
 {"name":"Name","label":"Full Name","type":"string","length":121,"createable":false,"updateable":false,"nillable":false,"compoundFieldName":null,"extraTypeInfo":"personname"},
 {"name":"Email","label":"Email","type":"email","length":80,"createable":true,"updateable":true,"nillable":true,"idLookup":true},
 {"name":"DoNotCall","label":"Do Not Call","type":"boolean","createable":true,"updateable":true,"nillable":false,"defaultedOnCreate":true},
 {"name":"AccountId","label":"Account ID","type":"reference","createable":true,"updateable":true,"nillable":true,"referenceTo":["Account"],"relationshipName":"Account"},
 {"name":"LeadSource","label":"Lead Source","type":"picklist","length":255,"createable":true,"updateable":true,"nillable":true,"restrictedPicklist":true,
  "picklistValues":[{"value":"Web","label":"Web","active":true},{"value":"Old","label":"Old","active":false}]},
 {"name":"Lightspeed_Customer_ID__c","label":"Lightspeed Customer ID","type":"string","length":40,"custom":true,"createable":true,"updateable":true,"nillable":true,"externalId":true,"idLookup":true,"unique":true}
]}`

func TestDescribeCache(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/describe", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 200, contactDescribe)
	})
	var globals atomic.Int32
	mux.HandleFunc("GET "+apiRoot+"/sobjects", func(w http.ResponseWriter, r *http.Request) {
		globals.Add(1)
		writeJSON(w, 200, `{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[{"name":"Contact","keyPrefix":"003","createable":true,"queryable":true}]}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Nope__c/describe", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`)
	})
	for range 3 {
		d, err := c.Describe(t.Context(), "Contact")
		if err != nil {
			t.Fatal(err)
		}
		if d.Field("lastname") == nil || !d.Field("LastName").RequiredOnCreate() || d.Field("DoNotCall").RequiredOnCreate() {
			t.Errorf("fields not indexed or RequiredOnCreate wrong")
		}
		if !cmp.Equal(d.ExternalIDFields(), []string{"Lightspeed_Customer_ID__c"}) || !d.Field("Lightspeed_Customer_ID__c").UpsertKey() {
			t.Errorf("external ids = %v", d.ExternalIDFields())
		}
	}
	if calls.Load() != 1 {
		t.Errorf("describe calls = %d, want 1 (cached)", calls.Load())
	}
	c.InvalidateDescribes("Contact")
	c.Describe(t.Context(), "Contact")
	if calls.Load() != 2 {
		t.Errorf("describe calls after invalidate = %d, want 2", calls.Load())
	}
	for range 2 {
		if g, err := c.DescribeGlobal(t.Context()); err != nil || g.SObjects[0].KeyPrefix != "003" {
			t.Fatalf("DescribeGlobal = %+v, %v", g, err)
		}
	}
	c.InvalidateDescribes()
	c.DescribeGlobal(t.Context())
	c.Describe(t.Context(), "Contact")
	if globals.Load() != 2 || calls.Load() != 3 {
		t.Errorf("after invalidating all: global calls %d, describe calls %d", globals.Load(), calls.Load())
	}
	if _, err := c.Describe(t.Context(), "Nope__c"); !salesforce.IsNotFound(err) {
		t.Errorf("unknown object: %v", err)
	}
	if _, err := c.Describe(t.Context(), "../limits"); err == nil {
		t.Error("path-like object name accepted")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/describe", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, contactDescribe) })
	d, err := c.Describe(t.Context(), "Contact")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		op    salesforce.Operation
		rec   map[string]any
		codes []string
	}{
		{"ok", salesforce.OpCreate, map[string]any{"LastName": "Smith", "Email": "jo@example.com", "LeadSource": "Web"}, nil},
		{"ok with parent by external id", salesforce.OpCreate, map[string]any{"LastName": "Smith", "Account": map[string]any{"Lightspeed_Customer_ID__c": "1"}}, nil},
		{"missing last name", salesforce.OpCreate, map[string]any{"FirstName": "Jo"}, []string{"REQUIRED_FIELD_MISSING"}},
		{"empty last name", salesforce.OpUpsert, map[string]any{"LastName": ""}, []string{"REQUIRED_FIELD_MISSING"}},
		{"update may omit last name", salesforce.OpUpdate, map[string]any{"Id": "003RM0000068xVCYAY", "FirstName": "Jo"}, nil},
		{"update cannot clear last name", salesforce.OpUpdate, map[string]any{"LastName": nil}, []string{"REQUIRED_FIELD_MISSING"}},
		{"too long", salesforce.OpCreate, map[string]any{"LastName": strings.Repeat("é", 81)}, []string{"STRING_TOO_LONG"}},
		{"unknown field", salesforce.OpCreate, map[string]any{"LastName": "S", "Shoe_Size__c": "9"}, []string{"INVALID_FIELD"}},
		{"read-only", salesforce.OpCreate, map[string]any{"LastName": "S", "Name": "Jo S"}, []string{"INVALID_FIELD_FOR_INSERT_UPDATE"}},
		{"bad email", salesforce.OpCreate, map[string]any{"LastName": "S", "Email": "not an email"}, []string{"INVALID_EMAIL_ADDRESS"}},
		{"wrong type", salesforce.OpCreate, map[string]any{"LastName": 12}, []string{"INVALID_TYPE_ON_FIELD_IN_RECORD"}},
		{"inactive picklist", salesforce.OpCreate, map[string]any{"LastName": "S", "LeadSource": "Old"}, []string{"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"}},
		{"bad reference id", salesforce.OpCreate, map[string]any{"LastName": "S", "AccountId": "001xx"}, []string{"MALFORMED_ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := d.Validate(tt.op, tt.rec)
			var codes []string
			var ve *salesforce.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					codes = append(codes, p.Code)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if diff := cmp.Diff(tt.codes, codes); diff != "" {
				t.Errorf("codes (-want +got):\n%s\nerr: %v", diff, err)
			}
		})
	}
}
