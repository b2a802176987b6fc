package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tandemsync/tandem"

// arrows are the package rules: each is named for what it requires, and
// bad reports whether a package may not depend on dep (both relative to the
// module; transitive dependencies count).
var arrows = []struct {
	name string
	bad  func(pkg, dep string) bool
}{
	{"nothing under jobs or tenants imports web", func(pkg, dep string) bool {
		return (under(pkg, "jobs") || under(pkg, "tenants")) && under(dep, "web")
	}},
	{"tenants imports neither jobs nor integrations", func(pkg, dep string) bool {
		return under(pkg, "tenants") && (under(dep, "jobs") || under(dep, "integrations"))
	}},
	{"integrations import nothing of the app", func(pkg, dep string) bool {
		return under(pkg, "integrations") && !under(dep, "integrations")
	}},
	{"a sandbox never imports its client", func(pkg, dep string) bool {
		client, _, ok := strings.Cut(pkg, "/sandbox")
		return ok && under(client, "integrations") && dep == client
	}},
}

// under reports whether pkg is dir or below it.
func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// TestPackageArrows enforces the arrows over what `go list -deps` reports
// for every package of the module (test files excluded: a test may use a
// sandbox or a helper from anywhere).
func TestPackageArrows(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	packages := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		packages++
		pkg, ok := strings.CutPrefix(fields[0], module+"/")
		if !ok {
			continue
		}
		for _, d := range fields[1:] {
			dep, ok := strings.CutPrefix(d, module+"/")
			if !ok {
				continue // the standard library and third-party modules
			}
			for _, a := range arrows {
				if a.bad(pkg, dep) {
					t.Errorf("%s depends on %s: %s", pkg, dep, a.name)
				}
			}
		}
	}
	if packages < 10 {
		t.Fatalf("go list reported %d packages; the module has more", packages)
	}
}

// TestArrowRules checks the rules themselves on known cases, so a rule
// that matches nothing cannot pass unnoticed.
func TestArrowRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkg, dep string
		want     string // the rule broken, "" when allowed
	}{
		{"jobs/sync", "web/onboard", "nothing under jobs or tenants imports web"},
		{"tenants/setup", "web", "nothing under jobs or tenants imports web"},
		{"tenants/setup", "jobs/mapping", "tenants imports neither jobs nor integrations"},
		{"tenants/vault", "integrations/lightspeed", "tenants imports neither jobs nor integrations"},
		{"integrations/salesforce", "tenants/vault", "integrations import nothing of the app"},
		{"integrations/lightspeed/sandbox", "integrations/lightspeed", "a sandbox never imports its client"},
		{"integrations/salesforce/sandbox/soql", "integrations/salesforce", "a sandbox never imports its client"},
		{"web", "jobs/connect", ""},
		{"jobs/connect", "tenants/vault", ""},
		{"jobs/connect", "integrations/salesforce", ""},
		{"jobs/mapping", "tenants/setup", ""},
		{"integrations/salesforce/sandbox", "integrations/salesforce/sandbox/soql", ""},
		{"cmd/tandem", "web", ""},
	}
	for _, tt := range tests {
		var got []string
		for _, a := range arrows {
			if a.bad(tt.pkg, tt.dep) {
				got = append(got, a.name)
			}
		}
		if strings.Join(got, "; ") != tt.want {
			t.Errorf("%s → %s breaks %q, want %q", tt.pkg, tt.dep, got, tt.want)
		}
	}
}
