//go:build soak

package soak_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

var (
	chaosFor    = flag.Duration("duration", 2*time.Minute, "how long workers are killed and tokens expired while the history imports")
	freshFor    = flag.Duration("freshness", time.Minute, "how long the steady trickle is measured after everything settled")
	interval    = flag.Duration("interval", 2*time.Second, "TANDEM_SYNC_INTERVAL of the web and workers")
	customers   = flag.Int("customers", 500, "Lightspeed customers seeded")
	salesN      = flag.Int("sales", 2000, "Lightspeed sales seeded")
	shops       = flag.Int("shops", 3, "Lightspeed shops seeded")
	killEvery   = flag.Duration("kill-every", 10*time.Second, "SIGKILL a worker (and restart it) this often")
	expireEvery = flag.Duration("expire-every", time.Minute, "expire every access token on both sandboxes this often")
	errorRate   = flag.Float64("error-rate", 0.1, "share of API calls both sandboxes fail with 503")
	trickleRate = flag.Float64("trickle", 2, "new sales and customer edits per second, made in Lightspeed throughout")
	settleFor   = flag.Duration("settle-timeout", 8*time.Minute, "how long to wait for Salesforce to hold everything after the chaos (a killed run's stream is free again 30 s after its last lease renewal)")
)

const clientID, clientSecret = "tandem-dev", "tandem-dev-secret"

