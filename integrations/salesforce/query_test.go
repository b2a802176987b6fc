package salesforce_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

// pagedQuery serves total records in deliberately uneven pages (shorter
// than the batch size asked, as Salesforce may) behind locator URLs.
func pagedQuery(t *testing.T, mux *http.ServeMux, total int, pages []int) *atomic.Int32 {
	t.Helper()
	var calls atomic.Int32
	page := func(w http.ResponseWriter, r *http.Request, idx int) {
		calls.Add(1)
		if r.Header.Get("Sforce-Query-Options") != "batchSize=200" {
			t.Errorf("page %d: Sforce-Query-Options = %q", idx, r.Header.Get("Sforce-Query-Options"))
		}
		start := 0
		for i := 0; i < idx; i++ {
			start += pages[i]
		}
		var recs []string
		for i := start; i < start+pages[idx]; i++ {
			recs = append(recs, fmt.Sprintf(`{"attributes":{"type":"Contact","url":"/x"},"Id":"003RM%010dAAA","LastName":"L%d","Account":null}`, i, i))
		}
		next := ""
		done := idx == len(pages)-1
		if !done {
			next = fmt.Sprintf(`,"nextRecordsUrl":"/services/data/v66.0/query/01gRO0000016PIAYA2-%d"`, start+pages[idx])
		}
		writeJSON(w, 200, fmt.Sprintf(`{"totalSize":%d,"done":%v%s,"records":[%s]}`, total, done, next, strings.Join(recs, ",")))
	}
	mux.HandleFunc("GET "+apiRoot+"/query", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("q"); q != "SELECT Id, LastName FROM Contact ORDER BY SystemModstamp, Id" {
			t.Errorf("q = %q", q)
		}
		page(w, r, 0)
	})
	mux.HandleFunc("GET "+apiRoot+"/query/{locator}", func(w http.ResponseWriter, r *http.Request) {
		offset := 0
		fmt.Sscanf(r.PathValue("locator"), "01gRO0000016PIAYA2-%d", &offset)
		sum := 0
		for i := range pages {
			if sum == offset {
				page(w, r, i)
				return
			}
			sum += pages[i]
		}
		writeJSON(w, 400, `[{"errorCode":"INVALID_QUERY_LOCATOR","message":"invalid query locator"}]`)
	})
	return &calls
}

func TestQueryPaging(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	calls := pagedQuery(t, mux, 450, []int{200, 37, 200, 13})
	var ids []string
	for rec, err := range c.Query(t.Context(), "SELECT Id, LastName FROM Contact ORDER BY SystemModstamp, Id", &salesforce.QueryOptions{BatchSize: 200}) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type != "Contact" || rec.Get("Account") != nil {
			t.Errorf("record %+v", rec)
		}
		ids = append(ids, rec.ID())
	}
	if len(ids) != 450 || ids[449] != fmt.Sprintf("003RM%010dAAA", 449) || calls.Load() != 4 {
		t.Fatalf("got %d records in %d calls", len(ids), calls.Load())
	}
}

func TestQueryBreakEarlyStopsFetching(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	calls := pagedQuery(t, mux, 450, []int{200, 250})
	n := 0
	for _, err := range c.Query(t.Context(), "SELECT Id, LastName FROM Contact ORDER BY SystemModstamp, Id", &salesforce.QueryOptions{BatchSize: 200}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	if calls.Load() != 1 {
		t.Errorf("calls = %d, want 1", calls.Load())
	}
}

func TestQueryInto(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	pagedQuery(t, mux, 3, []int{2, 1})
	type contact struct {
		ID       string `json:"Id"`
		LastName string
	}
	var got []contact
	for ct, err := range salesforce.QueryInto[contact](t.Context(), c, "SELECT Id, LastName FROM Contact ORDER BY SystemModstamp, Id", &salesforce.QueryOptions{BatchSize: 200}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ct)
	}
	want := []contact{{"003RM0000000000AAA", "L0"}, {"003RM0000000001AAA", "L1"}, {"003RM0000000002AAA", "L2"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("GET "+apiRoot+"/query", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("q") {
		case "SELECT Foo FROM Contact":
			writeJSON(w, 400, `[{"message":"No such column 'Foo' on entity 'Contact'.","errorCode":"INVALID_FIELD"}]`)
		case "broken page":
			writeJSON(w, 200, `{"totalSize":5,"done":false,"records":[{"attributes":{"type":"Contact"},"Id":"003RM0000068xVCYAY"}]}`)
		default:
			writeJSON(w, 400, `[{"message":"unexpected token","errorCode":"MALFORMED_QUERY"}]`)
		}
	})
	tests := []struct{ soql, want string }{
		{"SELECT Foo FROM Contact", "INVALID_FIELD"},
		{"SELEC", "MALFORMED_QUERY"},
		{"broken page", "no nextRecordsUrl"},
		{"  ", "empty SOQL"},
	}
	for _, tt := range tests {
		var lastErr error
		n := 0
		for _, err := range c.Query(t.Context(), tt.soql, nil) {
			n++
			lastErr = err
		}
		if lastErr == nil || !strings.Contains(lastErr.Error(), tt.want) {
			t.Errorf("%q: last error %v, want %q", tt.soql, lastErr, tt.want)
		}
		if strings.Contains(lastErr.Error(), "Foo FROM") {
			t.Errorf("error repeats the SOQL: %v", lastErr)
		}
	}
}

func TestQueryAllAndToolingAndCount(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("GET "+apiRoot+"/queryAll", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Contact"},"Id":"003RM0000068xVCYAY","IsDeleted":true}]}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/tooling/query", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"size":1,"totalSize":1,"done":true,"records":[{"attributes":{"type":"CustomField"},"Id":"00NRM0000000001AAA","DeveloperName":"Stylist"}]}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/query", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"totalSize":42,"done":true,"records":[]}`)
	})
	for rec, err := range c.QueryAll(t.Context(), "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", nil) {
		if err != nil || rec.Get("IsDeleted") != true {
			t.Errorf("QueryAll = %+v, %v", rec, err)
		}
	}
	for rec, err := range c.ToolingQuery(t.Context(), "SELECT Id, DeveloperName FROM CustomField", nil) {
		if err != nil || rec.String("DeveloperName") != "Stylist" {
			t.Errorf("ToolingQuery = %+v, %v", rec, err)
		}
	}
	if n, err := c.Count(t.Context(), "SELECT COUNT() FROM Contact"); n != 42 || err != nil {
		t.Errorf("Count = %d, %v", n, err)
	}
}

