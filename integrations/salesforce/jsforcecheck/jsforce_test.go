// Package jsforcecheck_test runs check.mjs, a script of unchanged jsforce
// calls, against an in-process Salesforce sandbox. jsforce is the most used
// third-party Salesforce client; if it works against the sandbox unchanged,
// the sandbox speaks the real API closely enough for our own client's tests
// to mean something.
package jsforcecheck_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

func TestJSForceAgainstSandbox(t *testing.T) {
	t.Parallel()
	out, err := runCheck(t, nil)
	if err != nil {
		t.Fatalf("node check.mjs against the sandbox failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestJSForceCheckCanFail makes sure a mismatch really fails the script (a
// check that cannot fail proves nothing): the sandbox refuses the password.
func TestJSForceCheckCanFail(t *testing.T) {
	t.Parallel()
	out, err := runCheck(t, []string{"SF_PASSWORD=not-the-password"})
	if err == nil {
		t.Fatalf("check.mjs passed with a wrong password:\n%s", out)
	}
	if !strings.Contains(string(out), `FAIL at step "login`) {
		t.Errorf("failure output does not name the login step:\n%s", out)
	}
	if strings.Contains(string(out), "not-the-password") {
		t.Errorf("failure output repeats the password:\n%s", out)
	}
}

// runCheck starts a sandbox in-process and runs check.mjs against it.
func runCheck(t *testing.T, env []string) ([]byte, error) {
	t.Helper()
	if _, err := os.Stat("node_modules/jsforce/package.json"); err != nil {
		t.Fatalf("jsforce is not installed: run `npm ci --prefix integrations/salesforce/jsforcecheck` first (%v)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: install Node.js 20 or later to run the jsforce check (%v)", err)
	}
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		sb.Close()
	})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "check.mjs")
	cmd.Env = append(append(os.Environ(), "SF_SANDBOX_URL="+srv.URL), env...)
	return cmd.CombinedOutput()
}
