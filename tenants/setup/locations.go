package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/tenants"
)

// Location is one Lightspeed shop of a tenant. Discovery inserts shops
// (New until the merchant has seen them on the locations page); the
// merchant enables the ones to sync, each as its own location.
type Location struct {
	ShopID  string
	Name    string
	Enabled bool
	New     bool
}

// ErrUnknownShop is returned by SaveLocations for a shop id the tenant does
// not have (a stale form, or a forged one).
var ErrUnknownShop = errors.New("setup: unknown shop")

// Locations returns tenantID's shops by name.
func (s *Store) Locations(ctx context.Context, tenantID string) ([]Location, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT ls_shop_id, name, enabled, is_new FROM locations
		WHERE tenant_id = $1 ORDER BY lower(name), ls_shop_id`, tenantID)
	if err != nil {
		return nil, notFound("list locations", err)
	}
	locs, err := pgx.CollectRows(rows, scanLocation)
	if err != nil {
		return nil, notFound("list locations", err)
	}
	return locs, nil
}

func scanLocation(r pgx.CollectableRow) (Location, error) {
	var l Location
	err := r.Scan(&l.ShopID, &l.Name, &l.Enabled, &l.New)
	return l, err
}

// SaveLocations records the locations page as the merchant submitted it:
// of the shops in shown (the ones the page listed), those in enabled are
// synced and the rest are not, and none of them is new any more. Shops
// discovered after the page was drawn keep their state and their "new"
// flag. It also marks the locations step saved, audit-logs what changed,
// and returns the tenant's locations after the change. An id in shown or
// enabled that the tenant does not have is ErrUnknownShop, and nothing
// changes.
func (s *Store) SaveLocations(ctx context.Context, tenantID string, actor tenants.Actor, shown, enabled []string) ([]Location, error) {
	shown, enabled = nonNil(shown), nonNil(enabled) // nil would be SQL NULL
	for _, id := range enabled {
		if !slices.Contains(shown, id) {
			return nil, fmt.Errorf("setup: save locations: shop %q was not on the page: %w", id, ErrUnknownShop)
		}
	}
	for _, id := range shown {
		// No shop has an id Postgres cannot hold as text; asking would
		// be a database error rather than an unknown shop.
		if !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
			return nil, fmt.Errorf("setup: save locations: shop %q: %w", id, ErrUnknownShop)
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the tenant first, as Update does, so the two never deadlock.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&one); err != nil {
			return notFound("save locations", err)
		}
		rows, err := tx.Query(ctx, `
			SELECT ls_shop_id, name, enabled, is_new FROM locations
			WHERE tenant_id = $1 AND ls_shop_id = ANY($2) FOR UPDATE`, tenantID, shown)
		if err != nil {
			return fmt.Errorf("setup: save locations: %w", err)
		}
		before, err := pgx.CollectRows(rows, scanLocation)
		if err != nil {
			return fmt.Errorf("setup: save locations: %w", err)
		}
		for _, id := range shown {
			if !slices.ContainsFunc(before, func(l Location) bool { return l.ShopID == id }) {
				return fmt.Errorf("setup: save locations: shop %q: %w", id, ErrUnknownShop)
			}
		}
		var on, off []string
		for _, l := range before {
			want := slices.Contains(enabled, l.ShopID)
			switch {
			case want && !l.Enabled:
				on = append(on, l.ShopID)
			case !want && l.Enabled:
				off = append(off, l.ShopID)
			}
		}
		_, err = tx.Exec(ctx, `
			UPDATE locations SET enabled = (ls_shop_id = ANY($3)), is_new = false
			WHERE tenant_id = $1 AND ls_shop_id = ANY($2)`, tenantID, shown, enabled)
		if err != nil {
			return fmt.Errorf("setup: save locations: %w", err)
		}
		if _, err := updateTx(ctx, tx, tenantID, actor, func(st *Settings) error {
			st.LocationsSaved = true
			return nil
		}); err != nil {
			return err
		}
		if len(on)+len(off) == 0 {
			return nil
		}
		detail := map[string]any{"locations": map[string]any{"enabled": nonNil(on), "disabled": nonNil(off)}}
		if err := tenants.AuditTx(ctx, tx, actor.Entry(tenantID, ActionSetupChange, detail)); err != nil {
			return fmt.Errorf("setup: save locations: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Locations(ctx, tenantID)
}

// UpsertLocations records every shop discovered as a location, inside the
// caller's transaction (the one that saves the discovery): new shops are
// inserted flagged new (and disabled until the merchant enables them);
// known ones get their current name. Enabled is never touched here.
func UpsertLocations(ctx context.Context, tx pgx.Tx, tenantID string, shops []LSShop) error {
	for _, sh := range shops {
		name := sh.Name
		if name == "" {
			name = "Shop " + strconv.FormatInt(sh.ID, 10)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO locations (tenant_id, ls_shop_id, name, is_new)
			VALUES ($1, $2, $3, true)
			ON CONFLICT (tenant_id, ls_shop_id) DO UPDATE SET name = EXCLUDED.name`,
			tenantID, strconv.FormatInt(sh.ID, 10), name); err != nil {
			return fmt.Errorf("setup: save location %d: %w", sh.ID, err)
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
