package tenants_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
)

// cheapParams keep hashing out of the tests' running time.
var cheapParams = tenants.PasswordParams{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a controllable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	pool  *pgxpool.Pool
	store *tenants.Store
	clock *clock
}

func setup(t *testing.T, opts ...tenants.Option) fixture {
	t.Helper()
	pool := dbtest.New(t)
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts = append([]tenants.Option{tenants.WithPasswordParams(cheapParams), tenants.WithClock(c.Now)}, opts...)
	return fixture{pool: pool, store: tenants.NewStore(pool, opts...), clock: c}
}

func (f fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f fixture) signUp(t *testing.T, name, email string) (tenants.Tenant, tenants.User) {
	t.Helper()
	tn, u, err := f.store.SignUp(t.Context(), tenants.SignUpParams{BusinessName: name, Email: email, Password: "a good password"})
	if err != nil {
		t.Fatalf("SignUp(%q, %q): %v", name, email, err)
	}
	return tn, u
}

func TestSignUp(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, u, err := f.store.SignUp(ctx, tenants.SignUpParams{
		BusinessName: "  Harbour Bikes ", Email: " Owner@Harbour.Example ", Password: "ten chars!",
	})
	if err != nil {
		t.Fatal(err)
	}
	if tn.Name != "Harbour Bikes" || u.Email != "owner@harbour.example" || u.IsStaff {
		t.Errorf("SignUp = %+v, %+v; want trimmed name, normalised email, not staff", tn, u)
	}
	got, err := f.store.Tenant(ctx, tn.ID)
	if err != nil || got != tn {
		t.Errorf("Tenant(%s) = %+v, %v; want %+v", tn.ID, got, err, tn)
	}
	ms, err := f.store.Memberships(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []tenants.Membership{{TenantID: tn.ID, TenantName: "Harbour Bikes", Role: tenants.RoleOwner}}
	if diff := cmp.Diff(want, ms, cmpIgnoreTime); diff != "" {
		t.Errorf("Memberships (-want +got):\n%s", diff)
	}
	log, err := f.store.AuditLog(ctx, tn.ID, 10)
	if err != nil || len(log) != 1 || log[0].Action != tenants.ActionSignUp || log[0].ActorUserID != u.ID {
		t.Errorf("AuditLog = %+v, %v; want one sign-up entry by the owner", log, err)
	}
	if _, err := f.store.Authenticate(ctx, "OWNER@harbour.example", "ten chars!", "192.0.2.1"); err != nil {
		t.Errorf("Authenticate with the new account: %v", err)
	}
}

// cmpIgnoreTime ignores timestamps the database assigns.
var cmpIgnoreTime = cmpopts.IgnoreTypes(time.Time{})

const weakMessage = "This password is too easy to guess: it is a common password, or repeats or runs along characters. Try a few unrelated words."

func TestSignUpValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		name string
		p    tenants.SignUpParams
		want map[string]string // field → message
	}{
		{"blank", tenants.SignUpParams{BusinessName: " ", Email: "", Password: ""}, map[string]string{
			"business_name": "Enter your business name.",
			"email":         "Enter your email address.",
			"password":      "Choose a password of at least 10 characters.",
		}},
		{"short password", tenants.SignUpParams{BusinessName: "A", Email: "a@b.example", Password: "nine char"}, map[string]string{
			"password": "Use at least 10 characters.",
		}},
		{"bad email", tenants.SignUpParams{BusinessName: "A", Email: "not an email", Password: "long enough!"}, map[string]string{
			"email": "Enter an email address like name@example.com.",
		}},
		{"display name email", tenants.SignUpParams{BusinessName: "A", Email: "Bob <bob@b.example>", Password: "long enough!"}, map[string]string{
			"email": "Enter an email address like name@example.com.",
		}},
		{"no dot in domain", tenants.SignUpParams{BusinessName: "A", Email: "bob@localhost", Password: "long enough!"}, map[string]string{
			"email": "Enter an email address like name@example.com.",
		}},
		{"long name", tenants.SignUpParams{BusinessName: strings.Repeat("é", 201), Email: "a@b.example", Password: "long enough!"}, map[string]string{
			"business_name": "Use at most 200 characters.",
		}},
		{"right-to-left override in name", tenants.SignUpParams{BusinessName: "Shop \u202egnp.exe", Email: "a@b.example", Password: "long enough!"}, map[string]string{
			"business_name": "Remove the invisible text-direction characters from the name (they are often pasted in by accident).",
		}},
		{"isolate in name", tenants.SignUpParams{BusinessName: "\u2067Shop", Email: "a@b.example", Password: "long enough!"}, map[string]string{
			"business_name": "Remove the invisible text-direction characters from the name (they are often pasted in by accident).",
		}},
		{"newline in name", tenants.SignUpParams{BusinessName: "Shop\nAdmin", Email: "a@b.example", Password: "long enough!"}, map[string]string{
			"business_name": "Use letters, numbers and punctuation only, on one line.",
		}},
		{"repeated password", tenants.SignUpParams{BusinessName: "A", Email: "a@b.example", Password: "aaaaaaaaaa"}, map[string]string{
			"password": weakMessage,
		}},
		{"common password with digits", tenants.SignUpParams{BusinessName: "A", Email: "a@b.example", Password: "password12"}, map[string]string{
			"password": weakMessage,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.store.SignUp(t.Context(), tt.p)
			var ve *tenants.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("SignUp error = %v; want *ValidationError", err)
			}
			if tt.want == nil {
				return
			}
			got := map[string]string{}
			for _, fe := range ve.Fields {
				got[fe.Field] = fe.Message
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
	if n := f.count(t, "tenants") + f.count(t, "users"); n != 0 {
		t.Errorf("invalid sign-ups created %d rows", n)
	}
}

func TestSignUpEmailTaken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.signUp(t, "First", "dup@shop.example")
	_, _, err := f.store.SignUp(t.Context(), tenants.SignUpParams{BusinessName: "Second", Email: "DUP@shop.example", Password: "another password"})
	if !errors.Is(err, tenants.ErrEmailTaken) {
		t.Fatalf("second SignUp error = %v; want ErrEmailTaken", err)
	}
	if got := f.count(t, "tenants"); got != 1 {
		t.Errorf("tenants = %d after a refused sign-up; want 1", got)
	}
}

// TestSignUpConcurrentSameEmail races sign-ups past the courtesy check: the
// unique index must still leave exactly one account and no orphan tenant.
func TestSignUpConcurrentSameEmail(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, errs[i] = f.store.SignUp(t.Context(), tenants.SignUpParams{
				BusinessName: fmt.Sprintf("Shop %d", i), Email: "race@shop.example", Password: "a good password"})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, tenants.ErrEmailTaken):
			t.Errorf("SignUp: %v; want nil or ErrEmailTaken", err)
		}
	}
	if ok != 1 || f.count(t, "tenants") != 1 || f.count(t, "users") != 1 {
		t.Errorf("%d sign-ups succeeded, %d tenants, %d users; want 1 of each", ok, f.count(t, "tenants"), f.count(t, "users"))
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, u := f.signUp(t, "Shop", "me@shop.example")
	tests := []struct {
		name, email, password string
		wantErr               error
	}{
		{"ok", "me@shop.example", "a good password", nil},
		{"email case and spaces", "  ME@Shop.Example ", "a good password", nil},
		{"wrong password", "me@shop.example", "a good passwore", tenants.ErrInvalidCredentials},
		{"unknown email", "who@shop.example", "a good password", tenants.ErrInvalidCredentials},
		{"empty", "", "", tenants.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		got, err := f.store.Authenticate(t.Context(), tt.email, tt.password, "192.0.2.1")
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Authenticate error = %v; want %v", tt.name, err, tt.wantErr)
		}
		if err == nil && got != u {
			t.Errorf("%s: Authenticate = %+v; want %+v", tt.name, got, u)
		}
	}
}

