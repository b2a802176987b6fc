package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

type itemResult struct {
	ID      string      `json:"id"`
	Success bool        `json:"success"`
	Created *bool       `json:"created"`
	Errors  []itemError `json:"errors"`
}

func contactRecords(n int, bad ...int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": fmt.Sprintf("C%d", i)}
	}
	for _, i := range bad {
		delete(out[i], "LastName")
	}
	return out
}

func (b *bundle) liveCount(t *testing.T, object string) int {
	t.Helper()
	return b.srv.Stats().Records[object]
}

func TestCollectionsCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		allOrNone bool
		wantLive  int
	}{
		{"allOrNone false keeps the good records", false, 2},
		{"allOrNone true rolls everything back", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Options{})
			r := b.do(t, "POST", "/composite/sobjects", map[string]any{"allOrNone": tt.allOrNone, "records": contactRecords(3, 1)})
			var res []itemResult
			r.json(t, &res)
			if r.status != 200 || len(res) != 3 {
				t.Fatalf("collections create: %d %s", r.status, r.body)
			}
			if res[1].Success || len(res[1].Errors) != 1 || res[1].Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" || res[1].ID != "" {
				t.Errorf("bad record result: %+v", res[1])
			}
			if !strings.Contains(string(r.body), `"statusCode"`) || strings.Contains(string(r.body), `"errorCode"`) {
				t.Errorf("per-record errors must use statusCode: %s", r.body)
			}
			for _, i := range []int{0, 2} {
				switch {
				case tt.allOrNone && (res[i].Success || res[i].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK"):
					t.Errorf("record %d: %+v, want ALL_OR_NONE_OPERATION_ROLLED_BACK", i, res[i])
				case !tt.allOrNone && (!res[i].Success || !strings.HasPrefix(res[i].ID, "003")):
					t.Errorf("record %d: %+v, want success", i, res[i])
				}
			}
			if got := b.liveCount(t, "Contact"); got != tt.wantLive {
				t.Errorf("%d contacts stored, want %d", got, tt.wantLive)
			}
		})
	}
}

func TestCollectionsLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	r := b.do(t, "POST", "/composite/sobjects", map[string]any{"records": contactRecords(201)})
	if r.status != 400 || r.errorCode(t) != "EXCEEDED_ID_LIMIT" {
		t.Errorf("201 records: %d %s, want 400 EXCEEDED_ID_LIMIT", r.status, r.body)
	}
	r = b.do(t, "POST", "/composite/sobjects", `{"records": [`)
	if r.status != 400 || r.errorCode(t) != "JSON_PARSER_ERROR" {
		t.Errorf("malformed JSON: %d %s", r.status, r.body)
	}
	r = b.do(t, "POST", "/composite/sobjects", map[string]any{"records": []map[string]any{{"LastName": "No type"}}})
	var res []itemResult
	r.json(t, &res)
	if r.status != 200 || res[0].Success || res[0].Errors[0].StatusCode != "INVALID_TYPE" {
		t.Errorf("record without attributes.type: %d %s", r.status, r.body)
	}
}

