package sandbox_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

func (e *env) admin(method, name, body string) (int, map[string]any) {
	e.t.Helper()
	resp, b := e.doTok("", method, "/_sandbox/"+name, body)
	return resp.StatusCode, decode(e.t, b)
}

func TestFaultsFailNextAndClear(t *testing.T) {
	t.Parallel()
	e := seeded(t, 1, 1, 3, 3)
	if s, b := e.admin("POST", "faults", `{"fail_next":2,"status":502}`); s != 200 {
		t.Fatalf("faults: %d %v", s, b)
	}
	for i := range 2 {
		resp, body := e.do(http.MethodGet, "Customer.json", "")
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("request %d: %d, want 502", i, resp.StatusCode)
		}
		errBody(t, body, "502")
	}
	if resp, _ := e.do(http.MethodGet, "Customer.json", ""); resp.StatusCode != 200 {
		t.Errorf("third request: %d", resp.StatusCode)
	}
	e.admin("POST", "faults", `{"error_rate":1}`)
	if resp, _ := e.do(http.MethodGet, "Customer.json", ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("error_rate 1 with default status: %d, want 503", resp.StatusCode)
	}
	e.admin("POST", "faults", `{}`)
	if resp, _ := e.do(http.MethodGet, "Customer.json", ""); resp.StatusCode != 200 {
		t.Errorf("after {}: %d", resp.StatusCode)
	}
	if st := e.s.Stats(); st.FaultsInjected != 3 {
		t.Errorf("faults injected %d, want 3", st.FaultsInjected)
	}
	for _, bad := range []string{`{"error_rate":2}`, `{"status":200}`, `{"latency_ms":-1}`, `{"nope":1}`, `{`} {
		if s, _ := e.admin("POST", "faults", bad); s != http.StatusBadRequest {
			t.Errorf("faults %s: %d, want 400", bad, s)
		}
	}
}

func TestFaultsErrorRateIsDeterministic(t *testing.T) {
	t.Parallel()
	pattern := func() []int {
		e := seeded(t, 1, 1, 1, -1)
		e.admin("POST", "faults", `{"error_rate":0.3,"status":503,"seed":9}`)
		var out []int
		for range 40 {
			resp, _ := e.do(http.MethodGet, "Shop.json", "")
			out = append(out, resp.StatusCode)
		}
		return out
	}
	a, b := pattern(), pattern()
	if !cmp.Equal(a, b) {
		t.Errorf("same fault seed, different outcomes:\n%v\n%v", a, b)
	}
	fails := 0
	for _, s := range a {
		if s == 503 {
			fails++
		}
	}
	if fails == 0 || fails == len(a) {
		t.Errorf("error_rate 0.3 failed %d of %d requests", fails, len(a))
	}
}

func TestFaultsLatencyAnd429(t *testing.T) {
	t.Parallel()
	e := seeded(t, 1, 1, 1, -1)
	e.admin("POST", "faults", `{"latency_ms":30}`)
	start := time.Now()
	if resp, _ := e.do(http.MethodGet, "Shop.json", ""); resp.StatusCode != 200 {
		t.Errorf("slow request: %d", resp.StatusCode)
	}
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Errorf("latency_ms 30 took %v", el)
	}
	e.admin("POST", "faults", `{"fail_next":1,"status":429}`)
	resp, body := e.do(http.MethodGet, "Shop.json", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-LS-API-RateLimit-Type") == "" {
		t.Errorf("injected 429: %d %v", resp.StatusCode, resp.Header)
	}
	errBody(t, body, "429")
}

