package salesforce

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
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

// UploadIngestStream uploads the job's CSV as UploadIngestData does, read
// from a reader open returns rather than held in memory (a job of millions
// of rows): the body is streamed to Salesforce, and open is called again
// for each retry or replay, so it must give the same data each time. The
// reader is closed once sent.
func (c *Client) UploadIngestStream(ctx context.Context, jobID string, open func() (io.ReadCloser, error)) error {
	if !ValidID(jobID) {
		return fmt.Errorf("salesforce: upload ingest data: %q is not a job id", jobID)
	}
	req, err := c.newRequest(ctx, http.MethodPut, "jobs/ingest/"+jobID+"/batches", nil, "text/csv")
	if err != nil {
		return err
	}
	body, err := open()
	if err != nil {
		return fmt.Errorf("salesforce: upload ingest data to job %s: %w", jobID, err)
	}
	req.Body, req.GetBody, req.ContentLength = body, open, -1
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
	return collect(c.SuccessfulResultsIter(ctx, jobID))
}

// FailedResults reads the rows the job rejected, with the API's error.
func (c *Client) FailedResults(ctx context.Context, jobID string) ([]BulkFailure, error) {
	return collect(c.FailedResultsIter(ctx, jobID))
}

// collect reads rows to their end, or to their first error.
func collect[T any](rows iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for r, err := range rows {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SuccessfulResultsIter yields the rows the job saved as SuccessfulResults
// does, read from the response as they come (never the whole result in
// memory). Fields holds only cols when any are named: a caller that needs
// one column of a wide row does not pay for a map of all of them.
// Stopping early closes the response.
func (c *Client) SuccessfulResultsIter(ctx context.Context, jobID string, cols ...string) iter.Seq2[BulkSuccess, error] {
	return mapRows(c.resultRows(ctx, jobID, "successfulResults", cols), func(r resultRow) BulkSuccess {
		return BulkSuccess{ID: r.id, Created: strings.EqualFold(r.created, "true"), Fields: r.fields}
	})
}

// FailedResultsIter yields the rows the job rejected as FailedResults
// does, read from the response as they come; cols limits Fields as in
// SuccessfulResultsIter.
func (c *Client) FailedResultsIter(ctx context.Context, jobID string, cols ...string) iter.Seq2[BulkFailure, error] {
	return mapRows(c.resultRows(ctx, jobID, "failedResults", cols), func(r resultRow) BulkFailure {
		// sf__Error is "REQUIRED_FIELD_MISSING:Required fields are
		// missing: [LastName]:LastName --".
		code, msg, ok := strings.Cut(r.err, ":")
		if !ok {
			code, msg = "", r.err
		}
		return BulkFailure{ID: r.id, Code: code, Message: msg, Fields: r.fields}
	})
}

// mapRows yields each row of rows as f makes it, and the error that ends
// rows.
func mapRows[R, T any](rows iter.Seq2[R, error], f func(R) T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for r, err := range rows {
			var v T
			if err != nil {
				yield(v, err)
				return
			}
			if !yield(f(r), nil) {
				return
			}
		}
	}
}

// resultRow is one row of a result CSV: its sf__ columns, and the others
// by name.
type resultRow struct {
	id, created, err string
	fields           map[string]string
}

// resultRows streams a result CSV, a row at a time, keeping of the
// original columns only cols (all of them when cols is empty).
func (c *Client) resultRows(ctx context.Context, jobID, which string, cols []string) iter.Seq2[resultRow, error] {
	return func(yield func(resultRow, error) bool) {
		fail := func(err error) { yield(resultRow{}, fmt.Errorf("salesforce: ingest job %s %s: %w", jobID, which, err)) }
		if !ValidID(jobID) {
			yield(resultRow{}, fmt.Errorf("salesforce: ingest job %s: %q is not a job id", which, jobID))
			return
		}
		req, err := c.NewRequest(ctx, http.MethodGet, "jobs/ingest/"+jobID+"/"+which+"/", nil)
		if err != nil {
			yield(resultRow{}, err)
			return
		}
		req.Header.Set("Accept", "text/csv")
		resp, errBody, body, err := c.sendStream(req, true)
		if err != nil {
			fail(err)
			return
		}
		if body == nil {
			fail(newAPIError(req.Method, req.URL.Path, resp.StatusCode, errBody))
			return
		}
		defer body.Close()
		r := csv.NewReader(body)
		r.FieldsPerRecord = -1
		r.ReuseRecord = true
		header, err := r.Read()
		if errors.Is(err, io.EOF) {
			return // an empty result may come back as 204
		}
		if err != nil {
			fail(fmt.Errorf("read CSV header: %w", err))
			return
		}
		type column struct {
			name string
			i    int
		}
		idCol, createdCol, errCol := -1, -1, -1
		var keep []column
		for i, h := range header {
			switch {
			case h == "sf__Id":
				idCol = i
			case h == "sf__Created":
				createdCol = i
			case h == "sf__Error":
				errCol = i
			case strings.HasPrefix(h, "sf__"):
				// Salesforce's own column, not one of the record's.
			case len(cols) == 0 || slices.Contains(cols, h):
				keep = append(keep, column{strings.Clone(h), i})
			}
		}
		at := func(row []string, i int) string {
			if i < 0 || i >= len(row) {
				return ""
			}
			return row[i]
		}
		for {
			row, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				fail(fmt.Errorf("read CSV: %w", err))
				return
			}
			rr := resultRow{id: at(row, idCol), created: at(row, createdCol), err: at(row, errCol),
				fields: make(map[string]string, len(keep))}
			for _, k := range keep {
				if k.i < len(row) {
					rr.fields[k.name] = row[k.i]
				}
			}
			if !yield(rr, nil) {
				return
			}
		}
	}
}

