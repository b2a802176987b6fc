package salesforce_test

// Integration tests: the client against the Salesforce sandbox (the
// emulator in ./sandbox, which shares no code with the client). A wrong JSON
// key or status code on either side fails here.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

const extID = "Lightspeed_Customer_ID__c"

type sandboxEnv struct {
	sb    *sandbox.Server
	srv   *httptest.Server
	cfg   *salesforce.OAuthConfig
	c     *salesforce.Client
	saved *savedTokens
}

// newSandbox starts a sandbox org, logs in with the password flow and adds
// Tandem's external-id field on Contact through the Tooling API, as
// Tandem's setup step does.
func newSandbox(t testing.TB, opts sandbox.Options, clientOpts ...salesforce.Option) *sandboxEnv {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		sb.Close()
	})
	cfg := &salesforce.OAuthConfig{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		RedirectURL: srv.URL + "/callback", LoginURL: srv.URL, HTTPClient: srv.Client(), ConcurrentRetryDelay: time.Millisecond}
	// The web server flow, as a merchant connects: the password flow gives
	// no refresh token (as on the real service).
	env := &sandboxEnv{sb: sb, srv: srv, cfg: cfg}
	ar, err := cfg.StartAuth()
	if err != nil {
		t.Fatal(err)
	}
	code, err := salesforce.CallbackCode(consent(t, env, ar.URL, "allow"), ar.State)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(t.Context(), code, ar.Verifier)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("web server flow gave no refresh token")
	}
	saved := &savedTokens{}
	clientOpts = append([]salesforce.Option{salesforce.WithRefresh(cfg, saved.save), salesforce.WithRetryPolicy(fastRetry)}, clientOpts...)
	c, err := salesforce.NewClient(srv.Client(), tok, clientOpts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCustomField(t.Context(), salesforce.CustomField{FullName: "Contact." + extID,
		Metadata: salesforce.CustomFieldMetadata{Label: "Lightspeed Customer ID", Type: "Text", Length: 40, ExternalID: true, Unique: true}}); err != nil {
		t.Fatalf("create %s: %v", extID, err)
	}
	env.c, env.saved = c, saved
	return env
}

func apiCode(err error) string {
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode
	}
	return ""
}

// consent drives the authorize page like a browser: GET it, then submit its
// form with the given decision button, and return the redirect's query.
func consent(t testing.TB, env *sandboxEnv, authURL, decision string) url.Values {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("authorize page: status %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	form := doc.Find("form").First()
	action, _ := form.Attr("action")
	vals := url.Values{}
	form.Find("input").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Attr("value")
		if name != "" {
			vals.Set(name, v)
		}
	})
	btn := form.Find(`button[value="` + decision + `"]`)
	if btn.Length() == 0 {
		t.Fatalf("consent page has no %q button", decision)
	}
	name, _ := btn.Attr("name")
	vals.Set(name, decision)
	target, _ := url.Parse(authURL)
	target, _ = target.Parse(action)
	post, err := hc.PostForm(target.String(), vals)
	if err != nil {
		t.Fatal(err)
	}
	defer post.Body.Close()
	loc, err := post.Location()
	if err != nil {
		t.Fatalf("decision %s: no redirect (status %d)", decision, post.StatusCode)
	}
	return loc.Query()
}

