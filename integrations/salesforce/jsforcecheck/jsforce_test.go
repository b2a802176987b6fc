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
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

func TestJSForceAgainstSandbox(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("node_modules/jsforce/package.json"); err != nil {
		t.Fatalf("jsforce is not installed: run `npm ci --prefix integrations/salesforce/jsforcecheck` first (%v)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: install Node.js 20 or later to run the jsforce check (%v)", err)
	}
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "check.mjs")
	cmd.Env = append(os.Environ(), "SF_SANDBOX_URL="+srv.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node check.mjs against the sandbox failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
