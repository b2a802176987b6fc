package salesforce

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Bulk API 2.0 query operations.
const (
	BulkQueryOp    = "query"
	BulkQueryAllOp = "queryAll"
)

// DefaultBulkQueryPage is how many records BulkQuery asks for per result
// page when BulkQueryOptions.MaxRecords is zero: a page is held in memory
// while it is yielded.
const DefaultBulkQueryPage = 50000

// QueryJob is the state of a Bulk API 2.0 query job.
type QueryJob struct {
	ID                     string  `json:"id"`
	Operation              string  `json:"operation"`
	Object                 string  `json:"object"`
	State                  string  `json:"state"`
	APIVersion             float64 `json:"apiVersion"`
	JobType                string  `json:"jobType"`
	LineEnding             string  `json:"lineEnding"`
	ColumnDelimiter        string  `json:"columnDelimiter"`
	NumberRecordsProcessed int     `json:"numberRecordsProcessed"`
	Retries                int     `json:"retries"`
	TotalProcessingTime    int64   `json:"totalProcessingTime"`
	CreatedByID            string  `json:"createdById"`
	CreatedDate            string  `json:"createdDate"`
	SystemModstamp         string  `json:"systemModstamp"`
}

// Terminal reports whether the job will not change state any more.
func (j *QueryJob) Terminal() bool {
	return j.State == JobComplete || j.State == JobFailed || j.State == JobAborted
}