// TestSoak is the fault soak; see the package documentation.
func TestSoak(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	bin := buildTandem(t, dir)
	dbURL := freshDatabase(t, ctx)
	lsAddr, sfAddr, webAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	lsURL, sfURL, webURL := "http://"+lsAddr, "http://"+sfAddr, "http://"+webAddr

	// Both sandboxes stand-alone. Lightspeed's bucket is widened: the
	// trickle's writes (in a shop they come from the registers) and the
	// soak's own counting go through the same account bucket as Tandem,
	// and would otherwise starve it.
	lsArgs := []string{"sandbox", "lightspeed", "--addr", lsAddr, "--redirect-uri", webURL + "/connect/lightspeed/callback",
		"--customers", strconv.Itoa(*customers), "--sales", strconv.Itoa(*salesN), "--shops", strconv.Itoa(*shops),
		"--drip-rate", "200", "--bucket-size", "2000", "--burst", "100"}
	start(t, dir, bin, "lightspeed", nil, lsArgs...)
	start(t, dir, bin, "salesforce", nil, "sandbox", "salesforce", "--addr", sfAddr, "--seed", "none",
		"--redirect-uri", webURL+"/connect/salesforce/callback", "--daily-api-limit", "10000000")
	waitHTTP(t, lsURL+"/_sandbox/stats")
	waitHTTP(t, sfURL+"/_sandbox/stats")
	sb := &sandboxes{ls: lsURL, sf: sfURL}
	sb.faults(t, false)

	key := strings.TrimSpace(string(output(t, exec.Command(bin, "keygen"))))
	env := []string{
		"DATABASE_URL=" + dbURL, "TANDEM_SECRET_KEY=" + key, "TANDEM_ADDR=" + webAddr, "TANDEM_BASE_URL=" + webURL,
		"LIGHTSPEED_API_URL=" + lsURL, "LIGHTSPEED_AUTH_URL=" + lsURL, "SALESFORCE_LOGIN_URL=" + sfURL,
		"LIGHTSPEED_CLIENT_ID=" + clientID, "LIGHTSPEED_CLIENT_SECRET=" + clientSecret,
		"SALESFORCE_CLIENT_ID=" + clientID, "SALESFORCE_CLIENT_SECRET=" + clientSecret,
		"TANDEM_SYNC_INTERVAL=" + interval.String(),
	}
	migrate := exec.Command(bin, "migrate")
	migrate.Env = append(os.Environ(), env...)
	output(t, migrate)
	start(t, dir, bin, "serve", append(slices.Clip(env), "TANDEM_METRICS_ADDR="+freeAddr(t)), "serve")
	waitHTTP(t, webURL+"/readyz")
	// Each process serves its metrics on an address of its own.
	worker := func(i int) *proc {
		return start(t, dir, bin, fmt.Sprintf("worker-%d", i+1), append(slices.Clip(env), "TANDEM_METRICS_ADDR="+freeAddr(t)), "worker")
	}
	workers := []*proc{worker(0), worker(1)}

	onboard(t, webURL)
	importStart := time.Now()
	t.Logf("onboarded; importing %d customers and %d sales with %d%% 503s, a worker killed every %s, tokens expired every %s",
		*customers, *salesN, int(*errorRate*100), *killEvery, *expireEvery)

	tr := newTrickle(t, sb)
	trickleCtx, stopTrickle := context.WithCancel(ctx)
	var trickleDone sync.WaitGroup
	trickleDone.Add(1)
	go func() { defer trickleDone.Done(); tr.run(trickleCtx) }()

	// Chaos: kill a worker every killEvery, expire tokens every expireEvery.
	kills, expiries := 0, 0
	killT, expireT := time.NewTicker(*killEvery), time.NewTicker(*expireEvery)
	for deadline := time.After(*chaosFor); ; {
		select {
		case <-killT.C:
			i := kills % len(workers)
			workers[i].kill(t)
			kills++
			workers[i] = worker(i)
			continue
		case <-expireT.C:
			sb.faults(t, true)
			expiries++
			continue
		case <-deadline:
		}
		break
	}
	killT.Stop()
	expireT.Stop()
	chaosEnd := time.Now()
	tr.mark("steady")
	t.Logf("chaos over after %s: %d kills, %d token expiries; waiting for Salesforce to hold every record", chaosEnd.Sub(importStart).Round(time.Second), kills, expiries)

	// Settled: every seeded customer and completed sale is in Salesforce.
	settled := waitFor(t, *settleFor, func() (bool, string) {
		// Sales the trickle completes meanwhile are the freshness
		// figures' business, not the settling's.
		r := sb.check(t, nil, chaosEnd)
		return r.lost == 0 && r.duplicated == 0, r.String()
	})
	settle := time.Since(chaosEnd)
	t.Logf("settled %s after the chaos ended (%s after onboarding)", settle.Round(time.Second), time.Since(importStart).Round(time.Second))
	if !settled {
		t.Errorf("Salesforce did not settle within %s", *settleFor)
		diagnose(t, dbURL)
	}

	// Freshness: the trickle goes on without kills, faults still on.
	freshStart := time.Now()
	tr.mark("fresh")
	time.Sleep(*freshFor)
	stopTrickle()
	trickleDone.Wait()
	tr.mark("drain")
	if !waitFor(t, 2*time.Minute+3**interval, func() (bool, string) {
		return tr.pending() == 0, fmt.Sprintf("%d trickle changes not in Salesforce", tr.pending())
	}) {
		t.Errorf("%d trickle changes still not in Salesforce two minutes after the trickle stopped", tr.pending())
	}

	// The final count, with faults off so the check itself is exact.
	sb.clearFaults(t)
	final := sb.check(t, tr.snapshotEdits(), time.Time{})
	lsStats, sfStats := sb.stats(t)
	under, steady := tr.latencies("chaos"), tr.latencies("fresh")
	fig := map[string]any{
		"customers": final.customers, "sales": final.sales, "sale_lines": final.lines, "payments": final.payments,
		"trickle_sales": tr.count("sale"), "trickle_edits": tr.count("edit"),
		"kills": kills, "token_expiries": expiries,
		"faults":         map[string]int{"lightspeed": lsStats.FaultsInjected, "salesforce": sfStats.FaultsInjected},
		"trickle_unseen": tr.pending(), "settled": settled,
		"lost": final.lost, "duplicated": final.duplicated, "stale_edits": final.stale,
		"settle_s": round(settle.Seconds()), "import_and_settle_s": round(freshStart.Sub(importStart).Seconds()),
		"interval":                interval.String(),
		"freshness_s":             map[string]any{"n": len(steady), "p50": pct(steady, 50), "p95": pct(steady, 95), "max": pct(steady, 100)},
		"freshness_under_kills_s": map[string]any{"n": len(under), "p50": pct(under, 50), "p95": pct(under, 95), "max": pct(under, 100)},
	}
	line, _ := json.Marshal(fig)
	t.Logf("%s", final)
	fmt.Printf("SOAK %s\n", line)
	if final.lost != 0 || final.duplicated != 0 || final.stale != 0 {
		t.Errorf("lost %d, duplicated %d, stale edits %d: %s", final.lost, final.duplicated, final.stale, final.details)
	}
}

// diagnose logs the jobs and streams, to see why a stream stopped.
func diagnose(t *testing.T, dbURL string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Logf("diagnose: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`SELECT kind, state, count(*), max(attempt), min(attempted_at)::text, left(coalesce(max(errors::text), ''), 300) FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT stream, location, paused, hold_reason, next_run_at::text, idle_runs, failed_runs, progress_done, progress_total FROM sync_streams ORDER BY 1, 2`,
		`SELECT stream, location, status, left(error, 200), count(*) FROM sync_runs GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3`,
	} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Logf("diagnose: %v", err)
			continue
		}
		var out strings.Builder
		for rows.Next() {
			vals, _ := rows.Values()
			fmt.Fprintln(&out, vals...)
		}
		rows.Close()
		t.Logf("%s\n%s", q, out.String())
	}
}

