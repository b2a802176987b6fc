package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Audit actions of account settings.
const (
	ActionPasswordChange = "user.password_change"
	ActionEmailChange    = "user.email_change"
	ActionTenantRename   = "tenant.rename"
)

// checkCurrentPassword returns the user with userID if password is theirs,
// ErrInvalidCredentials if not. It asks for the password again before a
// change that could lock the real owner out, in case a session was left
// open on a shared computer.
func (s *Store) checkCurrentPassword(ctx context.Context, userID, password string) (User, error) {
	if !validUUID(userID) {
		return User{}, ErrNotFound
	}
	var u User
	var hash string
	err := s.pool.QueryRow(ctx,
		`SELECT id::text, email, is_staff, created_at, password_hash FROM users WHERE id = $1`, userID,
	).Scan(&u.ID, &u.Email, &u.IsStaff, &u.CreatedAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("look up user: %w", err)
	}
	ok, _, err := s.check(ctx, password, hash)
	if err != nil {
		return User{}, fmt.Errorf("check password: %w", err)
	}
	if !ok {
		return User{}, ErrInvalidCredentials
	}
	return u, nil
}

// ChangePassword replaces userID's password after checking the current one.
// Every session of the user ends, the caller's included: the caller starts
// a fresh one for the browser that made the change. It returns
// ErrInvalidCredentials for a wrong current password and a
// *ValidationError (field "new_password") for an unacceptable new one.
func (s *Store) ChangePassword(ctx context.Context, userID, current, next, ip string) error {
	var v ValidationError
	validatePassword(&v, next)
	if err := v.err(); err != nil {
		v.Fields[0].Field = "new_password"
		return err
	}
	u, err := s.checkCurrentPassword(ctx, userID, current)
	if err != nil {
		return err
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return fmt.Errorf("tenants: change password: hash: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, u.ID, hash); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := endUserSessions(ctx, tx, u); err != nil {
			return err
		}
		return auditUser(ctx, tx, u.ID, Entry{ActorUserID: u.ID, ActorEmail: u.Email, Action: ActionPasswordChange, IP: ip})
	})
	if err != nil {
		return fmt.Errorf("tenants: change password: %w", err)
	}
	return nil
}

// ChangeEmail gives userID a new email (their log-in) after checking their
// password. It returns ErrInvalidCredentials for a wrong password, a
// *ValidationError (field "email") for a malformed email, and ErrEmailTaken
// when another user has it.
func (s *Store) ChangeEmail(ctx context.Context, userID, email, password, ip string) (User, error) {
	email = NormalizeEmail(email)
	var v ValidationError
	validateEmail(&v, email)
	if err := v.err(); err != nil {
		return User{}, err
	}
	u, err := s.checkCurrentPassword(ctx, userID, password)
	if err != nil {
		return User{}, err
	}
	if u.Email == email {
		return u, nil
	}
	old := u.Email
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET email = $2 WHERE id = $1`, u.ID, email); err != nil {
			if isUniqueViolation(err, "users_email_key") {
				return ErrEmailTaken
			}
			return fmt.Errorf("set email: %w", err)
		}
		// Links sent to the old address must not reset the new log-in.
		if _, err := tx.Exec(ctx, `DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL`, u.ID); err != nil {
			return fmt.Errorf("cancel reset links: %w", err)
		}
		return auditUser(ctx, tx, u.ID, Entry{ActorUserID: u.ID, ActorEmail: email, Action: ActionEmailChange, IP: ip,
			Detail: map[string]any{"from": old, "to": email}})
	})
	if errors.Is(err, ErrEmailTaken) {
		return User{}, ErrEmailTaken
	}
	if err != nil {
		return User{}, fmt.Errorf("tenants: change email: %w", err)
	}
	u.Email = email
	return u, nil
}

// RenameTenant renames tenantID. The caller checks that by may. It returns a
// *ValidationError (field "business_name") for an unacceptable name and
// ErrNotFound for an unknown tenant.
func (s *Store) RenameTenant(ctx context.Context, tenantID, name string, by User, ip string) (Tenant, error) {
	name = strings.TrimSpace(name)
	var v ValidationError
	validateBusinessName(&v, name)
	if err := v.err(); err != nil {
		return Tenant{}, err
	}
	if !validUUID(tenantID) {
		return Tenant{}, ErrNotFound
	}
	var t Tenant
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var old string
		err := tx.QueryRow(ctx, `SELECT name FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE tenants SET name = $2 WHERE id = $1 RETURNING id::text, name, created_at`,
			tenantID, name).Scan(&t.ID, &t.Name, &t.CreatedAt); err != nil {
			return err
		}
		return audit(ctx, tx, Entry{TenantID: tenantID, ActorUserID: by.ID, ActorEmail: by.Email, Action: ActionTenantRename,
			IP: ip, Detail: map[string]any{"from": old, "to": name}})
	})
	if errors.Is(err, ErrNotFound) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("tenants: rename tenant: %w", err)
	}
	return t, nil
}
