package mapping

import (
	"strings"
	"testing"

	"github.com/tandemsync/tandem/tenants/setup"
)

// testOrg is a Contact and Opportunity describe with the shapes Validate
// judges: text of several lengths, a date, a checkbox, a picklist, a
// formula and a required field.
func testOrg() *setup.SalesforceDiscovery {
	w := func(f setup.SField) setup.SField { f.Createable, f.Updateable = true, true; return f }
	return &setup.SalesforceDiscovery{Objects: []setup.SObject{
		{Name: "Contact", Label: "Contact", Fields: []setup.SField{
			w(setup.SField{Name: "FirstName", Label: "First Name", Type: "string", Length: 40}),
			w(setup.SField{Name: "LastName", Label: "Last Name", Type: "string", Length: 80, Required: true}),
			w(setup.SField{Name: "Email", Label: "Email", Type: "email", Length: 80}),
			w(setup.SField{Name: "Birthdate", Label: "Birthdate", Type: "date"}),
			w(setup.SField{Name: "Lightspeed_Customer_ID__c", Label: "Lightspeed Customer ID", Type: "string", Length: 40, ExternalID: true}),
			w(setup.SField{Name: "Loyalty_Tier__c", Label: "Loyalty Tier", Type: "string", Length: 255}),
			w(setup.SField{Name: "Is_Student__c", Label: "Student", Type: "boolean"}),
			w(setup.SField{Name: "Level__c", Label: "Level", Type: "picklist", Length: 255, Picklist: []string{"Gold", "Silver"}}),
			w(setup.SField{Name: "Notes__c", Label: "Notes", Type: "textarea", Length: 1000}),
			w(setup.SField{Name: "Member_Since__c", Label: "Member Since", Type: "datetime"}),
			{Name: "Age__c", Label: "Age", Type: "double"}, // a formula: neither createable nor updateable
			w(setup.SField{Name: "AccountId", Label: "Account ID", Type: "reference"}),
		}},
		{Name: "Opportunity", Label: "Opportunity", Fields: []setup.SField{
			w(setup.SField{Name: "Stylist__c", Label: "Stylist", Type: "string", Length: 80}),
			w(setup.SField{Name: "Name", Label: "Name", Type: "string", Length: 120, Required: true}),
		}},
	}}
}

func testCatalog() []Field {
	return Catalog([]CustomField{
		{ID: 1, Name: "Stylist", Type: "single_choice", Choices: []string{"Gold", "Bronze"}},
		{ID: 2, Name: "Student", Type: "boolean"},
		{ID: 3, Name: "Loyalty tier", Type: "string"},
		{ID: 4, Name: "Member since", Type: "date"},
	})
}

func base() Mapping {
	c := func(src, target string) Rule {
		return Rule{Stream: StreamCustomers, Source: src, Object: "Contact", Target: target, Direction: ToSalesforce}
	}
	return Mapping{Preset: PresetClassic, Rules: []Rule{
		c(CustFirst, "FirstName"), c(CustLast, "LastName"),
		{Stream: StreamCustomers, Source: CustEmail, Object: "Contact", Target: "Email", Direction: Both},
		c(CustID, "Lightspeed_Customer_ID__c"),
	}}
}

