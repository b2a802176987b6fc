package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/web"
)

// withMailbox gives the app a dev mailbox (and so /dev/mail).
func withMailbox(box *mail.Mailbox) appOption {
	return func(c *web.Config) { c.DevMailbox = box }
}

// failingMail is a sender whose every send fails.
type failingMail struct {
	mu   sync.Mutex
	sent int
}

func (f *failingMail) Send(context.Context, mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent++
	return errors.New("smtp: 451 try later")
}

var linkRE = regexp.MustCompile(`http://tandem\.test(/[a-z-]+\?token=[A-Za-z0-9_-]+)`)

// lastLink returns the path of the link in the newest message to to.
func lastLink(t *testing.T, box *mail.Mailbox, to string) string {
	t.Helper()
	for _, m := range box.Messages() {
		if m.To == to {
			if l := linkRE.FindStringSubmatch(m.Body); l != nil {
				return l[1]
			}
			t.Fatalf("no link in %q", m.Body)
		}
	}
	t.Fatalf("no mail to %s", to)
	return ""
}

func TestForgotPassword(t *testing.T) {
	t.Parallel()
	box := mail.NewMailbox()
	a := newApp(t, withMailbox(box))
	_, u := a.signUp("Harbour Bikes", "owner@harbour.example")
	other := a.browser()
	if p := other.logIn(u.Email, "a good password"); p.path() != "/dashboard" {
		t.Fatalf("log in: %s", p.path())
	}

	b := a.browser()
	login := b.get("/login")
	if href := login.doc.Find("a[href='/forgot-password']").Length(); href != 1 {
		t.Error("log-in page has no forgot-password link")
	}
	answer := func(email string) string {
		p := b.submit(b.get("/forgot-password"), "form[action='/forgot-password']", map[string]string{"email": email})
		if p.status() != http.StatusOK {
			t.Fatalf("forgot %s: status %d", email, p.status())
		}
		return strings.ReplaceAll(p.text("[data-testid=reset-sent]"), email, "EMAIL")
	}
	known, unknown := answer("owner@harbour.example"), answer("nobody@harbour.example")
	if known != unknown || known == "" {
		t.Errorf("answers differ:\nknown:   %q\nunknown: %q", known, unknown)
	}
	if n := len(box.Messages()); n != 1 {
		t.Fatalf("%d messages; want 1 (none for the unknown email)", n)
	}
	link := lastLink(t, box, u.Email)
	if strings.Contains(a.logs.String(), strings.TrimPrefix(link, "/reset-password?token=")) {
		t.Error("the reset token is in the logs")
	}

	form := b.get(link)
	if form.status() != http.StatusOK || !strings.Contains(form.text("main"), u.Email) {
		t.Fatalf("reset page: %d %q", form.status(), form.text("main"))
	}
	short := b.submit(form, "form[action='/reset-password']", map[string]string{"password": "short"})
	if short.status() != http.StatusUnprocessableEntity || short.text("[data-field-error=password]") == "" {
		t.Errorf("short password: %d %q", short.status(), short.text("main"))
	}
	done := b.submit(form, "form[action='/reset-password']", map[string]string{"password": "my new password"})
	if done.path() != "/login" || !strings.Contains(done.text(".flash"), "password has been changed") {
		t.Errorf("after reset: %s %q", done.path(), done.text(".flash"))
	}
	// The other browser's session ended.
	if p := other.get("/dashboard"); !strings.HasPrefix(p.path(), "/login") {
		t.Errorf("other session still in: %s", p.path())
	}
	// Used once.
	if again := b.get(link); again.status() != http.StatusNotFound || !again.has("[data-testid=link-invalid]") {
		t.Errorf("second use: %d", again.status())
	}
	if p := b.logIn(u.Email, "my new password"); p.path() != "/dashboard" {
		t.Errorf("log in with the new password: %s", p.path())
	}
}

