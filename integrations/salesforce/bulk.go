package salesforce

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Bulk API 2.0 ingest operations.
const (
	BulkInsert     = "insert"
	BulkUpdate     = "update"
	BulkUpsert     = "upsert"
	BulkDelete     = "delete"
	BulkHardDelete = "hardDelete"
)

// Bulk API 2.0 job states.
const (
	JobOpen           = "Open"
	JobUploadComplete = "UploadComplete"
	JobInProgress     = "InProgress"
	JobComplete       = "JobComplete"
	JobFailed         = "Failed"
	JobAborted        = "Aborted"
)

// IngestJobSpec describes a Bulk API 2.0 ingest job to create.
type IngestJobSpec struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	ExternalIDFieldName string `json:"externalIdFieldName,omitempty"`
	ContentType         string `json:"contentType"`
	// LineEnding is "LF" (default) or "CRLF".
	LineEnding string `json:"lineEnding"`
	// ColumnDelimiter is "COMMA" (default).
	ColumnDelimiter string `json:"columnDelimiter"`
}

// IngestJob is the state of a Bulk API 2.0 ingest job.
type IngestJob struct {
	ID                     string  `json:"id"`
	Object                 string  `json:"object"`
	Operation              string  `json:"operation"`
	State                  string  `json:"state"`
	ExternalIDFieldName    string  `json:"externalIdFieldName"`
	ContentURL             string  `json:"contentUrl"`
	LineEnding             string  `json:"lineEnding"`
	ColumnDelimiter        string  `json:"columnDelimiter"`
	APIVersion             float64 `json:"apiVersion"`
	JobType                string  `json:"jobType"`
	NumberRecordsProcessed int     `json:"numberRecordsProcessed"`
	NumberRecordsFailed    int     `json:"numberRecordsFailed"`
	Retries                int     `json:"retries"`
	TotalProcessingTime    int64   `json:"totalProcessingTime"`
	ErrorMessage           string  `json:"errorMessage"`
	CreatedByID            string  `json:"createdById"`
	CreatedDate            string  `json:"createdDate"`
	SystemModstamp         string  `json:"systemModstamp"`
}

// Terminal reports whether the job will not change state any more.
func (j *IngestJob) Terminal() bool {
	return j.State == JobComplete || j.State == JobFailed || j.State == JobAborted
}

// CreateIngestJob opens a job.
func (c *Client) CreateIngestJob(ctx context.Context, spec IngestJobSpec) (*IngestJob, error) {
	if err := checkName(spec.Object); err != nil {
		return nil, fmt.Errorf("salesforce: create ingest job: %w", err)
	}
	switch spec.Operation {
	case BulkInsert, BulkUpdate, BulkDelete, BulkHardDelete:
	case BulkUpsert:
		if err := checkName(spec.ExternalIDFieldName); err != nil {
			return nil, fmt.Errorf("salesforce: create ingest job: upsert needs an external id field: %w", err)
		}
	default:
		return nil, fmt.Errorf("salesforce: create ingest job: unknown operation %q", spec.Operation)
	}
	if spec.ContentType == "" {
		spec.ContentType = "CSV"
	}
	if spec.LineEnding == "" {
		spec.LineEnding = "LF"
	}
	if spec.ColumnDelimiter == "" {
		spec.ColumnDelimiter = "COMMA"
	}
	if spec.ColumnDelimiter != "COMMA" {
		// EncodeCSV and the result parsers only speak commas.
		return nil, fmt.Errorf("salesforce: create ingest job: column delimiter %q is not supported", spec.ColumnDelimiter)
	}
	req, err := c.NewRequest(ctx, http.MethodPost, "jobs/ingest", spec)
	if err != nil {
		return nil, err
	}
	job := new(IngestJob)
	if _, err := c.Do(req, job); err != nil {
		return nil, fmt.Errorf("salesforce: create ingest job for %s: %w", spec.Object, err)
	}
	return job, nil
}

// UploadIngestData uploads the job's CSV (header row of field API names,
// then records). The data is kept in memory so a retried upload can resend
// it.
func (c *Client) UploadIngestData(ctx context.Context, jobID string, csvData []byte) error {
	if !ValidID(jobID) {
		return fmt.Errorf("salesforce: upload ingest data: %q is not a job id", jobID)
	}
	req, err := c.newRequest(ctx, http.MethodPut, "jobs/ingest/"+jobID+"/batches", csvData, "text/csv")
	if err != nil {
		return err
	}
	if _, err := c.Do(req, nil); err != nil {
		return fmt.Errorf("salesforce: upload ingest data to job %s: %w", jobID, err)
	}
	return nil
}

