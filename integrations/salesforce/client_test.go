package salesforce_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

const sessionExpiredBody = `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`

// refreshSetup is an org whose API accepts only the token "fresh" and a
// login host that refreshes to it.
func refreshSetup(t *testing.T, ts *tokenServer, saved *savedTokens, extra ...salesforce.Option) (*http.ServeMux, *salesforce.Client) {
	t.Helper()
	login := httptest.NewServer(ts)
	t.Cleanup(login.Close)
	cfg := &salesforce.OAuthConfig{ClientID: "cid", ClientSecret: "", LoginURL: login.URL}
	opts := append([]salesforce.Option{salesforce.WithRefresh(cfg, saved.save)}, extra...)
	mux, c, srv := setup(t, opts...)
	ts.instance = srv.URL
	return mux, c
}

func requireToken(want string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+want {
			writeJSON(w, 401, sessionExpiredBody)
			return
		}
		next(w, r)
	}
}

func TestRefreshRace(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{next: "fresh", rotate: true}
	saved := &savedTokens{}
	mux, c := refreshSetup(t, ts, saved)

	// Both goroutines must see the 401 before either refreshes: the handler
	// holds the stale-token answers until two have arrived.
	var arrived sync.WaitGroup
	arrived.Add(2)
	mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh" {
			arrived.Done()
			arrived.Wait()
			writeJSON(w, 401, sessionExpiredBody)
			return
		}
		writeJSON(w, 200, `{"DailyApiRequests":{"Max":15000,"Remaining":14956}}`)
	})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			_, errs[i] = c.Limits(t.Context())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if n := ts.count(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	got := saved.all()
	if len(got) != 1 || got[0].AccessToken != "fresh" || got[0].RefreshToken != "rotated-"+testRefresh {
		t.Errorf("saved tokens = %v, want one with the rotated refresh token", got)
	}
	if c.Token().RefreshToken != "rotated-"+testRefresh {
		t.Errorf("client refresh token not rotated")
	}
}

func TestRefreshSaveFailsNewTokenUnused(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{next: "fresh", rotate: true}
	saved := &savedTokens{err: errors.New("db down")}
	mux, c := refreshSetup(t, ts, saved)
	var freshCalls atomic.Int32
	mux.HandleFunc("GET "+apiRoot+"/limits", requireToken("fresh", func(w http.ResponseWriter, r *http.Request) {
		freshCalls.Add(1)
		writeJSON(w, 200, `{}`)
	}))
	_, err := c.Limits(t.Context())
	if err == nil || !strings.Contains(err.Error(), "db down") {
		t.Fatalf("Limits = %v, want the save error", err)
	}
	if freshCalls.Load() != 0 || c.Token().AccessToken != testAccess {
		t.Errorf("new token used although it was not saved")
	}
}

