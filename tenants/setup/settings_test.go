package setup_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
)

// newTenant inserts a tenant with settings and returns its id.
func newTenant(t *testing.T, pool *pgxpool.Pool, settings string) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(t.Context(), `INSERT INTO tenants (name, settings) VALUES ('Harbour Bikes', $1) RETURNING id`, settings).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func addShop(t *testing.T, pool *pgxpool.Pool, tenantID, shopID, name string, enabled, isNew bool) {
	t.Helper()
	_, err := pool.Exec(t.Context(), `INSERT INTO locations (tenant_id, ls_shop_id, name, enabled, is_new) VALUES ($1, $2, $3, $4, $5)`,
		tenantID, shopID, name, enabled, isNew)
	if err != nil {
		t.Fatal(err)
	}
}

type auditRow struct {
	Actor  string
	Detail map[string]any
}

func setupAudit(t *testing.T, pool *pgxpool.Pool, tenantID string) []auditRow {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT actor_email, detail FROM audit_log WHERE tenant_id = $1 AND action = $2 ORDER BY id`, tenantID, setup.ActionSetupChange)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.Actor, &r.Detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var checkTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var owner = tenants.Actor{Email: "owner@harbour.example", IP: "192.0.2.1"}

func TestSettingsUpdate(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	store := setup.NewStore(pool)
	ctx := t.Context()
	// Another feature's key must survive.
	id := newTenant(t, pool, `{"mapping_version": 3}`)

	st, err := store.Settings(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(setup.Settings{}, st); diff != "" {
		t.Errorf("fresh tenant (-want +got):\n%s", diff)
	}
	if st.Model() != setup.ModelClassic {
		t.Errorf("default model = %s", st.Model())
	}

	check := &setup.CheckResult{Model: setup.ModelClassic, CheckedAt: checkTime, PersonAccounts: true,
		Items: []setup.CheckItem{{Key: "Contact.Lightspeed_Customer_ID__c", Status: setup.StatusPresent}}}
	got, err := store.Update(ctx, id, owner, func(s *setup.Settings) error {
		s.DataModel = setup.ModelCustom
		s.History = setup.History1y
		s.SalesforceCheck = check
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := setup.Settings{DataModel: setup.ModelCustom, History: setup.History1y, SalesforceCheck: check}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Update returned (-want +got):\n%s", diff)
	}
	read, err := store.Settings(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	var raw map[string]any
	if err := pool.QueryRow(ctx, `SELECT settings FROM tenants WHERE id = $1`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw["mapping_version"] != float64(3) {
		t.Errorf("unrelated key lost: %v", raw)
	}

	// A no-op change writes no audit entry; a real one names what changed.
	if _, err := store.Update(ctx, id, owner, func(s *setup.Settings) error { s.History = setup.History1y; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(ctx, id, owner, func(s *setup.Settings) error { s.History = setup.HistoryAll; return nil }); err != nil {
		t.Fatal(err)
	}
	log := setupAudit(t, pool, id)
	if len(log) != 2 {
		t.Fatalf("%d audit entries, want 2: %+v", len(log), log)
	}
	changed, _ := log[1].Detail["changed"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"history": map[string]any{"from": "1y", "to": "all"}}, changed); diff != "" || log[1].Actor != owner.Email {
		t.Errorf("audit of the history change by %s (-want +got):\n%s", log[1].Actor, diff)
	}
	first, _ := log[0].Detail["changed"].(map[string]any)
	sum, _ := first["salesforce_check"].(map[string]any)
	if to, _ := sum["to"].(map[string]any); to["complete"] != true || to["missing"] != float64(0) {
		t.Errorf("check summarised as %v", sum)
	}
}

func TestSettingsUpdateErrors(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	store := setup.NewStore(pool)
	ctx := t.Context()
	id := newTenant(t, pool, `{}`)

	boom := errors.New("invalid choice")
	_, err := store.Update(ctx, id, owner, func(s *setup.Settings) error {
		s.History = setup.HistoryAll
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("fn's error = %v", err)
	}
	if st, _ := store.Settings(ctx, id); st.History != "" {
		t.Errorf("a refused change was saved: %+v", st)
	}
	for _, bad := range []string{"not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
		if _, err := store.Settings(ctx, bad); !errors.Is(err, setup.ErrTenantNotFound) {
			t.Errorf("Settings(%q) = %v", bad, err)
		}
		if _, err := store.Update(ctx, bad, owner, func(*setup.Settings) error { return nil }); !errors.Is(err, setup.ErrTenantNotFound) {
			t.Errorf("Update(%q) = %v", bad, err)
		}
	}
}

// TestSettingsConcurrentUpdates forces two read-modify-writes to overlap:
// the first holds its transaction open after reading until the second has
// either read too (possible only without the row lock, and then the first's
// write would drop the second's change) or is seen by Postgres waiting for
// the lock. Either way both changes must survive.
func TestSettingsConcurrentUpdates(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	store := setup.NewStore(pool)
	id := newTenant(t, pool, `{}`)
	ctx := t.Context()

	firstRead, release := make(chan struct{}), make(chan struct{})
	secondRead := make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		_, err := store.Update(ctx, id, owner, func(s *setup.Settings) error {
			close(firstRead)
			<-release
			s.History = setup.HistoryAll
			return nil
		})
		errs <- err
	}()
	<-firstRead
	go func() {
		_, err := store.Update(ctx, id, owner, func(s *setup.Settings) error {
			close(secondRead)
			s.LocationsSaved = true
			return nil
		})
		errs <- err
	}()
	waitBlockedOrRead(t, pool, secondRead)
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Settings(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !st.LocationsSaved || st.History != setup.HistoryAll {
		t.Errorf("lost update: %+v", st)
	}
}

// waitBlockedOrRead returns once read is closed or a session of the test's
// database waits for a lock. It polls Postgres for the lock wait: there is
// no event to wait on, and the condition, not a delay, decides.
func waitBlockedOrRead(t *testing.T, pool *pgxpool.Pool, read <-chan struct{}) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-read:
			return
		case <-t.Context().Done():
			t.Fatal("neither read nor blocked")
		case <-tick.C:
		}
		var waiting bool
		err := pool.QueryRow(t.Context(), `
			SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
	}
}