func (c *Client) setJobState(ctx context.Context, jobID, state string) (*IngestJob, error) {
	if !ValidID(jobID) {
		return nil, fmt.Errorf("salesforce: ingest job: %q is not a job id", jobID)
	}
	req, err := c.NewRequest(ctx, http.MethodPatch, "jobs/ingest/"+jobID, map[string]string{"state": state})
	if err != nil {
		return nil, err
	}
	job := new(IngestJob)
	if _, err := c.Do(req, job); err != nil {
		return nil, fmt.Errorf("salesforce: set ingest job %s to %s: %w", jobID, state, err)
	}
	return job, nil
}

// CloseIngestJob marks the upload complete; processing starts only then.
func (c *Client) CloseIngestJob(ctx context.Context, jobID string) (*IngestJob, error) {
	return c.setJobState(ctx, jobID, JobUploadComplete)
}

// AbortIngestJob aborts a job.
func (c *Client) AbortIngestJob(ctx context.Context, jobID string) (*IngestJob, error) {
	return c.setJobState(ctx, jobID, JobAborted)
}

// GetIngestJob reads a job's state.
func (c *Client) GetIngestJob(ctx context.Context, jobID string) (*IngestJob, error) {
	if !ValidID(jobID) {
		return nil, fmt.Errorf("salesforce: get ingest job: %q is not a job id", jobID)
	}
	job := new(IngestJob)
	if err := c.get(ctx, "get ingest job "+jobID, "jobs/ingest/"+jobID, job); err != nil {
		return nil, err
	}
	return job, nil
}

// PollOptions bound WaitIngestJob's polling: the first wait is Initial
// (default 1s), doubled up to Max (default 30s).
type PollOptions struct {
	Initial, Max time.Duration
}

// WaitIngestJob polls until the job is JobComplete, Failed or Aborted, with
// a growing interval, and returns its final state. It returns early with
// ctx's error if ctx is done.
func (c *Client) WaitIngestJob(ctx context.Context, jobID string, opts *PollOptions) (*IngestJob, error) {
	var job *IngestJob
	err := poll(ctx, opts, func() (bool, error) {
		var err error
		job, err = c.GetIngestJob(ctx, jobID)
		return err == nil && job.Terminal(), err
	})
	if err != nil && job != nil && !job.Terminal() {
		err = fmt.Errorf("salesforce: wait for ingest job %s: %w", jobID, err)
	}
	return job, err
}

// poll calls check until it reports done or fails, sleeping between calls
// with the growing interval opts describes. It returns check's error, or
// ctx's error if ctx ends during a sleep.
func poll(ctx context.Context, opts *PollOptions, check func() (bool, error)) error {
	wait, maxWait := time.Second, 30*time.Second
	if opts != nil && opts.Initial > 0 {
		wait = opts.Initial
	}
	if opts != nil && opts.Max > 0 {
		maxWait = opts.Max
	}
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		if err := sleepCtx(ctx, jitter(wait)); err != nil {
			return err
		}
		wait = min(wait*2, maxWait)
	}
}

// BulkSuccess is one row of a job's successful results.
type BulkSuccess struct {
	ID      string
	Created bool
	// Fields are the row's original columns.
	Fields map[string]string
}

// BulkFailure is one row of a job's failed results.
type BulkFailure struct {
	// ID is set when the failing operation had one (update, delete).
	ID string
	// Code and Message split sf__Error ("REQUIRED_FIELD_MISSING:Required
	// fields are missing: [LastName]:LastName --").
	Code    string
	Message string
	Fields  map[string]string
}

// SuccessfulResults reads the rows the job saved. Row order is not the
// upload order.
func (c *Client) SuccessfulResults(ctx context.Context, jobID string) ([]BulkSuccess, error) {
	rows, err := c.resultCSV(ctx, jobID, "successfulResults")
	if err != nil {
		return nil, err
	}
	out := make([]BulkSuccess, 0, len(rows))
	for _, r := range rows {
		out = append(out, BulkSuccess{ID: r["sf__Id"], Created: strings.EqualFold(r["sf__Created"], "true"), Fields: stripSF(r)})
	}
	return out, nil
}

// FailedResults reads the rows the job rejected, with the API's error.
func (c *Client) FailedResults(ctx context.Context, jobID string) ([]BulkFailure, error) {
	rows, err := c.resultCSV(ctx, jobID, "failedResults")
	if err != nil {
		return nil, err
	}
	out := make([]BulkFailure, 0, len(rows))
	for _, r := range rows {
		code, msg, ok := strings.Cut(r["sf__Error"], ":")
		if !ok {
			code, msg = "", r["sf__Error"]
		}
		out = append(out, BulkFailure{ID: r["sf__Id"], Code: code, Message: msg, Fields: stripSF(r)})
	}
	return out, nil
}

