package mapping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tandemsync/tandem/tenants/setup"
)

// Requirement is one object or field Tandem needs in the merchant's org:
// what the setup check looks for, what "Create them for me" creates and
// what the manual steps tell the merchant to create by hand.
type Requirement struct {
	// Object is the object's API name ("Contact", "Lightspeed_Sale__c").
	Object string
	// Field is the field's API name; empty when the requirement is the
	// custom object itself.
	Field string
	// Label is the field's label, or the object's singular label.
	Label string
	// PluralLabel is an object's plural label; empty for fields.
	PluralLabel string
	// Type is the Metadata API field type: Text, DateTime, Currency,
	// Number, Checkbox or Lookup. Empty for objects.
	Type string
	// Length of a Text field; Precision and Scale of Number and Currency.
	Length, Precision, Scale int
	// ReferenceTo is the parent object of a Lookup field.
	ReferenceTo string
	// ExternalID and Unique make the field an upsert key that cannot hold
	// the same value twice: what prevents duplicates on replay.
	ExternalID, Unique bool
	// Models lists the data models that need the requirement.
	Models []setup.DataModel
	// Why is shown to the merchant beside the requirement.
	Why string
}

// Key names the requirement: "Object.Field__c" for a field, the object's
// API name for an object. It is Tooling's FullName.
func (r Requirement) Key() string {
	if r.IsObject() {
		return r.Object
	}
	return r.Object + "." + r.Field
}

// IsObject reports whether r is a custom object rather than a field.
func (r Requirement) IsObject() bool { return r.Field == "" }

// For reports whether model needs r.
func (r Requirement) For(model setup.DataModel) bool { return slices.Contains(r.Models, model) }

// TypeLabel describes the field type the way Setup's "New Custom Field"
// wizard names it, with its size: "Text(40)", "Number(18, 0)",
// "Lookup(Opportunity)".
func (r Requirement) TypeLabel() string {
	switch r.Type {
	case "":
		return "Custom object"
	case "Text":
		return fmt.Sprintf("Text(%d)", r.Length)
	case "Number", "Currency":
		return fmt.Sprintf("%s(%d, %d)", r.Type, r.Precision-r.Scale, r.Scale)
	case "DateTime":
		return "Date/Time"
	case "Lookup":
		return fmt.Sprintf("Lookup(%s)", r.ReferenceTo)
	}
	return r.Type // Checkbox
}

// Flags lists the field's options a merchant must tick: "External ID",
// "Unique".
func (r Requirement) Flags() []string {
	var out []string
	if r.ExternalID {
		out = append(out, "External ID")
	}
	if r.Unique {
		out = append(out, "Unique")
	}
	return out
}

