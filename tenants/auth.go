package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Classes of the advisory locks that serialise throttling decisions
// (pg_advisory_xact_lock's first key); the second key hashes the email or
// address. Arbitrary, but distinct from any other lock Tandem takes.
const (
	lockLoginEmail = 0x7a6e0001
	lockLoginIP    = 0x7a6e0002
	lockSignUpIP   = 0x7a6e0003
)

// Authenticate returns the user with email if password is theirs.
//
// It returns ErrInvalidCredentials for a wrong password and for an unknown
// email alike, after the same amount of hashing. Each attempt is recorded
// as a failure before the password is checked, in one atomic step with
// the throttling decision, so a burst of parallel guesses cannot all slip
// in before any is counted; a success then removes that record and the
// earlier failures from the same address. When the attempt would pass a
// limit (see ThrottleLimits) it returns a *ThrottledError without checking
// the password at all. ip is the client's address as the web layer sees
// it; it is only compared, never parsed.
func (s *Store) Authenticate(ctx context.Context, email, password, ip string) (User, error) {
	email = NormalizeEmail(email)
	if !storable(email) || !storable(ip) {
		// No user has such an email, and the database refuses to compare
		// it (or record the failure): answer as for any unknown email.
		return User{}, ErrInvalidCredentials
	}
	attempt, err := s.reserveAttempt(ctx, email, ip)
	if err != nil {
		return User{}, err
	}

	var u User
	var hash string
	err = s.pool.QueryRow(ctx,
		`SELECT id::text, email, is_staff, created_at, password_hash FROM users WHERE email = $1`, email,
	).Scan(&u.ID, &u.Email, &u.IsStaff, &u.CreatedAt, &hash)
	known := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("tenants: authenticate: look up user: %w", err)
	}
	if !known {
		hash = s.dummyHash
	}
	if s.beforeCheck != nil {
		s.beforeCheck()
	}
	ok, stale, err := s.check(ctx, password, hash)
	if err != nil {
		return User{}, fmt.Errorf("tenants: authenticate %s: check password: %w", u.ID, err)
	}
	if !known || !ok {
		return User{}, ErrInvalidCredentials // the reservation stands as the failure
	}

	if _, err := s.pool.Exec(ctx,
		`DELETE FROM login_failures WHERE id = $3 OR (email = $1 AND ip = $2)`, email, ip, attempt); err != nil {
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

// reserveAttempt decides whether email may be tried from ip now and, if so,
// records the attempt as a failure and returns the record's id. Advisory
// locks on the email and the address make the count and the insert one
// step: of N concurrent attempts, exactly as many as the limits allow are
// recorded, and the rest get a *ThrottledError.
func (s *Store) reserveAttempt(ctx context.Context, email, ip string) (int64, error) {
	l := s.throttle
	now := s.now()
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Always the email's lock first, then the address's: every
		// transaction takes them in that order, so none can deadlock.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockLoginEmail, email); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockLoginIP, ip); err != nil {
			return err
		}
		var pairAt, ipAt, lastEmail *time.Time
		var emailFailures int
		err := tx.QueryRow(ctx, `
			SELECT
			  (SELECT failed_at FROM login_failures WHERE email = $1 AND ip = $2 AND failed_at > $3
			   ORDER BY failed_at DESC OFFSET $4 - 1 LIMIT 1),
			  (SELECT failed_at FROM login_failures WHERE ip = $2 AND failed_at > $3
			   ORDER BY failed_at DESC OFFSET $5 - 1 LIMIT 1),
			  (SELECT count(*) FROM login_failures WHERE email = $1 AND failed_at > $3),
			  (SELECT max(failed_at) FROM login_failures WHERE email = $1 AND failed_at > $3)`,
			email, ip, now.Add(-l.Window), l.PerPair, l.PerIP,
		).Scan(&pairAt, &ipAt, &emailFailures, &lastEmail)
		if err != nil {
			return err
		}
		var wait time.Duration
		// The pair's and the address's limits hold until the failure that
		// reached them leaves the window.
		for _, at := range []*time.Time{pairAt, ipAt} {
			if at != nil {
				wait = max(wait, at.Add(l.Window).Sub(now))
			}
		}
		if lastEmail != nil && emailFailures >= l.PerEmail {
			wait = max(wait, lastEmail.Add(l.emailDelay(emailFailures)).Sub(now))
		}
		if wait > 0 {
			return &ThrottledError{RetryAfter: wait}
		}
		return tx.QueryRow(ctx,
			`INSERT INTO login_failures (email, ip, failed_at) VALUES ($1, $2, $3) RETURNING id`,
			email, ip, now).Scan(&id)
	})
	var te *ThrottledError
	if errors.As(err, &te) {
		return 0, te
	}
	if err != nil {
		return 0, fmt.Errorf("tenants: authenticate: reserve attempt: %w", err)
	}
	return id, nil
}

// emailDelay is how long after its last failure an email with failures
// failures in the window may be tried again: EmailDelay at PerEmail,
// doubling with each further failure, at most MaxEmailDelay.
func (l ThrottleLimits) emailDelay(failures int) time.Duration {
	d := l.EmailDelay
	for i := l.PerEmail; i < failures && d < l.MaxEmailDelay; i++ {
		d *= 2
	}
	return min(d, l.MaxEmailDelay)
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
