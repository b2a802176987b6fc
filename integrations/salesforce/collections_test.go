package salesforce_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

type collectionRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

func contacts(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"LastName": fmt.Sprintf("Last %d", i), "Lightspeed_Customer_ID__c": fmt.Sprint(i)}
	}
	return out
}

func TestUpsertRecordsChunksAndResults(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var mu sync.Mutex
	var sizes []int
	mux.HandleFunc("PATCH "+apiRoot+"/composite/sobjects/Contact/Lightspeed_Customer_ID__c", func(w http.ResponseWriter, r *http.Request) {
		var req collectionRequest
		json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		sizes = append(sizes, len(req.Records))
		mu.Unlock()
		if req.AllOrNone {
			t.Error("allOrNone sent true")
		}
		res := make([]string, len(req.Records))
		for i, rec := range req.Records {
			if rec["attributes"].(map[string]any)["type"] != "Contact" {
				t.Errorf("record without attributes.type: %v", rec)
			}
			switch rec["Lightspeed_Customer_ID__c"] {
			case "1":
				res[i] = `{"success":false,"created":false,"errors":[{"statusCode":"DUPLICATE_VALUE","message":"duplicate value found: Email__c duplicates value on record with id: 003RM0000068xUAYAY","fields":["Email__c"]}]}`
			case "2":
				res[i] = `{"success":false,"errors":[{"statusCode":"DUPLICATES_DETECTED","message":"Use one of these records?","fields":[],
					"duplicateResut":{"duplicateRule":"R","matchResults":[{"matchRecords":[{"record":{"Id":"003RM0000068og4YAA"}}]}]}}]}`
			case "3":
				res[i] = `{"success":false,"errors":[{"statusCode":"DUPLICATES_DETECTED","message":"Use one of these records?","fields":[],
					"duplicateResult":{"duplicateRule":"R","matchResults":[{"matchRecords":[{"record":{"Id":"003RM0000068og5YAA"}}]}]}}]}`
			default:
				res[i] = `{"id":"003RM0000068xVCYAY","success":true,"errors":[],"created":true}`
			}
		}
		writeJSON(w, 200, "["+strings.Join(res, ",")+"]")
	})
	got, err := c.UpsertRecords(t.Context(), "Contact", "Lightspeed_Customer_ID__c", contacts(450), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{200, 200, 50}, sizes); diff != "" {
		t.Errorf("chunk sizes (-want +got):\n%s", diff)
	}
	if len(got) != 450 {
		t.Fatalf("%d results, want 450", len(got))
	}
	if !got[0].Success || !got[0].Created || got[0].Err() != nil {
		t.Errorf("result 0 = %+v", got[0])
	}
	if got[1].Success || got[1].Errors[0].Code != "DUPLICATE_VALUE" || !cmp.Equal(got[1].Errors[0].Fields, []string{"Email__c"}) {
		t.Errorf("result 1 = %+v", got[1])
	}
	if ids := got[2].Errors[0].Duplicate.MatchedIDs(); !cmp.Equal(ids, []string{"003RM0000068og4YAA"}) {
		t.Errorf("duplicateResut matches = %v", ids)
	}
	if ids := got[3].Errors[0].Duplicate.MatchedIDs(); !cmp.Equal(ids, []string{"003RM0000068og5YAA"}) {
		t.Errorf("duplicateResult matches = %v", ids)
	}
	if !salesforce.IsValidation(got[1].Err()) {
		t.Errorf("per-record DUPLICATE_VALUE not a validation error: %v", got[1].Err())
	}
}

func TestUpsertRecordsRejectsMissingKey(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	recs := contacts(3)
	delete(recs[1], "Lightspeed_Customer_ID__c")
	if _, err := c.UpsertRecords(t.Context(), "Contact", "Lightspeed_Customer_ID__c", recs, nil); err == nil || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.UpdateRecords(t.Context(), "Contact", contacts(1), nil); err == nil {
		t.Fatal("update without Id accepted")
	}
}

