package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// SetupConfig reads a tenant's sync configuration from its setup (settings,
// locations and discoveries) for the engine.
type SetupConfig struct {
	Setup *setup.Store
	Now   func() time.Time
}

// Config implements sync.ConfigSource.
func (s SetupConfig) Config(ctx context.Context, tenantID string) (sync.TenantConfig, error) {
	st, err := s.Setup.Settings(ctx, tenantID)
	if err != nil {
		return sync.TenantConfig{}, err
	}
	cfg := sync.TenantConfig{
		Preset:                     PresetOf(st),
		CreateExistingInLightspeed: st.CreateExistingInLightspeed,
		Shops:                      map[string]sync.Shop{},
		Employees:                  map[int64]string{},
		Registers:                  map[int64]string{},
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if since, ok := st.History.Since(now()); ok {
		cfg.SalesSince = since
	}
	locs, err := s.Setup.Locations(ctx, tenantID)
	if err != nil {
		return sync.TenantConfig{}, err
	}
	for _, l := range locs {
		cfg.Shops[l.ShopID] = sync.Shop{Name: l.Name, Enabled: l.Enabled}
	}
	d, err := s.Setup.Discovery(ctx, tenantID, vault.Lightspeed)
	if err != nil && !errors.Is(err, setup.ErrNoDiscovery) {
		return sync.TenantConfig{}, err
	}
	if d != nil && d.Lightspeed != nil {
		for _, sh := range d.Lightspeed.Shops {
			id := strconv.FormatInt(sh.ID, 10)
			shop := cfg.Shops[id]
			shop.TimeZone = sh.TimeZone
			if shop.Name == "" {
				shop.Name = sh.Name
			}
			cfg.Shops[id] = shop
		}
		for _, e := range d.Lightspeed.Employees {
			cfg.Employees[e.ID] = e.Name
		}
		for _, r := range d.Lightspeed.Registers {
			cfg.Registers[r.ID] = r.Name
		}
		for _, f := range d.Lightspeed.CustomerFields {
			cfg.CustomFields = append(cfg.CustomFields, mapping.CustomField{ID: f.ID, Name: f.Name, Type: f.Type})
		}
	}
	sfd, err := s.Setup.Discovery(ctx, tenantID, vault.Salesforce)
	if err != nil && !errors.Is(err, setup.ErrNoDiscovery) {
		return sync.TenantConfig{}, err
	}
	if sfd != nil {
		cfg.Salesforce = sfd.Salesforce
	}
	return cfg, nil
}

// PresetOf is the mapping preset of a tenant's data model choice.
func PresetOf(st setup.Settings) mapping.Preset {
	switch {
	case st.Model() == setup.ModelCustom:
		return mapping.PresetCustom
	case st.CustomerTarget == setup.TargetPersonAccount:
		return mapping.PresetPersonAccounts
	}
	return mapping.PresetClassic
}

// EnsureStreams creates the tenant's streams once setup is finished (the
// history window, its last step, is chosen): both customer streams, and a
// sales stream per enabled location. A location turned off loses its
// stream. Call it after setup changes; it is idempotent.
func EnsureStreams(ctx context.Context, pool *pgxpool.Pool, tenantID string) error {
	store := setup.NewStore(pool)
	st, err := store.Settings(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("jobs: ensure streams: %w", err)
	}
	if st.History == "" {
		return nil
	}
	keys := []ledger.StreamKey{
		{TenantID: tenantID, Stream: ledger.CustomersToSalesforce},
		{TenantID: tenantID, Stream: ledger.CustomersToLightspeed},
	}
	locs, err := store.Locations(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("jobs: ensure streams: %w", err)
	}
	for _, l := range locs {
		if l.Enabled {
			keys = append(keys, ledger.StreamKey{TenantID: tenantID, Location: l.ShopID, Stream: ledger.SalesToSalesforce})
		}
	}
	return ledger.New(pool).EnsureStreams(ctx, tenantID, keys)
}
