package jobs

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

// sandboxesEnv makes TestHelperSandboxes serve the sandboxes: the
// scheduler benchmark runs them in a child process of the test binary, so
// that its own CPU (getrusage of itself) is the worker's alone.
const sandboxesEnv = "TANDEM_BENCH_SANDBOXES"

// sandboxTokenTTL outlives any benchmark: every tenant shares one token
// pair, and a refresh (rotating the shared refresh token) would break the
// others.
const sandboxTokenTTL = 3 * time.Hour

// benchSandboxes is what the sandboxes process prints, as one JSON line.
type benchSandboxes struct {
	LSURL string `json:"ls_url"`
	SFURL string `json:"sf_url"`
	// Cert is the servers' TLS certificate (DER): the worker's calls go
	// through TLS as in production.
	Cert []byte `json:"cert"`
	// LSAccount is the sandbox's account; it answers for any account id
	// (anyAccount), so each tenant can have its own.
	LSAccount  int64  `json:"ls_account"`
	LSAccess   string `json:"ls_access"`
	LSRefresh  string `json:"ls_refresh"`
	SFAccess   string `json:"sf_access"`
	SFRefresh  string `json:"sf_refresh"`
	SFInstance string `json:"sf_instance"`
	SFIdentity string `json:"sf_identity"`
}

// TestHelperSandboxes is not a test: with TANDEM_BENCH_SANDBOXES=1 it
// serves both sandboxes (unthrottled, tokens living three hours, a few
// shops, customers, sales and contacts), prints their URLs and tokens as
// one JSON line, and serves until its standard input closes.
func TestHelperSandboxes(t *testing.T) {
	if os.Getenv(sandboxesEnv) != "1" {
		t.Skip("the scheduler benchmark's sandboxes process; set " + sandboxesEnv + "=1")
	}
	ls := lssandbox.New(lssandbox.Options{BucketSize: 1e6, DripRate: 1e6, Burst: 1e6, TokenTTL: sandboxTokenTTL,
		Seed: &lssandbox.SeedOptions{Seed: 7, Shops: 3, Customers: 30, Sales: 90}})
	pair := ls.MintToken()
	lsSrv := httptest.NewTLSServer(anyAccount(ls, pair.AccountID))
	defer lsSrv.Close()
	seed := int64(7)
	sf := sfsandbox.New(sfsandbox.Options{TokenTTL: sandboxTokenTTL, DailyAPILimit: 1 << 30, Seed: &seed})
	defer sf.Close()
	for _, f := range []sfsandbox.FieldSpec{
		{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 20, ExternalID: true, Unique: true},
		{Name: "Lightspeed_Created_Date__c", Type: "DateTime"},
		{Name: "Lightspeed_Customer_Type__c", Type: "Text", Length: 80},
	} {
		if err := sf.AddCustomField("Contact", f); err != nil {
			t.Fatal(err)
		}
	}
	sfSrv := httptest.NewTLSServer(sf)
	defer sfSrv.Close()
	tr := sf.MintToken(sfSrv.URL)
	line, err := json.Marshal(benchSandboxes{LSURL: lsSrv.URL, SFURL: sfSrv.URL, Cert: lsSrv.Certificate().Raw,
		LSAccount: int64(pair.AccountID), LSAccess: pair.AccessToken, LSRefresh: pair.RefreshToken,
		SFAccess: tr.AccessToken, SFRefresh: tr.RefreshToken, SFInstance: tr.InstanceURL, SFIdentity: tr.ID})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s\n", line)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// anyAccount serves every Lightspeed account id as the sandbox's one
// account, so that each benchmark tenant has its own account (and its own
// rate-limit bucket row, as in production) over one sandbox.
func anyAccount(h http.Handler, account int) http.Handler {
	const prefix = "/API/V3/Account/"
	acct := strconv.Itoa(account)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, prefix); ok {
			r.URL.Path = prefix + acct + strings.TrimLeft(rest, "0123456789")
			r.URL.RawPath = ""
		}
		h.ServeHTTP(w, r)
	})
}

// sandboxesProcess is the child process serving the sandboxes.
type sandboxesProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	benchSandboxes
}

// startSandboxes starts this test binary again as the sandboxes process
// and reads what it serves.
func startSandboxes() (*sandboxesProcess, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSandboxes$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), sandboxesEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sandboxes: %w", err)
	}
	p := &sandboxesProcess{cmd: cmd, stdin: stdin}
	out := bufio.NewReader(stdout)
	line, err := out.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &p.benchSandboxes)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("sandboxes: read their address: %w (%q)", err, line)
	}
	// The rest (the test binary's PASS) is drained so the child never
	// blocks on a full pipe.
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return p, nil
}

// certPool trusts the sandboxes' certificate.
func (p *sandboxesProcess) certPool() (*x509.CertPool, error) {
	cert, err := x509.ParseCertificate(p.Cert)
	if err != nil {
		return nil, fmt.Errorf("sandboxes' certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, nil
}

// cpu is the child's CPU so far.
func (p *sandboxesProcess) cpu() (time.Duration, bool) { return procCPU(p.cmd.Process.Pid) }

// stop closes the child's input, waits for it to end, and returns its
// whole CPU time.
func (p *sandboxesProcess) stop() (time.Duration, error) {
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		err = errors.Join(errors.New("sandboxes did not stop; killed"), <-done)
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), err
}