func round(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// pct is the p-th percentile of ds in seconds (p=100 is the maximum).
func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	i = max(1, min(i, len(s)))
	return round(s[i-1].Seconds())
}

// waitFor polls cond every five seconds until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, cond func() (bool, string)) bool {
	t.Helper()
	var logged time.Time
	for deadline := time.Now().Add(d); ; {
		ok, msg := cond()
		if ok {
			return true
		}
		if time.Since(logged) > 20*time.Second {
			t.Logf("waiting: %s", msg)
			logged = time.Now()
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Second)
	}
}

// buildTandem builds the binary the way `make build` does.
func buildTandem(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "tandem")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tandemsync/tandem/cmd/tandem")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	output(t, cmd)
	return bin
}

func output(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return out
}

// freshDatabase creates an empty database on the test server and drops it
// at the end.
func freshDatabase(t *testing.T, ctx context.Context) string {
	t.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres"
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", admin, err)
	}
	name := fmt.Sprintf("tandem_soak_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = conn.Close(ctx)
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logged holds the log files already shown, as killed workers restart
// into the same file.
var logged sync.Map

// proc is one tandem process, its output appended to a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func start(t *testing.T, dir, bin, name string, env []string, args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// A soak interrupted hard must not leave servers behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if _, seen := logged.LoadOrStore(f.Name(), true); t.Failed() && !seen {
			b, _ := os.ReadFile(f.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("--- %s log tail ---\n%s", name, b)
		}
	})
	return p
}

// kill sends SIGKILL: no shutdown, no deferred work, as when a machine dies.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("%s had exited before it was killed", p.name)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.done
}

func waitHTTP(t *testing.T, u string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("%s did not answer 200 within 30s", u)
}

// --- onboarding, over HTTP as a browser does it ---

type browser struct {
	t *testing.T
	c *http.Client
}

