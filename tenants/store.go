package tenants

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/argon2"
)

// Store reads and writes tenants, users, memberships and the audit log in
// Postgres. It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	now      func() time.Time
	params   PasswordParams
	throttle ThrottleLimits
	// hashing bounds how many argon2id computations run at once: each takes
	// Memory KiB, so a burst of log-ins must queue rather than exhaust RAM.
	hashing chan struct{}
	// beforeCheck, when set, runs just before each password check: tests
	// count checks with it and hold them at a barrier.
	beforeCheck func()
	// dummyHash is checked against when the email is unknown, so that an
	// unknown email costs as much time as a wrong password.
	dummyHash string
}

// ThrottleLimits say when failed log-ins, and sign-ups, slow down or stop
// further attempts. Failures count within Window.
//
// One address guessing one email is stopped first (PerPair); one address
// guessing many emails next (PerIP). Failures for one email from all
// addresses together only slow it down, and only far beyond what a person
// mistyping produces: a stranger must not be able to lock an owner out.
type ThrottleLimits struct {
	// PerPair failures of one email from one address stop that address
	// trying that email until the oldest of them leaves the window.
	PerPair int
	// PerIP failures from one address, whatever the emails, stop that
	// address trying any until the oldest of them leaves the window.
	PerIP int
	// PerEmail failures of one email from any addresses start spacing its
	// attempts: the next must wait EmailDelay after the last failure, and
	// each further failure doubles the wait, up to MaxEmailDelay.
	PerEmail      int
	EmailDelay    time.Duration
	MaxEmailDelay time.Duration
	Window        time.Duration

	// SignUpsPerIP sign-ups from one address within SignUpWindow stop
	// that address signing up until the oldest leaves the window.
	SignUpsPerIP int
	SignUpWindow time.Duration
}

// DefaultThrottleLimits returns the limits a Store uses unless told
// otherwise: in 15 minutes, 5 failures per email and address or 20 per
// address stop that address; past 50 failures of one email its attempts
// are spaced from 1 second, doubling, to at most 1 minute. 10 sign-ups per
// address an hour.
func DefaultThrottleLimits() ThrottleLimits {
	return ThrottleLimits{
		PerPair: 5, PerIP: 20,
		PerEmail: 50, EmailDelay: time.Second, MaxEmailDelay: time.Minute,
		Window:       15 * time.Minute,
		SignUpsPerIP: 10, SignUpWindow: time.Hour,
	}
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now: tests use it to move
// past throttling windows without sleeping.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithPasswordParams sets the argon2id cost of new hashes. Tests use cheap
// parameters; existing hashes keep verifying whatever they were made with,
// and are redone with p at the next successful log-in.
func WithPasswordParams(p PasswordParams) Option { return func(s *Store) { s.params = p } }

// WithThrottleLimits replaces DefaultThrottleLimits.
func WithThrottleLimits(l ThrottleLimits) Option { return func(s *Store) { s.throttle = l } }

// NewStore returns a Store over pool.
func NewStore(pool *pgxpool.Pool, opts ...Option) *Store {
	s := &Store{
		pool:     pool,
		now:      time.Now,
		params:   DefaultPasswordParams(),
		throttle: DefaultThrottleLimits(),
		hashing:  make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
	}
	for _, o := range opts {
		o(s)
	}
	// Checking a password against the dummy costs the same as against a
	// real hash with the store's parameters, and no password matches its
	// all-zero key. Building it costs nothing: hashing one at start-up would
	// leave argon2id's working memory (tens of MiB) in an idle process.
	b64 := base64.RawStdEncoding
	s.dummyHash = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		s.params.Memory, s.params.Time, s.params.Threads,
		b64.EncodeToString(make([]byte, s.params.SaltLen)), b64.EncodeToString(make([]byte, s.params.KeyLen)))
	return s
}

// hash hashes password with the store's parameters, waiting for a free slot.
func (s *Store) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return hashPassword(password, s.params)
}

// check verifies password against encoded, waiting for a free slot.
func (s *Store) check(ctx context.Context, password, encoded string) (ok, stale bool, err error) {
	if err := s.acquire(ctx); err != nil {
		return false, false, err
	}
	defer s.release()
	return checkPassword(password, encoded, s.params)
}

func (s *Store) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) release() { <-s.hashing }

