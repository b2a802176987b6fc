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

// TestSubResponseForms decodes the subrequest results of reference §4.2
// and §3.4 as they appear inside a compositeResponse.
func TestSubResponseForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		sub         string
		wantCode    string
		wantID      string
		wantMatches []string
		validation  bool
	}{
		{name: "create", sub: `{"body":{"id":"001RM000003YqTnYAK","success":true,"errors":[]},"httpHeaders":{"Location":"/services/data/v66.0/sobjects/Account/001RM000003YqTnYAK"},"httpStatusCode":201,"referenceId":"a"}`,
			wantID: "001RM000003YqTnYAK"},
		{name: "upsert update", sub: `{"body":{"id":"003RM0000068xVCYAY","success":true,"errors":[],"created":false},"httpHeaders":{},"httpStatusCode":200,"referenceId":"a"}`,
			wantID: "003RM0000068xVCYAY"},
		{name: "update, no body", sub: `{"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"a"}`},
		{name: "rolled back", sub: `{"body":[{"errorCode":"PROCESSING_HALTED","message":"The transaction was rolled back since another operation in the same transaction failed."}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"a"}`,
			wantCode: "PROCESSING_HALTED"},
		{name: "bad reference", sub: `{"body":[{"errorCode":"PROCESSING_HALTED","message":"Invalid reference specified. No value for acct.id found in acct."}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"a"}`,
			wantCode: "PROCESSING_HALTED"},
		{name: "validation without fields", sub: `{"body":[{"errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"Close date must be in the past."}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"a"}`,
			wantCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", validation: true},
		{name: "deleted", sub: `{"body":[{"errorCode":"ENTITY_IS_DELETED","message":"entity is deleted","fields":[]}],"httpHeaders":{},"httpStatusCode":404,"referenceId":"a"}`,
			wantCode: "ENTITY_IS_DELETED"},
		{name: "several matches", sub: `{"body":["/services/data/v66.0/sobjects/Contact/003RM0000068xVCYAY","/services/data/v66.0/sobjects/Contact/003RM0000068xUAYAY"],"httpHeaders":{},"httpStatusCode":300,"referenceId":"a"}`,
			wantCode: "MULTIPLE_CHOICES", wantMatches: []string{"/services/data/v66.0/sobjects/Contact/003RM0000068xVCYAY", "/services/data/v66.0/sobjects/Contact/003RM0000068xUAYAY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sr salesforce.SubResponse
			if err := json.Unmarshal([]byte(tt.sub), &sr); err != nil {
				t.Fatal(err)
			}
			err := sr.Err()
			if sr.ID() != tt.wantID {
				t.Errorf("ID = %q, want %q", sr.ID(), tt.wantID)
			}
			if tt.wantCode == "" {
				if err != nil {
					t.Errorf("Err = %v, want nil", err)
				}
				return
			}
			var ae *salesforce.APIError
			if !errors.As(err, &ae) || ae.ErrorCode != tt.wantCode || !cmp.Equal(ae.Matches, tt.wantMatches) {
				t.Fatalf("Err = %#v, want code %s matches %v", err, tt.wantCode, tt.wantMatches)
			}
			if salesforce.IsValidation(err) != tt.validation {
				t.Errorf("IsValidation = %v, want %v", !tt.validation, tt.validation)
			}
		})
	}
}

// TestGraphHaltedOnly is a graph Salesforce never ran (after 14 failed
// graphs the rest are PROCESSING_HALTED, §4.4): its error says so rather
// than "failed without an error".
func TestGraphHaltedOnly(t *testing.T) {
	t.Parallel()
	var g struct {
		Graphs []struct {
			GraphResponse struct {
				CompositeResponse []salesforce.SubResponse `json:"compositeResponse"`
			} `json:"graphResponse"`
		} `json:"graphs"`
	}
	body := `{"graphs":[{"graphId":"g15","isSuccessful":false,"graphResponse":{"compositeResponse":[
		{"body":[{"errorCode":"PROCESSING_HALTED","message":"Too many graphs failed."}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"sale"}]}}]}`
	if err := json.Unmarshal([]byte(body), &g); err != nil {
		t.Fatal(err)
	}
	res := salesforce.GraphResult{GraphID: "g15", Responses: g.Graphs[0].GraphResponse.CompositeResponse}
	var ae *salesforce.APIError
	if err := res.Err(); !errors.As(err, &ae) || ae.ErrorCode != salesforce.CodeProcessingHalted || salesforce.IsValidation(err) {
		t.Errorf("Err = %v, want a PROCESSING_HALTED that is not a validation error", err)
	}
	if err := (salesforce.GraphResult{GraphID: "g16"}).Err(); err == nil {
		t.Error("an unsuccessful graph with no responses has no error")
	}
}
