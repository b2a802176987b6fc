package tenants

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
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
	case weakPassword(password):
		v.add("password", "This password is too easy to guess: it is a common password, or repeats or runs along characters. Try a few unrelated words.")
	}
}

// validateBusinessName checks a trimmed business name and records a problem
// on v. Control and text-direction characters are refused, not stripped: a
// right-to-left override would make the name read differently in every
// list it appears in (the staff console's among them), and silently
// changing what someone typed is worse than asking.
func validateBusinessName(v *ValidationError, name string) {
	switch {
	case name == "":
		v.add("business_name", "Enter your business name.")
	case utf8.RuneCountInString(name) > maxNameLen:
		v.add("business_name", fmt.Sprintf("Use at most %d characters.", maxNameLen))
	case !storable(name):
		v.add("business_name", "Use letters, numbers and punctuation only.")
	case strings.ContainsFunc(name, bidiControl):
		v.add("business_name", "Remove the invisible text-direction characters from the name (they are often pasted in by accident).")
	case strings.ContainsFunc(name, unicode.IsControl):
		v.add("business_name", "Use letters, numbers and punctuation only, on one line.")
	}
}

// bidiControl reports whether r is one of Unicode's bidirectional
// formatting characters (marks, embeddings, overrides and isolates).
func bidiControl(r rune) bool {
	switch {
	case r == '\u061C', r == '\u200E', r == '\u200F':
		return true
	case '\u202A' <= r && r <= '\u202E', '\u2066' <= r && r <= '\u2069':
		return true
	}
	return false
}

// SignUp creates a tenant named p.BusinessName and its owner, a new user
// with p.Email and p.Password, in one transaction. It returns a
// *ValidationError listing every invalid field, ErrEmailTaken when a user
// with that email exists, or a *ThrottledError when p.IP has signed up
// ThrottleLimits.SignUpsPerIP times within the window; in each case nothing
// is created. An empty p.IP (a command-line caller) is not limited.
func (s *Store) SignUp(ctx context.Context, p SignUpParams) (Tenant, User, error) {
	name := strings.TrimSpace(p.BusinessName)
	email := NormalizeEmail(p.Email)
	var v ValidationError
	validateBusinessName(&v, name)
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
	// Checked before hashing too, so a refused burst costs no hashing; the
	// check under the address's lock below is the one that holds.
	if err := s.signUpAllowed(ctx, s.pool, p.IP); err != nil {
		return Tenant{}, User{}, err
	}
	hash, err := s.hash(ctx, p.Password)
	if err != nil {
		return Tenant{}, User{}, fmt.Errorf("tenants: sign up: hash password: %w", err)
	}

	var t Tenant
	var u User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if p.IP != "" {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockSignUpIP, p.IP); err != nil {
				return fmt.Errorf("lock address: %w", err)
			}
			if err := s.signUpAllowed(ctx, tx, p.IP); err != nil {
				return err
			}
		}
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
	var te *ThrottledError
	switch {
	case errors.Is(err, ErrEmailTaken):
		return Tenant{}, User{}, ErrEmailTaken
	case errors.As(err, &te):
		return Tenant{}, User{}, te
	case err != nil:
		return Tenant{}, User{}, fmt.Errorf("tenants: sign up: %w", err)
	}
	return t, u, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// signUpAllowed returns a *ThrottledError when ip has signed up
// SignUpsPerIP times within SignUpWindow. Sign-ups are counted in the audit
// log, which records each with its address, in the database's time.
func (s *Store) signUpAllowed(ctx context.Context, db querier, ip string) error {
	l := s.throttle
	if ip == "" || l.SignUpsPerIP <= 0 {
		return nil
	}
	var secs float64
	err := db.QueryRow(ctx, `
		SELECT extract(epoch FROM created_at + make_interval(secs => $2) - now())::float8
		FROM audit_log
		WHERE action = $4 AND ip = $1 AND created_at > now() - make_interval(secs => $2)
		ORDER BY created_at DESC OFFSET $3 - 1 LIMIT 1`,
		ip, l.SignUpWindow.Seconds(), l.SignUpsPerIP, ActionSignUp).Scan(&secs)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("tenants: sign up: count sign-ups: %w", err)
	}
	return &ThrottledError{RetryAfter: max(time.Duration(secs*float64(time.Second)), time.Second)}
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