// UnprocessedRecords reads the rows the job never processed (it failed or
// was aborted first).
func (c *Client) UnprocessedRecords(ctx context.Context, jobID string) ([]map[string]string, error) {
	return collect(mapRows(c.resultRows(ctx, jobID, "unprocessedrecords", nil), func(r resultRow) map[string]string { return r.fields }))
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
	w, err := NewCSVWriter(&buf, columns)
	if err != nil {
		return nil, err
	}
	for _, rec := range records {
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CSVWriter writes an ingest CSV a record at a time, as EncodeCSV does, for
// an upload streamed with UploadIngestStream.
type CSVWriter struct {
	w       *csv.Writer
	columns []string
	row     []string
	n       int
}

// NewCSVWriter writes the header row of columns to w.
func NewCSVWriter(w io.Writer, columns []string) (*CSVWriter, error) {
	cw := NewCSVRecords(w, columns)
	if err := cw.w.Write(columns); err != nil {
		return nil, err
	}
	return cw, nil
}

// NewCSVRecords writes records of columns to w without the header: the
// body of an ingest CSV encoded ahead of its upload.
func NewCSVRecords(w io.Writer, columns []string) *CSVWriter {
	return &CSVWriter{w: csv.NewWriter(w), columns: columns, row: make([]string, len(columns))}
}

// Write writes one record: a nil value as #N/A, a missing key empty.
func (cw *CSVWriter) Write(rec map[string]any) error {
	for j, col := range cw.columns {
		v, ok := rec[col]
		switch {
		case !ok:
			cw.row[j] = ""
		case v == nil:
			cw.row[j] = "#N/A"
		default:
			s, err := csvValue(v)
			if err != nil {
				return fmt.Errorf("salesforce: encode CSV record %d column %s: %w", cw.n, col, err)
			}
			cw.row[j] = s
		}
	}
	cw.n++
	return cw.w.Write(cw.row)
}

// Flush writes out what is buffered and returns any write error.
func (cw *CSVWriter) Flush() error {
	cw.w.Flush()
	return cw.w.Error()
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