func TestValidate(t *testing.T) {
	with := func(rules ...Rule) Mapping { m := base(); m.Rules = append(m.Rules, rules...); return m }
	c := func(src, target string) Rule {
		return Rule{Stream: StreamCustomers, Source: src, Object: "Contact", Target: target, Direction: ToSalesforce}
	}
	tests := []struct {
		name    string
		m       Mapping
		source  string // the row the problem is on
		refused bool
		want    string // in the message; "" means no problem at all
	}{
		{"the base mapping is fine", base(), "", false, ""},
		{"a custom field to a text field", with(c("custom:3", "Loyalty_Tier__c")), "", false, ""},
		{"a checkbox cannot go to a date", with(c("custom:2", "Birthdate")), "custom:2", true, "Student is a checkbox (true or false); Birthdate (Birthdate) is a date field"},
		{"a checkbox to a checkbox", with(c("custom:2", "Is_Student__c")), "", false, ""},
		{"a date to a date", with(c("custom:4", "Birthdate")), "", false, ""},
		{"a date to a date/time", with(c("custom:4", "Member_Since__c")), "", false, ""},
		{"a date to text", with(c("custom:4", "Notes__c")), "", false, ""},
		{"text cannot go to a date", with(c(CustCompany, "Birthdate")), CustCompany, true, "cannot hold it"},
		{"text to a lookup", with(c(CustCompany, "AccountId")), CustCompany, true, "a lookup"},
		{"a target already used by the Lightspeed Customer ID", with(c(CustCompany, "Lightspeed_Customer_ID__c")), CustCompany, true, "already the Salesforce field for Lightspeed Customer ID"},
		{"a formula is refused", with(Rule{Stream: StreamCustomers, Source: "custom:3", Object: "Contact", Target: "Age__c", Direction: ToSalesforce}), "custom:3", true, "read-only in Salesforce"},
		{"a missing field", with(c("custom:3", "Gone__c")), "custom:3", true, "has no field Gone__c"},
		{"the same target twice", with(c(CustCompany, "FirstName")), CustCompany, true, "FirstName is already the Salesforce field for First name"},
		{"picklist values outside the target's", with(c("custom:1", "Level__c")), "custom:1", false, "Not values of the Level__c picklist: Bronze"},
		{"a one-way field going both ways", with(Rule{Stream: StreamCustomers, Source: CustCompany, Object: "Contact", Target: "Notes__c", Direction: Both}), CustCompany, true, "can only go from Lightspeed to Salesforce"},
		{"an unknown source", with(c("custom:99", "Notes__c")), "custom:99", true, "does not know"},
		{"an unknown transform", with(Rule{Stream: StreamCustomers, Source: CustCompany, Object: "Contact", Target: "Notes__c", Direction: ToSalesforce, Transform: "eval"}), CustCompany, true, "Unknown conversion"},
		{"sales employee to the Stylist field", with(Rule{Stream: StreamSales, Source: SaleSalesEmployee, Object: "Opportunity", Target: "Stylist__c", Direction: ToSalesforce}), "", false, ""},
		{"a sale field both ways", with(Rule{Stream: StreamSales, Source: SaleSalesEmployee, Object: "Opportunity", Target: "Stylist__c", Direction: Both}), SaleSalesEmployee, true, "can only go from Lightspeed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Validate(tt.m, testCatalog(), testOrg())
			if tt.want == "" {
				for _, p := range rep.Problems {
					if p.Refused {
						t.Fatalf("unexpected refusal %+v", p)
					}
				}
				return
			}
			if rep.Refused() != tt.refused {
				t.Fatalf("Refused() = %v, want %v: %+v", rep.Refused(), tt.refused, rep.Problems)
			}
			var got []string
			for _, p := range rep.Problems {
				if p.Source == tt.source {
					got = append(got, p.Message)
				}
			}
			if !strings.Contains(strings.Join(got, "|"), tt.want) {
				t.Fatalf("problems on %s = %q, want one containing %q (all: %+v)", tt.source, got, tt.want, rep.Problems)
			}
		})
	}
}

func TestValidateRequiredAndEmpty(t *testing.T) {
	m := base()
	m.Rules = m.Rules[:1] // first name only: LastName has no source
	rep := Validate(m, testCatalog(), testOrg())
	ps := rep.For(StreamCustomers, CustLast)
	if !rep.Refused() || len(ps) != 1 || !strings.Contains(ps[0].Message, "Last Name (LastName) is required") {
		t.Fatalf("problems = %+v", rep.Problems)
	}
	empty := Mapping{Preset: PresetClassic}
	if rep := Validate(empty, testCatalog(), testOrg()); len(rep.For(StreamCustomers, "")) == 0 {
		t.Fatalf("an empty mapping was not refused: %+v", rep.Problems)
	}
	if rep := Validate(base(), testCatalog(), nil); !rep.Refused() {
		t.Fatal("validated against no describe")
	}
}

