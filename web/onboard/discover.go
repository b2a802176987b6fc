package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Discovery is what Tandem learned about a connected account, as stored in
// the discoveries table. Exactly one of Lightspeed and Salesforce is set.
type Discovery struct {
	Provider        string
	ExternalAccount string
	Lightspeed      *LightspeedDiscovery
	Salesforce      *SalesforceDiscovery
	// APICalls is how many API requests the discovery spent (retries
	// included); Duration how long it took.
	APICalls     int
	Duration     time.Duration
	DiscoveredAt time.Time
}

// Discovery returns what was last discovered about tenantID's account at
// provider. It returns ErrNoDiscovery when nothing was (not connected yet,
// or reset since).
func (s *Service) Discovery(ctx context.Context, tenantID, provider string) (*Discovery, error) {
	return loadDiscovery(ctx, s.pool, tenantID, provider)
}

// ErrNoDiscovery is returned by Discovery when the provider was never
// discovered for the tenant.
var ErrNoDiscovery = errors.New("onboard: nothing discovered yet")

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func loadDiscovery(ctx context.Context, db querier, tenantID, provider string) (*Discovery, error) {
	d := &Discovery{Provider: provider}
	var data []byte
	var ms int64
	err := db.QueryRow(ctx, `
		SELECT external_account, data, api_calls, duration_ms, discovered_at
		FROM discoveries WHERE tenant_id = $1 AND provider = $2`, tenantID, provider).
		Scan(&d.ExternalAccount, &data, &d.APICalls, &ms, &d.DiscoveredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoDiscovery
	}
	if err != nil {
		return nil, fmt.Errorf("onboard: load %s discovery: %w", provider, err)
	}
	d.Duration = time.Duration(ms) * time.Millisecond
	switch provider {
	case Lightspeed:
		d.Lightspeed = new(LightspeedDiscovery)
		err = json.Unmarshal(data, d.Lightspeed)
	case Salesforce:
		d.Salesforce = new(SalesforceDiscovery)
		err = json.Unmarshal(data, d.Salesforce)
	}
	if err != nil {
		return nil, fmt.Errorf("onboard: decode %s discovery: %w", provider, err)
	}
	return d, nil
}

func saveDiscovery(ctx context.Context, tx pgx.Tx, tenantID string, d *Discovery) error {
	var v any = d.Lightspeed
	if d.Provider == Salesforce {
		v = d.Salesforce
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("onboard: encode %s discovery: %w", d.Provider, err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO discoveries (tenant_id, provider, external_account, data, api_calls, duration_ms, discovered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, provider) DO UPDATE SET
			external_account = EXCLUDED.external_account, data = EXCLUDED.data,
			api_calls = EXCLUDED.api_calls, duration_ms = EXCLUDED.duration_ms,
			discovered_at = EXCLUDED.discovered_at`,
		tenantID, d.Provider, d.ExternalAccount, data, d.APICalls, d.Duration.Milliseconds(), d.DiscoveredAt)
	if err != nil {
		return fmt.Errorf("onboard: save %s discovery: %w", d.Provider, err)
	}
	return nil
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
