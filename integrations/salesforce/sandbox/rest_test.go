package sandbox

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVersionsList(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	r := b.do(t, "GET", b.ts.URL+"/services/data/", nil)
	var vs []versionInfo
	r.json(t, &vs)
	if len(vs) != MaxAPIVersion-minAPIVersion+1 {
		t.Fatalf("%d versions, want %d", len(vs), MaxAPIVersion-minAPIVersion+1)
	}
	if got, want := vs[len(vs)-1], (versionInfo{Label: "Spring '26", URL: "/services/data/v66.0", Version: "66.0"}); got != want {
		t.Errorf("last version = %+v, want %+v", got, want)
	}
	if vs[0].Version != "20.0" || vs[0].Label != "Winter '11" {
		t.Errorf("first version = %+v", vs[0])
	}
	if r.header.Get("Sforce-Limit-Info") != "" {
		t.Error("/services/data/ carries Sforce-Limit-Info; it does not count against the limit")
	}
	for _, v := range []string{"v19.0", "v67.0", "v66", "latest"} {
		if r := b.do(t, "GET", b.ts.URL+"/services/data/"+v+"/limits", nil); r.status != 404 {
			t.Errorf("version %s: %d, want 404", v, r.status)
		}
	}
	if r := b.do(t, "GET", b.ts.URL+"/services/data/v20.0/limits", nil); r.status != 200 {
		t.Errorf("v20.0: %d, want 200", r.status)
	}
}

type describeBody struct {
	Name      string          `json:"name"`
	KeyPrefix string          `json:"keyPrefix"`
	Fields    []fieldDescribe `json:"fields"`
}

func TestDescribeAttributes(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: seed(1)})
	if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Lightspeed_Customer_ID__c", Label: "Lightspeed Customer ID", Type: "Text", Length: 40, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	type attrs struct {
		Type                                                string
		Length                                              int
		Createable, Updateable, Nillable, DefaultedOnCreate bool
		ExternalID, Unique, IDLookup, Custom                bool
		ReferenceTo                                         []string
		RelationshipName                                    string
	}
	get := func(object, field string) (attrs, fieldDescribe) {
		r := b.do(t, "GET", "/sobjects/"+object+"/describe", nil)
		if r.status != 200 {
			t.Fatalf("describe %s: %d %s", object, r.status, r.body)
		}
		var d describeBody
		r.json(t, &d)
		for _, f := range d.Fields {
			if f.Name == field {
				rel := ""
				if f.RelationshipName != nil {
					rel = *f.RelationshipName
				}
				return attrs{f.Type, f.Length, f.Createable, f.Updateable, f.Nillable, f.DefaultedOnCreate, f.ExternalID, f.Unique, f.IDLookup, f.Custom, f.ReferenceTo, rel}, f
			}
		}
		t.Fatalf("%s.%s not in describe", object, field)
		return attrs{}, fieldDescribe{}
	}
	tests := []struct {
		object, field string
		want          attrs
	}{
		{"Contact", "LastName", attrs{"string", 80, true, true, false, false, false, false, false, false, []string{}, ""}},
		{"Contact", "Email", attrs{"email", 80, true, true, true, false, false, false, true, false, []string{}, ""}},
		{"Contact", "AccountId", attrs{"reference", 18, true, true, true, false, false, false, false, false, []string{"Account"}, "Account"}},
		{"Contact", "Name", attrs{"string", 121, false, false, true, false, false, false, false, false, []string{}, ""}},
		{"Contact", "Id", attrs{"id", 18, false, false, false, true, false, false, true, false, []string{}, ""}},
		{"Contact", "Lightspeed_Customer_ID__c", attrs{"string", 40, true, true, true, false, true, true, true, true, []string{}, ""}},
		{"Opportunity", "StageName", attrs{"picklist", 255, true, true, false, false, false, false, false, false, []string{}, ""}},
		{"Opportunity", "Stylist__c", attrs{"string", 80, true, true, true, false, false, false, false, true, []string{}, ""}},
		{"OpportunityLineItem", "OpportunityId", attrs{"reference", 18, true, false, false, false, false, false, false, false, []string{"Opportunity"}, "Opportunity"}},
		{"Product2", "IsActive", attrs{"boolean", 0, true, true, false, true, false, false, false, false, []string{}, ""}},
		{"Account", "OwnerId", attrs{"reference", 18, true, true, false, true, false, false, false, false, []string{"User"}, "Owner"}},
	}
	for _, tt := range tests {
		got, full := get(tt.object, tt.field)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s.%s describe (-want +got):\n%s", tt.object, tt.field, diff)
		}
		if full.ByteLength != 3*full.Length {
			t.Errorf("%s.%s byteLength %d, want 3 × length", tt.object, tt.field, full.ByteLength)
		}
	}
	_, stage := get("Opportunity", "StageName")
	if len(stage.PicklistValues) == 0 || stage.PicklistValues[len(stage.PicklistValues)-2].Value != "Closed Won" {
		t.Errorf("StageName picklist values: %+v", stage.PicklistValues)
	}
	r := b.do(t, "GET", "/sobjects/Nope__c/describe", nil)
	if r.status != 404 || r.errorCode(t) != "INVALID_TYPE" {
		t.Errorf("unknown object describe: %d %s", r.status, r.body)
	}
	r = b.do(t, "GET", "/sobjects", nil)
	var g struct {
		MaxBatchSize int           `json:"maxBatchSize"`
		SObjects     []globalEntry `json:"sobjects"`
	}
	r.json(t, &g)
	prefixes := map[string]string{}
	for _, o := range g.SObjects {
		prefixes[o.Name] = o.KeyPrefix
	}
	want := map[string]string{"Account": "001", "Contact": "003", "User": "005", "Opportunity": "006", "OpportunityLineItem": "00k",
		"RecordType": "012", "Pricebook2": "01s", "Product2": "01t", "PricebookEntry": "01u", "Organization": "00D"}
	if diff := cmp.Diff(want, prefixes); diff != "" || g.MaxBatchSize != 200 {
		t.Errorf("describe global prefixes (-want +got):\n%s", diff)
	}
	// If-Modified-Since after the last schema change gives 304.
	r = b.do(t, "GET", "/sobjects/Account/describe", nil, "If-Modified-Since", testClock()().Add(time.Hour).Format(http.TimeFormat))
	if r.status != http.StatusNotModified {
		t.Errorf("describe If-Modified-Since: %d, want 304", r.status)
	}
}