// User returns the user with id, or ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	if !validUUID(id) {
		return User{}, ErrNotFound
	}
	var u User
	err := s.pool.QueryRow(ctx,
		`SELECT id::text, email, is_staff, created_at FROM users WHERE id = $1`, id,
	).Scan(&u.ID, &u.Email, &u.IsStaff, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("tenants: get user: %w", err)
	}
	return u, nil
}

// Tenant returns the tenant with id, or ErrNotFound.
func (s *Store) Tenant(ctx context.Context, id string) (Tenant, error) {
	if !validUUID(id) {
		return Tenant{}, ErrNotFound
	}
	var t Tenant
	err := s.pool.QueryRow(ctx,
		`SELECT id::text, name, created_at FROM tenants WHERE id = $1`, id,
	).Scan(&t.ID, &t.Name, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("tenants: get tenant: %w", err)
	}
	return t, nil
}

// Memberships returns the tenants userID belongs to, by tenant name. A user
// with none (staff, say) gets an empty slice.
func (s *Store) Memberships(ctx context.Context, userID string) ([]Membership, error) {
	if !validUUID(userID) {
		return []Membership{}, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT m.tenant_id::text, t.name, m.role, m.created_at
		FROM memberships m JOIN tenants t ON t.id = m.tenant_id
		WHERE m.user_id = $1
		ORDER BY lower(t.name), t.created_at, t.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("tenants: list memberships: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Membership, error) {
		var m Membership
		err := r.Scan(&m.TenantID, &m.TenantName, &m.Role, &m.CreatedAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("tenants: list memberships: %w", err)
	}
	return ms, nil
}

// Members returns tenantID's members, owners first, then by email.
func (s *Store) Members(ctx context.Context, tenantID string) ([]Member, error) {
	if !validUUID(tenantID) {
		return []Member{}, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT u.id::text, u.email, m.role, m.created_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.tenant_id = $1
		ORDER BY m.role = 'owner' DESC, u.email`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("tenants: list members: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		err := r.Scan(&m.UserID, &m.Email, &m.Role, &m.CreatedAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("tenants: list members: %w", err)
	}
	return ms, nil
}

// ListTenantsForStaff returns every tenant, newest first, with its owner and
// member count. It is for the staff console only: callers must have checked
// that the viewer is staff.
func (s *Store) ListTenantsForStaff(ctx context.Context) ([]TenantSummary, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT t.id::text, t.name, t.created_at,
		       coalesce((SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
		                 WHERE m.tenant_id = t.id AND m.role = 'owner'
		                 ORDER BY m.created_at LIMIT 1), ''),
		       (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id)
		FROM tenants t
		ORDER BY t.created_at DESC, t.id`)
	if err != nil {
		return nil, fmt.Errorf("tenants: list tenants: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TenantSummary, error) {
		var t TenantSummary
		err := r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.OwnerEmail, &t.Members)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("tenants: list tenants: %w", err)
	}
	return ts, nil
}

// Connections returns the state of tenantID's link to every provider, in
// Providers order; a provider never connected is StatusNotConnected.
func (s *Store) Connections(ctx context.Context, tenantID string) ([]Connection, error) {
	byProvider := map[Provider]Connection{}
	if validUUID(tenantID) {
		rows, err := s.pool.Query(ctx, `
			SELECT provider, status, external_account, external_name, status_reason, instance_url, updated_at
			FROM connections WHERE tenant_id = $1`, tenantID)
		if err != nil {
			return nil, fmt.Errorf("tenants: list connections: %w", err)
		}
		cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Connection, error) {
			var c Connection
			err := r.Scan(&c.Provider, &c.Status, &c.ExternalAccount, &c.ExternalName, &c.StatusReason, &c.InstanceURL, &c.UpdatedAt)
			return c, err
		})
		if err != nil {
			return nil, fmt.Errorf("tenants: list connections: %w", err)
		}
		for _, c := range cs {
			byProvider[c.Provider] = c
		}
	}
	out := make([]Connection, 0, len(Providers()))
	for _, p := range Providers() {
		c, ok := byProvider[p]
		if !ok {
			c = Connection{Provider: p, Status: StatusNotConnected}
		}
		out = append(out, c)
	}
	return out, nil
}

// validUUID reports whether s is a UUID in its canonical text form. Ids come
// from URLs and forms; checking here turns garbage into ErrNotFound instead
// of a database error.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isUniqueViolation reports whether err is Postgres' unique_violation on the
// named constraint or index.
func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}
