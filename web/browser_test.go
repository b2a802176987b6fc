package web_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserSignUpLogOutLogIn walks the whole account journey in a real
// headless browser: sign up, see the dashboard, log out, log back in.
func TestBrowserSignUpLogOutLogIn(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("TANDEM_SKIP_BROWSER") == "1" {
			t.Skip("TANDEM_SKIP_BROWSER=1 and chromium is not installed")
		}
		t.Fatalf("%s not found (%v): install Debian's chromium package (apt-get install chromium), or set TANDEM_SKIP_BROWSER=1 to skip this test", chromiumPath, err)
	}
	a := newApp(t)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancel()
	// Generous: a cold browser start on a loaded 2-core machine is slow.
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	text := func(step, sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("%s: read %s: %v", step, sel, err)
		}
		return strings.TrimSpace(v)
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/signup"),
		chromedp.WaitVisible(css(`#business_name`)),
		chromedp.SendKeys(css(`#business_name`), "Harbour Bikes"),
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(css(`#password`), "a good password"),
		chromedp.Click(css(`form[action="/signup"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
	)
	if err != nil {
		t.Fatalf("sign up: %v", err)
	}
	if got := text("sign up", `[data-testid=tenant-name]`); got != "Harbour Bikes" {
		t.Errorf("dashboard after sign-up names %q", got)
	}
	if got := strings.Join(strings.Fields(text("sign up", `.connections`)), " "); got != "Lightspeed: not connected Salesforce: not connected" {
		t.Errorf("connections after sign-up: %q", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(css(`form[action="/logout"] button`)),
		chromedp.WaitVisible(css(`form[action="/login"]`)),
	)
	if err != nil {
		t.Fatalf("log out: %v", err)
	}
	if got := text("log out", `.flash.info`); got != "You have been logged out." {
		t.Errorf("flash after log-out = %q", got)
	}

	err = chromedp.Do(ctx,
		chromedp.SendKeys(css(`#email`), "owner@harbour.example"),
		chromedp.SendKeys(css(`#password`), "a good password"),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`[data-testid=tenant-name]`)),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	if got := text("log in", `[data-testid=tenant-name]`); got != "Harbour Bikes" || path != "/dashboard" {
		t.Errorf("after log-in: %q at %s; want Harbour Bikes at /dashboard", got, path)
	}
}
