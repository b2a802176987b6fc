package mapping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tandemsync/tandem/tenants/setup"
)

// Problem is what is wrong, or worth knowing, about one row of a mapping
// checked against the org's describes. Refused problems stop a save;
// the others are warnings shown beside the row.
type Problem struct {
	Stream  string
	Source  string // empty for a problem of the whole stream
	Refused bool
	Message string
}

// Report is the outcome of Validate.
type Report struct{ Problems []Problem }

// Refused reports whether any problem stops the save.
func (r Report) Refused() bool {
	return slices.ContainsFunc(r.Problems, func(p Problem) bool { return p.Refused })
}

// For returns the problems of one row (source "" for the stream's own).
func (r Report) For(stream, source string) []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Stream == stream && p.Source == source {
			out = append(out, p)
		}
	}
	return out
}

// lightspeedTextLength is the longest text Lightspeed holds in a customer
// or sale text field.
const lightspeedTextLength = 255

// Validate checks m against the catalog of source fields and the org's
// cached describes, before it is saved: every source known, directions
// allowed, every target an existing field of the stream's object that
// Tandem can write, of a type the source's values fit, used once; and the
// customer object's required fields given a source. Text longer than its
// target and picklist values the target does not accept are warnings.
func Validate(m Mapping, catalog []Field, sf *setup.SalesforceDiscovery) Report {
	var rep Report
	add := func(r Rule, refused bool, format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Stream: r.Stream, Source: r.Source, Refused: refused,
			Message: fmt.Sprintf(format, args...)})
	}
	seen := map[string]Rule{}
	for _, r := range m.Rules {
		src := lookupField(catalog, r.Stream, r.Source)
		if src == nil {
			add(r, true, "Tandem does not know the Lightspeed field %q.", r.Source)
			continue
		}
		switch {
		case !r.Direction.Valid():
			add(r, true, "Choose a direction for %s.", src.Label)
		case r.Direction.ToLS() && !src.TwoWay:
			add(r, true, "%s can only go from Lightspeed to Salesforce.", src.Label)
		}
		if !r.Transform.Valid() {
			add(r, true, "Unknown conversion %q.", r.Transform)
		}
		key := strings.ToLower(r.Object + "." + r.Target)
		if other, dup := seen[key]; dup {
			otherLabel := other.Source
			if f := lookupField(catalog, other.Stream, other.Source); f != nil {
				otherLabel = f.Label
			}
			add(r, true, "%s is already the Salesforce field for %s: a field can receive only one value. Choose another field, or Not synced.",
				r.Target, otherLabel)
			continue
		}
		seen[key] = r
		if msg := targetProblem(r, src, sf); msg != "" {
			add(r, true, "%s", msg)
			continue
		}
		f := sf.Object(r.Object).Field(r.Target)
		if r.Direction.ToSF() {
			if w := lengthWarning(src, f); w != "" {
				add(r, false, "%s", w)
			}
			if w := picklistWarning(src, f); w != "" {
				add(r, false, "%s", w)
			}
		}
	}
	if len(m.Stream(StreamCustomers)) == 0 {
		rep.Problems = append(rep.Problems, Problem{Stream: StreamCustomers, Refused: true,
			Message: "Map at least one customer field."})
	}
	rep.Problems = append(rep.Problems, missingRequired(m, sf)...)
	return rep
}

// targetProblem says why r's target cannot receive src's values (the
// object or field is missing, not writable, or of an incompatible type),
// or "". It is what Validate refuses and Drift reports.
func targetProblem(r Rule, src *Field, sf *setup.SalesforceDiscovery) string {
	if sf == nil {
		return "Salesforce's fields are not known yet: refresh them from Salesforce."
	}
	o := sf.Object(r.Object)
	if o == nil {
		return fmt.Sprintf("The Salesforce org has no %s object (or this user cannot see it).", r.Object)
	}
	f := o.Field(r.Target)
	if f == nil {
		return fmt.Sprintf("%s has no field %s: it was deleted or renamed in Salesforce, or is hidden from this user.", r.Object, r.Target)
	}
	if r.Direction.ToSF() && !f.Createable && !f.Updateable {
		return fmt.Sprintf("%s (%s) is read-only in Salesforce (a formula or system field): Tandem cannot write it.", f.Label, f.Name)
	}
	if !compatible(src.Type, f.Type) {
		return fmt.Sprintf("%s is %s; %s (%s) is %s field, which cannot hold it.",
			src.Label, sourceTypeWords(src.Type), f.Label, f.Name, targetTypeWords(f.Type))
	}
	return ""
}

// compatible reports whether values of source type st fit a Salesforce
// field of describe type tt. Text fields take anything as text; the
// others take only their own kind (a date goes to a date or date/time).
func compatible(st FieldType, tt string) bool {
	switch tt {
	case "string", "textarea", "combobox", "url", "encryptedstring", "picklist", "multipicklist":
		return true
	case "email":
		return st == TypeEmail || st == TypeText
	case "phone":
		return st == TypePhone || st == TypeText
	case "boolean":
		return st == TypeBool
	case "date", "datetime":
		return st == TypeDate || st == TypeDateTime
	case "double", "int", "currency", "percent":
		return st == TypeNumber || st == TypeMoney || st == TypeID
	}
	// Lookups need a Salesforce record id, which no Lightspeed field
	// holds; addresses, locations and files are compound.
	return false
}

