package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemsync/tandem/sql/dbtest"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runCmd(t *testing.T, ctx context.Context, vars map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer
	code = run(ctx, args, &stdio{in: strings.NewReader(stdin), out: &out, err: &errb}, env(vars))
	return code, out.String(), errb.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	code, out, _ := runCmd(t, t.Context(), nil, "", "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("--help does not list %s:\n%s", c.name, out)
		}
		code, _, _ := runCmd(t, t.Context(), nil, "", c.name, "--help")
		if code != 0 {
			t.Errorf("tandem %s --help: exit %d, want 0", c.name, code)
		}
	}
	for _, sb := range []string{"lightspeed", "salesforce"} {
		if code, _, _ := runCmd(t, t.Context(), nil, "", "sandbox", sb, "--help"); code != 0 {
			t.Errorf("tandem sandbox %s --help: exit %d", sb, code)
		}
	}
	if code, _, errOut := runCmd(t, t.Context(), nil, "", "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	key := newKey()
	tests := []struct {
		name string
		vars map[string]string
		want string // substring of the error; "" = valid
	}{
		{"defaults", nil, ""},
		{"bad addr", map[string]string{"TANDEM_ADDR": "8080"}, "TANDEM_ADDR: want HOST:PORT"},
		{"bad metrics addr", map[string]string{"TANDEM_METRICS_ADDR": "9090"}, "TANDEM_METRICS_ADDR: want HOST:PORT"},
		{"bad base url", map[string]string{"TANDEM_BASE_URL": "tandem.example.com"}, "TANDEM_BASE_URL: want an absolute http(s) URL"},
		{"short key", map[string]string{"TANDEM_SECRET_KEY": "c2hvcnQ="}, "TANDEM_SECRET_KEY: want 32 bytes, got 5; run `tandem keygen`"},
		{"not base64", map[string]string{"TANDEM_SECRET_KEY": "!!!"}, "TANDEM_SECRET_KEY: not valid base64"},
		{"good key", map[string]string{"TANDEM_SECRET_KEY": key}, ""},
		{"bad old key", map[string]string{"TANDEM_SECRET_KEY": key, "TANDEM_SECRET_KEYS": key + ",nope"}, "TANDEM_SECRET_KEYS: key 2"},
		{"bad level", map[string]string{"LOG_LEVEL": "loud"}, `LOG_LEVEL: want debug, info, warn or error, got "loud"`},
		{"bad sync interval", map[string]string{"TANDEM_SYNC_INTERVAL": "often"}, `TANDEM_SYNC_INTERVAL: want a duration between 1s and 24h such as 30s or 5m, got "often"`},
		{"sync interval too short", map[string]string{"TANDEM_SYNC_INTERVAL": "10ms"}, "TANDEM_SYNC_INTERVAL: want a duration between 1s and 24h"},
		{"bad event retention", map[string]string{"TANDEM_EVENT_RETENTION": "90 days"}, `TANDEM_EVENT_RETENTION: want a duration of at least 1h such as 2160h (90 days), got "90 days"`},
		{"event retention too short", map[string]string{"TANDEM_EVENT_RETENTION": "5m"}, "TANDEM_EVENT_RETENTION: want a duration of at least 1h"},
		{"bad format", map[string]string{"LOG_FORMAT": "xml"}, `LOG_FORMAT: want text or json, got "xml"`},
		{"bad lightspeed api url", map[string]string{"LIGHTSPEED_API_URL": "localhost:8091"}, "LIGHTSPEED_API_URL: want an absolute http(s) URL"},
		{"bad salesforce login url", map[string]string{"SALESFORCE_LOGIN_URL": "ftp://x"}, "SALESFORCE_LOGIN_URL: want an absolute http(s) URL"},
		{"bad database url", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL: want a PostgreSQL URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(env(tt.vars))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestKeygenPrintsAUsableKey(t *testing.T) {
	t.Parallel()
	code, out, _ := runCmd(t, t.Context(), nil, "", "keygen")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := loadConfig(env(map[string]string{"TANDEM_SECRET_KEY": strings.TrimSpace(out)})); err != nil {
		t.Fatalf("keygen output rejected: %v", err)
	}
}

func TestServeAndWorkerRefuseWithoutSecretKey(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "worker"} {
		code, _, errOut := runCmd(t, t.Context(), map[string]string{"DATABASE_URL": dbtest.DefaultURL}, "", cmd)
		if code != 1 || !strings.Contains(errOut, "TANDEM_SECRET_KEY is not set") || !strings.Contains(errOut, "tandem keygen") {
			t.Errorf("%s without key: exit %d, stderr %q", cmd, code, errOut)
		}
	}
}

func TestServeUnreachableDatabaseExitsWithOneLine(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"DATABASE_URL":      "postgres://postgres@127.0.0.1:1/tandem?sslmode=disable",
		"TANDEM_SECRET_KEY": newKey(),
	}
	code, _, errOut := runCmd(t, t.Context(), vars, "", "serve")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines != 1 || !strings.Contains(errOut, "cannot reach the database at 127.0.0.1:1") {
		t.Fatalf("stderr = %q, want one line naming 127.0.0.1:1", errOut)
	}
}

func TestMigrateAndStaffAdd(t *testing.T) {
	t.Parallel()
	pool, dbURL := dbtest.NewWithURL(t)
	ctx := t.Context()
	vars := map[string]string{"DATABASE_URL": dbURL}
	code, out, errOut := runCmd(t, ctx, vars, "", "migrate")
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: exit %d, out %q, err %q", code, out, errOut)
	}

	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("correct horse battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd(t, ctx, vars, "", "staff", "add", "Help@Example.com", "--password-file", pwFile)
	if code != 0 || !strings.Contains(out, "Created staff user") {
		t.Fatalf("staff add: exit %d, out %q, err %q", code, out, errOut)
	}
	// From standard input when it is not a terminal; promotes, not duplicates.
	code, out, errOut = runCmd(t, ctx, vars, "another long password\n", "staff", "add", "help@example.com")
	if code != 0 || !strings.Contains(out, "now has staff access") {
		t.Fatalf("staff add again: exit %d, out %q, err %q", code, out, errOut)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM users WHERE email = 'help@example.com' AND is_staff").Scan(&n); err != nil || n != 1 {
		t.Fatalf("staff users = %d, %v; want 1", n, err)
	}
	if code, _, errOut := runCmd(t, ctx, vars, "", "staff", "add"); code != 1 || !strings.Contains(errOut, "needs an EMAIL") {
		t.Fatalf("staff add without email: exit %d, %q", code, errOut)
	}
}

// TestDevRunsEverything starts `tandem dev` against a test database and
// checks that web and both sandboxes answer, then that it stops on cancel.
func TestDevRunsEverything(t *testing.T) {
	t.Parallel()
	_, dbURL := dbtest.NewWithURL(t)
	ctx, cancel := context.WithCancel(t.Context())
	vars := map[string]string{"DATABASE_URL": dbURL, "TANDEM_DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn", "TANDEM_METRICS_ADDR": "127.0.0.1:0"}
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		// The web on every interface: the sandboxes must stay on loopback.
		done <- run(ctx, []string{"dev", "--addr", "0.0.0.0:0"}, &stdio{in: strings.NewReader(""), out: &out, err: &errb}, env(vars))
	}()

	urls := waitForURLs(t, &out, done, &errb)
	for _, name := range []string{"Lightspeed sandbox", "Salesforce sandbox"} {
		if !strings.HasPrefix(urls[name], "http://127.0.0.1:") {
			t.Errorf("%s at %s; want it on 127.0.0.1 only", name, urls[name])
		}
	}
	for name, u := range map[string]string{
		"web":        urls["Web"] + "/healthz",
		"lightspeed": urls["Lightspeed sandbox"] + "/API/V3/Account.json",
		"salesforce": urls["Salesforce sandbox"] + "/services/data/",
	} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// The Lightspeed API wants a token: 401 proves the sandbox answers.
		if resp.StatusCode != http.StatusOK && !(name == "lightspeed" && resp.StatusCode == http.StatusUnauthorized) {
			t.Errorf("%s %s: status %d", name, u, resp.StatusCode)
		}
	}
	// Metrics are on their own listener, not the web port.
	if resp, err := http.Get(urls["Web"] + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the web port: %v %v; want 404", resp.StatusCode, err)
	}
	m := regexp.MustCompile(`(?m)^\s+Metrics:\s+(http://\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("dev output names no metrics URL:\n%s", out.String())
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `tandem_http_requests_total{method="GET",route="/healthz",status="200"} 1`) || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("metrics at %s lack the web's and the runtime's series:\n%s", m[1], body)
	}
	for _, want := range []string{demoEmail, demoPassword, demoStaffEmail, demoStaffPassword} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dev output lacks %q", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("dev exit %d after cancel: %s", code, errb.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("dev did not stop within 60s of cancel")
	}
}

var urlLine = regexp.MustCompile(`(?m)^\s+(Web|Lightspeed sandbox|Salesforce sandbox):\s+(http://\S+)`)

func waitForURLs(t *testing.T, out *syncBuffer, done <-chan int, errb *syncBuffer) map[string]string {
	t.Helper()
	deadline := time.After(90 * time.Second)
	for {
		if m := urlLine.FindAllStringSubmatch(out.String(), -1); len(m) == 3 {
			urls := map[string]string{}
			for _, g := range m {
				urls[g[1]] = g[2]
			}
			return urls
		}
		select {
		case code := <-done:
			t.Fatalf("dev exited %d before ready: %s", code, errb.String())
		case <-deadline:
			t.Fatalf("dev not ready within 90s; output: %s %s", out.String(), errb.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestSandboxAddrStaysOnLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flag, web string
		want      string // "" = refused
	}{
		{"", "127.0.0.1:8080", "127.0.0.1:8081"},
		{"", "0.0.0.0:8080", "127.0.0.1:8081"},
		{"", ":8080", "127.0.0.1:8081"},
		{"", "192.0.2.10:0", "127.0.0.1:0"},
		{"localhost:9001", "0.0.0.0:8080", "127.0.0.1:9001"},
		{":9001", "0.0.0.0:8080", "127.0.0.1:9001"},
		{"0.0.0.0:9001", "127.0.0.1:8080", ""},
		{"192.0.2.10:9001", "127.0.0.1:8080", ""},
		{"9001", "127.0.0.1:8080", ""},
	}
	for _, tt := range tests {
		got, err := sandboxAddr("--lightspeed-addr", tt.flag, tt.web, 1)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), "--lightspeed-addr") {
				t.Errorf("sandboxAddr(%q, %q) = %q, %v; want an error naming the flag", tt.flag, tt.web, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("sandboxAddr(%q, %q) = %q, %v; want %q", tt.flag, tt.web, got, err, tt.want)
		}
	}
}

// TestServeAndWorkerServeMetricsPrivately: both open TANDEM_METRICS_ADDR
// and serve /metrics there; the web port has none.
func TestServeAndWorkerServeMetricsPrivately(t *testing.T) {
	t.Parallel()
	_, dbURL := dbtest.NewWithURL(t)
	if code, out, errOut := runCmd(t, t.Context(), map[string]string{"DATABASE_URL": dbURL}, "", "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d, %s %s", code, out, errOut)
	}
	metricsAddr := regexp.MustCompile(`metrics_addr=(\S+)`)
	webAddr := regexp.MustCompile(`msg="web listening" addr=(\S+)`)
	for _, cmd := range []string{"serve", "worker"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			vars := map[string]string{
				"DATABASE_URL": dbURL, "TANDEM_SECRET_KEY": newKey(),
				"TANDEM_ADDR": "127.0.0.1:0", "TANDEM_METRICS_ADDR": "127.0.0.1:0",
			}
			var out, errb syncBuffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{cmd}, &stdio{in: strings.NewReader(""), out: &out, err: &errb}, env(vars))
			}()
			var m []string
			deadline := time.After(60 * time.Second)
			for m == nil {
				m = metricsAddr.FindStringSubmatch(errb.String())
				select {
				case code := <-done:
					t.Fatalf("exited %d before serving metrics: %s", code, errb.String())
				case <-deadline:
					t.Fatalf("no metrics address logged within 60s: %s", errb.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			code, _, body := httpGet(t, "http://"+m[1]+"/metrics")
			if code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
				t.Errorf("metrics port: %d %q", code, tail(body, 200))
			}
			if w := webAddr.FindStringSubmatch(errb.String()); w != nil {
				if code, _, _ := httpGet(t, "http://"+w[1]+"/metrics"); code != http.StatusNotFound {
					t.Errorf("/metrics on the web port: %d; want 404", code)
				}
			} else if cmd == "serve" {
				t.Errorf("serve logged no web address: %s", errb.String())
			}
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("exit %d after cancel: %s", code, errb.String())
			}
		})
	}
}

func httpGet(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }
