package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit actions of team changes.
const (
	ActionMemberInvite = "member.invite"
	ActionInviteRevoke = "member.invite_revoke"
	ActionInviteAccept = "member.invite_accept"
	ActionMemberRole   = "member.role_change"
	ActionMemberRemove = "member.remove"
	ActionMemberLeave  = "member.leave"
)

// Keys of the team actions' audit details.
const (
	detailEmail         = "email"
	detailRole          = "role"
	detailPreviousRole  = "previous_role"
	detailMemberUserID  = "user_id"
	detailInvitationID  = "invitation_id"
	detailInvitedByMail = "invited_by"
)

// ErrLastOwner is returned when a change would leave a tenant without an
// owner: someone must always be able to manage it.
var ErrLastOwner = errors.New("tenants: a tenant must keep at least one owner")

// ErrAlreadyMember is returned when inviting someone who already belongs to
// the tenant.
var ErrAlreadyMember = errors.New("tenants: already a member")

// ErrInvitationForAnother is returned when a logged-in user accepts an
// invitation sent to another email.
var ErrInvitationForAnother = errors.New("tenants: invitation is for another email")

// ValidRole reports whether r is one of the roles.
func ValidRole(r Role) bool { return r == RoleOwner || r == RoleAdmin || r == RoleViewer }

// Invitation is an open invitation to join a tenant.
type Invitation struct {
	ID         int64
	TenantID   string
	TenantName string
	Email      string
	Role       Role
	InvitedBy  string // the inviter's email
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// Token goes in the emailed link. It is set only by Invite: the
	// database keeps its hash.
	Token string
}

// Expired reports whether the invitation can no longer be accepted at now.
func (i Invitation) Expired(now time.Time) bool { return !now.Before(i.ExpiresAt) }

// Invite invites email to tenantID with role, replacing any open invitation
// of theirs; the caller emails the link made from the returned Token. It
// returns a *ValidationError (fields "email", "role") for bad input and
// ErrAlreadyMember when the email already belongs to a member.
func (s *Store) Invite(ctx context.Context, tenantID, email string, role Role, by User, ip string) (Invitation, error) {
	email = NormalizeEmail(email)
	var v ValidationError
	validateEmail(&v, email)
	if !ValidRole(role) {
		v.add("role", "Choose owner, admin or viewer.")
	}
	if err := v.err(); err != nil {
		return Invitation{}, err
	}
	if !validUUID(tenantID) {
		return Invitation{}, ErrNotFound
	}
	now := s.now()
	token, hash := newToken()
	inv := Invitation{TenantID: tenantID, Email: email, Role: role, InvitedBy: by.Email, CreatedAt: now,
		ExpiresAt: now.Add(InvitationTTL), Token: token}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT name FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&inv.TenantName); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		var member bool
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
			               WHERE m.tenant_id = $1 AND u.email = $2)`, tenantID, email).Scan(&member); err != nil {
			return err
		}
		if member {
			return ErrAlreadyMember
		}
		if _, err := tx.Exec(ctx, `DELETE FROM invitations WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL`,
			tenantID, email); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO invitations (tenant_id, email, role, token_hash, invited_by, invited_by_email, created_at, expires_at)
			VALUES ($1, $2, $3, $4, nullif($5, '')::uuid, $6, $7, $8) RETURNING id`,
			tenantID, email, role, hash, by.ID, by.Email, now, inv.ExpiresAt).Scan(&inv.ID); err != nil {
			return err
		}
		return audit(ctx, tx, Entry{TenantID: tenantID, ActorUserID: by.ID, ActorEmail: by.Email, Action: ActionMemberInvite,
			IP: ip, Detail: map[string]any{detailEmail: email, detailRole: role}})
	})
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrAlreadyMember):
		return Invitation{}, err
	case err != nil:
		return Invitation{}, fmt.Errorf("tenants: invite %s: %w", email, err)
	}
	return inv, nil
}