func TestLocations(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	store := setup.NewStore(pool)
	ctx := t.Context()
	id := newTenant(t, pool, `{}`)
	other := newTenant(t, pool, `{}`)
	addShop(t, pool, id, "1", "Main Street", false, true)
	addShop(t, pool, id, "2", "Harbour", true, false)
	addShop(t, pool, id, "3", "airport kiosk", false, true)
	addShop(t, pool, other, "9", "Elsewhere", false, true)

	locs, err := store.Locations(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []setup.Location{
		{ShopID: "3", Name: "airport kiosk", New: true},
		{ShopID: "2", Name: "Harbour", Enabled: true},
		{ShopID: "1", Name: "Main Street", New: true},
	}
	if diff := cmp.Diff(want, locs); diff != "" {
		t.Errorf("locations (-want +got):\n%s", diff)
	}

	// Shop 4 is discovered after the page was drawn: it stays new.
	addShop(t, pool, id, "4", "Pop-up", false, true)
	locs, err = store.SaveLocations(ctx, id, owner, []string{"1", "2", "3"}, []string{"1", "3"})
	if err != nil {
		t.Fatal(err)
	}
	want = []setup.Location{
		{ShopID: "3", Name: "airport kiosk", Enabled: true},
		{ShopID: "2", Name: "Harbour"},
		{ShopID: "1", Name: "Main Street", Enabled: true},
		{ShopID: "4", Name: "Pop-up", New: true},
	}
	if diff := cmp.Diff(want, locs); diff != "" {
		t.Errorf("after save (-want +got):\n%s", diff)
	}
	st, _ := store.Settings(ctx, id)
	if !st.LocationsSaved {
		t.Error("locations step not marked saved")
	}
	log := setupAudit(t, pool, id)
	if len(log) != 2 {
		t.Fatalf("audit: %+v", log)
	}
	if diff := cmp.Diff(map[string]any{"enabled": []any{"1", "3"}, "disabled": []any{"2"}}, log[1].Detail["locations"]); diff != "" {
		t.Errorf("audit of the toggles (-want +got):\n%s", diff)
	}

	// Another tenant's shop, or one not on the page, changes nothing.
	for _, tc := range []struct{ shown, enabled []string }{
		{[]string{"1", "9"}, []string{"9"}},
		{[]string{"1"}, []string{"2"}},
		{[]string{"1", "77"}, nil},
	} {
		if _, err := store.SaveLocations(ctx, id, owner, tc.shown, tc.enabled); !errors.Is(err, setup.ErrUnknownShop) {
			t.Errorf("SaveLocations(%v, %v) = %v, want ErrUnknownShop", tc.shown, tc.enabled, err)
		}
	}
	again, _ := store.Locations(ctx, id)
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("a refused save changed rows (-want +got):\n%s", diff)
	}
	theirs, _ := store.Locations(ctx, other)
	if len(theirs) != 1 || theirs[0].Enabled || !theirs[0].New {
		t.Errorf("other tenant touched: %+v", theirs)
	}

	// Disabling everything is allowed (and saves with no shops enabled).
	if _, err := store.SaveLocations(ctx, id, owner, []string{"1", "2", "3", "4"}, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := store.Locations(ctx, id)
	for _, l := range after {
		if l.Enabled || l.New {
			t.Errorf("after disabling all: %+v", l)
		}
	}
}

func TestHistorySince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		h     setup.History
		want  time.Time
		bound bool
	}{
		{setup.HistoryNone, now, true},
		{setup.History30d, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), true},
		{setup.History1y, time.Date(2025, 3, 31, 9, 0, 0, 0, time.UTC), true},
		{setup.HistoryAll, time.Time{}, false},
	}
	for _, tt := range tests {
		got, bound := tt.h.Since(now)
		if !got.Equal(tt.want) || bound != tt.bound {
			t.Errorf("%s.Since = %s, %v; want %s, %v", tt.h, got, bound, tt.want, tt.bound)
		}
	}
	if setup.History("2y").Valid() || setup.History("").Valid() {
		t.Error("invalid history accepted")
	}
}

// TestCreateExistingInLightspeed: the issue 8 setting is off by default,
// stored under its own key and audit-logged with both values.
func TestCreateExistingInLightspeed(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	store := setup.NewStore(pool)
	ctx := t.Context()
	id := newTenant(t, pool, `{}`)
	if st, err := store.Settings(ctx, id); err != nil || st.CreateExistingInLightspeed {
		t.Fatalf("default = %+v, %v; want off", st, err)
	}
	if _, err := store.Update(ctx, id, owner, func(s *setup.Settings) error {
		s.CreateExistingInLightspeed = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := pool.QueryRow(ctx, `SELECT settings FROM tenants WHERE id = $1`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw["sf_existing_to_ls"] != true {
		t.Errorf("stored settings = %v, want sf_existing_to_ls true", raw)
	}
	log := setupAudit(t, pool, id)
	if len(log) != 1 {
		t.Fatalf("audit: %+v", log)
	}
	want := map[string]any{"sf_existing_to_ls": map[string]any{"from": false, "to": true}}
	if diff := cmp.Diff(want, log[0].Detail["changed"]); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}