func TestCRUD(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: seed(1)})
	r := b.do(t, "POST", "/sobjects/Contact", map[string]any{"FirstName": "Jo", "LastName": "Smith", "Email": "jo@example.com", "Birthdate": "1990-04-05"})
	var sr struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Errors  []any  `json:"errors"`
	}
	r.json(t, &sr)
	if r.status != 201 || !sr.Success || len(sr.ID) != 18 || !strings.HasPrefix(sr.ID, "003") || sr.Errors == nil {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r = b.do(t, "GET", "/sobjects/Contact/"+sr.ID[:15]+"?fields=Name,Email,Birthdate", nil)
	var rec map[string]any
	r.json(t, &rec)
	if r.status != 200 || rec["Name"] != "Jo Smith" || rec["Birthdate"] != "1990-04-05" || len(rec) != 4 {
		t.Fatalf("retrieve by 15-char id with fields: %d %s", r.status, r.body)
	}
	if r = b.do(t, "PATCH", "/sobjects/Contact/"+sr.ID, map[string]any{"Phone": "+1 555 0100", "Email": nil}); r.status != 204 || len(r.body) != 0 {
		t.Fatalf("update: %d %s, want 204 and no body", r.status, r.body)
	}
	r = b.do(t, "GET", "/sobjects/Contact/"+sr.ID, nil)
	r.json(t, &rec)
	if rec["Phone"] != "+1 555 0100" || rec["Email"] != nil || rec["CreatedDate"] != "2026-03-02T10:00:00.000+0000" {
		t.Fatalf("after update: %s", r.body)
	}
	if r = b.do(t, "DELETE", "/sobjects/Contact/"+sr.ID, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		r = b.do(t, m, "/sobjects/Contact/"+sr.ID, map[string]any{"Phone": "1"})
		if r.status != 404 || r.errorCode(t) != "ENTITY_IS_DELETED" {
			t.Errorf("%s deleted record: %d %s, want 404 ENTITY_IS_DELETED", m, r.status, r.body)
		}
	}
	if r = b.do(t, "GET", "/sobjects/Contact/003RM9999999999AAA", nil); r.status != 404 || r.errorCode(t) != "NOT_FOUND" {
		t.Errorf("unknown id: %d %s, want 404 NOT_FOUND", r.status, r.body)
	}
	if r = b.do(t, "PUT", "/sobjects/Contact/"+sr.ID, nil); r.status != 405 {
		t.Errorf("PUT record: %d, want 405", r.status)
	}
	// The recycle bin: queryAll sees the deleted row, query does not.
	q := "/query?q=" + strings.ReplaceAll("SELECT Id, IsDeleted FROM Contact WHERE Id = '"+sr.ID+"'", " ", "+")
	var page struct {
		TotalSize int `json:"totalSize"`
	}
	b.do(t, "GET", q, nil).json(t, &page)
	if page.TotalSize != 0 {
		t.Errorf("query sees a deleted record")
	}
	b.do(t, "GET", strings.Replace(q, "/query", "/queryAll", 1), nil).json(t, &page)
	if page.TotalSize != 1 {
		t.Errorf("queryAll does not see the deleted record")
	}
}