// page is where a request ended up, parsed.
type page struct {
	url    *url.URL
	status int
	doc    *goquery.Document
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{url: res.Request.URL, status: res.StatusCode, doc: doc}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// submit sends the form matched by sel on p with its hidden fields (the
// CSRF token and the tenant id among them) and the given values, as a
// browser does when its button is pressed.
func (b *browser) submit(p page, sel string, values url.Values) page {
	b.t.Helper()
	form := p.doc.Find(sel)
	if form.Length() != 1 {
		text := strings.Join(strings.Fields(p.doc.Find("body").Text()), " ")
		b.t.Fatalf("%s (%d): %d forms match %q:\n%.2000s", p.url, p.status, form.Length(), sel, text)
	}
	v := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		v.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	for k, vals := range values {
		v[k] = vals
	}
	action, err := p.url.Parse(form.AttrOr("action", p.url.Path))
	if err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(v.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// onboard signs a merchant up and walks the whole setup, as the wizard
// browser test does in chromium.
func onboard(t *testing.T, web string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, c: &http.Client{Jar: jar, Timeout: 2 * time.Minute}}
	must := func(p page, path string) page {
		t.Helper()
		if p.status != http.StatusOK || p.url.Path != path {
			t.Fatalf("expected %s, at %s (%d): %.2000s", path, p.url, p.status, strings.Join(strings.Fields(p.doc.Find("main").Text()), " "))
		}
		return p
	}
	p := b.submit(b.get(web+"/signup"), "form[action='/signup']", url.Values{
		"business_name": {"Soak Cycles"}, "email": {"owner@soak.example"}, "password": {"a good password"}})
	must(p, "/dashboard")

	// connect walks a connection's flow; when the API's injected 503s
	// outlast the callback's retries, Tandem shows its "try again" page
	// (502), and the merchant tries again, as the soak does.
	connect := func(name, path string, flow func() page) {
		t.Helper()
		for try := 1; ; try++ {
			p := flow()
			if p.status == http.StatusBadGateway && try < 4 {
				t.Logf("connecting %s, try %d: the provider answered with an error; trying again", name, try)
				continue
			}
			must(p, path)
			if p.doc.Find("[data-testid=connect-page][data-state=connected]").Length() != 1 {
				t.Fatalf("%s not connected: %s", name, strings.Join(strings.Fields(p.doc.Find("main").Text()), " "))
			}
			return
		}
	}
	// Lightspeed: Tandem → the sandbox's consent page → Authorize → the
	// callback → the connect page, connected.
	connect("Lightspeed", "/connect/lightspeed", func() page {
		p := b.get(web + "/connect/lightspeed")
		p = b.submit(p, "[data-testid=connect-page] form[data-testid=connect]", nil)
		return b.submit(p, "form[action='/auth/oauth/authorize']", url.Values{"decision": {"authorize"}})
	})
	connect("Salesforce", "/connect/salesforce", func() page {
		p := b.get(web + "/connect/salesforce")
		p = b.submit(p, "form[data-testid=salesforce-environment]", url.Values{"environment": {"production"}})
		return b.submit(p, "form[action='/services/oauth2/authorize']", url.Values{"decision": {"allow"}})
	})

	// The data model, the setup check and "Create them for me", the
	// stores, the history: everything.
	b.submit(b.get(web+"/setup/model"), "[data-testid=model-form]", url.Values{"model": {"classic"}, "customer": {"contact"}})
	p = must(b.get(web+"/setup/salesforce-fields"), "/setup/salesforce-fields")
	p = b.submit(p, "form:has([data-testid=create-fields])", nil)
	if p.doc.Find("[data-testid=check-complete]").Length() != 1 {
		t.Fatalf("setup check not complete after Create them for me: %.2000s", strings.Join(strings.Fields(p.doc.Find("main").Text()), " "))
	}
	p = must(b.get(web+"/setup/locations"), "/setup/locations")
	var enabled []string
	p.doc.Find("[data-testid=locations-form] input[name=enabled]").Each(func(_ int, s *goquery.Selection) {
		enabled = append(enabled, s.AttrOr("value", ""))
	})
	if len(enabled) != *shops {
		t.Fatalf("locations page lists %d shops, want %d", len(enabled), *shops)
	}
	p = b.submit(p, "[data-testid=locations-form]", url.Values{"enabled": enabled})
	p = b.submit(b.get(web+"/setup/history"), "[data-testid=history-form]", url.Values{"history": {"all"}})
	must(p, "/dashboard")
	if !strings.Contains(p.doc.Find(".flash").Text(), "Setup is complete") {
		t.Fatalf("setup not complete: %s", strings.Join(strings.Fields(p.doc.Find("main").Text()), " "))
	}
	b.submit(p, "form:has([data-testid=sync-now])", nil)
}

// --- the sandboxes' side ---

type sandboxes struct{ ls, sf string }

// call sends an admin API request (a POST when body is set).
func (s *sandboxes) call(base, path string, body any) ([]byte, error) {
	var rd io.Reader
	method := http.MethodGet
	if body != nil {
		b, _ := json.Marshal(body)
		rd, method = bytes.NewReader(b), http.MethodPost
	}
	req, err := http.NewRequest(method, base+"/_sandbox/"+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s/_sandbox/%s: %d %s", method, base, path, res.StatusCode, out)
	}
	return out, nil
}

func (s *sandboxes) admin(t *testing.T, base, path string, body any) []byte {
	t.Helper()
	out, err := s.call(base, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// faults sets the 503 rate on both, expiring every token when expire.
func (s *sandboxes) faults(t *testing.T, expire bool) {
	t.Helper()
	s.admin(t, s.ls, "faults", map[string]any{"error_rate": *errorRate, "status": 503, "expire_tokens": expire, "seed": time.Now().UnixNano() & 0xffff})
	s.admin(t, s.sf, "faults", map[string]any{"errorRate": *errorRate, "status": 503, "expireTokens": expire})
}

func (s *sandboxes) clearFaults(t *testing.T) {
	t.Helper()
	s.admin(t, s.ls, "faults", map[string]any{})
	s.admin(t, s.sf, "faults", map[string]any{})
}

type lsStats struct {
	FaultsInjected int `json:"faults_injected"`
}
type sfStats struct {
	FaultsInjected int `json:"faultsInjected"`
}

func (s *sandboxes) stats(t *testing.T) (lsStats, sfStats) {
	t.Helper()
	var l lsStats
	var f sfStats
	_ = json.Unmarshal(s.admin(t, s.ls, "stats", nil), &l)
	_ = json.Unmarshal(s.admin(t, s.sf, "stats", nil), &f)
	return l, f
}

type lsToken struct {
	AccessToken string `json:"access_token"`
	AccountID   int64  `json:"account_id"`
}

// lsToken is a fresh token from the admin API: the soak expires tokens
// under every client, so each use mints its own.
func (s *sandboxes) lsToken() (lsToken, error) {
	var tp lsToken
	b, err := s.call(s.ls, "token", map[string]any{})
	if err == nil {
		err = json.Unmarshal(b, &tp)
	}
	return tp, err
}

// lightspeedPut sends body to the account's resource path: the client has
// no sale update, which only registers do.
func (s *sandboxes) lightspeedPut(ctx context.Context, path string, body any) error {
	tp, err := s.lsToken()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/API/V3/Account/%d/%s", s.ls, tp.AccountID, path), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tp.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: %d %s", path, res.StatusCode, out)
	}
	return nil
}

// lightspeed is a client of the merchant's Lightspeed account.
func (s *sandboxes) lightspeed() (*lightspeed.Client, error) {
	tp, err := s.lsToken()
	if err != nil {
		return nil, err
	}
	return lightspeed.NewClient(&http.Client{Timeout: time.Minute}, lightspeed.Options{BaseURL: s.ls, AccountID: tp.AccountID,
		ClientID: clientID, Tokens: lightspeed.StaticToken{AccessToken: tp.AccessToken, TokenType: "Bearer"}})
}

// salesforce is a client of the merchant's org, as its admin.
func (s *sandboxes) salesforce() (*salesforce.Client, error) {
	var tr struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
		ID          string `json:"id"`
	}
	b, err := s.call(s.sf, "token", map[string]any{})
	if err == nil {
		err = json.Unmarshal(b, &tr)
	}
	if err != nil {
		return nil, err
	}
	return salesforce.NewClient(&http.Client{Timeout: time.Minute},
		salesforce.Token{AccessToken: tr.AccessToken, InstanceURL: tr.InstanceURL, ID: tr.ID})
}

// retry runs f with fresh clients until it succeeds: the soak's own reads
// meet the same 503s and expired tokens as Tandem.
func retry[T any](t *testing.T, what string, f func() (T, error)) T {
	t.Helper()
	var err error
	for range 30 {
		var v T
		if v, err = f(); err == nil {
			return v
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
	panic("unreachable")
}

func (s *sandboxes) query(t *testing.T, soql string) []salesforce.Record {
	t.Helper()
	return retry(t, soql, func() ([]salesforce.Record, error) {
		sf, err := s.salesforce()
		if err != nil {
			return nil, err
		}
		var out []salesforce.Record
		for rec, err := range sf.Query(context.Background(), soql, nil) {
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
		return out, nil
	})
}

// report is the count from the sandboxes' side.
type report struct {
	customers, sales, lines, payments int
	lost, duplicated, stale           int
	details                           []string
}

func (r report) String() string {
	return fmt.Sprintf("%d customers, %d completed sales (%d lines, %d payments): %d lost, %d duplicated, %d stale edits",
		r.customers, r.sales, r.lines, r.payments, r.lost, r.duplicated, r.stale)
}

func (r *report) problem(lost, dup int, format string, args ...any) {
	r.lost += lost
	r.duplicated += dup
	if len(r.details) < 20 {
		r.details = append(r.details, fmt.Sprintf(format, args...))
	}
}

// check counts, from Lightspeed's and Salesforce's own data, every live
// customer and every completed sale in Salesforce: exactly once, with all
// its lines and payments. Customers sharing an email are one Salesforce
// contact (Tandem links the others to it as aliases). edits are the last
// mobile number the trickle gave each customer; sales completed after
// until (unless zero) are left out.
func (s *sandboxes) check(t *testing.T, edits map[int64]string, until time.Time) report {
	t.Helper()
	ctx := context.Background()
	custs := retry(t, "list Lightspeed customers", func() ([]lightspeed.Customer, error) {
		ls, err := s.lightspeed()
		if err != nil {
			return nil, err
		}
		var out []lightspeed.Customer
		q := lightspeed.NewQuery().Archived(lightspeed.ArchivedInclude).LoadRelations("Contact").Limit(100)
		for c, err := range ls.Customers.ListIter(ctx, q) {
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	})
	sales := retry(t, "list Lightspeed sales", func() ([]lightspeed.Sale, error) {
		ls, err := s.lightspeed()
		if err != nil {
			return nil, err
		}
		var out []lightspeed.Sale
		q := lightspeed.NewQuery().Where("completed", lightspeed.Eq, true).Archived(lightspeed.ArchivedInclude).
			LoadRelations("SaleLines", "SalePayments").Limit(100)
		for s, err := range ls.Sales.ListIter(ctx, q) {
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	})

	var r report
	contacts := map[string][]salesforce.Record{}
	for _, c := range s.query(t, "SELECT Id, Lightspeed_Customer_ID__c, MobilePhone FROM Contact") {
		contacts[c.String("Lightspeed_Customer_ID__c")] = append(contacts[c.String("Lightspeed_Customer_ID__c")], c)
	}
	groups := map[string][]int64{}
	for _, c := range custs {
		if c.Archived {
			continue
		}
		r.customers++
		k := "id:" + strconv.FormatInt(c.CustomerID, 10)
		if c.Contact != nil {
			if e := strings.ToLower(strings.TrimSpace(c.Contact.Email("Primary"))); e != "" {
				k = "email:" + e
			}
		}
		groups[k] = append(groups[k], c.CustomerID)
	}
	for k, ids := range groups {
		n := 0
		for _, id := range ids {
			got := len(contacts[strconv.FormatInt(id, 10)])
			n += got
			if got > 1 {
				r.problem(0, got-1, "customer %d is %d contacts", id, got)
			}
		}
		if n == 0 {
			r.problem(len(ids), 0, "customers %v (%s) are not in Salesforce", ids, k)
		}
	}
	for id, want := range edits {
		cs := contacts[strconv.FormatInt(id, 10)]
		if len(cs) == 1 && cs[0].String("MobilePhone") != want {
			r.stale++
			if len(r.details) < 20 {
				r.details = append(r.details, fmt.Sprintf("customer %d: MobilePhone %q, last edit %q", id, cs[0].String("MobilePhone"), want))
			}
		}
	}

	opps := map[string][]string{}
	for _, o := range s.query(t, "SELECT Id, Lightspeed_Sale_ID__c FROM Opportunity") {
		opps[o.String("Lightspeed_Sale_ID__c")] = append(opps[o.String("Lightspeed_Sale_ID__c")], o.ID())
	}
	lines := map[string][]string{} // Lightspeed line id → opportunity ids
	for _, l := range s.query(t, "SELECT Id, OpportunityId, Lightspeed_Sale_Line_ID__c FROM OpportunityLineItem") {
		lines[l.String("Lightspeed_Sale_Line_ID__c")] = append(lines[l.String("Lightspeed_Sale_Line_ID__c")], l.String("OpportunityId"))
	}
	pays := map[string][]string{}
	for _, p := range s.query(t, "SELECT Id, Opportunity__c, Lightspeed_Payment_ID__c FROM Lightspeed_Payment__c") {
		pays[p.String("Lightspeed_Payment_ID__c")] = append(pays[p.String("Lightspeed_Payment_ID__c")], p.String("Opportunity__c"))
	}
	for _, sale := range sales {
		if !sale.Completed || sale.Voided || sale.Archived {
			continue // voided or deleted before it was sent: not sent
		}
		if !until.IsZero() && sale.CompleteTime.After(until) {
			continue
		}
		r.sales++
		id := strconv.FormatInt(sale.SaleID, 10)
		got := opps[id]
		switch {
		case len(got) == 0:
			r.problem(1, 0, "sale %s is not in Salesforce", id)
			continue
		case len(got) > 1:
			r.problem(0, len(got)-1, "sale %s is %d opportunities", id, len(got))
		}
		for _, l := range sale.SaleLines {
			r.lines++
			lid := strconv.FormatInt(l.SaleLineID, 10)
			switch n := countOf(lines[lid], got[0]); {
			case n == 0:
				r.problem(1, 0, "line %s of sale %s is not in Salesforce", lid, id)
			case n > 1 || len(lines[lid]) > n:
				r.problem(0, len(lines[lid])-1, "line %s of sale %s is in Salesforce %d times", lid, id, len(lines[lid]))
			}
		}
		for _, p := range sale.SalePayments {
			r.payments++
			pid := strconv.FormatInt(p.SalePaymentID, 10)
			switch n := countOf(pays[pid], got[0]); {
			case n == 0:
				r.problem(1, 0, "payment %s of sale %s is not in Salesforce", pid, id)
			case n > 1 || len(pays[pid]) > n:
				r.problem(0, len(pays[pid])-1, "payment %s of sale %s is in Salesforce %d times", pid, id, len(pays[pid]))
			}
		}
	}
	sort.Strings(r.details)
	return r
}

func countOf(ss []string, v string) int {
	n := 0
	for _, s := range ss {
		if s == v {
			n++
		}
	}
	return n
}

// --- the trickle: new sales and customer edits in Lightspeed ---

// change is one trickle write and when Salesforce first showed it.
type change struct {
	kind  string // "sale" or "edit"
	phase string // "chaos" or "fresh"
	id    int64  // the sale or customer id
	want  string // an edit's mobile number
	at    time.Time
	seen  time.Duration // 0 until seen
}

type trickle struct {
	t  *testing.T
	sb *sandboxes

	shops     []int64
	registers map[int64][]int64 // shop → registers
	employees []int64
	items     []int64
	payTypes  []int64
	customers []int64 // customers whose email nobody else has: never aliases

	mu      sync.Mutex
	phase   string
	changes []*change
	last    map[int64]*change // the latest edit per customer
}

func newTrickle(t *testing.T, sb *sandboxes) *trickle {
	t.Helper()
	ctx := context.Background()
	tr := &trickle{t: t, sb: sb, phase: "chaos", registers: map[int64][]int64{}, last: map[int64]*change{}}
	ls, err := sb.lightspeed()
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range ls.Registers.ListIter(ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		if !r.Archived {
			if len(tr.registers[r.ShopID]) == 0 {
				tr.shops = append(tr.shops, r.ShopID)
			}
			tr.registers[r.ShopID] = append(tr.registers[r.ShopID], r.RegisterID)
		}
	}
	for e, err := range ls.Employees.ListIter(ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		tr.employees = append(tr.employees, e.EmployeeID)
	}
	for it, err := range ls.Items.ListIter(ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		if !it.Archived {
			tr.items = append(tr.items, it.ItemID)
		}
	}
	for p, err := range ls.PaymentTypes.ListIter(ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		if !p.RequireCustomer {
			tr.payTypes = append(tr.payTypes, p.PaymentTypeID)
		}
	}
	byEmail := map[string][]int64{}
	for c, err := range ls.Customers.ListIter(ctx, lightspeed.NewQuery().LoadRelations("Contact").Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		e := ""
		if c.Contact != nil {
			e = strings.ToLower(strings.TrimSpace(c.Contact.Email("Primary")))
		}
		if e == "" {
			e = fmt.Sprint("id:", c.CustomerID)
		}
		byEmail[e] = append(byEmail[e], c.CustomerID)
	}
	for _, ids := range byEmail {
		if len(ids) == 1 {
			tr.customers = append(tr.customers, ids[0])
		}
	}
	slices.Sort(tr.customers)
	if len(tr.shops) == 0 || len(tr.employees) == 0 || len(tr.items) == 0 || len(tr.payTypes) == 0 || len(tr.customers) == 0 {
		t.Fatalf("trickle: seed lacks shops %v, employees %d, items %d, payment types %d or customers %d",
			tr.shops, len(tr.employees), len(tr.items), len(tr.payTypes), len(tr.customers))
	}
	return tr
}

func (tr *trickle) mark(phase string) {
	tr.mu.Lock()
	tr.phase = phase
	tr.mu.Unlock()
}

// run writes a change every 1/rate seconds, alternating a new completed
// sale and a customer's new mobile number, and polls Salesforce every
// second for the changes it has not seen yet.
func (tr *trickle) run(ctx context.Context) {
	if *trickleRate <= 0 {
		return
	}
	every := time.Duration(float64(time.Second) / *trickleRate)
	write, poll := time.NewTicker(every), time.NewTicker(time.Second)
	defer write.Stop()
	defer poll.Stop()
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			tr.poll()
		case <-write.C:
			n++
			if n%2 == 1 {
				tr.newSale(ctx, rng)
			} else {
				tr.edit(ctx, n)
			}
		}
	}
}

func (tr *trickle) record(c *change) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	c.phase = tr.phase
	if c.phase == "drain" {
		return
	}
	tr.changes = append(tr.changes, c)
	if c.kind == "edit" {
		if prev := tr.last[c.id]; prev != nil && prev.seen == 0 {
			prev.seen = -1 // superseded before Salesforce showed it
		}
		tr.last[c.id] = c
	}
}

// newSale rings up a sale as a register does: the lines first, then the
// payment of its total (tax included), which completes it.
func (tr *trickle) newSale(ctx context.Context, rng *rand.Rand) {
	shop := tr.shops[rng.IntN(len(tr.shops))]
	regs := tr.registers[shop]
	w := lightspeed.SaleWrite{ShopID: shop, RegisterID: regs[rng.IntN(len(regs))], EmployeeID: tr.employees[rng.IntN(len(tr.employees))],
		CustomerID: tr.customers[rng.IntN(len(tr.customers))]}
	for range 1 + rng.IntN(3) {
		price := decimal.New(int64(500+rng.IntN(10000)), -2)
		w.Lines = append(w.Lines, lightspeed.SaleLineWrite{ItemID: tr.items[rng.IntN(len(tr.items))], UnitQuantity: 1, UnitPrice: &price})
	}
	s, err := tryWrite(ctx, func() (*lightspeed.Sale, error) {
		ls, err := tr.sb.lightspeed()
		if err != nil {
			return nil, err
		}
		s, _, err := ls.Sales.Create(ctx, w)
		return s, err
	})
	if err != nil {
		tr.t.Logf("trickle: new sale: %v", err)
		return
	}
	pay := map[string]any{"completed": "true", "SalePayments": map[string]any{"SalePayment": []map[string]any{{
		"paymentTypeID": strconv.FormatInt(tr.payTypes[rng.IntN(len(tr.payTypes))], 10), "amount": s.CalcTotal.String()}}}}
	at := time.Now()
	if _, err := tryWrite(ctx, func() (struct{}, error) {
		return struct{}{}, tr.sb.lightspeedPut(ctx, fmt.Sprintf("Sale/%d.json", s.SaleID), pay)
	}); err != nil {
		tr.t.Logf("trickle: complete sale %d: %v", s.SaleID, err)
		return
	}
	tr.record(&change{kind: "sale", id: s.SaleID, at: at})
}

func (tr *trickle) edit(ctx context.Context, n int) {
	id := tr.customers[(n/2)%len(tr.customers)]
	mobile := fmt.Sprintf("555-%07d", n)
	at := time.Now()
	w := lightspeed.CustomerWrite{Contact: &lightspeed.ContactWrite{Phones: []lightspeed.ContactPhone{{Number: mobile, UseType: "Mobile"}}}}
	if _, err := tryWrite(ctx, func() (*lightspeed.Customer, error) {
		ls, err := tr.sb.lightspeed()
		if err != nil {
			return nil, err
		}
		c, _, err := ls.Customers.Update(ctx, id, w)
		return c, err
	}); err != nil {
		tr.t.Logf("trickle: edit customer %d: %v", id, err)
		return
	}
	tr.record(&change{kind: "edit", id: id, want: mobile, at: at})
}

// tryWrite retries a write refused by an injected 503 (refused before the
// sandbox did anything, so a retry cannot double it).
func tryWrite[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var v T
	var err error
	for range 10 {
		if v, err = f(); err == nil || ctx.Err() != nil {
			return v, err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return v, err
}

// poll looks up every unseen change in Salesforce.
func (tr *trickle) poll() {
	tr.mu.Lock()
	var sales, edits []string
	for _, c := range tr.changes {
		if c.seen != 0 {
			continue
		}
		if c.kind == "sale" {
			sales = append(sales, "'"+strconv.FormatInt(c.id, 10)+"'")
		} else {
			edits = append(edits, "'"+strconv.FormatInt(c.id, 10)+"'")
		}
	}
	tr.mu.Unlock()
	now := time.Now()
	found := map[string]bool{}
	for chunk := range slices.Chunk(sales, 200) {
		for _, o := range tr.tryQuery("SELECT Lightspeed_Sale_ID__c FROM Opportunity WHERE Lightspeed_Sale_ID__c IN (" + strings.Join(chunk, ",") + ")") {
			found["sale:"+o.String("Lightspeed_Sale_ID__c")] = true
		}
	}
	for chunk := range slices.Chunk(edits, 200) {
		for _, c := range tr.tryQuery("SELECT Lightspeed_Customer_ID__c, MobilePhone FROM Contact WHERE Lightspeed_Customer_ID__c IN (" + strings.Join(chunk, ",") + ")") {
			found["edit:"+c.String("Lightspeed_Customer_ID__c")+":"+c.String("MobilePhone")] = true
		}
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, c := range tr.changes {
		if c.seen != 0 {
			continue
		}
		k := "sale:" + strconv.FormatInt(c.id, 10)
		if c.kind == "edit" {
			k = "edit:" + strconv.FormatInt(c.id, 10) + ":" + c.want
		}
		if found[k] {
			c.seen = max(now.Sub(c.at), time.Millisecond)
		}
	}
}

// tryQuery is a query that gives up quietly: the next poll asks again.
func (tr *trickle) tryQuery(soql string) []salesforce.Record {
	var out []salesforce.Record
	sf, err := tr.sb.salesforce()
	if err != nil {
		return nil
	}
	for rec, err := range sf.Query(context.Background(), soql, nil) {
		if err != nil {
			return nil
		}
		out = append(out, rec)
	}
	return out
}

func (tr *trickle) pending() int {
	tr.poll()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, c := range tr.changes {
		if c.seen == 0 {
			n++
		}
	}
	return n
}

// latencies are the times from change to Salesforce of the changes made in
// phase (superseded edits left out).
func (tr *trickle) latencies(phase string) []time.Duration {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []time.Duration
	for _, c := range tr.changes {
		if c.phase == phase && c.seen > 0 {
			out = append(out, c.seen)
		}
	}
	return out
}

func (tr *trickle) count(kind string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, c := range tr.changes {
		if c.kind == kind {
			n++
		}
	}
	return n
}

// snapshotEdits is the last mobile number written per customer.
func (tr *trickle) snapshotEdits() map[int64]string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make(map[int64]string, len(tr.last))
	for id, c := range tr.last {
		out[id] = c.want
	}
	return out
}
