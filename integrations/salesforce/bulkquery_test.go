package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

var fastPoll = &salesforce.PollOptions{Initial: time.Millisecond, Max: 5 * time.Millisecond}

// TestSandboxBulkQuery reads 5,000 contacts through a Bulk API 2.0 query
// job against the sandbox, page by page.
func TestSandboxBulkQuery(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	recs := make([]map[string]any, 5000)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("Bulk, %04d", i), "Email": fmt.Sprintf("q%d@example.com", i), extID: fmt.Sprintf("Q%d", i)}
	}
	data, err := salesforce.EncodeCSV([]string{"LastName", "Email", extID}, recs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(ctx, salesforce.IngestJobSpec{Object: "Contact", Operation: salesforce.BulkInsert}, data, fastPoll); err != nil {
		t.Fatal(err)
	}

	before := env.sb.Stats()
	var sizes []int
	seen := map[string]bool{}
	for page, err := range c.BulkQuery(ctx, "SELECT Id, LastName, Email, "+extID+" FROM Contact ORDER BY "+extID, &salesforce.BulkQueryOptions{MaxRecords: 2000, Poll: fastPoll}) {
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"Id", "LastName", "Email", extID}; !cmp.Equal(page.Columns, want) {
			t.Fatalf("columns %v, want %v", page.Columns, want)
		}
		sizes = append(sizes, len(page.Records))
		for _, r := range page.Records {
			if seen[r["Id"]] || !salesforce.ValidID(r["Id"]) || r["Email"] != "q"+r[extID][1:]+"@example.com" {
				t.Fatalf("record %v (seen before: %v)", r, seen[r["Id"]])
			}
			seen[r["Id"]] = true
		}
	}
	if !cmp.Equal(sizes, []int{2000, 2000, 1000}) || len(seen) != 5000 {
		t.Errorf("pages of %v, %d distinct records; want 2000, 2000, 1000 and 5000", sizes, len(seen))
	}
	// One job: created, polled, three result pages, deleted.
	after := env.sb.Stats()
	calls := func(st sandbox.Stats, resource, method string) int {
		for _, cs := range st.Calls {
			if cs.Resource == resource && cs.Method == method {
				return cs.Count
			}
		}
		return 0
	}
	for _, tc := range []struct {
		resource, method string
		want             int
	}{
		{"jobs/query", "POST", 1},
		{"jobs/query/{jobId}/results", "GET", 3},
		{"jobs/query/{jobId}", "DELETE", 1},
	} {
		if got := calls(after, tc.resource, tc.method) - calls(before, tc.resource, tc.method); got != tc.want {
			t.Errorf("%s %s: %d calls, want %d", tc.method, tc.resource, got, tc.want)
		}
	}
	if calls(after, "jobs/query/{jobId}", "GET") == calls(before, "jobs/query/{jobId}", "GET") {
		t.Error("the job was never polled")
	}

	// With the default page size it is one page.
	n := 0
	for page, err := range c.BulkQuery(ctx, "SELECT Id FROM Contact", &salesforce.BulkQueryOptions{Poll: fastPoll}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if len(page.Records) != 5000 || page.Locator != "" {
			t.Errorf("default page: %d records, locator %q", len(page.Records), page.Locator)
		}
	}
	if n != 1 {
		t.Errorf("%d pages with the default size", n)
	}
}

// TestSandboxBulkQueryAllSeesMerges: the losers of a merge come back from a
// queryAll job, deleted, with MasterRecordId naming the survivor.
func TestSandboxBulkQueryAllSeesMerges(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	res, err := c.CreateRecords(ctx, "Contact", contacts(3), nil)
	if err != nil {
		t.Fatal(err)
	}
	master, dup := res[0].ID, res[1].ID
	if _, err := env.sb.Merge("Contact", master, []string{dup}); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for page, err := range c.BulkQuery(ctx, "SELECT Id, IsDeleted, MasterRecordId FROM Contact WHERE IsDeleted = true", &salesforce.BulkQueryOptions{All: true, Poll: fastPoll}) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, page.Records...)
	}
	if want := []map[string]string{{"Id": dup, "IsDeleted": "true", "MasterRecordId": master}}; !cmp.Equal(rows, want) {
		t.Errorf("queryAll rows %v, want %v", rows, want)
	}
	// A plain query job does not see them.
	for page, err := range c.BulkQuery(ctx, "SELECT Id FROM Contact WHERE IsDeleted = true", &salesforce.BulkQueryOptions{Poll: fastPoll}) {
		if err != nil || len(page.Records) != 0 {
			t.Errorf("query job saw deleted rows: %v, %v", page, err)
		}
	}
}

