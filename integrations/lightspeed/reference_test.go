package lightspeed

// Table tests that feed the client the forms the reference lists (section
// numbers refer to shared/reference/lightspeed-retail.md).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// §3.1, §4.12: the documented V3 page decodes, its absolute next URL on
// api.lightspeedapp.com is followed on the client's own host with the
// cursor intact, and the last page (next "") with a one-row object ends
// the iteration.
func TestReferenceV3CursorPage(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	const cursor = "WyIyMDI0LTAxLTA1VDE3OjAyOjExKzAwOjAwIiw1MV0%3D"
	var calls atomic.Int32
	mux.HandleFunc("GET "+acctPath("Customer.json"), func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if !strings.Contains(r.URL.RawQuery, "after="+cursor) {
			writeJSON(w, 200, refPage412)
			return
		}
		if !strings.Contains(r.URL.RawQuery, "timeStamp=%3E%2C2024-01-01T00%3A00%3A00%2B00%3A00") {
			t.Errorf("next query lost its filter: %s", r.URL.RawQuery)
		}
		writeJSON(w, 200, `{"@attributes":{"next":"","previous":"https:\/\/api.lightspeedapp.com\/API\/V3\/Account\/182255\/Customer.json?before=x"},`+
			`"Customer":{"customerID":"60","firstName":"Cy","timeStamp":"2024-01-06T08:00:00+00:00","archived":"true"}}`)
	})
	var ids []int64
	for cu, err := range c.Customers.ListIter(t.Context(), NewQuery().Sort("timeStamp", false)) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cu.CustomerID)
	}
	if diff := cmp.Diff([]int64{49, 51, 60}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if calls.Load() != 2 {
		t.Errorf("calls = %d, want 2", calls.Load())
	}

	got, resp, err := c.Customers.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].CustomerTypeID != 2 || !got[0].TimeStamp.Equal(mustTime(t, "2024-01-03T09:15:00Z")) {
		t.Errorf("page = %+v", got)
	}
	if !strings.HasSuffix(resp.Next, "after="+cursor) || !strings.Contains(resp.Previous, "before=") {
		t.Errorf("Next = %q, Previous = %q", resp.Next, resp.Previous)
	}
}

