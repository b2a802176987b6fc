package sandbox

import (
	"net/http"
	"strings"
	"testing"
)

// createQueryJob creates a Bulk query job and checks the create answer.
func (b *bundle) createQueryJob(t *testing.T, body map[string]any) string {
	t.Helper()
	r := b.do(t, "POST", "/jobs/query", body)
	var info map[string]any
	r.json(t, &info)
	id, _ := info["id"].(string)
	if r.status != http.StatusOK || info["state"] != "UploadComplete" || !strings.HasPrefix(id, "750") {
		t.Fatalf("create query job: %d %s", r.status, r.body)
	}
	// Creating answers the short job shape; the counters come with GET.
	if _, ok := info["jobType"]; ok {
		t.Errorf("create answered the long job shape: %s", r.body)
	}
	return id
}

func TestBulkQueryJob(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	acct := b.create(t, "Account", map[string]any{"Name": "Shop, \"Main\""})
	b.create(t, "Contact", map[string]any{"LastName": "Adams", "Email": "a@example.com", "AccountId": acct, "Birthdate": "1990-02-03", "HasOptedOutOfEmail": true})
	b.create(t, "Contact", map[string]any{"LastName": "Baker"})
	b.create(t, "Contact", map[string]any{"LastName": "Clark"})
	gone := b.create(t, "Contact", map[string]any{"LastName": "Dunn"})
	b.do(t, "DELETE", "/sobjects/Contact/"+gone, nil)
	b.create(t, "Contact", map[string]any{"LastName": "Evans"})

	id := b.createQueryJob(t, map[string]any{"operation": "query", "query": "SELECT LastName, Email, Account.Name, Birthdate, HasOptedOutOfEmail, CreatedDate FROM Contact ORDER BY LastName"})
	b.srv.Close() // wait for the job's background run

	var info map[string]any
	b.do(t, "GET", "/jobs/query/"+id, nil).json(t, &info)
	for k, want := range map[string]any{"state": "JobComplete", "jobType": "V2Query", "operation": "query", "object": "Contact",
		"numberRecordsProcessed": 4.0, "apiVersion": 66.0, "lineEnding": "LF", "columnDelimiter": "COMMA", "contentType": "CSV"} {
		if info[k] != want {
			t.Errorf("job %s = %v, want %v", k, info[k], want)
		}
	}

	// Pages of two: the locator is opaque and "null" on the last page.
	r := b.do(t, "GET", "/jobs/query/"+id+"/results?maxRecords=2", nil)
	created := sfDateTime(b.srv.Now())
	created = created[:len(created)-5] + "Z"
	want := "\"LastName\",\"Email\",\"Account.Name\",\"Birthdate\",\"HasOptedOutOfEmail\",\"CreatedDate\"\n" +
		"\"Adams\",\"a@example.com\",\"Shop, \"\"Main\"\"\",\"1990-02-03\",\"true\",\"" + created + "\"\n" +
		"\"Baker\",\"\",\"\",\"\",\"false\",\"" + created + "\"\n"
	if r.status != 200 || string(r.body) != want || r.header.Get("Content-Type") != "text/csv" {
		t.Fatalf("first page: %d %q\nwant %q", r.status, r.body, want)
	}
	loc := r.header.Get("Sforce-Locator")
	if r.header.Get("Sforce-NumberOfRecords") != "2" || loc == "" || loc == "null" {
		t.Fatalf("first page headers: %v", r.header)
	}
	for range 2 { // a locator can be read again
		r = b.do(t, "GET", "/jobs/query/"+id+"/results?maxRecords=2&locator="+loc, nil)
		rows := readCSV(t, r)
		if len(rows) != 3 || rows[1][0] != "Clark" || rows[2][0] != "Evans" || r.header.Get("Sforce-Locator") != "null" || r.header.Get("Sforce-NumberOfRecords") != "2" {
			t.Fatalf("second page: %v %v", rows, r.header)
		}
	}
	// Without maxRecords one page holds everything.
	r = b.do(t, "GET", "/jobs/query/"+id+"/results", nil)
	if rows := readCSV(t, r); len(rows) != 5 || r.header.Get("Sforce-Locator") != "null" {
		t.Errorf("whole result: %d rows, locator %q", len(rows), r.header.Get("Sforce-Locator"))
	}

	// queryAll sees the deleted contact too.
	all := b.createQueryJob(t, map[string]any{"operation": "queryAll", "query": "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true"})
	b.srv.Close()
	rows := readCSV(t, b.do(t, "GET", "/jobs/query/"+all+"/results", nil))
	if len(rows) != 2 || rows[1][0] != gone || rows[1][1] != "true" {
		t.Errorf("queryAll rows: %v", rows)
	}

	// The list has both jobs; deleting one removes it.
	var list struct {
		Done    bool             `json:"done"`
		Records []map[string]any `json:"records"`
	}
	b.do(t, "GET", "/jobs/query", nil).json(t, &list)
	if !list.Done || len(list.Records) != 2 || list.Records[0]["id"] != id {
		t.Errorf("job list: %+v", list)
	}
	if r := b.do(t, "DELETE", "/jobs/query/"+id, nil); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := b.do(t, "GET", "/jobs/query/"+id, nil); r.status != http.StatusNotFound {
		t.Errorf("deleted job: %d %s", r.status, r.body)
	}
	var lim map[string]map[string]int
	b.do(t, "GET", "/limits", nil).json(t, &lim)
	if got := lim["DailyBulkV2QueryJobs"]["Remaining"]; got != 9998 {
		t.Errorf("DailyBulkV2QueryJobs remaining = %d, want 9998", got)
	}
}

