package tenants_test

import (
	"errors"
	"testing"

	"github.com/tandemsync/tandem/tenants"
)

func TestChangePassword(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, u := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	f.addSession(t, "s1", u.ID)

	if err := f.store.ChangePassword(ctx, u.ID, "not my password", "a new good password", "192.0.2.1"); !errors.Is(err, tenants.ErrInvalidCredentials) {
		t.Errorf("wrong current password: %v", err)
	}
	var verr *tenants.ValidationError
	if err := f.store.ChangePassword(ctx, u.ID, "a good password", "short", "192.0.2.1"); !errors.As(err, &verr) || verr.Message("new_password") == "" {
		t.Errorf("short new password: %v", err)
	}
	if n := f.sessionsOf(t, u.ID); n != 1 {
		t.Fatalf("a refused change ended sessions: %d left", n)
	}
	if err := f.store.ChangePassword(ctx, u.ID, "a good password", "a new good password", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if n := f.sessionsOf(t, u.ID); n != 0 {
		t.Errorf("%d sessions left; want 0", n)
	}
	if _, err := f.store.Authenticate(ctx, u.Email, "a new good password", "192.0.2.1"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if log, _ := f.store.AuditLog(ctx, tn.ID, 1); len(log) != 1 || log[0].Action != tenants.ActionPasswordChange {
		t.Errorf("audit = %+v", log)
	}
}

func TestChangeEmail(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, u := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	f.signUp(t, "Other", "taken@other.example")
	r, _, err := f.store.RequestPasswordReset(ctx, u.Email, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		email, password string
		want            error
	}{
		{"new@harbour.example", "wrong password", tenants.ErrInvalidCredentials},
		{"Taken@Other.example", "a good password", tenants.ErrEmailTaken},
	} {
		if _, err := f.store.ChangeEmail(ctx, u.ID, tt.email, tt.password, "192.0.2.1"); !errors.Is(err, tt.want) {
			t.Errorf("ChangeEmail(%q) = %v; want %v", tt.email, err, tt.want)
		}
	}
	var verr *tenants.ValidationError
	if _, err := f.store.ChangeEmail(ctx, u.ID, "not an email", "a good password", "192.0.2.1"); !errors.As(err, &verr) || verr.Message("email") == "" {
		t.Errorf("bad email: %v", err)
	}
	got, err := f.store.ChangeEmail(ctx, u.ID, " New@Harbour.example", "a good password", "192.0.2.1")
	if err != nil || got.Email != "new@harbour.example" {
		t.Fatalf("ChangeEmail = %+v, %v", got, err)
	}
	if _, err := f.store.Authenticate(ctx, "new@harbour.example", "a good password", "192.0.2.1"); err != nil {
		t.Errorf("log in with the new email: %v", err)
	}
	// A link sent to the old address no longer works.
	if _, err := f.store.ResetPassword(ctx, r.Token, "a new good password", "192.0.2.1"); !errors.Is(err, tenants.ErrLinkInvalid) {
		t.Errorf("old reset link: %v", err)
	}
	log, _ := f.store.AuditLog(ctx, tn.ID, 1)
	if len(log) != 1 || log[0].Action != tenants.ActionEmailChange || log[0].Detail["from"] != "owner@harbour.example" {
		t.Errorf("audit = %+v", log)
	}
}

func TestRenameTenant(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, u := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	var verr *tenants.ValidationError
	for _, name := range []string{"", "   ", string(make([]byte, 201))} {
		if _, err := f.store.RenameTenant(ctx, tn.ID, name, u, "192.0.2.1"); !errors.As(err, &verr) {
			t.Errorf("RenameTenant(%q) = %v", name, err)
		}
	}
	if _, err := f.store.RenameTenant(ctx, "not-a-uuid", "X", u, "192.0.2.1"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
	got, err := f.store.RenameTenant(ctx, tn.ID, "  Harbour Bikes & Boards ", u, "192.0.2.1")
	if err != nil || got.Name != "Harbour Bikes & Boards" {
		t.Fatalf("RenameTenant = %+v, %v", got, err)
	}
	log, _ := f.store.AuditLog(ctx, tn.ID, 1)
	if len(log) != 1 || log[0].Action != tenants.ActionTenantRename || log[0].Detail["to"] != "Harbour Bikes & Boards" {
		t.Errorf("audit = %+v", log)
	}
}
