// Package sfclicheck_test runs Salesforce's own command-line tool, sf (npm
// @salesforce/cli), unchanged against an in-process Salesforce sandbox: log
// in with an access token, display the org, describe an object, create a
// record, query, show the API limits and export with a Bulk API 2.0 query
// job. sf is what a Salesforce developer reaches for first; if it works
// against the sandbox as against a real org, so will their scripts.
package sfclicheck_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

// sfCLI is an sf installation and the sandbox it talks to.
type sfCLI struct {
	bin  string
	env  []string
	dir  string
	sb   *sandbox.Server
	base string
}

// newSFCLI starts a seeded sandbox and prepares an sf with a private home
// directory. It skips the test only when Node.js or npm is missing.
func newSFCLI(t *testing.T) *sfCLI {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH: the sf CLI check needs Node.js 20 or later and npm (apt-get install nodejs npm, then make npm-deps)", tool)
		}
	}
	bin, err := filepath.Abs("node_modules/.bin/sf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the sf CLI is not installed: run `npm ci --prefix integrations/salesforce/sfclicheck` (or make npm-deps) first (%v)", err)
	}
	seed := int64(7)
	sb := sandbox.New(sandbox.Options{Seed: &seed})
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		sb.Close()
	})
	home := t.TempDir()
	env := append(os.Environ(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		// No telemetry, update checks or release notes: the check must
		// not reach the network beyond the sandbox.
		"SF_DISABLE_TELEMETRY=true",
		"SFDX_DISABLE_TELEMETRY=true",
		"SF_AUTOUPDATE_DISABLE=true",
		"SF_DISABLE_AUTOUPDATE=true",
		"SF_HIDE_RELEASE_NOTES=true",
		"SF_SKIP_NEW_VERSION_CHECK=true",
		"SF_USE_GENERIC_UNIX_KEYCHAIN=true",
		"SF_DISABLE_LOG_FILE=true",
		"SF_ACCESS_TOKEN=",
	)
	return &sfCLI{bin: bin, env: env, dir: t.TempDir(), sb: sb, base: srv.URL}
}