// UnprocessedRecords reads the rows the job never processed (it failed or
// was aborted first).
func (c *Client) UnprocessedRecords(ctx context.Context, jobID string) ([]map[string]string, error) {
	return c.resultCSV(ctx, jobID, "unprocessedrecords")
}

func stripSF(r map[string]string) map[string]string {
	out := make(map[string]string, len(r))
	for k, v := range r {
		if !strings.HasPrefix(k, "sf__") {
			out[k] = v
		}
	}
	return out
}

func (c *Client) resultCSV(ctx context.Context, jobID, which string) ([]map[string]string, error) {
	if !ValidID(jobID) {
		return nil, fmt.Errorf("salesforce: ingest job %s: %q is not a job id", which, jobID)
	}
	req, err := c.NewRequest(ctx, http.MethodGet, "jobs/ingest/"+jobID+"/"+which+"/", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/csv")
	var body []byte
	if _, err := c.Do(req, &body); err != nil {
		return nil, fmt.Errorf("salesforce: ingest job %s %s: %w", jobID, which, err)
	}
	rows, err := parseCSV(body)
	if err != nil {
		return nil, fmt.Errorf("salesforce: ingest job %s %s: %w", jobID, which, err)
	}
	return rows, nil
}

func parseCSV(b []byte) ([]map[string]string, error) {
	_, rows, err := parseCSVTable(b)
	return rows, err
}

// parseCSVTable reads a result CSV into its header and one map per row.
func parseCSVTable(b []byte) ([]string, []map[string]string, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil, nil // an empty result may come back as 204
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read CSV header: %w", err)
	}
	var out []map[string]string
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return header, out, nil
		}
		if err != nil {
			return header, out, fmt.Errorf("read CSV: %w", err)
		}
		m := make(map[string]string, len(header))
		for i, h := range header {
			if i < len(row) {
				m[h] = row[i]
			}
		}
		out = append(out, m)
	}
}

// EncodeCSV writes records as an ingest CSV with the given columns. A nil
// value is written as #N/A, which Bulk API 2.0 reads as "set to null";
// a missing key leaves the cell empty (field unchanged).
func EncodeCSV(columns []string, records []map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(columns); err != nil {
		return nil, err
	}
	row := make([]string, len(columns))
	for i, rec := range records {
		for j, col := range columns {
			v, ok := rec[col]
			switch {
			case !ok:
				row[j] = ""
			case v == nil:
				row[j] = "#N/A"
			default:
				s, err := csvValue(v)
				if err != nil {
					return nil, fmt.Errorf("salesforce: encode CSV record %d column %s: %w", i, col, err)
				}
				row[j] = s
			}
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func csvValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	case fmt.Stringer:
		return x.String(), nil
	case bool, int, int32, int64, float32, float64, uint, uint32, uint64:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

// IngestResult is everything a finished ingest job reports.
type IngestResult struct {
	Job         *IngestJob
	Successful  []BulkSuccess
	Failed      []BulkFailure
	Unprocessed []map[string]string
}

// Ingest runs a whole Bulk API 2.0 ingest: create the job, upload csvData,
// close, wait, and read all three result sets. If anything fails before the
// job is closed, the job is aborted. A job that ends Failed or Aborted
// rather than JobComplete is an error carrying the job's errorMessage,
// returned with whatever results the job still reports (rows it saved
// before failing, and the rows it never processed).
func (c *Client) Ingest(ctx context.Context, spec IngestJobSpec, csvData []byte, poll *PollOptions) (*IngestResult, error) {
	job, err := c.CreateIngestJob(ctx, spec)
	if err != nil {
		return nil, err
	}
	if err := c.UploadIngestData(ctx, job.ID, csvData); err != nil {
		c.AbortIngestJob(context.WithoutCancel(ctx), job.ID)
		return nil, err
	}
	if _, err := c.CloseIngestJob(ctx, job.ID); err != nil {
		c.AbortIngestJob(context.WithoutCancel(ctx), job.ID)
		return nil, err
	}
	job, err = c.WaitIngestJob(ctx, job.ID, poll)
	if err != nil {
		return nil, err
	}
	res := &IngestResult{Job: job}
	var jobErr error
	if job.State != JobComplete {
		jobErr = fmt.Errorf("salesforce: ingest job %s ended %s: %s", job.ID, job.State, job.ErrorMessage)
	}
	if res.Successful, err = c.SuccessfulResults(ctx, job.ID); err != nil {
		return res, errors.Join(jobErr, err)
	}
	if res.Failed, err = c.FailedResults(ctx, job.ID); err != nil {
		return res, errors.Join(jobErr, err)
	}
	if res.Unprocessed, err = c.UnprocessedRecords(ctx, job.ID); err != nil {
		return res, errors.Join(jobErr, err)
	}
	return res, jobErr
}
