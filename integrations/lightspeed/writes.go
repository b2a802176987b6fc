package lightspeed

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Ptr returns a pointer to v, for the optional fields of write types.
func Ptr[T any](v T) *T { return &v }

// CustomerWrite is the body of a customer create or update. Nil fields are
// omitted, which on update leaves them unchanged; a pointer to "" clears a
// text field.
type CustomerWrite struct {
	FirstName                 *string
	LastName                  *string
	DOB                       *time.Time
	Title                     *string
	Company                   *string
	CompanyRegistrationNumber *string
	VATNumber                 *string
	CustomerTypeID            *int64
	DiscountID                *int64
	TaxCategoryID             *int64
	Archived                  *bool // update only; false unarchives
	Contact                   *ContactWrite
	// CustomFieldValues sets the listed fields only.
	CustomFieldValues []CustomFieldValueWrite
	// Note replaces the customer's note when non-nil.
	Note *string
}

// ContactWrite is the Contact of a customer write. Lightspeed keeps at most
// one phone per use type and one email per use type, and merges what is sent
// by use type: each entry must carry the complete value for its use type
// (an entry with an empty Number or Address clears that use type), and use
// types not sent are kept. Address replaces the single stored address.
type ContactWrite struct {
	NoEmail *bool
	NoPhone *bool
	NoMail  *bool
	Phones  []ContactPhone
	Emails  []ContactEmail
	Address *ContactAddress
	Custom  *string
}

// CustomFieldValueWrite sets one custom field. Value is the text form of the
// value ("true", "Gold", "2024-01-02"; for a choice field the choice value).
// Deleted clears the field's value.
type CustomFieldValueWrite struct {
	CustomFieldID int64
	Value         string
	Deleted       bool
}

// MarshalJSON writes the bare entity object the API expects, with every
// scalar as a string and relations in their container form.
func (w CustomerWrite) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	putStr(m, "firstName", w.FirstName)
	putStr(m, "lastName", w.LastName)
	if w.DOB != nil {
		m["dob"] = w.DOB.Format(timeLayoutAPI)
	}
	putStr(m, "title", w.Title)
	putStr(m, "company", w.Company)
	putStr(m, "companyRegistrationNumber", w.CompanyRegistrationNumber)
	putStr(m, "vatNumber", w.VATNumber)
	putInt(m, "customerTypeID", w.CustomerTypeID)
	putInt(m, "discountID", w.DiscountID)
	putInt(m, "taxCategoryID", w.TaxCategoryID)
	putBool(m, "archived", w.Archived)
	if w.Contact != nil {
		m["Contact"] = w.Contact.wire()
	}
	if len(w.CustomFieldValues) > 0 {
		vals := make([]map[string]any, len(w.CustomFieldValues))
		for i, v := range w.CustomFieldValues {
			e := map[string]any{"customFieldID": strconv.FormatInt(v.CustomFieldID, 10), "value": v.Value}
			if v.Deleted {
				e["deleted"] = "true"
			}
			vals[i] = e
		}
		m["CustomFieldValues"] = map[string]any{"CustomFieldValue": oneOrMany(vals)}
	}
	if w.Note != nil {
		m["Note"] = map[string]any{"note": *w.Note}
	}
	return json.Marshal(m)
}

func (c *ContactWrite) wire() map[string]any {
	m := map[string]any{}
	putBool(m, "noEmail", c.NoEmail)
	putBool(m, "noPhone", c.NoPhone)
	putBool(m, "noMail", c.NoMail)
	putStr(m, "custom", c.Custom)
	if len(c.Phones) > 0 {
		m["Phones"] = map[string]any{"ContactPhone": oneOrMany(c.Phones)}
	}
	if len(c.Emails) > 0 {
		m["Emails"] = map[string]any{"ContactEmail": oneOrMany(c.Emails)}
	}
	if c.Address != nil {
		m["Addresses"] = map[string]any{"ContactAddress": *c.Address}
	}
	return m
}

