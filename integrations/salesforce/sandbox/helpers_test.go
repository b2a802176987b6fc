package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testClock is a fixed clock the tests move by hand.
func testClock() func() time.Time {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	return func() time.Time { return t0 }
}

type bundle struct {
	srv  *Server
	ts   *httptest.Server
	tok  TokenResponse
	base string // /services/data/v66.0
}

// setup starts a sandbox with opts (a fixed clock unless set) and mints a
// token for it.
func setup(t *testing.T, opts Options) *bundle {
	t.Helper()
	if opts.Now == nil {
		opts.Now = testClock()
	}
	srv := New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &bundle{srv: srv, ts: ts, tok: srv.MintToken(ts.URL), base: ts.URL + "/services/data/v66.0"}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode returns errorCode of the first error in a REST error body.
func (r resp) errorCode(t *testing.T) string {
	t.Helper()
	var errs []struct {
		ErrorCode string   `json:"errorCode"`
		Message   string   `json:"message"`
		Fields    []string `json:"fields"`
	}
	r.json(t, &errs)
	if len(errs) == 0 {
		t.Fatalf("no errors in %s", r.body)
	}
	return errs[0].ErrorCode
}

func (b *bundle) do(t *testing.T, method, path string, body any, headers ...string) resp {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch x := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(x)
	case []byte:
		rd = bytes.NewReader(x)
	default:
		bb, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(bb)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = b.base + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.tok.AccessToken)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

func (b *bundle) form(t *testing.T, path string, form url.Values) resp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

// create makes a record and returns its id, failing the test otherwise.
func (b *bundle) create(t *testing.T, object string, fields map[string]any) string {
	t.Helper()
	r := b.do(t, "POST", "/sobjects/"+object, fields)
	if r.status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", object, r.status, r.body)
	}
	var sr struct {
		ID string `json:"id"`
	}
	r.json(t, &sr)
	return sr.ID
}

func seed(n int64) *int64 { return &n }
