package sandbox

import (
	"net/http"
	"strings"
	"testing"
)

// A deleted custom field leaves describe, writes and queries at once, as in
// Salesforce; the other fields keep working.
func TestDeleteCustomField(t *testing.T) {
	b := setup(t, Options{PersonAccounts: true})
	if r := b.do(t, "POST", b.ts.URL+"/_sandbox/fields", map[string]any{"object": "Contact", "name": "Loyalty_Tier__c", "type": "Text", "length": 40}); r.status != http.StatusCreated {
		t.Fatalf("add field: %d %s", r.status, r.body)
	}
	id := b.create(t, "Contact", map[string]any{"LastName": "Silva", "Loyalty_Tier__c": "Gold"})
	if r := b.do(t, "DELETE", b.ts.URL+"/_sandbox/fields", map[string]any{"object": "Contact", "name": "Loyalty_Tier__c"}); r.status != http.StatusOK {
		t.Fatalf("delete field: %d %s", r.status, r.body)
	}
	for _, obj := range []string{"Contact", "Account"} {
		r := b.do(t, "GET", "/sobjects/"+obj+"/describe", nil)
		if strings.Contains(string(r.body), "Loyalty_Tier__") {
			t.Fatalf("%s describe still lists the deleted field", obj)
		}
	}
	r := b.do(t, "PATCH", "/sobjects/Contact/"+id, map[string]any{"Loyalty_Tier__c": "Silver"})
	if r.status != http.StatusBadRequest || r.errorCode(t) != "INVALID_FIELD" || !strings.Contains(string(r.body), "No such column 'Loyalty_Tier__c'") {
		t.Fatalf("write naming the deleted field: %d %s", r.status, r.body)
	}
	if r := b.do(t, "PATCH", "/sobjects/Contact/"+id, map[string]any{"FirstName": "Ana"}); r.status != http.StatusNoContent {
		t.Fatalf("write without it: %d %s", r.status, r.body)
	}
	if r := b.do(t, "GET", "/query?q=SELECT+Loyalty_Tier__c+FROM+Contact", nil); r.status != http.StatusBadRequest {
		t.Fatalf("query naming the deleted field: %d %s", r.status, r.body)
	}
	for _, bad := range []map[string]any{{"object": "Contact", "name": "LastName"}, {"object": "Nope", "name": "X__c"}, {"object": "Contact", "name": "Loyalty_Tier__c"}} {
		if r := b.do(t, "DELETE", b.ts.URL+"/_sandbox/fields", bad); r.status != http.StatusBadRequest {
			t.Errorf("delete %v: %d %s", bad, r.status, r.body)
		}
	}
}
