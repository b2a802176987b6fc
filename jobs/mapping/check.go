package mapping

import (
	"fmt"
	"strings"

	"github.com/tandemsync/tandem/tenants/setup"
)

// FieldFacts is what a describe says of an existing field, as far as
// judging it against a Requirement goes.
type FieldFacts struct {
	// Type is the describe type: string, datetime, currency, double,
	// boolean, reference, ...
	Type       string
	Length     int
	ExternalID bool
	Unique     bool
}

// Judge returns r's check item: missing when its object does not exist
// (objectExists false) or, for a field, when field is nil; present when it
// is what Tandem needs; a mismatch, saying why, when an existing field is
// not (Tandem cannot change an existing field, so the merchant must).
func (r Requirement) Judge(objectExists bool, field *FieldFacts) setup.CheckItem {
	item := setup.CheckItem{Key: r.Key(), Status: setup.StatusMissing}
	switch {
	case !objectExists:
		// The object is missing, and with it all of its fields.
	case r.IsObject():
		item.Status = setup.StatusPresent
	case field != nil:
		item.Status, item.Problem = setup.StatusPresent, r.mismatch(*field)
		if item.Problem != "" {
			item.Status = setup.StatusMismatch
		}
	}
	return item
}

// mismatch says what is wrong with an existing field f for r, or "".
func (r Requirement) mismatch(f FieldFacts) string {
	var problems []string
	if want := describeType(r.Type); want != "" && f.Type != want {
		problems = append(problems, fmt.Sprintf("it is of type %s, Tandem needs %s", f.Type, r.TypeLabel()))
	}
	if r.ExternalID && !f.ExternalID {
		problems = append(problems, "it is not marked External ID")
	}
	if r.Unique && !f.Unique {
		problems = append(problems, "it is not marked Unique")
	}
	if r.Type == "Text" && f.Type == "string" && f.Length < r.Length && r.ExternalID {
		problems = append(problems, fmt.Sprintf("its length is %d, Tandem needs at least %d", f.Length, r.Length))
	}
	if len(problems) == 0 {
		return ""
	}
	return "The field exists but " + strings.Join(problems, ", and ") + "."
}

// describeType maps a Metadata API type to the describe type it shows as.
func describeType(metadataType string) string {
	switch metadataType {
	case "Text":
		return "string"
	case "DateTime":
		return "datetime"
	case "Currency":
		return "currency"
	case "Number":
		return "double"
	case "Checkbox":
		return "boolean"
	case "Lookup":
		return "reference"
	}
	return ""
}
