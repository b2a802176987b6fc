package onboard

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/tandemsync/tandem/tenants/setup"
)

// Discovery returns what was last discovered about tenantID's account at
// provider. It returns setup.ErrNoDiscovery when nothing was (not connected
// yet, or reset since).
func (s *Service) Discovery(ctx context.Context, tenantID, provider string) (*setup.Discovery, error) {
	return s.setup.Discovery(ctx, tenantID, provider)
}

// countingTransport counts the requests sent through it: the API calls a
// discovery spends, retries included.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

// countingClient returns an HTTP client like hc whose requests are counted.
func countingClient(hc *http.Client) (*http.Client, *countingTransport) {
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	ct := &countingTransport{base: base}
	c := *hc
	c.Transport = ct
	return &c, ct
}
