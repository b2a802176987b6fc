package lightspeed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a controllable clock: Sleep advances it instantly and
// records the total slept.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept += d
	return nil
}

func (c *fakeClock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

const testAccount = 182255

// setup starts a server whose API lives under /prefix/ (so an absolute path
// in the client fails loudly) and a client for testAccount with a fake clock.
func setup(t *testing.T, tokens TokenProvider, mutate ...func(*Options)) (*Client, *http.ServeMux, *fakeClock) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle("/prefix/", http.StripPrefix("/prefix", mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base URL: %s %s", r.Method, r.URL)
		http.Error(w, "outside base URL", http.StatusTeapot)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	if tokens == nil {
		tokens = StaticToken{AccessToken: "secret-access-token-123", RefreshToken: "secret-refresh-456"}
	}
	opts := Options{
		BaseURL: srv.URL + "/prefix/", AccountID: testAccount, Tokens: tokens, ClientID: "tandem-dev",
		Now: clock.Now, Sleep: clock.Sleep,
	}
	for _, m := range mutate {
		m(&opts)
	}
	c, err := NewClient(srv.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux, clock
}

func acctPath(resource string) string {
	return fmt.Sprintf("/API/V3/Account/%d/%s", testAccount, resource)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestNewClientValidates(t *testing.T) {
	t.Parallel()
	tok := StaticToken{AccessToken: "x"}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no account", Options{Tokens: tok}, "AccountID is required"},
		{"no tokens", Options{AccountID: 1}, "Tokens is required"},
		{"bad url", Options{AccountID: 1, Tokens: tok, BaseURL: "::nope"}, "invalid BaseURL"},
		{"relative url", Options{AccountID: 1, Tokens: tok, BaseURL: "/api"}, "invalid BaseURL"},
	}
	for _, tt := range tests {
		if _, err := NewClient(nil, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCustomersGet(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET "+acctPath("Customer/42.json"), func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer secret-access-token-123" {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("Accept = %q", got)
		}
		if got := r.URL.Query().Get("load_relations"); got != `["Contact","CustomerType","CustomFieldValues"]` {
			t.Errorf("load_relations = %q", got)
		}
		w.Header().Set("X-LS-API-Bucket-Level", "1.5/90")
		w.Header().Set("X-LS-API-Drip-Rate", "1.5")
		w.Header().Set("X-LS-API-Burst-Level", "1/20")
		w.Header().Set("X-LS-API-Request-Cost", "1.3")
		writeJSON(w, 200, customerFixture)
	})
	cust, resp, err := c.Customers.Get(t.Context(), 42, NewQuery().LoadRelations("Contact", "CustomerType", "CustomFieldValues"))
	if err != nil {
		t.Fatal(err)
	}
	if cust.CustomerID != 42 || cust.Contact.Email("Primary") != "marie@example.com" || len(cust.CustomFieldValues) != 2 {
		t.Errorf("customer = %+v", cust)
	}
	want := BucketState{Level: 1.5, Size: 90, DripRate: 1.5, BurstLevel: 1, BurstLimit: 20, LastCost: 1.3}
	if diff := cmp.Diff(want, resp.Bucket); diff != "" {
		t.Errorf("bucket (-want +got):\n%s", diff)
	}
	if resp.Attempts != 1 {
		t.Errorf("attempts = %d", resp.Attempts)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		is       error
		wantText []string
	}{
		{"404", 404, `{"httpCode":"404","httpMessage":"Not Found","message":"Customer 999 not found.","errorClass":"NotFoundException"}`,
			ErrNotFound, []string{"404", "NotFoundException", "Customer 999 not found."}},
		{"400 blank", 400, `{"httpCode":"400","httpMessage":"Bad Request","message":"firstName cannot be blank.","errorClass":"Exception"}`,
			nil, []string{"400", "firstName cannot be blank."}},
		{"401 current", 401, `{"error":"access_denied","error_description":"The resource owner or authorization server denied the request.","hint":"Access token could not be verified"}`,
			ErrUnauthorized, []string{"access_denied", "Access token could not be verified"}},
		{"401 2017", 401, `{"httpCode":"401","httpMessage":"Unauthorized","message":"Invalid access token.","errorClass":"BadAuthenticationRequestError"}`,
			ErrUnauthorized, []string{"BadAuthenticationRequestError", "Invalid access token."}},
		{"403", 403, `{"httpCode":"403","httpMessage":"Forbidden","message":"Missing scope.","errorClass":"Exception"}`,
			ErrForbidden, []string{"Missing scope."}},
		{"422", 422, `{"httpCode":"422","httpMessage":"Unprocessable Entity","message":"UPC already exists","errorClass":"Exception"}`,
			nil, []string{"already exists"}},
		{"html body", 400, `<html>oops</html>`, nil, []string{"<html>oops</html>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, nil)
			mux.HandleFunc("GET "+acctPath("Customer/999.json"), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=UTF-8") // the 2016 quirk
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, resp, err := c.Customers.Get(t.Context(), 999, nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %T %v, want *APIError", err, err)
			}
			if apiErr.StatusCode != tt.status || resp.StatusCode != tt.status {
				t.Errorf("status = %d", apiErr.StatusCode)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) = false", tt.is)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "secret-access-token") {
				t.Errorf("token leaked: %v", err)
			}
			if resp.Attempts != 1 {
				t.Errorf("4xx retried: %d attempts", resp.Attempts)
			}
		})
	}
}

func TestSecretsRedactedFromErrors(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET "+acctPath("Customer.json"), func(w http.ResponseWriter, r *http.Request) {
		// A server echoing what it was sent must not leak it through us.
		writeJSON(w, 400, `{"httpCode":"400","message":"bad token secret-access-token-123 in `+r.URL.RawQuery+`"}`)
	})
	_, _, err := c.Customers.List(t.Context(), NewQuery().Set("access_token", "querysecret9").Set("client_secret", "cs-secret-1"))
	if err == nil {
		t.Fatal("want error")
	}
	for _, s := range []string{"secret-access-token-123", "querysecret9", "cs-secret-1"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error leaks %q: %v", s, err)
		}
	}
	if !strings.Contains(err.Error(), redacted) {
		t.Errorf("error should show redaction: %v", err)
	}
}

func TestRetriesTransientThenSucceeds(t *testing.T) {
	t.Parallel()
	c, mux, clock := setup(t, nil)
	var calls atomic.Int32
	mux.HandleFunc("GET "+acctPath("Shop.json"), func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			writeJSON(w, 503, `{"httpCode":"503","httpMessage":"Service Unavailable","message":"down"}`)
		case 2:
			w.Header().Set("Retry-After", "3")
			w.Header().Set("X-LS-API-RateLimit-Type", "api-leaky-bucket")
			writeJSON(w, 429, `{"httpCode":"429","httpMessage":"Too Many Requests","message":"slow down","errorClass":"RateLimitExceeded"}`)
		case 3:
			writeJSON(w, 502, `bad gateway`)
		default:
			writeJSON(w, 200, `{"@attributes":{"next":"","previous":""},"Shop":{"shopID":"1","name":"Main"}}`)
		}
	})
	shops, resp, err := c.Shops.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(shops) != 1 || shops[0].Name != "Main" || resp.Attempts != 4 {
		t.Errorf("shops = %+v, attempts = %d", shops, resp.Attempts)
	}
	if clock.Slept() < 3*time.Second {
		t.Errorf("slept %s, want at least the 3s Retry-After", clock.Slept())
	}
}