func TestCollectionsUpsertUpdateRetrieveDelete(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 40, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	existing := b.create(t, "Contact", map[string]any{"LastName": "Old", "Lightspeed_Customer_ID__c": "2"})
	recs := []map[string]any{
		{"attributes": map[string]any{"type": "Contact"}, "Lightspeed_Customer_ID__c": "1", "LastName": "New"},
		{"attributes": map[string]any{"type": "Contact"}, "Lightspeed_Customer_ID__c": "2", "LastName": "Updated"},
		{"attributes": map[string]any{"type": "Contact"}, "Lightspeed_Customer_ID__c": "3", "LastName": "Bad", "Email": "nope"},
		{"attributes": map[string]any{"type": "Contact"}, "Lightspeed_Customer_ID__c": "4", "LastName": "Twin"},
		{"attributes": map[string]any{"type": "Contact"}, "Lightspeed_Customer_ID__c": "4", "LastName": "Twin"},
	}
	r := b.do(t, "PATCH", "/composite/sobjects/Contact/Lightspeed_Customer_ID__c", map[string]any{"allOrNone": false, "records": recs})
	var res []itemResult
	r.json(t, &res)
	if r.status != 200 || len(res) != 5 {
		t.Fatalf("collections upsert: %d %s", r.status, r.body)
	}
	if !res[0].Success || res[0].Created == nil || !*res[0].Created {
		t.Errorf("new record: %+v, want created", res[0])
	}
	if !res[1].Success || res[1].Created == nil || *res[1].Created || res[1].ID != existing {
		t.Errorf("existing record: %+v, want updated %s", res[1], existing)
	}
	if res[2].Success || res[2].Errors[0].StatusCode != "INVALID_EMAIL_ADDRESS" || res[2].Created == nil || *res[2].Created {
		t.Errorf("invalid record: %+v", res[2])
	}
	if res[3].Success || res[3].Errors[0].StatusCode != "DUPLICATE_EXTERNAL_ID" {
		t.Errorf("duplicate key in batch: %+v", res[3])
	}
	// Update through collections, with jsforce's lower-case id.
	r = b.do(t, "PATCH", "/composite/sobjects", map[string]any{"records": []map[string]any{
		{"attributes": map[string]any{"type": "Contact"}, "id": existing, "Phone": "1"},
		{"attributes": map[string]any{"type": "Contact"}, "id": "bogus", "Phone": "1"},
		{"attributes": map[string]any{"type": "Contact"}, "Phone": "1"},
	}})
	r.json(t, &res)
	if !res[0].Success || res[1].Errors[0].StatusCode != "MALFORMED_ID" || res[2].Errors[0].StatusCode != "MISSING_ARGUMENT" {
		t.Errorf("collections update: %s", r.body)
	}
	// Retrieve, both forms.
	var recsOut []map[string]any
	r = b.do(t, "GET", "/composite/sobjects/Contact?ids="+existing+",003RM9999999999AAA&fields=Phone,LastName", nil)
	r.json(t, &recsOut)
	if r.status != 200 || len(recsOut) != 2 || recsOut[0]["Phone"] != "1" || recsOut[1] != nil {
		t.Errorf("collections retrieve: %d %s", r.status, r.body)
	}
	r = b.do(t, "POST", "/composite/sobjects/Contact", map[string]any{"ids": []string{existing}, "fields": []string{"LastName"}})
	r.json(t, &recsOut)
	if r.status != 200 || recsOut[0]["LastName"] != "Updated" {
		t.Errorf("collections retrieve (POST): %d %s", r.status, r.body)
	}
	// Delete with allOrNone both ways.
	r = b.do(t, "DELETE", "/composite/sobjects?allOrNone=true&ids="+existing+",bogus", nil)
	r.json(t, &res)
	if res[0].Success || res[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[1].Errors[0].StatusCode != "MALFORMED_ID" {
		t.Errorf("delete allOrNone: %s", r.body)
	}
	r = b.do(t, "DELETE", "/composite/sobjects?ids="+existing+",bogus", nil)
	r.json(t, &res)
	if !res[0].Success || res[1].Success {
		t.Errorf("delete: %s", r.body)
	}
}

type compositeResp struct {
	CompositeResponse []struct {
		Body           any               `json:"body"`
		HTTPHeaders    map[string]string `json:"httpHeaders"`
		HTTPStatusCode int               `json:"httpStatusCode"`
		ReferenceID    string            `json:"referenceId"`
	} `json:"compositeResponse"`
}

func TestComposite(t *testing.T) {
	t.Parallel()
	body := func(allOrNone bool, badLast bool) map[string]any {
		last := map[string]any{"LastName": "Ref", "AccountId": "@{acct.id}"}
		if badLast {
			delete(last, "LastName")
		}
		return map[string]any{"allOrNone": allOrNone, "compositeRequest": []map[string]any{
			{"method": "POST", "url": "/services/data/v66.0/sobjects/Account", "referenceId": "acct", "body": map[string]any{"Name": "Acme"}},
			{"method": "GET", "url": "/services/data/v66.0/sobjects/Account/@{acct.id}?fields=Name", "referenceId": "got"},
			{"method": "POST", "url": "/services/data/v66.0/sobjects/Contact", "referenceId": "c", "body": last},
			{"method": "GET", "url": "/services/data/v66.0/query?q=SELECT+Id+FROM+Contact+WHERE+AccountId+=+'@{acct.id}'", "referenceId": "q"},
			{"method": "PATCH", "url": "/services/data/v66.0/sobjects/Contact/@{q.records[0].Id}", "referenceId": "upd", "body": map[string]any{"Phone": "7"}},
		}}
	}
	t.Run("references", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{})
		r := b.do(t, "POST", "/composite", body(true, false))
		var cr compositeResp
		r.json(t, &cr)
		if r.status != 200 || len(cr.CompositeResponse) != 5 {
			t.Fatalf("composite: %d %s", r.status, r.body)
		}
		want := []int{201, 200, 201, 200, 204}
		for i, sub := range cr.CompositeResponse {
			if sub.HTTPStatusCode != want[i] {
				t.Errorf("subrequest %s: %d, want %d: %v", sub.ReferenceID, sub.HTTPStatusCode, want[i], sub.Body)
			}
		}
		if loc := cr.CompositeResponse[0].HTTPHeaders["Location"]; !strings.HasPrefix(loc, "/services/data/v66.0/sobjects/Account/001") {
			t.Errorf("create Location header = %q", loc)
		}
		if got := b.srv.Stats().APIUsage; got != 1 {
			t.Errorf("a composite call counted %d API calls, want 1", got)
		}
	})
	t.Run("allOrNone rolls back", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{})
		r := b.do(t, "POST", "/composite", body(true, true))
		var cr compositeResp
		r.json(t, &cr)
		codes := []string{}
		for _, sub := range cr.CompositeResponse {
			errs, _ := sub.Body.([]any)
			code := ""
			if len(errs) > 0 {
				code, _ = errs[0].(map[string]any)["errorCode"].(string)
			}
			codes = append(codes, fmt.Sprint(sub.HTTPStatusCode, " ", code))
		}
		want := []string{"400 PROCESSING_HALTED", "400 PROCESSING_HALTED", "400 REQUIRED_FIELD_MISSING", "400 PROCESSING_HALTED", "400 PROCESSING_HALTED"}
		if fmt.Sprint(codes) != fmt.Sprint(want) {
			t.Errorf("subrequest results %v, want %v", codes, want)
		}
		if n := b.liveCount(t, "Account"); n != 0 {
			t.Errorf("%d accounts survived the rollback", n)
		}
	})
	t.Run("without allOrNone dependants halt", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{})
		r := b.do(t, "POST", "/composite", body(false, true))
		var cr compositeResp
		r.json(t, &cr)
		got := []int{}
		for _, sub := range cr.CompositeResponse {
			got = append(got, sub.HTTPStatusCode)
		}
		// The query finds no contact, so the PATCH's reference is missing.
		if fmt.Sprint(got) != fmt.Sprint([]int{201, 200, 400, 200, 400}) {
			t.Errorf("statuses %v: %s", got, r.body)
		}
		if !strings.Contains(string(r.body), "Invalid reference specified") {
			t.Errorf("missing reference message: %s", r.body)
		}
		if n := b.liveCount(t, "Account"); n != 1 {
			t.Errorf("%d accounts, want 1", n)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{})
		subs := make([]map[string]any, 26)
		for i := range subs {
			subs[i] = map[string]any{"method": "GET", "url": "/services/data/v66.0/limits", "referenceId": fmt.Sprintf("r%d", i)}
		}
		if r := b.do(t, "POST", "/composite", map[string]any{"compositeRequest": subs}); r.status != 400 {
			t.Errorf("26 subrequests: %d, want 400", r.status)
		}
		bad := []map[string]any{{"method": "GET", "url": "/services/data/v66.0/limits", "referenceId": "r1", "httpHeaders": map[string]string{"Authorization": "x"}}}
		if r := b.do(t, "POST", "/composite", map[string]any{"compositeRequest": bad}); r.status != 400 {
			t.Errorf("subrequest with Authorization header: %d, want 400", r.status)
		}
	})
}