// oneOrMany mirrors the wire: one element as an object, more as an array.
func oneOrMany[T any](s []T) any {
	if len(s) == 1 {
		return s[0]
	}
	return s
}

func putStr(m map[string]any, k string, v *string) {
	if v != nil {
		m[k] = *v
	}
}

func putInt(m map[string]any, k string, v *int64) {
	if v != nil {
		m[k] = strconv.FormatInt(*v, 10)
	}
}

func putBool(m map[string]any, k string, v *bool) {
	if v != nil {
		m[k] = strconv.FormatBool(*v)
	}
}

// SaleWrite is the body of a sale create (used to make test data).
type SaleWrite struct {
	ShopID                int64
	RegisterID            int64
	EmployeeID            int64
	CustomerID            int64
	Completed             bool
	ReferenceNumber       string
	ReferenceNumberSource string
	Lines                 []SaleLineWrite
	Payments              []SalePaymentWrite
}

// SaleLineWrite is one line of a SaleWrite. Quantity is negative for a
// refund line, which then names ParentSaleLineID.
type SaleLineWrite struct {
	ItemID           int64
	ItemCode         string // instead of ItemID: a UPC, EAN or item id
	UnitQuantity     int64
	UnitPrice        *decimal.Decimal
	EmployeeID       int64
	ParentSaleLineID int64
}

// SalePaymentWrite is one payment of a SaleWrite.
type SalePaymentWrite struct {
	PaymentTypeID   int64
	Amount          decimal.Decimal
	CreditAccountID int64
}

// MarshalJSON writes the sale in the API's form.
func (w SaleWrite) MarshalJSON() ([]byte, error) {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	m := map[string]any{
		"shopID":     id(w.ShopID),
		"registerID": id(w.RegisterID),
		"employeeID": id(w.EmployeeID),
		"customerID": id(w.CustomerID),
		"completed":  strconv.FormatBool(w.Completed),
	}
	if w.ReferenceNumber != "" {
		m["referenceNumber"] = w.ReferenceNumber
	}
	if w.ReferenceNumberSource != "" {
		m["referenceNumberSource"] = w.ReferenceNumberSource
	}
	if len(w.Lines) > 0 {
		lines := make([]map[string]any, len(w.Lines))
		for i, l := range w.Lines {
			e := map[string]any{"unitQuantity": id(l.UnitQuantity)}
			if l.ItemCode != "" {
				e["itemCode"] = l.ItemCode
			} else {
				e["itemID"] = id(l.ItemID)
			}
			if l.UnitPrice != nil {
				e["unitPrice"] = l.UnitPrice.String()
			}
			if l.EmployeeID != 0 {
				e["employeeID"] = id(l.EmployeeID)
			}
			if l.ParentSaleLineID != 0 {
				e["parentSaleLineID"] = id(l.ParentSaleLineID)
			}
			lines[i] = e
		}
		m["SaleLines"] = map[string]any{"SaleLine": oneOrMany(lines)}
	}
	if len(w.Payments) > 0 {
		pays := make([]map[string]any, len(w.Payments))
		for i, p := range w.Payments {
			e := map[string]any{"paymentTypeID": id(p.PaymentTypeID), "amount": p.Amount.String()}
			if p.CreditAccountID != 0 {
				e["creditAccountID"] = id(p.CreditAccountID)
			}
			pays[i] = e
		}
		m["SalePayments"] = map[string]any{"SalePayment": oneOrMany(pays)}
	}
	return json.Marshal(m)
}

// CustomFieldWrite is the body of a custom field create.
type CustomFieldWrite struct {
	Name             string
	Type             string // see CustomField.Type
	UOM              string
	DecimalPrecision int64
}

// MarshalJSON writes the custom field in the API's form.
func (w CustomFieldWrite) MarshalJSON() ([]byte, error) {
	m := map[string]any{"name": w.Name, "type": w.Type}
	if w.UOM != "" {
		m["uom"] = w.UOM
	}
	if w.DecimalPrecision != 0 {
		m["decimalPrecision"] = strconv.FormatInt(w.DecimalPrecision, 10)
	}
	return json.Marshal(m)
}