func sourceTypeWords(t FieldType) string {
	switch t {
	case TypeBool:
		return "a checkbox (true or false)"
	case TypeDate:
		return "a date"
	case TypeDateTime:
		return "a date and time"
	case TypeNumber:
		return "a number"
	case TypeMoney:
		return "an amount"
	case TypePhone:
		return "a phone number"
	case TypeEmail:
		return "an email address"
	case TypeID:
		return "a Lightspeed id"
	}
	return "text"
}

func targetTypeWords(t string) string {
	switch t {
	case "boolean":
		return "a checkbox"
	case "date":
		return "a date"
	case "datetime":
		return "a date/time"
	case "double", "int", "percent":
		return "a number"
	case "currency":
		return "a currency"
	case "reference":
		return "a lookup"
	case "id":
		return "an id"
	case "email":
		return "an email"
	case "phone":
		return "a phone"
	case "picklist", "multipicklist":
		return "a picklist"
	}
	return "a " + t
}

// textTarget reports whether a describe type holds free text with a length.
func textTarget(t string) bool {
	return slices.Contains([]string{"string", "textarea", "combobox", "url", "email", "phone", "encryptedstring"}, t)
}

// lengthWarning warns when text from src can be longer than f holds: it is
// cut to f's length (TransformFor picks the truncation).
func lengthWarning(src *Field, f *setup.SField) string {
	if !textTarget(f.Type) || f.Length <= 0 || f.Length >= lightspeedTextLength {
		return ""
	}
	switch src.Type {
	case TypeText, TypePhone, TypeEmail:
	default:
		return ""
	}
	return fmt.Sprintf("%s holds %d characters; Lightspeed allows up to %d, so longer values are cut to %d.",
		f.Name, f.Length, lightspeedTextLength, f.Length)
}

// picklistWarning flags the source's known values that f's picklist does
// not have (Salesforce refuses them on a restricted picklist), or, when the
// values are not known in advance, says which values f accepts.
func picklistWarning(src *Field, f *setup.SField) string {
	if f.Type != "picklist" && f.Type != "multipicklist" {
		return ""
	}
	if len(src.Choices) == 0 {
		if len(f.Picklist) == 0 {
			return ""
		}
		return fmt.Sprintf("%s is a picklist: values other than %s are refused by Salesforce.", f.Name, strings.Join(f.Picklist, ", "))
	}
	var outside []string
	for _, c := range src.Choices {
		if !slices.ContainsFunc(f.Picklist, func(p string) bool { return strings.EqualFold(p, c) }) {
			outside = append(outside, c)
		}
	}
	if len(outside) == 0 {
		return ""
	}
	return fmt.Sprintf("Not values of the %s picklist: %s. Records with these values are refused by Salesforce until the picklist has them.",
		f.Name, strings.Join(outside, ", "))
}

// missingRequired refuses a mapping that leaves a required field of the
// customer object without a source: Salesforce would refuse every new
// customer. (The sales streams write their objects' required fields
// themselves.) The problem is shown on the row that maps the field by
// default, if any.
func missingRequired(m Mapping, sf *setup.SalesforceDiscovery) []Problem {
	if sf == nil {
		return nil
	}
	obj := m.Preset.CustomerObject()
	o := sf.Object(obj)
	if o == nil {
		return nil
	}
	mapped := map[string]bool{strings.ToLower(m.Preset.CustomerIDField()): true, "recordtypeid": true}
	for _, r := range m.Stream(StreamCustomers) {
		if r.Object == obj && r.Direction.ToSF() {
			mapped[strings.ToLower(r.Target)] = true
		}
	}
	defaults := Defaults(m.Preset).Stream(StreamCustomers)
	var out []Problem
	for _, f := range o.Fields {
		if !f.Required || !f.Createable || mapped[strings.ToLower(f.Name)] {
			continue
		}
		if m.Preset == PresetPersonAccounts && f.Name == "Name" {
			continue // a person account's name is its first and last name
		}
		p := Problem{Stream: StreamCustomers, Refused: true,
			Message: fmt.Sprintf("%s (%s) is required in Salesforce: map a Lightspeed field to it, or Salesforce refuses every new customer.", f.Label, f.Name)}
		for _, d := range defaults {
			if strings.EqualFold(d.Target, f.Name) {
				p.Source = d.Source
			}
		}
		out = append(out, p)
	}
	return out
}

// TransformFor is the conversion a rule from src to f uses: the date and
// date/time conversions for those targets, the last-name and street rules
// where they apply, a truncation to f's length for shorter text fields,
// else a copy.
func TransformFor(src Field, f setup.SField) Transform {
	switch {
	case f.Type == "date":
		return TransformDate
	case f.Type == "datetime":
		return TransformDateTime
	case src.Key == CustLast && src.Stream == StreamCustomers:
		return TransformLastName
	case src.Key == CustStreet && src.Stream == StreamCustomers:
		return TransformStreetLines
	case textTarget(f.Type) && f.Length > 0 && f.Length < lightspeedTextLength &&
		(src.Type == TypeText || src.Type == TypePhone || src.Type == TypeEmail):
		return Truncate(f.Length)
	}
	return TransformCopy
}

// lookupField returns the catalog's field of stream with key, or nil.
func lookupField(catalog []Field, stream, key string) *Field {
	for i := range catalog {
		if catalog[i].Stream == stream && catalog[i].Key == key {
			return &catalog[i]
		}
	}
	return nil
}
