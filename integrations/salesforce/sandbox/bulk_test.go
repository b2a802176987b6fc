package sandbox

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"
)

// waitJob polls a Bulk job until it leaves the in-flight states. It polls on
// the job's own state, not on time, so a slow machine only makes it slower.
func (b *bundle) waitJob(t *testing.T, id string) jobInfo {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var info jobInfo
		b.do(t, "GET", "/jobs/ingest/"+id, nil).json(t, &info)
		switch info.State {
		case "JobComplete", "Failed", "Aborted":
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", id, info.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readCSV(t *testing.T, r resp) [][]string {
	t.Helper()
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("results: %d %s %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatalf("parse results CSV: %v", err)
	}
	return rows
}

func (b *bundle) runJob(t *testing.T, spec map[string]any, data string) jobInfo {
	t.Helper()
	r := b.do(t, "POST", "/jobs/ingest", spec)
	var info jobInfo
	r.json(t, &info)
	if r.status != 200 || info.State != "Open" || !strings.HasPrefix(info.ID, "750") || info.ContentURL != "services/data/v66.0/jobs/ingest/"+info.ID+"/batches" {
		t.Fatalf("create job: %d %s", r.status, r.body)
	}
	if r := b.do(t, "PUT", "/jobs/ingest/"+info.ID+"/batches", data, "Content-Type", "text/csv"); r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if r := b.do(t, "PUT", "/jobs/ingest/"+info.ID+"/batches", data, "Content-Type", "text/csv"); r.status != 400 {
		t.Fatalf("second upload: %d, want 400", r.status)
	}
	if r := b.do(t, "PATCH", "/jobs/ingest/"+info.ID, map[string]any{"state": "UploadComplete"}); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	return b.waitJob(t, info.ID)
}

func TestBulkIngest5000(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 40, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	acct := b.create(t, "Account", map[string]any{"Name": "Store"})
	var sb strings.Builder
	sb.WriteString("LastName,Email,Lightspeed_Customer_ID__c,AccountId\n")
	bad := map[int]string{17: "REQUIRED_FIELD_MISSING", 1000: "INVALID_EMAIL_ADDRESS", 4999: "INVALID_CROSS_REFERENCE_KEY", 2500: "DUPLICATE_VALUE"}
	for i := range 5000 {
		last, email, key, account := fmt.Sprintf("Bulk %d", i), fmt.Sprintf("b%d@example.com", i), fmt.Sprintf("LS-%d", i), acct
		switch bad[i] {
		case "REQUIRED_FIELD_MISSING":
			last = ""
		case "INVALID_EMAIL_ADDRESS":
			email = "not an email"
		case "INVALID_CROSS_REFERENCE_KEY":
			account = "001RM9999999999AAA"
		case "DUPLICATE_VALUE":
			key = "LS-1"
		}
		fmt.Fprintf(&sb, "%q,%s,%s,%s\n", last, email, key, account)
	}
	info := b.runJob(t, map[string]any{"object": "Contact", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"}, sb.String())
	if info.State != "JobComplete" || info.NumberRecordsProcessed != 5000 || info.NumberRecordsFailed != len(bad) {
		t.Fatalf("job: %+v", info)
	}
	ok := readCSV(t, b.do(t, "GET", "/jobs/ingest/"+info.ID+"/successfulResults/", nil))
	if got := strings.Join(ok[0], ","); got != "sf__Id,sf__Created,LastName,Email,Lightspeed_Customer_ID__c,AccountId" {
		t.Errorf("success header %q", got)
	}
	if len(ok) != 1+5000-len(bad) || !strings.HasPrefix(ok[1][0], "003") || ok[1][1] != "true" {
		t.Errorf("%d success rows, first %v", len(ok)-1, ok[1])
	}
	failed := readCSV(t, b.do(t, "GET", "/jobs/ingest/"+info.ID+"/failedResults/", nil))
	if len(failed) != 1+len(bad) || failed[0][0] != "sf__Id" || failed[0][1] != "sf__Error" {
		t.Fatalf("failed results: %v", failed)
	}
	codes := map[string]bool{}
	for _, row := range failed[1:] {
		code, _, _ := strings.Cut(row[1], ":")
		codes[code] = true
	}
	for _, code := range bad {
		if !codes[code] {
			t.Errorf("failedResults lacks %s: %v", code, failed)
		}
	}
	un := readCSV(t, b.do(t, "GET", "/jobs/ingest/"+info.ID+"/unprocessedrecords/", nil))
	if len(un) != 1 {
		t.Errorf("unprocessed rows: %v", un)
	}
	if got := b.liveCount(t, "Contact"); got != 5000-len(bad) {
		t.Errorf("%d contacts stored, want %d", got, 5000-len(bad))
	}
}

func TestBulkUpsertAndFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	if err := b.srv.AddCustomField("Account", FieldSpec{Name: "Shop_Key__c", Type: "Text", Length: 20, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.AddCustomField("Contact", FieldSpec{Name: "Key__c", Type: "Text", Length: 20, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	b.create(t, "Account", map[string]any{"Name": "Shop", "Shop_Key__c": "S1"})
	existing := b.create(t, "Contact", map[string]any{"LastName": "Old", "Key__c": "K2", "Phone": "123"})
	data := "Key__c,LastName,Phone,Account.Shop_Key__c\nK1,New,,S1\nK2,Updated,#N/A,\nK3,Orphan,,missing\n"
	info := b.runJob(t, map[string]any{"object": "Contact", "operation": "upsert", "externalIdFieldName": "Key__c"}, data)
	if info.State != "JobComplete" || info.NumberRecordsFailed != 1 {
		t.Fatalf("upsert job: %+v", info)
	}
	ok := readCSV(t, b.do(t, "GET", "/jobs/ingest/"+info.ID+"/successfulResults", nil))
	if len(ok) != 3 || ok[1][1] != "true" || ok[2][1] != "false" || ok[2][0] != existing {
		t.Errorf("upsert results: %v", ok)
	}
	var rec map[string]any
	b.do(t, "GET", "/sobjects/Contact/"+existing+"?fields=LastName,Phone", nil).json(t, &rec)
	if rec["LastName"] != "Updated" || rec["Phone"] != nil {
		t.Errorf("updated row: %v (#N/A must null the phone)", rec)
	}
	// A job with an unknown column fails as a whole.
	info = b.runJob(t, map[string]any{"object": "Contact", "operation": "insert"}, "LastName,Shoe__c\nA,9\n")
	if info.State != "Failed" || !strings.Contains(info.ErrorMessage, "Shoe__c") {
		t.Errorf("bad header job: %+v", info)
	}
	un := readCSV(t, b.do(t, "GET", "/jobs/ingest/"+info.ID+"/unprocessedrecords", nil))
	if len(un) != 2 {
		t.Errorf("unprocessed after failure: %v", un)
	}
	// CRLF data on an LF job is refused, as Salesforce does.
	info = b.runJob(t, map[string]any{"object": "Contact", "operation": "insert"}, "LastName\r\nA\r\n")
	if info.State != "Failed" || !strings.Contains(info.ErrorMessage, "LineEnding") {
		t.Errorf("CRLF job: %+v", info)
	}
	for _, spec := range []map[string]any{
		{"object": "Nope", "operation": "insert"},
		{"object": "Contact", "operation": "merge"},
		{"object": "Contact", "operation": "upsert"},
	} {
		if r := b.do(t, "POST", "/jobs/ingest", spec); r.status != 400 {
			t.Errorf("create job %v: %d, want 400", spec, r.status)
		}
	}
	var list struct {
		Done    bool      `json:"done"`
		Records []jobInfo `json:"records"`
	}
	b.do(t, "GET", "/jobs/ingest", nil).json(t, &list)
	if !list.Done || len(list.Records) != 3 {
		t.Errorf("job list: %+v", list)
	}
}