// run runs sf with args (and extra environment) and returns its stdout and
// exit error; stderr goes to the test log on failure.
func (s *sfCLI) run(t *testing.T, extraEnv []string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = append(slices.Clone(s.env), extraEnv...)
	cmd.Dir = s.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	t.Logf("sf %s: %s", strings.Join(args[:min(len(args), 3)], " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Logf("sf %s failed: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out, err
}

// runJSON runs sf with --json and decodes its result.
func (s *sfCLI) runJSON(t *testing.T, extraEnv []string, v any, args ...string) {
	t.Helper()
	out, err := s.run(t, extraEnv, append(args, "--json")...)
	if err != nil {
		t.Fatalf("sf %s: %v", strings.Join(args, " "), err)
	}
	var envelope struct {
		Status int             `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(out, &envelope); err != nil || envelope.Status != 0 {
		t.Fatalf("sf %s answered status %d (%v):\n%s", strings.Join(args, " "), envelope.Status, err, out)
	}
	if err := json.Unmarshal(envelope.Result, v); err != nil {
		t.Fatalf("sf %s result: %v\n%s", strings.Join(args, " "), err, envelope.Result)
	}
}

func TestSFCLIAgainstSandbox(t *testing.T) {
	t.Parallel()
	s := newSFCLI(t)
	tok := s.sb.MintToken(s.base)

	var login struct {
		Username           string `json:"username"`
		OrgID              string `json:"orgId"`
		InstanceURL        string `json:"instanceUrl"`
		InstanceAPIVersion string `json:"instanceApiVersion"`
	}
	s.runJSON(t, []string{"SF_ACCESS_TOKEN=" + tok.AccessToken}, &login,
		"org", "login", "access-token", "--instance-url", s.base, "--no-prompt", "--alias", "sbx")
	if login.Username != sandbox.DefaultUsername || !strings.HasPrefix(login.OrgID, "00D") || login.InstanceAPIVersion != "66.0" {
		t.Fatalf("login = %+v", login)
	}

	// sf stores the instance URL with a trailing slash and asks for
	// //services/data/...: without repeated slashes read as one it falls
	// back to API v50.0 here and every later command fails.
	var display struct {
		APIVersion      string `json:"apiVersion"`
		ConnectedStatus string `json:"connectedStatus"`
		Username        string `json:"username"`
	}
	s.runJSON(t, nil, &display, "org", "display", "--target-org", "sbx")
	if display.APIVersion != "66.0" || display.ConnectedStatus != "Connected" || display.Username != sandbox.DefaultUsername {
		t.Errorf("org display = %+v", display)
	}

	var describe struct {
		Name   string `json:"name"`
		Fields []struct {
			Name string `json:"name"`
		} `json:"fields"`
	}
	s.runJSON(t, nil, &describe, "sobject", "describe", "--sobject", "Contact", "--target-org", "sbx")
	var fields []string
	for _, f := range describe.Fields {
		fields = append(fields, f.Name)
	}
	if describe.Name != "Contact" || !slices.Contains(fields, "LastName") || !slices.Contains(fields, "MasterRecordId") {
		t.Errorf("describe Contact: name %q, fields %v", describe.Name, fields)
	}

	var created struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	s.runJSON(t, nil, &created, "data", "create", "record", "--sobject", "Contact",
		"--values", "LastName=Cli FirstName=Sf Email=sf-cli@example.com", "--target-org", "sbx")
	if !created.Success || !strings.HasPrefix(created.ID, "003") {
		t.Fatalf("create record = %+v", created)
	}

	var query struct {
		TotalSize int              `json:"totalSize"`
		Records   []map[string]any `json:"records"`
	}
	q := "SELECT Id, Name, Email FROM Contact WHERE Email = 'sf-cli@example.com'"
	s.runJSON(t, nil, &query, "data", "query", "--query", q, "--target-org", "sbx")
	if query.TotalSize != 1 || len(query.Records) != 1 || query.Records[0]["Id"] != created.ID || query.Records[0]["Name"] != "Sf Cli" {
		t.Errorf("data query = %+v", query)
	}
	// The CSV report lays its columns out from query?columns=true, nested
	// for relationship fields.
	out, err := s.run(t, nil, "data", "query", "--query", "SELECT Id, Name, Account.Name FROM Contact WHERE Account.Name != null ORDER BY Name LIMIT 2",
		"--target-org", "sbx", "--result-format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || !slices.Equal(rows[0], []string{"Id", "Name", "Account.Name"}) || rows[1][2] == "" {
		t.Errorf("data query as CSV (%v):\n%s", err, out)
	}

	var limits []struct {
		Name      string `json:"name"`
		Max       int    `json:"max"`
		Remaining int    `json:"remaining"`
	}
	s.runJSON(t, nil, &limits, "limits", "api", "display", "--target-org", "sbx")
	i := slices.IndexFunc(limits, func(l struct {
		Name      string `json:"name"`
		Max       int    `json:"max"`
		Remaining int    `json:"remaining"`
	}) bool {
		return l.Name == "DailyApiRequests"
	})
	if i < 0 || limits[i].Max != sandbox.DefaultDailyAPILimit || limits[i].Remaining >= limits[i].Max {
		t.Errorf("limits = %+v", limits)
	}

	// A Bulk API 2.0 query job, polled and read through Sforce-Locator.
	file := filepath.Join(t.TempDir(), "contacts.csv")
	var export struct {
		TotalSize int    `json:"totalSize"`
		FilePath  string `json:"filePath"`
	}
	s.runJSON(t, nil, &export, "data", "export", "bulk", "--query", "SELECT Id, LastName, Email FROM Contact ORDER BY LastName",
		"--output-file", file, "--wait", "2", "--target-org", "sbx")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = csv.NewReader(bytes.NewReader(data)).ReadAll()
	want := s.sb.Stats().Records["Contact"]
	if err != nil || len(rows) != want+1 || !slices.Equal(rows[0], []string{"Id", "LastName", "Email"}) || export.TotalSize != want {
		t.Errorf("data export bulk: %d contacts in the org, totalSize %d, file (%v):\n%s", want, export.TotalSize, err, data)
	}
	if !slices.ContainsFunc(rows, func(r []string) bool { return r[0] == created.ID }) {
		t.Errorf("the exported CSV misses the contact sf created:\n%s", data)
	}
}

// TestSFCLICheckCanFail makes sure a refusal from the sandbox really fails
// the CLI (a check that cannot fail proves nothing): a well-formed token
// the org never issued is refused by the userinfo endpoint (Bad_OAuth_Token)
// and sf reports that.
func TestSFCLICheckCanFail(t *testing.T) {
	t.Parallel()
	s := newSFCLI(t)
	out, err := s.run(t, []string{"SF_ACCESS_TOKEN=00DRM00000000012AA!not-a-token-the-org-issued"},
		"org", "login", "access-token", "--instance-url", s.base, "--no-prompt", "--json")
	if err == nil {
		t.Fatalf("sf logged in with a token the org never issued:\n%s", out)
	}
	if !strings.Contains(string(out), "Bad_OAuth_Token") {
		t.Errorf("the failure does not carry the sandbox's refusal:\n%s", out)
	}
	if strings.Contains(string(out), "not-a-token-the-org-issued") {
		t.Errorf("the failure repeats the token:\n%s", out)
	}
}
