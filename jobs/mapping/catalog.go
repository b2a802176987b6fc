package mapping

import (
	"slices"
	"strconv"
	"strings"
)

// Direction is which way a mapped field flows.
type Direction string

// Directions, as stored in field_mappings.direction.
const (
	ToSalesforce Direction = "ls_to_sf"
	ToLightspeed Direction = "sf_to_ls"
	Both         Direction = "both"
)

// Valid reports whether d is a direction.
func (d Direction) Valid() bool { return d == ToSalesforce || d == ToLightspeed || d == Both }

// ToSF reports whether values flow Lightspeed → Salesforce.
func (d Direction) ToSF() bool { return d == ToSalesforce || d == Both }

// ToLS reports whether values flow Salesforce → Lightspeed.
func (d Direction) ToLS() bool { return d == ToLightspeed || d == Both }

// Label is the direction in words.
func (d Direction) Label() string {
	switch d {
	case ToSalesforce:
		return "Lightspeed → Salesforce"
	case ToLightspeed:
		return "Salesforce → Lightspeed"
	case Both:
		return "Both ways"
	}
	return string(d)
}

// Streams of the mapping: which record a source field belongs to.
const (
	StreamCustomers = "customers"
	StreamSales     = "sales"
	StreamLines     = "sale_lines"
	StreamPayments  = "payments"
)

// FieldType is the kind of value a source field holds.
type FieldType string

// Field types.
const (
	TypeText     FieldType = "text"
	TypeDate     FieldType = "date"
	TypeDateTime FieldType = "datetime"
	TypePhone    FieldType = "phone"
	TypeEmail    FieldType = "email"
	TypeBool     FieldType = "boolean"
	TypeNumber   FieldType = "number"
	TypeMoney    FieldType = "currency"
	TypeID       FieldType = "id"
)

// Field is one Lightspeed value Tandem can send (or receive).
type Field struct {
	Key   string // canonical key: "first_name", "custom:6", "sales_employee"
	Label string // as the mapping screen shows it
	Type  FieldType
	// TwoWay fields may flow Salesforce → Lightspeed too (address, phones,
	// email): their direction can be chosen.
	TwoWay bool
	Stream string
	// Choices are the values a choice field can hold, when known (checked
	// against a target picklist's values).
	Choices []string
}

// Canonical customer keys.
const (
	CustType     = "type"
	CustFirst    = "first_name"
	CustLast     = "last_name"
	CustCompany  = "company"
	CustStreet   = "street"
	CustStreet2  = "street2"
	CustCity     = "city"
	CustState    = "state"
	CustZip      = "zip"
	CustCountry  = "country"
	CustHome     = "home_phone"
	CustWork     = "work_phone"
	CustMobile   = "mobile_phone"
	CustEmail    = "email"
	CustBirth    = "birth_date"
	CustID       = "customer_id"
	CustCreated  = "created"
	customPrefix = "custom:"
)

// CustomKey is the canonical key of a Lightspeed customer custom field.
func CustomKey(customFieldID int64) string {
	return customPrefix + strconv.FormatInt(customFieldID, 10)
}

// CustomID returns the custom field id of a custom key, and false for other
// keys.
func CustomID(key string) (int64, bool) {
	rest, ok := strings.CutPrefix(key, customPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// CustomField is a Lightspeed customer custom field, as discovery found it.
type CustomField struct {
	ID   int64
	Name string
	Type string // Lightspeed's type: string, boolean, date, single_choice, ...
	// Choices are a choice field's values, when known.
	Choices []string
}

// CustomerFields is the customer catalog in the order the mapping screen
// lists it: the standard fields, then every custom field by its Lightspeed
// name, then the Lightspeed Customer ID and created date.
func CustomerFields(custom []CustomField) []Field {
	c := func(key, label string, t FieldType, twoWay bool) Field {
		return Field{Key: key, Label: label, Type: t, TwoWay: twoWay, Stream: StreamCustomers}
	}
	out := []Field{
		c(CustType, "Type", TypeText, false),
		c(CustFirst, "First name", TypeText, false),
		c(CustLast, "Last name", TypeText, false),
		c(CustCompany, "Company", TypeText, false),
		c(CustStreet, "Street address", TypeText, true),
		c(CustStreet2, "Street address 2", TypeText, true),
		c(CustCity, "City", TypeText, true),
		c(CustState, "State", TypeText, true),
		c(CustZip, "ZIP", TypeText, true),
		c(CustCountry, "Country", TypeText, true),
		c(CustHome, "Home phone", TypePhone, true),
		c(CustWork, "Work phone", TypePhone, true),
		c(CustMobile, "Mobile phone", TypePhone, true),
		c(CustEmail, "Email", TypeEmail, true),
		c(CustBirth, "Birth date", TypeDate, false),
	}
	for _, f := range custom {
		cf := c(CustomKey(f.ID), f.Name, customFieldType(f.Type), false)
		cf.Choices = f.Choices
		out = append(out, cf)
	}
	return append(out,
		c(CustID, "Lightspeed Customer ID", TypeID, false),
		c(CustCreated, "Created date", TypeDateTime, false),
	)
}

func customFieldType(t string) FieldType {
	switch strings.ToLower(t) {
	case "boolean":
		return TypeBool
	case "date":
		return TypeDate
	case "float", "integer":
		return TypeNumber
	}
	return TypeText
}

// TwoWayKeys are the customer keys whose changes in Salesforce may flow
// back to Lightspeed.
func TwoWayKeys() []string {
	return []string{CustStreet, CustStreet2, CustCity, CustState, CustZip, CustCountry, CustHome, CustWork, CustMobile, CustEmail}
}

// IsTwoWay reports whether key may flow Salesforce → Lightspeed.
func IsTwoWay(key string) bool { return slices.Contains(TwoWayKeys(), key) }
