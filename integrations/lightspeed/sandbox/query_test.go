package sandbox_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

// filterEnv creates five customers one minute apart:
//
//	1 Ada Lovelace   ada@example.com   Mobile 555-0001  type 0
//	2 Bo Lind        bo@example.com    -                type 1
//	3 Cy Ng          -                 Home 555-0003    type 0
//	4 Di Núñez       di@example.org    -                type 1
//	5 Ed 100%        ada@example.com   -                type 0 (shares Ada's email)
func filterEnv(t *testing.T) *env {
	e := newEnv(t, sandbox.Options{})
	e.jsonCall(http.MethodPost, "CustomerType.json", `{"name":"Loyalty"}`, http.StatusOK)
	for _, b := range []string{
		`{"firstName":"Ada","lastName":"Lovelace","Contact":{"Emails":{"ContactEmail":{"address":"ada@example.com","useType":"Primary"}},"Phones":{"ContactPhone":{"number":"555-0001","useType":"Mobile"}}}}`,
		`{"firstName":"Bo","lastName":"Lind","customerTypeID":1,"Contact":{"Emails":{"ContactEmail":{"address":"bo@example.com","useType":"Primary"}}}}`,
		`{"firstName":"Cy","lastName":"Ng","Contact":{"Phones":{"ContactPhone":{"number":"555-0003","useType":"Home"}}}}`,
		`{"firstName":"Di","lastName":"Núñez","customerTypeID":"1","Contact":{"Emails":{"ContactEmail":{"address":"di@example.org","useType":"Primary"}}}}`,
		`{"firstName":"Ed","lastName":"100%","Contact":{"Emails":{"ContactEmail":{"address":"ada@example.com","useType":"Primary"}}}}`,
	} {
		e.createCustomer(b)
		e.s.Advance(time.Minute)
	}
	return e
}

func TestFilterOperators(t *testing.T) {
	t.Parallel()
	e := filterEnv(t)
	ts := func(min int) string {
		return url.QueryEscape(epoch.Add(time.Duration(min) * time.Minute).Format(time.RFC3339))
	}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"equals default", "firstName=Ada", []string{"1"}},
		{"equals explicit, case-insensitive", "firstName=%3D%2Cada", []string{"1"}},
		{"greater", "customerID=%3E%2C3", []string{"4", "5"}},
		{"greater or equal", "customerID=%3E%3D%2C3", []string{"3", "4", "5"}},
		{"less", "customerID=%3C%2C2", []string{"1"}},
		{"less or equal", "customerID=%3C%3D%2C2", []string{"1", "2"}},
		{"between inclusive", "customerID=%3E%3C%2C2%2C4", []string{"2", "3", "4"}},
		{"not equal", "customerTypeID=!%3D%2C0", []string{"2", "4"}},
		{"like", "lastName=~%2CL%25", []string{"1", "2"}},
		{"like literal percent needs no escape beyond %25", "lastName=~%2C100%25", []string{"5"}},
		{"not like", "lastName=!~%2CL%25", []string{"3", "4", "5"}},
		{"in brackets", "customerID=IN%2C%5B1%2C3%2C5%5D", []string{"1", "3", "5"}},
		{"in plain list", "customerID=IN%2C2%2C4", []string{"2", "4"}},
		{"unicode equality", "lastName=N%C3%BA%C3%B1ez", []string{"4"}},
		{"timestamp with %2B offset", "timeStamp=%3E%3D%2C" + url.QueryEscape(epoch.Add(2*time.Minute).Format("2006-01-02T15:04:05+00:00")), []string{"3", "4", "5"}},
		{"timestamp in another offset", "timeStamp=%3C%2C" + url.QueryEscape(epoch.Add(time.Minute).In(time.FixedZone("", -4*3600)).Format("2006-01-02T15:04:05-0700")), []string{"1"}},
		{"timestamp Z", "timeStamp=%3E%2C" + ts(3), []string{"5"}},
		{"two filters AND", "customerTypeID=1&customerID=%3E%2C2", []string{"4"}},
		{"or on one field", "or=" + url.QueryEscape("firstName=Ada|firstName=Cy"), []string{"1", "3"}},
		{"or across fields", "or=" + url.QueryEscape("firstName=Bo|customerID=>,4"), []string{"2", "5"}},
		{"Contact.email", `load_relations=["Contact"]&Contact.email=ada%40example.com`, []string{"1", "5"}},
		{"Contact.email has one", `load_relations=["Contact"]&Contact.email=!~%2C`, []string{"1", "2", "4", "5"}},
		{"Contact.email like", `load_relations=["Contact"]&Contact.email=~%2C%25.org`, []string{"4"}},
		{"Contact.mobile", `load_relations=["Contact"]&Contact.mobile=555-0001`, []string{"1"}},
		{"Contact.phoneHome", `load_relations=["Contact"]&Contact.phoneHome=~%2C555%25`, []string{"3"}},
		{"to-one relation field", `load_relations=["CustomerType"]&CustomerType.name=Loyalty`, []string{"2", "4"}},
		{"no match", "firstName=Zed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := e.getJSON("Customer.json?"+tt.query, http.StatusOK)
			if diff := cmp.Diff(tt.want, ids(many(m["Customer"]), "customerID")); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.query, diff)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	t.Parallel()
	e := filterEnv(t)
	tests := []struct {
		name, query, wantInMsg string
	}{
		{"unknown field names allowed ones", "nickname=x", "Allowed fields: customerID, firstName"},
		{"relation filter without load_relations", "Contact.email=a", "requires load_relations"},
		{"unknown relation field", `load_relations=["Contact"]&Contact.shoeSize=9`, "no field"},
		{"integer field with text", "customerID=%3E%2Cabc", "not an integer"},
		{"bad timestamp", "timeStamp=%3E%2Cyesterday", "invalid timestamp"},
		{"between with one value", "customerID=%3E%3C%2C1", "two values"},
		{"bad sort field names allowed ones", "sort=company", "Allowed sort fields: customerID, timeStamp, firstName, lastName"},
		{"limit over 100", "limit=101", "between 0 and 100"},
		{"bad archived", "archived=maybe", "archived"},
		{"count with limit", "count=1&limit=5", "count cannot be combined"},
		{"bad cursor", "after=%%%", "Malformed"},
		{"undecodable cursor", "after=bm90IGpzb24%3D", "cursor"},
		{"cursor of the wrong shape", "sort=timeStamp&after=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("[5]"))), "cursor"},
		{"load_relations not JSON", "load_relations=Contact", "JSON array"},
		{"unknown relation", `load_relations=["Pets"]`, "Allowed relations"},
		{"malformed or", "or=" + url.QueryEscape("firstName"), "or="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := e.do(http.MethodGet, "Customer.json?"+tt.query, "")
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", resp.StatusCode, body)
			}
			if msg := errBody(t, body, "400"); !strings.Contains(msg, tt.wantInMsg) {
				t.Errorf("message %q does not contain %q", msg, tt.wantInMsg)
			}
		})
	}
}