// Requirements returns every object and field Tandem may need, in the order
// they must be created: custom objects first, then fields (a field of a
// custom object needs the object, a Lookup needs its parent).
//
// This is the one definition of the list: the check, the creation and the
// manual steps all read it.
func Requirements() []Requirement {
	both := []setup.DataModel{setup.ModelClassic, setup.ModelCustom}
	classic := []setup.DataModel{setup.ModelClassic}
	custom := []setup.DataModel{setup.ModelCustom}
	extID := func(r Requirement) Requirement {
		r.Type, r.Length, r.ExternalID, r.Unique = "Text", 40, true, true
		return r
	}
	text := func(r Requirement, n int) Requirement { r.Type, r.Length = "Text", n; return r }
	money := func(r Requirement) Requirement { r.Type, r.Precision, r.Scale = "Currency", 16, 2; return r }
	return []Requirement{
		// Custom objects.
		{Object: "Lightspeed_Payment__c", Label: "Lightspeed Payment", PluralLabel: "Lightspeed Payments", Models: both,
			Why: "Holds each payment of a sale (cash, card, gift card) with its type and amount."},
		{Object: "Lightspeed_Sale__c", Label: "Lightspeed Sale", PluralLabel: "Lightspeed Sales", Models: custom,
			Why: "Holds each completed Lightspeed sale in the Custom data model."},
		{Object: "Lightspeed_Sale_Line__c", Label: "Lightspeed Sale Line", PluralLabel: "Lightspeed Sale Lines", Models: custom,
			Why: "Holds each line of a sale (item, quantity, price) in the Custom data model."},

		// Customers: both models write customers to Contacts (or person
		// accounts, which show Contact fields with the __pc suffix).
		extID(Requirement{Object: "Contact", Field: "Lightspeed_Customer_ID__c", Label: "Lightspeed Customer ID", Models: both,
			Why: "Links each Salesforce customer to its Lightspeed customer, so a customer is never created twice."}),
		{Object: "Contact", Field: "Lightspeed_Created_Date__c", Label: "Lightspeed Created Date", Type: "DateTime", Models: both,
			Why: "When the customer was created in Lightspeed, kept for reporting."},
		text(Requirement{Object: "Contact", Field: "Lightspeed_Customer_Type__c", Label: "Lightspeed Customer Type", Models: both,
			Why: "The customer's type in Lightspeed (e.g. Retail, Wholesale)."}, 255),
		extID(Requirement{Object: "Product2", Field: "Lightspeed_Item_ID__c", Label: "Lightspeed Item ID", Models: both,
			Why: "Links each product to its Lightspeed item, so products are not duplicated."}),

		// Classic: sales are Opportunities with products.
		extID(Requirement{Object: "Opportunity", Field: "Lightspeed_Sale_ID__c", Label: "Lightspeed Sale ID", Models: classic,
			Why: "Links each opportunity to its Lightspeed sale, so a sale is never imported twice."}),
		extID(Requirement{Object: "OpportunityLineItem", Field: "Lightspeed_Sale_Line_ID__c", Label: "Lightspeed Sale Line ID", Models: classic,
			Why: "Links each opportunity product to its Lightspeed sale line."}),
		text(Requirement{Object: "OpportunityLineItem", Field: "Lightspeed_Parent_Sale_Line_ID__c", Label: "Lightspeed Parent Sale Line ID", Models: classic,
			Why: "On a refund or return line, the Lightspeed sale line it gives back."}, 40),
		text(Requirement{Object: "Opportunity", Field: "Lightspeed_Shop__c", Label: "Lightspeed Shop", Models: classic,
			Why: "The store (location) the sale was made in."}, 255),
		text(Requirement{Object: "Opportunity", Field: "Lightspeed_Register__c", Label: "Lightspeed Register", Models: classic,
			Why: "The register the sale was rung up at."}, 255),
		text(Requirement{Object: "Opportunity", Field: "Lightspeed_Employee__c", Label: "Lightspeed Employee", Models: classic,
			Why: "The employee who rang up the sale."}, 255),
		text(Requirement{Object: "Opportunity", Field: "Lightspeed_Channel__c", Label: "Lightspeed Channel", Models: classic,
			Why: "Where the sale was made: In store, or the online shop it came from (e.g. Shopify)."}, 255),
		money(Requirement{Object: "Opportunity", Field: "Lightspeed_Total__c", Label: "Lightspeed Total", Models: classic,
			Why: "The sale's total in Lightspeed, tax included."}),
		money(Requirement{Object: "Opportunity", Field: "Lightspeed_Tax__c", Label: "Lightspeed Tax", Models: classic,
			Why: "The tax of the sale."}),

		// Custom: the sale objects and their keys.
		extID(Requirement{Object: "Lightspeed_Sale__c", Field: "Lightspeed_Sale_ID__c", Label: "Lightspeed Sale ID", Models: custom,
			Why: "Links each sale record to its Lightspeed sale, so a sale is never imported twice."}),
		{Object: "Lightspeed_Sale__c", Field: "Customer__c", Label: "Customer", Type: "Lookup", ReferenceTo: "Contact", Models: custom,
			Why: "The customer who bought."},
		{Object: "Lightspeed_Sale__c", Field: "Completed_At__c", Label: "Completed At", Type: "DateTime", Models: custom,
			Why: "When the sale was completed."},
		money(Requirement{Object: "Lightspeed_Sale__c", Field: "Total__c", Label: "Total", Models: custom,
			Why: "The sale's total, tax included."}),
		text(Requirement{Object: "Lightspeed_Sale__c", Field: "Lightspeed_Shop__c", Label: "Lightspeed Shop", Models: custom,
			Why: "The store (location) the sale was made in."}, 255),
		text(Requirement{Object: "Lightspeed_Sale__c", Field: "Lightspeed_Register__c", Label: "Lightspeed Register", Models: custom,
			Why: "The register the sale was rung up at."}, 255),
		text(Requirement{Object: "Lightspeed_Sale__c", Field: "Lightspeed_Employee__c", Label: "Lightspeed Employee", Models: custom,
			Why: "The employee who rang up the sale."}, 255),
		text(Requirement{Object: "Lightspeed_Sale__c", Field: "Lightspeed_Channel__c", Label: "Lightspeed Channel", Models: custom,
			Why: "Where the sale was made: In store, or the online shop it came from (e.g. Shopify)."}, 255),
		money(Requirement{Object: "Lightspeed_Sale__c", Field: "Lightspeed_Tax__c", Label: "Lightspeed Tax", Models: custom,
			Why: "The tax of the sale."}),
		{Object: "Lightspeed_Sale__c", Field: "Voided__c", Label: "Voided", Type: "Checkbox", Models: custom,
			Why: "Ticked when the sale was voided in Lightspeed after it was sent; Tandem never deletes it."},
		extID(Requirement{Object: "Lightspeed_Sale_Line__c", Field: "Lightspeed_Sale_Line_ID__c", Label: "Lightspeed Sale Line ID", Models: custom,
			Why: "Links each line to its Lightspeed sale line."}),
		{Object: "Lightspeed_Sale_Line__c", Field: "Sale__c", Label: "Sale", Type: "Lookup", ReferenceTo: "Lightspeed_Sale__c", Models: custom,
			Why: "The sale the line belongs to."},
		{Object: "Lightspeed_Sale_Line__c", Field: "Product__c", Label: "Product", Type: "Lookup", ReferenceTo: "Product2", Models: custom,
			Why: "The product sold."},
		{Object: "Lightspeed_Sale_Line__c", Field: "Quantity__c", Label: "Quantity", Type: "Number", Precision: 12, Scale: 2, Models: custom,
			Why: "How many were sold; negative for a return."},
		money(Requirement{Object: "Lightspeed_Sale_Line__c", Field: "Unit_Price__c", Label: "Unit Price", Models: custom,
			Why: "The price of one unit, after discounts."}),
		text(Requirement{Object: "Lightspeed_Sale_Line__c", Field: "Lightspeed_Parent_Sale_Line_ID__c", Label: "Lightspeed Parent Sale Line ID", Models: custom,
			Why: "On a refund or return line, the Lightspeed sale line it gives back."}, 40),
		text(Requirement{Object: "Lightspeed_Sale_Line__c", Field: "Employee__c", Label: "Employee", Models: custom,
			Why: "The employee who sold the line."}, 255),

		// Payments, in both models.
		extID(Requirement{Object: "Lightspeed_Payment__c", Field: "Lightspeed_Payment_ID__c", Label: "Lightspeed Payment ID", Models: both,
			Why: "Links each payment record to its Lightspeed payment, so a payment is never imported twice."}),
		text(Requirement{Object: "Lightspeed_Payment__c", Field: "Payment_Type__c", Label: "Payment Type", Models: both,
			Why: "How the customer paid: Cash, Credit Card, Gift Card, ..."}, 80),
		money(Requirement{Object: "Lightspeed_Payment__c", Field: "Amount__c", Label: "Amount", Models: both,
			Why: "The amount paid."}),
		{Object: "Lightspeed_Payment__c", Field: "Opportunity__c", Label: "Opportunity", Type: "Lookup", ReferenceTo: "Opportunity", Models: classic,
			Why: "The opportunity (sale) the payment belongs to."},
		{Object: "Lightspeed_Payment__c", Field: "Sale__c", Label: "Sale", Type: "Lookup", ReferenceTo: "Lightspeed_Sale__c", Models: custom,
			Why: "The sale the payment belongs to."},
	}
}