// Invitations returns tenantID's open invitations, expired ones included
// (they can be sent again), newest first.
func (s *Store) Invitations(ctx context.Context, tenantID string) ([]Invitation, error) {
	if !validUUID(tenantID) {
		return []Invitation{}, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT i.id, i.tenant_id::text, t.name, i.email, i.role, i.invited_by_email, i.created_at, i.expires_at
		FROM invitations i JOIN tenants t ON t.id = i.tenant_id
		WHERE i.tenant_id = $1 AND i.accepted_at IS NULL
		ORDER BY i.created_at DESC, i.id DESC`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("tenants: list invitations: %w", err)
	}
	invs, err := pgx.CollectRows(rows, scanInvitation)
	if err != nil {
		return nil, fmt.Errorf("tenants: list invitations: %w", err)
	}
	return invs, nil
}

func scanInvitation(r pgx.CollectableRow) (Invitation, error) {
	var i Invitation
	err := r.Scan(&i.ID, &i.TenantID, &i.TenantName, &i.Email, &i.Role, &i.InvitedBy, &i.CreatedAt, &i.ExpiresAt)
	return i, err
}

// RevokeInvitation cancels tenantID's open invitation id; its link stops
// working. It returns ErrNotFound when there is no such open invitation.
func (s *Store) RevokeInvitation(ctx context.Context, tenantID string, id int64, by User, ip string) error {
	if !validUUID(tenantID) {
		return ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var email string
		err := tx.QueryRow(ctx, `DELETE FROM invitations WHERE tenant_id = $1 AND id = $2 AND accepted_at IS NULL RETURNING email`,
			tenantID, id).Scan(&email)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, Entry{TenantID: tenantID, ActorUserID: by.ID, ActorEmail: by.Email, Action: ActionInviteRevoke,
			IP: ip, Detail: map[string]any{detailEmail: email, detailInvitationID: id}})
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("tenants: revoke invitation: %w", err)
	}
	return nil
}

// InvitationByToken returns the open, unexpired invitation a link's token
// names, or ErrLinkInvalid. It does not use the token.
func (s *Store) InvitationByToken(ctx context.Context, token string) (Invitation, error) {
	if !validToken(token) {
		return Invitation{}, ErrLinkInvalid
	}
	rows, err := s.pool.Query(ctx, `
		SELECT i.id, i.tenant_id::text, t.name, i.email, i.role, i.invited_by_email, i.created_at, i.expires_at
		FROM invitations i JOIN tenants t ON t.id = i.tenant_id
		WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > $2`, hashToken(token), s.now())
	if err != nil {
		return Invitation{}, fmt.Errorf("tenants: look up invitation: %w", err)
	}
	inv, err := pgx.CollectExactlyOneRow(rows, scanInvitation)
	if errors.Is(err, pgx.ErrNoRows) {
		return Invitation{}, ErrLinkInvalid
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("tenants: look up invitation: %w", err)
	}
	return inv, nil
}

// useInvitation marks the invitation token names accepted, in tx, and
// returns it; ErrLinkInvalid when it is unknown, used or expired. Of two
// acceptances racing, only one gets the row.
func (s *Store) useInvitation(ctx context.Context, tx pgx.Tx, token string) (Invitation, error) {
	if !validToken(token) {
		return Invitation{}, ErrLinkInvalid
	}
	var inv Invitation
	err := tx.QueryRow(ctx, `
		UPDATE invitations SET accepted_at = $2
		WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2
		RETURNING id, tenant_id::text, email, role, invited_by_email`, hashToken(token), s.now(),
	).Scan(&inv.ID, &inv.TenantID, &inv.Email, &inv.Role, &inv.InvitedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return Invitation{}, ErrLinkInvalid
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("use invitation: %w", err)
	}
	return inv, nil
}

// join adds u to inv's tenant with its role (a member already keeps their
// role) and records the acceptance.
func join(ctx context.Context, tx pgx.Tx, inv Invitation, u User, ip string) error {
	if _, err := tx.Exec(ctx, `
		INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, user_id) DO NOTHING`, inv.TenantID, u.ID, inv.Role); err != nil {
		return fmt.Errorf("add membership: %w", err)
	}
	return audit(ctx, tx, Entry{TenantID: inv.TenantID, ActorUserID: u.ID, ActorEmail: u.Email, Action: ActionInviteAccept,
		IP: ip, Detail: map[string]any{detailRole: inv.Role, detailInvitedByMail: inv.InvitedBy, detailInvitationID: inv.ID}})
}

// AcceptInvitation makes u, a logged-in user, a member of the tenant the
// token's invitation is for. The invitation must have been sent to u's
// email (ErrInvitationForAnother otherwise, and the link still works for
// its addressee). It returns the tenant's id.
func (s *Store) AcceptInvitation(ctx context.Context, token string, u User, ip string) (string, error) {
	var tenantID string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		inv, err := s.useInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		if inv.Email != u.Email {
			return ErrInvitationForAnother
		}
		tenantID = inv.TenantID
		return join(ctx, tx, inv, u, ip)
	})
	if errors.Is(err, ErrLinkInvalid) || errors.Is(err, ErrInvitationForAnother) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("tenants: accept invitation: %w", err)
	}
	return tenantID, nil
}

// AcceptInvitationAsNewUser creates the account of someone invited who has
// none, with the invitation's email and password, and makes them a member.
// It returns a *ValidationError (field "password"), ErrLinkInvalid, or
// ErrEmailTaken when the email has an account after all (they must log in
// and accept).
func (s *Store) AcceptInvitationAsNewUser(ctx context.Context, token, password, ip string) (User, string, error) {
	var v ValidationError
	validatePassword(&v, password)
	if err := v.err(); err != nil {
		return User{}, "", err
	}
	inv, err := s.InvitationByToken(ctx, token)
	if err != nil {
		return User{}, "", err // before the costly hash
	}
	if taken, err := s.emailTaken(ctx, inv.Email); err != nil {
		return User{}, "", err
	} else if taken {
		return User{}, "", ErrEmailTaken
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return User{}, "", fmt.Errorf("tenants: accept invitation: hash: %w", err)
	}
	var u User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		inv, err := s.useInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx,
			`INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id::text, email, is_staff, created_at`,
			inv.Email, hash).Scan(&u.ID, &u.Email, &u.IsStaff, &u.CreatedAt); err != nil {
			if isUniqueViolation(err, "users_email_key") {
				return ErrEmailTaken
			}
			return fmt.Errorf("insert user: %w", err)
		}
		return join(ctx, tx, inv, u, ip)
	})
	if errors.Is(err, ErrLinkInvalid) || errors.Is(err, ErrEmailTaken) {
		return User{}, "", err
	}
	if err != nil {
		return User{}, "", fmt.Errorf("tenants: accept invitation: %w", err)
	}
	return u, inv.TenantID, nil
}

// lockOwners takes tenantID's row lock, under which every role change and
// removal runs, and returns the member's role and the number of owners.
// Without the lock, two owners removing each other at once could each see
// the other still there and leave the tenant with none.
func lockOwners(ctx context.Context, tx pgx.Tx, tenantID, userID string) (role Role, email string, owners int, err error) {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tenantID); err != nil {
		return "", "", 0, fmt.Errorf("lock tenant: %w", err)
	}
	err = tx.QueryRow(ctx, `
		SELECT m.role, u.email, (SELECT count(*) FROM memberships o WHERE o.tenant_id = $1 AND o.role = 'owner')
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.tenant_id = $1 AND m.user_id = $2`, tenantID, userID).Scan(&role, &email, &owners)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", 0, ErrNotFound
	}
	if err != nil {
		return "", "", 0, fmt.Errorf("read membership: %w", err)
	}
	return role, email, owners, nil
}

// ChangeRole gives userID the role in tenantID. The caller checks that by
// may. It returns ErrNotFound for a non-member and ErrLastOwner when it
// would demote the only owner.
func (s *Store) ChangeRole(ctx context.Context, tenantID, userID string, role Role, by User, ip string) error {
	if !ValidRole(role) {
		return &ValidationError{Fields: []FieldError{{Field: "role", Message: "Choose owner, admin or viewer."}}}
	}
	if !validUUID(tenantID) || !validUUID(userID) {
		return ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		was, email, owners, err := lockOwners(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		if was == role {
			return nil
		}
		if was == RoleOwner && owners <= 1 {
			return ErrLastOwner
		}
		if _, err := tx.Exec(ctx, `UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2`,
			tenantID, userID, role); err != nil {
			return err
		}
		return audit(ctx, tx, Entry{TenantID: tenantID, ActorUserID: by.ID, ActorEmail: by.Email, Action: ActionMemberRole,
			IP: ip, Detail: map[string]any{detailMemberUserID: userID, detailEmail: email, detailPreviousRole: was, detailRole: role}})
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrLastOwner) {
		return err
	}
	if err != nil {
		return fmt.Errorf("tenants: change role: %w", err)
	}
	return nil
}

// RemoveMember takes userID out of tenantID; when by is userID, they leave.
// The caller checks that by may. It returns ErrNotFound for a non-member
// and ErrLastOwner for the only owner.
func (s *Store) RemoveMember(ctx context.Context, tenantID, userID string, by User, ip string) error {
	if !validUUID(tenantID) || !validUUID(userID) {
		return ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		was, email, owners, err := lockOwners(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		if was == RoleOwner && owners <= 1 {
			return ErrLastOwner
		}
		if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID); err != nil {
			return err
		}
		action := ActionMemberRemove
		if by.ID == userID {
			action = ActionMemberLeave
		}
		return audit(ctx, tx, Entry{TenantID: tenantID, ActorUserID: by.ID, ActorEmail: by.Email, Action: action,
			IP: ip, Detail: map[string]any{detailMemberUserID: userID, detailEmail: email, detailPreviousRole: was}})
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrLastOwner) {
		return err
	}
	if err != nil {
		return fmt.Errorf("tenants: remove member: %w", err)
	}
	return nil
}

// Membership returns userID's membership of tenantID, or ErrNotFound.
func (s *Store) Membership(ctx context.Context, tenantID, userID string) (Membership, error) {
	if !validUUID(tenantID) || !validUUID(userID) {
		return Membership{}, ErrNotFound
	}
	var m Membership
	err := s.pool.QueryRow(ctx, `
		SELECT m.tenant_id::text, t.name, m.role, m.created_at
		FROM memberships m JOIN tenants t ON t.id = m.tenant_id
		WHERE m.tenant_id = $1 AND m.user_id = $2`, tenantID, userID).Scan(&m.TenantID, &m.TenantName, &m.Role, &m.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Membership{}, ErrNotFound
	}
	if err != nil {
		return Membership{}, fmt.Errorf("tenants: get membership: %w", err)
	}
	return m, nil
}

// EmailTaken reports whether a user has email: the invitation page asks an
// invitee with an account to log in rather than choose a password.
func (s *Store) EmailTaken(ctx context.Context, email string) (bool, error) {
	return s.emailTaken(ctx, NormalizeEmail(email))
}