func TestSandboxBulkQueryErrors(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	ctx, c := t.Context(), env.c
	for _, q := range []string{"SELECT Nope FROM Contact", "SELECT COUNT() FROM Contact", ""} {
		for page, err := range c.BulkQuery(ctx, q, &salesforce.BulkQueryOptions{Poll: fastPoll}) {
			if err == nil || page != nil {
				t.Errorf("%q: page %v, err %v; want an error", q, page, err)
			}
		}
	}
	// Breaking out early still deletes the job.
	if _, err := c.CreateRecords(ctx, "Contact", contacts(5), nil); err != nil {
		t.Fatal(err)
	}
	for _, err := range c.BulkQuery(ctx, "SELECT Id FROM Contact", &salesforce.BulkQueryOptions{MaxRecords: 2, Poll: fastPoll}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	for _, cs := range env.sb.Stats().Calls {
		if cs.Resource == "jobs/query/{jobId}" && cs.Method == "DELETE" && cs.Count != 1 {
			t.Errorf("%d deletes after breaking out, want 1", cs.Count)
		}
	}
	// The low-level calls report the API's errors.
	job, err := c.CreateQueryJob(ctx, "SELECT Id FROM Contact", false)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != salesforce.JobUploadComplete {
		t.Errorf("new job state %s", job.State)
	}
	if _, err := c.WaitQueryJob(ctx, job.ID, fastPoll); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortQueryJob(ctx, job.ID); apiCode(err) != "INVALIDJOBSTATE" {
		t.Errorf("abort of a finished job: %v", err)
	}
	if err := c.DeleteQueryJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetQueryJob(ctx, job.ID); apiCode(err) != "NOT_FOUND" {
		t.Errorf("get of a deleted job: %v", err)
	}
}

// TestBulkQueryAbortsWhenCancelled: a wait cut short aborts the job, even
// though the context that cut it is done.
func TestBulkQueryAbortsWhenCancelled(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	var aborted atomic.Bool
	mux.HandleFunc("POST "+apiRoot+"/jobs/query", func(w http.ResponseWriter, r *http.Request) {
		if got := decodeBody(t, r); got["operation"] != "query" || got["query"] != "SELECT Id FROM Contact" {
			t.Errorf("create body %v", got)
		}
		writeJSON(w, 200, `{"id":"`+jobID+`","operation":"query","object":"Contact","state":"UploadComplete"}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/query/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		cancel() // the caller gives up while the job still runs
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"InProgress"}`)
	})
	mux.HandleFunc("PATCH "+apiRoot+"/jobs/query/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		if got := decodeBody(t, r); got["state"] != "Aborted" {
			t.Errorf("patch body %v", got)
		}
		aborted.Store(true)
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"Aborted"}`)
	})
	for page, err := range c.BulkQuery(ctx, "SELECT Id FROM Contact", &salesforce.BulkQueryOptions{Poll: &salesforce.PollOptions{Initial: time.Hour}}) {
		if !errors.Is(err, context.Canceled) || page != nil {
			t.Errorf("page %v, err %v; want context.Canceled", page, err)
		}
	}
	if !aborted.Load() {
		t.Error("the job was not aborted")
	}
}

// TestBulkQueryFailedJob: a job that ends Failed is an error, and the
// finished job is deleted.
func TestBulkQueryFailedJob(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var deleted atomic.Bool
	mux.HandleFunc("POST "+apiRoot+"/jobs/query", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"UploadComplete"}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/query/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"Failed"}`)
	})
	mux.HandleFunc("DELETE "+apiRoot+"/jobs/query/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		deleted.Store(true)
		w.WriteHeader(204)
	})
	for _, err := range c.BulkQuery(t.Context(), "SELECT Id FROM Contact", &salesforce.BulkQueryOptions{Poll: fastPoll}) {
		if err == nil || err.Error() != "salesforce: bulk query job "+jobID+" ended Failed" {
			t.Errorf("err = %v", err)
		}
	}
	if !deleted.Load() {
		t.Error("the failed job was not deleted")
	}
}

// TestQueryJobResultsHeaders: the last page is the one whose Sforce-Locator
// is "null" (or missing), and a record count that disagrees with the page
// is an error rather than silently short data.
func TestQueryJobResultsHeaders(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("GET "+apiRoot+"/jobs/query/"+jobID+"/results", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("locator") {
		case "":
			if r.URL.Query().Get("maxRecords") != "1" {
				t.Errorf("query %s", r.URL.RawQuery)
			}
			w.Header().Set("Sforce-Locator", "MQ")
			w.Header().Set("Sforce-NumberOfRecords", "1")
			w.Write([]byte("\"Id\",\"Name\"\n\"001RM0000000001YAA\",\"A, B\"\n"))
		case "MQ":
			w.Header().Set("Sforce-NumberOfRecords", "1")
			w.Write([]byte("\"Id\",\"Name\"\n\"001RM0000000002YAA\",\"\"\n"))
		default:
			w.Header().Set("Sforce-Locator", "null")
			w.Header().Set("Sforce-NumberOfRecords", "5")
			w.Write([]byte("\"Id\"\n\"001RM0000000002YAA\"\n"))
		}
	})
	p, err := c.QueryJobResults(t.Context(), jobID, "", 1)
	if err != nil || p.Locator != "MQ" || !cmp.Equal(p.Records, []map[string]string{{"Id": "001RM0000000001YAA", "Name": "A, B"}}) {
		t.Fatalf("first page %+v, %v", p, err)
	}
	if p, err = c.QueryJobResults(t.Context(), jobID, "MQ", 1); err != nil || p.Locator != "" || len(p.Records) != 1 {
		t.Errorf("page without a locator header: %+v, %v", p, err)
	}
	if _, err := c.QueryJobResults(t.Context(), jobID, "other", 0); err == nil {
		t.Error("a count that disagrees with the page was accepted")
	}
	if _, err := c.QueryJobResults(t.Context(), "nope", "", 0); err == nil {
		t.Error("a malformed job id was accepted")
	}
}
