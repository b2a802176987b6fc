package onboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/tenants/setup"
)

// Connection states as screens see them: the vault's, plus "not_connected"
// for a provider the tenant never connected.
const (
	StateNotConnected = "not_connected"
	StateConnected    = "connected"
	StateNeedsReauth  = "needs_reauth"
	StateDisconnected = "disconnected"
)

// ConnectionView is what a screen may know about one provider connection:
// never the tokens.
type ConnectionView struct {
	Provider string
	// State is one of the State* constants.
	State string
	// Reason says, in the merchant's words, why the connection needs a
	// reconnect or was disconnected.
	Reason      string
	AccountID   string
	AccountName string
	LoginHost   string // Salesforce
	ConnectedAt time.Time
	// Discovery is the last discovery, nil when there is none.
	Discovery *setup.Discovery
}

// Connected reports whether the connection works (as far as Tandem knows).
func (v ConnectionView) Connected() bool { return v.State == StateConnected }

// Connection returns what screens show about tenantID's connection to
// provider, with its last discovery.
func (s *Service) Connection(ctx context.Context, tenantID, provider string) (ConnectionView, error) {
	v := ConnectionView{Provider: provider, State: StateNotConnected}
	err := s.pool.QueryRow(ctx, `
		SELECT status, status_reason, external_account, external_name, login_host, connected_at
		FROM connections WHERE tenant_id = $1 AND provider = $2`, tenantID, provider).
		Scan(&v.State, &v.Reason, &v.AccountID, &v.AccountName, &v.LoginHost, &v.ConnectedAt)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("onboard: read %s connection: %w", provider, err)
	}
	d, err := s.setup.Discovery(ctx, tenantID, provider)
	switch {
	case err == nil:
		v.Discovery = d
	case !errors.Is(err, setup.ErrNoDiscovery):
		return v, err
	}
	return v, nil
}

// Overview is a tenant's connections and locations, for the dashboard.
type Overview struct {
	Lightspeed, Salesforce ConnectionView
	Locations              []setup.Location
}

// Overview returns tenantID's connections, their discoveries and its
// locations (by name).
func (s *Service) Overview(ctx context.Context, tenantID string) (Overview, error) {
	var o Overview
	var err error
	if o.Lightspeed, err = s.Connection(ctx, tenantID, Lightspeed); err != nil {
		return o, err
	}
	if o.Salesforce, err = s.Connection(ctx, tenantID, Salesforce); err != nil {
		return o, err
	}
	rows, err := s.pool.Query(ctx, `
		SELECT ls_shop_id, name, enabled, is_new FROM locations
		WHERE tenant_id = $1 ORDER BY lower(name), ls_shop_id`, tenantID)
	if err != nil {
		return o, fmt.Errorf("onboard: list locations: %w", err)
	}
	o.Locations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (setup.Location, error) {
		var l setup.Location
		return l, r.Scan(&l.ShopID, &l.Name, &l.Enabled, &l.New)
	})
	if err != nil {
		return o, fmt.Errorf("onboard: list locations: %w", err)
	}
	return o, nil
}
