package tenants_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tandemsync/tandem/tenants"
)

// addSession stores a live session row for userID, as the web app would.
func (f fixture) addSession(t *testing.T, id, userID string) {
	t.Helper()
	if _, err := f.pool.Exec(t.Context(),
		`INSERT INTO web_sessions (id, data, user_id, expires_at) VALUES ($1, '', $2, now() + interval '1 day')`,
		id, userID); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) sessionsOf(t *testing.T, userID string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM web_sessions WHERE user_id = $1`, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	tn, u := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	f.addSession(t, "s1", u.ID)
	f.addSession(t, "s2", u.ID)
	if _, err := f.store.Authenticate(ctx, u.Email, "wrong password", "192.0.2.9"); !errors.Is(err, tenants.ErrInvalidCredentials) {
		t.Fatal(err)
	}

	r, ok, err := f.store.RequestPasswordReset(ctx, " Owner@Harbour.example ", "192.0.2.1")
	if err != nil || !ok || r.Email != u.Email || r.Token == "" {
		t.Fatalf("RequestPasswordReset = %+v, %v, %v", r, ok, err)
	}
	if !r.ExpiresAt.Equal(f.clock.Now().Add(tenants.PasswordResetTTL)) {
		t.Errorf("ExpiresAt = %v", r.ExpiresAt)
	}
	// Only a hash is stored.
	var stored int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM password_resets WHERE token_hash = convert_to($1, 'UTF8')`, r.Token).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("token stored in the clear: %d, %v", stored, err)
	}
	if email, err := f.store.PasswordResetEmail(ctx, r.Token); err != nil || email != u.Email {
		t.Errorf("PasswordResetEmail = %q, %v", email, err)
	}

	// A bad password leaves the link usable.
	var verr *tenants.ValidationError
	if _, err := f.store.ResetPassword(ctx, r.Token, "short", "192.0.2.1"); !errors.As(err, &verr) || verr.Message("password") == "" {
		t.Fatalf("ResetPassword(short) = %v", err)
	}
	got, err := f.store.ResetPassword(ctx, r.Token, "a new good password", "192.0.2.1")
	if err != nil || got.ID != u.ID {
		t.Fatalf("ResetPassword = %+v, %v", got, err)
	}
	if n := f.sessionsOf(t, u.ID); n != 0 {
		t.Errorf("%d sessions left after reset; want 0", n)
	}
	if n := f.count(t, "login_failures"); n != 0 {
		t.Errorf("%d login failures left after reset", n)
	}
	if _, err := f.store.Authenticate(ctx, u.Email, "a good password", "192.0.2.1"); !errors.Is(err, tenants.ErrInvalidCredentials) {
		t.Errorf("old password: %v", err)
	}
	if _, err := f.store.Authenticate(ctx, u.Email, "a new good password", "192.0.2.1"); err != nil {
		t.Errorf("new password: %v", err)
	}
	// Single use.
	if _, err := f.store.ResetPassword(ctx, r.Token, "another good password", "192.0.2.1"); !errors.Is(err, tenants.ErrLinkInvalid) {
		t.Errorf("second use = %v; want ErrLinkInvalid", err)
	}
	log, err := f.store.AuditLog(ctx, tn.ID, 10)
	if err != nil || len(log) < 2 || log[0].Action != tenants.ActionPasswordReset || log[1].Action != tenants.ActionPasswordResetRequest {
		t.Errorf("audit log = %+v, %v", log, err)
	}
}

func TestPasswordResetUnknownEmailAndJunk(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	for _, email := range []string{"nobody@shop.example", "", "bad\x00email"} {
		if r, ok, err := f.store.RequestPasswordReset(ctx, email, "192.0.2.1"); err != nil || ok || r.Token != "" {
			t.Errorf("RequestPasswordReset(%q) = %+v, %v, %v; want nothing", email, r, ok, err)
		}
	}
	if n := f.count(t, "password_resets"); n != 0 {
		t.Errorf("%d resets stored", n)
	}
	for _, tok := range []string{"", "junk", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "../../etc"} {
		if _, err := f.store.ResetPassword(ctx, tok, "a new good password", "192.0.2.1"); !errors.Is(err, tenants.ErrLinkInvalid) {
			t.Errorf("ResetPassword(%q) = %v", tok, err)
		}
		if _, err := f.store.PasswordResetEmail(ctx, tok); !errors.Is(err, tenants.ErrLinkInvalid) {
			t.Errorf("PasswordResetEmail(%q) = %v", tok, err)
		}
	}
}

func TestPasswordResetExpires(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	_, u := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	r, _, err := f.store.RequestPasswordReset(ctx, u.Email, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(tenants.PasswordResetTTL)
	if _, err := f.store.ResetPassword(ctx, r.Token, "a new good password", "192.0.2.1"); !errors.Is(err, tenants.ErrLinkInvalid) {
		t.Errorf("expired link: %v", err)
	}
}

// At most three links an hour per account, so the form cannot flood an inbox.
func TestPasswordResetRequestsLimited(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	_, u := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	for i := range 4 {
		_, ok, err := f.store.RequestPasswordReset(ctx, u.Email, "192.0.2.1")
		if err != nil || ok != (i < 3) {
			t.Errorf("request %d: ok %v, %v", i+1, ok, err)
		}
	}
	f.clock.Advance(time.Hour + time.Second)
	if _, ok, err := f.store.RequestPasswordReset(ctx, u.Email, "192.0.2.1"); err != nil || !ok {
		t.Errorf("after an hour: ok %v, %v", ok, err)
	}
}

// Two resets with one token at once: exactly one wins. The barrier lines
// both up after their checks, so both reach the consuming UPDATE.
func TestPasswordResetSingleUseUnderRace(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	_, u := f.signUp(t, "Harbour Bikes", "owner@harbour.example")
	r, _, err := f.store.RequestPasswordReset(ctx, u.Email, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	errs := make(chan error, 2)
	for _, pw := range []string{"first new password", "second new password"} {
		go func() {
			<-start
			_, err := f.store.ResetPassword(ctx, r.Token, pw, "192.0.2.1")
			errs <- err
		}()
	}
	close(start)
	var ok, invalid int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, tenants.ErrLinkInvalid):
			invalid++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || invalid != 1 {
		t.Errorf("%d succeeded, %d refused; want 1 and 1", ok, invalid)
	}
}