// Whether or not mail goes out, the person is told the same thing.
func TestForgotPasswordSendFailureIsNotShown(t *testing.T) {
	t.Parallel()
	fm := &failingMail{}
	a := newApp(t, func(c *web.Config) { c.Mail = fm })
	a.signUp("Harbour Bikes", "owner@harbour.example")
	b := a.browser()
	p := b.submit(b.get("/forgot-password"), "form[action='/forgot-password']", map[string]string{"email": "owner@harbour.example"})
	if p.status() != http.StatusOK || !p.has("[data-testid=reset-sent]") || fm.sent != 1 {
		t.Errorf("status %d, sent %d", p.status(), fm.sent)
	}
	if !strings.Contains(a.logs.String(), "451 try later") {
		t.Error("send failure not logged")
	}
}

func TestDevMailOnlyWithMailbox(t *testing.T) {
	t.Parallel()
	if p := newApp(t).browser().get("/dev/mail"); p.status() != http.StatusNotFound {
		t.Errorf("/dev/mail without a mailbox: %d; want 404", p.status())
	}
	box := mail.NewMailbox()
	a := newApp(t, withMailbox(box))
	if p := a.browser().get("/dev/mail"); p.status() != http.StatusOK || !p.has("[data-testid=no-mail]") {
		t.Errorf("empty mailbox: %d", p.status())
	}
	_ = box.Send(t.Context(), mail.Message{To: "a@b.example", Subject: "Hello <b>", Body: "Line\n\nhttp://tandem.test/invite?token=x\nhttp://evil.example/x\n"})
	p := a.browser().get("/dev/mail")
	if got := p.text("[data-testid=mail] h2"); got != "Hello <b>" {
		t.Errorf("subject = %q", got)
	}
	var links []string
	p.doc.Find("[data-testid=mail-link]").Each(func(_ int, s *goquery.Selection) { links = append(links, s.AttrOr("href", "")) })
	if len(links) != 1 || links[0] != "http://tandem.test/invite?token=x" {
		t.Errorf("links = %v; want only our own", links)
	}
}

func TestAccountSettings(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tn, u := a.signUp("Harbour Bikes", "owner@harbour.example")
	a.signUp("Other", "taken@other.example")
	b := a.browser()
	b.logIn(u.Email, "a good password")
	other := a.browser()
	other.logIn(u.Email, "a good password")

	acct := b.get("/account")
	if acct.text("[data-testid=account-email]") != u.Email || !acct.has("[data-testid=business-form]") {
		t.Fatalf("account page: %q", acct.text("main"))
	}
	// Wrong current password.
	p := b.submit(acct, "[data-testid=password-form]", map[string]string{"current_password": "nope nope nope", "new_password": "another good one"})
	if p.status() != http.StatusUnprocessableEntity || p.text("[data-field-error=current_password]") != "That is not your current password." {
		t.Errorf("wrong current: %d %q", p.status(), p.text("[data-field-error]"))
	}
	p = b.submit(acct, "[data-testid=password-form]", map[string]string{"current_password": "a good password", "new_password": "another good one"})
	if p.path() != "/account" || !p.has(".flash.success") {
		t.Errorf("change password: %s %q", p.path(), p.text("main"))
	}
	if q := other.get("/dashboard"); !strings.HasPrefix(q.path(), "/login") {
		t.Errorf("other device still logged in: %s", q.path())
	}

	acct = b.get("/account")
	p = b.submit(acct, "[data-testid=email-form]", map[string]string{"email": "taken@other.example", "email_password": "another good one"})
	if p.text("[data-field-error=email]") != "Another account uses this email." {
		t.Errorf("taken email: %q", p.text("[data-field-error]"))
	}
	p = b.submit(acct, "[data-testid=email-form]", map[string]string{"email": "boss@harbour.example", "email_password": "another good one"})
	if p.text("[data-testid=account-email]") != "boss@harbour.example" {
		t.Errorf("change email: %q", p.text("main"))
	}

	acct = b.get("/account")
	p = b.submit(acct, "[data-testid=business-form]", map[string]string{"business_name": " "})
	if p.status() != http.StatusUnprocessableEntity || p.text("[data-field-error=business_name]") == "" {
		t.Errorf("blank name: %d", p.status())
	}
	p = b.submit(acct, "[data-testid=business-form]", map[string]string{"business_name": "Harbour Bikes & Boards"})
	if !strings.Contains(p.text(".flash.success"), "Harbour Bikes & Boards") {
		t.Errorf("rename: %q", p.text("main"))
	}
	// A rename form drawn for another tenant is refused.
	p = b.submit(acct, "[data-testid=business-form]", map[string]string{"business_name": "X", "form_tenant": "00000000-0000-0000-0000-000000000000"})
	if p.status() != http.StatusConflict {
		t.Errorf("mismatched tenant: %d; want 409", p.status())
	}
	if got, _ := a.store.Tenant(t.Context(), tn.ID); got.Name != "Harbour Bikes & Boards" {
		t.Errorf("tenant name = %q", got.Name)
	}
}

