package lightspeed

import (
	"bytes"
	"encoding/json"
	"github.com/go-json-experiment/json/jsontext"
	"time"

	"github.com/shopspring/decimal"
)

// IDs are int64. Lightspeed IDs are integers printed as strings ("7"); an
// unset foreign key is "0", so a zero ID means "none". int64 makes them cheap
// to compare, sort and store in Postgres bigint columns, and the decoder
// accepts both "7" and 7. Money and rates are decimal.Decimal, never float64.
// Timestamps are time.Time in the offset Lightspeed sent (normally UTC); an
// absent or empty timestamp is the zero time.

// Account is a Lightspeed account (the merchant). List returns the accounts
// the token can reach; Get returns the details of one.
type Account struct {
	AccountID int64
	Name      string
	// Link is the API path of the account ("/API/V3/Account/120645").
	Link string

	// Details, filled by AccountsService.Get only.
	Status                       string
	EmployeeCount                int64
	EmployeeLimit                int64
	UniqueSubscriptionIdentifier string
	DefaultCurrency              Currency
}

// Currency is an ISO currency code and its symbol.
type Currency struct {
	Code   string
	Symbol string
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (c *Currency) UnmarshalJSON(b []byte) error { return unmarshal(b, c) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (c *Currency) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Currency", dec, &struct {
		Code   *flexString `json:"code"`
		Symbol *flexString `json:"symbol"`
	}{str(&c.Code), str(&c.Symbol)})
}

// link decodes {"@attributes":{"href":"..."}} into its href.
type link struct{ p *string }

// UnmarshalJSON decodes both the list form ({accountID, name, link}) and the
// detail form, whose ID is in @attributes.systemCustomerID.
func (a *Account) UnmarshalJSON(b []byte) error { return unmarshal(b, a) }

// UnmarshalJSONFrom decodes both forms in a streaming pass.
func (a *Account) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var attr struct {
		SystemCustomerID flexInt `json:"systemCustomerID"`
	}
	err := decodeFrom("Account", dec, &struct {
		AccountID  *flexInt    `json:"accountID"`
		Name       *flexString `json:"name"`
		Link       link        `json:"link"`
		Attributes *struct {
			SystemCustomerID flexInt `json:"systemCustomerID"`
		} `json:"@attributes"`
		Status                       *flexString `json:"status"`
		EmployeeCount                *flexInt    `json:"employeeCount"`
		EmployeeLimit                *flexInt    `json:"employeeLimit"`
		UniqueSubscriptionIdentifier *flexString `json:"uniqueSubscriptionIdentifier"`
		DefaultCurrency              *Currency   `json:"defaultCurrency"`
	}{
		i64(&a.AccountID), str(&a.Name), link{&a.Link}, &attr, str(&a.Status),
		i64(&a.EmployeeCount), i64(&a.EmployeeLimit), str(&a.UniqueSubscriptionIdentifier), &a.DefaultCurrency,
	})
	if err == nil && a.AccountID == 0 {
		a.AccountID = int64(attr.SystemCustomerID)
	}
	return err
}

