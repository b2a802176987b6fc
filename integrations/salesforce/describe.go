package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// GlobalDescribe is the answer of GET /sobjects: every object of the org.
type GlobalDescribe struct {
	Encoding     string           `json:"encoding"`
	MaxBatchSize int              `json:"maxBatchSize"`
	SObjects     []SObjectSummary `json:"sobjects"`
}

// SObjectSummary is one object in the global describe.
type SObjectSummary struct {
	Name         string `json:"name"`
	Label        string `json:"label"`
	LabelPlural  string `json:"labelPlural"`
	KeyPrefix    string `json:"keyPrefix"`
	Custom       bool   `json:"custom"`
	Createable   bool   `json:"createable"`
	Updateable   bool   `json:"updateable"`
	Deletable    bool   `json:"deletable"`
	Queryable    bool   `json:"queryable"`
	Retrieveable bool   `json:"retrieveable"`
	Searchable   bool   `json:"searchable"`
}

// SObjectDescribe is the answer of GET /sobjects/{T}/describe, reduced to
// what a field mapping needs.
type SObjectDescribe struct {
	SObjectSummary
	Fields             []Field             `json:"fields"`
	ChildRelationships []ChildRelationship `json:"childRelationships"`
	RecordTypeInfos    []RecordTypeInfo    `json:"recordTypeInfos"`

	byName map[string]*Field // lower-cased name → field
}

// Field is one field entry of an object describe.
type Field struct {
	Name                string          `json:"name"`
	Label               string          `json:"label"`
	Type                string          `json:"type"`
	SOAPType            string          `json:"soapType"`
	Length              int             `json:"length"`
	ByteLength          int             `json:"byteLength"`
	Digits              int             `json:"digits"`
	Precision           int             `json:"precision"`
	Scale               int             `json:"scale"`
	Custom              bool            `json:"custom"`
	Createable          bool            `json:"createable"`
	Updateable          bool            `json:"updateable"`
	Nillable            bool            `json:"nillable"`
	DefaultedOnCreate   bool            `json:"defaultedOnCreate"`
	Calculated          bool            `json:"calculated"`
	AutoNumber          bool            `json:"autoNumber"`
	ExternalID          bool            `json:"externalId"`
	IDLookup            bool            `json:"idLookup"`
	Unique              bool            `json:"unique"`
	CaseSensitive       bool            `json:"caseSensitive"`
	NameField           bool            `json:"nameField"`
	Filterable          bool            `json:"filterable"`
	Sortable            bool            `json:"sortable"`
	PicklistValues      []PicklistValue `json:"picklistValues"`
	RestrictedPicklist  bool            `json:"restrictedPicklist"`
	ReferenceTo         []string        `json:"referenceTo"`
	RelationshipName    string          `json:"relationshipName"`
	CompoundFieldName   string          `json:"compoundFieldName"`
	ExtraTypeInfo       string          `json:"extraTypeInfo"`
	DefaultValue        json.RawMessage `json:"defaultValue"`
	InlineHelpText      string          `json:"inlineHelpText"`
	DeprecatedAndHidden bool            `json:"deprecatedAndHidden"`
}

// RequiredOnCreate reports whether a create must set the field:
// createable, not nillable and not defaulted by the server.
func (f *Field) RequiredOnCreate() bool {
	return f.Createable && !f.Nillable && !f.DefaultedOnCreate
}

// UpsertKey reports whether the field can key an upsert.
func (f *Field) UpsertKey() bool { return f.ExternalID || (f.IDLookup && f.Unique) }

// PicklistValue is one value of a picklist field.
type PicklistValue struct {
	Value        string `json:"value"`
	Label        string `json:"label"`
	Active       bool   `json:"active"`
	DefaultValue bool   `json:"defaultValue"`
}

// ChildRelationship names an object whose records point at this one.
type ChildRelationship struct {
	ChildSObject     string `json:"childSObject"`
	Field            string `json:"field"`
	RelationshipName string `json:"relationshipName"`
	CascadeDelete    bool   `json:"cascadeDelete"`
}

