package salesforce_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

const benchRecord = `{"attributes":{"type":"Contact","url":"/services/data/v66.0/sobjects/Contact/003RM0000068xVCYAY"},"Id":"003RM0000068xVCYAY","FirstName":"Jo","LastName":"Smith","Email":"jo@example.com","Phone":"+1 555 0100","MailingCity":"Montreal","Lightspeed_Customer_ID__c":"1042","SystemModstamp":"2026-03-01T10:15:02.000+0000"}`

// BenchmarkRawHTTPGet is the baseline: the same GET with a bare
// http.Client, so the client's own overhead is the difference.
func BenchmarkRawHTTPGet(b *testing.B) {
	mux, _, srv := setup(b)
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/003RM0000068xVCYAY", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, benchRecord) })
	hc := srv.Client()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(b.Context(), "GET", srv.URL+apiRoot+"/sobjects/Contact/003RM0000068xVCYAY", nil)
		req.Header.Set("Authorization", "Bearer "+testAccess)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkClientGet(b *testing.B) {
	mux, c, _ := setup(b)
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/003RM0000068xVCYAY", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, benchRecord) })
	for b.Loop() {
		if _, err := c.Get(b.Context(), "Contact", "003RM0000068xVCYAY"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientUpsertRecords200(b *testing.B) {
	mux, c, _ := setup(b)
	res := "[" + strings.TrimSuffix(strings.Repeat(`{"id":"003RM0000068xVCYAY","success":true,"errors":[],"created":false},`, 200), ",") + "]"
	mux.HandleFunc("PATCH "+apiRoot+"/composite/sobjects/Contact/Lightspeed_Customer_ID__c", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		writeJSON(w, 200, res)
	})
	recs := make([]map[string]any, 200)
	for i := range recs {
		recs[i] = map[string]any{"LastName": "Smith", "FirstName": "Jo", "Email": fmt.Sprintf("jo%d@example.com", i), "Lightspeed_Customer_ID__c": fmt.Sprint(i)}
	}
	for b.Loop() {
		if _, err := c.UpsertRecords(b.Context(), "Contact", "Lightspeed_Customer_ID__c", recs, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*200)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkClientQueryPage2000(b *testing.B) {
	mux, c, _ := setup(b)
	page := `{"totalSize":2000,"done":true,"records":[` + strings.TrimSuffix(strings.Repeat(benchRecord+",", 2000), ",") + `]}`
	mux.HandleFunc("GET "+apiRoot+"/query", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, page) })
	for b.Loop() {
		n := 0
		for _, err := range c.Query(b.Context(), "SELECT Id FROM Contact", nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 2000 {
			b.Fatalf("%d records", n)
		}
	}
	b.ReportMetric(float64(b.N*2000)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkID18(b *testing.B) {
	for b.Loop() {
		if _, err := salesforce.ID18("003rm0000068xvcyay"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSandboxUpsertRecords200 is the end-to-end figure: client and
// in-process sandbox together, one collections upsert of 200 contacts.
func BenchmarkSandboxUpsertRecords200(b *testing.B) {
	env := newSandbox(b, sandbox.Options{DailyAPILimit: 1 << 30})
	recs := contacts(200)
	for b.Loop() {
		if _, err := env.c.UpsertRecords(b.Context(), "Contact", extID, recs, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*200)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSandboxQuery10000 reads 10,000 contacts across pages of 2,000.
func BenchmarkSandboxQuery10000(b *testing.B) {
	env := newSandbox(b, sandbox.Options{DailyAPILimit: 1 << 30})
	for i := 0; i < 10000; i += 200 {
		recs := contacts(200)
		for j, r := range recs {
			r[extID] = fmt.Sprint(i + j)
		}
		if _, err := env.c.CreateRecords(b.Context(), "Contact", recs, nil); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		n := 0
		for _, err := range env.c.Query(b.Context(), "SELECT Id, LastName, "+extID+" FROM Contact", nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10000 {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "records/s")
}
