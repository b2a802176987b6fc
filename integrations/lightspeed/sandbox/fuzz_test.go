package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

// fuzzServer is a small seeded sandbox driven through ServeHTTP directly.
func fuzzServer(f *testing.F) (*sandbox.Server, string) {
	s := sandbox.New(sandbox.Options{BucketSize: 1e12, Burst: 1 << 30, SigningKey: testKey(),
		Now:  func() time.Time { return epoch },
		Seed: &sandbox.SeedOptions{Seed: 3, Shops: 1, Customers: 30, Sales: 30}})
	return s, "Bearer " + s.MintToken().AccessToken
}

func serve(s *sandbox.Server, tok, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://sandbox.test/", strings.NewReader(body))
	req.URL.Path, req.URL.RawQuery, _ = strings.Cut(target, "?")
	req.URL.RawPath = ""
	req.Header.Set("Authorization", tok)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// FuzzListQuery checks that no query string makes a list request panic or
// answer anything but 200 or a 400 error body.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"limit=5&sort=-timeStamp", "after=WzJd", `load_relations=["Contact"]&Contact.email=!~,`,
		"or=firstName%3DA%7ClastName%3D~,B%25", "customerID=IN,[1,2]", "timeStamp=><,2025-01-01,2026-01-01",
		"count=1", "archived=only&sort=lastName&before=WyJhIiwxXQ==", "%zz", "sort=&limit=",
	} {
		f.Add("Customer", seed)
		f.Add("Sale", seed)
	}
	s, tok := fuzzServer(f)
	f.Fuzz(func(t *testing.T, resource, query string) {
		if resource != "Customer" && resource != "Sale" {
			resource = "Item"
		}
		w := serve(s, tok, http.MethodGet, "/API/V3/Account/200001/"+resource+".json?"+query, "")
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("%s?%s: status %d: %s", resource, query, w.Code, w.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s?%s: body is not JSON: %v", resource, query, err)
		}
	})
}

// FuzzCustomerWrite checks that no body makes a customer write panic or
// answer anything but 200, 400 or 422 with a JSON body.
func FuzzCustomerWrite(f *testing.F) {
	for _, seed := range []string{
		`{"firstName":"A"}`, `{"firstName":"A","Contact":{"Phones":{"ContactPhone":[{"number":1,"useType":"Home"}]}}}`,
		`{"Contact":{"Emails":""}}`, `{"CustomFieldValues":{"CustomFieldValue":{"customFieldID":1,"value":null}}}`,
		`{"dob":12}`, `[]`, `{"firstName":{"x":[1]}}`, `{"Note":{"note":"n","isPublic":"maybe"}}`,
	} {
		f.Add("POST", seed)
		f.Add("PUT", seed)
	}
	s, tok := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method, body string) {
		target := "/API/V3/Account/200001/Customer.json"
		if method != http.MethodPost {
			method, target = http.MethodPut, "/API/V3/Account/200001/Customer/2.json"
		}
		w := serve(s, tok, method, target, body)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("%s %s: status %d: %s", method, body, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: body is not JSON: %s", method, body, w.Body)
		}
	})
}
