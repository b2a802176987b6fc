package mapping_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants/setup"
)

func TestRequirements(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	objects := map[string]bool{"Contact": true, "Account": true, "Opportunity": true, "OpportunityLineItem": true, "Product2": true}
	for i, r := range mapping.Requirements() {
		if seen[r.Key()] {
			t.Errorf("%s listed twice", r.Key())
		}
		seen[r.Key()] = true
		if r.Why == "" || r.Label == "" || len(r.Models) == 0 {
			t.Errorf("%s: missing why, label or models", r.Key())
		}
		if r.IsObject() {
			objects[r.Object] = true
			continue
		}
		// Objects come before their fields, and lookup targets before
		// the lookups.
		if !objects[r.Object] || (r.ReferenceTo != "" && !objects[r.ReferenceTo]) {
			t.Errorf("requirement %d (%s) comes before its object", i, r.Key())
		}
		if !strings.HasSuffix(r.Field, "__c") {
			t.Errorf("%s is not a custom field name", r.Key())
		}
	}
	for _, want := range []string{"Contact.Lightspeed_Customer_ID__c", "Contact.Lightspeed_Created_Date__c", "Opportunity.Lightspeed_Sale_ID__c",
		"Product2.Lightspeed_Item_ID__c", "Lightspeed_Payment__c", "Lightspeed_Sale__c", "Lightspeed_Sale_Line__c"} {
		if !seen[want] {
			t.Errorf("%s missing from the list", want)
		}
	}
}

func TestManualSteps(t *testing.T) {
	t.Parallel()
	var key mapping.Requirement
	for _, r := range mapping.Requirements() {
		if r.Key() == "Contact.Lightspeed_Customer_ID__c" {
			key = r
		}
	}
	got := strings.Join(key.ManualSteps(), "\n")
	for _, want := range []string{"Setup → Object Manager → Contact → Fields & Relationships → New", "Data Type: Text",
		"Lightspeed_Customer_ID__c", "Length: 40", `"Unique"`, `"External ID"`} {
		if !strings.Contains(got, want) {
			t.Errorf("steps lack %q:\n%s", want, got)
		}
	}
	if key.TypeLabel() != "Text(40)" || strings.Join(key.Flags(), ",") != "External ID,Unique" {
		t.Errorf("type %q flags %v", key.TypeLabel(), key.Flags())
	}
}