func TestRefreshLockAdoptsStoredToken(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{next: "never-used"}
	saved := &savedTokens{}
	var locked, unlocked atomic.Int32
	lock := func(ctx context.Context) (salesforce.Token, func(error) error, error) {
		locked.Add(1)
		// Another process refreshed already and stored "fresh".
		return salesforce.Token{AccessToken: "fresh", RefreshToken: "r2", InstanceURL: ts.instance}, func(err error) error {
			if err != nil {
				t.Errorf("unlock(%v) after adopting, want unlock(nil)", err)
			}
			unlocked.Add(1)
			return nil
		}, nil
	}
	mux, c := refreshSetup(t, ts, saved, salesforce.WithRefreshLock(lock))
	mux.HandleFunc("GET "+apiRoot+"/limits", requireToken("fresh", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"DailyApiRequests":{"Max":15000,"Remaining":1}}`)
	}))
	lim, err := c.Limits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if lim["DailyApiRequests"].Remaining != 1 || ts.count() != 0 || len(saved.all()) != 0 {
		t.Errorf("refreshes=%d saves=%d; want the stored token adopted without a refresh", ts.count(), len(saved.all()))
	}
	if locked.Load() != 1 || unlocked.Load() != 1 {
		t.Errorf("lock/unlock = %d/%d, want 1/1", locked.Load(), unlocked.Load())
	}
}

func TestRefreshLockRefreshesWithStoredRefreshToken(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{next: "fresh", rotate: true}
	saved := &savedTokens{}
	lock := func(ctx context.Context) (salesforce.Token, func(error) error, error) {
		// Same access token, but the store holds a newer refresh token.
		return salesforce.Token{AccessToken: testAccess, RefreshToken: "stored-refresh"}, func(err error) error { return err }, nil
	}
	mux, c := refreshSetup(t, ts, saved, salesforce.WithRefreshLock(lock))
	mux.HandleFunc("GET "+apiRoot+"/limits", requireToken("fresh", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) }))
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := saved.all(); len(got) != 1 || got[0].RefreshToken != "rotated-stored-refresh" {
		t.Errorf("saved = %v, want the refresh made with the stored refresh token", got)
	}
}

func TestSessionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		body          string
		fail          string
		wantRefreshes int
	}{
		// The API refuses even the refreshed token: one refresh, no loop.
		{name: "still 401 after refresh", body: sessionExpiredBody, wantRefreshes: 1},
		// A UI session is not API-enabled; refreshing would not help.
		{name: "not an API session", body: `[{"message":"This session is not valid for use with the REST API","errorCode":"INVALID_SESSION_ID"}]`, wantRefreshes: 0},
		{name: "refresh refused", body: sessionExpiredBody, fail: "invalid_grant", wantRefreshes: 1},
		// §1.9: jsforce's second 401 that is not an expired session.
		{name: "connected app not attached to agent", body: `[{"message":"Connected app is not attached to Agent","errorCode":"INVALID_SESSION_ID"}]`, wantRefreshes: 0},
		// The same expiry as one object rather than an array (§6.1).
		{name: "expiry as a single object", body: `{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}`, wantRefreshes: 1},
		// A 401 without Salesforce's body (a proxy) is no expiry to refresh.
		{name: "401 without a body", body: ``, wantRefreshes: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{next: "fresh", fail: tt.fail}
			mux, c := refreshSetup(t, ts, &savedTokens{})
			mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 401, tt.body) })
			_, err := c.Limits(t.Context())
			if !salesforce.IsSessionError(err) {
				t.Fatalf("Limits error = %v, want a session error", err)
			}
			if ts.count() != tt.wantRefreshes {
				t.Errorf("refreshes = %d, want %d", ts.count(), tt.wantRefreshes)
			}
			if strings.Contains(err.Error(), testAccess) || strings.Contains(err.Error(), testRefresh) || strings.Contains(err.Error(), "fresh\"") {
				t.Errorf("error leaks a token: %v", err)
			}
		})
	}
}

func TestNoRefresherReturns401(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 401, sessionExpiredBody) })
	_, err := c.Limits(t.Context())
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.ErrorCode != "INVALID_SESSION_ID" || !salesforce.IsSessionError(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestAPIErrorClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status                                   int
		body                                     string
		wantCode                                 string
		wantFields                               []string
		rateLimit, validation, notFound, session bool
		transient                                bool
	}{
		{status: 403, body: `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, wantCode: "REQUEST_LIMIT_EXCEEDED", rateLimit: true},
		{status: 429, body: `[{"message":"slow down","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, wantCode: "REQUEST_LIMIT_EXCEEDED", rateLimit: true},
		{status: 400, body: `[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]`, wantCode: "REQUIRED_FIELD_MISSING", wantFields: []string{"LastName"}, validation: true},
		{status: 400, body: `[{"message":"Last Name: data value too large: xxx (max length=80)","errorCode":"STRING_TOO_LONG","fields":["LastName"]}]`, wantCode: "STRING_TOO_LONG", wantFields: []string{"LastName"}, validation: true},
		{status: 400, body: `[{"message":"No such column 'Foo__c' on sobject of type Contact","errorCode":"INVALID_FIELD"}]`, wantCode: "INVALID_FIELD", validation: true},
		{status: 400, body: `[{"message":"Contact ID: id value of incorrect type: 001xx","errorCode":"MALFORMED_ID","fields":["Id"]}]`, wantCode: "MALFORMED_ID", wantFields: []string{"Id"}, validation: true},
		{status: 400, body: `[{"message":"invalid cross reference id","errorCode":"INVALID_CROSS_REFERENCE_KEY","fields":[]}]`, wantCode: "INVALID_CROSS_REFERENCE_KEY", wantFields: []string{}, validation: true},
		{status: 400, body: `[{"message":"duplicate value found: Lightspeed_Customer_ID__c duplicates value on record with id: 003RM0000068xUAYAY","errorCode":"DUPLICATE_VALUE","fields":["Lightspeed_Customer_ID__c"]}]`, wantCode: "DUPLICATE_VALUE", wantFields: []string{"Lightspeed_Customer_ID__c"}, validation: true},
		{status: 400, body: `[{"message":"Enter a valid postcode.","errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","fields":["MailingPostalCode"]}]`, wantCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", wantFields: []string{"MailingPostalCode"}, validation: true},
		{status: 400, body: `[{"message":"unexpected token: FORM","errorCode":"MALFORMED_QUERY"}]`, wantCode: "MALFORMED_QUERY"},
		{status: 404, body: `[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]`, wantCode: "ENTITY_IS_DELETED", wantFields: []string{}, notFound: true},
		{status: 404, body: `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`, wantCode: "NOT_FOUND", notFound: true},
		{status: 401, body: sessionExpiredBody, wantCode: "INVALID_SESSION_ID", session: true},
		{status: 403, body: `[{"message":"API is not enabled for this Organization or Partner","errorCode":"API_DISABLED_FOR_ORG"}]`, wantCode: "API_DISABLED_FOR_ORG"},
		{status: 502, body: `<html>bad gateway</html>`, transient: true},
		// §6.1: some errors come as one object rather than an array, and
		// "fields" may be missing.
		{status: 400, body: `{"message":"Unexpected character ('x' (code 120))","errorCode":"JSON_PARSER_ERROR"}`, wantCode: "JSON_PARSER_ERROR", validation: true},
		// §6.3: a stale nextRecordsUrl is not bad data.
		{status: 400, body: `[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]`, wantCode: "INVALID_QUERY_LOCATOR"},
		{status: 400, body: `[{"message":"unable to obtain exclusive access to this record or 1 records: 001RM0000020xyzYAA","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]`, wantCode: "UNABLE_TO_LOCK_ROW", wantFields: []string{}, transient: true},
		{status: 400, body: `[{"errorCode":"PROCESSING_HALTED","message":"The transaction was rolled back since another operation in the same transaction failed."}]`, wantCode: "PROCESSING_HALTED"},
		{status: 503, body: `[{"errorCode":"SERVER_UNAVAILABLE","message":"Server temporarily unavailable"}]`, wantCode: "SERVER_UNAVAILABLE", transient: true},
		{status: 500, body: `[{"errorCode":"UNKNOWN_EXCEPTION","message":"An unexpected error occurred."}]`, wantCode: "UNKNOWN_EXCEPTION", transient: true},
		{status: 403, body: `[{"errorCode":"INSUFFICIENT_ACCESS","message":"insufficient access rights on object id"}]`, wantCode: "INSUFFICIENT_ACCESS"},
		{status: 403, body: `[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, wantCode: "REQUEST_LIMIT_EXCEEDED", rateLimit: true},
		{status: 405, body: `[{"errorCode":"METHOD_NOT_ALLOWED","message":"HTTP Method 'PUT' not allowed. Allowed are HEAD,GET,PATCH,DELETE"}]`, wantCode: "METHOD_NOT_ALLOWED"},
		{status: 420, body: ``},
	}
	for _, tt := range tests {
		t.Run(tt.wantCode+"/"+http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			mux, c, _ := setup(t, salesforce.WithRetryPolicy(salesforce.RetryPolicy{MaxAttempts: 1}))
			mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tt.status, tt.body) })
			_, err := c.Limits(t.Context())
			var ae *salesforce.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if ae.StatusCode != tt.status || ae.ErrorCode != tt.wantCode || !cmp.Equal(ae.Fields, tt.wantFields) {
				t.Errorf("APIError = %d %s %v, want %d %s %v", ae.StatusCode, ae.ErrorCode, ae.Fields, tt.status, tt.wantCode, tt.wantFields)
			}
			if tt.wantCode != "" && !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("error text %q lacks the code", err)
			}
			if got := salesforce.IsRateLimit(err); got != tt.rateLimit {
				t.Errorf("IsRateLimit = %v", got)
			}
			if got := salesforce.IsValidation(err); got != tt.validation {
				t.Errorf("IsValidation = %v", got)
			}
			if got := salesforce.IsNotFound(err); got != tt.notFound {
				t.Errorf("IsNotFound = %v", got)
			}
			if got := salesforce.IsSessionError(err); got != tt.session {
				t.Errorf("IsSessionError = %v", got)
			}
			if got := salesforce.IsTransient(err); got != tt.transient {
				t.Errorf("IsTransient = %v", got)
			}
		})
	}
}

func TestDuplicatesDetectedBothSpellings(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"duplicateResult", "duplicateResut"} {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			mux, c, _ := setup(t)
			mux.HandleFunc("POST "+apiRoot+"/sobjects/Contact", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, `[{"message":"Use one of these records?","errorCode":"DUPLICATES_DETECTED","fields":[],
				"`+key+`":{"allowSave":false,"duplicateRule":"Standard_Contact_Duplicate_Rule","duplicateRuleEntityType":"Contact",
				"errorMessage":"Use one of these records?","matchResults":[{"entityType":"Contact","matchEngine":"ExactMatchEngine",
				"matchRecords":[{"matchConfidence":100.0,"record":{"attributes":{"type":"Contact"},"Id":"003RM0000068xUAYAY"}}],
				"rule":"Standard_Contact_Match_Rule_v1_1","size":1,"success":true}]}}]`)
			})
			_, err := c.Create(t.Context(), "Contact", map[string]any{"LastName": "Smith", "Email": "jo@example.com"})
			var ae *salesforce.APIError
			if !errors.As(err, &ae) || ae.ErrorCode != "DUPLICATES_DETECTED" {
				t.Fatalf("err = %v", err)
			}
			d := ae.Errors[0].Duplicate
			if d == nil || d.DuplicateRule != "Standard_Contact_Duplicate_Rule" || !cmp.Equal(d.MatchedIDs(), []string{"003RM0000068xUAYAY"}) {
				t.Errorf("duplicate result = %+v", d)
			}
		})
	}
}

func TestLimitInfo(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var n atomic.Int32
	mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage="+[]string{"10", "11"}[n.Add(1)-1]+"/15000; api-bursts=1/750")
		io.WriteString(w, `{}`)
	})
	if got := c.LastLimitInfo(); !got.At.IsZero() {
		t.Fatalf("LastLimitInfo before any call = %+v", got)
	}
	for want := 10; want <= 11; want++ {
		if _, err := c.Limits(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := c.LastLimitInfo()
		if got.Used != want || got.Max != 15000 || got.Remaining() != 15000-want {
			t.Errorf("LastLimitInfo = %+v, want %d/15000", got, want)
		}
	}
	if _, ok := salesforce.ParseLimitInfo("per-app-api-usage=17/250(appName=x)"); ok {
		t.Error("per-app usage taken for the org's usage")
	}
	if li, ok := salesforce.ParseLimitInfo("per-app-api-usage=17/250(appName=x); api-usage=44/15000"); !ok || li.Used != 44 || li.Max != 15000 {
		t.Errorf("mixed header parsed as %+v, %v", li, ok)
	}
	if _, ok := salesforce.ParseLimitInfo(""); ok {
		t.Error("empty header parsed")
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	lockBody := `[{"message":"unable to obtain exclusive access to this record or 1 records: 001RM000001","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]`
	tests := []struct {
		name      string
		method    string
		failures  int
		status    int
		body      string
		wantCalls int32
		wantErr   string
	}{
		{name: "lock then ok", method: "PATCH", failures: 2, status: 400, body: lockBody, wantCalls: 3},
		{name: "503 then ok", method: "POST", failures: 3, status: 503, body: `[{"errorCode":"SERVER_UNAVAILABLE","message":"try later"}]`, wantCalls: 4},
		{name: "lock forever", method: "PATCH", failures: 100, status: 400, body: lockBody, wantCalls: 4, wantErr: "UNABLE_TO_LOCK_ROW"},
		{name: "validation not retried", method: "PATCH", failures: 100, status: 400, body: `[{"errorCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}]`, wantCalls: 1, wantErr: "REQUIRED_FIELD_MISSING"},
		{name: "limit not retried", method: "PATCH", failures: 100, status: 403, body: `[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]`, wantCalls: 1, wantErr: "REQUEST_LIMIT_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mux, c, _ := setup(t)
			var calls atomic.Int32
			var bodies sync.Map
			h := func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies.Store(string(b), true)
				if calls.Add(1) <= int32(tt.failures) {
					writeJSON(w, tt.status, tt.body)
					return
				}
				if r.Method == "POST" {
					writeJSON(w, 201, `{"id":"003RM0000068xVCYAY","success":true,"errors":[]}`)
					return
				}
				w.WriteHeader(204)
			}
			mux.HandleFunc("PATCH "+apiRoot+"/sobjects/Contact/003RM0000068xVCYAY", h)
			mux.HandleFunc("POST "+apiRoot+"/sobjects/Contact", h)
			var err error
			if tt.method == "POST" {
				_, err = c.Create(t.Context(), "Contact", map[string]any{"LastName": "Smith"})
			} else {
				err = c.Update(t.Context(), "Contact", "003RM0000068xVCYAY", map[string]any{"LastName": "Smith"})
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if calls.Load() != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls.Load(), tt.wantCalls)
			}
			n := 0
			bodies.Range(func(k, v any) bool {
				n++
				if k.(string) != `{"LastName":"Smith"}` {
					t.Errorf("attempt sent body %q", k)
				}
				return true
			})
			if n != 1 {
				t.Errorf("attempts sent %d distinct bodies, want 1 (the same full body each time)", n)
			}
		})
	}
}

func TestRetryAttemptTimeout(t *testing.T) {
	t.Parallel()
	// Generous per-attempt timeout and attempts: a loaded machine may be slow
	// to answer even the attempt that is meant to succeed.
	policy := salesforce.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, AttemptTimeout: 250 * time.Millisecond}
	mux, c, _ := setup(t, salesforce.WithRetryPolicy(policy))
	var gets, posts atomic.Int32
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) {
		if gets.Add(1) == 1 {
			select { // hang until the client gives up on this attempt
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		writeJSON(w, 200, `{"DailyApiRequests":{"Max":1,"Remaining":1}}`)
	})
	mux.HandleFunc("POST "+apiRoot+"/sobjects/Contact", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	if _, err := c.Limits(t.Context()); err != nil || gets.Load() < 2 {
		t.Errorf("GET after a timed-out attempt: err %v after %d calls, want success after at least 2", err, gets.Load())
	}
	// A POST that timed out may have been applied: it is not replayed.
	if _, err := c.Create(t.Context(), "Contact", map[string]any{"LastName": "X"}); err == nil || posts.Load() != 1 {
		t.Errorf("POST timeout: err %v after %d calls, want an error after 1", err, posts.Load())
	}
}

func TestNoRetryAfterContextDone(t *testing.T) {
	t.Parallel()
	policy := salesforce.RetryPolicy{MaxAttempts: 10, BaseDelay: time.Hour, MaxDelay: time.Hour}
	mux, c, _ := setup(t, salesforce.WithRetryPolicy(policy))
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cancel() // the caller gives up while the first attempt is answered 503
		writeJSON(w, 503, `[{"errorCode":"SERVER_UNAVAILABLE","message":"x"}]`)
	})
	_, err := c.Limits(ctx)
	if !errors.Is(err, context.Canceled) || calls.Load() != 1 {
		t.Fatalf("err = %v after %d calls, want context.Canceled after 1", err, calls.Load())
	}
}

func TestNewClientRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tok  salesforce.Token
		opts []salesforce.Option
	}{
		{name: "no access token", tok: salesforce.Token{InstanceURL: "https://acme.my.salesforce.com"}},
		{name: "no instance", tok: salesforce.Token{AccessToken: "a"}},
		{name: "plain http", tok: salesforce.Token{AccessToken: "a", InstanceURL: "http://acme.my.salesforce.com"}},
		{name: "lightning host", tok: salesforce.Token{AccessToken: "a", InstanceURL: "https://acme.lightning.force.com"}},
		{name: "bad version", tok: salesforce.Token{AccessToken: "a", InstanceURL: "https://acme.my.salesforce.com"}, opts: []salesforce.Option{salesforce.WithAPIVersion("66")}},
		{name: "refresh without save", tok: salesforce.Token{AccessToken: "a", InstanceURL: "https://acme.my.salesforce.com"},
			opts: []salesforce.Option{salesforce.WithRefresh(&salesforce.OAuthConfig{ClientID: "c", LoginURL: salesforce.ProductionLoginURL}, nil)}},
		{name: "nil refresh lock", tok: salesforce.Token{AccessToken: "a", InstanceURL: "https://acme.my.salesforce.com"},
			opts: []salesforce.Option{salesforce.WithRefreshLock(nil)}},
	}
	for _, tt := range tests {
		if _, err := salesforce.NewClient(nil, tt.tok, tt.opts...); err == nil {
			t.Errorf("%s: NewClient accepted it", tt.name)
		}
	}
	c, err := salesforce.NewClient(nil, salesforce.Token{AccessToken: "a", InstanceURL: "https://acme.my.salesforce.com/"}, salesforce.WithAPIVersion("v67.0"))
	if err != nil || c.APIVersion() != "67.0" || c.InstanceURL() != "https://acme.my.salesforce.com" {
		t.Errorf("NewClient = %v, %v", c, err)
	}
}