// RecordTypeInfo is one record type available on the object.
type RecordTypeInfo struct {
	Name                     string `json:"name"`
	DeveloperName            string `json:"developerName"`
	RecordTypeID             string `json:"recordTypeId"`
	Available                bool   `json:"available"`
	DefaultRecordTypeMapping bool   `json:"defaultRecordTypeMapping"`
	Master                   bool   `json:"master"`
}

// Field returns the named field (case-insensitively, as Salesforce matches
// API names) or nil.
func (d *SObjectDescribe) Field(name string) *Field {
	return d.byName[strings.ToLower(name)]
}

// ExternalIDFields lists the fields usable as upsert keys.
func (d *SObjectDescribe) ExternalIDFields() []string {
	var names []string
	for i := range d.Fields {
		if d.Fields[i].ExternalID {
			names = append(names, d.Fields[i].Name)
		}
	}
	return names
}

func (d *SObjectDescribe) index() {
	d.byName = make(map[string]*Field, len(d.Fields))
	for i := range d.Fields {
		d.byName[strings.ToLower(d.Fields[i].Name)] = &d.Fields[i]
	}
}

// describeCache holds describes per client. Describes change only when an
// admin edits the org, which Tandem learns about when a write fails with
// INVALID_FIELD or when the user refreshes the mapping screen; both
// invalidate.
type describeCache struct {
	mu      sync.Mutex
	global  *GlobalDescribe
	objects map[string]*SObjectDescribe // lower-cased name
}

// DescribeGlobal lists the org's objects. The answer is cached until
// InvalidateDescribes.
func (c *Client) DescribeGlobal(ctx context.Context) (*GlobalDescribe, error) {
	c.describes.mu.Lock()
	g := c.describes.global
	c.describes.mu.Unlock()
	if g != nil {
		return g, nil
	}
	g = new(GlobalDescribe)
	if err := c.get(ctx, "describe global", "sobjects", g); err != nil {
		return nil, err
	}
	c.describes.mu.Lock()
	c.describes.global = g
	c.describes.mu.Unlock()
	return g, nil
}

// Describe returns the object's fields and relationships, cached per client
// until InvalidateDescribes. The returned value is shared: do not modify it.
// An unknown object is an *APIError with status 404 (NOT_FOUND or
// INVALID_TYPE).
func (c *Client) Describe(ctx context.Context, sobject string) (*SObjectDescribe, error) {
	if err := checkName(sobject); err != nil {
		return nil, fmt.Errorf("salesforce: describe: %w", err)
	}
	key := strings.ToLower(sobject)
	c.describes.mu.Lock()
	d := c.describes.objects[key]
	c.describes.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d = new(SObjectDescribe)
	if err := c.get(ctx, "describe "+sobject, "sobjects/"+sobject+"/describe", d); err != nil {
		return nil, err
	}
	d.index()
	c.describes.mu.Lock()
	if c.describes.objects == nil {
		c.describes.objects = make(map[string]*SObjectDescribe)
	}
	c.describes.objects[key] = d
	c.describes.mu.Unlock()
	return d, nil
}

// InvalidateDescribes drops cached describes of the named objects, or all
// of them (and the global describe) when none is named.
func (c *Client) InvalidateDescribes(sobjects ...string) {
	c.describes.mu.Lock()
	defer c.describes.mu.Unlock()
	if len(sobjects) == 0 {
		c.describes.global, c.describes.objects = nil, nil
		return
	}
	c.describes.global = nil // a new custom object shows up there
	for _, s := range sobjects {
		delete(c.describes.objects, strings.ToLower(s))
	}
}

// checkName rejects object and field names that are not API names, so they
// can go into a URL path unescaped.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty API name")
	}
	for i, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || (i > 0 && r >= '0' && r <= '9')) {
			return fmt.Errorf("%q is not an API name", name)
		}
	}
	return nil
}

// Operation says which write a record is validated for.
type Operation int

// Operations for [SObjectDescribe.Validate].
const (
	OpCreate Operation = iota
	OpUpdate
	// OpUpsert validates like a create, because the upsert may insert.
	OpUpsert
)