// §3.1, §3.2: empty results in every envelope end a listing without error.
func TestReferenceEmptyPages(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"@attributes":{"next":"","previous":""}}`,                // V3 (presumed form)
		`{"@attributes":{"count":"0"}}`,                            // V2 2016 cassette
		`{"@attributes":{"count":"0","offset":"0","limit":"100"}}`, // V2 with paging attributes
		`{"@attributes":{"next":"","previous":""},"Customer":""}`,  // loaded-but-empty form
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, nil)
			mux.HandleFunc("GET "+acctPath("Customer.json"), func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, body)
			})
			n := 0
			for _, err := range c.Customers.ListIter(t.Context(), nil) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != 0 {
				t.Errorf("yielded %d customers", n)
			}
		})
	}
}

// §4.13, §4.14: the documented single-record responses decode through Get.
func TestReferenceSingleRecords(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET "+acctPath("Customer/42.json"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, refCustomer413)
	})
	mux.HandleFunc("GET "+acctPath("Sale/1204.json"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, refSale414)
	})
	cu, _, err := c.Customers.Get(t.Context(), 42, NewQuery().LoadRelations("Contact", "CustomerType", "CustomFieldValues"))
	if err != nil {
		t.Fatal(err)
	}
	ct := cu.Contact
	if ct == nil || ct.Email("Primary") != "marie@example.com" || ct.Phone("Mobile") != "514-555-0142" ||
		ct.Address().StateCode != "QC" || len(ct.Websites) != 0 || !ct.NoPhone || ct.NoEmail {
		t.Errorf("contact = %+v", ct)
	}
	if len(cu.CustomFieldValues) != 2 || cu.CustomFieldValues[1].Value != "Gold" || cu.CustomerType == nil || cu.CustomerType.Name != "Loyalty" {
		t.Errorf("relations = %+v, %+v", cu.CustomFieldValues, cu.CustomerType)
	}
	if !cu.DOB.Equal(mustTime(t, "1988-05-14T04:00:00Z")) || cu.NoteID != 88 {
		t.Errorf("customer = %+v", cu)
	}

	s, _, err := c.Sales.Get(t.Context(), 1204, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.UpdateTime.Equal(mustTime(t, "2024-03-09T19:12:45Z")) || !s.Completed || s.Voided ||
		!s.Tax2Rate.Equal(d("0.09975")) || !s.TaxTotal.Equal(d("7.49")) || s.TicketNumber != "220000001204" {
		t.Errorf("sale scalars = %+v", s)
	}
	if len(s.SaleLines) != 2 || s.SaleLines[0].UnitQuantity != 2 || !s.SaleLines[1].CalcTotal.Equal(d("11.4860025")) ||
		s.SaleLines[1].EmployeeID != 3 {
		t.Errorf("lines = %+v", s.SaleLines)
	}
	if len(s.SalePayments) != 1 || s.SalePayments[0].PaymentType == nil || s.SalePayments[0].PaymentType.Code != "Credit Card" ||
		s.SalePayments[0].PaymentID != "6f1c2a7e-0d3b-4c55-9b7a-2d4e8f1a9c30" {
		t.Errorf("payments = %+v", s.SalePayments)
	}
	if s.Customer == nil || s.Customer.Company != "Atelier Nord" || s.Channel() != "in-store" {
		t.Errorf("customer = %+v, channel = %q", s.Customer, s.Channel())
	}
}

// §1.6: both eras of 401 body decode, match ErrUnauthorized and keep the
// server's words.
func TestReference401Bodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, wantText, wantClass, wantCode string
	}{
		{"current", `{"error":"access_denied","error_description":"The resource owner or authorization server denied the request.","hint":"Access token could not be verified"}`,
			"The resource owner or authorization server denied the request. Access token could not be verified", "", "access_denied"},
		{"current revoked", `{"error":"access_denied","error_description":"The resource owner or authorization server denied the request.","hint":"Access token has been revoked"}`,
			"The resource owner or authorization server denied the request. Access token has been revoked", "", "access_denied"},
		{"2017", `{"httpCode":"401","httpMessage":"Unauthorized","message":"Invalid username/password or API key.","errorClass":"BadAuthenticationRequestError"}`,
			"Invalid username/password or API key.", "BadAuthenticationRequestError", ""},
		{"2018", `{"httpCode":"401","httpMessage":"Unauthorized","message":"Invalid access token.","errorClass":"BadAuthenticationRequestError"}`,
			"Invalid access token.", "BadAuthenticationRequestError", ""},
		{"2023", `{"httpCode":"401","httpMessage":"Unauthorized","message":"Token has expired","errorClass":"BadAuthenticationRequestError"}`,
			"Token has expired", "BadAuthenticationRequestError", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, nil)
			mux.HandleFunc("GET "+acctPath("Shop.json"), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Www-Authenticate", `Basic realm="MerchantOS API"`)
				writeJSON(w, 401, tt.body)
			})
			_, _, err := c.Shops.List(t.Context(), nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("err = %v", err)
			}
			if apiErr.Text() != tt.wantText || apiErr.ErrorClass != tt.wantClass || apiErr.Code != tt.wantCode {
				t.Errorf("text %q class %q code %q", apiErr.Text(), apiErr.ErrorClass, apiErr.Code)
			}
			if strings.Contains(err.Error(), "secret-access-token-123") {
				t.Errorf("token in error: %v", err)
			}
		})
	}
}

// §5.4, §7.10: resource error bodies of every era, including JSON sent as
// text/html and httpCode as a number.
func TestReferenceResourceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *APIError
		is          error
	}{
		{"400 blank", 400, "application/json", `{"httpCode":"400","httpMessage":"Bad Request","message":"name cannot be blank.","errorClass":"Exception"}`,
			&APIError{StatusCode: 400, HTTPCode: "400", HTTPMessage: "Bad Request", Message: "name cannot be blank.", ErrorClass: "Exception"}, nil},
		{"2016 text/html", 400, "text/html; charset=UTF-8", `{"httpCode":"400","httpMessage":"Bad Request","message":"Item not created. An Item must have a description.","errorClass":"Exception"}`,
			&APIError{StatusCode: 400, HTTPCode: "400", HTTPMessage: "Bad Request", Message: "Item not created. An Item must have a description.", ErrorClass: "Exception"}, nil},
		{"422 numeric code", 422, "application/json", `{"httpCode":422,"httpMessage":"Unprocessable Entity","message":"EAN 123 already exists","errorClass":"Exception"}`,
			&APIError{StatusCode: 422, HTTPCode: "422", HTTPMessage: "Unprocessable Entity", Message: "EAN 123 already exists", ErrorClass: "Exception"}, nil},
		{"404", 404, "application/json", `{"httpCode":"404","httpMessage":"Not Found","message":"Customer not found","errorClass":"NotFoundException"}`,
			&APIError{StatusCode: 404, HTTPCode: "404", HTTPMessage: "Not Found", Message: "Customer not found", ErrorClass: "NotFoundException"}, ErrNotFound},
		{"403 scope", 403, "application/json", `{"httpCode":"403","httpMessage":"Forbidden","message":"insufficient scope","errorClass":"Exception"}`,
			&APIError{StatusCode: 403, HTTPCode: "403", HTTPMessage: "Forbidden", Message: "insufficient scope", ErrorClass: "Exception"}, ErrForbidden},
		{"not JSON", 405, "text/html", `<html>Method Not Allowed</html>`,
			&APIError{StatusCode: 405, Body: "<html>Method Not Allowed</html>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, nil)
			mux.HandleFunc("GET "+acctPath("Customer/7.json"), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			_, _, err := c.Customers.Get(t.Context(), 7, nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v", err)
			}
			got := *apiErr
			got.Method, got.URL = "", ""
			if diff := cmp.Diff(*tt.want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) = false", tt.is)
			}
		})
	}
}

// §1.3, §1.4: every token-endpoint success form decodes.
func TestReferenceTokenResponses(t *testing.T) {
	t.Parallel()
	now := newFakeClock().Now()
	jwt := fakeJWT(fmt.Sprintf(`{"iss":"https://cloud.lightspeedapp.com","acct":"120645","scope":"employee:all","iat":%d.2479,"exp":%d.2479}`, now.Unix(), now.Add(time.Hour).Unix()))
	tests := []struct {
		name       string
		body       string
		wantExpiry time.Time
		wantAcct   int64
		wantScope  string
	}{
		{"current", `{"token_type":"Bearer","expires_in":3600,"access_token":"` + jwt + `","refresh_token":"def50200abc"}`,
			now.Add(time.Hour), 120645, ""},
		{"refresh example lifetime", `{"token_type":"Bearer","expires_in":1800,"access_token":"opaque","refresh_token":"def50200abc"}`,
			now.Add(30 * time.Minute), 0, ""},
		{"legacy scope", `{"access_token":"legacy","expires_in":"3600","token_type":"bearer","scope":"employee:inventory employee:reports systemuserid:393608","refresh_token":"r"}`,
			now.Add(time.Hour), 0, "employee:inventory employee:reports systemuserid:393608"},
		{"2016 expiry_time 0", `{"access_token":"legacy","expiry_time":0,"scope":"employee:all systemuserid:1","refresh_token":"r"}`,
			time.Time{}, 0, "employee:all systemuserid:1"},
		{"expiry from JWT", `{"access_token":"` + jwt + `","refresh_token":"r"}`,
			time.Unix(now.Add(time.Hour).Unix(), 247900000), 120645, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, tt.body)
			}))
			t.Cleanup(srv.Close)
			cfg := &Config{ClientID: "c", Endpoint: LegacyEndpoint(srv.URL), HTTPClient: srv.Client(), Now: func() time.Time { return now }}
			tok, err := cfg.Exchange(t.Context(), "code", "")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.AccountID != tt.wantAcct || tok.Scope != tt.wantScope ||
				!tok.Expiry.Round(time.Millisecond).Equal(tt.wantExpiry.Round(time.Millisecond)) {
				t.Errorf("token = %s expiry %s scope %q", tok, tok.Expiry, tok.Scope)
			}
		})
	}
}

// §1.3, §1.5: token-endpoint errors keep their words; only invalid_grant
// means "authorize again".
func TestReferenceTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		body      string
		wantGrant bool
		wantCode  string
	}{
		{400, `{"error":"invalid_grant","error_description":"The refresh token is invalid.","hint":"Token has been revoked"}`, true, "invalid_grant"},
		{400, `{"error":"invalid_request","error_description":"The request is missing a required parameter","hint":"Check the refresh_token parameter","message":"The request is missing a required parameter"}`, false, "invalid_request"},
		{401, `{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}`, false, "invalid_client"},
		{405, `{"error":"invalid_request"}`, false, "invalid_request"},
		{400, `{"error":"invalid_scope","error_description":"The requested scope is invalid"}`, false, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.wantCode+fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, tt.status, tt.body)
			}))
			t.Cleanup(srv.Close)
			cfg := &Config{ClientID: "c", ClientSecret: "s3cr3t-value", Endpoint: CurrentEndpoint(srv.URL), HTTPClient: srv.Client()}
			_, err := cfg.Refresh(t.Context(), "def50200-refresh")
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Code != tt.wantCode || !strings.Contains(err.Error(), tt.wantCode) {
				t.Fatalf("err = %v", err)
			}
			if errors.Is(err, ErrInvalidGrant) != tt.wantGrant {
				t.Errorf("errors.Is(ErrInvalidGrant) = %v, want %v", !tt.wantGrant, tt.wantGrant)
			}
			if strings.Contains(err.Error(), "def50200-refresh") || strings.Contains(err.Error(), "s3cr3t-value") {
				t.Errorf("secret in error: %v", err)
			}
		})
	}
}

// §1.1: the three endpoint generations (and the us.merchantos.com alias)
// produce the documented URLs.
func TestReferenceEndpointGenerations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got  Endpoint
		want Endpoint
	}{
		{LegacyEndpoint("https://cloud.merchantos.com"), Endpoint{
			AuthorizeURL: "https://cloud.merchantos.com/oauth/authorize.php", TokenURL: "https://cloud.merchantos.com/oauth/access_token.php"}},
		{LegacyEndpoint("https://cloud.lightspeedapp.com/"), Endpoint{
			AuthorizeURL: "https://cloud.lightspeedapp.com/oauth/authorize.php", TokenURL: "https://cloud.lightspeedapp.com/oauth/access_token.php"}},
		{CurrentEndpoint(DefaultAuthURL), Endpoint{
			AuthorizeURL: "https://cloud.lightspeedapp.com/auth/oauth/authorize", TokenURL: "https://cloud.lightspeedapp.com/auth/oauth/token",
			RevokeURL: "https://cloud.lightspeedapp.com/auth/oauth/revoke"}},
		{CurrentEndpoint("https://us.merchantos.com"), Endpoint{
			AuthorizeURL: "https://us.merchantos.com/auth/oauth/authorize", TokenURL: "https://us.merchantos.com/auth/oauth/token",
			RevokeURL: "https://us.merchantos.com/auth/oauth/revoke"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("endpoint (-want +got):\n%s", diff)
		}
	}
}

// §1.4 and Tandem's decisions: a token that lives less than RefreshAhead
// (pre-2024 servers answered a refresh with the same access token and only
// its remaining lifetime; the sandbox issues short-lived tokens) must not be
// refreshed again on every call.
func TestReferenceShortLivedTokensNotRefreshedEveryCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rotate bool // current server: new pair each time
	}{
		{"pre-2024 same access token", false},
		{"short-lived rotating tokens", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				access := "same-access"
				if tt.rotate {
					access = fmt.Sprintf("access-%d", n)
				}
				writeJSON(w, 200, fmt.Sprintf(`{"token_type":"Bearer","expires_in":120,"access_token":%q,"refresh_token":"r-%d"}`, access, n))
			}))
			t.Cleanup(srv.Close)
			cfg := &Config{ClientID: "c", Endpoint: CurrentEndpoint(srv.URL), HTTPClient: srv.Client(), Now: clock.Now}
			src, err := NewTokenSource(cfg, Token{AccessToken: "same-access", RefreshToken: "r-0", Expiry: clock.Now().Add(4 * time.Minute)},
				TokenSourceOptions{Persist: func(context.Context, Token) error { return nil }})
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if _, err := src.Token(t.Context()); err != nil {
					t.Fatal(err)
				}
				clock.Sleep(t.Context(), 5*time.Second)
			}
			if got := calls.Load(); got != 1 {
				t.Errorf("refreshes within the first 25s = %d, want 1", got)
			}
			clock.Sleep(t.Context(), 40*time.Second) // past half the 120s lifetime
			tok, err := src.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := calls.Load(); got != 2 {
				t.Errorf("refreshes after half the lifetime = %d, want 2", got)
			}
			if !tok.Valid(clock.Now(), 0) {
				t.Errorf("token not valid: %s", tok)
			}
		})
	}
}

// §2.3, §2.2, §0: rate headers of every era and spelling are read.
func TestReferenceRateHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		want    BucketState
	}{
		{"2026 success", map[string]string{"X-LS-API-Bucket-Level": "1/90", "X-LS-API-Burst-Level": "1/20", "X-LS-API-Drip-Rate": "1", "X-LS-API-Request-Cost": "1"},
			BucketState{Level: 1, Size: 90, DripRate: 1, BurstLevel: 1, BurstLimit: 20, LastCost: 1}},
		{"docs X-LS-Api spelling, fractional drip", map[string]string{"X-LS-Api-Bucket-Level": "12.5/110", "X-LS-Api-Drip-Rate": "1.5"},
			BucketState{Level: 12.5, Size: 110, DripRate: 1.5}},
		{"2016 legacy level only", map[string]string{"X-Ls-Api-Bucket-Level": "37.460243701934/90"},
			BucketState{Level: 37.460243701934, Size: 90}},
		{"overflow level", map[string]string{"X-LS-API-Bucket-Level": "92.57/90", "X-LS-API-Drip-Rate": "1"},
			BucketState{Level: 92.57, Size: 90, DripRate: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, nil)
			mux.HandleFunc("GET "+acctPath("Shop.json"), func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header()[k] = []string{v} // as sent, not canonicalised
				}
				writeJSON(w, 200, `{"@attributes":{"next":"","previous":""}}`)
			})
			_, resp, err := c.Shops.List(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.Bucket); diff != "" {
				t.Errorf("bucket (-want +got):\n%s", diff)
			}
		})
	}
}

// §2.3, §5.4: 429 in both limiter types and 503 are retried after
// Retry-After (seconds or HTTP date), even for a POST.
func TestReferenceThrottleResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter func(now time.Time) string
		limitType  string
		wantSleep  time.Duration
	}{
		{"429 leaky bucket", 429, func(time.Time) string { return "3" }, "api-leaky-bucket", 3 * time.Second},
		{"429 burst", 429, func(time.Time) string { return "1" }, "api-burst-limiter", time.Second},
		{"429 HTTP date", 429, func(now time.Time) string { return now.Add(4 * time.Second).Format(http.TimeFormat) }, "", 4 * time.Second},
		{"503 throttled", 503, func(time.Time) string { return "2" }, "", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, clock := setup(t, nil)
			var calls atomic.Int32
			mux.HandleFunc("POST "+acctPath("Customer.json"), func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.retryAfter(clock.Now()))
					if tt.limitType != "" {
						w.Header().Set("X-LS-API-RateLimit-Type", tt.limitType)
					}
					writeJSON(w, tt.status, `{"httpCode":"429","httpMessage":"Too Many Requests","message":"slow down","errorClass":"RateLimitExceeded"}`)
					return
				}
				writeJSON(w, 200, `{"@attributes":{"count":"1"},"Customer":{"customerID":"900","firstName":"Jane"}}`)
			})
			cu, resp, err := c.Customers.Create(t.Context(), CustomerWrite{FirstName: Ptr("Jane")})
			if err != nil {
				t.Fatal(err)
			}
			if cu.CustomerID != 900 || resp.Attempts != 2 {
				t.Errorf("customer %d after %d attempts", cu.CustomerID, resp.Attempts)
			}
			if clock.Slept() < tt.wantSleep {
				t.Errorf("slept %s, want at least %s", clock.Slept(), tt.wantSleep)
			}
		})
	}
}

// §4.8, §5.3: SaleLine has both a "note" payload field and a "Note"
// relation; decoding matches names case-insensitively (for updatetime and
// updateTime), which must not send a lowercase scalar into a relation.
func TestReferenceCaseDistinctNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		wantNote   string
	}{
		{"payload note echoed", `{"saleLineID":"1","note":"gift wrap","noteID":"0"}`, ""},
		{"relation", `{"saleLineID":"1","noteID":"5","Note":{"noteID":"5","note":"gift wrap","isPublic":"true"}}`, "gift wrap"},
		{"both", `{"saleLineID":"1","note":"x","Note":{"noteID":"5","note":"gift wrap"}}`, "gift wrap"},
		{"relation empty", `{"saleLineID":"1","note":"","Note":""}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var l SaleLine
			if err := unmarshal([]byte(tt.body), &l); err != nil {
				t.Fatal(err)
			}
			got := ""
			if l.Note != nil {
				got = l.Note.Note
			}
			if l.SaleLineID != 1 || got != tt.wantNote {
				t.Errorf("line %d, note %q; want 1, %q", l.SaleLineID, got, tt.wantNote)
			}
			var c Customer
			if err := unmarshal([]byte(strings.Replace(tt.body, "saleLineID", "customerID", 1)), &c); err != nil {
				t.Fatalf("customer: %v", err)
			}
		})
	}
}

// §3.2: V2 offset paging ends with an error, not a loop, when the server
// keeps answering the same offset.
func TestReferenceV2OffsetMustAdvance(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, nil)
	var calls atomic.Int32
	mux.HandleFunc("GET "+acctPath("Customer.json"), func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 10 {
			http.Error(w, "looping", http.StatusTeapot)
			return
		}
		writeJSON(w, 200, `{"@attributes":{"count":"764","offset":"0","limit":"100"},"Customer":{"customerID":"1"}}`)
	})
	var n int
	var last error
	for _, err := range c.Customers.ListIter(t.Context(), nil) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if last == nil || !strings.Contains(last.Error(), "does not advance") {
		t.Errorf("err = %v, want the offset error", last)
	}
	if calls.Load() != 2 || n != 2 {
		t.Errorf("calls = %d, items = %d; want 2 and 2", calls.Load(), n)
	}
}