func TestUpsertStatuses(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 40, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Legacy_Key__c", Type: "Text", Length: 40, ExternalID: true}); err != nil {
		t.Fatal(err)
	}
	path := "/sobjects/Contact/Lightspeed_Customer_ID__c/"
	var res struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Created *bool  `json:"created"`
	}
	r := b.do(t, "PATCH", path+"C-1", map[string]any{"LastName": "One"})
	r.json(t, &res)
	if r.status != 201 || res.Created == nil || !*res.Created || !res.Success {
		t.Fatalf("upsert create: %d %s, want 201 created:true", r.status, r.body)
	}
	id := res.ID
	r = b.do(t, "PATCH", path+"c-1", map[string]any{"LastName": "Uno", "Lightspeed_Customer_ID__c": "C-1"})
	r.json(t, &res)
	if r.status != 200 || res.Created == nil || *res.Created || res.ID != id {
		t.Fatalf("upsert update (case-insensitive match): %d %s, want 200 created:false", r.status, r.body)
	}
	r = b.do(t, "PATCH", b.ts.URL+"/services/data/v45.0"+path+"C-1", map[string]any{"LastName": "Old API"})
	if r.status != 204 {
		t.Fatalf("upsert update on v45.0: %d, want 204", r.status)
	}
	r = b.do(t, "PATCH", path+"C-1", map[string]any{"Lightspeed_Customer_ID__c": "C-2"})
	if r.status != 400 {
		t.Errorf("upsert with a different key in the body: %d, want 400", r.status)
	}
	// 300 when a non-unique external id matches twice.
	b.create(t, "Contact", map[string]any{"LastName": "A", "Legacy_Key__c": "L"})
	b.create(t, "Contact", map[string]any{"LastName": "B", "Legacy_Key__c": "L"})
	r = b.do(t, "PATCH", "/sobjects/Contact/Legacy_Key__c/L", map[string]any{"LastName": "C"})
	var urls []string
	r.json(t, &urls)
	if r.status != 300 || len(urls) != 2 || !strings.HasPrefix(urls[0], "/services/data/v66.0/sobjects/Contact/003") {
		t.Fatalf("ambiguous upsert: %d %s, want 300 with two record URLs", r.status, r.body)
	}
	if r = b.do(t, "GET", "/sobjects/Contact/Legacy_Key__c/L", nil); r.status != 300 {
		t.Errorf("ambiguous get by external id: %d, want 300", r.status)
	}
	// 404 when the field is not an external id.
	for _, f := range []string{"Email", "Nope__c"} {
		r = b.do(t, "PATCH", "/sobjects/Contact/"+f+"/x", map[string]any{"LastName": "C"})
		if r.status != 404 || r.errorCode(t) != "NOT_FOUND" {
			t.Errorf("upsert on %s: %d %s, want 404 NOT_FOUND", f, r.status, r.body)
		}
	}
	r = b.do(t, "GET", path+"C-1?fields=LastName", nil)
	var rec map[string]any
	r.json(t, &rec)
	if r.status != 200 || rec["LastName"] != "Old API" {
		t.Errorf("get by external id: %d %s", r.status, r.body)
	}
	if r = b.do(t, "PATCH", path+"C-404?updateOnly=true", map[string]any{"LastName": "No"}); r.status != 404 || r.errorCode(t) != "NOT_FOUND" {
		t.Errorf("updateOnly with no match: %d %s, want 404 NOT_FOUND", r.status, r.body)
	}
	if r = b.do(t, "PATCH", path+"C-1?updateOnly=true", map[string]any{"LastName": "Old API"}); r.status != 200 {
		t.Errorf("updateOnly with a match: %d %s, want 200", r.status, r.body)
	}
	// An external id with reserved characters travels escaped in the path.
	odd := "a/b c+d@e"
	if r = b.do(t, "PATCH", path+url.PathEscape(odd), map[string]any{"LastName": "Odd"}); r.status != 201 {
		t.Fatalf("upsert with an escaped key: %d %s", r.status, r.body)
	}
	r.json(t, &res)
	b.do(t, "GET", "/sobjects/Contact/"+res.ID+"?fields=Lightspeed_Customer_ID__c", nil).json(t, &rec)
	if rec["Lightspeed_Customer_ID__c"] != odd {
		t.Errorf("stored key %v, want %q", rec["Lightspeed_Customer_ID__c"], odd)
	}
	// POST /sobjects/Contact/Id creates.
	if r = b.do(t, "POST", "/sobjects/Contact/Id", map[string]any{"LastName": "ById"}); r.status != 201 {
		t.Errorf("POST /sobjects/Contact/Id: %d %s, want 201", r.status, r.body)
	}
}

