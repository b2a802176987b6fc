package sync

import (
	"context"
	"net/http"
	"sync/atomic"
)

// Providers, as API call counts name them.
const (
	ProviderLightspeed = "lightspeed"
	ProviderSalesforce = "salesforce"
)

// callCount counts one run's API calls per provider.
type callCount struct{ lightspeed, salesforce atomic.Int64 }

type callCountKey struct{}

func withCallCount(ctx context.Context) (context.Context, *callCount) {
	c := &callCount{}
	return context.WithValue(ctx, callCountKey{}, c), c
}

func (c *callCount) snapshot() map[string]int {
	return map[string]int{ProviderLightspeed: int(c.lightspeed.Load()), ProviderSalesforce: int(c.salesforce.Load())}
}

// CountingTransport counts every request sent through it against the run
// whose context the request carries, as a call to provider. The clients
// Clients returns must send through it for runs to report API calls.
func CountingTransport(provider string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return countingTransport{provider: provider, base: base}
}

type countingTransport struct {
	provider string
	base     http.RoundTripper
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c, ok := r.Context().Value(callCountKey{}).(*callCount); ok {
		switch t.provider {
		case ProviderLightspeed:
			c.lightspeed.Add(1)
		case ProviderSalesforce:
			c.salesforce.Add(1)
		}
	}
	return t.base.RoundTrip(r)
}
