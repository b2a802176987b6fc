package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func (b *bundle) admin(t *testing.T, method, path string, body any) resp {
	t.Helper()
	return b.do(t, method, b.ts.URL+"/_sandbox/"+path, body)
}

func TestLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{DailyAPILimit: 3, TokenTTL: 48 * time.Hour})
	for i := 1; i <= 3; i++ {
		r := b.do(t, "GET", "/limits", nil)
		if want := fmt.Sprintf("api-usage=%d/3", i); r.status != 200 || r.header.Get("Sforce-Limit-Info") != want {
			t.Fatalf("call %d: %d %q, want 200 %q", i, r.status, r.header.Get("Sforce-Limit-Info"), want)
		}
		if i == 3 {
			var l map[string]struct{ Max, Remaining int }
			r.json(t, &l)
			if l["DailyApiRequests"].Max != 3 || l["DailyApiRequests"].Remaining != 0 {
				t.Errorf("limits: %s", r.body)
			}
		}
	}
	r := b.do(t, "GET", "/sobjects", nil)
	var errs []restError
	r.json(t, &errs)
	if r.status != 403 || errs[0].ErrorCode != "REQUEST_LIMIT_EXCEEDED" || errs[0].Message != "TotalRequests Limit exceeded." || r.header.Get("Sforce-Limit-Info") != "api-usage=3/3" {
		t.Fatalf("over the limit: %d %s %v", r.status, r.body, r.header)
	}
	// The window is a rolling 24 hours.
	b.srv.Advance(24 * time.Hour)
	if r := b.do(t, "GET", "/limits", nil); r.status != 200 || r.header.Get("Sforce-Limit-Info") != "api-usage=1/3" {
		t.Fatalf("after 24h: %d %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults string
		status int
		code   string
	}{
		{"server unavailable", `{"failNext":1}`, 503, "SERVER_UNAVAILABLE"},
		{"lock contention", `{"failNext":1,"errorCode":"UNABLE_TO_LOCK_ROW"}`, 400, "UNABLE_TO_LOCK_ROW"},
		{"every call", `{"errorRate":1,"status":500,"errorCode":"UNKNOWN_EXCEPTION"}`, 500, "UNKNOWN_EXCEPTION"},
		{"expired tokens", `{"expireTokens":true}`, 401, "INVALID_SESSION_ID"},
		{"short token ttl", `{"tokenTTL":"1ms"}`, 401, "INVALID_SESSION_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Options{})
			if r := b.admin(t, "POST", "faults", tt.faults); r.status != 200 {
				t.Fatalf("set faults: %d %s", r.status, r.body)
			}
			b.srv.Advance(time.Second)
			r := b.do(t, "GET", "/limits", nil)
			if r.status != tt.status || r.errorCode(t) != tt.code {
				t.Fatalf("faulted call: %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if r := b.admin(t, "POST", "faults", `{}`); r.status != 200 {
				t.Fatalf("clear faults: %d", r.status)
			}
			if tt.code == "INVALID_SESSION_ID" {
				return // the old token stays dead; clearing does not revive it
			}
			if r := b.do(t, "GET", "/limits", nil); r.status != 200 {
				t.Fatalf("after clearing: %d %s", r.status, r.body)
			}
		})
	}
	t.Run("error rate is a fraction", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{Seed: seed(7)})
		b.srv.SetFaults(Faults{ErrorRate: 0.5})
		failed := 0
		for range 200 {
			if b.do(t, "GET", "/limits", nil).status == 503 {
				failed++
			}
		}
		if failed < 50 || failed > 150 {
			t.Errorf("%d of 200 calls failed at errorRate 0.5", failed)
		}
		if got := b.srv.Stats().FaultsInjected; got != failed {
			t.Errorf("stats count %d faults injected; %d calls failed", got, failed)
		}
	})
	t.Run("bad fault bodies", func(t *testing.T) {
		t.Parallel()
		b := setup(t, Options{})
		for _, body := range []string{`{"errorRate":2}`, `{"status":200}`, `{"latency":"soon"}`, `{"nope":1}`, `[`} {
			if r := b.admin(t, "POST", "faults", body); r.status != 400 {
				t.Errorf("faults %s: %d, want 400", body, r.status)
			}
		}
	})
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	// token
	r := b.admin(t, "POST", "token", `{"instance_url":"https://sandbox.example"}`)
	var tr TokenResponse
	r.json(t, &tr)
	if r.status != 200 || tr.InstanceURL != "https://sandbox.example" || tr.RefreshToken == "" || !strings.HasPrefix(tr.ID, "https://sandbox.example/id/00D") {
		t.Fatalf("admin token: %d %s", r.status, r.body)
	}
	var toks []TokenRecord
	b.admin(t, "GET", "tokens", nil).json(t, &toks)
	if len(toks) != 4 { // two pairs: setup's and this one
		t.Errorf("%d tokens listed, want 4", len(toks))
	}
	// fields
	r = b.admin(t, "POST", "fields", `{"object":"Opportunity","name":"Stylist__c","label":"Stylist","type":"Text","length":80}`)
	if r.status != 201 {
		t.Fatalf("add field: %d %s", r.status, r.body)
	}
	if r := b.admin(t, "POST", "fields", `{"object":"Opportunity","name":"Stylist__c","type":"Text"}`); r.status != 400 {
		t.Errorf("duplicate field: %d, want 400", r.status)
	}
	if r := b.admin(t, "POST", "fields", `{"object":"Opportunity","name":"Bad__c","type":"Hologram"}`); r.status != 400 {
		t.Errorf("unknown type: %d, want 400", r.status)
	}
	opp := b.create(t, "Opportunity", map[string]any{"Name": "S", "StageName": "Closed Won", "CloseDate": "2026-03-01", "Stylist__c": "Jamie"})
	var rec map[string]any
	b.do(t, "GET", "/sobjects/Opportunity/"+opp+"?fields=Stylist__c", nil).json(t, &rec)
	if rec["Stylist__c"] != "Jamie" {
		t.Errorf("custom field value: %v", rec)
	}
	// custom objects
	if r := b.admin(t, "POST", "objects", `{"name":"Lightspeed_Sale__c","label":"Lightspeed Sale"}`); r.status != 201 {
		t.Fatalf("add object: %d %s", r.status, r.body)
	}
	if r := b.admin(t, "POST", "fields", `{"object":"Lightspeed_Sale__c","name":"Sale_ID__c","type":"Text","length":20,"externalId":true,"unique":true}`); r.status != 201 {
		t.Fatalf("add object field: %d %s", r.status, r.body)
	}
	sale := b.create(t, "Lightspeed_Sale__c", map[string]any{"Sale_ID__c": "99"})
	if !strings.HasPrefix(sale, "a00") {
		t.Errorf("custom object id %s, want prefix a00", sale)
	}
	// stats
	var st Stats
	b.admin(t, "GET", "stats", nil).json(t, &st)
	found := false
	for _, c := range st.Calls {
		if c.Resource == "sobjects/Opportunity" && c.Method == "POST" && c.Count == 1 {
			found = true
		}
	}
	if !found || st.APIUsage != 3 || st.APILimit != DefaultDailyAPILimit || st.Records["Lightspeed_Sale__c"] != 1 {
		t.Errorf("stats: %+v", st)
	}
	// seed and reset
	r = b.admin(t, "POST", "seed", `{"seed":3}`)
	if r.status != 200 {
		t.Fatalf("seed: %d", r.status)
	}
	st = Stats{}
	b.admin(t, "GET", "stats", nil).json(t, &st)
	if st.Records["Contact"] != len(demoPeople) || st.Records["Lightspeed_Sale__c"] != 0 {
		t.Errorf("after seed: %+v", st.Records)
	}
	b.admin(t, "POST", "reset", nil)
	st = Stats{}
	b.admin(t, "GET", "stats", nil).json(t, &st)
	if st.Records["Contact"] != 0 || st.Records["Pricebook2"] != 1 || st.Records["User"] != 1 {
		t.Errorf("after reset: %+v", st.Records)
	}
	// The token survives a reset.
	if r := b.do(t, "GET", "/limits", nil); r.status != 200 {
		t.Errorf("token after reset: %d", r.status)
	}
	if r := b.admin(t, "GET", "nope", nil); r.status != 404 {
		t.Errorf("unknown admin path: %d", r.status)
	}
	// clock
	r = b.admin(t, "POST", "clock", `{"advance":"3h"}`)
	var clk struct{ Now time.Time }
	r.json(t, &clk)
	if !clk.Now.Equal(testClock()().Add(3 * time.Hour)) {
		t.Errorf("clock after advance: %v", clk.Now)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	dump := func() string {
		b := setup(t, Options{Seed: seed(42)})
		r := b.do(t, "GET", "/query?q=SELECT+Id,Name,MobilePhone,Email+FROM+Contact+ORDER+BY+Id", nil)
		return string(r.body)
	}
	a, c := dump(), dump()
	if a != c {
		t.Errorf("two orgs from seed 42 differ:\n%s\n%s", a, c)
	}
	for _, email := range []string{"ana.silva@example.com", "li.wei@example.com", "sam.jones@example.com"} {
		if !strings.Contains(a, email) {
			t.Errorf("demo org lacks %s", email)
		}
	}
}

func TestQueryPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	recs := make([]map[string]any, 0, 200)
	for i := range 1000 {
		recs = append(recs, map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": fmt.Sprintf("P%04d", i)})
		if len(recs) == 200 {
			if r := b.do(t, "POST", "/composite/sobjects", map[string]any{"records": recs}); r.status != 200 {
				t.Fatal(r.status)
			}
			recs = recs[:0]
		}
	}
	type page struct {
		TotalSize      int               `json:"totalSize"`
		Done           bool              `json:"done"`
		NextRecordsURL string            `json:"nextRecordsUrl"`
		Records        []json.RawMessage `json:"records"`
	}
	var p page
	r := b.do(t, "GET", "/query?q=SELECT+Id,LastName+FROM+Contact+ORDER+BY+LastName", nil, "Sforce-Query-Options", "batchSize=300")
	r.json(t, &p)
	seen := len(p.Records)
	pages := 1
	for !p.Done {
		if !strings.HasPrefix(p.NextRecordsURL, "/services/data/v66.0/query/01g") {
			t.Fatalf("nextRecordsUrl %q", p.NextRecordsURL)
		}
		r = b.do(t, "GET", b.ts.URL+p.NextRecordsURL, nil, "Sforce-Query-Options", "batchSize=300")
		p = page{}
		r.json(t, &p)
		seen += len(p.Records)
		pages++
	}
	if seen != 1000 || pages != 4 || p.TotalSize != 1000 {
		t.Errorf("paged %d records in %d pages (total %d), want 1000 in 4", seen, pages, p.TotalSize)
	}
	var last map[string]any
	json.Unmarshal(p.Records[len(p.Records)-1], &last)
	if last["LastName"] != "P0999" {
		t.Errorf("last record %v, want P0999 (ORDER BY across pages)", last)
	}
	if r := b.do(t, "GET", "/query/01gRM000000000XAAA-200", nil); r.status != 400 || r.errorCode(t) != "INVALID_QUERY_LOCATOR" {
		t.Errorf("bad locator: %d %s", r.status, r.body)
	}
	for q, code := range map[string]string{
		"SELEKT+Id+FROM+Contact":      "MALFORMED_QUERY",
		"SELECT+Nope__c+FROM+Contact": "INVALID_FIELD",
		"SELECT+Id+FROM+Nope__c":      "INVALID_TYPE",
	} {
		if r := b.do(t, "GET", "/query?q="+q, nil); r.status != 400 || r.errorCode(t) != code {
			t.Errorf("query %s: %d %s, want 400 %s", q, r.status, r.body, code)
		}
	}
	var count page
	b.do(t, "GET", "/query?q=SELECT+COUNT()+FROM+Contact", nil).json(t, &count)
	if count.TotalSize != 1000 || !count.Done || len(count.Records) != 0 {
		t.Errorf("COUNT(): %+v", count)
	}
}