func TestFaultsExpireTokens(t *testing.T) {
	t.Parallel()
	e := seeded(t, 1, 1, 1, -1)
	e.admin("POST", "faults", `{"expire_tokens":true}`)
	resp, body := e.do(http.MethodGet, "Shop.json", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after expire_tokens: %d %s", resp.StatusCode, body)
	}
	// Tokens minted afterwards work: expiry is a one-shot action.
	fresh := e.s.MintToken().AccessToken
	if resp, _ := e.doTok(fresh, http.MethodGet, "Shop.json", ""); resp.StatusCode != 200 {
		t.Errorf("fresh token: %d", resp.StatusCode)
	}
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	s, counts := e.admin("POST", "seed", `{"shops":2,"customers":30,"sales":50,"seed":42}`)
	want := map[string]any{"shops": 2.0, "registers": 4.0, "employees": 10.0, "customers": 30.0, "sales": 50.0, "items": 20.0}
	if s != 200 || !cmp.Equal(want, counts) {
		t.Errorf("seed: %d %v, want %v", s, counts, want)
	}
	s, tok := e.admin("POST", "token", "")
	if s != 200 || tok["account_id"] != 200001.0 || tok["expires_in"] != 3600.0 || tok["access_token"] == "" || tok["refresh_token"] == "" {
		t.Fatalf("token: %d %v", s, tok)
	}
	if resp, _ := e.doTok(tok["access_token"].(string), http.MethodGet, "Customer.json", ""); resp.StatusCode != 200 {
		t.Errorf("minted token refused: %d", resp.StatusCode)
	}
	_, toks := e.admin("GET", "tokens", "")
	access := toks["access_tokens"].([]any)
	refresh := toks["refresh_tokens"].([]any)
	if !slices.Contains(access, any(tok["access_token"])) || !slices.Contains(refresh, any(tok["refresh_token"])) || !slices.Contains(access, any(e.tok)) {
		t.Errorf("tokens list lacks issued tokens: %v", toks)
	}
	_, st := e.admin("GET", "stats", "")
	byRes := st["by_resource"].(map[string]any)
	if byRes["Customer"].(map[string]any)["GET"] != 1.0 || st["drips_spent"] != 1.0 {
		t.Errorf("stats %v", st)
	}
	// The clock endpoint moves token expiry.
	if s, c := e.admin("POST", "clock", `{"advance":"90m"}`); s != 200 || c["now"] != "2026-06-01T13:30:00Z" {
		t.Errorf("clock: %d %v", s, c)
	}
	if resp, _ := e.do(http.MethodGet, "Customer.json", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token after advancing 90m: %d, want 401", resp.StatusCode)
	}
	if s, _ := e.admin("POST", "clock", `{"advance":"soon"}`); s != 400 {
		t.Errorf("bad advance: %d", s)
	}
	// Reset empties the account and forgets tokens.
	if s, _ := e.admin("POST", "reset", ""); s != 200 {
		t.Fatal("reset failed")
	}
	fresh := e.s.MintToken().AccessToken
	m := e.doGetWith(fresh, "Customer.json?count=1")
	if m["@attributes"].(map[string]any)["count"] != "0" {
		t.Errorf("after reset: %v", m)
	}
	if len(e.s.Tokens()) != 2 {
		t.Errorf("tokens after reset: %d, want only the one minted since", len(e.s.Tokens()))
	}
	if s, _ := e.admin("GET", "reset", ""); s != http.StatusMethodNotAllowed {
		t.Errorf("GET reset: %d", s)
	}
	if s, _ := e.admin("POST", "nope", ""); s != http.StatusNotFound {
		t.Errorf("unknown admin endpoint: %d", s)
	}
}

func (e *env) doGetWith(tok, path string) map[string]any {
	e.t.Helper()
	resp, b := e.doTok(tok, http.MethodGet, path, "")
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return decode(e.t, b)
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	dump := func(seed int64) []byte {
		e := seeded(t, seed, 3, 120, 300)
		var out bytes.Buffer
		for _, q := range []struct{ path, entity string }{
			{`Customer.json?archived=true&load_relations=["Contact","CustomFieldValues","Note","CreditAccount","CustomerType"]`, "Customer"},
			{`Sale.json?archived=true&load_relations=["SaleLines","SaleLines.Item","SalePayments","SalePayments.PaymentType","Customer"]`, "Sale"},
			{"Employee.json?archived=true", "Employee"}, {"Shop.json", "Shop"}, {"Register.json", "Register"},
			{"Item.json", "Item"}, {"PaymentType.json", "PaymentType"},
			{"Customer/CustomField.json?archived=true&load_relations=all", "CustomField"},
		} {
			for _, row := range e.listAll(q.path, q.entity) {
				b, _ := json.Marshal(row)
				out.Write(b)
			}
		}
		return out.Bytes()
	}
	a, b, c := dump(42), dump(42), dump(43)
	if len(a) < 10000 {
		t.Fatalf("dump suspiciously small: %d bytes", len(a))
	}
	if !bytes.Equal(a, b) {
		t.Error("same seed produced different data")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds produced the same data")
	}
}