// RequiredFor returns the requirements of model, objects first.
func RequiredFor(model setup.DataModel) []Requirement {
	var out []Requirement
	for _, r := range Requirements() {
		if r.For(model) {
			out = append(out, r)
		}
	}
	return out
}

// ManualSteps says how to create r by hand in Salesforce Setup, for a
// merchant whose user may not create it through the API.
func (r Requirement) ManualSteps() []string {
	if r.IsObject() {
		name := strings.TrimSuffix(r.Object, "__c")
		return []string{
			"In Salesforce, open Setup → Object Manager → Create → Custom Object.",
			fmt.Sprintf("Label: %s. Plural Label: %s. Object Name: %s (the API name becomes %s).", r.Label, r.PluralLabel, name, r.Object),
			"Record Name: keep the default, data type Text.",
			"Deployment Status: Deployed. Save.",
		}
	}
	steps := []string{
		fmt.Sprintf("In Salesforce, open Setup → Object Manager → %s → Fields & Relationships → New.", objectLabel(r.Object)),
		fmt.Sprintf("Data Type: %s. Next.", dataTypeName(r.Type)),
	}
	detail := fmt.Sprintf("Field Label: %s. Field Name: %s (the API name becomes %s).", r.Label, strings.TrimSuffix(r.Field, "__c"), r.Field)
	switch r.Type {
	case "Text":
		detail += fmt.Sprintf(" Length: %d.", r.Length)
	case "Number", "Currency":
		detail += fmt.Sprintf(" Length: %d. Decimal Places: %d.", r.Precision-r.Scale, r.Scale)
	case "Lookup":
		detail += fmt.Sprintf(" Related To: %s.", objectLabel(r.ReferenceTo))
	case "Checkbox":
		detail += " Default Value: Unchecked."
	}
	steps = append(steps, detail)
	if r.Unique {
		steps = append(steps, `Tick "Unique" (treat "ABC" and "abc" as duplicate values).`)
	}
	if r.ExternalID {
		steps = append(steps, `Tick "External ID".`)
	}
	steps = append(steps, "Next → keep field-level security visible for your profiles → Next → Save.")
	return steps
}

// objectLabel is how Setup's Object Manager lists an object.
func objectLabel(apiName string) string {
	switch apiName {
	case "Product2":
		return "Product"
	case "OpportunityLineItem":
		return "Opportunity Product"
	}
	if name, ok := strings.CutSuffix(apiName, "__c"); ok {
		return strings.ReplaceAll(name, "_", " ")
	}
	return apiName
}

// dataTypeName is the data type's name in Setup's "New Custom Field" list.
func dataTypeName(t string) string {
	switch t {
	case "DateTime":
		return "Date/Time"
	case "Lookup":
		return "Lookup Relationship"
	}
	return t
}