// Shop is a store location.
type Shop struct {
	ShopID                    int64
	Name                      string
	ServiceRate               decimal.Decimal
	TimeZone                  string
	TaxLabor                  bool
	LabelTitle                string
	LabelMSRP                 bool
	Archived                  bool
	TimeStamp                 time.Time
	CompanyRegistrationNumber string
	VATNumber                 string
	ZebraBrowserPrint         bool
	ContactID                 int64
	TaxCategoryID             int64
	ReceiptSetupID            int64
	VendorID                  int64
	CCGatewayID               int64
	GatewayConfigID           int64
	PriceLevelID              int64

	// Relations, present when loaded.
	Contact   *Contact
	Registers []Register
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (s *Shop) UnmarshalJSON(b []byte) error { return unmarshal(b, s) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (s *Shop) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Shop", dec, &struct {
		ShopID                    *flexInt          `json:"shopID"`
		Name                      *flexString       `json:"name"`
		ServiceRate               *flexDecimal      `json:"serviceRate"`
		TimeZone                  *flexString       `json:"timeZone"`
		TaxLabor                  *flexBool         `json:"taxLabor"`
		LabelTitle                *flexString       `json:"labelTitle"`
		LabelMSRP                 *flexBool         `json:"labelMsrp"`
		Archived                  *flexBool         `json:"archived"`
		TimeStamp                 *flexTime         `json:"timeStamp"`
		CompanyRegistrationNumber *flexString       `json:"companyRegistrationNumber"`
		VATNumber                 *flexString       `json:"vatNumber"`
		ZebraBrowserPrint         *flexBool         `json:"zebraBrowserPrint"`
		ContactID                 *flexInt          `json:"contactID"`
		TaxCategoryID             *flexInt          `json:"taxCategoryID"`
		ReceiptSetupID            *flexInt          `json:"receiptSetupID"`
		VendorID                  *flexInt          `json:"vendorID"`
		CCGatewayID               *flexInt          `json:"ccGatewayID"`
		GatewayConfigID           *flexInt          `json:"gatewayConfigID"`
		PriceLevelID              *flexInt          `json:"priceLevelID"`
		Contact                   one[Contact]      `json:"Contact"`
		Registers                 *nested[Register] `json:"Registers"`
	}{
		i64(&s.ShopID), str(&s.Name), money(&s.ServiceRate), str(&s.TimeZone), boolean(&s.TaxLabor),
		str(&s.LabelTitle), boolean(&s.LabelMSRP), boolean(&s.Archived), ts(&s.TimeStamp),
		str(&s.CompanyRegistrationNumber), str(&s.VATNumber), boolean(&s.ZebraBrowserPrint),
		i64(&s.ContactID), i64(&s.TaxCategoryID), i64(&s.ReceiptSetupID), i64(&s.VendorID),
		i64(&s.CCGatewayID), i64(&s.GatewayConfigID), i64(&s.PriceLevelID),
		one[Contact]{&s.Contact}, (*nested[Register])(&s.Registers),
	})
}

// Register is a till in a shop.
type Register struct {
	RegisterID     int64
	Name           string
	Open           bool
	OpenTime       time.Time
	Archived       bool
	TipEnabled     bool
	OpenEmployeeID int64
	ShopID         int64
	CCTerminalID   int64
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (r *Register) UnmarshalJSON(b []byte) error { return unmarshal(b, r) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (r *Register) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Register", dec, &struct {
		RegisterID     *flexInt    `json:"registerID"`
		Name           *flexString `json:"name"`
		Open           *flexBool   `json:"open"`
		OpenTime       *flexTime   `json:"openTime"`
		Archived       *flexBool   `json:"archived"`
		TipEnabled     *flexBool   `json:"tipEnabled"`
		OpenEmployeeID *flexInt    `json:"openEmployeeID"`
		ShopID         *flexInt    `json:"shopID"`
		CCTerminalID   *flexInt    `json:"ccTerminalID"`
	}{
		i64(&r.RegisterID), str(&r.Name), boolean(&r.Open), ts(&r.OpenTime), boolean(&r.Archived),
		boolean(&r.TipEnabled), i64(&r.OpenEmployeeID), i64(&r.ShopID), i64(&r.CCTerminalID),
	})
}

// Employee is a staff member. Sale.EmployeeID is the employee who processed
// a sale at the register; SaleLine.EmployeeID the one who sold the line.
type Employee struct {
	EmployeeID             int64
	FirstName              string // may carry trailing spaces, as entered
	LastName               string
	LockOut                bool
	Archived               bool
	TimeStamp              time.Time
	ContactID              int64
	ClockInEmployeeHoursID int64
	EmployeeRoleID         int64
	LimitToShopID          int64
	LastShopID             int64
	LastSaleID             int64
	LastRegisterID         int64

	Contact *Contact
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (e *Employee) UnmarshalJSON(b []byte) error { return unmarshal(b, e) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (e *Employee) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Employee", dec, &struct {
		EmployeeID             *flexInt     `json:"employeeID"`
		FirstName              *flexString  `json:"firstName"`
		LastName               *flexString  `json:"lastName"`
		LockOut                *flexBool    `json:"lockOut"`
		Archived               *flexBool    `json:"archived"`
		TimeStamp              *flexTime    `json:"timeStamp"`
		ContactID              *flexInt     `json:"contactID"`
		ClockInEmployeeHoursID *flexInt     `json:"clockInEmployeeHoursID"`
		EmployeeRoleID         *flexInt     `json:"employeeRoleID"`
		LimitToShopID          *flexInt     `json:"limitToShopID"`
		LastShopID             *flexInt     `json:"lastShopID"`
		LastSaleID             *flexInt     `json:"lastSaleID"`
		LastRegisterID         *flexInt     `json:"lastRegisterID"`
		Contact                one[Contact] `json:"Contact"`
	}{
		i64(&e.EmployeeID), str(&e.FirstName), str(&e.LastName), boolean(&e.LockOut), boolean(&e.Archived),
		ts(&e.TimeStamp), i64(&e.ContactID), i64(&e.ClockInEmployeeHoursID), i64(&e.EmployeeRoleID),
		i64(&e.LimitToShopID), i64(&e.LastShopID), i64(&e.LastSaleID), i64(&e.LastRegisterID),
		one[Contact]{&e.Contact},
	})
}