// TestContractFields: the Salesforce names issues 8 and 10 make contracts
// are required by the right models, with the type and key flags the sync
// relies on (upserts need External ID + Unique).
func TestContractFields(t *testing.T) {
	t.Parallel()
	classic, custom := setup.ModelClassic, setup.ModelCustom
	type want struct {
		typ    string // Metadata type; "" for an object
		key    bool   // External ID and Unique
		models []setup.DataModel
	}
	both := []setup.DataModel{classic, custom}
	wants := map[string]want{
		"Contact.Lightspeed_Customer_ID__c":                         {"Text", true, both},
		"Contact.Lightspeed_Created_Date__c":                        {"DateTime", false, both},
		"Contact.Lightspeed_Customer_Type__c":                       {"Text", false, both},
		"Product2.Lightspeed_Item_ID__c":                            {"Text", true, both},
		"Opportunity.Lightspeed_Sale_ID__c":                         {"Text", true, []setup.DataModel{classic}},
		"Opportunity.Lightspeed_Shop__c":                            {"Text", false, []setup.DataModel{classic}},
		"Opportunity.Lightspeed_Register__c":                        {"Text", false, []setup.DataModel{classic}},
		"Opportunity.Lightspeed_Employee__c":                        {"Text", false, []setup.DataModel{classic}},
		"Opportunity.Lightspeed_Channel__c":                         {"Text", false, []setup.DataModel{classic}},
		"Opportunity.Lightspeed_Total__c":                           {"Currency", false, []setup.DataModel{classic}},
		"Opportunity.Lightspeed_Tax__c":                             {"Currency", false, []setup.DataModel{classic}},
		"OpportunityLineItem.Lightspeed_Sale_Line_ID__c":            {"Text", true, []setup.DataModel{classic}},
		"Lightspeed_Payment__c":                                     {"", false, both},
		"Lightspeed_Payment__c.Lightspeed_Payment_ID__c":            {"Text", true, both},
		"Lightspeed_Payment__c.Payment_Type__c":                     {"Text", false, both},
		"Lightspeed_Payment__c.Amount__c":                           {"Currency", false, both},
		"Lightspeed_Payment__c.Opportunity__c":                      {"Lookup", false, []setup.DataModel{classic}},
		"Lightspeed_Payment__c.Sale__c":                             {"Lookup", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c":                                        {"", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Lightspeed_Sale_ID__c":                  {"Text", true, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Total__c":                               {"Currency", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Customer__c":                            {"Lookup", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Completed_At__c":                        {"DateTime", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Lightspeed_Channel__c":                  {"Text", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Lightspeed_Shop__c":                     {"Text", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Lightspeed_Register__c":                 {"Text", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Lightspeed_Employee__c":                 {"Text", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Lightspeed_Tax__c":                      {"Currency", false, []setup.DataModel{custom}},
		"Lightspeed_Sale__c.Voided__c":                              {"Checkbox", false, []setup.DataModel{custom}},
		"Lightspeed_Sale_Line__c":                                   {"", false, []setup.DataModel{custom}},
		"Lightspeed_Sale_Line__c.Lightspeed_Sale_Line_ID__c":        {"Text", true, []setup.DataModel{custom}},
		"Lightspeed_Sale_Line__c.Sale__c":                           {"Lookup", false, []setup.DataModel{custom}},
		"Lightspeed_Sale_Line__c.Product__c":                        {"Lookup", false, []setup.DataModel{custom}},
		"Lightspeed_Sale_Line__c.Quantity__c":                       {"Number", false, []setup.DataModel{custom}},
		"Lightspeed_Sale_Line__c.Unit_Price__c":                     {"Currency", false, []setup.DataModel{custom}},
		"Lightspeed_Sale_Line__c.Employee__c":                       {"Text", false, []setup.DataModel{custom}},
		"OpportunityLineItem.Lightspeed_Parent_Sale_Line_ID__c":     {"Text", false, []setup.DataModel{classic}},
		"Lightspeed_Sale_Line__c.Lightspeed_Parent_Sale_Line_ID__c": {"Text", false, []setup.DataModel{custom}},
	}
	got := map[string]mapping.Requirement{}
	for _, r := range mapping.Requirements() {
		got[r.Key()] = r
	}
	for key, w := range wants {
		r, ok := got[key]
		if !ok {
			t.Errorf("%s is not required", key)
			continue
		}
		if r.Type != w.typ || r.ExternalID != w.key || r.Unique != w.key {
			t.Errorf("%s: type %q external id %v unique %v; want %q, key %v", key, r.Type, r.ExternalID, r.Unique, w.typ, w.key)
		}
		for _, m := range []setup.DataModel{classic, custom} {
			if r.For(m) != slices.Contains(w.models, m) {
				t.Errorf("%s: For(%s) = %v", key, m, r.For(m))
			}
		}
	}
	if n := len(mapping.Requirements()); n != len(wants) {
		t.Errorf("%d requirements, %d expected: a new one needs adding here", n, len(wants))
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	byKey := map[string]mapping.Requirement{}
	for _, r := range mapping.Requirements() {
		byKey[r.Key()] = r
	}
	id := byKey["Contact.Lightspeed_Customer_ID__c"]
	voided := byKey["Lightspeed_Sale__c.Voided__c"]
	sale := byKey["Lightspeed_Sale__c"]
	tests := []struct {
		name    string
		r       mapping.Requirement
		exists  bool
		field   *mapping.FieldFacts
		status  setup.ItemStatus
		problem string
	}{
		{"object missing", sale, false, nil, setup.StatusMissing, ""},
		{"object present", sale, true, nil, setup.StatusPresent, ""},
		{"field's object missing", id, false, nil, setup.StatusMissing, ""},
		{"field missing", id, true, nil, setup.StatusMissing, ""},
		{"key as needed", id, true, &mapping.FieldFacts{Type: "string", Length: 40, ExternalID: true, Unique: true}, setup.StatusPresent, ""},
		{"key not unique", id, true, &mapping.FieldFacts{Type: "string", Length: 40, ExternalID: true},
			setup.StatusMismatch, "The field exists but it is not marked Unique."},
		{"key too short", id, true, &mapping.FieldFacts{Type: "string", Length: 10, ExternalID: true, Unique: true},
			setup.StatusMismatch, "The field exists but its length is 10, Tandem needs at least 40."},
		{"checkbox", voided, true, &mapping.FieldFacts{Type: "boolean"}, setup.StatusPresent, ""},
		{"checkbox as text", voided, true, &mapping.FieldFacts{Type: "string", Length: 5},
			setup.StatusMismatch, "The field exists but it is of type string, Tandem needs Checkbox."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.r.Judge(tt.exists, tt.field)
			if got.Key != tt.r.Key() || got.Status != tt.status || got.Problem != tt.problem {
				t.Errorf("Judge = %+v; want %s %q", got, tt.status, tt.problem)
			}
		})
	}
}
