package sandbox

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// fieldDef is one field of an object as describe reports it, plus what the
// sandbox needs to validate writes against it.
type fieldDef struct {
	Name, Label, Type string
	Length            int // text types
	Precision, Scale  int // number types
	Digits            int // int
	Createable        bool
	Updateable        bool
	Nillable          bool
	DefaultedOnCreate bool
	ExternalID        bool
	Unique            bool
	IDLookup          bool
	CaseSensitive     bool
	Custom            bool
	Calculated        bool
	AutoNumber        bool
	NameField         bool
	ReferenceTo       []string
	RelationshipName  string
	CascadeDelete     bool // master-detail: deleting the parent deletes the child
	Picklist          []string
	DefaultPicklist   string
	Restricted        bool
	Default           any // value set on create when the field is absent
	ExtraTypeInfo     string
	CompoundFieldName string
	Description       string
	// Required is a custom field's "required" flag; standard required fields
	// are expressed through Nillable/DefaultedOnCreate.
	Required bool
}

// requiredOnCreate reports whether a create must carry a value for the field,
// the rule the reference gives: createable, not nillable, not defaulted.
func (f *fieldDef) requiredOnCreate() bool {
	return f.Createable && !f.Nillable && !f.DefaultedOnCreate
}

// isText reports whether values of the field are strings with a length.
func (f *fieldDef) isText() bool {
	switch f.Type {
	case "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring":
		return true
	}
	return false
}

// soapType is describe's soapType for the field type.
func (f *fieldDef) soapType() string {
	switch f.Type {
	case "id", "reference":
		return "tns:ID"
	case "boolean":
		return "xsd:boolean"
	case "int":
		return "xsd:int"
	case "double", "currency", "percent":
		return "xsd:double"
	case "date":
		return "xsd:date"
	case "datetime":
		return "xsd:dateTime"
	}
	return "xsd:string"
}

// objectDef is one sObject type.
type objectDef struct {
	Name, Label, LabelPlural, KeyPrefix string
	Custom                              bool
	Createable, Updateable, Deletable   bool
	Fields                              []*fieldDef
	byLower                             map[string]*fieldDef
	relByLower                          map[string]*fieldDef
	modified                            time.Time // for If-Modified-Since on describe
}

func (o *objectDef) field(name string) *fieldDef { return o.byLower[strings.ToLower(name)] }

// relationship returns the reference field whose relationship name is rel.
func (o *objectDef) relationship(rel string) *fieldDef {
	return o.relByLower[strings.ToLower(rel)]
}

func (o *objectDef) addField(f *fieldDef) {
	o.Fields = append(o.Fields, f)
	o.byLower[strings.ToLower(f.Name)] = f
	if f.RelationshipName != "" {
		o.relByLower[strings.ToLower(f.RelationshipName)] = f
	}
}

// schema is the org's metadata: objects by lower-case name and key prefix.
type schema struct {
	objects     map[string]*objectDef
	byPrefix    map[string]*objectDef
	nextPrefix  int // custom object key prefixes a00, a01, ...
	personAccts bool
}

func (s *schema) object(name string) *objectDef { return s.objects[strings.ToLower(name)] }

func (s *schema) sorted() []*objectDef {
	out := make([]*objectDef, 0, len(s.objects))
	for _, o := range s.objects {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// childRelationships lists the reference fields of every object that point
// at target, the way describe's childRelationships does.
func (s *schema) childRelationships(target string) []childRel {
	var out []childRel
	for _, o := range s.sorted() {
		for _, f := range o.Fields {
			if f.Name == "MasterRecordId" {
				continue // a merge's trail, not a parent: no child relationship
			}
			for _, to := range f.ReferenceTo {
				if to == target && f.RelationshipName != "" {
					out = append(out, childRel{Child: o.Name, Field: f.Name, Cascade: f.CascadeDelete, Name: childRelName(o)})
				}
			}
		}
	}
	return out
}

type childRel struct {
	Child, Field, Name string
	Cascade            bool
}

// childRelName is the relationship name a parent uses for its children:
// the plural API name for standard objects (Contacts, Opportunities), the
// plural label with underscores and __r for custom ones.
func childRelName(o *objectDef) string {
	if o.Custom {
		return strings.ReplaceAll(o.LabelPlural, " ", "_") + "__r"
	}
	if strings.HasSuffix(o.Name, "y") {
		return strings.TrimSuffix(o.Name, "y") + "ies"
	}
	return o.Name + "s"
}

// Field-definition helpers keep the standard-object tables below readable.

func text(name, label string, length int) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "string", Length: length, Createable: true, Updateable: true, Nillable: true}
}

