package tenants

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Input limits. MinPasswordLen is what sign-up forms tell people.
const (
	MinPasswordLen   = 10
	maxPasswordBytes = 1024 // argon2 would hash more, but nobody types it
	maxNameLen       = 200  // the tenants table's CHECK
	maxEmailLen      = 254  // RFC 5321's path limit
)

// SignUpParams is what a new business gives to sign up.
type SignUpParams struct {
	BusinessName string
	Email        string
	Password     string
	IP           string // the client's address, for the audit log
}

// NormalizeEmail returns email as Tandem stores it: trimmed and lower-case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// storable reports whether Postgres can store s as text: valid UTF-8 with no
// NUL byte. Anything else would be refused by the database as a 500.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// validateEmail checks a normalised email and records a problem on v.
func validateEmail(v *ValidationError, email string) {
	switch {
	case email == "":
		v.add("email", "Enter your email address.")
	case len(email) > maxEmailLen:
		v.add("email", "That email address is too long.")
	case !storable(email):
		v.add("email", "Enter an email address like name@example.com.")
	default:
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
			v.add("email", "Enter an email address like name@example.com.")
		}
	}
}

// validatePassword records a problem with a new password on v.
func validatePassword(v *ValidationError, password string) {
	switch {
	case strings.TrimSpace(password) == "":
		v.add("password", fmt.Sprintf("Choose a password of at least %d characters.", MinPasswordLen))
	case utf8.RuneCountInString(password) < MinPasswordLen:
		v.add("password", fmt.Sprintf("Use at least %d characters.", MinPasswordLen))
	case len(password) > maxPasswordBytes:
		v.add("password", fmt.Sprintf("Use at most %d characters.", maxPasswordBytes))
	}
}

// SignUp creates a tenant named p.BusinessName and its owner, a new user
// with p.Email and p.Password, in one transaction. It returns a
// *ValidationError listing every invalid field, or ErrEmailTaken when a user
// with that email exists; in both cases nothing is created.
func (s *Store) SignUp(ctx context.Context, p SignUpParams) (Tenant, User, error) {
	name := strings.TrimSpace(p.BusinessName)
	email := NormalizeEmail(p.Email)
	var v ValidationError
	switch {
	case name == "":
		v.add("business_name", "Enter your business name.")
	case utf8.RuneCountInString(name) > maxNameLen:
		v.add("business_name", fmt.Sprintf("Use at most %d characters.", maxNameLen))
	case !storable(name):
		v.add("business_name", "Use letters, numbers and punctuation only.")
	}
	validateEmail(&v, email)
	validatePassword(&v, p.Password)
	if err := v.err(); err != nil {
		return Tenant{}, User{}, err
	}
	// Checked before the expensive hash as a courtesy; the unique index
	// below is what guarantees it under concurrent sign-ups.
	if taken, err := s.emailTaken(ctx, email); err != nil {
		return Tenant{}, User{}, err
	} else if taken {
		return Tenant{}, User{}, ErrEmailTaken
	}
	hash, err := s.hash(ctx, p.Password)
	if err != nil {
		return Tenant{}, User{}, fmt.Errorf("tenants: sign up: hash password: %w", err)
	}

	var t Tenant
	var u User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx,
			`INSERT INTO tenants (name) VALUES ($1) RETURNING id::text, name, created_at`, name,
		).Scan(&t.ID, &t.Name, &t.CreatedAt); err != nil {
			return fmt.Errorf("insert tenant: %w", err)
		}
		if err := tx.QueryRow(ctx,
			`INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id::text, email, is_staff, created_at`,
			email, hash,
		).Scan(&u.ID, &u.Email, &u.IsStaff, &u.CreatedAt); err != nil {
			if isUniqueViolation(err, "users_email_key") {
				return ErrEmailTaken
			}
			return fmt.Errorf("insert user: %w", err)
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)`, t.ID, u.ID, RoleOwner,
		); err != nil {
			return fmt.Errorf("insert membership: %w", err)
		}
		return audit(ctx, tx, Entry{TenantID: t.ID, ActorUserID: u.ID, ActorEmail: u.Email, Action: ActionSignUp, IP: p.IP})
	})
	if errors.Is(err, ErrEmailTaken) {
		return Tenant{}, User{}, ErrEmailTaken
	}
	if err != nil {
		return Tenant{}, User{}, fmt.Errorf("tenants: sign up: %w", err)
	}
	return t, u, nil
}

func (s *Store) emailTaken(ctx context.Context, email string) (bool, error) {
	var taken bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)`, email).Scan(&taken); err != nil {
		return false, fmt.Errorf("tenants: look up email: %w", err)
	}
	return taken, nil
}

// AddStaff makes the user with email support staff, creating the user with
// password when there is none (created is then true). An existing user keeps
// their password, and password may be empty for them. It returns a
// *ValidationError for a bad email, or a bad password when one is needed.
func (s *Store) AddStaff(ctx context.Context, email, password string) (created bool, err error) {
	email = NormalizeEmail(email)
	var v ValidationError
	validateEmail(&v, email)
	if err := v.err(); err != nil {
		return false, err
	}
	var hash string
	if taken, err := s.emailTaken(ctx, email); err != nil {
		return false, err
	} else if !taken {
		validatePassword(&v, password)
		if err := v.err(); err != nil {
			return false, err
		}
		if hash, err = s.hash(ctx, password); err != nil {
			return false, fmt.Errorf("tenants: add staff: hash password: %w", err)
		}
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id string
		err := tx.QueryRow(ctx,
			`UPDATE users SET is_staff = true WHERE email = $1 RETURNING id::text`, email).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			if hash == "" {
				// The user was deleted between the check and now.
				return ErrNotFound
			}
			err = tx.QueryRow(ctx,
				`INSERT INTO users (email, password_hash, is_staff) VALUES ($1, $2, true) RETURNING id::text`,
				email, hash).Scan(&id)
			created = err == nil
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, Entry{Action: ActionStaffAdd,
			Detail: map[string]any{"user_id": id, "email": email, "created": created}})
	})
	if err != nil {
		return false, fmt.Errorf("tenants: add staff %s: %w", email, err)
	}
	return created, nil
}