func TestCreateRecordsResendsLockedRecordsOnly(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var mu sync.Mutex
	var sent [][]string
	mux.HandleFunc("POST "+apiRoot+"/composite/sobjects", func(w http.ResponseWriter, r *http.Request) {
		var req collectionRequest
		json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		call := len(sent)
		var names []string
		for _, rec := range req.Records {
			names = append(names, rec["LastName"].(string))
		}
		sent = append(sent, names)
		mu.Unlock()
		res := make([]string, len(req.Records))
		for i, rec := range req.Records {
			if call == 0 && rec["LastName"] == "Last 1" {
				res[i] = `{"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record","fields":[]}]}`
			} else if rec["LastName"] == "Last 2" {
				res[i] = `{"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [Email]","fields":["Email"]}]}`
			} else {
				res[i] = fmt.Sprintf(`{"id":"003RM00000000%02dAAA","success":true,"errors":[]}`, call)
			}
		}
		writeJSON(w, 200, "["+strings.Join(res, ",")+"]")
	})
	got, err := c.CreateRecords(t.Context(), "Contact", contacts(3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"Last 0", "Last 1", "Last 2"}, {"Last 1"}}, sent); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if !got[1].Success || got[1].ID != "003RM0000000001AAA" || got[2].Success {
		t.Errorf("results = %+v", got)
	}
}

func TestCollectionsAllOrNone(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("POST "+apiRoot+"/composite/sobjects", func(w http.ResponseWriter, r *http.Request) {
		var req collectionRequest
		json.NewDecoder(r.Body).Decode(&req)
		if !req.AllOrNone || r.Header.Get("Sforce-Duplicate-Rule-Header") != "allowSave=true" {
			t.Errorf("allOrNone=%v duplicate header %q", req.AllOrNone, r.Header.Get("Sforce-Duplicate-Rule-Header"))
		}
		writeJSON(w, 200, `[{"success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK","message":"Record rolled back because not all records were valid and the request was using AllOrNone header","fields":[]}]},
			{"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}]}]`)
	})
	got, err := c.CreateRecords(t.Context(), "Contact", contacts(2), &salesforce.CollectionOptions{AllOrNone: true, AllowDuplicateSave: true})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Errors[0].Code != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || got[1].Errors[0].Code != "REQUIRED_FIELD_MISSING" {
		t.Errorf("results = %+v", got)
	}
}