// Customer is a customer record.
type Customer struct {
	CustomerID                int64
	FirstName                 string
	LastName                  string
	DOB                       time.Time // local midnight converted to UTC by Lightspeed
	Archived                  bool
	Title                     string
	Company                   string
	CompanyRegistrationNumber string
	VATNumber                 string
	CreateTime                time.Time
	TimeStamp                 time.Time
	ContactID                 int64
	CreditAccountID           int64
	CustomerTypeID            int64
	DiscountID                int64
	EmployeeID                int64
	NoteID                    int64
	TaxCategoryID             int64
	MeasurementID             int64

	// Relations, present when loaded.
	Contact           *Contact
	CustomerType      *CustomerType
	Note              *Note
	CustomFieldValues []CustomFieldValue
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (c *Customer) UnmarshalJSON(b []byte) error { return unmarshal(b, c) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (c *Customer) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Customer", dec, &struct {
		CustomerID                *flexInt                  `json:"customerID"`
		FirstName                 *flexString               `json:"firstName"`
		LastName                  *flexString               `json:"lastName"`
		DOB                       *flexTime                 `json:"dob"`
		Archived                  *flexBool                 `json:"archived"`
		Title                     *flexString               `json:"title"`
		Company                   *flexString               `json:"company"`
		CompanyRegistrationNumber *flexString               `json:"companyRegistrationNumber"`
		VATNumber                 *flexString               `json:"vatNumber"`
		CreateTime                *flexTime                 `json:"createTime"`
		TimeStamp                 *flexTime                 `json:"timeStamp"`
		ContactID                 *flexInt                  `json:"contactID"`
		CreditAccountID           *flexInt                  `json:"creditAccountID"`
		CustomerTypeID            *flexInt                  `json:"customerTypeID"`
		DiscountID                *flexInt                  `json:"discountID"`
		EmployeeID                *flexInt                  `json:"employeeID"`
		NoteID                    *flexInt                  `json:"noteID"`
		TaxCategoryID             *flexInt                  `json:"taxCategoryID"`
		MeasurementID             *flexInt                  `json:"measurementID"`
		Contact                   one[Contact]              `json:"Contact"`
		CustomerType              one[CustomerType]         `json:"CustomerType"`
		Note                      one[Note]                 `json:"Note,case:strict"` // not the scalar "note" of SaleLine payloads (5.3)
		CustomFieldValues         *nested[CustomFieldValue] `json:"CustomFieldValues"`
	}{
		i64(&c.CustomerID), str(&c.FirstName), str(&c.LastName), ts(&c.DOB), boolean(&c.Archived),
		str(&c.Title), str(&c.Company), str(&c.CompanyRegistrationNumber), str(&c.VATNumber),
		ts(&c.CreateTime), ts(&c.TimeStamp), i64(&c.ContactID), i64(&c.CreditAccountID),
		i64(&c.CustomerTypeID), i64(&c.DiscountID), i64(&c.EmployeeID), i64(&c.NoteID),
		i64(&c.TaxCategoryID), i64(&c.MeasurementID),
		one[Contact]{&c.Contact}, one[CustomerType]{&c.CustomerType}, one[Note]{&c.Note},
		(*nested[CustomFieldValue])(&c.CustomFieldValues),
	})
}

// Contact holds a customer's, employee's or shop's addresses, phones,
// emails and websites. Lightspeed stores one address, at most one phone per
// use type (Home, Work, Mobile, Pager, Fax) and one email per use type
// (Primary, Secondary).
type Contact struct {
	ContactID int64
	Custom    string
	NoEmail   bool
	NoPhone   bool
	NoMail    bool
	TimeStamp time.Time
	Addresses []ContactAddress
	Phones    []ContactPhone
	Emails    []ContactEmail
	Websites  []ContactWebsite
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (c *Contact) UnmarshalJSON(b []byte) error { return unmarshal(b, c) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (c *Contact) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Contact", dec, &struct {
		ContactID *flexInt                `json:"contactID"`
		Custom    *flexString             `json:"custom"`
		NoEmail   *flexBool               `json:"noEmail"`
		NoPhone   *flexBool               `json:"noPhone"`
		NoMail    *flexBool               `json:"noMail"`
		TimeStamp *flexTime               `json:"timeStamp"`
		Addresses *nested[ContactAddress] `json:"Addresses"`
		Phones    *nested[ContactPhone]   `json:"Phones"`
		Emails    *nested[ContactEmail]   `json:"Emails"`
		Websites  *nested[ContactWebsite] `json:"Websites"`
	}{
		i64(&c.ContactID), str(&c.Custom), boolean(&c.NoEmail), boolean(&c.NoPhone), boolean(&c.NoMail),
		ts(&c.TimeStamp), (*nested[ContactAddress])(&c.Addresses), (*nested[ContactPhone])(&c.Phones),
		(*nested[ContactEmail])(&c.Emails), (*nested[ContactWebsite])(&c.Websites),
	})
}

// Email returns the address stored for useType ("Primary", "Secondary"),
// or "" when there is none.
func (c *Contact) Email(useType string) string {
	if c == nil {
		return ""
	}
	for _, e := range c.Emails {
		if e.UseType == useType {
			return e.Address
		}
	}
	return ""
}

// Phone returns the number stored for useType ("Home", "Work", "Mobile",
// "Pager", "Fax"), or "" when there is none.
func (c *Contact) Phone(useType string) string {
	if c == nil {
		return ""
	}
	for _, p := range c.Phones {
		if p.UseType == useType {
			return p.Number
		}
	}
	return ""
}

// Address returns the contact's address (Lightspeed stores one), or nil.
func (c *Contact) Address() *ContactAddress {
	if c == nil || len(c.Addresses) == 0 {
		return nil
	}
	return &c.Addresses[0]
}

