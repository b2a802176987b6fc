package salesforce_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

const jobID = "750RM000000Zc1ZYAS"

func TestIngestLifecycle(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var uploaded atomic.Value
	var polls atomic.Int32
	mux.HandleFunc("POST "+apiRoot+"/jobs/ingest", func(w http.ResponseWriter, r *http.Request) {
		got := decodeBody(t, r)
		want := map[string]any{"object": "Contact", "operation": "upsert", "externalIdFieldName": "Lightspeed_Customer_ID__c", "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("create body (-want +got):\n%s", diff)
		}
		writeJSON(w, 200, `{"id":"`+jobID+`","operation":"upsert","object":"Contact","state":"Open","contentUrl":"services/data/v66.0/jobs/ingest/`+jobID+`/batches"}`)
	})
	mux.HandleFunc("PUT "+apiRoot+"/jobs/ingest/"+jobID+"/batches", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "text/csv" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		uploaded.Store(string(b))
		w.WriteHeader(201)
	})
	mux.HandleFunc("PATCH "+apiRoot+"/jobs/ingest/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		if got := decodeBody(t, r); got["state"] != "UploadComplete" {
			t.Errorf("state = %v", got)
		}
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"UploadComplete"}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		state := []string{"UploadComplete", "InProgress", "JobComplete"}[min(polls.Add(1)-1, 2)]
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"`+state+`","numberRecordsProcessed":3,"numberRecordsFailed":1}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/successfulResults/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		io.WriteString(w, "\"sf__Id\",\"sf__Created\",LastName,Lightspeed_Customer_ID__c\n003RM0000068xVCYAY,true,\"Smith, Jr\",1\n003RM0000068xUAYAY,false,Jones,2\n")
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/failedResults/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "\"sf__Id\",\"sf__Error\",LastName,Lightspeed_Customer_ID__c\n\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --\",,3\n")
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/unprocessedrecords/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	})
	data, err := salesforce.EncodeCSV([]string{"LastName", "Lightspeed_Customer_ID__c", "Email"}, []map[string]any{
		{"LastName": "Smith, Jr", "Lightspeed_Customer_ID__c": 1, "Email": nil},
		{"LastName": "Jones", "Lightspeed_Customer_ID__c": "2"},
		{"LastName": "", "Lightspeed_Customer_ID__c": "3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Ingest(t.Context(), salesforce.IngestJobSpec{Object: "Contact", Operation: salesforce.BulkUpsert, ExternalIDFieldName: "Lightspeed_Customer_ID__c"}, data,
		&salesforce.PollOptions{Initial: time.Millisecond, Max: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if want := "LastName,Lightspeed_Customer_ID__c,Email\n\"Smith, Jr\",1,#N/A\nJones,2,\n,3,\n"; uploaded.Load() != want {
		t.Errorf("uploaded %q, want %q", uploaded.Load(), want)
	}
	if res.Job.State != salesforce.JobComplete || polls.Load() != 3 {
		t.Errorf("job %+v after %d polls", res.Job, polls.Load())
	}
	wantOK := []salesforce.BulkSuccess{
		{ID: "003RM0000068xVCYAY", Created: true, Fields: map[string]string{"LastName": "Smith, Jr", "Lightspeed_Customer_ID__c": "1"}},
		{ID: "003RM0000068xUAYAY", Fields: map[string]string{"LastName": "Jones", "Lightspeed_Customer_ID__c": "2"}},
	}
	if diff := cmp.Diff(wantOK, res.Successful); diff != "" {
		t.Errorf("successful (-want +got):\n%s", diff)
	}
	wantFail := []salesforce.BulkFailure{{Code: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]:LastName --",
		Fields: map[string]string{"LastName": "", "Lightspeed_Customer_ID__c": "3"}}}
	if diff := cmp.Diff(wantFail, res.Failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
	if len(res.Unprocessed) != 0 {
		t.Errorf("unprocessed = %v", res.Unprocessed)
	}
}

func TestIngestAbortsOnUploadFailure(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var aborted atomic.Bool
	mux.HandleFunc("POST "+apiRoot+"/jobs/ingest", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"Open"}`)
	})
	mux.HandleFunc("PUT "+apiRoot+"/jobs/ingest/"+jobID+"/batches", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `[{"errorCode":"INVALIDJOBSTATE","message":"bad csv"}]`)
	})
	mux.HandleFunc("PATCH "+apiRoot+"/jobs/ingest/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		var b map[string]string
		json.NewDecoder(r.Body).Decode(&b)
		aborted.Store(b["state"] == "Aborted")
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"Aborted"}`)
	})
	_, err := c.Ingest(t.Context(), salesforce.IngestJobSpec{Object: "Contact", Operation: salesforce.BulkInsert}, []byte("LastName\nX\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "bad csv") || !aborted.Load() {
		t.Fatalf("err = %v, aborted = %v", err, aborted.Load())
	}
}

func TestIngestRejectsBadSpec(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	for _, spec := range []salesforce.IngestJobSpec{
		{Object: "Contact", Operation: "merge"},
		{Object: "Contact", Operation: "upsert"},
		{Object: "", Operation: "insert"},
		{Object: "Contact", Operation: "insert", ColumnDelimiter: "TAB"},
	} {
		if _, err := c.CreateIngestJob(t.Context(), spec); err == nil {
			t.Errorf("spec %+v accepted", spec)
		}
	}
	if _, err := salesforce.EncodeCSV([]string{"A"}, []map[string]any{{"A": []int{1}}}); err == nil {
		t.Error("EncodeCSV accepted a slice")
	}
}

// TestIngestResultForms reads the result CSVs of reference §4.5 in the
// shapes Salesforce sends: quoted sf__ headers, CRLF line endings, errors
// with and without a message, 204 or header-only empty results.
func TestIngestResultForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		csv         string
		wantFail    []salesforce.BulkFailure
		wantOK      []salesforce.BulkSuccess
		unprocessed []map[string]string
	}{
		{name: "cross reference error, CRLF", status: 200,
			csv: "\"sf__Id\",\"sf__Error\",\"LastName\",\"AccountId\"\r\n\"\",\"INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--\",\"Smith\",\"001RM0000020xyzYAA\"\r\n",
			wantFail: []salesforce.BulkFailure{{Code: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id:--",
				Fields: map[string]string{"LastName": "Smith", "AccountId": "001RM0000020xyzYAA"}}}},
		{name: "lock error on an update keeps the id", status: 200,
			csv: "\"sf__Id\",\"sf__Error\",Id,LastName\n003RM0000068xVCYAY,UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: 001RM0000020xyzYAA,003RM0000068xVCYAY,Smith\n",
			wantFail: []salesforce.BulkFailure{{ID: "003RM0000068xVCYAY", Code: "UNABLE_TO_LOCK_ROW",
				Message: "unable to obtain exclusive access to this record or 1 records: 001RM0000020xyzYAA",
				Fields:  map[string]string{"Id": "003RM0000068xVCYAY", "LastName": "Smith"}}}},
		{name: "error without a code", status: 200,
			csv:      "\"sf__Id\",\"sf__Error\",LastName\n,something went wrong,Smith\n",
			wantFail: []salesforce.BulkFailure{{Message: "something went wrong", Fields: map[string]string{"LastName": "Smith"}}}},
		{name: "header only", status: 200, csv: "\"sf__Id\",\"sf__Error\",LastName\n"},
		{name: "204 no content", status: 204},
		{name: "successes, CRLF and a quoted comma", status: 200,
			csv: "\"sf__Id\",\"sf__Created\",LastName\r\n003RM0000068xVCYAY,true,\"Smith, Jr\"\r\n003RM0000068xUAYAY,false,Jones\r\n",
			wantOK: []salesforce.BulkSuccess{
				{ID: "003RM0000068xVCYAY", Created: true, Fields: map[string]string{"LastName": "Smith, Jr"}},
				{ID: "003RM0000068xUAYAY", Fields: map[string]string{"LastName": "Jones"}}}},
		{name: "unprocessed rows", status: 200, csv: "LastName,Lightspeed_Customer_ID__c\nSmith,1\n",
			unprocessed: []map[string]string{{"LastName": "Smith", "Lightspeed_Customer_ID__c": "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mux, c, _ := setup(t)
			serve := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/csv")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.csv)
			}
			for _, which := range []string{"successfulResults", "failedResults", "unprocessedrecords"} {
				mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/"+which+"/", serve)
			}
			switch {
			case tt.wantOK != nil:
				got, err := c.SuccessfulResults(t.Context(), jobID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.wantOK, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			case tt.unprocessed != nil:
				got, err := c.UnprocessedRecords(t.Context(), jobID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.unprocessed, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			default:
				got, err := c.FailedResults(t.Context(), jobID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.wantFail, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestWaitIngestJobStates walks a job through the states of §4.5 and
// stops at each terminal one with the job's own error message.
func TestWaitIngestJobStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		final, errorMessage string
	}{
		{final: salesforce.JobComplete},
		{final: salesforce.JobFailed, errorMessage: "InvalidBatch : Field name not found : Foo__c"},
		{final: salesforce.JobAborted},
	}
	for _, tt := range tests {
		t.Run(tt.final, func(t *testing.T) {
			t.Parallel()
			mux, c, _ := setup(t)
			var polls atomic.Int32
			mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID, func(w http.ResponseWriter, r *http.Request) {
				states := []string{salesforce.JobOpen, salesforce.JobUploadComplete, salesforce.JobInProgress, tt.final}
				n := min(int(polls.Add(1))-1, len(states)-1)
				writeJSON(w, 200, `{"id":"`+jobID+`","state":"`+states[n]+`","jobType":"V2Ingest","concurrencyMode":"Parallel","apiVersion":66.0,
					"numberRecordsProcessed":10,"numberRecordsFailed":2,"totalProcessingTime":1234,"apiActiveProcessingTime":1000,"apexProcessingTime":0,
					"errorMessage":"`+tt.errorMessage+`"}`)
			})
			job, err := c.WaitIngestJob(t.Context(), jobID, &salesforce.PollOptions{Initial: time.Millisecond, Max: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if job.State != tt.final || !job.Terminal() || job.ErrorMessage != tt.errorMessage || polls.Load() != 4 ||
				job.APIVersion != 66 || job.NumberRecordsFailed != 2 {
				t.Errorf("job = %+v after %d polls", job, polls.Load())
			}
		})
	}
}

// TestIngestFailedJob is a job that ends Failed (§4.5): Ingest says so with
// the job's errorMessage and still hands back the rows it reported.
func TestIngestFailedJob(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	mux.HandleFunc("POST "+apiRoot+"/jobs/ingest", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"Open"}`)
	})
	mux.HandleFunc("PUT "+apiRoot+"/jobs/ingest/"+jobID+"/batches", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	mux.HandleFunc("PATCH "+apiRoot+"/jobs/ingest/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"UploadComplete"}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id":"`+jobID+`","state":"Failed","errorMessage":"InvalidBatch : Field name not found : Foo__c","numberRecordsProcessed":0}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/successfulResults/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "\"sf__Id\",\"sf__Created\",LastName,Foo__c\n")
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/failedResults/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "\"sf__Id\",\"sf__Error\",LastName,Foo__c\n")
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/unprocessedrecords/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "LastName,Foo__c\nSmith,x\n")
	})
	res, err := c.Ingest(t.Context(), salesforce.IngestJobSpec{Object: "Contact", Operation: salesforce.BulkInsert}, []byte("LastName,Foo__c\nSmith,x\n"),
		&salesforce.PollOptions{Initial: time.Millisecond, Max: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "Field name not found : Foo__c") || !strings.Contains(err.Error(), "Failed") {
		t.Fatalf("err = %v, want the job's errorMessage", err)
	}
	if res == nil || res.Job.State != salesforce.JobFailed || !cmp.Equal(res.Unprocessed, []map[string]string{{"LastName": "Smith", "Foo__c": "x"}}) {
		t.Errorf("result = %+v", res)
	}
}

// A streamed upload sends what its reader gives, opened afresh for a
// retry (here after a 503), and the result iterators read a result CSV a
// row at a time, stopping early when asked.
func TestIngestStreamed(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	var puts atomic.Int32
	var uploaded atomic.Value
	mux.HandleFunc("PUT "+apiRoot+"/jobs/ingest/"+jobID+"/batches", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if puts.Add(1) == 1 {
			writeJSON(w, 503, `[{"errorCode":"SERVER_UNAVAILABLE","message":"try again"}]`)
			return
		}
		uploaded.Store(string(b))
		w.WriteHeader(201)
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/successfulResults/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "\"sf__Id\",\"sf__Created\",Name,Ext__c\n003RM0000068xVCYAY,true,\"Smith, Jr\",1\n003RM0000068xUAYAY,false,Jones,2\n003RM0000068xUBYAY,false,Brown,3\n")
	})
	mux.HandleFunc("GET "+apiRoot+"/jobs/ingest/"+jobID+"/failedResults/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	})
	opened := 0
	open := func() (io.ReadCloser, error) {
		opened++
		pr, pw := io.Pipe()
		go func() {
			cw, err := salesforce.NewCSVWriter(pw, []string{"Name", "Ext__c"})
			if err == nil {
				cw.Write(map[string]any{"Name": "Smith, Jr", "Ext__c": "1"})
				cw.Write(map[string]any{"Name": nil, "Ext__c": "2"})
				err = cw.Flush()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	if err := c.UploadIngestStream(t.Context(), jobID, open); err != nil {
		t.Fatal(err)
	}
	if want := "Name,Ext__c\n\"Smith, Jr\",1\n#N/A,2\n"; uploaded.Load() != want || opened != 2 {
		t.Errorf("uploaded %q after %d opens; want %q after 2", uploaded.Load(), opened, want)
	}
	var ids []string
	for r, err := range c.SuccessfulResultsIter(t.Context(), jobID) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID+" "+r.Fields["Name"]+" "+r.Fields["Ext__c"])
		if len(ids) == 2 {
			break
		}
	}
	if want := []string{"003RM0000068xVCYAY Smith, Jr 1", "003RM0000068xUAYAY Jones 2"}; !cmp.Equal(ids, want) {
		t.Errorf("successful results %q, want %q", ids, want)
	}
	// Named columns keep only those of each row.
	var only []map[string]string
	for r, err := range c.SuccessfulResultsIter(t.Context(), jobID, "Ext__c") {
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == "" || (r.ID == "003RM0000068xVCYAY") != r.Created {
			t.Errorf("row %+v: sf__ columns lost", r)
		}
		only = append(only, r.Fields)
	}
	if want := []map[string]string{{"Ext__c": "1"}, {"Ext__c": "2"}, {"Ext__c": "3"}}; !cmp.Equal(only, want) {
		t.Errorf("results with Ext__c only: %v, want %v", only, want)
	}
	for r, err := range c.FailedResultsIter(t.Context(), jobID) {
		t.Errorf("failed results of a 204: %+v, %v", r, err)
	}
}