// inviteVia sends the team page's invite form.
func (b *browser) inviteVia(email, role string) page {
	b.t.Helper()
	return b.submit(b.get("/team"), "[data-testid=invite-form]", map[string]string{"email": email, "role": role})
}

func TestTeamInviteAcceptRolesRemove(t *testing.T) {
	t.Parallel()
	box := mail.NewMailbox()
	a := newApp(t, withMailbox(box))
	tn, owner := a.signUp("Harbour Bikes", "owner@harbour.example")
	a.signUp("Elsewhere", "clerk@harbour.example")
	ob := a.browser()
	ob.logIn(owner.Email, "a good password")

	if p := ob.inviteVia(owner.Email, "admin"); p.text("[data-field-error=email]") != "This person is already a member." {
		t.Errorf("invite a member: %q", p.text("main"))
	}
	p := ob.inviteVia("new@harbour.example", "admin")
	if p.path() != "/team" || !strings.Contains(p.text(".flash.success"), "Invitation sent to new@harbour.example as admin") {
		t.Fatalf("invite: %s %q", p.path(), p.text("main"))
	}
	if got := p.text("[data-invitation='new@harbour.example']"); !strings.Contains(got, "as admin, invited by owner@harbour.example") {
		t.Errorf("invitation row = %q", got)
	}
	link := lastLink(t, box, "new@harbour.example")

	// Someone new chooses a password and is in.
	nb := a.browser()
	inv := nb.get(link)
	if !strings.Contains(inv.text("h1"), "Join Harbour Bikes") {
		t.Fatalf("invitation page: %q", inv.text("main"))
	}
	p = nb.submit(inv, "form[action='/invite']", map[string]string{"password": "a good password"})
	if p.path() != "/dashboard" || p.text("[data-testid=tenant-name]") != "Harbour Bikes" {
		t.Fatalf("after accepting: %s %q", p.path(), p.text("main"))
	}
	if q := nb.get(link); q.status() != http.StatusNotFound {
		t.Errorf("used invitation: %d", q.status())
	}
	// An admin sees the team but cannot manage it.
	team := nb.get("/team")
	if team.has("[data-testid=invite-form]") || team.has("[data-testid=remove]") {
		t.Error("an admin is offered team management")
	}
	form := url.Values{"csrf": {team.doc.Find("input[name=csrf]").First().AttrOr("value", "")}, "form_tenant": {tn.ID}, "email": {"x@harbour.example"}, "role": {"owner"}}
	if q := nb.post("/team/invite", form); q.status() != http.StatusForbidden {
		t.Errorf("admin invites: %d; want 403", q.status())
	}

	// Someone with an account logs in first, then joins.
	ob.inviteVia("clerk@harbour.example", "viewer")
	link = lastLink(t, box, "clerk@harbour.example")
	cb := a.browser()
	if q := cb.get(link); !q.has("a[href^='/login?next=']") {
		t.Fatalf("existing user not asked to log in: %q", q.text("main"))
	}
	cb.logIn("clerk@harbour.example", "a good password")
	q := cb.submit(cb.get(link), "form[action='/invite']", nil)
	if q.path() != "/dashboard" || q.text("[data-testid=tenant-name]") != "Harbour Bikes" {
		t.Errorf("existing user accepting: %s %q", q.path(), q.text("main"))
	}

	// The owner cannot step down while alone; promotes, then the new owner removes.
	team = ob.get("/team")
	p = ob.submit(team, "tr[data-member='owner@harbour.example'] form:has(select)", map[string]string{"role": "viewer"})
	if !strings.Contains(p.text(".flash.error"), "must keep an owner") {
		t.Errorf("last owner demoted: %q", p.text("main"))
	}
	p = ob.submit(team, "tr[data-member='owner@harbour.example'] form:has([data-testid=leave])", nil)
	if !strings.Contains(p.text(".flash.error"), "must keep an owner") {
		t.Errorf("last owner left: %q", p.text("main"))
	}
	p = ob.submit(team, "tr[data-member='new@harbour.example'] form:has(select)", map[string]string{"role": "owner"})
	if !p.has(".flash.success") {
		t.Errorf("promote: %q", p.text("main"))
	}
	p = ob.submit(ob.get("/team"), "tr[data-member='clerk@harbour.example'] form:has([data-testid=remove])", nil)
	if p.has("tr[data-member='clerk@harbour.example']") {
		t.Error("removed member still listed")
	}
	p = ob.submit(ob.get("/team"), "tr[data-member='owner@harbour.example'] form:has([data-testid=leave])", nil)
	if p.path() != "/dashboard" || !strings.Contains(p.text(".flash"), "You have left Harbour Bikes") {
		t.Errorf("leave: %s %q", p.path(), p.text("main"))
	}
	log, _ := a.store.AuditLog(t.Context(), tn.ID, 20)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"member.invite", "member.invite_accept", "member.role_change", "member.remove", "member.leave"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}