func TestAPIVersionAndInstanceURLUsed(t *testing.T) {
	t.Parallel()
	mux, c, srv := setup(t, salesforce.WithAPIVersion("60.0"), salesforce.WithCallOptions("tandem"))
	mux.HandleFunc("GET /services/data/v60.0/limits", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != strings.TrimPrefix(srv.URL, "http://") || r.Header.Get("Sforce-Call-Options") != "client=tandem" {
			t.Errorf("host %s, call options %q", r.Host, r.Header.Get("Sforce-Call-Options"))
		}
		writeJSON(w, 200, `{}`)
	})
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshMovesToNewInstance(t *testing.T) {
	t.Parallel()
	newInstance := http.NewServeMux()
	newSrv := httptest.NewServer(newInstance)
	t.Cleanup(newSrv.Close)
	var hits atomic.Int32
	newInstance.HandleFunc("GET "+apiRoot+"/limits", requireToken("fresh", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeJSON(w, 200, `{}`)
	}))
	ts := &tokenServer{next: "fresh"}
	saved := &savedTokens{}
	mux, c := refreshSetup(t, ts, saved)
	ts.instance = newSrv.URL // the org moved
	mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 401, sessionExpiredBody) })
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 || c.InstanceURL() != newSrv.URL {
		t.Errorf("replay hits on new instance = %d, instance = %s", hits.Load(), c.InstanceURL())
	}
}

