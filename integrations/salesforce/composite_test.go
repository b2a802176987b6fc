package salesforce_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

func TestComposite(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("POST "+apiRoot+"/composite", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			AllOrNone bool                    `json:"allOrNone"`
			Requests  []salesforce.Subrequest `json:"compositeRequest"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		if !body.AllOrNone || len(body.Requests) != 2 || body.Requests[0].URL != apiRoot+"/sobjects/Account" || body.Requests[1].URL != "/services/data/v66.0/sobjects/Contact" {
			t.Errorf("body = %+v", body)
		}
		writeJSON(w, 200, `{"compositeResponse":[
			{"body":{"id":"001RM000003YqTnYAK","success":true,"errors":[]},"httpHeaders":{"Location":"/services/data/v66.0/sobjects/Account/001RM000003YqTnYAK"},"httpStatusCode":201,"referenceId":"acct"},
			{"body":[{"errorCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"ct"}]}`)
	})
	res, err := c.Composite(t.Context(), salesforce.CompositeRequest{AllOrNone: true, Requests: []salesforce.Subrequest{
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "acct", Body: map[string]any{"Name": "Smith Household"}},
		{Method: "POST", URL: "/services/data/v66.0/sobjects/Contact", ReferenceID: "ct", Body: map[string]any{"AccountId": "@{acct.id}"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err() != nil || res[0].ID() != "001RM000003YqTnYAK" {
		t.Errorf("sub 0 = %+v", res[0])
	}
	var ae *salesforce.APIError
	if err := res[1].Err(); !errors.As(err, &ae) || ae.ErrorCode != "REQUIRED_FIELD_MISSING" || !cmp.Equal(ae.Fields, []string{"LastName"}) {
		t.Errorf("sub 1 err = %v", err)
	}
}

func TestCompositeRejectsBadRequests(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	many := make([]salesforce.Subrequest, 26)
	for i := range many {
		many[i] = salesforce.Subrequest{Method: "GET", URL: "limits", ReferenceID: "r" + strings.Repeat("x", i)}
	}
	tests := []struct {
		name string
		reqs []salesforce.Subrequest
		want string
	}{
		{"none", nil, "0 subrequests"},
		{"26", many, "26 subrequests"},
		{"bad method", []salesforce.Subrequest{{Method: "get", URL: "limits", ReferenceID: "a"}}, "method"},
		{"bad ref", []salesforce.Subrequest{{Method: "GET", URL: "limits", ReferenceID: "_a"}}, "reference id"},
		{"dup ref", []salesforce.Subrequest{{Method: "GET", URL: "limits", ReferenceID: "a"}, {Method: "GET", URL: "limits", ReferenceID: "a"}}, "duplicate"},
		{"header", []salesforce.Subrequest{{Method: "GET", URL: "limits", ReferenceID: "a", HTTPHeaders: map[string]string{"Authorization": "x"}}}, "inherited"},
	}
	for _, tt := range tests {
		if _, err := c.Composite(t.Context(), salesforce.CompositeRequest{Requests: tt.reqs}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCompositeGraphSale(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("POST "+apiRoot+"/composite/graph", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Graphs []salesforce.Graph `json:"graphs"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		if len(body.Graphs) != 2 || len(body.Graphs[0].Requests) != 3 || body.Graphs[0].Requests[1].URL != apiRoot+"/sobjects/OpportunityLineItem" {
			t.Errorf("graphs = %+v", body.Graphs)
		}
		writeJSON(w, 200, `{"graphs":[
			{"graphId":"sale-1","isSuccessful":true,"graphResponse":{"compositeResponse":[
				{"body":{"id":"006RM000001TmZXYA0","success":true,"errors":[],"created":true},"httpHeaders":{},"httpStatusCode":201,"referenceId":"sale"},
				{"body":{"id":"00kRM000000PsTWYA0","success":true,"errors":[]},"httpHeaders":{},"httpStatusCode":201,"referenceId":"line1"},
				{"body":{"id":"a00RM000000PsTWYA0","success":true,"errors":[]},"httpHeaders":{},"httpStatusCode":201,"referenceId":"pay1"}]}},
			{"graphId":"sale-2","isSuccessful":false,"graphResponse":{"compositeResponse":[
				{"body":[{"errorCode":"PROCESSING_HALTED","message":"The transaction was rolled back since another operation in the same transaction failed."}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"sale"},
				{"body":[{"errorCode":"FIELD_INTEGRITY_EXCEPTION","message":"field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the opportunity)","fields":["PricebookEntryId"]}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"line1"}]}}]}`)
	})
	sale := func(id string) salesforce.Graph {
		return salesforce.Graph{GraphID: id, Requests: []salesforce.Subrequest{
			{Method: "PATCH", URL: "sobjects/Opportunity/Lightspeed_Sale_ID__c/" + id, ReferenceID: "sale", Body: map[string]any{"Name": "Sale " + id, "StageName": "Closed Won", "CloseDate": "2026-03-01"}},
			{Method: "POST", URL: "sobjects/OpportunityLineItem", ReferenceID: "line1", Body: map[string]any{"OpportunityId": "@{sale.id}", "PricebookEntryId": "01uRM000000AAAAAAA", "Quantity": 1, "UnitPrice": 10}},
			{Method: "POST", URL: "sobjects/Lightspeed_Payment__c", ReferenceID: "pay1", Body: map[string]any{"Sale__c": "@{sale.id}", "Amount__c": 10}},
		}}
	}
	g2 := sale("sale-2")
	g2.Requests = g2.Requests[:2]
	res, err := c.CompositeGraph(t.Context(), []salesforce.Graph{sale("sale-1"), g2})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err() != nil || res[0].Responses[0].ID() != "006RM000001TmZXYA0" {
		t.Errorf("graph 1 = %+v", res[0])
	}
	var ae *salesforce.APIError
	if err := res[1].Err(); !errors.As(err, &ae) || ae.ErrorCode != "FIELD_INTEGRITY_EXCEPTION" {
		t.Errorf("graph 2 err = %v, want the real cause, not PROCESSING_HALTED", err)
	}
	if _, err := c.CompositeGraph(t.Context(), []salesforce.Graph{sale("a"), sale("a")}); err == nil {
		t.Error("duplicate graph ids accepted")
	}
}
