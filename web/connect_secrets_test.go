package web_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/web/onboard"
)

// recorder keeps every URL, Location and body the browser saw.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.buf, "%s %s\n%s\n", req.Method, req.URL, res.Header.Get("Location"))
	for _, c := range res.Cookies() {
		fmt.Fprintf(&r.buf, "cookie %s=%s\n", c.Name, c.Value)
	}
	// Only Tandem's own answers: the sandboxes' consent pages are theirs.
	if strings.HasSuffix(req.URL.Path, "/authorize") {
		return res, nil
	}
	r.buf.Write(body)
	return res, nil
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// TestNoTokenLeaks runs a whole connect, refresh (with token rotation) and
// disconnect cycle on both providers, then looks for every token either
// sandbox issued (their GET /_sandbox/tokens) in a dump of every table,
// in the logs and in everything the browser received.
func TestNoTokenLeaks(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	b, _ := a.merchant("Harbour Threads")
	rec := &recorder{base: http.DefaultTransport}
	b.c.Transport = rec

	for _, provider := range []string{onboard.Lightspeed, onboard.Salesforce} {
		b.connect(provider)
	}
	// Expire every access token so the refreshes below go through the
	// vault's refresh (Lightspeed rotates its refresh token).
	a.prov.ls.SetFaults(lssandbox.FaultConfig{ExpireTokens: true})
	a.prov.sf.SetFaults(sfsandbox.Faults{ExpireTokens: true})
	for _, provider := range []string{onboard.Lightspeed, onboard.Salesforce} {
		p := b.submit(b.get("/connect/"+provider), "form[data-testid=refresh]", nil)
		if !strings.HasPrefix(p.text(".flash.success"), "Read ") {
			t.Fatalf("refresh %s: %s", provider, p.text("main"))
		}
	}
	lsTokens := sandboxTokens(t, a.prov.lsSrv.URL)
	sfTokens := sandboxTokens(t, a.prov.sfSrv.URL)
	if len(lsTokens) < 4 || len(sfTokens) < 3 {
		t.Fatalf("expected a rotation: %d Lightspeed, %d Salesforce tokens issued", len(lsTokens), len(sfTokens))
	}

	// While connected the sealed tokens are in the database: look now,
	// and again after disconnecting.
	check := func(when string) {
		dump := dumpDatabase(t, a)
		logs := a.logs.String()
		seen := rec.String()
		for _, tok := range append(lsTokens, sfTokens...) {
			for where, text := range map[string]string{"database": dump, "logs": logs, "browser": seen} {
				if strings.Contains(text, tok) || strings.Contains(text, hex.EncodeToString([]byte(tok))) {
					t.Errorf("%s: a sandbox token (%.8s…) appears in the %s", when, tok, where)
				}
			}
		}
	}
	check("connected")
	for _, provider := range []string{onboard.Lightspeed, onboard.Salesforce} {
		b.disconnectVia(provider)
	}
	check("disconnected")
	if n := a.count("connections", "access_token_enc IS NOT NULL OR refresh_token_enc IS NOT NULL"); n != 0 {
		t.Errorf("%d connections keep sealed tokens after disconnecting", n)
	}
}

// sandboxTokens lists every token a sandbox issued, through its admin API.
func sandboxTokens(t *testing.T, base string) []string {
	t.Helper()
	res, err := http.Get(base + "/_sandbox/tokens")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	// Both sandboxes answer a list of objects with a "token" key, possibly
	// wrapped in an object.
	var list []struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		var wrapped map[string]json.RawMessage
		if err := json.Unmarshal(body, &wrapped); err != nil {
			t.Fatalf("tokens: %s", body)
		}
		for _, v := range wrapped {
			if json.Unmarshal(v, &list) == nil && len(list) > 0 {
				break
			}
		}
	}
	var out []string
	for _, x := range list {
		if x.Token != "" {
			out = append(out, x.Token)
		}
	}
	return out
}

// dumpDatabase returns every row of every table of the public schema as
// text.
func dumpDatabase(t *testing.T, a *connectApp) string {
	t.Helper()
	rows, err := a.pool.Query(t.Context(), `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, tbl := range tables {
		rows, err := a.pool.Query(t.Context(), fmt.Sprintf(`SELECT t::text FROM %q t`, tbl))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			b.WriteString(s)
			b.WriteByte('\n')
		}
		rows.Close()
	}
	if !strings.Contains(b.String(), "Tandem Demo Boutique") {
		t.Fatal("the dump misses the connection it should hold")
	}
	return b.String()
}
