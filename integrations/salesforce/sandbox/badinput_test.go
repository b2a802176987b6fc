package sandbox

import (
	"net/http"
	"net/url"
	"testing"
)

// TestBadInputNeverBreaks throws malformed requests at every resource: each
// must get a 4xx answer with a Salesforce error body, never a 5xx or a
// dropped connection.
func TestBadInputNeverBreaks(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: seed(1), PersonAccounts: true, DuplicateRuleEmail: true})
	if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Key__c", Type: "Text", Length: 40, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	bodies := []string{"", "null", "[]", "{}", "[", `{"records":null}`, `{"records":[null]}`, `{"records":[{"attributes":"Contact"}]}`,
		`{"records":[{"attributes":{"type":"Nope"}}]}`, `{"LastName":{"nested":true}}`, `{"LastName":["a"]}`, `{"Account":{"a":1,"b":2}}`,
		`{"Account":"x"}`, `{"AccountId":{"Key__c":"1"}}`, `{"compositeRequest":[{"method":"GET","url":"","referenceId":"a"}]}`,
		`{"compositeRequest":[{"method":"GET","url":"/services/data/v66.0","referenceId":"a"},{"method":"GET","url":"/services/data/v66.0/sobjects/Contact/@{a.x[3].y}","referenceId":"b"}]}`,
		`{"graphs":[{"graphId":"g","compositeRequest":null}]}`, `{"state":"Nope"}`, `{"object":"Contact","operation":"upsert","externalIdFieldName":"Email"}`,
		`{"ids":["x"],"fields":["Nope"]}`, `{"FullName":"Contact","Metadata":{}}`, `{"FullName":".x__c","Metadata":{"label":"x","type":"Text"}}`,
		`{"RecordTypeId":"012RM0000000001AAA","LastName":"x"}`, `{"Quantity":"NaN","UnitPrice":"Infinity"}`,
	}
	paths := []string{
		"/sobjects/Contact", "/sobjects/Account", "/sobjects/OpportunityLineItem", "/sobjects/Contact/Key__c/" + url.PathEscape("a/b c+d"),
		"/sobjects/Contact/Id", "/composite/sobjects", "/composite/sobjects/Contact", "/composite/sobjects/Contact/Key__c", "/composite",
		"/composite/graph", "/jobs/ingest", "/jobs/ingest/750RM0000000001AAA", "/tooling/sobjects/CustomField", "/tooling/sobjects/CustomObject",
		"/query?q=", "/query?q=SELECT", "/query/zzz-5", "/sobjects/Contact/updated/?start=x", "/sobjects/Contact/deleted/?start=2026-01-01T00:00:00Z&end=2025-01-01T00:00:00Z",
	}
	for _, p := range paths {
		for _, m := range []string{"GET", "POST", "PATCH", "DELETE", "PUT"} {
			for _, body := range bodies {
				r := b.do(t, m, p, body)
				if r.status >= 500 {
					t.Errorf("%s %s %s: %d %s", m, p, body, r.status, r.body)
				}
				if r.status >= 400 && r.status != http.StatusMethodNotAllowed {
					r.errorCode(t) // an error body of the REST shape
				}
			}
		}
	}
}