func TestLongRetryAfterSurfacesRateLimitError(t *testing.T) {
	t.Parallel()
	c, mux, clock := setup(t, nil, func(o *Options) { o.MaxWait = 5 * time.Second })
	var calls atomic.Int32
	mux.HandleFunc("GET "+acctPath("Sale.json"), func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "60")
		w.Header().Set("X-LS-API-RateLimit-Type", "api-burst-limiter")
		writeJSON(w, 429, `{"httpCode":"429","httpMessage":"Too Many Requests","message":"burst rate limit exceeded","errorClass":"RateLimitExceeded"}`)
	})
	_, _, err := c.Sales.List(t.Context(), nil)
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want *RateLimitError", err)
	}
	if rl.RetryAfter != 60*time.Second || rl.Type != "api-burst-limiter" || rl.Err == nil || rl.Err.Message != "burst rate limit exceeded" {
		t.Errorf("RateLimitError = %+v", rl)
	}
	if calls.Load() != 1 || clock.Slept() != 0 {
		t.Errorf("calls = %d, slept = %s; want one call, no sleep", calls.Load(), clock.Slept())
	}
	// The bucket now believes it is full, so the next call is refused
	// locally (no request) with a wait the job can snooze on.
	_, _, err = c.Sales.List(t.Context(), nil)
	if !errors.As(err, &rl) || rl.Type != "client-leaky-bucket" || rl.RetryAfter < 50*time.Second {
		t.Errorf("second call err = %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("second call reached the server")
	}
}