func typed(typ, name, label string, length int) *fieldDef {
	f := text(name, label, length)
	f.Type = typ
	return f
}

func required(f *fieldDef) *fieldDef { f.Nillable = false; return f }

func readOnly(f *fieldDef) *fieldDef { f.Createable, f.Updateable = false, false; return f }

func createOnly(f *fieldDef) *fieldDef { f.Updateable = false; return f }

func boolean(name, label string, def bool) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "boolean", Createable: true, Updateable: true, DefaultedOnCreate: true, Default: def}
}

func number(typ, name, label string, precision, scale int) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: typ, Precision: precision, Scale: scale, Createable: true, Updateable: true, Nillable: true}
}

func dateField(typ, name, label string) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: typ, Createable: true, Updateable: true, Nillable: true}
}

func ref(name, label, rel string, to ...string) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "reference", Length: 18, Createable: true, Updateable: true, Nillable: true, ReferenceTo: to, RelationshipName: rel}
}

func picklist(name, label string, values ...string) *fieldDef {
	f := text(name, label, 255)
	f.Type = "picklist"
	f.Picklist = values
	return f
}

// newObject returns an object with the system fields every sObject has.
func newObject(name, label, plural, prefix string, owned bool) *objectDef {
	o := &objectDef{Name: name, Label: label, LabelPlural: plural, KeyPrefix: prefix,
		Createable: true, Updateable: true, Deletable: true,
		byLower: map[string]*fieldDef{}, relByLower: map[string]*fieldDef{}}
	o.addField(&fieldDef{Name: "Id", Label: label + " ID", Type: "id", Length: 18, DefaultedOnCreate: true, IDLookup: true, Unique: false, CaseSensitive: false})
	o.addField(readOnly(boolean("IsDeleted", "Deleted", false)))
	if owned {
		f := ref("OwnerId", "Owner ID", "Owner", "User")
		f.Nillable, f.DefaultedOnCreate = false, true
		o.addField(f)
	}
	return o
}

// addAudit appends the audit fields; they come after the object's own fields
// in describe order, as they do in a real org.
func addAudit(o *objectDef) {
	o.addField(readOnly(required(dateField("datetime", "CreatedDate", "Created Date"))))
	o.addField(readOnly(required(ref("CreatedById", "Created By ID", "CreatedBy", "User"))))
	o.addField(readOnly(required(dateField("datetime", "LastModifiedDate", "Last Modified Date"))))
	o.addField(readOnly(required(ref("LastModifiedById", "Last Modified By ID", "LastModifiedBy", "User"))))
	o.addField(readOnly(required(dateField("datetime", "SystemModstamp", "System Modstamp"))))
	for _, f := range o.Fields[len(o.Fields)-5:] {
		f.DefaultedOnCreate = true
	}
}

// masterRecord is the MasterRecordId field of a mergeable object: empty
// until a merge deletes the record, then the id of the record that
// survived it.
func masterRecord(object string) *fieldDef {
	return readOnly(ref("MasterRecordId", "Master Record ID", "MasterRecord", object))
}

func calculated(f *fieldDef) *fieldDef {
	f.Createable, f.Updateable, f.Calculated = false, false, true
	return f
}