func TestBulkQueryJobDelimiters(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.create(t, "Contact", map[string]any{"LastName": "Pipe|Name"})
	id := b.createQueryJob(t, map[string]any{"operation": "query", "query": "SELECT LastName, FirstName FROM Contact", "columnDelimiter": "PIPE", "lineEnding": "CRLF"})
	b.srv.Close()
	r := b.do(t, "GET", "/jobs/query/"+id+"/results", nil)
	if want := "\"LastName\"|\"FirstName\"\r\n\"Pipe|Name\"|\"\"\r\n"; string(r.body) != want {
		t.Errorf("results %q, want %q", r.body, want)
	}
}

// TestBulkQueryJobStates holds a job before it runs to see the states and
// the errors of a job that has not finished.
func TestBulkQueryJobStates(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	release := make(chan struct{})
	b.srv.queryJobHook = func(string) { <-release }
	id := b.createQueryJob(t, map[string]any{"operation": "query", "query": "SELECT Id FROM Contact"})

	var info map[string]any
	b.do(t, "GET", "/jobs/query/"+id, nil).json(t, &info)
	if info["state"] != "UploadComplete" {
		t.Errorf("held job state %v", info["state"])
	}
	r := b.do(t, "GET", "/jobs/query/"+id+"/results", nil)
	if r.status != http.StatusPreconditionFailed || r.errorCode(t) != "JOB_NOT_COMPLETE" || !strings.Contains(string(r.body), "Current status: UPLOAD_COMPLETE") {
		t.Errorf("results of an unfinished job: %d %s", r.status, r.body)
	}
	if r := b.do(t, "DELETE", "/jobs/query/"+id, nil); r.status != http.StatusBadRequest || r.errorCode(t) != "API_ERROR" {
		t.Errorf("delete of an unfinished job: %d %s", r.status, r.body)
	}
	if r := b.do(t, "PATCH", "/jobs/query/"+id, map[string]any{"state": "JobComplete"}); r.status != http.StatusBadRequest || r.errorCode(t) != "INVALIDJOBSTATE" {
		t.Errorf("patch to JobComplete: %d %s", r.status, r.body)
	}
	r = b.do(t, "PATCH", "/jobs/query/"+id, map[string]any{"state": "Aborted"})
	r.json(t, &info)
	if r.status != http.StatusOK || info["state"] != "Aborted" {
		t.Errorf("abort: %d %s", r.status, r.body)
	}
	close(release)
	b.srv.Close()

	b.do(t, "GET", "/jobs/query/"+id, nil).json(t, &info)
	if info["state"] != "Aborted" || info["numberRecordsProcessed"] != 0.0 {
		t.Errorf("aborted job after its run: %v", info)
	}
	if r := b.do(t, "GET", "/jobs/query/"+id+"/results", nil); r.status != http.StatusPreconditionFailed {
		t.Errorf("results of an aborted job: %d %s", r.status, r.body)
	}
	if r := b.do(t, "PATCH", "/jobs/query/"+id, map[string]any{"state": "Aborted"}); r.status != http.StatusConflict || r.errorCode(t) != "INVALIDJOBSTATE" {
		t.Errorf("second abort: %d %s", r.status, r.body)
	}
	if r := b.do(t, "DELETE", "/jobs/query/"+id, nil); r.status != http.StatusNoContent {
		t.Errorf("delete of an aborted job: %d %s", r.status, r.body)
	}
}

func TestBulkQueryJobErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"count", map[string]any{"operation": "query", "query": "SELECT COUNT() FROM Contact"}, "API_ERROR"},
		{"offset", map[string]any{"operation": "query", "query": "SELECT Id FROM Contact LIMIT 5 OFFSET 2"}, "API_ERROR"},
		{"bad field", map[string]any{"operation": "query", "query": "SELECT Nope FROM Contact"}, "INVALID_FIELD"},
		{"bad object", map[string]any{"operation": "query", "query": "SELECT Id FROM Nope"}, "INVALID_TYPE"},
		{"malformed", map[string]any{"operation": "query", "query": "SELECT FROM"}, "MALFORMED_QUERY"},
		{"ingest operation", map[string]any{"operation": "insert", "query": "SELECT Id FROM Contact"}, "INVALIDJOB"},
		{"no operation", map[string]any{"query": "SELECT Id FROM Contact"}, "INVALIDJOB"},
		{"no query", map[string]any{"operation": "query"}, "INVALIDJOB"},
		{"json content", map[string]any{"operation": "query", "query": "SELECT Id FROM Contact", "contentType": "JSON"}, "INVALIDJOB"},
		{"bad delimiter", map[string]any{"operation": "query", "query": "SELECT Id FROM Contact", "columnDelimiter": "SPACE"}, "INVALIDJOB"},
		{"object mismatch", map[string]any{"operation": "query", "query": "SELECT Id FROM Contact", "object": "Account"}, "INVALIDJOB"},
		{"not json", "{", "JSON_PARSER_ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, "POST", "/jobs/query", tc.body)
			if r.status != http.StatusBadRequest || r.errorCode(t) != tc.code {
				t.Errorf("%d %s, want 400 %s", r.status, r.body, tc.code)
			}
		})
	}
	if r := b.do(t, "POST", b.ts.URL+"/services/data/v46.0/jobs/query", map[string]any{"operation": "query", "query": "SELECT Id FROM Contact"}); r.status != http.StatusNotFound {
		t.Errorf("v46.0: %d, want 404 (query jobs came in v47.0)", r.status)
	}
	if r := b.do(t, "GET", "/jobs/query/750RM0000000001YAA", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown job: %d", r.status)
	}

	id := b.createQueryJob(t, map[string]any{"operation": "query", "query": "SELECT Id FROM Contact"})
	b.srv.Close()
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/jobs/query/" + id + "/results?maxRecords=0", 400, "INVALIDMAXRECORDS"},
		{"/jobs/query/" + id + "/results?maxRecords=x", 400, "INVALIDMAXRECORDS"},
		{"/jobs/query/" + id + "/results?locator=%21%21", 400, "INVALIDLOCATOR"},
		{b.ts.URL + "/services/data/v60.0/jobs/query/" + id + "/results", 409, "API_ERROR"},
	} {
		if r := b.do(t, "GET", tc.path, nil); r.status != tc.status || r.errorCode(t) != tc.code {
			t.Errorf("GET %s: %d %s, want %d %s", tc.path, r.status, r.body, tc.status, tc.code)
		}
	}
}
