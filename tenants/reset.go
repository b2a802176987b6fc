package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit actions of password resets.
const (
	ActionPasswordResetRequest = "user.password_reset_request"
	ActionPasswordReset        = "user.password_reset"
)

// PasswordReset is a reset link to email to a user.
type PasswordReset struct {
	Token     string // goes in the link; stored only as a hash
	Email     string
	ExpiresAt time.Time
}

// RequestPasswordReset makes a reset link for the user with email. ok is
// false, with no error, when there is no such user or the account has been
// sent enough links this past hour: the caller must answer the same either
// way, so that the form does not reveal who has an account.
func (s *Store) RequestPasswordReset(ctx context.Context, email, ip string) (r PasswordReset, ok bool, err error) {
	email = NormalizeEmail(email)
	if !storable(email) {
		return PasswordReset{}, false, nil
	}
	now := s.now()
	token, hash := newToken()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var userID string
		var recent int
		err := tx.QueryRow(ctx, `
			SELECT u.id::text,
			       (SELECT count(*) FROM password_resets r WHERE r.user_id = u.id AND r.created_at > $2)
			FROM users u WHERE u.email = $1 FOR UPDATE OF u`, email, now.Add(-time.Hour),
		).Scan(&userID, &recent)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && recent >= maxResetsPerHour) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("look up user: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO password_resets (token_hash, user_id, ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			hash, userID, ip, now, now.Add(PasswordResetTTL)); err != nil {
			return fmt.Errorf("store reset: %w", err)
		}
		ok = true
		return auditUser(ctx, tx, userID, Entry{ActorEmail: email, Action: ActionPasswordResetRequest, IP: ip})
	})
	if err != nil {
		return PasswordReset{}, false, fmt.Errorf("tenants: request password reset: %w", err)
	}
	if !ok {
		return PasswordReset{}, false, nil
	}
	return PasswordReset{Token: token, Email: email, ExpiresAt: now.Add(PasswordResetTTL)}, true, nil
}

// PasswordResetEmail returns the email of the account a reset token is
// for, or ErrLinkInvalid. It does not use the token.
func (s *Store) PasswordResetEmail(ctx context.Context, token string) (string, error) {
	if !validToken(token) {
		return "", ErrLinkInvalid
	}
	var email string
	err := s.pool.QueryRow(ctx, `
		SELECT u.email FROM password_resets r JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2`, hashToken(token), s.now()).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrLinkInvalid
	}
	if err != nil {
		return "", fmt.Errorf("tenants: look up password reset: %w", err)
	}
	return email, nil
}

// ResetPassword sets a new password with a reset token, using the token up.
// Every session of the user ends, every other reset link of theirs stops
// working and their failed log-ins are forgotten. It returns a
// *ValidationError for an unacceptable password (the token is then still
// usable) and ErrLinkInvalid for a token that is unknown, used or expired.
func (s *Store) ResetPassword(ctx context.Context, token, password, ip string) (User, error) {
	var v ValidationError
	validatePassword(&v, password)
	if err := v.err(); err != nil {
		return User{}, err
	}
	if _, err := s.PasswordResetEmail(ctx, token); err != nil {
		return User{}, err // checked before hashing, which is costly
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return User{}, fmt.Errorf("tenants: reset password: hash: %w", err)
	}
	var u User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The one statement that uses the token: of two requests racing
		// with it, only one gets the row.
		err := tx.QueryRow(ctx, `
			UPDATE password_resets SET used_at = $2
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
			RETURNING user_id::text`, hashToken(token), s.now()).Scan(&u.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrLinkInvalid
		}
		if err != nil {
			return fmt.Errorf("use token: %w", err)
		}
		if err := tx.QueryRow(ctx,
			`UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING email, is_staff, created_at`, u.ID, hash,
		).Scan(&u.Email, &u.IsStaff, &u.CreatedAt); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := endUserSessions(ctx, tx, u); err != nil {
			return err
		}
		return auditUser(ctx, tx, u.ID, Entry{ActorUserID: u.ID, ActorEmail: u.Email, Action: ActionPasswordReset, IP: ip})
	})
	if errors.Is(err, ErrLinkInvalid) {
		return User{}, ErrLinkInvalid
	}
	if err != nil {
		return User{}, fmt.Errorf("tenants: reset password: %w", err)
	}
	return u, nil
}

// endUserSessions logs u out everywhere after a password change: their
// sessions and unused reset links go, and failed log-ins against their email
// are forgotten (the old password's guessers have nothing left to guess).
func endUserSessions(ctx context.Context, tx pgx.Tx, u User) error {
	if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, u.ID); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL`, u.ID); err != nil {
		return fmt.Errorf("cancel reset links: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE email = $1`, u.Email); err != nil {
		return fmt.Errorf("clear failures: %w", err)
	}
	return nil
}

// auditUser records e, an action on a user's own account, in the audit log
// of every tenant they belong to (so each tenant's owners can see it), or
// under no tenant when they belong to none.
func auditUser(ctx context.Context, tx pgx.Tx, userID string, e Entry) error {
	rows, err := tx.Query(ctx, `SELECT tenant_id::text FROM memberships WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	if len(ids) == 0 {
		ids = []string{""}
	}
	for _, id := range ids {
		e.TenantID = id
		if err := audit(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}
