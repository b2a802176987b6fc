package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tandemsync/tandem/integrations/mail"
)

// tab drives one headless browser tab, failing the test with the page's
// text when a step fails.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func newTab(t *testing.T) *tab { return &tab{t: t, ctx: newBrowser(t, 90*time.Second)} }

func (b *tab) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		b.t.Fatalf("%s: %v\nat %s:\n%s", name, err, loc, body)
	}
}

// text is the whitespace-normalised text of the first element matching sel,
// or "" when there is none.
func (b *tab) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf("(document.querySelector(%q) || {}).textContent || ''", sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(v), " ")
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// TestBrowserForgotPassword resets a password in a real browser, reading
// the link from the dev mailbox page as a developer would.
func TestBrowserForgotPassword(t *testing.T) {
	t.Parallel()
	box := mail.NewMailbox()
	a := newApp(t, withMailbox(box))
	a.signUp("Harbour Bikes", "owner@harbour.example")
	b := newTab(t)

	b.step("ask for a link",
		chromedp.Navigate(a.srv.URL+"/login"),
		chromedp.Click(css(`a[href="/forgot-password"]`)),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.Click(css(`form[action="/forgot-password"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=reset-sent]`)),
	)
	if got := b.text("[data-testid=reset-sent]"); !strings.Contains(got, "If owner@harbour.example has a Tandem account") {
		t.Errorf("confirmation = %q", got)
	}
	b.step("open the dev mailbox",
		chromedp.Click(css(`a[href="/dev/mail"]`)),
		chromedp.WaitVisible(css(`[data-testid=mail-link]`)),
	)
	if got := b.text("[data-testid=mail] h2"); got != "Reset your Tandem password" {
		t.Errorf("mail subject = %q", got)
	}
	// The mail's links are on the public base URL; the test server listens
	// elsewhere, so follow the link's path there.
	href := b.text("[data-testid=mail-link]")
	path := strings.TrimPrefix(href, "http://tandem.test")
	b.step("choose a new password",
		chromedp.Navigate(a.srv.URL+path),
		chromedp.WaitVisible(css(`#password`)),
		chromedp.SendKeys(css(`#password`), "my new password"),
		chromedp.Click(css(`form[action="/reset-password"] button[type=submit]`)),
		chromedp.WaitVisible(css(`.flash.info`)),
	)
	if got := b.text(".flash.info"); !strings.Contains(got, "password has been changed") {
		t.Errorf("flash after reset = %q", got)
	}
	b.step("log in with it",
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(css(`#password`), "my new password"),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
	)
	if got := b.text("[data-testid=tenant-name]"); got != "Harbour Bikes" {
		t.Errorf("dashboard names %q", got)
	}
}

// TestBrowserInviteAndAccept: an owner invites someone new from the team
// page; the invitee opens the emailed link, chooses a password and lands
// on the business's dashboard with the role given.
func TestBrowserInviteAndAccept(t *testing.T) {
	t.Parallel()
	box := mail.NewMailbox()
	a := newApp(t, withMailbox(box))
	a.signUp("Harbour Bikes", "owner@harbour.example")
	b := newTab(t)

	b.step("invite",
		chromedp.Navigate(a.srv.URL+"/login"),
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(css(`#password`), "a good password"),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
		chromedp.Click(css(`.site-nav a[href="/team"]`)),
		chromedp.WaitVisible(css(`[data-testid=invite-form]`)),
		chromedp.SendKeys(css(`#email`), "new@harbour.example"),
		chromedp.Click(css(`input[name=role][value=admin]`)),
		chromedp.Click(css(`[data-testid=invite-form] button[type=submit]`)),
		chromedp.WaitVisible(css(`.flash.success`)),
	)
	if got := b.text(".flash.success"); got != "Invitation sent to new@harbour.example as admin." {
		t.Errorf("flash = %q", got)
	}
	b.step("log out",
		chromedp.Click(css(`form[action="/logout"] button`)),
		chromedp.WaitVisible(css(`form[action="/login"]`)),
	)
	link := lastLink(t, box, "new@harbour.example")
	b.step("open the invitation",
		chromedp.Navigate(a.srv.URL+link),
		chromedp.WaitVisible(css(`#password`)),
	)
	if got := b.text("h1"); got != "Join Harbour Bikes on Tandem" {
		t.Errorf("invitation heading = %q", got)
	}
	b.step("accept",
		chromedp.SendKeys(css(`#password`), "a good password"),
		chromedp.Click(css(`[data-testid=accept]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
	)
	if got := b.text("[data-testid=tenant-name]"); got != "Harbour Bikes" {
		t.Errorf("dashboard names %q", got)
	}
	if got := b.text(".flash.success"); !strings.Contains(got, "Your role: admin") {
		t.Errorf("welcome = %q", got)
	}
}