func TestPostNotRetriedOn500(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	var calls atomic.Int32
	mux.HandleFunc("POST "+acctPath("Customer.json"), func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 500, `{"httpCode":"500","message":"boom"}`)
	})
	_, _, err := c.Customers.Create(t.Context(), CustomerWrite{FirstName: Ptr("A")})
	if err == nil || calls.Load() != 1 {
		t.Errorf("err = %v, calls = %d; want one call", err, calls.Load())
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil, func(o *Options) { o.MaxRetries = 2 })
	var calls atomic.Int32
	mux.HandleFunc("GET "+acctPath("Item.json"), func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 503, `{"httpCode":"503","message":"maintenance"}`)
	})
	_, _, err := c.Items.List(t.Context(), nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !apiErr.Temporary() {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 3 {
		t.Errorf("calls = %d, want 3", calls.Load())
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET "+acctPath("Item.json"), func(w http.ResponseWriter, r *http.Request) {
		cancel()
		writeJSON(w, 503, `{}`)
	})
	_, _, err := c.Items.List(ctx, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestListIterFollowsNext(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	var seen []string
	mux.HandleFunc("GET "+acctPath("Customer.json"), func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.RawQuery)
		q := r.URL.Query()
		switch q.Get("after") {
		case "":
			if q.Get("limit") != "100" || q.Get("timeStamp") != ">=,2024-01-01T00:00:00+00:00" || q.Get("sort") != "timeStamp" {
				t.Errorf("first page query = %s", r.URL.RawQuery)
			}
			// An absolute next URL on another host: only its query is used.
			writeJSON(w, 200, `{"@attributes":{"next":"https://api.lightspeedapp.com/API/V3/Account/182255/Customer.json?sort=timeStamp&timeStamp=%3E%3D%2C2024-01-01T00%3A00%3A00%2B00%3A00&limit=100&after=WzJd","previous":""},
				"Customer":[{"customerID":"1"},{"customerID":"2"}]}`)
		case "WzJd":
			writeJSON(w, 200, `{"@attributes":{"next":"https://api.lightspeedapp.com/API/V3/Account/182255/Customer.json?limit=100&after=WzNd","previous":"x"},
				"Customer":{"customerID":"3"}}`)
		case "WzNd":
			writeJSON(w, 200, `{"@attributes":{"next":"","previous":"y"}}`)
		default:
			t.Errorf("unexpected after %q", q.Get("after"))
		}
	})
	q := NewQuery().Where("timeStamp", GreaterEq, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)).Sort("timeStamp", false)
	var ids []int64
	for cust, err := range c.Customers.ListIter(t.Context(), q) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cust.CustomerID)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if len(seen) != 3 {
		t.Errorf("requests = %d, want 3", len(seen))
	}
	if enc, _ := q.Encode(); strings.Contains(enc, "limit") {
		t.Errorf("iterator mutated the caller's query: %s", enc)
	}
}