func TestTruncationWarningAndTransform(t *testing.T) {
	m := base()
	m.Rules = append(m.Rules, Rule{Stream: StreamCustomers, Source: CustCompany, Object: "Contact", Target: "Notes__c", Direction: ToSalesforce})
	rep := Validate(m, testCatalog(), testOrg())
	if ps := rep.For(StreamCustomers, CustFirst); len(ps) != 1 || ps[0].Refused || !strings.Contains(ps[0].Message, "cut to 40") {
		t.Fatalf("first name problems = %+v", ps)
	}
	if ps := rep.For(StreamCustomers, CustCompany); len(ps) != 0 {
		t.Fatalf("a 1000-character target warned: %+v", ps)
	}
	org := testOrg()
	cat := testCatalog()
	tests := []struct {
		src    *Field
		target string
		want   Transform
	}{
		{lookupField(cat, StreamCustomers, CustFirst), "FirstName", Truncate(40)},
		{lookupField(cat, StreamCustomers, "custom:4"), "Birthdate", TransformDate},
		{lookupField(cat, StreamCustomers, "custom:4"), "Member_Since__c", TransformDateTime},
		{lookupField(cat, StreamCustomers, CustLast), "LastName", TransformLastName},
		{lookupField(cat, StreamCustomers, "custom:3"), "Loyalty_Tier__c", TransformCopy},
	}
	for _, tt := range tests {
		if got := TransformFor(*tt.src, *org.Object("Contact").Field(tt.target)); got != tt.want {
			t.Errorf("TransformFor(%s, %s) = %q, want %q", tt.src.Key, tt.target, got, tt.want)
		}
	}
	out := Mapping{Rules: []Rule{{Stream: StreamCustomers, Source: CustFirst, Object: "Contact", Target: "FirstName", Direction: ToSalesforce, Transform: Truncate(3)}}}.
		ToSalesforce(StreamCustomers, "Contact", Record{CustFirst: "Émilie"}, nil)
	if out["FirstName"] != "Émi" {
		t.Fatalf("truncated = %q", out["FirstName"])
	}
	for _, bad := range []Transform{"truncate:", "truncate:0", "truncate:-1", "truncate:08", "truncate:x"} {
		if bad.Valid() {
			t.Errorf("%q is valid", bad)
		}
	}
}

func TestDrift(t *testing.T) {
	m := base()
	m.Rules = append(m.Rules,
		Rule{Stream: StreamCustomers, Source: "custom:3", Object: "Contact", Target: "Loyalty_Tier__c", Direction: ToSalesforce},
		Rule{Stream: StreamCustomers, Source: "custom:4", Object: "Contact", Target: "Birthdate", Direction: ToSalesforce, Transform: TransformDate},
		Rule{Stream: StreamSales, Source: SaleSalesEmployee, Object: "Opportunity", Target: "Stylist__c", Direction: ToSalesforce},
	)
	if d := Drift(m, testCatalog(), testOrg()); len(d) != 0 {
		t.Fatalf("drift on an unchanged org: %+v", d)
	}
	tests := []struct {
		name   string
		change func(*setup.SalesforceDiscovery)
		want   string // the drifted field
		msg    string
	}{
		{"deleted", func(d *setup.SalesforceDiscovery) {
			o := d.Object("Contact")
			o.Fields = slicesDelete(o.Fields, "Loyalty_Tier__c")
		}, "Contact.Loyalty_Tier__c", "deleted or renamed"},
		{"renamed", func(d *setup.SalesforceDiscovery) {
			d.Object("Opportunity").Field("Stylist__c").Name = "Stylist_Name__c"
		},
			"Opportunity.Stylist__c", "deleted or renamed"},
		{"retyped", func(d *setup.SalesforceDiscovery) { d.Object("Contact").Field("Birthdate").Type = "boolean" },
			"Contact.Birthdate", "cannot hold it"},
		{"made read-only", func(d *setup.SalesforceDiscovery) {
			f := d.Object("Contact").Field("Loyalty_Tier__c")
			f.Createable, f.Updateable = false, false
		}, "Contact.Loyalty_Tier__c", "read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			tt.change(org)
			d := Drift(m, testCatalog(), org)
			if len(d) != 1 || d[0].Field() != tt.want || !strings.Contains(d[0].Problem, tt.msg) {
				t.Fatalf("drift = %+v, want only %s", d, tt.want)
			}
			kept := m.Without(d)
			if len(kept.Rules) != len(m.Rules)-1 || len(Drift(kept, testCatalog(), org)) != 0 {
				t.Fatalf("Without kept %d of %d rules", len(kept.Rules), len(m.Rules))
			}
			if note := DriftNote(d); !strings.Contains(note, tt.want) {
				t.Fatalf("note = %q", note)
			}
		})
	}
}

func slicesDelete(fs []setup.SField, name string) []setup.SField {
	var out []setup.SField
	for _, f := range fs {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return out
}
