package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Authenticate returns the user with email if password is theirs.
//
// It returns ErrInvalidCredentials for a wrong password and for an unknown
// email alike, after the same amount of hashing, and records the failure.
// When the email or ip has failed too often within the throttle window it
// returns a *ThrottledError without checking the password at all. A success
// clears the email's recorded failures. ip is the client's address as the web
// layer sees it; it is only compared, never parsed.
func (s *Store) Authenticate(ctx context.Context, email, password, ip string) (User, error) {
	email = NormalizeEmail(email)
	if !storable(email) {
		// No user has such an email, and the database refuses to compare
		// it (or record the failure): answer as for any unknown email.
		return User{}, ErrInvalidCredentials
	}
	now := s.now()
	if wait, err := s.throttled(ctx, email, ip, now); err != nil {
		return User{}, err
	} else if wait > 0 {
		return User{}, &ThrottledError{RetryAfter: wait}
	}

	var u User
	var hash string
	err := s.pool.QueryRow(ctx,
		`SELECT id::text, email, is_staff, created_at, password_hash FROM users WHERE email = $1`, email,
	).Scan(&u.ID, &u.Email, &u.IsStaff, &u.CreatedAt, &hash)
	known := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("tenants: authenticate: look up user: %w", err)
	}
	if !known {
		hash = s.dummyHash
	}
	ok, stale, err := s.check(ctx, password, hash)
	if err != nil {
		return User{}, fmt.Errorf("tenants: authenticate %s: check password: %w", u.ID, err)
	}
	if !known || !ok {
		if _, err := s.pool.Exec(ctx,
			`INSERT INTO login_failures (email, ip, failed_at) VALUES ($1, $2, $3)`, email, ip, now); err != nil {
			return User{}, fmt.Errorf("tenants: authenticate: record failure: %w", err)
		}
		return User{}, ErrInvalidCredentials
	}

	if _, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE email = $1`, email); err != nil {
		return User{}, fmt.Errorf("tenants: authenticate: clear failures: %w", err)
	}
	if stale {
		// The hash predates the current parameters: redo it now that the
		// password is at hand. Failing to is not a reason to refuse entry.
		if h, err := s.hash(ctx, password); err == nil {
			_, _ = s.pool.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, u.ID, h)
		}
	}
	return u, nil
}

// throttled returns how long until email and ip may try again, or 0 when they
// may try now. The wait ends when the failure that reached the limit leaves
// the window.
func (s *Store) throttled(ctx context.Context, email, ip string, now time.Time) (time.Duration, error) {
	l := s.throttle
	since := now.Add(-l.Window)
	var emailAt, ipAt *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT
		  (SELECT failed_at FROM login_failures WHERE email = $1 AND failed_at > $3
		   ORDER BY failed_at DESC OFFSET $4 - 1 LIMIT 1),
		  (SELECT failed_at FROM login_failures WHERE ip = $2 AND failed_at > $3
		   ORDER BY failed_at DESC OFFSET $5 - 1 LIMIT 1)`,
		email, ip, since, l.PerEmail, l.PerIP,
	).Scan(&emailAt, &ipAt)
	if err != nil {
		return 0, fmt.Errorf("tenants: authenticate: count failures: %w", err)
	}
	var wait time.Duration
	for _, at := range []*time.Time{emailAt, ipAt} {
		if at != nil {
			wait = max(wait, at.Add(l.Window).Sub(now))
		}
	}
	return wait, nil
}

// DeleteLoginFailuresBefore removes failure records older than t, which no
// longer count towards throttling; a periodic job calls it.
func (s *Store) DeleteLoginFailuresBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE failed_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("tenants: delete old login failures: %w", err)
	}
	return tag.RowsAffected(), nil
}