func TestCompositeGraph(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: seed(1)})
	var std struct {
		Records []struct{ Id string } `json:"records"`
	}
	b.do(t, "GET", "/query?q=SELECT+Id+FROM+PricebookEntry+WHERE+ProductCode+=+'TEE-001'", nil).json(t, &std)
	entry := std.Records[0].Id
	graph := func(id string, qty any) map[string]any {
		return map[string]any{"graphId": id, "compositeRequest": []map[string]any{
			{"method": "POST", "url": "/services/data/v66.0/sobjects/Opportunity", "referenceId": "opp",
				"body": map[string]any{"Name": "Sale " + id, "StageName": "Closed Won", "CloseDate": "2026-03-01", "Stylist__c": "Jamie"}},
			{"method": "POST", "url": "/services/data/v66.0/sobjects/OpportunityLineItem", "referenceId": "line1",
				"body": map[string]any{"OpportunityId": "@{opp.id}", "PricebookEntryId": entry, "Quantity": qty, "UnitPrice": 10}},
		}}
	}
	before := b.liveCount(t, "Opportunity")
	r := b.do(t, "POST", "/composite/graph", map[string]any{"graphs": []map[string]any{graph("ok", 2), graph("bad", "two")}})
	var gr struct {
		Graphs []struct {
			GraphID       string        `json:"graphId"`
			IsSuccessful  bool          `json:"isSuccessful"`
			GraphResponse compositeResp `json:"graphResponse"`
		} `json:"graphs"`
	}
	r.json(t, &gr)
	if r.status != 200 || len(gr.Graphs) != 2 {
		t.Fatalf("graph: %d %s", r.status, r.body)
	}
	if !gr.Graphs[0].IsSuccessful || gr.Graphs[1].IsSuccessful {
		t.Fatalf("graph success flags: %s", r.body)
	}
	if sub := gr.Graphs[1].GraphResponse.CompositeResponse; sub[0].HTTPStatusCode != 400 || sub[1].HTTPStatusCode != 400 {
		t.Errorf("failed graph subrequests: %+v", sub)
	}
	if got := b.liveCount(t, "Opportunity"); got != before+1 {
		t.Errorf("%d opportunities, want %d: the failed graph must roll back", got, before+1)
	}
	if r := b.do(t, "POST", "/composite/graph", map[string]any{"graphs": []any{}}); r.status != http.StatusBadRequest {
		t.Errorf("empty graphs: %d, want 400", r.status)
	}
}
