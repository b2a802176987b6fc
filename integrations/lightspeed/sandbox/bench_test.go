package sandbox_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

// BenchmarkCustomerPage measures the sandbox serving 100-customer list
// pages (Contact loaded, as the sync engine asks) over real HTTP through
// httptest, with parallel clients. It reports requests per second.
func BenchmarkCustomerPage(b *testing.B) {
	for _, bc := range []struct {
		name, query string
	}{
		{"plain", "Customer.json?limit=100"},
		{"contact", `Customer.json?limit=100&load_relations=%5B%22Contact%22%5D`},
		{"incremental", `Customer.json?limit=100&sort=timeStamp&archived=true&timeStamp=%3E%3D%2C2025-06-01T00%3A00%3A00%2B00%3A00&load_relations=%5B%22Contact%22%2C%22CustomFieldValues%22%5D`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := sandbox.New(sandbox.Options{BucketSize: 1e12, Burst: 1 << 30, SigningKey: testKey(),
				Seed: &sandbox.SeedOptions{Seed: 42, Shops: 3, Customers: 2000, Sales: -1}})
			ts := httptest.NewServer(s)
			defer ts.Close()
			tok := "Bearer " + s.MintToken().AccessToken
			u := ts.URL + "/API/V3/Account/200001/" + bc.query
			client := ts.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, u, nil)
					req.Header.Set("Authorization", tok)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// BenchmarkCustomerPageHandler measures the handler alone (no network), to
// separate the emulator's own cost from HTTP overhead.
func BenchmarkCustomerPageHandler(b *testing.B) {
	s := sandbox.New(sandbox.Options{BucketSize: 1e12, Burst: 1 << 30, SigningKey: testKey(),
		Seed: &sandbox.SeedOptions{Seed: 42, Shops: 3, Customers: 2000, Sales: -1}})
	tok := "Bearer " + s.MintToken().AccessToken
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, `/API/V3/Account/200001/Customer.json?limit=100&load_relations=%5B%22Contact%22%5D`, nil)
		req.Header.Set("Authorization", tok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkSalePage measures 100-sale pages with every relation the sales
// stream loads, as the sync engine reads them (over real HTTP).
func BenchmarkSalePage(b *testing.B) {
	s := sandbox.New(sandbox.Options{BucketSize: 1e12, Burst: 1 << 30, SigningKey: testKey(),
		Seed: &sandbox.SeedOptions{Seed: 42, Shops: 3, Customers: 500, Sales: 2000}})
	ts := httptest.NewServer(s)
	defer ts.Close()
	tok := "Bearer " + s.MintToken().AccessToken
	u := ts.URL + `/API/V3/Account/200001/Sale.json?limit=100&shopID=1&completed=true&sort=updatetime` +
		`&updatetime=%3E%3D%2C2025-03-01T00%3A00%3A00%2B00%3A00&load_relations=` +
		`%5B%22SaleLines%22%2C%22SaleLines.Item%22%2C%22SalePayments%22%2C%22SalePayments.PaymentType%22%2C%22Customer%22%2C%22Customer.Contact%22%5D`
	client := ts.Client()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", tok)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