// TestParseLimitInfoForms covers the Sforce-Limit-Info variants of
// reference §6.4.
func TestParseLimitInfoForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header         string
		ok             bool
		used, max, rem int
	}{
		{header: "api-usage=10018/100000", ok: true, used: 10018, max: 100000, rem: 89982},
		{header: "api-usage=44/15000; api-bursts=1/750", ok: true, used: 44, max: 15000, rem: 14956},
		{header: "api-bursts=1/750; api-usage=45/15000", ok: true, used: 45, max: 15000, rem: 14955},
		{header: "api-usage=18/15000; per-app-api-usage=17/250(appName=Tandem)", ok: true, used: 18, max: 15000, rem: 14982},
		{header: "per-app-api-usage=17/250(appName=Tandem)"},
		{header: "api-usage=15001/15000", ok: true, used: 15001, max: 15000, rem: 0},
		{header: "api-usage=abc/15000"},
		{header: "api-usage=99999999999999999999/15000"},
		{header: ""},
	}
	for _, tt := range tests {
		li, ok := salesforce.ParseLimitInfo(tt.header)
		if ok != tt.ok || li.Used != tt.used || li.Max != tt.max || li.Remaining() != tt.rem {
			t.Errorf("ParseLimitInfo(%q) = %+v %v (remaining %d), want %d/%d %v (remaining %d)", tt.header, li, ok, li.Remaining(), tt.used, tt.max, tt.ok, tt.rem)
		}
	}
}

// TestNoRefreshTokenIsSessionError is complaint 1 of reference §9: a
// connection made without the refresh_token scope has no refresh token.
// Its first expiry must read as needs_reauth with a hint, not as a login
// server round trip with an empty token.
func TestNoRefreshTokenIsSessionError(t *testing.T) {
	t.Parallel()
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the login host was called without a refresh token")
	}))
	defer login.Close()
	cfg := &salesforce.OAuthConfig{ClientID: "cid", LoginURL: login.URL}
	saved := &savedTokens{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 401, sessionExpiredBody) })
	c, err := salesforce.NewClient(srv.Client(), salesforce.Token{AccessToken: testAccess, InstanceURL: srv.URL},
		salesforce.WithRefresh(cfg, saved.save), salesforce.WithRetryPolicy(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Limits(t.Context())
	if !salesforce.IsSessionError(err) || !strings.Contains(err.Error(), "refresh_token scope") {
		t.Errorf("err = %v, want a session error naming the refresh_token scope", err)
	}
	if len(saved.all()) != 0 {
		t.Error("a token was saved")
	}
}