func TestInviteSendFailureIsSaid(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *web.Config) { c.Mail = &failingMail{} })
	_, owner := a.signUp("Harbour Bikes", "owner@harbour.example")
	b := a.browser()
	b.logIn(owner.Email, "a good password")
	p := b.inviteVia("new@harbour.example", "viewer")
	if !strings.Contains(p.text(".flash.error"), "could not be sent") || !p.has("[data-invitation='new@harbour.example']") {
		t.Errorf("failed send: %q", p.text("main"))
	}
}

func TestInviteForAnotherUserAndJunkLinks(t *testing.T) {
	t.Parallel()
	box := mail.NewMailbox()
	a := newApp(t, withMailbox(box))
	_, owner := a.signUp("Harbour Bikes", "owner@harbour.example")
	a.signUp("Elsewhere", "someone@else.example")
	b := a.browser()
	b.logIn(owner.Email, "a good password")
	b.inviteVia("new@harbour.example", "viewer")
	link := lastLink(t, box, "new@harbour.example")
	wrong := a.browser()
	wrong.logIn("someone@else.example", "a good password")
	if p := wrong.get(link); !strings.Contains(p.text("h1"), "for someone else") || p.has("form[action='/invite']") {
		t.Errorf("another user: %q", p.text("main"))
	}
	for _, path := range []string{"/invite", "/invite?token=junk", "/reset-password?token=%00", "/reset-password"} {
		if p := a.browser().get(path); p.status() != http.StatusNotFound || !p.has("[data-testid=link-invalid]") {
			t.Errorf("%s: %d", path, p.status())
		}
	}
}

// disconnectVia presses the dashboard's Disconnect for provider, then
// confirms on the page that explains it, and returns where that lands.
func (b *browser) disconnectVia(provider string) page {
	b.t.Helper()
	confirm := b.submit(b.get("/dashboard"), "form[data-testid=disconnect-"+provider+"]", nil)
	if !confirm.has("[data-testid=disconnect-confirm]") {
		b.t.Fatalf("Disconnect %s did not ask first: %s %q", provider, confirm.path(), confirm.text("main"))
	}
	return b.submit(confirm, "form[data-testid=disconnect-confirm-"+provider+"]", nil)
}