// CreateQueryJob starts a query job for soql; all includes deleted and
// archived records (queryAll). The results come as comma-separated CSV
// with LF line endings, which is what QueryJobResults parses.
func (c *Client) CreateQueryJob(ctx context.Context, soql string, all bool) (*QueryJob, error) {
	if strings.TrimSpace(soql) == "" {
		return nil, errors.New("salesforce: create query job: empty SOQL")
	}
	op := BulkQueryOp
	if all {
		op = BulkQueryAllOp
	}
	body := map[string]string{"operation": op, "query": soql, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
	req, err := c.NewRequest(ctx, http.MethodPost, "jobs/query", body)
	if err != nil {
		return nil, err
	}
	job := new(QueryJob)
	if _, err := c.Do(req, job); err != nil {
		return nil, fmt.Errorf("salesforce: create query job: %w", err)
	}
	return job, nil
}

// GetQueryJob reads a query job's state.
func (c *Client) GetQueryJob(ctx context.Context, jobID string) (*QueryJob, error) {
	if !ValidID(jobID) {
		return nil, fmt.Errorf("salesforce: get query job: %q is not a job id", jobID)
	}
	job := new(QueryJob)
	if err := c.get(ctx, "get query job "+jobID, "jobs/query/"+jobID, job); err != nil {
		return nil, err
	}
	return job, nil
}

// AbortQueryJob aborts a job that has not finished.
func (c *Client) AbortQueryJob(ctx context.Context, jobID string) (*QueryJob, error) {
	if !ValidID(jobID) {
		return nil, fmt.Errorf("salesforce: abort query job: %q is not a job id", jobID)
	}
	req, err := c.NewRequest(ctx, http.MethodPatch, "jobs/query/"+jobID, map[string]string{"state": JobAborted})
	if err != nil {
		return nil, err
	}
	job := new(QueryJob)
	if _, err := c.Do(req, job); err != nil {
		return nil, fmt.Errorf("salesforce: abort query job %s: %w", jobID, err)
	}
	return job, nil
}

// DeleteQueryJob deletes a finished (JobComplete, Failed or Aborted) job
// and the results Salesforce keeps for it.
func (c *Client) DeleteQueryJob(ctx context.Context, jobID string) error {
	if !ValidID(jobID) {
		return fmt.Errorf("salesforce: delete query job: %q is not a job id", jobID)
	}
	req, err := c.NewRequest(ctx, http.MethodDelete, "jobs/query/"+jobID, nil)
	if err != nil {
		return err
	}
	if _, err := c.Do(req, nil); err != nil {
		return fmt.Errorf("salesforce: delete query job %s: %w", jobID, err)
	}
	return nil
}

// WaitQueryJob polls until the job is JobComplete, Failed or Aborted, as
// WaitIngestJob does for ingest jobs.
func (c *Client) WaitQueryJob(ctx context.Context, jobID string, opts *PollOptions) (*QueryJob, error) {
	var job *QueryJob
	err := poll(ctx, opts, func() (bool, error) {
		var err error
		job, err = c.GetQueryJob(ctx, jobID)
		return err == nil && job.Terminal(), err
	})
	if err != nil && job != nil && !job.Terminal() {
		err = fmt.Errorf("salesforce: wait for query job %s: %w", jobID, err)
	}
	return job, err
}

// QueryResultPage is one page of a query job's results.
type QueryResultPage struct {
	// Columns are the CSV header: the selected fields in SELECT order,
	// parent fields dotted (Account.Name).
	Columns []string
	// Records map each column to its value. CSV has no null: a null field
	// and an empty one both read "".
	Records []map[string]string
	// Locator asks for the next page; empty on the last one.
	Locator string
}

// QueryJobResults reads one page of a finished job's results: the first
// page for an empty locator, then the page each Locator names. maxRecords
// caps the page (0 leaves it to Salesforce).
func (c *Client) QueryJobResults(ctx context.Context, jobID, locator string, maxRecords int) (*QueryResultPage, error) {
	if !ValidID(jobID) {
		return nil, fmt.Errorf("salesforce: query job results: %q is not a job id", jobID)
	}
	q := url.Values{}
	if locator != "" {
		q.Set("locator", locator)
	}
	if maxRecords > 0 {
		q.Set("maxRecords", strconv.Itoa(maxRecords))
	}
	path := "jobs/query/" + jobID + "/results"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	req, err := c.NewRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/csv")
	var body []byte
	resp, err := c.Do(req, &body)
	if err != nil {
		return nil, fmt.Errorf("salesforce: query job %s results: %w", jobID, err)
	}
	page := &QueryResultPage{}
	if page.Columns, page.Records, err = parseCSVTable(body); err != nil {
		return nil, fmt.Errorf("salesforce: query job %s results: %w", jobID, err)
	}
	// The last page says "null"; a missing header is read the same way
	// rather than asking for the first page again forever.
	if next := resp.Header.Get("Sforce-Locator"); next != "null" {
		page.Locator = next
	}
	if n := resp.Header.Get("Sforce-NumberOfRecords"); n != "" && n != strconv.Itoa(len(page.Records)) {
		return nil, fmt.Errorf("salesforce: query job %s results: Sforce-NumberOfRecords says %s records, the page has %d", jobID, n, len(page.Records))
	}
	return page, nil
}

// BulkQueryOptions tune BulkQuery.
type BulkQueryOptions struct {
	// All includes deleted and archived records (queryAll): merged-away
	// records, with their MasterRecordId, among them.
	All bool
	// MaxRecords is the page size (default DefaultBulkQueryPage).
	MaxRecords int
	// Poll bounds the wait for the job (see PollOptions).
	Poll *PollOptions
}

// BulkQuery is Ingest's counterpart for reading: it runs soql as a Bulk
// API 2.0 query job, waits for it, and yields the results page by page, so
// a large org's contacts take a few calls rather than one REST call per
// 2,000 records. Iteration stops at the first error, yielded with a nil
// page; a job that ends Failed or Aborted is such an error. The job is
// deleted once the pages are read or iteration stops, and aborted if the
// wait is cut short.
//
// Bulk queries take the SOQL of REST queries minus COUNT(), OFFSET,
// GROUP BY, TYPEOF and parent-to-child subqueries.
func (c *Client) BulkQuery(ctx context.Context, soql string, opts *BulkQueryOptions) iter.Seq2[*QueryResultPage, error] {
	return func(yield func(*QueryResultPage, error) bool) {
		var o BulkQueryOptions
		if opts != nil {
			o = *opts
		}
		if o.MaxRecords <= 0 {
			o.MaxRecords = DefaultBulkQueryPage
		}
		job, err := c.CreateQueryJob(ctx, soql, o.All)
		if err != nil {
			yield(nil, err)
			return
		}
		// Cleanup outlives a cancelled ctx: a finished job is deleted, an
		// unfinished one aborted (and kept: it cannot be deleted until it
		// stops).
		cleanup := context.WithoutCancel(ctx)
		done, err := c.WaitQueryJob(ctx, job.ID, o.Poll)
		if err != nil {
			if done == nil || !done.Terminal() {
				c.AbortQueryJob(cleanup, job.ID)
			}
			yield(nil, err)
			return
		}
		defer c.DeleteQueryJob(cleanup, job.ID)
		if done.State != JobComplete {
			yield(nil, fmt.Errorf("salesforce: bulk query job %s ended %s", job.ID, done.State))
			return
		}
		locator := ""
		for {
			page, err := c.QueryJobResults(ctx, job.ID, locator, o.MaxRecords)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || page.Locator == "" {
				return
			}
			locator = page.Locator
		}
	}
}