// ContactAddress is a postal address. An empty address object decodes to
// the zero value.
type ContactAddress struct {
	Address1    string `json:"address1"`
	Address2    string `json:"address2"`
	City        string `json:"city"`
	State       string `json:"state"`
	StateCode   string `json:"stateCode"`
	Zip         string `json:"zip"`
	Country     string `json:"country"`
	CountryCode string `json:"countryCode"`
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (a *ContactAddress) UnmarshalJSON(b []byte) error { return unmarshal(b, a) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (a *ContactAddress) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("ContactAddress", dec, &struct {
		Address1    *flexString `json:"address1"`
		Address2    *flexString `json:"address2"`
		City        *flexString `json:"city"`
		State       *flexString `json:"state"`
		StateCode   *flexString `json:"stateCode"`
		Zip         *flexString `json:"zip"`
		Country     *flexString `json:"country"`
		CountryCode *flexString `json:"countryCode"`
	}{
		str(&a.Address1), str(&a.Address2), str(&a.City), str(&a.State), str(&a.StateCode),
		str(&a.Zip), str(&a.Country), str(&a.CountryCode),
	})
}

// IsZero reports whether every field is empty.
func (a ContactAddress) IsZero() bool { return a == ContactAddress{} }

// ContactPhone is a phone number and its use type (Home, Work, Mobile,
// Pager, Fax).
type ContactPhone struct {
	Number  string `json:"number"`
	UseType string `json:"useType"`
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (p *ContactPhone) UnmarshalJSON(b []byte) error { return unmarshal(b, p) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (p *ContactPhone) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("ContactPhone", dec, &struct {
		Number  *flexString `json:"number"`
		UseType *flexString `json:"useType"`
	}{str(&p.Number), str(&p.UseType)})
}

// ContactEmail is an email address and its use type (Primary, Secondary).
type ContactEmail struct {
	Address string `json:"address"`
	UseType string `json:"useType"`
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (e *ContactEmail) UnmarshalJSON(b []byte) error { return unmarshal(b, e) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (e *ContactEmail) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("ContactEmail", dec, &struct {
		Address *flexString `json:"address"`
		UseType *flexString `json:"useType"`
	}{str(&e.Address), str(&e.UseType)})
}

// ContactWebsite is a website URL.
type ContactWebsite struct {
	URL string `json:"url"`
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (w *ContactWebsite) UnmarshalJSON(b []byte) error { return unmarshal(b, w) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (w *ContactWebsite) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("ContactWebsite", dec, &struct {
		URL *flexString `json:"url"`
	}{str(&w.URL)})
}

// CustomerType is a customer category (e.g. "Loyalty").
type CustomerType struct {
	CustomerTypeID int64
	Name           string
	TaxCategoryID  int64
	DiscountID     int64
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (t *CustomerType) UnmarshalJSON(b []byte) error { return unmarshal(b, t) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (t *CustomerType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("CustomerType", dec, &struct {
		CustomerTypeID *flexInt    `json:"customerTypeID"`
		Name           *flexString `json:"name"`
		TaxCategoryID  *flexInt    `json:"taxCategoryID"`
		DiscountID     *flexInt    `json:"discountID"`
	}{i64(&t.CustomerTypeID), str(&t.Name), i64(&t.TaxCategoryID), i64(&t.DiscountID)})
}

// Note is a free-text note attached to a customer or sale line.
type Note struct {
	NoteID    int64
	Note      string
	IsPublic  bool
	TimeStamp time.Time
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (n *Note) UnmarshalJSON(b []byte) error { return unmarshal(b, n) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (n *Note) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Note", dec, &struct {
		NoteID    *flexInt    `json:"noteID"`
		Note      *flexString `json:"note"`
		IsPublic  *flexBool   `json:"isPublic"`
		TimeStamp *flexTime   `json:"timeStamp"`
	}{i64(&n.NoteID), str(&n.Note), boolean(&n.IsPublic), ts(&n.TimeStamp)})
}

// CustomField is the definition of a customer custom field.
type CustomField struct {
	CustomFieldID    int64
	Type             string // string, text, url, email, datetime, date, boolean, integer, float, single_choice, multi_choice
	Name             string
	UOM              string
	DecimalPrecision int64
	Archived         bool
	// Default is the field's default value as sent (its type varies with
	// Type); nil when absent.
	Default json.RawMessage
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (f *CustomField) UnmarshalJSON(b []byte) error { return unmarshal(b, f) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (f *CustomField) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("CustomField", dec, &struct {
		CustomFieldID    *flexInt         `json:"customFieldID"`
		Type             *flexString      `json:"type"`
		Name             *flexString      `json:"name"`
		UOM              *flexString      `json:"uom"`
		DecimalPrecision *flexInt         `json:"decimalPrecision"`
		Archived         *flexBool        `json:"archived"`
		Default          *json.RawMessage `json:"default"`
	}{
		i64(&f.CustomFieldID), str(&f.Type), str(&f.Name), str(&f.UOM), i64(&f.DecimalPrecision),
		boolean(&f.Archived), &f.Default,
	})
}

// CustomFieldChoice is one allowed value of a choice custom field.
type CustomFieldChoice struct {
	CustomFieldChoiceID int64
	Value               string
	Name                string
	CanBeDeleted        bool
	CustomFieldID       int64
	TimeStamp           time.Time
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (c *CustomFieldChoice) UnmarshalJSON(b []byte) error { return unmarshal(b, c) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (c *CustomFieldChoice) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("CustomFieldChoice", dec, &struct {
		CustomFieldChoiceID *flexInt    `json:"customFieldChoiceID"`
		Value               *flexString `json:"value"`
		Name                *flexString `json:"name"`
		CanBeDeleted        *flexBool   `json:"canBeDeleted"`
		CustomFieldID       *flexInt    `json:"customFieldID"`
		TimeStamp           *flexTime   `json:"timeStamp"`
	}{
		i64(&c.CustomFieldChoiceID), str(&c.Value), str(&c.Name), boolean(&c.CanBeDeleted),
		i64(&c.CustomFieldID), ts(&c.TimeStamp),
	})
}

// CustomFieldValue is a customer's value for one custom field. Value is the
// value as text ("true", "Gold", "2024-01-02"); for choice fields whose value
// arrives as choice objects, Choices holds them and Value the first choice's
// value (or name).
type CustomFieldValue struct {
	CustomFieldValueID int64
	CustomFieldID      int64
	Name               string
	Type               string
	Value              string
	Choices            []CustomFieldChoice
}

// cfValue decodes a custom field value that is a scalar, a choice object,
// a list of choices, "" or null.
type cfValue struct{ v *CustomFieldValue }

func (c cfValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		var choices many[CustomFieldChoice]
		if b[0] == '{' && bytes.Contains(b, []byte(`"CustomFieldChoice"`)) {
			var n nested[CustomFieldChoice]
			if err := n.UnmarshalJSON(b); err != nil {
				return err
			}
			choices = many[CustomFieldChoice](n)
		} else if err := choices.UnmarshalJSON(b); err != nil {
			return err
		}
		c.v.Choices = choices
		if len(choices) > 0 {
			c.v.Value = choices[0].Value
			if c.v.Value == "" {
				c.v.Value = choices[0].Name
			}
		}
		return nil
	}
	return (*flexString)(&c.v.Value).UnmarshalJSON(b)
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (v *CustomFieldValue) UnmarshalJSON(b []byte) error { return unmarshal(b, v) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (v *CustomFieldValue) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("CustomFieldValue", dec, &struct {
		CustomFieldValueID *flexInt    `json:"customFieldValueID"`
		CustomFieldID      *flexInt    `json:"customFieldID"`
		Name               *flexString `json:"name"`
		Type               *flexString `json:"type"`
		Value              cfValue     `json:"value"`
	}{i64(&v.CustomFieldValueID), i64(&v.CustomFieldID), str(&v.Name), str(&v.Type), cfValue{v}})
}

// PaymentType is a tender (Cash, Credit Card, Gift Card, ...). Type is one
// of the reserved values "cash", "credit card", "credit account",
// "gift card", "ecom", "adjustment", or "user defined".
type PaymentType struct {
	PaymentTypeID         int64
	Code                  string
	Name                  string
	RequireCustomer       bool
	Archived              bool
	InternalReserved      bool
	Type                  string
	Channel               string
	RefundAsPaymentTypeID int64
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (p *PaymentType) UnmarshalJSON(b []byte) error { return unmarshal(b, p) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (p *PaymentType) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("PaymentType", dec, &struct {
		PaymentTypeID         *flexInt    `json:"paymentTypeID"`
		Code                  *flexString `json:"code"`
		Name                  *flexString `json:"name"`
		RequireCustomer       *flexBool   `json:"requireCustomer"`
		Archived              *flexBool   `json:"archived"`
		InternalReserved      *flexBool   `json:"internalReserved"`
		Type                  *flexString `json:"type"`
		Channel               *flexString `json:"channel"`
		RefundAsPaymentTypeID *flexInt    `json:"refundAsPaymentTypeID"`
	}{
		i64(&p.PaymentTypeID), str(&p.Code), str(&p.Name), boolean(&p.RequireCustomer), boolean(&p.Archived),
		boolean(&p.InternalReserved), str(&p.Type), str(&p.Channel), i64(&p.RefundAsPaymentTypeID),
	})
}

// Item is a product.
type Item struct {
	ItemID               int64
	SystemSKU            string
	DefaultCost          decimal.Decimal
	AvgCost              decimal.Decimal
	Discountable         bool
	Tax                  bool
	Archived             bool
	ItemType             string
	Serialized           bool
	LaborDurationMinutes int64
	Description          string
	ModelYear            int64
	UPC                  string
	EAN                  string
	CustomSKU            string
	ManufacturerSKU      string
	CreateTime           time.Time
	TimeStamp            time.Time
	PublishToEcom        bool
	CategoryID           int64
	TaxClassID           int64
	DepartmentID         int64
	ItemMatrixID         int64
	ItemAttributesID     int64
	ManufacturerID       int64
	NoteID               int64
	SeasonID             int64
	DefaultVendorID      int64
	ItemECommerceID      int64
	Prices               []ItemPrice
}

// Price returns the amount of the price with the given use type
// ("Default", "MSRP", "Online", ...) and whether it exists.
func (it *Item) Price(useType string) (decimal.Decimal, bool) {
	for _, p := range it.Prices {
		if p.UseType == useType {
			return p.Amount, true
		}
	}
	return decimal.Decimal{}, false
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (it *Item) UnmarshalJSON(b []byte) error { return unmarshal(b, it) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (it *Item) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Item", dec, &struct {
		ItemID               *flexInt           `json:"itemID"`
		SystemSKU            *flexString        `json:"systemSku"`
		DefaultCost          *flexDecimal       `json:"defaultCost"`
		AvgCost              *flexDecimal       `json:"avgCost"`
		Discountable         *flexBool          `json:"discountable"`
		Tax                  *flexBool          `json:"tax"`
		Archived             *flexBool          `json:"archived"`
		ItemType             *flexString        `json:"itemType"`
		Serialized           *flexBool          `json:"serialized"`
		LaborDurationMinutes *flexInt           `json:"laborDurationMinutes"`
		Description          *flexString        `json:"description"`
		ModelYear            *flexInt           `json:"modelYear"`
		UPC                  *flexString        `json:"upc"`
		EAN                  *flexString        `json:"ean"`
		CustomSKU            *flexString        `json:"customSku"`
		ManufacturerSKU      *flexString        `json:"manufacturerSku"`
		CreateTime           *flexTime          `json:"createTime"`
		TimeStamp            *flexTime          `json:"timeStamp"`
		PublishToEcom        *flexBool          `json:"publishToEcom"`
		CategoryID           *flexInt           `json:"categoryID"`
		TaxClassID           *flexInt           `json:"taxClassID"`
		DepartmentID         *flexInt           `json:"departmentID"`
		ItemMatrixID         *flexInt           `json:"itemMatrixID"`
		ItemAttributesID     *flexInt           `json:"itemAttributesID"`
		ManufacturerID       *flexInt           `json:"manufacturerID"`
		NoteID               *flexInt           `json:"noteID"`
		SeasonID             *flexInt           `json:"seasonID"`
		DefaultVendorID      *flexInt           `json:"defaultVendorID"`
		ItemECommerceID      *flexInt           `json:"itemECommerceID"`
		Prices               *nested[ItemPrice] `json:"Prices"`
	}{
		i64(&it.ItemID), str(&it.SystemSKU), money(&it.DefaultCost), money(&it.AvgCost), boolean(&it.Discountable),
		boolean(&it.Tax), boolean(&it.Archived), str(&it.ItemType), boolean(&it.Serialized),
		i64(&it.LaborDurationMinutes), str(&it.Description), i64(&it.ModelYear), str(&it.UPC), str(&it.EAN),
		str(&it.CustomSKU), str(&it.ManufacturerSKU), ts(&it.CreateTime), ts(&it.TimeStamp),
		boolean(&it.PublishToEcom), i64(&it.CategoryID), i64(&it.TaxClassID), i64(&it.DepartmentID),
		i64(&it.ItemMatrixID), i64(&it.ItemAttributesID), i64(&it.ManufacturerID), i64(&it.NoteID),
		i64(&it.SeasonID), i64(&it.DefaultVendorID), i64(&it.ItemECommerceID), (*nested[ItemPrice])(&it.Prices),
	})
}

// ItemPrice is one price level of an item.
type ItemPrice struct {
	Amount    decimal.Decimal
	UseTypeID int64
	UseType   string
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (p *ItemPrice) UnmarshalJSON(b []byte) error { return unmarshal(b, p) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (p *ItemPrice) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("ItemPrice", dec, &struct {
		Amount    *flexDecimal `json:"amount"`
		UseTypeID *flexInt     `json:"useTypeID"`
		UseType   *flexString  `json:"useType"`
	}{money(&p.Amount), i64(&p.UseTypeID), str(&p.UseType)})
}
