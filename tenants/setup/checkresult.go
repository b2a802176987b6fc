package setup

import "time"

// ItemStatus is the state of one Salesforce requirement in the merchant's
// org, as the setup check found it.
type ItemStatus string

// Item states.
const (
	StatusPresent ItemStatus = "present"
	StatusMissing ItemStatus = "missing"
	// StatusMismatch is a field that exists but is not what Tandem needs
	// (not an external ID, say). Tandem cannot change an existing field;
	// the merchant fixes it by hand.
	StatusMismatch ItemStatus = "mismatch"
)

// CheckItem is one requirement's state as the last check found it. Key
// names the requirement ("Object.Field__c", or the object's API name).
type CheckItem struct {
	Key     string     `json:"key"`
	Status  ItemStatus `json:"status"`
	Problem string     `json:"problem,omitempty"` // for StatusMismatch
}

// CheckResult is the outcome of a setup check, kept in the tenant's
// settings. The requirements it checks are jobs/mapping's; this is the
// stored record of what was found.
type CheckResult struct {
	Model     DataModel   `json:"model"`
	CheckedAt time.Time   `json:"checked_at"`
	Items     []CheckItem `json:"items"`
	// PersonAccounts says whether the org has person accounts enabled
	// (the Account describe has IsPersonAccount).
	PersonAccounts bool `json:"person_accounts"`
	// Create is the outcome of the last "Create them for me", if any.
	Create *CreateOutcome `json:"create,omitempty"`
}

// Complete reports whether every requirement is present.
func (r *CheckResult) Complete() bool {
	if r == nil || len(r.Items) == 0 {
		return false
	}
	for _, it := range r.Items {
		if it.Status != StatusPresent {
			return false
		}
	}
	return true
}

// Missing returns the keys of the requirements that are missing (not the
// mismatched ones, which cannot be created).
func (r *CheckResult) Missing() []string {
	var out []string
	for _, it := range r.Items {
		if it.Status == StatusMissing {
			out = append(out, it.Key)
		}
	}
	return out
}

// Item returns the check's item for key.
func (r *CheckResult) Item(key string) (CheckItem, bool) {
	for _, it := range r.Items {
		if it.Key == key {
			return it, true
		}
	}
	return CheckItem{}, false
}

// CreateOutcome is what one "Create them for me" did.
type CreateOutcome struct {
	At      time.Time      `json:"at"`
	Results []CreateResult `json:"results"`
	// PermissionDenied is set when Salesforce refused because the user
	// may not customise the org: the page then shows the manual steps.
	PermissionDenied bool `json:"permission_denied"`
}

// CreateResult is the outcome of creating one requirement.
type CreateResult struct {
	Key string `json:"key"`
	OK  bool   `json:"ok"`
	// Skipped is set for items not attempted: after a permission refusal,
	// or when the object a field belongs to could not be created.
	Skipped bool `json:"skipped,omitempty"`
	// Error is Salesforce's own message, or why the item was skipped.
	Error string `json:"error,omitempty"`
}
