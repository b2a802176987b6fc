package web_test

import (
	"net/http"
	"testing"

	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/web/onboard"
)

// BenchmarkConnectCallback measures the server side of the redirect back
// from the provider: state check, code exchange, discovery (six Lightspeed
// calls; eight Salesforce calls) and the transaction that stores the
// connection, discovery, locations and audit entry, against in-process
// sandboxes. The consent before it is not timed.
func BenchmarkConnectCallback(b *testing.B) {
	for _, provider := range []string{onboard.Lightspeed, onboard.Salesforce} {
		b.Run(provider, func(b *testing.B) {
			a := newConnectApp(b)
			// Lift the Lightspeed rate limit: connecting a hundred times
			// a minute is not what is measured.
			fast := lssandbox.New(lssandbox.Options{
				RedirectURIs: []string{testBase + "/connect/lightspeed/callback"},
				Seed:         &lssandbox.SeedOptions{Seed: 7},
				SigningKey:   signingKey(),
				BucketSize:   1e9, DripRate: 1e9, Burst: 1e9,
			})
			a.prov.lsSw.set(fast)
			br, tenantID := a.merchant("Harbour Threads")
			nc := &http.Client{Jar: br.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			decision := map[string]string{onboard.Lightspeed: "authorize", onboard.Salesforce: "allow"}[provider]
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				loc := br.consent(br.startConnect(provider, nil), decision)
				b.StartTimer()
				res, err := nc.Get(a.srv.URL + loc.RequestURI())
				if err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/connect/"+provider {
					b.Fatalf("callback: %d to %q", res.StatusCode, res.Header.Get("Location"))
				}
			}
			b.StopTimer()
			d, err := a.web.Onboard().Discovery(b.Context(), tenantID, provider)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(d.APICalls), "api-calls/op")
		})
	}
}

// BenchmarkConnectFlow measures the whole round trip a merchant waits for,
// from pressing Connect to seeing the connected page: Tandem's start
// (redirect), the provider's consent page and decision (in-process
// sandboxes, so nearly free), the callback and the connected page.
func BenchmarkConnectFlow(b *testing.B) {
	for _, provider := range []string{onboard.Lightspeed, onboard.Salesforce} {
		b.Run(provider, func(b *testing.B) {
			a := newConnectApp(b)
			a.prov.lsSw.set(lssandbox.New(lssandbox.Options{
				RedirectURIs: []string{testBase + "/connect/lightspeed/callback"},
				Seed:         &lssandbox.SeedOptions{Seed: 7},
				SigningKey:   signingKey(),
				BucketSize:   1e9, DripRate: 1e9, Burst: 1e9,
			}))
			br, _ := a.merchant("Harbour Threads")
			for b.Loop() {
				br.connect(provider)
			}
		})
	}
}