func TestCollectionCallFailureReturnsPartialResults(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var calls int
	var mu sync.Mutex
	mux.HandleFunc("PATCH "+apiRoot+"/composite/sobjects", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 2 {
			writeJSON(w, 400, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`)
			return
		}
		var req collectionRequest
		json.NewDecoder(r.Body).Decode(&req)
		writeJSON(w, 200, "["+strings.Repeat(`{"id":"003RM0000068xVCYAY","success":true,"errors":[]},`, len(req.Records)-1)+`{"id":"003RM0000068xVCYAY","success":true,"errors":[]}]`)
	})
	recs := contacts(300)
	for _, r := range recs {
		r["Id"] = "003RM0000068xVCYAY"
	}
	got, err := c.UpdateRecords(t.Context(), "Contact", recs, nil)
	if err == nil || !strings.Contains(err.Error(), "records 200-299") || len(got) != 200 {
		t.Fatalf("UpdateRecords = %d results, %v", len(got), err)
	}
}

func TestRetrieveAndDeleteRecords(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("GET "+apiRoot+"/composite/sobjects/Contact", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("ids") != "003RM0000068xVCYAY,003RM0000068xUAYAY" || q.Get("fields") != "Id,LastName" {
			t.Errorf("query = %v", q)
		}
		writeJSON(w, 200, `[{"attributes":{"type":"Contact"},"Id":"003RM0000068xVCYAY","LastName":"Smith"},null]`)
	})
	mux.HandleFunc("DELETE "+apiRoot+"/composite/sobjects", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("ids") != "003RM0000068xVCYAY,003RM0000068xUAYAY" || q.Get("allOrNone") != "false" {
			t.Errorf("query = %v", q)
		}
		writeJSON(w, 200, `[{"id":"003RM0000068xVCYAY","success":true,"errors":[]},{"id":"003RM0000068xUAYAY","success":false,"errors":[{"statusCode":"ENTITY_IS_DELETED","message":"entity is deleted","fields":[]}]}]`)
	})
	recs, err := c.RetrieveRecords(t.Context(), "Contact", []string{"003RM0000068xVCYAY", "003RM0000068xUAYAY"}, []string{"Id", "LastName"})
	if err != nil || len(recs) != 2 || recs[0].String("LastName") != "Smith" || recs[1].Fields != nil {
		t.Fatalf("RetrieveRecords = %+v, %v", recs, err)
	}
	res, err := c.DeleteRecords(t.Context(), []string{"003RM0000068xVCYAY", "003RM0000068xUAYAY"}, nil)
	if err != nil || !res[0].Success || res[1].Errors[0].Code != "ENTITY_IS_DELETED" {
		t.Fatalf("DeleteRecords = %+v, %v", res, err)
	}
	if _, err := c.RetrieveRecords(t.Context(), "Contact", []string{"not-an-id"}, []string{"Id"}); err == nil {
		t.Error("bad id accepted")
	}
}

// TestSaveResultForms decodes the per-record results of reference §4.1.
func TestSaveResultForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		res                   string
		wantID                string
		wantOK, wantCreated   bool
		wantCode              string
		wantFields            []string
		wantDup               []string
		validation, transient bool
	}{
		{name: "created", res: `{"id":"003RM0000068xVCYAY","success":true,"errors":[],"created":true}`, wantID: "003RM0000068xVCYAY", wantOK: true, wantCreated: true},
		{name: "updated, no created key", res: `{"id":"003RM0000068xVCYAY","success":true,"errors":[]}`, wantID: "003RM0000068xVCYAY", wantOK: true},
		{name: "failure with null id", res: `{"id":null,"success":false,"errors":[{"statusCode":"MALFORMED_ID","message":"malformed id 003XX","fields":["Id"]}]}`,
			wantCode: "MALFORMED_ID", wantFields: []string{"Id"}, validation: true},
		{name: "failure without fields", res: `{"success":false,"errors":[{"statusCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"Enter a valid postcode."}]}`,
			wantCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", validation: true},
		{name: "errorCode key instead of statusCode", res: `{"success":false,"errors":[{"errorCode":"STRING_TOO_LONG","message":"Last Name: data value too large","fields":["LastName"]}]}`,
			wantCode: "STRING_TOO_LONG", wantFields: []string{"LastName"}, validation: true},
		{name: "rolled back, keeps its id", res: `{"id":"003RM0000068xUAYAY","success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK","message":"Record rolled back because not all records were valid and the request was using AllOrNone header","fields":[]}]}`,
			wantID: "003RM0000068xUAYAY", wantCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK", wantFields: []string{}},
		{name: "row lock", res: `{"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record or 1 records: 001RM0000020xyzYAA","fields":[]}]}`,
			wantCode: "UNABLE_TO_LOCK_ROW", wantFields: []string{}, transient: true},
		{name: "duplicateResut spelling", res: `{"success":false,"errors":[{"statusCode":"DUPLICATES_DETECTED","message":"Use one of these records?","fields":[],
			"duplicateResut":{"allowSave":true,"duplicateRule":"Contact_Email","matchResults":[{"matchRecords":[{"matchConfidence":100,"record":{"attributes":{"type":"Contact"},"Id":"003RM0000068og4YAA"}}]}]}}]}`,
			wantCode: "DUPLICATES_DETECTED", wantFields: []string{}, wantDup: []string{"003RM0000068og4YAA"}, validation: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r salesforce.SaveResult
			if err := json.Unmarshal([]byte(tt.res), &r); err != nil {
				t.Fatal(err)
			}
			if r.ID != tt.wantID || r.Success != tt.wantOK || r.Created != tt.wantCreated {
				t.Errorf("result = %+v", r)
			}
			err := r.Err()
			if tt.wantOK {
				if err != nil {
					t.Errorf("Err = %v", err)
				}
				return
			}
			var ae *salesforce.APIError
			if !errors.As(err, &ae) || ae.ErrorCode != tt.wantCode || !cmp.Equal(ae.Fields, tt.wantFields) {
				t.Fatalf("Err = %v, want code %q fields %v", err, tt.wantCode, tt.wantFields)
			}
			if tt.wantDup != nil && !cmp.Equal(ae.Errors[0].Duplicate.MatchedIDs(), tt.wantDup) {
				t.Errorf("duplicate matches = %v", ae.Errors[0].Duplicate.MatchedIDs())
			}
			if salesforce.IsValidation(err) != tt.validation || salesforce.IsTransient(err) != tt.transient {
				t.Errorf("IsValidation = %v, IsTransient = %v", salesforce.IsValidation(err), salesforce.IsTransient(err))
			}
		})
	}
}