func TestAuthenticateThrottlesPerIP(t *testing.T) {
	t.Parallel()
	f := setup(t, tenants.WithThrottleLimits(tenants.ThrottleLimits{PerPair: 5, PerIP: 3, PerEmail: 50, EmailDelay: time.Second, MaxEmailDelay: time.Minute, Window: 10 * time.Minute}))
	f.signUp(t, "Shop", "me@shop.example")
	ctx := t.Context()
	for i := range 3 {
		if _, err := f.store.Authenticate(ctx, fmt.Sprintf("guess%d@shop.example", i), "x", "203.0.113.7"); !errors.Is(err, tenants.ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	var te *tenants.ThrottledError
	if _, err := f.store.Authenticate(ctx, "me@shop.example", "a good password", "203.0.113.7"); !errors.As(err, &te) || te.RetryAfter != 10*time.Minute {
		t.Fatalf("from the guessing address: %v; want *ThrottledError for 10m", err)
	}
	if _, err := f.store.Authenticate(ctx, "me@shop.example", "a good password", "203.0.113.8"); err != nil {
		t.Errorf("from another address: %v", err)
	}
}

func TestAuthenticateRehashesStaleHash(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, u := f.signUp(t, "Shop", "me@shop.example")
	stronger := cheapParams
	stronger.Time = 2
	s2 := tenants.NewStore(f.pool, tenants.WithPasswordParams(stronger))
	if _, err := s2.Authenticate(t.Context(), u.Email, "a good password", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	var hash string
	if err := f.pool.QueryRow(t.Context(), "SELECT password_hash FROM users WHERE id = $1", u.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=64,t=2,p=1$"; hash[:len(want)] != want {
		t.Errorf("hash after log-in = %q; want it redone with t=2", hash)
	}
	if _, err := s2.Authenticate(t.Context(), u.Email, "a good password", "192.0.2.1"); err != nil {
		t.Errorf("log-in after rehash: %v", err)
	}
}

func TestAddStaff(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	_, merchant := f.signUp(t, "Shop", "merchant@shop.example")

	created, err := f.store.AddStaff(ctx, "Support@Tandem.Example", "staff password")
	if err != nil || !created {
		t.Fatalf("AddStaff(new) = %v, %v; want true, nil", created, err)
	}
	u, err := f.store.Authenticate(ctx, "support@tandem.example", "staff password", "192.0.2.1")
	if err != nil || !u.IsStaff {
		t.Fatalf("staff log-in = %+v, %v; want a staff user", u, err)
	}
	created, err = f.store.AddStaff(ctx, "merchant@shop.example", "")
	if err != nil || created {
		t.Fatalf("AddStaff(existing) = %v, %v; want false, nil", created, err)
	}
	u, err = f.store.Authenticate(ctx, "merchant@shop.example", "a good password", "192.0.2.1")
	if err != nil || !u.IsStaff || u.ID != merchant.ID {
		t.Errorf("promoted user = %+v, %v; want the same user, now staff, old password", u, err)
	}

	var ve *tenants.ValidationError
	if _, err := f.store.AddStaff(ctx, "new@tandem.example", "short"); !errors.As(err, &ve) || ve.Message("password") == "" {
		t.Errorf("AddStaff with a short password: %v; want a password ValidationError", err)
	}
	if _, err := f.store.AddStaff(ctx, "nope", "long enough password"); !errors.As(err, &ve) || ve.Message("email") == "" {
		t.Errorf("AddStaff with a bad email: %v; want an email ValidationError", err)
	}
}

func TestMembershipsAndStaffList(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	bTenant, owner := f.signUp(t, "bravo Bikes", "owner@bravo.example")
	f.clock.Advance(time.Second)
	aTenant, other := f.signUp(t, "Alpha Apparel", "owner@alpha.example")
	// owner@bravo also administers Alpha.
	if _, err := f.pool.Exec(ctx, `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'admin')`, aTenant.ID, owner.ID); err != nil {
		t.Fatal(err)
	}
	ms, err := f.store.Memberships(ctx, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []tenants.Membership{
		{TenantID: aTenant.ID, TenantName: "Alpha Apparel", Role: tenants.RoleAdmin},
		{TenantID: bTenant.ID, TenantName: "bravo Bikes", Role: tenants.RoleOwner},
	}
	if diff := cmp.Diff(want, ms, cmpIgnoreTime); diff != "" {
		t.Errorf("Memberships (-want +got):\n%s", diff)
	}
	if ms, err := f.store.Memberships(ctx, "not-a-uuid"); err != nil || len(ms) != 0 {
		t.Errorf("Memberships(bad id) = %v, %v; want none", ms, err)
	}

	members, err := f.store.Members(ctx, aTenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantMembers := []tenants.Member{
		{UserID: other.ID, Email: other.Email, Role: tenants.RoleOwner},
		{UserID: owner.ID, Email: owner.Email, Role: tenants.RoleAdmin},
	}
	if diff := cmp.Diff(wantMembers, members, cmpIgnoreTime); diff != "" {
		t.Errorf("Members (-want +got):\n%s", diff)
	}

	list, err := f.store.ListTenantsForStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]tenants.TenantSummary{}
	for _, s := range list {
		s.CreatedAt = time.Time{}
		got[s.Name] = s
	}
	wantList := map[string]tenants.TenantSummary{
		"Alpha Apparel": {ID: aTenant.ID, Name: "Alpha Apparel", OwnerEmail: other.Email, Members: 2},
		"bravo Bikes":   {ID: bTenant.ID, Name: "bravo Bikes", OwnerEmail: owner.Email, Members: 1},
	}
	if diff := cmp.Diff(wantList, got); diff != "" {
		t.Errorf("ListTenantsForStaff (-want +got):\n%s", diff)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, id := range []string{"", "x", "00000000-0000-0000-0000-000000000000", "'; DROP TABLE tenants; --zzzzzzzzzzz"} {
		if _, err := f.store.Tenant(t.Context(), id); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("Tenant(%q) error = %v; want ErrNotFound", id, err)
		}
		if _, err := f.store.User(t.Context(), id); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("User(%q) error = %v; want ErrNotFound", id, err)
		}
	}
}

func TestConnections(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, _ := f.signUp(t, "Shop", "me@shop.example")
	other, _ := f.signUp(t, "Other", "me@other.example")
	want := []tenants.Connection{
		{Provider: tenants.ProviderLightspeed, Status: tenants.StatusNotConnected},
		{Provider: tenants.ProviderSalesforce, Status: tenants.StatusNotConnected},
	}
	got, err := f.store.Connections(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Connections before connecting (-want +got):\n%s", diff)
	}
	if _, err := f.pool.Exec(ctx, `
		INSERT INTO connections (tenant_id, provider, status, external_account, external_name)
		VALUES ($1, 'salesforce', 'needs_reauth', '00Dxx0000001gEF', 'Shop Org')`, tn.ID); err != nil {
		t.Fatal(err)
	}
	got, err = f.store.Connections(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	want[1] = tenants.Connection{Provider: tenants.ProviderSalesforce, Status: tenants.StatusNeedsReauth,
		ExternalAccount: "00Dxx0000001gEF", ExternalName: "Shop Org"}
	if diff := cmp.Diff(want, got, cmpIgnoreTime); diff != "" {
		t.Errorf("Connections after connecting (-want +got):\n%s", diff)
	}
	// The other tenant sees none of it.
	got, err = f.store.Connections(ctx, other.ID)
	if err != nil || got[1].Status != tenants.StatusNotConnected {
		t.Errorf("other tenant's Connections = %+v, %v; want not connected", got, err)
	}
}

func TestAudit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, u := f.signUp(t, "Shop", "me@shop.example")
	e := tenants.Entry{TenantID: tn.ID, ActorUserID: u.ID, ActorEmail: u.Email, Action: tenants.ActionStaffViewTenant,
		Detail: map[string]any{"page": "tenant"}, IP: "192.0.2.1"}
	if err := f.store.Audit(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Audit(ctx, tenants.Entry{Action: "no.tenant"}); err != nil {
		t.Fatalf("Audit without tenant or actor: %v", err)
	}
	log, err := f.store.AuditLog(ctx, tn.ID, 1)
	if err != nil || len(log) != 1 {
		t.Fatalf("AuditLog = %v, %v; want 1 entry", log, err)
	}
	if diff := cmp.Diff(e, log[0].Entry); diff != "" {
		t.Errorf("audit entry (-want +got):\n%s", diff)
	}
}

func TestThrottledErrorMinutes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Second, 1}, {time.Minute, 1}, {time.Minute + time.Second, 2}, {15 * time.Minute, 15}} {
		if got := (&tenants.ThrottledError{RetryAfter: tt.d}).Minutes(); got != tt.want {
			t.Errorf("Minutes(%v) = %d; want %d", tt.d, got, tt.want)
		}
	}
}

func TestDeleteLoginFailuresBefore(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	for range 3 {
		if _, err := f.store.Authenticate(ctx, "who@shop.example", "x", "192.0.2.1"); !errors.Is(err, tenants.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)
	}
	// Failures at +0h, +1h, +2h; now +3h. Drop those older than 90 minutes.
	n, err := f.store.DeleteLoginFailuresBefore(ctx, f.clock.Now().Add(-90*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeleteLoginFailuresBefore = %d, %v; want 2", n, err)
	}
	if got := f.count(t, "login_failures"); got != 1 {
		t.Errorf("failures left = %d; want 1", got)
	}
}
