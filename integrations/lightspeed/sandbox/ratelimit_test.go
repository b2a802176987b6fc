package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

type rateHeaders struct {
	status                                 int
	level, burst, drip, cost, typ, retryAf string
}

func (e *env) rate(method, path, body string) rateHeaders {
	e.t.Helper()
	resp, b := e.do(method, path, body)
	h := resp.Header
	if resp.StatusCode == http.StatusTooManyRequests {
		if m := errBody(e.t, b, "429"); m == "" {
			e.t.Error("429 without message")
		}
		if decode(e.t, b)["errorClass"] != "RateLimitExceeded" {
			e.t.Errorf("429 errorClass: %s", b)
		}
	}
	return rateHeaders{resp.StatusCode, h.Get("X-LS-API-Bucket-Level"), h.Get("X-LS-API-Burst-Level"), h.Get("X-LS-API-Drip-Rate"),
		h.Get("X-LS-API-Request-Cost"), h.Get("X-LS-API-RateLimit-Type"), h.Get("Retry-After")}
}

func TestRateLimitLeakyBucket(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{BucketSize: 10, DripRate: 2, Burst: 1000})
	for i := 1; i <= 4; i++ {
		if h := e.rate(http.MethodGet, "Shop.json", ""); h.status != 200 || h.level != itoa(i)+"/10" || h.cost != "1" || h.drip != "2" {
			t.Fatalf("request %d: %+v", i, h)
		}
	}
	resp, _ := e.do(http.MethodGet, "Shop.json", "")
	for _, k := range []string{"X-LS-Acct-Id", "X-LS-OAuth-Client-Id", "Cf-Ray"} {
		if resp.Header.Get(k) == "" {
			t.Errorf("missing header %s", k)
		}
	}
	if resp.Header.Get("X-LS-Acct-Id") != acct {
		t.Errorf("X-LS-Acct-Id = %q", resp.Header.Get("X-LS-Acct-Id"))
	}
	// Level 5: a count=1 request (cost 10) is admitted and overflows once...
	if h := e.rate(http.MethodGet, "Customer.json?count=1", ""); h.status != 200 || h.level != "15/10" || h.cost != "10" {
		t.Fatalf("overflowing request: %+v", h)
	}
	// ...then everything is refused until the level drains below the size:
	// (15-10)/2 = 2.5 s, so Retry-After 3.
	h := e.rate(http.MethodGet, "Shop.json", "")
	if h.status != 429 || h.typ != "api-leaky-bucket" || h.retryAf != "3" || h.level != "15/10" {
		t.Fatalf("over the size: %+v, want 429 leaky bucket, Retry-After 3", h)
	}
	e.s.Advance(2500 * time.Millisecond) // level 10: still not below
	if h := e.rate(http.MethodGet, "Shop.json", ""); h.status != 429 || h.retryAf != "1" {
		t.Fatalf("at exactly the size: %+v, want 429 Retry-After 1", h)
	}
	e.s.Advance(500 * time.Millisecond) // level 9
	if h := e.rate(http.MethodGet, "Shop.json", ""); h.status != 200 || h.level != "10/10" {
		t.Fatalf("after Retry-After: %+v, want admitted at 10/10", h)
	}
	st := e.s.Stats()
	if st.RateLimited != 2 || st.DripsSpent != 16 {
		t.Errorf("stats: %d 429s, %v drips; want 2 and 16", st.RateLimited, st.DripsSpent)
	}
}

func TestRateLimitBurst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{BucketSize: 1000, Burst: 3})
	for i := 1; i <= 3; i++ {
		if h := e.rate(http.MethodGet, "Shop.json", ""); h.status != 200 || h.burst != itoa(i)+"/3" {
			t.Fatalf("request %d: %+v", i, h)
		}
	}
	h := e.rate(http.MethodGet, "Shop.json", "")
	if h.status != 429 || h.typ != "api-burst-limiter" || h.retryAf != "1" {
		t.Fatalf("4th request in one second: %+v, want 429 burst", h)
	}
	e.s.Advance(time.Second)
	if h := e.rate(http.MethodGet, "Shop.json", ""); h.status != 200 || h.burst != "1/3" {
		t.Fatalf("next second: %+v", h)
	}
}

func TestRequestCosts(t *testing.T) {
	t.Parallel()
	e := seeded(t, 1, 1, 3, 3)
	sale := `{"shopID":1,"registerID":1,"employeeID":2,"SaleLines":{"SaleLine":[{"itemID":9,"unitQuantity":1},{"itemID":10,"unitQuantity":1}]}}`
	tests := []struct {
		name, method, path, body, cost string
	}{
		{"plain GET", "GET", "Customer.json", "", "1"},
		{"single GET", "GET", "Customer/1.json", "", "1"},
		{"count", "GET", "Customer.json?count=1", "", "10"},
		{"to-one on single", "GET", `Customer/1.json?load_relations=["Contact"]`, "", "1.1"},
		{"to-one on query doubles", "GET", `Customer.json?load_relations=["Contact"]`, "", "1.2"},
		{"to-many on query", "GET", `Sale.json?load_relations=["SaleLines"]`, "", "1.4"},
		{"nested under to-many", "GET", `Sale.json?load_relations=["SaleLines","SaleLines.Item"]`, "", "1.8"},
		{"all on single customer", "GET", "Customer/1.json?load_relations=all", "", "1.6"},
		{"or on one field is free", "GET", "Customer.json?or=firstName%3DA%7CfirstName%3DB", "", "1"},
		{"or across fields of one entity", "GET", "Customer.json?or=firstName%3DA%7ClastName%3DB", "", "3"},
		{"or across entities", "GET", `Customer.json?load_relations=["Contact"]&or=firstName%3DA%7CContact.email%3DB`, "", "22.2"},
		{"customer write with nested entities", "POST", "Customer.json", `{"firstName":"A","Contact":{"Emails":{"ContactEmail":{"address":"a@example.com","useType":"Primary"}}}}`, "2"},
		{"open sale with two lines", "POST", "Sale.json", sale, "3"},
		{"completed sale", "PUT", "Sale/1.json", `{"completed":true,"SaleLines":{"SaleLine":{"itemID":9,"unitQuantity":1}}}`, "5.5"},
	}
	for _, tt := range tests {
		resp, body := e.do(tt.method, tt.path, tt.body)
		if got := resp.Header.Get("X-LS-API-Request-Cost"); got != tt.cost {
			t.Errorf("%s: cost %s, want %s (status %d %.200s)", tt.name, got, tt.cost, resp.StatusCode, body)
		}
	}
}
