package salesforce_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("POST "+apiRoot+"/sobjects/Contact", func(w http.ResponseWriter, r *http.Request) {
		got := decodeBody(t, r)
		if diff := cmp.Diff(map[string]any{"LastName": "Smith", "Email": "a@b.co"}, got); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		writeJSON(w, 201, `{"id":"003RM0000068xVCYAY","success":true,"errors":[]}`)
	})
	id, err := c.Create(t.Context(), "Contact", map[string]any{"LastName": "Smith", "Email": "a@b.co", "attributes": map[string]any{"type": "Contact"}})
	if err != nil || id != "003RM0000068xVCYAY" {
		t.Fatalf("Create = %q, %v", id, err)
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/003RM0000068xVCYAY", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("fields"); got != "LastName,Account.Name" {
			t.Errorf("fields = %q", got)
		}
		writeJSON(w, 200, `{"attributes":{"type":"Contact","url":"/services/data/v66.0/sobjects/Contact/003RM0000068xVCYAY"},
			"Id":"003RM0000068xVCYAY","LastName":"Smith","Email":null,"Amount__c":12.30,
			"Account":{"attributes":{"type":"Account","url":"/x"},"Name":"Smith Household"}}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/003RM0000068xUAYAY", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]`)
	})
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/Lightspeed_Customer_ID__c/C 1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"attributes":{"type":"Contact"},"Id":"003RM0000068xVCYAY"}`)
	})
	rec, err := c.Get(t.Context(), "Contact", "003RM0000068xVCYAY", "LastName", "Account.Name")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Type != "Contact" || rec.ID() != "003RM0000068xVCYAY" || rec.String("Account.Name") != "Smith Household" || rec.Get("Email") != nil {
		t.Errorf("record = %+v", rec)
	}
	if rec.Get("Amount__c").(interface{ String() string }).String() != "12.30" {
		t.Errorf("currency lost precision: %v", rec.Get("Amount__c"))
	}
	var s struct {
		LastName string
		Account  struct{ Name string }
	}
	if err := rec.Decode(&s); err != nil || s.LastName != "Smith" || s.Account.Name != "Smith Household" {
		t.Errorf("Decode = %+v, %v", s, err)
	}
	if _, err := c.Get(t.Context(), "Contact", "003RM0000068xUAYAY"); !salesforce.IsNotFound(err) {
		t.Errorf("deleted record: %v, want not found", err)
	}
	if rec, err := c.GetByExternalID(t.Context(), "Contact", "Lightspeed_Customer_ID__c", "C 1"); err != nil || rec.ID() != "003RM0000068xVCYAY" {
		t.Errorf("GetByExternalID = %v, %v", rec, err)
	}
	for _, bad := range [][2]string{{"Contact;DROP", "003RM0000068xVCYAY"}, {"Contact", ""}} {
		if _, err := c.Get(t.Context(), bad[0], bad[1]); err == nil {
			t.Errorf("Get(%q, %q) accepted", bad[0], bad[1])
		}
	}
	if _, err := c.Get(t.Context(), "Contact", "003RM0000068xVCYAY", "Name,Email"); err == nil {
		t.Error("field list with a comma in one name accepted")
	}
}

func TestUpdateDelete(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("PATCH "+apiRoot+"/sobjects/Contact/003RM0000068xVCYAY", func(w http.ResponseWriter, r *http.Request) {
		if diff := cmp.Diff(map[string]any{"Email": nil, "Phone": "555"}, decodeBody(t, r)); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		w.WriteHeader(204)
	})
	mux.HandleFunc("DELETE "+apiRoot+"/sobjects/Contact/003RM0000068xVCYAY", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("DELETE "+apiRoot+"/sobjects/Contact/003RM0000068xUAYAY", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]`)
	})
	if err := c.Update(t.Context(), "Contact", "003RM0000068xVCYAY", map[string]any{"Id": "003RM0000068xVCYAY", "Email": nil, "Phone": "555"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(t.Context(), "Contact", "003RM0000068xVCYAY"); err != nil {
		t.Fatal(err)
	}
	var ae *salesforce.APIError
	if err := c.Delete(t.Context(), "Contact", "003RM0000068xUAYAY"); !errors.As(err, &ae) || ae.ErrorCode != "ENTITY_IS_DELETED" {
		t.Fatalf("second delete = %v", err)
	}
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		want     salesforce.UpsertResult
		wantCode string
	}{
		{name: "created", status: 201, body: `{"id":"003RM0000068xVCYAY","success":true,"errors":[],"created":true}`, want: salesforce.UpsertResult{ID: "003RM0000068xVCYAY", Created: true}},
		{name: "updated 200", status: 200, body: `{"id":"003RM0000068xVCYAY","success":true,"errors":[],"created":false}`, want: salesforce.UpsertResult{ID: "003RM0000068xVCYAY"}},
		{name: "updated 204", status: 204, want: salesforce.UpsertResult{}},
		{name: "multiple", status: 300, body: `["/services/data/v66.0/sobjects/Contact/003RM0000068xVCYAY","/services/data/v66.0/sobjects/Contact/003RM0000068xUAYAY"]`, wantCode: "MULTIPLE_CHOICES"},
		{name: "not external id", status: 404, body: `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`, wantCode: "NOT_FOUND"},
		{name: "required", status: 400, body: `[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]`, wantCode: "REQUIRED_FIELD_MISSING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mux, c, _ := setup(t)
			mux.HandleFunc("PATCH "+apiRoot+"/sobjects/Contact/Lightspeed_Customer_ID__c/1042", func(w http.ResponseWriter, r *http.Request) {
				if diff := cmp.Diff(map[string]any{"LastName": "Smith"}, decodeBody(t, r)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
				if tt.status == 204 {
					w.WriteHeader(204)
					return
				}
				writeJSON(w, tt.status, tt.body)
			})
			got, err := c.Upsert(t.Context(), "Contact", "Lightspeed_Customer_ID__c", "1042", map[string]any{"LastName": "Smith", "Lightspeed_Customer_ID__c": "1042"})
			if tt.wantCode != "" {
				var ae *salesforce.APIError
				if !errors.As(err, &ae) || ae.ErrorCode != tt.wantCode || ae.StatusCode != tt.status {
					t.Fatalf("err = %v, want %d %s", err, tt.status, tt.wantCode)
				}
				if tt.status == 300 && len(ae.Matches) != 2 {
					t.Errorf("matches = %v", ae.Matches)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Upsert = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