func TestListIterStopsEarlyAndOnError(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	var calls atomic.Int32
	mux.HandleFunc("GET "+acctPath("Employee.json"), func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Query().Get("after") == "" {
			writeJSON(w, 200, `{"@attributes":{"next":"http://x/?after=a"},"Employee":[{"employeeID":"1"},{"employeeID":"2"}]}`)
			return
		}
		writeJSON(w, 404, `{"httpCode":"404","message":"gone"}`)
	})
	for range c.Employees.ListIter(t.Context(), nil) {
		break
	}
	if calls.Load() != 1 {
		t.Errorf("break still fetched: %d calls", calls.Load())
	}
	var n int
	var last error
	for e, err := range c.Employees.ListIter(t.Context(), nil) {
		if err != nil {
			last = err
			continue
		}
		n += int(e.EmployeeID)
	}
	if n != 3 || !errors.Is(last, ErrNotFound) {
		t.Errorf("sum = %d, last err = %v", n, last)
	}
}

func TestListIterRepeatingNextStops(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET "+acctPath("Register.json"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"@attributes":{"next":"http://x/?after=same"},"Register":{"registerID":"1"}}`)
	})
	var err error
	n := 0
	for _, e := range c.Registers.ListIter(t.Context(), nil) {
		if e != nil {
			err = e
			break
		}
		n++
	}
	if err == nil || !strings.Contains(err.Error(), "repeats") || n != 2 {
		t.Errorf("n = %d, err = %v", n, err)
	}
}

func TestListIterV2Offsets(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET "+acctPath("PaymentType.json"), func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("offset") {
		case "":
			writeJSON(w, 200, `{"@attributes":{"count":"3","offset":"0","limit":"2"},"PaymentType":[{"paymentTypeID":"1"},{"paymentTypeID":"2"}]}`)
		case "2":
			writeJSON(w, 200, `{"@attributes":{"count":"3","offset":"2","limit":"2"},"PaymentType":{"paymentTypeID":"3"}}`)
		default:
			t.Errorf("offset %q", r.URL.Query().Get("offset"))
		}
	})
	var ids []int64
	for p, err := range c.PaymentTypes.ListIter(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.PaymentTypeID)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

func TestAccountsListAndGet(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET /API/V3/Account.json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"@attributes":{"count":"2"},"Account":[{"accountID":"182255","name":"A"},{"accountID":"7","name":"B"}]}`)
	})
	mux.HandleFunc("GET /API/V3/Account/182255.json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"@attributes":{"systemCustomerID":"182255"},"status":"customer","name":"A","defaultCurrency":{"code":"USD","symbol":"$"}}`)
	})
	accts, _, err := c.Accounts.List(t.Context())
	if err != nil || len(accts) != 2 || accts[1].AccountID != 7 {
		t.Fatalf("List = %+v, %v", accts, err)
	}
	a, _, err := c.Accounts.Get(t.Context())
	if err != nil || a.AccountID != 182255 || a.DefaultCurrency.Code != "USD" {
		t.Fatalf("Get = %+v, %v", a, err)
	}
}

