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