func TestPHPStyleLoadRelationsIsIgnored(t *testing.T) {
	t.Parallel()
	e := filterEnv(t)
	m := e.getJSON("Customer/1.json?load_relations%5B0%5D=Contact", http.StatusOK)
	if _, ok := m["Customer"].(map[string]any)["Contact"]; ok {
		t.Error("PHP-style load_relations[0] loaded Contact; the API silently ignores it")
	}
}

func TestSort(t *testing.T) {
	t.Parallel()
	e := filterEnv(t)
	e.jsonCall(http.MethodPut, "Customer/2.json", `{"title":"touched"}`, http.StatusOK) // newest timeStamp now
	tests := []struct {
		sort string
		want []string
	}{
		{"", []string{"1", "2", "3", "4", "5"}},
		{"customerID", []string{"1", "2", "3", "4", "5"}},
		{"-customerID", []string{"5", "4", "3", "2", "1"}},
		{"lastName", []string{"5", "2", "1", "3", "4"}},
		{"-firstName", []string{"5", "4", "3", "2", "1"}},
		{"timeStamp", []string{"1", "3", "4", "5", "2"}},
		{"-timeStamp", []string{"2", "5", "4", "3", "1"}},
	}
	for _, tt := range tests {
		m := e.getJSON("Customer.json?sort="+url.QueryEscape(tt.sort), http.StatusOK)
		if diff := cmp.Diff(tt.want, ids(many(m["Customer"]), "customerID")); diff != "" {
			t.Errorf("sort=%s (-want +got):\n%s", tt.sort, diff)
		}
	}
}