func TestCustomerWriteBody(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	var got map[string]any
	mux.HandleFunc("PUT "+acctPath("Customer/42.json"), func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		writeJSON(w, 200, `{"@attributes":{"count":"1"},"Customer":{"customerID":"42","firstName":"Marie"}}`)
	})
	dob := time.Date(1988, 5, 14, 4, 0, 0, 0, time.UTC)
	cust, _, err := c.Customers.Update(t.Context(), 42, CustomerWrite{
		FirstName: Ptr("Marie"), LastName: Ptr(""), DOB: &dob, CustomerTypeID: Ptr(int64(2)), Archived: Ptr(false),
		Contact: &ContactWrite{
			NoEmail: Ptr(false),
			Phones:  []ContactPhone{{Number: "514-555-0142", UseType: "Mobile"}, {Number: "", UseType: "Home"}},
			Emails:  []ContactEmail{{Address: "marie@example.com", UseType: "Primary"}},
			Address: &ContactAddress{Address1: "1 Main St", City: "Seattle", StateCode: "WA", Zip: "98101", CountryCode: "US"},
		},
		CustomFieldValues: []CustomFieldValueWrite{{CustomFieldID: 6, Value: "true"}, {CustomFieldID: 9, Deleted: true}},
		Note:              Ptr("likes blue"),
	})
	if err != nil || cust.CustomerID != 42 {
		t.Fatalf("Update = %+v, %v", cust, err)
	}
	want := map[string]any{
		"firstName": "Marie", "lastName": "", "dob": "1988-05-14T04:00:00+00:00", "customerTypeID": "2", "archived": "false",
		"Contact": map[string]any{
			"noEmail": "false",
			"Phones": map[string]any{"ContactPhone": []any{
				map[string]any{"number": "514-555-0142", "useType": "Mobile"},
				map[string]any{"number": "", "useType": "Home"},
			}},
			"Emails": map[string]any{"ContactEmail": map[string]any{"address": "marie@example.com", "useType": "Primary"}},
			"Addresses": map[string]any{"ContactAddress": map[string]any{
				"address1": "1 Main St", "address2": "", "city": "Seattle", "state": "", "stateCode": "WA",
				"zip": "98101", "country": "", "countryCode": "US",
			}},
		},
		"CustomFieldValues": map[string]any{"CustomFieldValue": []any{
			map[string]any{"customFieldID": "6", "value": "true"},
			map[string]any{"customFieldID": "9", "value": "", "deleted": "true"},
		}},
		"Note": map[string]any{"note": "likes blue"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestGetEmptyResponseIsError(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET "+acctPath("Item/5.json"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"@attributes":{"count":"0"}}`)
	})
	if _, _, err := c.Items.Get(t.Context(), 5, nil); err == nil || !strings.Contains(err.Error(), "no Item") {
		t.Errorf("err = %v", err)
	}
	mux.HandleFunc("GET "+acctPath("Item/6.json"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `not json`)
	})
	if _, _, err := c.Items.Get(t.Context(), 6, nil); err == nil {
		t.Error("malformed body: want error")
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET "+acctPath("Customer.json"), func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("count") != "1" || q.Has("limit") || q.Has("sort") {
			t.Errorf("count query = %s", r.URL.RawQuery)
		}
		writeJSON(w, 200, `{"@attributes":{"count":"764"}}`)
	})
	n, err := c.Customers.Count(t.Context(), NewQuery().Sort("timeStamp", false).Limit(10))
	if err != nil || n != 764 {
		t.Errorf("Count = %d, %v", n, err)
	}
}

func BenchmarkClientOverheadHTTPTest(b *testing.B) {
	body := `{"@attributes":{"count":"1"},"Customer":{"customerID":"42","firstName":"Marie"}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-LS-API-Bucket-Level", "0/1000000")
		w.Header().Set("X-LS-API-Drip-Rate", "1000000")
		writeJSON(w, 200, body)
	}))
	defer srv.Close()
	c, err := NewClient(srv.Client(), Options{BaseURL: srv.URL, AccountID: 1, Tokens: StaticToken{AccessToken: "t"},
		Limits: NewLimits(LimitsOptions{DefaultSize: 1e6, DefaultDripRate: 1e6, DefaultBurst: 1 << 30})})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Customers.Get(ctx, 42, nil); err != nil {
			b.Fatal(err)
		}
	}
}
