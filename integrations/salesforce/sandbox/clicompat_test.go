package sandbox

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// TestRepeatedSlashes: the real service treats runs of slashes in a path as
// one, and the sf CLI depends on it (it asks for //services/data/...).
func TestRepeatedSlashes(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: seed(3)})
	id := b.create(t, "Contact", map[string]any{"LastName": "Slash"})
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"//services/data", http.StatusOK},
		{"//services/data/", http.StatusOK},
		{"//services/data/v66.0/limits", http.StatusOK},
		{"/services//data///v66.0//sobjects/Contact/describe", http.StatusOK},
		{"//services/data/v66.0/sobjects/Contact/" + id, http.StatusOK},
		{"//services/data/v66.0/query?q=" + url.QueryEscape("SELECT Id FROM Contact WHERE Id = '"+id+"'"), http.StatusOK},
		{"//services/oauth2/userinfo", http.StatusOK},
		// The control API is ours, not Salesforce's: it stays strict.
		{"//_sandbox/stats", http.StatusNotFound},
		{"//services/data/v66.0/nothing", http.StatusNotFound},
	} {
		if r := b.do(t, "GET", b.ts.URL+tc.path, nil); r.status != tc.status {
			t.Errorf("GET %s = %d, want %d: %s", tc.path, r.status, tc.status, r.body)
		}
	}
	// An id-lookup value holding an escaped slash stays one segment.
	if _, err := b.srv.addCustomField("Contact", FieldSpec{Name: "Ext_Id__c", Type: "Text", ExternalID: true}); err != nil {
		t.Fatal(err)
	}
	b.create(t, "Contact", map[string]any{"LastName": "Slashed", "Ext_Id__c": "a/b"})
	if r := b.do(t, "GET", b.ts.URL+"//services/data/v66.0/sobjects/Contact/Ext_Id__c/a%2Fb", nil); r.status != http.StatusOK {
		t.Errorf("escaped slash in a lookup value: %d %s", r.status, r.body)
	}
}

func TestQueryColumns(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	str := func(s string) *string { return &s }
	leaf := func(name, apex string, ins, upd, text bool) columnMeta {
		return columnMeta{ColumnName: name, DisplayName: name, ApexType: str(apex), Insertable: ins, Updatable: upd, TextType: text, JoinColumns: []columnMeta{}}
	}
	for _, tc := range []struct {
		name string
		q    string
		want queryColumns
	}{
		{
			name: "plain fields",
			q:    "SELECT Id, Name, Email, HasOptedOutOfEmail, Birthdate FROM Contact",
			want: queryColumns{EntityName: "Contact", IDSelected: true, KeyPrefix: str("003"), ColumnMetadata: []columnMeta{
				leaf("Id", "Id", false, false, false),
				leaf("Name", "String", false, false, true),
				leaf("Email", "String", true, true, true),
				func() columnMeta {
					m := leaf("HasOptedOutOfEmail", "Boolean", true, true, false)
					m.BooleanType = true
					return m
				}(),
				leaf("Birthdate", "Date", true, true, false),
			}},
		},
		{
			name: "relationship fields nest under one join column",
			q:    "select lastname, account.name, Account.Owner.Username, ACCOUNT.Phone from contact",
			want: queryColumns{EntityName: "Contact", KeyPrefix: str("003"), ColumnMetadata: []columnMeta{
				leaf("LastName", "String", true, true, true),
				{ColumnName: "Account", DisplayName: "Account", ForeignKeyName: str("AccountId"), JoinColumns: []columnMeta{
					leaf("Name", "String", true, true, true),
					{ColumnName: "Owner", DisplayName: "Owner", ForeignKeyName: str("OwnerId"), JoinColumns: []columnMeta{
						leaf("Username", "String", true, true, true),
					}},
					leaf("Phone", "String", true, true, true),
				}},
			}},
		},
		{
			name: "numbers",
			q:    "SELECT Amount, Probability, CloseDate, CreatedDate FROM Opportunity",
			want: queryColumns{EntityName: "Opportunity", KeyPrefix: str("006"), ColumnMetadata: []columnMeta{
				func() columnMeta { m := leaf("Amount", "Decimal", true, true, false); m.NumberType = true; return m }(),
				func() columnMeta {
					m := leaf("Probability", "Decimal", true, true, false)
					m.NumberType = true
					return m
				}(),
				leaf("CloseDate", "Date", true, true, false),
				leaf("CreatedDate", "Datetime", false, false, false),
			}},
		},
		{
			name: "count",
			q:    "SELECT COUNT() FROM Account",
			want: queryColumns{EntityName: "Account", KeyPrefix: str("001"), ColumnMetadata: []columnMeta{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, "GET", "/query?columns=true&q="+url.QueryEscape(tc.q), nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var got queryColumns
			r.json(t, &got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("columns of %q:\n got %s\nwant %+v", tc.q, r.body, tc.want)
			}
		})
	}
	// The same errors as the query itself.
	if r := b.do(t, "GET", "/query?columns=true&q="+url.QueryEscape("SELECT Nope FROM Contact"), nil); r.status != 400 || r.errorCode(t) != "INVALID_FIELD" {
		t.Errorf("bad field: %d %s", r.status, r.body)
	}
	// Without columns=true the records come back as before.
	r := b.do(t, "GET", "/query?columns=false&q="+url.QueryEscape("SELECT Id FROM Contact"), nil)
	var page struct {
		Records []any `json:"records"`
	}
	r.json(t, &page)
	if page.Records == nil {
		t.Errorf("columns=false answered %s", r.body)
	}
}