func TestPagingCursors(t *testing.T) {
	t.Parallel()
	e := seeded(t, 11, 1, 260, -1)
	all := e.getJSON("Customer.json?count=1&archived=true", http.StatusOK)
	total, _ := strconv.Atoi(all["@attributes"].(map[string]any)["count"].(string))
	if total != 260 {
		t.Fatalf("count=1&archived=true = %d, want 260", total)
	}
	if len(all) != 1 {
		t.Errorf("count=1 body has %d keys, want only @attributes", len(all))
	}

	for _, sort := range []string{"", "-customerID", "timeStamp", "-lastName"} {
		t.Run("sort="+sort, func(t *testing.T) {
			t.Parallel()
			q := "Customer.json?archived=true&limit=37"
			if sort != "" {
				q += "&sort=" + sort
			}
			var pages [][]string
			var prevs []string
			first := e.getJSON(q, http.StatusOK)
			if p := first["@attributes"].(map[string]any)["previous"]; p != "" {
				t.Errorf("first page previous = %q, want \"\"", p)
			}
			for next := q; next != ""; {
				m := e.getJSON(next, http.StatusOK)
				attrs := m["@attributes"].(map[string]any)
				pages = append(pages, ids(many(m["Customer"]), "customerID"))
				prevs = append(prevs, attrs["previous"].(string))
				next = attrs["next"].(string)
				if next != "" && !strings.HasPrefix(next, e.ts.URL+"/API/V3/Account/"+acct+"/Customer.json?") {
					t.Fatalf("next %q is not an absolute URL on the server", next)
				}
			}
			var got []string
			for _, p := range pages {
				got = append(got, p...)
			}
			if len(got) != total || len(pages) != 8 {
				t.Fatalf("walked %d rows in %d pages, want %d in 8", len(got), len(pages), total)
			}
			seen := map[string]bool{}
			for _, id := range got {
				if seen[id] {
					t.Fatalf("customer %s returned twice", id)
				}
				seen[id] = true
			}
			// previous of page k returns page k-1.
			for k := 1; k < len(pages); k++ {
				m := e.getJSON(prevs[k], http.StatusOK)
				if diff := cmp.Diff(pages[k-1], ids(many(m["Customer"]), "customerID")); diff != "" {
					t.Errorf("previous of page %d (-want +got):\n%s", k, diff)
				}
			}
		})
	}

	// Cursors are base64 JSON of the boundary row's sort key.
	m := e.getJSON("Customer.json?limit=2&sort=timeStamp", http.StatusOK)
	rows := many(m["Customer"])
	next, _ := url.Parse(m["@attributes"].(map[string]any)["next"].(string))
	raw, err := base64.StdEncoding.DecodeString(next.Query().Get("after"))
	if err != nil {
		t.Fatal(err)
	}
	want := `["` + rows[1]["timeStamp"].(string) + `",` + rows[1]["customerID"].(string) + `]`
	if string(raw) != want {
		t.Errorf("cursor = %s, want %s", raw, want)
	}
	for _, k := range []string{"sort", "limit"} {
		if !next.Query().Has(k) {
			t.Errorf("next URL lacks defaulted %s: %s", k, next)
		}
	}
	m = e.getJSON("Customer.json?limit=2", http.StatusOK)
	next, _ = url.Parse(m["@attributes"].(map[string]any)["next"].(string))
	if raw, _ := base64.StdEncoding.DecodeString(next.Query().Get("after")); string(raw) != "[2]" {
		t.Errorf("id cursor = %s, want [2]", raw)
	}
}

func TestArchivedModes(t *testing.T) {
	t.Parallel()
	e := filterEnv(t)
	e.jsonCall(http.MethodDelete, "Customer/2.json", "", http.StatusOK)
	e.jsonCall(http.MethodPut, "Customer/4.json", `{"archived":true}`, http.StatusOK)
	for mode, want := range map[string][]string{
		"":      {"1", "3", "5"},
		"false": {"1", "3", "5"},
		"true":  {"1", "2", "3", "4", "5"},
		"only":  {"2", "4"},
	} {
		m := e.getJSON("Customer.json?archived="+mode, http.StatusOK)
		if diff := cmp.Diff(want, ids(many(m["Customer"]), "customerID")); diff != "" {
			t.Errorf("archived=%s (-want +got):\n%s", mode, diff)
		}
	}
	// Single GET finds archived rows whatever the mode.
	if c := e.getJSON("Customer/2.json", http.StatusOK)["Customer"].(map[string]any); c["archived"] != "true" {
		t.Errorf("archived customer: archived = %v", c["archived"])
	}
}