func TestRelationshipByExternalID(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	if err := b.srv.AddCustomField("Account", FieldSpec{Name: "Shop_Key__c", Type: "Text", Length: 20, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	acct := b.create(t, "Account", map[string]any{"Name": "Shop", "Shop_Key__c": "S-1"})
	id := b.create(t, "Contact", map[string]any{"LastName": "Ref", "Account": map[string]any{"Shop_Key__c": "S-1"}})
	var rec map[string]any
	b.do(t, "GET", "/sobjects/Contact/"+id+"?fields=AccountId", nil).json(t, &rec)
	if rec["AccountId"] != acct {
		t.Fatalf("AccountId = %v, want %s", rec["AccountId"], acct)
	}
	r := b.do(t, "POST", "/sobjects/Contact", map[string]any{"LastName": "Ref", "Account": map[string]any{"Shop_Key__c": "missing"}})
	if r.status != 400 || r.errorCode(t) != "INVALID_FIELD" || !strings.Contains(string(r.body), "Foreign key external ID: missing not found") {
		t.Errorf("unknown parent key: %d %s", r.status, r.body)
	}
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		object string
		body   map[string]any
		code   string
		fields []string
		msg    string
	}{
		{"required", "Contact", map[string]any{"FirstName": "No"}, "REQUIRED_FIELD_MISSING", []string{"LastName"}, "Required fields are missing: [LastName]"},
		{"required opportunity", "Opportunity", map[string]any{"Name": "X"}, "REQUIRED_FIELD_MISSING", []string{"StageName", "CloseDate"}, "Required fields are missing: [StageName, CloseDate]"},
		{"too long", "Contact", map[string]any{"LastName": strings.Repeat("x", 81)}, "STRING_TOO_LONG", []string{"LastName"}, "Last Name: data value too large: "},
		{"bad email", "Contact", map[string]any{"LastName": "X", "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", []string{"Email"}, "Email: invalid email address: not-an-email"},
		{"bad number", "Opportunity", map[string]any{"Name": "X", "StageName": "Prospecting", "CloseDate": "2026-03-01", "Amount": "lots"}, "INVALID_TYPE_ON_FIELD_IN_RECORD", []string{"Amount"}, "Amount: value not of required type: lots"},
		{"bad date", "Opportunity", map[string]any{"Name": "X", "StageName": "Prospecting", "CloseDate": "2026-13-45"}, "INVALID_TYPE_ON_FIELD_IN_RECORD", []string{"CloseDate"}, "Close Date: value not of required type"},
		{"bad boolean", "Contact", map[string]any{"LastName": "X", "HasOptedOutOfEmail": "maybe"}, "INVALID_TYPE_ON_FIELD_IN_RECORD", []string{"HasOptedOutOfEmail"}, ""},
		{"unknown field", "Contact", map[string]any{"LastName": "X", "Shoe_Size__c": 9}, "INVALID_FIELD", []string{}, "No such column 'Shoe_Size__c' on sobject of type Contact"},
		{"read-only field", "Contact", map[string]any{"LastName": "X", "Name": "Y"}, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{"Name"}, "Unable to create fields: Name."},
		{"malformed id", "Contact", map[string]any{"LastName": "X", "AccountId": "12345"}, "MALFORMED_ID", []string{"AccountId"}, "Account ID: id value of incorrect type: 12345"},
		{"wrong type id", "Contact", map[string]any{"LastName": "X", "AccountId": "003RM0000000001AAA"}, "MALFORMED_ID", []string{"AccountId"}, ""},
		{"missing parent", "Contact", map[string]any{"LastName": "X", "AccountId": "001RM9999999999AAA"}, "INVALID_CROSS_REFERENCE_KEY", []string{"AccountId"}, "invalid cross reference id"},
		{"duplicate unique", "Contact", map[string]any{"LastName": "X", "Key__c": "K-1"}, "DUPLICATE_VALUE", []string{"Key__c"}, "duplicate value found: Key__c duplicates value on record with id: 003"},
		{"number out of range", "Opportunity", map[string]any{"Name": "X", "StageName": "Prospecting", "CloseDate": "2026-03-01", "Amount": 1e17}, "NUMBER_OUTSIDE_VALID_RANGE", []string{"Amount"}, ""},
		{"restricted picklist", "Contact", map[string]any{"LastName": "X", "Tier__c": "Platinum"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{"Tier__c"}, "Tier: bad value for restricted picklist field: Platinum"},
		{"person fields on business account", "Account", map[string]any{"Name": "Biz"}, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Options{})
			if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Key__c", Type: "Text", Length: 10, ExternalID: true, Unique: true}); err != nil {
				t.Fatal(err)
			}
			if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Tier__c", Type: "Picklist", PicklistValues: []string{"Gold", "Silver"}}); err != nil {
				t.Fatal(err)
			}
			b.create(t, "Contact", map[string]any{"LastName": "Existing", "Key__c": "k-1"})
			r := b.do(t, "POST", "/sobjects/"+tt.object, tt.body)
			if tt.code == "" {
				if r.status != 201 {
					t.Fatalf("valid create: %d %s", r.status, r.body)
				}
				return
			}
			var errs []restError
			r.json(t, &errs)
			if r.status != 400 || len(errs) != 1 {
				t.Fatalf("status %d body %s, want 400 with one error", r.status, r.body)
			}
			e := errs[0]
			if e.ErrorCode != tt.code || !strings.HasPrefix(e.Message, tt.msg) || !cmp.Equal(e.Fields, tt.fields) {
				t.Errorf("got %s %q %v, want %s %q… %v", e.ErrorCode, e.Message, e.Fields, tt.code, tt.msg, tt.fields)
			}
		})
	}
}