// newStandardSchema builds the standard objects of a retail org.
func newStandardSchema(personAccounts bool, edition string, now time.Time) *schema {
	s := &schema{objects: map[string]*objectDef{}, byPrefix: map[string]*objectDef{}, personAccts: personAccounts}
	add := func(o *objectDef) {
		addAudit(o)
		o.modified = now
		s.objects[strings.ToLower(o.Name)] = o
		s.byPrefix[o.KeyPrefix] = o
	}
	street := func(prefix, label string) []*fieldDef {
		return []*fieldDef{
			typed("textarea", prefix+"Street", label+" Street", 255),
			text(prefix+"City", label+" City", 40),
			text(prefix+"State", label+" State/Province", 80),
			text(prefix+"PostalCode", label+" Zip/Postal Code", 20),
			text(prefix+"Country", label+" Country", 80),
		}
	}
	salutations := []string{"Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."}

	// User
	u := newObject("User", "User", "Users", "005", false)
	username := required(text("Username", "Username", 80))
	username.Unique, username.IDLookup = true, true
	for _, f := range []*fieldDef{
		username,
		text("FirstName", "First Name", 40),
		required(text("LastName", "Last Name", 80)),
		calculated(text("Name", "Full Name", 121)),
		required(typed("email", "Email", "Email", 128)),
		required(text("Alias", "Alias", 8)),
		boolean("IsActive", "Active", true),
		text("Title", "Title", 80),
		picklist("TimeZoneSidKey", "Time Zone", "America/Los_Angeles", "America/New_York", "Europe/London", "GMT"),
		picklist("LocaleSidKey", "Locale", "en_US", "en_GB", "fr_CA"),
		picklist("LanguageLocaleKey", "Language", "en_US"),
	} {
		u.addField(f)
	}
	u.field("Name").NameField = true
	add(u)

	// RecordType: metadata, read-only through the data API.
	rt := newObject("RecordType", "Record Type", "Record Types", "012", false)
	rt.Createable, rt.Updateable, rt.Deletable = false, false, false
	for _, f := range []*fieldDef{
		required(text("Name", "Name", 80)),
		required(text("DeveloperName", "Record Type Name", 80)),
		text("NamespacePrefix", "Namespace Prefix", 15),
		text("Description", "Description", 255),
		required(picklist("SobjectType", "SObject Type Name", "Account", "Contact", "Opportunity")),
		boolean("IsActive", "Active", true),
		boolean("IsPersonType", "Is Person Type", false),
	} {
		rt.addField(readOnly(f))
	}
	rt.field("Name").NameField = true
	add(rt)

	// Account
	a := newObject("Account", "Account", "Accounts", "001", true)
	a.addField(masterRecord("Account"))
	name := text("Name", "Account Name", 255)
	name.NameField = true
	if !personAccounts {
		name.Nillable = false
	}
	a.addField(name)
	if personAccounts {
		a.addField(text("LastName", "Last Name", 80))
		a.addField(text("FirstName", "First Name", 40))
		a.addField(picklist("Salutation", "Salutation", salutations...))
		a.addField(ref("RecordTypeId", "Record Type ID", "RecordType", "RecordType"))
	}
	for _, f := range []*fieldDef{
		picklist("Type", "Account Type", "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other"),
		ref("ParentId", "Parent Account ID", "Parent", "Account"),
	} {
		a.addField(f)
	}
	for _, f := range street("Billing", "Billing") {
		a.addField(f)
	}
	for _, f := range street("Shipping", "Shipping") {
		a.addField(f)
	}
	for _, f := range []*fieldDef{
		typed("phone", "Phone", "Account Phone", 40),
		typed("phone", "Fax", "Account Fax", 40),
		text("AccountNumber", "Account Number", 40),
		typed("url", "Website", "Website", 255),
		picklist("Industry", "Industry", "Apparel", "Retail", "Consumer Goods", "Other"),
		number("currency", "AnnualRevenue", "Annual Revenue", 18, 0),
		{Name: "NumberOfEmployees", Label: "Employees", Type: "int", Digits: 8, Createable: true, Updateable: true, Nillable: true},
		typed("textarea", "Description", "Account Description", 32000),
	} {
		a.addField(f)
	}
	if personAccounts {
		a.addField(readOnly(boolean("IsPersonAccount", "Is Person Account", false)))
		a.addField(readOnly(ref("PersonContactId", "Person Contact ID", "PersonContact", "Contact")))
		for _, f := range street("PersonMailing", "Mailing") {
			a.addField(f)
		}
		for _, f := range []*fieldDef{
			typed("phone", "PersonMobilePhone", "Mobile", 40),
			typed("phone", "PersonHomePhone", "Home Phone", 40),
			typed("phone", "PersonOtherPhone", "Other Phone", 40),
			typed("email", "PersonEmail", "Email", 80),
			dateField("date", "PersonBirthdate", "Birthdate"),
		} {
			a.addField(f)
		}
	}
	add(a)

	// Contact
	c := newObject("Contact", "Contact", "Contacts", "003", true)
	c.addField(masterRecord("Contact"))
	for _, f := range []*fieldDef{
		ref("AccountId", "Account ID", "Account", "Account"),
		required(text("LastName", "Last Name", 80)),
		text("FirstName", "First Name", 40),
		picklist("Salutation", "Salutation", salutations...),
		calculated(text("Name", "Full Name", 121)),
	} {
		c.addField(f)
	}
	c.field("Name").NameField = true
	c.field("Name").ExtraTypeInfo = "personname"
	for _, f := range street("Other", "Other") {
		c.addField(f)
	}
	for _, f := range street("Mailing", "Mailing") {
		c.addField(f)
	}
	email := typed("email", "Email", "Email", 80)
	email.IDLookup = true
	for _, f := range []*fieldDef{
		typed("phone", "Phone", "Business Phone", 40),
		typed("phone", "Fax", "Business Fax", 40),
		typed("phone", "MobilePhone", "Mobile Phone", 40),
		typed("phone", "HomePhone", "Home Phone", 40),
		typed("phone", "OtherPhone", "Other Phone", 40),
		email,
		text("Title", "Title", 128),
		text("Department", "Department", 80),
		dateField("date", "Birthdate", "Birthdate"),
		picklist("LeadSource", "Lead Source", "Web", "Phone Inquiry", "Partner Referral", "In Store", "Other"),
		boolean("HasOptedOutOfEmail", "Email Opt Out", false),
		typed("textarea", "Description", "Contact Description", 32000),
	} {
		c.addField(f)
	}
	if personAccounts {
		c.addField(readOnly(boolean("IsPersonAccount", "Is Person Account", false)))
	}
	add(c)

	// Product2
	p := newObject("Product2", "Product", "Products", "01t", false)
	for _, f := range []*fieldDef{
		required(text("Name", "Product Name", 255)),
		text("ProductCode", "Product Code", 255),
		typed("textarea", "Description", "Product Description", 4000),
		boolean("IsActive", "Active", false),
		picklist("Family", "Product Family", "None", "Apparel", "Accessories", "Services"),
		text("StockKeepingUnit", "Product SKU", 180),
		picklist("QuantityUnitOfMeasure", "Quantity Unit Of Measure", "Each"),
		readOnly(boolean("IsArchived", "Archived", false)),
	} {
		p.addField(f)
	}
	p.field("Name").NameField = true
	add(p)

	// Pricebook2
	pb := newObject("Pricebook2", "Price Book", "Price Books", "01s", false)
	for _, f := range []*fieldDef{
		required(text("Name", "Price Book Name", 255)),
		boolean("IsActive", "Active", false),
		readOnly(boolean("IsArchived", "Is Archived", false)),
		text("Description", "Description", 255),
		readOnly(boolean("IsStandard", "Is Standard Price Book", false)),
	} {
		pb.addField(f)
	}
	pb.field("Name").NameField = true
	add(pb)

	// PricebookEntry
	pbe := newObject("PricebookEntry", "Price Book Entry", "Price Book Entries", "01u", false)
	for _, f := range []*fieldDef{
		readOnly(text("Name", "Product Name", 255)),
		createOnly(required(ref("Pricebook2Id", "Price Book ID", "Pricebook2", "Pricebook2"))),
		createOnly(required(ref("Product2Id", "Product ID", "Product2", "Product2"))),
		required(number("currency", "UnitPrice", "List Price", 18, 2)),
		boolean("IsActive", "Active", false),
		boolean("UseStandardPrice", "Use Standard Price", false),
		readOnly(text("ProductCode", "Product Code", 255)),
		readOnly(boolean("IsArchived", "Archived", false)),
	} {
		pbe.addField(f)
	}
	pbe.field("Name").NameField = true
	add(pbe)

	// Opportunity
	o := newObject("Opportunity", "Opportunity", "Opportunities", "006", true)
	stages := []string{"Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}
	prob := number("percent", "Probability", "Probability (%)", 3, 0)
	prob.DefaultedOnCreate = true
	for _, f := range []*fieldDef{
		ref("AccountId", "Account ID", "Account", "Account"),
		required(text("Name", "Name", 120)),
		typed("textarea", "Description", "Description", 32000),
		required(picklist("StageName", "Stage", stages...)),
		number("currency", "Amount", "Amount", 18, 2),
		prob,
		required(dateField("date", "CloseDate", "Close Date")),
		picklist("Type", "Opportunity Type", "Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade", "New Customer"),
		text("NextStep", "Next Step", 255),
		picklist("LeadSource", "Lead Source", "Web", "Phone Inquiry", "Partner Referral", "In Store", "Other"),
		readOnly(boolean("IsClosed", "Closed", false)),
		readOnly(boolean("IsWon", "Won", false)),
		ref("Pricebook2Id", "Price Book ID", "Pricebook2", "Pricebook2"),
		readOnly(boolean("HasOpportunityLineItem", "Has Line Item", false)),
		ref("ContactId", "Contact ID", "Contact", "Contact"),
	} {
		o.addField(f)
	}
	o.field("Name").NameField = true
	add(o)

	// OpportunityLineItem
	li := newObject("OpportunityLineItem", "Opportunity Product", "Opportunity Product", "00k", false)
	oppRef := createOnly(required(ref("OpportunityId", "Opportunity ID", "Opportunity", "Opportunity")))
	oppRef.CascadeDelete = true
	for _, f := range []*fieldDef{
		oppRef,
		{Name: "SortOrder", Label: "Sort Order", Type: "int", Digits: 9, Createable: true, Updateable: true, Nillable: true},
		createOnly(ref("PricebookEntryId", "Price Book Entry ID", "PricebookEntry", "PricebookEntry")),
		createOnly(ref("Product2Id", "Product ID", "Product2", "Product2")),
		readOnly(text("ProductCode", "Product Code", 255)),
		readOnly(text("Name", "Opportunity Product Name", 376)),
		required(number("double", "Quantity", "Quantity", 12, 2)),
		number("currency", "TotalPrice", "Total Price", 18, 2),
		number("currency", "UnitPrice", "Sales Price", 18, 2),
		readOnly(number("currency", "ListPrice", "List Price", 18, 2)),
		dateField("date", "ServiceDate", "Date"),
		text("Description", "Line Description", 255),
		number("percent", "Discount", "Discount", 3, 2),
	} {
		li.addField(f)
	}
	li.field("Name").NameField = true
	add(li)

	add(newOrganization(edition))
	return s
}

// Editions are the values of Organization.OrganizationType (labelled
// "Edition") that the object reference lists.
var editions = []string{"Team Edition", "Professional Edition", "Enterprise Edition", "Developer Edition",
	"Personal Edition", "Unlimited Edition", "Contact Manager Edition", "Base Edition"}

// newOrganization is the standard Organization object: the org's own
// settings, one row per org, keyed 00D. It is read-only here: describe
// reports it neither createable, updateable nor deletable, and the write
// paths refuse it (see refuseType). A real org lets an administrator update
// a few of its fields (name, address, phone); Tandem never writes it, so the
// sandbox does not model that.
func newOrganization(edition string) *objectDef {
	org := newObject("Organization", "Organization", "Organizations", "00D", false)
	org.Createable, org.Updateable, org.Deletable = false, false, false
	editionField := required(picklist("OrganizationType", "Edition", editions...))
	if !slices.Contains(editions, edition) {
		editionField.Picklist = append(slices.Clone(editions), edition)
	}
	zones := []string{"America/Los_Angeles", "America/New_York", "Europe/London", "GMT"}
	locales := []string{"en_US", "en_GB", "fr_CA"}
	for _, f := range []*fieldDef{
		required(text("Name", "Name", 80)),
		text("Division", "Division", 80),
		typed("textarea", "Street", "Street", 255),
		text("City", "City", 40),
		text("State", "State/Province", 80),
		text("PostalCode", "Zip/Postal Code", 20),
		text("Country", "Country", 80),
		typed("phone", "Phone", "Phone", 40),
		typed("phone", "Fax", "Fax", 40),
		text("PrimaryContact", "Primary Contact", 80),
		required(picklist("DefaultLocaleSidKey", "Locale", locales...)),
		required(picklist("TimeZoneSidKey", "Time Zone", zones...)),
		required(picklist("LanguageLocaleKey", "Language", "en_US")),
		editionField,
		text("InstanceName", "Instance Name", 5),
		boolean("IsSandbox", "Is Sandbox", false),
		boolean("IsReadOnly", "Is Read Only", false),
		text("NamespacePrefix", "Namespace Prefix", 15),
		dateField("datetime", "TrialExpirationDate", "Trial Expiration Date"),
		{Name: "FiscalYearStartMonth", Label: "Fiscal Year Starts In", Type: "int", Digits: 9, Nillable: true},
		boolean("UsesStartDateAsFiscalYearName", "Fiscal Year Name by Start", false),
	} {
		org.addField(readOnly(f))
	}
	org.field("Name").NameField = true
	return org
}

// FieldSpec describes a custom field the way a merchant defines one in
// Setup: a metadata type plus its options. It is the body of
// POST /_sandbox/fields (with "object") and the argument of
// [Server.AddCustomField].
type FieldSpec struct {
	// Name is the API name; "__c" is appended when missing.
	Name string `json:"name"`
	// Label defaults to the name without the suffix, underscores as spaces.
	Label string `json:"label,omitempty"`
	// Type is the metadata type: Text, TextArea, LongTextArea, Email, Phone,
	// Url, Number, Currency, Percent, Checkbox, Date, DateTime, Picklist,
	// Lookup or MasterDetail.
	Type string `json:"type"`
	// Length of text fields (Text defaults to 255, LongTextArea to 32768).
	Length int `json:"length,omitempty"`
	// Precision and Scale of number fields (default 18 and 0).
	Precision int `json:"precision,omitempty"`
	Scale     int `json:"scale,omitempty"`
	// Required makes the field required on create.
	Required bool `json:"required,omitempty"`
	// ExternalID marks the field usable for upsert and relationship
	// references.
	ExternalID bool `json:"externalId,omitempty"`
	// Unique rejects a second record with the same value (DUPLICATE_VALUE).
	Unique bool `json:"unique,omitempty"`
	// PicklistValues lists the values of a Picklist field.
	PicklistValues []string `json:"picklistValues,omitempty"`
	// ReferenceTo is the target object of a Lookup or MasterDetail field.
	ReferenceTo string `json:"referenceTo,omitempty"`
	// RelationshipName defaults to the API name with "__r" for "__c".
	RelationshipName string `json:"relationshipName,omitempty"`
	// Description is free text shown in describe-less tools.
	Description string `json:"description,omitempty"`
}

// buildField turns a FieldSpec into a field definition after validating it.
func (s *schema) buildField(obj *objectDef, spec FieldSpec) (*fieldDef, error) {
	name := strings.TrimSpace(spec.Name)
	if name == "" {
		return nil, fmt.Errorf("field name is required")
	}
	if !strings.HasSuffix(name, "__c") {
		name += "__c"
	}
	base := strings.TrimSuffix(name, "__c")
	if !validDeveloperName(base) {
		return nil, fmt.Errorf("field name %q: use letters, digits and single underscores, starting with a letter", name)
	}
	if obj.field(name) != nil {
		return nil, fmt.Errorf("there is already a field named %s on %s", name, obj.Name)
	}
	label := spec.Label
	if label == "" {
		label = strings.ReplaceAll(base, "_", " ")
	}
	f := &fieldDef{Name: name, Label: label, Custom: true, Createable: true, Updateable: true, Nillable: true, Description: spec.Description}
	switch strings.ToLower(spec.Type) {
	case "text":
		f.Type, f.Length = "string", orInt(spec.Length, 255)
		if f.Length > 255 {
			return nil, fmt.Errorf("text field length %d: the maximum is 255", f.Length)
		}
	case "textarea":
		f.Type, f.Length = "textarea", 255
	case "longtextarea":
		f.Type, f.Length = "textarea", orInt(spec.Length, 32768)
		if f.Length > 131072 {
			return nil, fmt.Errorf("long text area length %d: the maximum is 131072", f.Length)
		}
	case "email":
		f.Type, f.Length = "email", 80
	case "phone":
		f.Type, f.Length = "phone", 40
	case "url":
		f.Type, f.Length = "url", 255
	case "number", "currency", "percent":
		f.Type = map[string]string{"number": "double", "currency": "currency", "percent": "percent"}[strings.ToLower(spec.Type)]
		f.Precision, f.Scale = orInt(spec.Precision, 18), spec.Scale
		if f.Precision > 18 || f.Scale > f.Precision || f.Scale < 0 {
			return nil, fmt.Errorf("number field precision %d scale %d: precision is at most 18 and scale at most the precision", f.Precision, f.Scale)
		}
	case "checkbox":
		f.Type, f.Nillable, f.DefaultedOnCreate, f.Default = "boolean", false, true, false
	case "date":
		f.Type = "date"
	case "datetime":
		f.Type = "datetime"
	case "picklist":
		f.Type, f.Length, f.Picklist = "picklist", 255, spec.PicklistValues
		if len(f.Picklist) == 0 {
			return nil, fmt.Errorf("picklist field %s needs picklistValues", name)
		}
	case "lookup", "masterdetail":
		target := s.object(spec.ReferenceTo)
		if target == nil {
			return nil, fmt.Errorf("field %s: referenceTo %q is not an object in this org", name, spec.ReferenceTo)
		}
		f.Type, f.Length, f.ReferenceTo = "reference", 18, []string{target.Name}
		f.RelationshipName = spec.RelationshipName
		if f.RelationshipName == "" {
			f.RelationshipName = base + "__r"
		}
		if strings.EqualFold(spec.Type, "masterdetail") {
			f.Nillable, f.CascadeDelete = false, true
		}
	default:
		return nil, fmt.Errorf("field %s: unsupported type %q", name, spec.Type)
	}
	if spec.Required {
		if f.Type == "boolean" {
			return nil, fmt.Errorf("field %s: a checkbox cannot be required", name)
		}
		f.Nillable, f.Required = false, true
	}
	if spec.ExternalID || spec.Unique {
		switch f.Type {
		case "string", "email", "double":
		default:
			return nil, fmt.Errorf("field %s: only Text, Number and Email fields can be external ids or unique", name)
		}
		f.ExternalID, f.Unique = spec.ExternalID, spec.Unique
		f.IDLookup = true
	}
	return f, nil
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func validDeveloperName(s string) bool {
	if s == "" || len(s) > 40 || strings.Contains(s, "__") || strings.HasSuffix(s, "_") {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case (c >= '0' && c <= '9' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// addCustomObject creates a custom object with its Name field.
func (s *schema) addCustomObject(name, label, plural string, now time.Time) (*objectDef, error) {
	if !strings.HasSuffix(name, "__c") {
		name += "__c"
	}
	base := strings.TrimSuffix(name, "__c")
	if !validDeveloperName(base) {
		return nil, fmt.Errorf("object name %q: use letters, digits and single underscores, starting with a letter", name)
	}
	if s.object(name) != nil {
		return nil, fmt.Errorf("there is already an object named %s", name)
	}
	if label == "" {
		label = strings.ReplaceAll(base, "_", " ")
	}
	if plural == "" {
		plural = label + "s"
	}
	prefix := ""
	for prefix == "" || s.byPrefix[prefix] != nil {
		prefix = "a" + string(base62[s.nextPrefix/62%62]) + string(base62[s.nextPrefix%62])
		s.nextPrefix++
	}
	o := newObject(name, label, plural, prefix, true)
	o.Custom = true
	n := text("Name", label+" Name", 80)
	n.NameField, n.DefaultedOnCreate = true, true
	o.addField(n)
	addAudit(o)
	o.modified = now
	s.objects[strings.ToLower(name)] = o
	s.byPrefix[prefix] = o
	return o, nil
}