// ValidationError lists what describe-driven validation found wrong with a
// record before it was sent. Each problem carries the code Salesforce would
// answer with.
type ValidationError struct {
	SObject  string
	Problems []ErrorDetail
}

// Error lists every problem found.
func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Code + ": " + p.Message
	}
	return fmt.Sprintf("salesforce: invalid %s: %s", e.SObject, strings.Join(msgs, "; "))
}

// Validate checks a record against the describe the way the API would:
// unknown fields (INVALID_FIELD), read-only fields
// (INVALID_FIELD_FOR_INSERT_UPDATE), missing required fields on create
// (REQUIRED_FIELD_MISSING), text lengths (STRING_TOO_LONG), email format
// and restricted picklist values. It catches most rejections without
// spending an API call; the API stays the authority (validation rules,
// duplicates and references are only checked there). It returns nil or a
// *ValidationError.
func (d *SObjectDescribe) Validate(op Operation, rec map[string]any) error {
	var probs []ErrorDetail
	add := func(code, msg string, fields ...string) {
		probs = append(probs, ErrorDetail{Code: code, Message: msg, Fields: fields})
	}
	names := make([]string, 0, len(rec))
	for k := range rec {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := rec[name]
		if name == "attributes" || strings.EqualFold(name, "Id") && op == OpUpdate {
			continue
		}
		f := d.Field(name)
		if f == nil {
			if _, isRef := v.(map[string]any); isRef && d.relationship(name) {
				continue // a parent set through its external ID
			}
			add(CodeInvalidField, fmt.Sprintf("No such column '%s' on sobject of type %s", name, d.Name), name)
			continue
		}
		if op == OpUpdate && !f.Updateable || op != OpUpdate && !f.Createable {
			add("INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", f.Name), f.Name)
			continue
		}
		if v == nil {
			if op == OpUpdate && !f.Nillable && f.Type != "boolean" {
				add(CodeRequiredFieldMissing, fmt.Sprintf("Required fields are missing: [%s]", f.Name), f.Name)
			}
			continue
		}
		s, isString := v.(string)
		switch f.Type {
		case "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring":
			if !isString {
				add("INVALID_TYPE_ON_FIELD_IN_RECORD", fmt.Sprintf("%s: value not of required type: %v", f.Label, v), f.Name)
				continue
			}
			if f.Length > 0 && utf8.RuneCountInString(s) > f.Length {
				add(CodeStringTooLong, fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, excerpt(s, 40), f.Length), f.Name)
			}
			if f.Type == "email" && s != "" && !validEmail(s) {
				add("INVALID_EMAIL_ADDRESS", fmt.Sprintf("%s: invalid email address: %s", f.Label, s), f.Name)
			}
			if f.Type == "picklist" && f.RestrictedPicklist && s != "" && !slices.ContainsFunc(f.PicklistValues, func(p PicklistValue) bool { return p.Active && p.Value == s }) {
				add("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, s), f.Name)
			}
		case "reference", "id":
			if isString && s != "" && !ValidID(s) {
				add(CodeMalformedID, fmt.Sprintf("%s: id value of incorrect type: %s", f.Label, s), f.Name)
			}
		}
	}
	if op != OpUpdate {
		var missing []string
		for i := range d.Fields {
			f := &d.Fields[i]
			if !f.RequiredOnCreate() {
				continue
			}
			if v, ok := lookupFold(rec, f.Name); !ok || v == nil || v == "" {
				if f.RelationshipName != "" {
					if _, ok := lookupFold(rec, f.RelationshipName); ok {
						continue
					}
				}
				missing = append(missing, f.Name)
			}
		}
		if len(missing) > 0 {
			add(CodeRequiredFieldMissing, fmt.Sprintf("Required fields are missing: [%s]", strings.Join(missing, ", ")), missing...)
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{SObject: d.Name, Problems: probs}
}

func (d *SObjectDescribe) relationship(name string) bool {
	for i := range d.Fields {
		if strings.EqualFold(d.Fields[i].RelationshipName, name) {
			return true
		}
	}
	return false
}

func lookupFold(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// pathEscape escapes a value for one URL path segment.
func pathEscape(s string) string { return url.PathEscape(s) }
