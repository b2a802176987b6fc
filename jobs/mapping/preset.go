package mapping

import (
	"fmt"
	"slices"
)

// Preset is a starting mapping for one Salesforce data model.
type Preset string

// Presets.
const (
	// PresetClassic sends customers to Contacts and sales to Opportunities.
	PresetClassic Preset = "classic"
	// PresetPersonAccounts is Classic with customers as Person Accounts.
	PresetPersonAccounts Preset = "person_accounts"
	// PresetCustom sends sales to Tandem's custom objects.
	PresetCustom Preset = "custom"
)

// Presets lists them in the order screens offer them.
func Presets() []Preset { return []Preset{PresetClassic, PresetPersonAccounts, PresetCustom} }

// Label is the preset in words.
func (p Preset) Label() string {
	switch p {
	case PresetClassic:
		return "Classic (Contacts, Opportunities)"
	case PresetPersonAccounts:
		return "Person Accounts"
	case PresetCustom:
		return "Custom objects"
	}
	return string(p)
}

// Rule maps one source field to one Salesforce field.
type Rule struct {
	Stream    string    `json:"stream"`
	Source    string    `json:"source"`
	Object    string    `json:"object"`
	Target    string    `json:"target"`
	Direction Direction `json:"direction"`
	Transform Transform `json:"transform,omitempty"`
}

// Mapping is a tenant's field mapping at one version. Version 0 is the
// preset defaults, before the merchant saved anything.
type Mapping struct {
	Version int
	Preset  Preset
	Rules   []Rule
}

// Stream returns the rules of one stream.
func (m Mapping) Stream(stream string) []Rule {
	var out []Rule
	for _, r := range m.Rules {
		if r.Stream == stream {
			out = append(out, r)
		}
	}
	return out
}

// CustomerObject is where customers go: Contact, or Account for person
// accounts.
func (p Preset) CustomerObject() string {
	if p == PresetPersonAccounts {
		return "Account"
	}
	return "Contact"
}

// CustomerIDField is the external-ID field that holds the Lightspeed
// Customer ID on the customer object.
func (p Preset) CustomerIDField() string {
	if p == PresetPersonAccounts {
		return "Lightspeed_Customer_ID__pc"
	}
	return "Lightspeed_Customer_ID__c"
}

// EmailField is the customer object's email field.
func (p Preset) EmailField() string {
	if p == PresetPersonAccounts {
		return "PersonEmail"
	}
	return "Email"
}

// Defaults returns the preset's default mapping (version 0). Address, phones
// and email go both ways; everything else Lightspeed → Salesforce. Company
// and custom fields are not sent until the merchant maps them: a Contact has
// no company field of its own, and custom fields have no natural target.
func Defaults(p Preset) Mapping {
	obj := p.CustomerObject()
	f := func(classic, person string) string {
		if p == PresetPersonAccounts {
			return person
		}
		return classic
	}
	c := func(src, target string, d Direction, t Transform) Rule {
		return Rule{Stream: StreamCustomers, Source: src, Object: obj, Target: target, Direction: d, Transform: t}
	}
	rules := []Rule{
		c(CustType, f("Lightspeed_Customer_Type__c", "Lightspeed_Customer_Type__pc"), ToSalesforce, ""),
		c(CustFirst, "FirstName", ToSalesforce, ""),
		c(CustLast, "LastName", ToSalesforce, TransformLastName),
		c(CustStreet, f("MailingStreet", "PersonMailingStreet"), Both, TransformStreetLines),
		c(CustCity, f("MailingCity", "PersonMailingCity"), Both, ""),
		c(CustState, f("MailingState", "PersonMailingState"), Both, ""),
		c(CustZip, f("MailingPostalCode", "PersonMailingPostalCode"), Both, ""),
		c(CustCountry, f("MailingCountry", "PersonMailingCountry"), Both, ""),
		c(CustHome, f("HomePhone", "PersonHomePhone"), Both, ""),
		c(CustWork, "Phone", Both, ""),
		c(CustMobile, f("MobilePhone", "PersonMobilePhone"), Both, ""),
		c(CustEmail, p.EmailField(), Both, ""),
		c(CustBirth, f("Birthdate", "PersonBirthdate"), ToSalesforce, TransformDate),
		c(CustID, p.CustomerIDField(), ToSalesforce, ""),
		c(CustCreated, f("Lightspeed_Created_Date__c", "Lightspeed_Created_Date__pc"), ToSalesforce, TransformDateTime),
	}
	rules = append(rules, defaultSalesRules(p)...)
	return Mapping{Version: 0, Preset: p, Rules: rules}
}

// defaultSalesRules are the sale fields the preset sends beyond the fixed
// shape the sales stream writes (see the sales stream); by default none: the
// sales employee goes nowhere until the merchant maps it.
func defaultSalesRules(Preset) []Rule { return nil }

// Check validates a mapping's structure (not its fit to an org, which
// Validate checks against describes): known streams, directions and
// transforms, one rule per target, two-way only where allowed.
func (m Mapping) Check() error {
	seen := map[string]bool{}
	for _, r := range m.Rules {
		if !slices.Contains([]string{StreamCustomers, StreamSales, StreamLines, StreamPayments}, r.Stream) {
			return fmt.Errorf("mapping: unknown stream %q", r.Stream)
		}
		if !r.Direction.Valid() {
			return fmt.Errorf("mapping: %s: unknown direction %q", r.Source, r.Direction)
		}
		if r.Direction.ToLS() && (r.Stream != StreamCustomers || !IsTwoWay(r.Source)) {
			return fmt.Errorf("mapping: %s can only go Lightspeed → Salesforce", r.Source)
		}
		if !r.Transform.Valid() {
			return fmt.Errorf("mapping: %s: unknown transform %q", r.Source, r.Transform)
		}
		k := r.Object + "." + r.Target
		if seen[k] {
			return fmt.Errorf("mapping: %s is the target of two fields", k)
		}
		seen[k] = true
	}
	return nil
}
