package sandbox_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

// testKey is shared by every test server: generating an RSA key per test
// would dominate the package's run time under -race.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// epoch is the fixed base time of test clocks: with it, bucket levels and
// token expiry move only when a test calls Advance.
var epoch = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const acct = "200001"

type env struct {
	t   *testing.T
	s   *sandbox.Server
	ts  *httptest.Server
	tok string
}

// newEnv starts a sandbox on a fixed clock with a large bucket unless the
// options say otherwise, and mints an access token.
func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return epoch }
	}
	if opts.BucketSize == 0 {
		opts.BucketSize = 1e9
	}
	if opts.Burst == 0 {
		opts.Burst = 1e9
	}
	opts.SigningKey = testKey()
	s := sandbox.New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &env{t: t, s: s, ts: ts, tok: s.MintToken().AccessToken}
}

func seeded(t *testing.T, seed int64, shops, customers, sales int) *env {
	return newEnv(t, sandbox.Options{Seed: &sandbox.SeedOptions{Seed: seed, Shops: shops, Customers: customers, Sales: sales}})
}

// do sends a request with the env's token; path is relative to the account
// when it does not start with "/".
func (e *env) do(method, path, body string) (*http.Response, []byte) {
	e.t.Helper()
	return e.doTok(e.tok, method, path, body)
}

func (e *env) doTok(tok, method, path, body string) (*http.Response, []byte) {
	e.t.Helper()
	if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "http") {
		path = "/API/V3/Account/" + acct + "/" + path
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.ts.URL + path
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// getJSON GETs path, requires the status and decodes the body.
func (e *env) getJSON(path string, wantStatus int) map[string]any {
	e.t.Helper()
	return e.jsonCall(http.MethodGet, path, "", wantStatus)
}

func (e *env) jsonCall(method, path, body string, wantStatus int) map[string]any {
	e.t.Helper()
	resp, b := e.do(method, path, body)
	if resp.StatusCode != wantStatus {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, wantStatus, b)
	}
	return decode(e.t, b)
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// many normalises the API's one-or-many form to a slice.
func many(v any) []map[string]any {
	switch t := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return []map[string]any{t}
	case []any:
		out := make([]map[string]any, len(t))
		for i, e := range t {
			out[i] = e.(map[string]any)
		}
		return out
	}
	return nil
}

func ids(rows []map[string]any, key string) []string {
	var out []string
	for _, r := range rows {
		v, _ := r[key].(string)
		out = append(out, v)
	}
	return out
}

// listAll follows next links from path and returns every row.
func (e *env) listAll(path, entity string) []map[string]any {
	e.t.Helper()
	var rows []map[string]any
	for next := path; next != ""; {
		m := e.getJSON(next, http.StatusOK)
		rows = append(rows, many(m[entity])...)
		next = m["@attributes"].(map[string]any)["next"].(string)
		if len(rows) > 100000 {
			e.t.Fatal("paging does not terminate")
		}
	}
	return rows
}

// createCustomer POSTs a customer and returns its id.
func (e *env) createCustomer(body string) string {
	e.t.Helper()
	m := e.jsonCall(http.MethodPost, "Customer.json", body, http.StatusOK)
	return m["Customer"].(map[string]any)["customerID"].(string)
}

// errBody checks a resource-API error body.
func errBody(t *testing.T, b []byte, status string) string {
	t.Helper()
	m := decode(t, b)
	if m["httpCode"] != status || m["httpMessage"] == "" || m["errorClass"] == "" {
		t.Fatalf("error body %s: want httpCode %s with httpMessage and errorClass", b, status)
	}
	msg, _ := m["message"].(string)
	if msg == "" {
		t.Fatalf("error body %s has no message", b)
	}
	return msg
}

func itoa(i int) string { return strconv.Itoa(i) }

func readAll(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