func TestDuplicateRule(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: seed(1), DuplicateRuleEmail: true})
	r := b.do(t, "POST", "/sobjects/Contact", map[string]any{"LastName": "Silva", "Email": "ANA.SILVA@example.com"})
	var errs []restError
	r.json(t, &errs)
	if r.status != 400 || len(errs) != 1 || errs[0].ErrorCode != "DUPLICATES_DETECTED" || errs[0].DuplicateResult == nil {
		t.Fatalf("duplicate email: %d %s", r.status, r.body)
	}
	dr := errs[0].DuplicateResult
	if len(dr.MatchResults) != 1 || len(dr.MatchResults[0].MatchRecords) != 1 || !strings.HasPrefix(dr.MatchResults[0].MatchRecords[0].Record["Id"].(string), "003") {
		t.Errorf("duplicateResult: %+v", dr)
	}
	r = b.do(t, "POST", "/sobjects/Contact", map[string]any{"LastName": "Silva", "Email": "ana.silva@example.com"}, "Sforce-Duplicate-Rule-Header", "allowSave=true")
	if r.status != 201 {
		t.Fatalf("with allowSave=true: %d %s", r.status, r.body)
	}
}

func TestPriceBookRules(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	var std struct {
		Records []struct{ Id string } `json:"records"`
	}
	b.do(t, "GET", "/query?q=SELECT+Id+FROM+Pricebook2+WHERE+IsStandard+=+true", nil).json(t, &std)
	if len(std.Records) != 1 {
		t.Fatalf("standard price book: %+v", std)
	}
	stdID := std.Records[0].Id
	prod := b.create(t, "Product2", map[string]any{"Name": "Tee", "IsActive": true})
	custom := b.create(t, "Pricebook2", map[string]any{"Name": "Online", "IsActive": true})
	expectErr := func(r resp, code string) {
		t.Helper()
		if r.status != 400 || r.errorCode(t) != code {
			t.Fatalf("got %d %s, want 400 %s", r.status, r.body, code)
		}
	}
	expectErr(b.do(t, "POST", "/sobjects/PricebookEntry", map[string]any{"Pricebook2Id": custom, "Product2Id": prod, "UnitPrice": 20, "IsActive": true}), "STANDARD_PRICE_NOT_DEFINED")
	stdEntry := b.create(t, "PricebookEntry", map[string]any{"Pricebook2Id": stdID, "Product2Id": prod, "UnitPrice": 25, "IsActive": true})
	expectErr(b.do(t, "POST", "/sobjects/PricebookEntry", map[string]any{"Pricebook2Id": stdID, "Product2Id": prod, "UnitPrice": 25}), "DUPLICATE_VALUE")
	customEntry := b.create(t, "PricebookEntry", map[string]any{"Pricebook2Id": custom, "Product2Id": prod, "UnitPrice": 20, "IsActive": true})
	expectErr(b.do(t, "DELETE", "/sobjects/Pricebook2/"+stdID, nil), "DELETE_FAILED")

	opp := b.create(t, "Opportunity", map[string]any{"Name": "Sale 1", "StageName": "Closed Won", "CloseDate": "2026-03-01"})
	b.create(t, "OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": stdEntry, "Quantity": 2, "UnitPrice": 22.5})
	var o map[string]any
	b.do(t, "GET", "/sobjects/Opportunity/"+opp+"?fields=Amount,Pricebook2Id,HasOpportunityLineItem,IsWon", nil).json(t, &o)
	if o["Amount"] != 45.0 || o["Pricebook2Id"] != stdID || o["HasOpportunityLineItem"] != true || o["IsWon"] != true {
		t.Fatalf("opportunity after first line: %v", o)
	}
	expectErr(b.do(t, "POST", "/sobjects/OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": customEntry, "Quantity": 1, "UnitPrice": 1}), "FIELD_INTEGRITY_EXCEPTION")
	expectErr(b.do(t, "POST", "/sobjects/OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": stdEntry, "Quantity": 1, "UnitPrice": 1, "TotalPrice": 1}), "FIELD_INTEGRITY_EXCEPTION")
	expectErr(b.do(t, "POST", "/sobjects/OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": stdEntry, "UnitPrice": 1}), "REQUIRED_FIELD_MISSING")
	if r := b.do(t, "PATCH", "/sobjects/PricebookEntry/"+stdEntry, map[string]any{"IsActive": false}); r.status != 204 {
		t.Fatalf("deactivate entry: %d %s", r.status, r.body)
	}
	expectErr(b.do(t, "POST", "/sobjects/OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": stdEntry, "Quantity": 1, "UnitPrice": 1}), "FIELD_INTEGRITY_EXCEPTION")
	// A failed line item leaves the opportunity untouched.
	b.do(t, "GET", "/sobjects/Opportunity/"+opp+"?fields=Amount", nil).json(t, &o)
	if o["Amount"] != 45.0 {
		t.Errorf("Amount after rejected lines = %v, want 45", o["Amount"])
	}
}

func TestPersonAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{PersonAccounts: true})
	if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 40, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	var rts struct {
		Records []struct {
			Id           string
			IsPersonType bool
		} `json:"records"`
	}
	b.do(t, "GET", "/query?q=SELECT+Id,IsPersonType+FROM+RecordType+WHERE+SobjectType+=+'Account'", nil).json(t, &rts)
	person := ""
	for _, r := range rts.Records {
		if r.IsPersonType {
			person = r.Id
		}
	}
	if person == "" {
		t.Fatalf("no person record type: %+v", rts)
	}
	r := b.do(t, "POST", "/sobjects/Account", map[string]any{"RecordTypeId": person, "FirstName": "Ana", "Name": "Ana Silva"})
	if r.status != 400 {
		t.Fatalf("person account with Name: %d, want 400", r.status)
	}
	id := b.create(t, "Account", map[string]any{"RecordTypeId": person, "FirstName": "Ana", "LastName": "Silva", "PersonEmail": "ana@example.com", "Lightspeed_Customer_ID__pc": "7"})
	var a map[string]any
	b.do(t, "GET", "/sobjects/Account/"+id+"?fields=Name,IsPersonAccount,PersonContactId", nil).json(t, &a)
	if a["Name"] != "Ana Silva" || a["IsPersonAccount"] != true {
		t.Fatalf("person account: %v", a)
	}
	var c map[string]any
	b.do(t, "GET", "/sobjects/Contact/"+a["PersonContactId"].(string)+"?fields=Email,AccountId,IsPersonAccount,Lightspeed_Customer_ID__c", nil).json(t, &c)
	if c["Email"] != "ana@example.com" || c["AccountId"] != id || c["IsPersonAccount"] != true || c["Lightspeed_Customer_ID__c"] != "7" {
		t.Fatalf("person contact: %v", c)
	}
	if r := b.do(t, "POST", "/sobjects/Account", map[string]any{"Phone": "1"}); r.status != 400 || r.errorCode(t) != "REQUIRED_FIELD_MISSING" {
		t.Errorf("business account without Name: %d %s", r.status, r.body)
	}
}

