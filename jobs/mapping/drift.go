package mapping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tandemsync/tandem/tenants/setup"
)

// DriftItem is a rule whose Salesforce field changed under it since the
// mapping was saved: deleted, renamed, retyped or made read-only.
type DriftItem struct {
	Rule Rule
	// Label is the source field's label on the mapping screen.
	Label string
	// Problem says what changed, for the mapping screen and events.
	Problem string
}

// Field is the rule's target as the merchant knows it: "Contact.Loyalty_Tier__c".
func (d DriftItem) Field() string { return d.Rule.Object + "." + d.Rule.Target }

// Drift returns the rules of m whose targets the describes in sf no longer
// accept, with what changed. Only those rules stop syncing: Without drops
// them and the rest keeps flowing. A nil sf (never discovered) reports
// nothing; sources missing from catalog are judged by target alone.
func Drift(m Mapping, catalog []Field, sf *setup.SalesforceDiscovery) []DriftItem {
	if sf == nil {
		return nil
	}
	var out []DriftItem
	for _, r := range m.Rules {
		src := lookupField(catalog, r.Stream, r.Source)
		if src == nil {
			// A source Tandem no longer lists (a Lightspeed custom field
			// removed) is judged as text: only the target's existence
			// and writability count.
			src = &Field{Key: r.Source, Label: r.Source, Type: TypeText, Stream: r.Stream}
		}
		if p := targetProblem(r, src, sf); p != "" {
			out = append(out, DriftItem{Rule: r, Label: src.Label, Problem: p})
		}
	}
	return out
}

// Without returns m without the drifted rules.
func (m Mapping) Without(drift []DriftItem) Mapping {
	out := m
	out.Rules = slices.DeleteFunc(slices.Clone(m.Rules), func(r Rule) bool {
		return slices.ContainsFunc(drift, func(d DriftItem) bool { return d.Rule == r })
	})
	return out
}

// DriftNote is the sentence an event carries for the fields a run left
// out, or "" when none.
func DriftNote(drift []DriftItem) string {
	if len(drift) == 0 {
		return ""
	}
	names := make([]string, len(drift))
	for i, d := range drift {
		names[i] = fmt.Sprintf("%s → %s", d.Label, d.Field())
	}
	return "Not synced, the Salesforce field changed (fix it on the Field mapping page): " + strings.Join(names, ", ") + "."
}
