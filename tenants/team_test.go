package tenants_test

import (
	"errors"
	"testing"

	"github.com/tandemsync/tandem/tenants"
)

func TestInviteAndAccept(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, owner := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	_, existing := f.signUp(t, "Elsewhere", "clerk@harbour.example")

	var verr *tenants.ValidationError
	if _, err := f.store.Invite(ctx, tn.ID, "nope", "boss", owner, "192.0.2.1"); !errors.As(err, &verr) ||
		verr.Message("email") == "" || verr.Message("role") == "" {
		t.Errorf("bad invite: %v", err)
	}
	if _, err := f.store.Invite(ctx, tn.ID, owner.Email, tenants.RoleAdmin, owner, "192.0.2.1"); !errors.Is(err, tenants.ErrAlreadyMember) {
		t.Errorf("inviting a member: %v", err)
	}

	// A new person: accepts by choosing a password.
	first, err := f.store.Invite(ctx, tn.ID, "New@Harbour.example", tenants.RoleViewer, owner, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	// Inviting again replaces the first link.
	inv, err := f.store.Invite(ctx, tn.ID, "new@harbour.example", tenants.RoleAdmin, owner, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.InvitationByToken(ctx, first.Token); !errors.Is(err, tenants.ErrLinkInvalid) {
		t.Errorf("replaced link still works: %v", err)
	}
	if list, err := f.store.Invitations(ctx, tn.ID); err != nil || len(list) != 1 || list[0].Role != tenants.RoleAdmin || list[0].InvitedBy != owner.Email {
		t.Errorf("Invitations = %+v, %v", list, err)
	}
	got, err := f.store.InvitationByToken(ctx, inv.Token)
	if err != nil || got.TenantName != "Harbour Bikes" || got.Email != "new@harbour.example" {
		t.Errorf("InvitationByToken = %+v, %v", got, err)
	}
	u, tenantID, err := f.store.AcceptInvitationAsNewUser(ctx, inv.Token, "a good password", "192.0.2.2")
	if err != nil || tenantID != tn.ID || u.Email != "new@harbour.example" {
		t.Fatalf("AcceptInvitationAsNewUser = %+v, %q, %v", u, tenantID, err)
	}
	if m, err := f.store.Membership(ctx, tn.ID, u.ID); err != nil || m.Role != tenants.RoleAdmin {
		t.Errorf("membership = %+v, %v", m, err)
	}
	if _, _, err := f.store.AcceptInvitationAsNewUser(ctx, inv.Token, "a good password", "192.0.2.2"); !errors.Is(err, tenants.ErrLinkInvalid) {
		t.Errorf("second acceptance: %v", err)
	}

	// Someone with an account: must accept as themselves.
	inv2, err := f.store.Invite(ctx, tn.ID, existing.Email, tenants.RoleViewer, owner, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.AcceptInvitationAsNewUser(ctx, inv2.Token, "a good password", "192.0.2.2"); !errors.Is(err, tenants.ErrEmailTaken) {
		t.Errorf("new-user acceptance for an existing email: %v", err)
	}
	if _, err := f.store.AcceptInvitation(ctx, inv2.Token, u, "192.0.2.2"); !errors.Is(err, tenants.ErrInvitationForAnother) {
		t.Errorf("accepted by another user: %v", err)
	}
	if id, err := f.store.AcceptInvitation(ctx, inv2.Token, existing, "192.0.2.3"); err != nil || id != tn.ID {
		t.Errorf("AcceptInvitation = %q, %v", id, err)
	}
	if list, _ := f.store.Invitations(ctx, tn.ID); len(list) != 0 {
		t.Errorf("open invitations after acceptance: %+v", list)
	}
	log, _ := f.store.AuditLog(ctx, tn.ID, 10)
	var actions []string
	for _, a := range log {
		actions = append(actions, a.Action)
	}
	want := []string{tenants.ActionInviteAccept, tenants.ActionMemberInvite, tenants.ActionInviteAccept, tenants.ActionMemberInvite, tenants.ActionMemberInvite}
	if len(actions) < len(want) || !equal(actions[:len(want)], want) {
		t.Errorf("audit actions = %v; want %v first", actions, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInvitationExpiresAndRevoke(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, owner := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	inv, err := f.store.Invite(ctx, tn.ID, "a@harbour.example", tenants.RoleViewer, owner, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(tenants.InvitationTTL)
	if _, err := f.store.InvitationByToken(ctx, inv.Token); !errors.Is(err, tenants.ErrLinkInvalid) {
		t.Errorf("expired invitation: %v", err)
	}
	list, _ := f.store.Invitations(ctx, tn.ID)
	if len(list) != 1 || !list[0].Expired(f.clock.Now()) {
		t.Errorf("Invitations = %+v; want one expired", list)
	}
	other, _ := f.signUp(t, "Other", "o@other.example")
	if err := f.store.RevokeInvitation(ctx, other.ID, inv.ID, owner, "192.0.2.1"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("revoke through another tenant: %v", err)
	}
	if err := f.store.RevokeInvitation(ctx, tn.ID, inv.ID, owner, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.store.Invitations(ctx, tn.ID); len(list) != 0 {
		t.Errorf("after revoke: %+v", list)
	}
}

func TestRolesAndLastOwner(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, owner := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	inv, _ := f.store.Invite(ctx, tn.ID, "second@harbour.example", tenants.RoleViewer, owner, "")
	second, _, err := f.store.AcceptInvitationAsNewUser(ctx, inv.Token, "a good password", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.ChangeRole(ctx, tn.ID, owner.ID, tenants.RoleAdmin, owner, ""); !errors.Is(err, tenants.ErrLastOwner) {
		t.Errorf("demoting the only owner: %v", err)
	}
	if err := f.store.RemoveMember(ctx, tn.ID, owner.ID, owner, ""); !errors.Is(err, tenants.ErrLastOwner) {
		t.Errorf("the only owner leaving: %v", err)
	}
	if err := f.store.ChangeRole(ctx, tn.ID, second.ID, "boss", owner, ""); err == nil {
		t.Error("unknown role accepted")
	}
	other, _ := f.signUp(t, "Other", "o@other.example")
	if err := f.store.ChangeRole(ctx, other.ID, second.ID, tenants.RoleOwner, owner, ""); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("role change in a tenant they are not in: %v", err)
	}
	if err := f.store.ChangeRole(ctx, tn.ID, second.ID, tenants.RoleOwner, owner, ""); err != nil {
		t.Fatal(err)
	}
	// Two owners now: the first may step down, then leave.
	if err := f.store.ChangeRole(ctx, tn.ID, owner.ID, tenants.RoleViewer, owner, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RemoveMember(ctx, tn.ID, owner.ID, owner, ""); err != nil {
		t.Fatal(err)
	}
	members, _ := f.store.Members(ctx, tn.ID)
	if len(members) != 1 || members[0].UserID != second.ID || members[0].Role != tenants.RoleOwner {
		t.Errorf("members = %+v", members)
	}
	log, _ := f.store.AuditLog(ctx, tn.ID, 3)
	if log[0].Action != tenants.ActionMemberLeave || log[1].Action != tenants.ActionMemberRole || log[1].Detail["previous_role"] != "owner" {
		t.Errorf("audit = %+v", log)
	}
}

// Two owners removing each other at the same moment must not leave the
// tenant ownerless. The test holds the tenant's row lock so that both
// removals are queued on it before either runs (it waits in pg_stat_activity
// for both to be waiting), then lets them go.
func TestLastOwnerUnderRace(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, a := f.signUp(t, "Harbour Bikes", "a@harbour.example")
	inv, _ := f.store.Invite(ctx, tn.ID, "b@harbour.example", tenants.RoleOwner, a, "")
	b, _, err := f.store.AcceptInvitationAsNewUser(ctx, inv.Token, "a good password", "")
	if err != nil {
		t.Fatal(err)
	}
	hold, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tn.ID); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { errs <- f.store.RemoveMember(ctx, tn.ID, b.ID, a, "") }()
	go func() { errs <- f.store.ChangeRole(ctx, tn.ID, a.ID, tenants.RoleViewer, b, "") }()
	for {
		var waiting int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= 2 {
			break
		}
		select {
		case err := <-errs:
			t.Fatalf("a change ran while the tenant was locked: %v", err)
		default:
		}
	}
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var refused int
	for range 2 {
		if err := <-errs; errors.Is(err, tenants.ErrLastOwner) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	var owners int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM memberships WHERE tenant_id = $1 AND role = 'owner'`, tn.ID).Scan(&owners); err != nil {
		t.Fatal(err)
	}
	if owners != 1 || refused != 1 {
		t.Errorf("%d owners left, %d changes refused; want 1 and 1", owners, refused)
	}
}