func TestSandboxWebServerFlowPKCE(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})

	t.Run("allow", func(t *testing.T) {
		t.Parallel()
		ar, err := env.cfg.StartAuth()
		if err != nil {
			t.Fatal(err)
		}
		code, err := salesforce.CallbackCode(consent(t, env, ar.URL, "allow"), ar.State)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := env.cfg.Exchange(t.Context(), code, ar.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if tok.InstanceURL != env.srv.URL || tok.RefreshToken == "" || tok.IssuedAt.IsZero() || !salesforce.ValidID(tok.OrgID()) {
			t.Errorf("token = %v (issued %v, org %q)", tok, tok.IssuedAt, tok.OrgID())
		}
		c, err := salesforce.NewClient(env.srv.Client(), tok)
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.Identity(t.Context())
		if err != nil || id.Username != sandbox.DefaultUsername || id.OrganizationID != tok.OrgID() {
			t.Errorf("identity = %+v, %v", id, err)
		}
		// A code is good once.
		if _, err := env.cfg.Exchange(t.Context(), code, ar.Verifier); !salesforce.IsSessionError(err) {
			t.Errorf("second exchange of a code: %v, want invalid_grant", err)
		}
	})
	t.Run("deny", func(t *testing.T) {
		t.Parallel()
		ar, _ := env.cfg.StartAuth()
		_, err := salesforce.CallbackCode(consent(t, env, ar.URL, "deny"), ar.State)
		var oe *salesforce.OAuthError
		if !errors.As(err, &oe) || oe.Code != "access_denied" {
			t.Fatalf("deny: %v, want access_denied", err)
		}
	})
	pkceFailures := []struct {
		name     string
		verifier func(ar salesforce.AuthRequest) string
		want     string
	}{
		{"wrong verifier", func(salesforce.AuthRequest) string { return strings.Repeat("x", 50) }, "invalid_request"},
		{"missing verifier", func(salesforce.AuthRequest) string { return "" }, "invalid_grant"},
	}
	for _, tt := range pkceFailures {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ar, _ := env.cfg.StartAuth()
			code, err := salesforce.CallbackCode(consent(t, env, ar.URL, "allow"), ar.State)
			if err != nil {
				t.Fatal(err)
			}
			_, err = env.cfg.Exchange(t.Context(), code, tt.verifier(ar))
			var oe *salesforce.OAuthError
			if !errors.As(err, &oe) || oe.Code != tt.want {
				t.Fatalf("exchange: %v, want %s", err, tt.want)
			}
		})
	}
	t.Run("tampered state", func(t *testing.T) {
		t.Parallel()
		ar, _ := env.cfg.StartAuth()
		q := consent(t, env, ar.URL, "allow")
		if _, err := salesforce.CallbackCode(q, ar.State+"x"); !errors.Is(err, salesforce.ErrStateMismatch) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSandboxRefreshRace(t *testing.T) {
	t.Parallel()
	for _, rotate := range []bool{false, true} {
		t.Run(fmt.Sprintf("rotate=%v", rotate), func(t *testing.T) {
			t.Parallel()
			env := newSandbox(t, sandbox.Options{RotateRefreshTokens: rotate})
			env.sb.SetFaults(sandbox.Faults{ExpireTokens: true})
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() { _, errs[i] = env.c.Limits(t.Context()) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("call %d: %v", i, err)
				}
			}
			saved := env.saved.all()
			if len(saved) != 1 {
				t.Fatalf("saved %d tokens, want exactly 1 refresh", len(saved))
			}
			if saved[0].RefreshToken != env.c.Token().RefreshToken {
				t.Errorf("client does not use the saved refresh token")
			}
			// The chain still works: expire again, refresh again.
			env.sb.SetFaults(sandbox.Faults{ExpireTokens: true})
			if _, err := env.c.Limits(t.Context()); err != nil {
				t.Fatalf("second refresh: %v", err)
			}
			if n := len(env.saved.all()); n != 2 {
				t.Errorf("saved %d tokens after the second expiry, want 2", n)
			}
		})
	}
}

func TestSandboxRevokedRefreshIsSessionError(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	if err := env.cfg.Revoke(t.Context(), env.c.Token().RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err := env.c.Limits(t.Context())
	if !salesforce.IsSessionError(err) {
		t.Fatalf("after revoking the refresh token: %v, want a session error", err)
	}
}

func TestSandboxCRUDAndUpsert(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c

	id, err := c.Create(ctx, "Contact", map[string]any{"FirstName": "Jo", "LastName": "Smith", "Email": "jo@example.com", extID: "1042"})
	if err != nil {
		t.Fatal(err)
	}
	if !salesforce.ValidID(id) || !strings.HasPrefix(id, "003") || len(id) != 18 {
		t.Fatalf("id %q", id)
	}
	rec, err := c.Get(ctx, "Contact", id, "FirstName", "LastName", "Email", extID)
	if err != nil || rec.String("LastName") != "Smith" || rec.String(extID) != "1042" || rec.Type != "Contact" {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	id15, _ := salesforce.ID15(id)
	if rec, err := c.Get(ctx, "Contact", id15); err != nil || rec.ID() != id {
		t.Errorf("Get by 15-char id = %v, %v", rec.ID(), err)
	}
	if err := c.Update(ctx, "Contact", id, map[string]any{"Phone": "+1 555 0100", "Email": nil}); err != nil {
		t.Fatal(err)
	}
	rec, _ = c.GetByExternalID(ctx, "Contact", extID, "1042")
	if rec.ID() != id || rec.String("Phone") != "+1 555 0100" || rec.Get("Email") != nil {
		t.Errorf("after update: %+v", rec.Fields)
	}

	up, err := c.Upsert(ctx, "Contact", extID, "1042", map[string]any{"LastName": "Smythe"})
	if err != nil || up.Created || (up.ID != "" && up.ID != id) {
		t.Errorf("upsert existing = %+v, %v", up, err)
	}
	up, err = c.Upsert(ctx, "Contact", extID, "2000", map[string]any{"LastName": "New"})
	if err != nil || !up.Created || !strings.HasPrefix(up.ID, "003") {
		t.Errorf("upsert new = %+v, %v", up, err)
	}
	if _, err := c.Upsert(ctx, "Contact", "LastName", "Smythe", map[string]any{"FirstName": "X"}); apiCode(err) != "NOT_FOUND" && apiCode(err) != "INVALID_FIELD" {
		t.Errorf("upsert on a non-external-id field: %v", err)
	}

	// Two records share a non-unique external id: 300.
	if err := env.sb.AddCustomField("Contact", sandbox.FieldSpec{Name: "Legacy_Key__c", Type: "Text", Length: 20, ExternalID: true}); err != nil {
		t.Fatal(err)
	}
	c.InvalidateDescribes("Contact")
	for _, n := range []string{"A", "B"} {
		if _, err := c.Create(ctx, "Contact", map[string]any{"LastName": n, "Legacy_Key__c": "dup"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.Upsert(ctx, "Contact", "Legacy_Key__c", "dup", map[string]any{"LastName": "C"})
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 300 || ae.ErrorCode != "MULTIPLE_CHOICES" || len(ae.Matches) != 2 {
		t.Errorf("upsert matching two: %v (matches %v)", err, ae)
	}

	if err := c.Delete(ctx, "Contact", id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "Contact", id); apiCode(err) != "ENTITY_IS_DELETED" || !salesforce.IsNotFound(err) {
		t.Errorf("get deleted: %v", err)
	}
	if err := c.Delete(ctx, "Contact", id); apiCode(err) != "ENTITY_IS_DELETED" {
		t.Errorf("delete twice: %v", err)
	}
	n := 0
	for rec, err := range c.QueryAll(ctx, "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.ID() == id && rec.Get("IsDeleted") == true {
			n++
		}
	}
	if n != 1 {
		t.Errorf("queryAll found the deleted record %d times", n)
	}
}

func TestSandboxErrorCodes(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	acct, err := c.Create(ctx, "Account", map[string]any{"Name": "Smith Household"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "Contact", map[string]any{"LastName": "Taken", extID: "7"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		call      func() error
		code      string
		status    int
		field     string
		validates bool
	}{
		{"required", func() error { _, err := c.Create(ctx, "Contact", map[string]any{"FirstName": "Jo"}); return err }, "REQUIRED_FIELD_MISSING", 400, "LastName", true},
		{"too long", func() error {
			_, err := c.Create(ctx, "Contact", map[string]any{"LastName": strings.Repeat("x", 81)})
			return err
		}, "STRING_TOO_LONG", 400, "LastName", true},
		{"unknown field", func() error {
			_, err := c.Create(ctx, "Contact", map[string]any{"LastName": "S", "Shoe_Size__c": "9"})
			return err
		}, "INVALID_FIELD", 400, "", true},
		{"bad id in a lookup", func() error {
			_, err := c.Create(ctx, "Contact", map[string]any{"LastName": "S", "AccountId": "not-an-id"})
			return err
		}, "MALFORMED_ID", 400, "AccountId", true},
		{"lookup to the wrong object", func() error {
			_, err := c.Create(ctx, "Opportunity", map[string]any{"Name": "O", "StageName": "Closed Won", "CloseDate": "2026-03-01", "AccountId": mustID(t, c, "Contact")})
			return err
		}, "MALFORMED_ID", 400, "AccountId", true},
		{"lookup to a missing record", func() error {
			missing, _ := salesforce.ID18(acct[:14] + "Z")
			_, err := c.Create(ctx, "Contact", map[string]any{"LastName": "S", "AccountId": missing})
			return err
		}, "INVALID_CROSS_REFERENCE_KEY", 400, "AccountId", true},
		{"duplicate external id", func() error {
			_, err := c.Create(ctx, "Contact", map[string]any{"LastName": "Again", extID: "7"})
			return err
		}, "DUPLICATE_VALUE", 400, "", true},
		{"bad email", func() error {
			_, err := c.Create(ctx, "Contact", map[string]any{"LastName": "S", "Email": "not an email"})
			return err
		}, "INVALID_EMAIL_ADDRESS", 400, "Email", true},
		{"unknown object", func() error { _, err := c.Create(ctx, "Shoe__c", map[string]any{"Name": "x"}); return err }, "NOT_FOUND", 404, "", false},
		{"bad soql", func() error {
			for _, err := range c.Query(ctx, "SELEC Id FROM Contact", nil) {
				return err
			}
			return nil
		}, "MALFORMED_QUERY", 400, "", false},
		{"unknown column", func() error {
			for _, err := range c.Query(ctx, "SELECT Shoe__c FROM Contact", nil) {
				return err
			}
			return nil
		}, "INVALID_FIELD", 400, "", true},
		{"unknown type in soql", func() error {
			for _, err := range c.Query(ctx, "SELECT Id FROM Shoe__c", nil) {
				return err
			}
			return nil
		}, "INVALID_TYPE", 400, "", true},
		{"not found", func() error { _, err := c.Get(ctx, "Account", acct[:15]+"AA1"); return err }, "", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.code == "" {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			var ae *salesforce.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError %s", err, tt.code)
			}
			if ae.ErrorCode != tt.code && tt.code != "NOT_FOUND" || tt.code == "NOT_FOUND" && ae.StatusCode != 404 {
				t.Errorf("code = %d %s (%s), want %d %s", ae.StatusCode, ae.ErrorCode, ae.Message, tt.status, tt.code)
			}
			if ae.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", ae.StatusCode, tt.status)
			}
			if tt.field != "" && !cmp.Equal(ae.Fields, []string{tt.field}) {
				t.Errorf("fields = %v, want [%s]", ae.Fields, tt.field)
			}
			if ae.Message == "" {
				t.Error("empty message")
			}
			if salesforce.IsValidation(err) != tt.validates {
				t.Errorf("IsValidation = %v", !tt.validates)
			}
		})
	}
}

func mustID(t *testing.T, c *salesforce.Client, sobject string) string {
	t.Helper()
	id, err := c.Create(t.Context(), sobject, map[string]any{"LastName": "Ref"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSandboxDuplicateRule(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{DuplicateRuleEmail: true})
	ctx, c := t.Context(), env.c
	first, err := c.Create(ctx, "Contact", map[string]any{"LastName": "A", "Email": "same@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(ctx, "Contact", map[string]any{"LastName": "B", "Email": "same@example.com"})
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.ErrorCode != "DUPLICATES_DETECTED" || !salesforce.IsValidation(err) {
		t.Fatalf("err = %v", err)
	}
	if d := ae.Errors[0].Duplicate; d == nil || !slicesContain(d.MatchedIDs(), first) {
		t.Errorf("duplicate result %+v does not point at %s", d, first)
	}
	res, err := c.CreateRecords(ctx, "Contact", []map[string]any{{"LastName": "C", "Email": "same@example.com"}}, nil)
	if err != nil || res[0].Success || res[0].Errors[0].Code != "DUPLICATES_DETECTED" || res[0].Errors[0].Duplicate == nil {
		t.Errorf("collections: %+v, %v", res, err)
	}
	res, err = c.CreateRecords(ctx, "Contact", []map[string]any{{"LastName": "C", "Email": "same@example.com"}}, &salesforce.CollectionOptions{AllowDuplicateSave: true})
	if err != nil || !res[0].Success {
		t.Errorf("with allowSave: %+v, %v", res, err)
	}
}

func slicesContain(xs []string, x string) bool {
	for _, v := range xs {
		if salesforce.SameID(v, x) {
			return true
		}
	}
	return false
}

func TestSandboxDescribeDrivenValidation(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	d, err := c.Describe(ctx, "Contact")
	if err != nil {
		t.Fatal(err)
	}
	f := d.Field(extID)
	if f == nil || !f.ExternalID || !f.Unique || f.Length != 40 || !f.Custom {
		t.Fatalf("%s in describe = %+v", extID, f)
	}
	if ln := d.Field("LastName"); ln == nil || !ln.RequiredOnCreate() || ln.Length != 80 {
		t.Fatalf("LastName = %+v", ln)
	}
	// Whatever local validation says about a record, the sandbox must say
	// the same with the same code: describe is the contract between them.
	records := []map[string]any{
		{"LastName": "Fine", "Email": "fine@example.com"},
		{"FirstName": "NoLast"},
		{"LastName": strings.Repeat("y", 81)},
		{"LastName": "S", "Favourite_Colour__c": "red"},
		{"LastName": "S", "Email": "nope"},
		{"LastName": "S", "Name": "Full Name"},
		{"LastName": "S", extID: strings.Repeat("9", 41)},
	}
	for i, rec := range records {
		local := d.Validate(salesforce.OpCreate, rec)
		_, remote := c.Create(ctx, "Contact", rec)
		var ve *salesforce.ValidationError
		switch {
		case local == nil && remote == nil:
		case errors.As(local, &ve) && remote != nil:
			if got := apiCode(remote); got != ve.Problems[0].Code {
				t.Errorf("record %d: local %s, sandbox %s (%v)", i, ve.Problems[0].Code, got, remote)
			}
		default:
			t.Errorf("record %d: local %v, sandbox %v", i, local, remote)
		}
	}
}

func TestSandboxCollections(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	recs := contacts(450)
	recs[7]["LastName"] = ""            // REQUIRED_FIELD_MISSING
	recs[300]["Email"] = "not an email" // bad email
	before := callCount(env.sb, "PATCH")
	res, err := c.UpsertRecords(ctx, "Contact", extID, recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if calls := callCount(env.sb, "PATCH") - before; calls != 3 {
		t.Errorf("PATCH calls = %d, want 3 (200+200+50)", calls)
	}
	var ok, created int
	for i, r := range res {
		switch i {
		case 7:
			if r.Success || r.Errors[0].Code != "REQUIRED_FIELD_MISSING" {
				t.Errorf("record 7 = %+v", r)
			}
		case 300:
			if r.Success || r.Errors[0].Code != "INVALID_EMAIL_ADDRESS" {
				t.Errorf("record 300 = %+v", r)
			}
		default:
			if r.Success {
				ok++
			}
			if r.Created {
				created++
			}
		}
	}
	if ok != 448 || created != 448 {
		t.Errorf("ok %d created %d, want 448", ok, created)
	}
	// Upsert again: all updates now.
	recs[7]["LastName"], recs[300]["Email"] = "Fixed", "fixed@example.com"
	res, err = c.UpsertRecords(ctx, "Contact", extID, recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	created = 0
	for _, r := range res {
		if !r.Success {
			t.Fatalf("second upsert: %+v", r)
		}
		if r.Created {
			created++
		}
	}
	if created != 2 {
		t.Errorf("second upsert created %d, want 2 (the two fixed records)", created)
	}
	ids := make([]string, 0, 250)
	for _, r := range res[:250] {
		ids = append(ids, r.ID)
	}
	got, err := c.RetrieveRecords(ctx, "Contact", ids, []string{"Id", "LastName", extID})
	if err != nil || len(got) != 250 || got[7].String("LastName") != "Fixed" {
		t.Fatalf("retrieve: %d records, %v", len(got), err)
	}
	upd := []map[string]any{{"Id": ids[0], "Phone": "1"}, {"Id": ids[1], "LastName": ""}}
	ures, err := c.UpdateRecords(ctx, "Contact", upd, &salesforce.CollectionOptions{AllOrNone: true})
	if err != nil || ures[0].Success || ures[1].Success || ures[0].Errors[0].Code != "ALL_OR_NONE_OPERATION_ROLLED_BACK" {
		t.Errorf("allOrNone update: %+v, %v", ures, err)
	}
	dres, err := c.DeleteRecords(ctx, ids[:201], nil)
	if err != nil || len(dres) != 201 {
		t.Fatalf("delete: %d, %v", len(dres), err)
	}
	for _, r := range dres {
		if !r.Success {
			t.Fatalf("delete result %+v", r)
		}
	}
	if n, err := c.Count(ctx, "SELECT COUNT() FROM Contact WHERE "+extID+" != null"); err != nil || n != 450-201 {
		t.Errorf("count after delete = %d, %v", n, err)
	}
}

func callCount(sb *sandbox.Server, method string) int {
	n := 0
	for _, cs := range sb.Stats().Calls {
		if cs.Method == method {
			n += cs.Count
		}
	}
	return n
}

func TestSandboxQueryPaging(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	if _, err := c.CreateRecords(ctx, "Contact", contacts(1050), nil); err != nil {
		t.Fatal(err)
	}
	before := callCount(env.sb, "GET")
	seen := map[string]bool{}
	prev := ""
	for rec, err := range c.Query(ctx, "SELECT Id, LastName, "+extID+" FROM Contact WHERE "+extID+" != null ORDER BY "+extID, &salesforce.QueryOptions{BatchSize: 200}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[rec.ID()] {
			t.Fatalf("record %s twice", rec.ID())
		}
		seen[rec.ID()] = true
		if k := rec.String(extID); k < prev {
			t.Fatalf("order broken: %s after %s", k, prev)
		} else {
			prev = k
		}
	}
	if len(seen) != 1050 {
		t.Fatalf("%d records, want 1050", len(seen))
	}
	if pages := callCount(env.sb, "GET") - before; pages < 6 {
		t.Errorf("%d GETs for 1050 rows at batchSize 200, want at least 6 pages", pages)
	}
	type contact struct {
		ID       string `json:"Id"`
		LastName string
	}
	n := 0
	for ct, err := range salesforce.QueryInto[contact](ctx, c, "SELECT Id, LastName FROM Contact WHERE LastName = 'Last 5'", nil) {
		if err != nil || ct.LastName != "Last 5" || !salesforce.ValidID(ct.ID) {
			t.Fatalf("QueryInto = %+v, %v", ct, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("QueryInto found %d", n)
	}
}

func TestSandboxBulkIngest5000(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	recs := make([]map[string]any, 5000)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("Bulk %04d", i), "Email": fmt.Sprintf("b%d@example.com", i), extID: fmt.Sprintf("B%d", i)}
	}
	recs[10]["LastName"] = ""
	recs[4999]["Email"] = "broken"
	data, err := salesforce.EncodeCSV([]string{"LastName", "Email", extID}, recs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Ingest(ctx, salesforce.IngestJobSpec{Object: "Contact", Operation: salesforce.BulkUpsert, ExternalIDFieldName: extID}, data,
		&salesforce.PollOptions{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Job.State != salesforce.JobComplete || res.Job.NumberRecordsProcessed != 5000 || res.Job.NumberRecordsFailed != 2 {
		t.Errorf("job = %+v", res.Job)
	}
	if len(res.Successful) != 4998 || len(res.Failed) != 2 || len(res.Unprocessed) != 0 {
		t.Fatalf("results: %d ok, %d failed, %d unprocessed", len(res.Successful), len(res.Failed), len(res.Unprocessed))
	}
	for _, s := range res.Successful {
		if !s.Created || !strings.HasPrefix(s.ID, "003") || s.Fields[extID] == "" {
			t.Fatalf("success row %+v", s)
		}
	}
	codes := map[string]string{}
	for _, f := range res.Failed {
		codes[f.Fields[extID]] = f.Code
	}
	if diff := cmp.Diff(map[string]string{"B10": "REQUIRED_FIELD_MISSING", "B4999": "INVALID_EMAIL_ADDRESS"}, codes); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if n, err := c.Count(ctx, "SELECT COUNT() FROM Contact"); err != nil || n != 4998 {
		t.Errorf("count = %d, %v", n, err)
	}
}

func TestSandboxCompositeGraphSale(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	if _, err := c.CreateCustomField(ctx, salesforce.CustomField{FullName: "Opportunity.Lightspeed_Sale_ID__c",
		Metadata: salesforce.CustomFieldMetadata{Label: "Lightspeed Sale ID", Type: "Text", Length: 40, ExternalID: true, Unique: true}}); err != nil {
		t.Fatal(err)
	}
	var stdBook string
	for rec, err := range c.Query(ctx, "SELECT Id FROM Pricebook2 WHERE IsStandard = true", nil) {
		if err != nil {
			t.Fatal(err)
		}
		stdBook = rec.ID()
	}
	prod, err := c.Create(ctx, "Product2", map[string]any{"Name": "Scarf", "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	pbe, err := c.Create(ctx, "PricebookEntry", map[string]any{"Pricebook2Id": stdBook, "Product2Id": prod, "UnitPrice": 25, "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	sale := func(id string, qty any) salesforce.Graph {
		return salesforce.Graph{GraphID: id, Requests: []salesforce.Subrequest{
			{Method: "PATCH", URL: "sobjects/Opportunity/Lightspeed_Sale_ID__c/" + id, ReferenceID: "sale",
				Body: map[string]any{"Name": "Sale " + id, "StageName": "Closed Won", "CloseDate": "2026-03-01", "Pricebook2Id": stdBook}},
			{Method: "POST", URL: "sobjects/OpportunityLineItem", ReferenceID: "line1",
				Body: map[string]any{"OpportunityId": "@{sale.id}", "PricebookEntryId": pbe, "Quantity": qty, "UnitPrice": 25}},
			{Method: "POST", URL: "sobjects/OpportunityLineItem", ReferenceID: "line2",
				Body: map[string]any{"OpportunityId": "@{sale.id}", "PricebookEntryId": pbe, "Quantity": 1, "UnitPrice": -25}},
		}}
	}
	res, err := c.CompositeGraph(ctx, []salesforce.Graph{sale("S1", 2), sale("S2", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Err() != nil || !strings.HasPrefix(res[0].Responses[0].ID(), "006") {
		t.Fatalf("graph S1 = %+v", res)
	}
	if err := res[1].Err(); err == nil || apiCode(err) == "PROCESSING_HALTED" {
		t.Errorf("graph S2 err = %v, want the line item's own error", err)
	}
	if n, _ := c.Count(ctx, "SELECT COUNT() FROM OpportunityLineItem"); n != 2 {
		t.Errorf("line items = %d, want 2 (S2 rolled back)", n)
	}
	if n, _ := c.Count(ctx, "SELECT COUNT() FROM Opportunity WHERE Lightspeed_Sale_ID__c = 'S2'"); n != 0 {
		t.Errorf("S2 opportunity survived its graph's rollback")
	}
	cres, err := c.Composite(ctx, salesforce.CompositeRequest{AllOrNone: true, Requests: []salesforce.Subrequest{
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "acct", Body: map[string]any{"Name": "Household"}},
		{Method: "POST", URL: "sobjects/Contact", ReferenceID: "ct", Body: map[string]any{"LastName": "Member", "AccountId": "@{acct.id}"}},
		{Method: "GET", URL: "sobjects/Contact/@{ct.id}?fields=AccountId", ReferenceID: "check"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cres {
		if r.Err() != nil {
			t.Fatalf("composite %s: %v", r.ReferenceID, r.Err())
		}
	}
	if !strings.Contains(string(cres[2].Body), cres[0].ID()) {
		t.Errorf("reference not resolved: %s", cres[2].Body)
	}
}

func TestSandboxRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults sandbox.Faults
	}{
		{"UNABLE_TO_LOCK_ROW", sandbox.Faults{FailNext: 2, Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW"}},
		{"503", sandbox.Faults{FailNext: 3, Status: 503}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandbox(t, sandbox.Options{})
			env.sb.SetFaults(tt.faults)
			if _, err := env.c.UpsertRecords(t.Context(), "Contact", extID, contacts(5), nil); err != nil {
				t.Fatalf("upsert after %d injected failures: %v", tt.faults.FailNext, err)
			}
			if n, _ := env.c.Count(t.Context(), "SELECT COUNT() FROM Contact"); n != 5 {
				t.Errorf("count = %d, want 5", n)
			}
			env.sb.SetFaults(sandbox.Faults{FailNext: 10, Status: tt.faults.Status, ErrorCode: tt.faults.ErrorCode})
			_, err := env.c.Limits(t.Context())
			if !salesforce.IsTransient(err) {
				t.Errorf("after exhausting retries: %v, want a transient error", err)
			}
		})
	}
}

func TestSandboxLimits(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{DailyAPILimit: 40})
	ctx, c := t.Context(), env.c
	lim, err := c.Limits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info := c.LastLimitInfo()
	if lim["DailyApiRequests"].Max != 40 || info.Max != 40 || info.Used < 1 {
		t.Errorf("limits %+v, last limit info %+v", lim["DailyApiRequests"], info)
	}
	var err2 error
	for range 50 {
		if _, err2 = c.Limits(ctx); err2 != nil {
			break
		}
	}
	var ae *salesforce.APIError
	if !salesforce.IsRateLimit(err2) || !errors.As(err2, &ae) || ae.StatusCode != 403 || ae.ErrorCode != "REQUEST_LIMIT_EXCEEDED" {
		t.Fatalf("after spending the allocation: %v", err2)
	}
	if salesforce.IsValidation(err2) || salesforce.IsTransient(err2) {
		t.Error("limit error classified as validation or transient")
	}
}

func TestSandboxIdentityAndTooling(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	id, err := c.Identity(ctx)
	if err != nil || id.Username != sandbox.DefaultUsername || !strings.HasPrefix(id.OrganizationID, "00D") || !strings.HasPrefix(id.UserID, "005") {
		t.Fatalf("identity = %+v, %v", id, err)
	}
	ui, err := c.UserInfo(ctx)
	if err != nil || ui.OrganizationID != id.OrganizationID {
		t.Errorf("userinfo = %+v, %v", ui, err)
	}
	vs, err := c.Versions(ctx)
	if err != nil || len(vs) == 0 || vs[len(vs)-1].Version != "66.0" {
		t.Errorf("versions = %v, %v", vs, err)
	}
	g, err := c.DescribeGlobal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prefixes := map[string]string{}
	for _, s := range g.SObjects {
		prefixes[s.Name] = s.KeyPrefix
	}
	for name, want := range map[string]string{"Account": "001", "Contact": "003", "Opportunity": "006", "Product2": "01t", "PricebookEntry": "01u", "OpportunityLineItem": "00k"} {
		if prefixes[name] != want {
			t.Errorf("%s key prefix = %q, want %s", name, prefixes[name], want)
		}
	}
	found := false
	for rec, err := range c.ToolingQuery(ctx, "SELECT Id, DeveloperName FROM CustomField", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.String("DeveloperName") == "Lightspeed_Customer_ID" {
			found = true
		}
	}
	if !found {
		t.Error("tooling query does not list the field created through the Tooling API")
	}
}

func TestSandboxPriceBookAndTypeErrors(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	var std string
	for rec, err := range c.Query(ctx, "SELECT Id FROM Pricebook2 WHERE IsStandard = true", nil) {
		if err != nil {
			t.Fatal(err)
		}
		std = rec.ID()
	}
	custom, err := c.Create(ctx, "Pricebook2", map[string]any{"Name": "Outlet", "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := c.Create(ctx, "Product2", map[string]any{"Name": "Hat", "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(ctx, "PricebookEntry", map[string]any{"Pricebook2Id": custom, "Product2Id": prod, "UnitPrice": 20, "IsActive": true})
	if code := apiCode(err); code != "STANDARD_PRICE_NOT_DEFINED" || !salesforce.IsValidation(err) {
		t.Errorf("custom price before standard: %v", err)
	}
	if _, err := c.Create(ctx, "PricebookEntry", map[string]any{"Pricebook2Id": std, "Product2Id": prod, "UnitPrice": 25, "IsActive": true}); err != nil {
		t.Fatal(err)
	}
	customEntry, err := c.Create(ctx, "PricebookEntry", map[string]any{"Pricebook2Id": custom, "Product2Id": prod, "UnitPrice": 20, "IsActive": true})
	if err != nil {
		t.Fatal(err)
	}
	opp, err := c.Create(ctx, "Opportunity", map[string]any{"Name": "Sale", "StageName": "Closed Won", "CloseDate": "2026-03-01", "Pricebook2Id": std})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(ctx, "OpportunityLineItem", map[string]any{"OpportunityId": opp, "PricebookEntryId": customEntry, "Quantity": 1, "UnitPrice": 20})
	if apiCode(err) != "FIELD_INTEGRITY_EXCEPTION" {
		t.Errorf("line item from another price book: %v", err)
	}
	for name, rec := range map[string]map[string]any{
		"number": {"Name": "X", "StageName": "Closed Won", "CloseDate": "2026-03-01", "Amount": "lots"},
		"date":   {"Name": "X", "StageName": "Closed Won", "CloseDate": "2026-13-45"},
	} {
		_, err := c.Create(ctx, "Opportunity", rec)
		if apiCode(err) != "INVALID_TYPE_ON_FIELD_IN_RECORD" || !salesforce.IsValidation(err) {
			t.Errorf("bad %s: %v", name, err)
		}
	}
}

func TestSandboxExpiredSessionWithoutRefresher(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	plain, err := salesforce.NewClient(env.srv.Client(), env.c.Token())
	if err != nil {
		t.Fatal(err)
	}
	env.sb.SetFaults(sandbox.Faults{ExpireTokens: true})
	_, err = plain.Limits(t.Context())
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.ErrorCode != "INVALID_SESSION_ID" || !salesforce.IsSessionError(err) {
		t.Fatalf("expired session: %v", err)
	}
	if strings.Contains(err.Error(), env.c.Token().AccessToken) {
		t.Error("error leaks the access token")
	}
}

// connectionStore stands in for Tandem's connections row: a lock (the row
// lock) and the stored token that SaveTokenFunc writes.
type connectionStore struct {
	mu     sync.Mutex // held across a refresh, like SELECT ... FOR UPDATE
	stored salesforce.Token
	saves  int
}

func (s *connectionStore) lock(ctx context.Context) (salesforce.Token, func(error) error, error) {
	s.mu.Lock()
	return s.stored, func(err error) error {
		s.mu.Unlock()
		return err
	}, nil
}

// save runs while lock is held (the client calls it inside the refresh).
func (s *connectionStore) save(_ context.Context, tok salesforce.Token) error {
	s.stored = tok
	s.saves++
	return nil
}

func TestSandboxRefreshAcrossClientsWithLock(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{RotateRefreshTokens: true})
	store := &connectionStore{stored: env.c.Token()}
	// Two workers (two processes in production) hold clients for the same
	// connection, built from the same stored token.
	clients := make([]*salesforce.Client, 3)
	for i := range clients {
		c, err := salesforce.NewClient(env.srv.Client(), store.stored, salesforce.WithRefresh(env.cfg, store.save),
			salesforce.WithRefreshLock(store.lock), salesforce.WithRetryPolicy(fastRetry))
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	env.sb.SetFaults(sandbox.Faults{ExpireTokens: true})
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Go(func() { _, errs[i] = c.Limits(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	// With rotation, a second refresh with the old refresh token would
	// have been refused; one refresh served every client.
	if store.saves != 1 {
		t.Errorf("refreshes saved = %d, want 1", store.saves)
	}
	for i, c := range clients {
		if c.Token().AccessToken != store.stored.AccessToken {
			t.Errorf("client %d did not adopt the stored token", i)
		}
	}
}