func TestUnknownResources(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/nope", 404, "NOT_FOUND"},
		{"GET", "/sobjects/Contact/describe/extra/more", 404, "NOT_FOUND"},
		{"DELETE", "/sobjects", 405, "METHOD_NOT_ALLOWED"},
		{"PUT", "/sobjects/Contact", 405, "METHOD_NOT_ALLOWED"},
		{"POST", "/limits", 405, "METHOD_NOT_ALLOWED"},
		{"GET", "/sobjects/Contact/not-an-id", 404, "NOT_FOUND"},
		{"GET", "/sobjects/Contact/001RM0000000001AAA", 404, "NOT_FOUND"},
		{"POST", "/sobjects/Contact", 400, "JSON_PARSER_ERROR"},
		{"GET", b.ts.URL + "/services/nothing", 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		r := b.do(t, tt.method, tt.path, nil)
		if r.status != tt.status || r.errorCode(t) != tt.code {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, r.status, r.body, tt.status, tt.code)
		}
	}
}

func TestReplication(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	start := testClock()().Add(-time.Minute).Format(time.RFC3339)
	id := b.create(t, "Contact", map[string]any{"LastName": "Repl"})
	b.srv.Advance(5 * time.Minute)
	gone := b.create(t, "Contact", map[string]any{"LastName": "Gone"})
	b.do(t, "DELETE", "/sobjects/Contact/"+gone, nil)
	b.srv.Advance(5 * time.Minute)
	end := b.srv.Now().Format(time.RFC3339)
	var upd struct {
		IDs               []string `json:"ids"`
		LatestDateCovered string   `json:"latestDateCovered"`
	}
	r := b.do(t, "GET", "/sobjects/Contact/updated/?start="+start+"&end="+end, nil)
	r.json(t, &upd)
	if r.status != 200 || !cmp.Equal(upd.IDs, []string{id}) || upd.LatestDateCovered == "" {
		t.Fatalf("updated: %d %s", r.status, r.body)
	}
	var del struct {
		DeletedRecords []struct{ ID, DeletedDate string } `json:"deletedRecords"`
	}
	r = b.do(t, "GET", "/sobjects/Contact/deleted/?start="+start+"&end="+end, nil)
	r.json(t, &del)
	if r.status != 200 || len(del.DeletedRecords) != 1 || del.DeletedRecords[0].ID != gone {
		t.Fatalf("deleted: %d %s", r.status, r.body)
	}
	r = b.do(t, "GET", "/sobjects/Contact/updated/?start="+end+"&end="+start, nil)
	if r.status != 400 || r.errorCode(t) != "INVALID_REPLICATION_DATE" {
		t.Errorf("start after end: %d %s", r.status, r.body)
	}
}