// TestSeedExercisesQuirks checks the demo data contains every case the
// sync engine must handle.
func TestSeedExercisesQuirks(t *testing.T) {
	t.Parallel()
	e := seeded(t, 42, 3, 500, 2000)
	customers := e.listAll(`Customer.json?archived=true&load_relations=["Contact","CustomFieldValues"]`, "Customer")
	sales := e.listAll(`Sale.json?archived=true&load_relations=["SaleLines","SalePayments","SalePayments.PaymentType"]`, "Sale")

	has := map[string]bool{}
	emails := map[string]int{}
	for _, c := range customers {
		if c["archived"] == "true" {
			has["archived customer"] = true
		}
		name := c["firstName"].(string) + c["lastName"].(string)
		if strings.ContainsFunc(name, func(r rune) bool { return r > 127 }) {
			has["unicode name"] = true
		}
		contact := c["Contact"].(map[string]any)
		if contact["Emails"] == "" {
			has["customer without email"] = true
		} else {
			for _, em := range many(contact["Emails"].(map[string]any)["ContactEmail"]) {
				emails[em["address"].(string)]++
			}
		}
		if cfv, ok := c["CustomFieldValues"].(map[string]any); ok {
			for _, v := range many(cfv["CustomFieldValue"]) {
				has["custom field "+v["type"].(string)] = true
				if v["name"] == "Stylist" {
					has["Stylist value"] = true
				}
			}
		}
	}
	for _, n := range emails {
		if n > 1 {
			has["shared email"] = true
		}
	}
	for _, s := range sales {
		if s["voided"] == "true" {
			has["voided sale"] = true
		}
		if s["completed"] == "false" {
			has["open sale"] = true
		}
		if s["referenceNumberSource"] != "" {
			has["online sale"] = true
		}
		if l, ok := s["SaleLines"].(map[string]any); ok {
			for _, line := range many(l["SaleLine"]) {
				if strings.HasPrefix(line["unitQuantity"].(string), "-") && line["parentSaleLineID"] != "0" {
					has["refund line"] = true
				}
				if line["employeeID"] != s["employeeID"] {
					has["line employee differs from register employee"] = true
				}
			}
		}
		if p, ok := s["SalePayments"].(map[string]any); ok {
			pays := many(p["SalePayment"])
			types := map[string]bool{}
			for _, pay := range pays {
				pt := pay["PaymentType"].(map[string]any)["type"].(string)
				types[pt] = true
				if pt == "gift card" && pay["creditAccountID"] != "0" {
					has["gift card payment"] = true
				}
				if pt == "ecom" {
					has["ecom payment"] = true
				}
			}
			if types["cash"] && types["credit card"] {
				has["split cash and card"] = true
			}
		}
		if s["change"] != "0" {
			has["cash change"] = true
		}
	}
	emps := e.listAll("Employee.json?archived=true", "Employee")
	for _, em := range emps {
		if strings.HasSuffix(em["firstName"].(string), " ") {
			has["employee name with trailing space"] = true
		}
	}
	for _, want := range []string{"archived customer", "unicode name", "customer without email", "shared email",
		"custom field single_choice", "custom field boolean", "custom field string", "Stylist value", "voided sale", "open sale",
		"online sale", "refund line", "line employee differs from register employee", "gift card payment", "ecom payment",
		"split cash and card", "cash change", "employee name with trailing space"} {
		if !has[want] {
			t.Errorf("seed data has no %s", want)
		}
	}
	if len(customers) != 500 || len(sales) != 2000 {
		t.Errorf("seeded %d customers and %d sales, want 500 and 2000", len(customers), len(sales))
	}
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestLogOneDebugLineWithoutSecrets(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, sandbox.Options{Logger: logger, RedirectURIs: []string{redirect}})
	pair := e.s.MintToken()
	e.do(http.MethodGet, "Customer.json?firstName=x", "")
	e.tokenCall("form", refreshParams(pair.RefreshToken))
	e.admin("GET", "stats", "")
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("%d log lines for 3 requests:\n%s", n, out)
	}
	for _, secret := range []string{e.tok, pair.AccessToken, pair.RefreshToken, "tandem-dev-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains a secret:\n%s", out)
		}
	}
	if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "status=200") {
		t.Errorf("log lines lack level or status:\n%s", out)
	}
}
