package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func benchServer(b *testing.B, opts Options) (*Server, *httptest.Server, TokenResponse) {
	b.Helper()
	opts.DailyAPILimit = 1 << 30
	srv := New(opts)
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	return srv, ts, srv.MintToken(ts.URL)
}

func benchDo(b *testing.B, method, url, token string, body []byte, headers ...string) []byte {
	b.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		b.Fatalf("%s %s: %d %s", method, url, res.StatusCode, data)
	}
	return data
}

// BenchmarkCollectionsUpsert200 measures one sObject Collections upsert of
// 200 contacts keyed by an external id, alternating creates and updates.
func BenchmarkCollectionsUpsert200(b *testing.B) {
	srv, ts, tok := benchServer(b, Options{})
	if err := srv.AddCustomField("Contact", FieldSpec{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 40, ExternalID: true, Unique: true}); err != nil {
		b.Fatal(err)
	}
	bodies := make([][]byte, 4)
	for v := range bodies {
		recs := make([]map[string]any, 200)
		for i := range recs {
			recs[i] = map[string]any{"attributes": map[string]any{"type": "Contact"}, "Lightspeed_Customer_ID__c": fmt.Sprintf("LS-%d-%d", v/2, i),
				"FirstName": "Bench", "LastName": fmt.Sprintf("Contact %d v%d", i, v), "Email": fmt.Sprintf("c%d@example.com", i), "MobilePhone": "+1 555 0100"}
		}
		bodies[v], _ = json.Marshal(map[string]any{"allOrNone": false, "records": recs})
	}
	url := ts.URL + "/services/data/v66.0/composite/sobjects/Contact/Lightspeed_Customer_ID__c"
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		benchDo(b, http.MethodPatch, url, tok.AccessToken, bodies[i%len(bodies)])
	}
	b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkQuery10000Paged measures a query over 10,000 contacts read to the
// end through nextRecordsUrl at the default batch size of 2,000.
func BenchmarkQuery10000Paged(b *testing.B) {
	srv, ts, tok := benchServer(b, Options{})
	srv.data.mu.Lock()
	t := srv.data.begin(srv.clk.Now())
	for i := range 10000 {
		if _, errs := t.create(srv.data.sch.object("Contact"), map[string]any{"LastName": fmt.Sprintf("Q%05d", i), "Email": fmt.Sprintf("q%d@example.com", i)}, writeOpts{version: "66.0"}); errs != nil {
			b.Fatal(errs)
		}
	}
	srv.data.mu.Unlock()
	first := ts.URL + "/services/data/v66.0/query?q=SELECT+Id,LastName,Email,SystemModstamp+FROM+Contact+ORDER+BY+SystemModstamp,Id"
	b.ResetTimer()
	for b.Loop() {
		url, n := first, 0
		for {
			var p struct {
				Done           bool              `json:"done"`
				NextRecordsURL string            `json:"nextRecordsUrl"`
				Records        []json.RawMessage `json:"records"`
			}
			if err := json.Unmarshal(benchDo(b, http.MethodGet, url, tok.AccessToken, nil), &p); err != nil {
				b.Fatal(err)
			}
			n += len(p.Records)
			if p.Done {
				break
			}
			url = ts.URL + p.NextRecordsURL
		}
		if n != 10000 {
			b.Fatalf("read %d rows, want 10000", n)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