// TestQueryRestartsWhenSessionReplaced covers complaint 4 of §9: a refresh
// mid-query ends the session that owns the query locator, and the new
// session may not resume it. The query must start over with the new
// session rather than fail (or, worse, look like a dead connection).
func TestQueryRestartsWhenSessionReplaced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// foreign is the answer to a locator of another session.
		foreignStatus int
		foreignBody   string
		// expire makes the first token expire after the first page.
		expire        bool
		wantIDs       []string
		wantErr       string
		wantRefreshes int
	}{
		{name: "401 for another session's locator", foreignStatus: 401, foreignBody: sessionExpiredBody, expire: true,
			wantIDs: []string{"r0", "r1", "r0", "r1", "r2"}, wantRefreshes: 1},
		{name: "INVALID_QUERY_LOCATOR for another session's locator", foreignStatus: 400,
			foreignBody: `[{"errorCode":"INVALID_QUERY_LOCATOR","message":"invalid query locator"}]`, expire: true,
			wantIDs: []string{"r0", "r1", "r0", "r1", "r2"}, wantRefreshes: 1},
		{name: "stale locator without a new session is an error", foreignStatus: 400,
			foreignBody: `[{"errorCode":"INVALID_QUERY_LOCATOR","message":"invalid query locator"}]`,
			wantIDs:     []string{"r0", "r1"}, wantErr: "INVALID_QUERY_LOCATOR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{next: "fresh"}
			mux, c := refreshSetup(t, ts, &savedTokens{})
			var expired atomic.Bool
			session := func(r *http.Request) (string, bool) {
				tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				switch {
				case tok == testAccess && !expired.Load():
					return "S1", true
				case tok == "fresh":
					return "S2", true
				}
				return "", false
			}
			rec := func(id string) string { return `{"attributes":{"type":"Contact"},"Id":"` + id + `"}` }
			mux.HandleFunc("GET "+apiRoot+"/query", func(w http.ResponseWriter, r *http.Request) {
				s, ok := session(r)
				if !ok {
					writeJSON(w, 401, sessionExpiredBody)
					return
				}
				writeJSON(w, 200, `{"totalSize":3,"done":false,"nextRecordsUrl":"`+apiRoot+`/query/01gRO0000016PIA`+s+`-2","records":[`+rec("r0")+`,`+rec("r1")+`]}`)
				if tt.expire {
					expired.Store(true)
				}
			})
			mux.HandleFunc("GET "+apiRoot+"/query/{locator}", func(w http.ResponseWriter, r *http.Request) {
				s, ok := session(r)
				switch {
				case !ok:
					writeJSON(w, 401, sessionExpiredBody)
				case !tt.expire || !strings.HasSuffix(r.PathValue("locator"), s+"-2"):
					writeJSON(w, tt.foreignStatus, tt.foreignBody)
				default:
					writeJSON(w, 200, `{"totalSize":3,"done":true,"records":[`+rec("r2")+`]}`)
				}
			})
			var ids []string
			var lastErr error
			for r, err := range c.Query(t.Context(), "SELECT Id FROM Contact", nil) {
				if err != nil {
					lastErr = err
					continue
				}
				ids = append(ids, r.ID())
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if tt.wantErr == "" && lastErr != nil || tt.wantErr != "" && (lastErr == nil || !strings.Contains(lastErr.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want %q", lastErr, tt.wantErr)
			}
			if salesforce.IsSessionError(lastErr) {
				t.Errorf("a replaced session reads as a dead connection: %v", lastErr)
			}
			if got := ts.count(); got != tt.wantRefreshes {
				t.Errorf("refreshes = %d, want %d", got, tt.wantRefreshes)
			}
		})
	}
}