func TestTooling(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	body := map[string]any{"FullName": "Contact.Lightspeed_Customer_ID__c", "Metadata": map[string]any{
		"label": "Lightspeed Customer ID", "type": "Text", "length": 40, "externalId": true, "unique": true}}
	r := b.do(t, "POST", "/tooling/sobjects/CustomField", body)
	var res struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	r.json(t, &res)
	if r.status != 201 || !res.Success || !strings.HasPrefix(res.ID, "00N") {
		t.Fatalf("tooling create: %d %s", r.status, r.body)
	}
	if r := b.do(t, "POST", "/tooling/sobjects/CustomField", body); r.status != 400 || r.errorCode(t) != "DUPLICATE_DEVELOPER_NAME" {
		t.Errorf("duplicate tooling create: %d %s", r.status, r.body)
	}
	bad := map[string]any{"FullName": "Contact.Nope", "Metadata": map[string]any{"label": "X", "type": "Text"}}
	if r := b.do(t, "POST", "/tooling/sobjects/CustomField", bad); r.status != 400 {
		t.Errorf("field without __c: %d", r.status)
	}
	// Usable at once.
	b.create(t, "Contact", map[string]any{"LastName": "T", "Lightspeed_Customer_ID__c": "1"})
	if r := b.do(t, "PATCH", "/sobjects/Contact/Lightspeed_Customer_ID__c/1", map[string]any{"LastName": "U"}); r.status != 200 {
		t.Errorf("upsert on the new field: %d %s", r.status, r.body)
	}
	var q struct {
		TotalSize int `json:"totalSize"`
		Records   []struct {
			DeveloperName, TableEnumOrId string
		} `json:"records"`
	}
	r = b.do(t, "GET", "/tooling/query?q=SELECT+Id,DeveloperName,TableEnumOrId+FROM+CustomField+WHERE+TableEnumOrId+=+'Contact'", nil)
	r.json(t, &q)
	if r.status != 200 || q.TotalSize != 1 || q.Records[0].DeveloperName != "Lightspeed_Customer_ID" {
		t.Errorf("tooling query: %d %s", r.status, r.body)
	}
	obj := map[string]any{"FullName": "Lightspeed_Payment__c", "Metadata": map[string]any{"label": "Lightspeed Payment", "pluralLabel": "Lightspeed Payments",
		"nameField": map[string]any{"type": "Text", "label": "Payment"}, "deploymentStatus": "Deployed", "sharingModel": "ReadWrite"}}
	if r := b.do(t, "POST", "/tooling/sobjects/CustomObject", obj); r.status != 201 {
		t.Fatalf("tooling CustomObject: %d %s", r.status, r.body)
	}
	if r := b.do(t, "GET", "/sobjects/Lightspeed_Payment__c/describe", nil); r.status != http.StatusOK {
		t.Errorf("describe new object: %d", r.status)
	}
}