func TestLoadRelations(t *testing.T) {
	t.Parallel()
	e := seeded(t, 5, 2, 30, 40)
	keys := func(m map[string]any) []string {
		var out []string
		for k, v := range m {
			if _, obj := v.(map[string]any); obj || v == "" && k[0] >= 'A' && k[0] <= 'Z' {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	c := e.getJSON("Customer/1.json", http.StatusOK)["Customer"].(map[string]any)
	if got := keys(c); len(got) != 0 {
		t.Errorf("no load_relations: relations %v present", got)
	}
	c = e.getJSON("Customer/1.json?load_relations=all", http.StatusOK)["Customer"].(map[string]any)
	if _, ok := c["CustomFieldValues"]; ok {
		t.Error("load_relations=all loaded CustomFieldValues; it must be named explicitly")
	}
	for _, r := range []string{"Contact", "Tags"} {
		if _, ok := c[r]; !ok {
			t.Errorf("load_relations=all did not load %s", r)
		}
	}
	c = e.getJSON(`Customer/1.json?load_relations=["CustomFieldValues"]`, http.StatusOK)["Customer"].(map[string]any)
	if _, ok := c["CustomFieldValues"]; !ok || c["Contact"] != nil {
		t.Errorf("load_relations=[CustomFieldValues]: got relations %v", keys(c))
	}

	// Nested relations on sales; naming a child loads its parent.
	s := e.getJSON(`Sale/1.json?load_relations=["SaleLines.Item","SalePayments.PaymentType","Customer.Contact"]`, http.StatusOK)["Sale"].(map[string]any)
	line := many(s["SaleLines"].(map[string]any)["SaleLine"])[0]
	if it, ok := line["Item"].(map[string]any); !ok || it["itemID"] != line["itemID"] {
		t.Errorf("SaleLines.Item not loaded or wrong: %v", line["Item"])
	}
	if _, ok := it0(line["Item"])["Prices"]; !ok {
		t.Error("Item has no Prices; the API always sends them")
	}
	pay := many(s["SalePayments"].(map[string]any)["SalePayment"])[0]
	if pt, ok := pay["PaymentType"].(map[string]any); !ok || pt["paymentTypeID"] != pay["paymentTypeID"] {
		t.Errorf("SalePayments.PaymentType not loaded: %v", pay["PaymentType"])
	}
	if s["customerID"] != "0" {
		if _, ok := s["Customer"].(map[string]any)["Contact"]; !ok {
			t.Error("Customer.Contact not loaded")
		}
	}
}

func it0(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func TestLegacyV2OffsetPaging(t *testing.T) {
	t.Parallel()
	e := filterEnv(t)
	m := e.getJSON("/API/Account/"+acct+"/Customer.json?limit=2&offset=1&orderby=lastName&orderby_desc=1", http.StatusOK)
	if diff := cmp.Diff(map[string]any{"count": "5", "offset": "1", "limit": "2"}, m["@attributes"]); diff != "" {
		t.Errorf("V2 @attributes (-want +got):\n%s", diff)
	}
	// lastName descending: Núñez, Ng, Lovelace, Lind, 100%.
	if diff := cmp.Diff([]string{"3", "1"}, ids(many(m["Customer"]), "customerID")); diff != "" {
		t.Errorf("V2 page (-want +got):\n%s", diff)
	}
	resp, _ := e.do(http.MethodGet, "/API/Account/"+acct+"/Customer.json?offset=2000&orderby=company", "")
	if got := resp.Header.Get("X-LS-API-Request-Cost"); got != "6" {
		t.Errorf("V2 cost with offset 2000 and a non-sortable orderby = %s, want 1 + 1 + 4 = 6", got)
	}
	resp, body := e.do(http.MethodGet, "/API/Account/"+acct+"/Customer.json?after=WzJd", "")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("V3 cursor on a V2 path: %d %s", resp.StatusCode, body)
	}
}

func TestConcurrentReadsAndWrites(t *testing.T) {
	t.Parallel()
	e := seeded(t, 8, 2, 200, 200)
	done := make(chan struct{})
	errs := make(chan string, 64)
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 25 {
				var resp *http.Response
				switch g {
				case 0:
					resp, _ = e.do(http.MethodPost, "Customer.json", `{"firstName":"Zz`+itoa(i)+`"}`)
				case 1:
					resp, _ = e.do(http.MethodPut, "Customer/"+itoa(1+i)+".json", `{"title":"t`+itoa(i)+`"}`)
				case 2:
					resp, _ = e.do(http.MethodGet, "Customer.json?sort=timeStamp&limit=50&load_relations=all", "")
				default:
					resp, _ = e.do(http.MethodGet, `Sale.json?sort=-updatetime&load_relations=["SaleLines","Customer"]`, "")
				}
				if resp.StatusCode != http.StatusOK {
					errs <- resp.Status
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for s := range errs {
		t.Error(s)
	}
	// The sorted index sees every write.
	m := e.getJSON("Customer.json?sort=timeStamp&firstName=~%2CZz%25", http.StatusOK)
	if n := len(many(m["Customer"])); n != 25 {
		t.Errorf("sorted listing found %d of the 25 new customers; the sort index is stale", n)
	}
}
