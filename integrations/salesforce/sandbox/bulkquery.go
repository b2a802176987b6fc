package sandbox

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// Bulk API 2.0 query jobs: POST jobs/query runs a SOQL query in the
// background and the results come back as CSV pages. Shapes and rules are
// from "Bulk API 2.0 Query" in the Bulk API 2.0 Developer Guide
// (developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/
// query_create_job.htm, query_get_one_job.htm, query_get_job_results.htm,
// query_abort_job.htm, query_delete_job.htm).

// defaultMaxRecords is the page size of query results when the client sets
// no maxRecords. The guide leaves the default to the service; a real page
// is bounded by size (about 1 GB) rather than a count.
const defaultMaxRecords = 50000

// queryJob is one Bulk API 2.0 query job.
type queryJob struct {
	info    queryJobInfo
	soql    *soql.Query
	all     bool
	verNum  int
	started time.Time
	header  []byte   // the CSV header line
	lines   [][]byte // one CSV line per record
}

// queryJobInfo is the JSON shape of a query job. Creating and aborting
// answer the first block only; getting one job or the list adds the rest
// (query_get_one_job.htm).
type queryJobInfo struct {
	ID              string  `json:"id"`
	Operation       string  `json:"operation"`
	Object          string  `json:"object"`
	CreatedByID     string  `json:"createdById"`
	CreatedDate     string  `json:"createdDate"`
	SystemModstamp  string  `json:"systemModstamp"`
	State           string  `json:"state"`
	ConcurrencyMode string  `json:"concurrencyMode"`
	ContentType     string  `json:"contentType"`
	APIVersion      float64 `json:"apiVersion"`
	LineEnding      string  `json:"lineEnding"`
	ColumnDelimiter string  `json:"columnDelimiter"`
	*queryJobDetail
}

type queryJobDetail struct {
	JobType                string `json:"jobType"`
	NumberRecordsProcessed int    `json:"numberRecordsProcessed"`
	Retries                int    `json:"retries"`
	TotalProcessingTime    int    `json:"totalProcessingTime"`
	IsPkChunkingSupported  bool   `json:"isPkChunkingSupported"`
}

func (j *queryJob) brief() queryJobInfo {
	info := j.info
	info.queryJobDetail = nil
	return info
}

func (j *queryJob) detail() queryJobInfo {
	info := j.info
	d := *j.info.queryJobDetail
	info.queryJobDetail = &d
	return info
}

func (s *Server) routeQueryJobs(c *call) result {
	segs := c.segs
	if c.verNum < 47 {
		return notFound()
	}
	if len(segs) == 2 {
		switch c.method {
		case http.MethodPost:
			return s.createQueryJob(c)
		case http.MethodGet:
			s.jobs.mu.Lock()
			defer s.jobs.mu.Unlock()
			recs := make([]queryJobInfo, 0, len(s.jobs.queryOrder))
			for _, id := range s.jobs.queryOrder {
				recs = append(recs, s.jobs.queries[id].detail())
			}
			return jsonResult(http.StatusOK, map[string]any{"done": true, "records": recs, "nextRecordsUrl": nil})
		}
		return methodNotAllowed(c.method, "GET", "POST")
	}
	s.jobs.mu.Lock()
	j := s.jobs.queries[segs[2]]
	s.jobs.mu.Unlock()
	if j == nil {
		return notFound()
	}
	switch {
	case len(segs) == 3:
		switch c.method {
		case http.MethodGet:
			s.jobs.mu.Lock()
			defer s.jobs.mu.Unlock()
			return jsonResult(http.StatusOK, j.detail())
		case http.MethodPatch:
			return s.abortQueryJob(c, j)
		case http.MethodDelete:
			return s.deleteQueryJob(j)
		}
		return methodNotAllowed(c.method, "GET", "PATCH", "DELETE")
	case len(segs) == 4 && segs[3] == "results":
		if c.method != http.MethodGet {
			return methodNotAllowed(c.method, "GET")
		}
		return s.queryJobResults(c, j)
	}
	return notFound()
}

func (s *Server) createQueryJob(c *call) result {
	var body struct {
		Operation       string `json:"operation"`
		Query           string `json:"query"`
		Object          string `json:"object"`
		ContentType     string `json:"contentType"`
		ColumnDelimiter string `json:"columnDelimiter"`
		LineEnding      string `json:"lineEnding"`
	}
	if e := decodeBody(c.body, &body); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	bad := func(code, format string, args ...any) result {
		return errResult(http.StatusBadRequest, errf(code, nil, format, args...))
	}
	switch body.Operation {
	case "query", "queryAll":
	case "":
		return bad("INVALIDJOB", "InvalidJob : Operation is required")
	default:
		return bad("INVALIDJOB", "InvalidJob : Invalid operation: %s; use query or queryAll", body.Operation)
	}
	if strings.TrimSpace(body.Query) == "" {
		return bad("INVALIDJOB", "InvalidJob : A query is required")
	}
	if msg := csvFormat(&body.ContentType, &body.LineEnding, &body.ColumnDelimiter); msg != "" {
		return bad("INVALIDJOB", "%s", msg)
	}
	// The query is checked when the job is created, as the real service
	// does: a bad one answers 400 at once rather than a Failed job (Airbyte's
	// Salesforce source, streams.py, handles exactly these 400s). The SOQL
	// errors are the REST query's; what Bulk API 2.0 refuses outright is
	// listed in query_create_job.htm.
	q, err := soql.Parse(body.Query)
	if err != nil {
		return queryError(err)
	}
	if q.IsCount() {
		return bad("API_ERROR", "Aggregate functions such as COUNT() are not supported by Bulk API 2.0 query")
	}
	if q.Offset() > 0 {
		return bad("API_ERROR", "OFFSET is not supported by Bulk API 2.0 query")
	}
	var obj string
	res := c.read(s.data, func() result {
		if _, err := soql.SelectedFields(q, soqlSchema{s.data.sch}); err != nil {
			return queryError(err)
		}
		obj = s.data.sch.object(q.Object()).Name
		return result{}
	})
	if res.status != 0 {
		return res
	}
	if body.Object != "" && !strings.EqualFold(body.Object, obj) {
		return bad("INVALIDJOB", "InvalidJob : The root entity of the requested query (%s) does not match the entity of the requested Bulk API Job (%s).", obj, body.Object)
	}
	now := s.clk.Now()
	ver, _ := strconv.ParseFloat(c.version, 64)
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	s.jobs.seq++
	id := makeID("750", s.jobs.seq)
	j := &queryJob{soql: q, all: body.Operation == "queryAll", verNum: c.verNum, info: queryJobInfo{
		ID: id, Operation: body.Operation, Object: obj, CreatedByID: s.userID(),
		CreatedDate: sfDateTime(now), SystemModstamp: sfDateTime(now), State: "UploadComplete",
		ConcurrencyMode: "Parallel", ContentType: "CSV", APIVersion: ver,
		LineEnding: body.LineEnding, ColumnDelimiter: body.ColumnDelimiter,
		queryJobDetail: &queryJobDetail{JobType: "V2Query", IsPkChunkingSupported: true},
	}}
	s.jobs.queries[id] = j
	s.jobs.queryOrder = append(s.jobs.queryOrder, id)
	s.jobs.queryJobs++
	s.wg.Add(1)
	go s.runQueryJob(j)
	return jsonResult(http.StatusOK, j.brief())
}

// runQueryJob runs the job's query in the background and renders the CSV.
func (s *Server) runQueryJob(j *queryJob) {
	defer s.wg.Done()
	if s.queryJobHook != nil {
		s.queryJobHook(j.info.ID)
	}
	start := time.Now()
	s.jobs.mu.Lock()
	if j.info.State != "UploadComplete" {
		s.jobs.mu.Unlock()
		return // aborted before it started
	}
	j.info.State = "InProgress"
	info := j.info
	s.jobs.mu.Unlock()

	now := s.clk.Now()
	var (
		fields []soql.Selected
		res    *soql.Result
		err    error
	)
	s.data.mu.RLock()
	sch := soqlSchema{s.data.sch}
	if fields, err = soql.SelectedFields(j.soql, sch); err == nil {
		res, err = soql.Execute(j.soql, sch, soqlStore{s.data}, soql.ExecOptions{Now: now, IncludeDeleted: j.all, APIVersion: strconv.FormatFloat(info.APIVersion, 'f', 1, 64)})
	}
	s.data.mu.RUnlock()

	w := csvLineWriter{comma: byte(delimiters[info.ColumnDelimiter]), eol: "\n"}
	if info.LineEnding == "CRLF" {
		w.eol = "\r\n"
	}
	var header []byte
	var lines [][]byte
	if err == nil {
		cells := make([]string, len(fields))
		for i, f := range fields {
			cells[i] = f.Path
		}
		header = w.line(cells)
		lines = make([][]byte, len(res.Rows))
		for r, row := range res.Rows {
			for i, f := range fields {
				cells[i] = csvCell(row.Get(f.Path), f.Type)
			}
			lines[r] = w.line(cells)
		}
	}

	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	j.info.SystemModstamp = sfDateTime(s.clk.Now())
	j.info.TotalProcessingTime = int(time.Since(start).Milliseconds())
	switch {
	case j.info.State != "InProgress":
		// Aborted while running: keep Aborted and drop the results.
	case err != nil:
		// The schema changed under the job (a field or object went away);
		// like the real service, the job fails and says nothing more.
		j.info.State = "Failed"
	default:
		j.info.State = "JobComplete"
		j.header, j.lines = header, lines
		j.info.NumberRecordsProcessed = len(lines)
	}
}

func (s *Server) abortQueryJob(c *call, j *queryJob) result {
	var body struct {
		State string `json:"state"`
	}
	if e := decodeBody(c.body, &body); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	if body.State != "Aborted" {
		return errResult(http.StatusBadRequest, errf("INVALIDJOBSTATE", nil, "InvalidJobState : Invalid state: %s; a query job can only be set to Aborted", body.State))
	}
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	switch j.info.State {
	case "UploadComplete", "InProgress":
	default:
		return errResult(http.StatusConflict, errf("INVALIDJOBSTATE", nil, "InvalidJobState : Job with id %s is already %s and cannot be aborted", j.info.ID, j.info.State))
	}
	j.info.State, j.info.SystemModstamp = "Aborted", sfDateTime(s.clk.Now())
	return jsonResult(http.StatusOK, j.brief())
}

func (s *Server) deleteQueryJob(j *queryJob) result {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	switch j.info.State {
	case "JobComplete", "Aborted", "Failed":
	default:
		// The error query_delete_job.htm shows.
		return errResult(http.StatusBadRequest, errf("API_ERROR", nil, "Error encountered when deleting the job because the job is not terminated"))
	}
	delete(s.jobs.queries, j.info.ID)
	s.jobs.queryOrder = slices.DeleteFunc(s.jobs.queryOrder, func(id string) bool { return id == j.info.ID })
	return result{status: http.StatusNoContent}
}

// queryJobResults answers one page of a finished job's CSV. The locator is
// opaque to clients; like the real service's (which look like "MTAwMDA")
// it is the base64 of the offset, and "null" marks the last page.
func (s *Server) queryJobResults(c *call, j *queryJob) result {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if j.info.State != "JobComplete" {
		// The status and code the guide shows for this case
		// (atlas.en-us.222.0.api_bulk_v2.meta query_get_job_results.htm).
		return errResult(http.StatusPreconditionFailed, errf("JOB_NOT_COMPLETE", nil,
			"can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: %s", strings.ToUpper(camelToSnake(j.info.State))))
	}
	if c.verNum != j.verNum {
		return errResult(http.StatusConflict, errf("API_ERROR", nil, "Use the API version that created the job (%.1f) to get its results", j.info.APIVersion))
	}
	from := 0
	if loc := c.query.Get("locator"); loc != "" {
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(loc, "="))
		n, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || n < 0 || n > len(j.lines) {
			return errResult(http.StatusBadRequest, errf("INVALIDLOCATOR", nil, "Invalid locator: %s", loc))
		}
		from = n
	}
	size := defaultMaxRecords
	if v := c.query.Get("maxRecords"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errResult(http.StatusBadRequest, errf("INVALIDMAXRECORDS", nil, "maxRecords must be a positive integer, got %q", v))
		}
		size = n
	}
	to := min(from+size, len(j.lines))
	next := "null"
	if to < len(j.lines) {
		next = base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(to)))
	}
	var b bytes.Buffer
	b.Write(j.header)
	for _, l := range j.lines[from:to] {
		b.Write(l)
	}
	return result{status: http.StatusOK, raw: b.Bytes(), ctype: "text/csv", headers: map[string]string{
		"Sforce-Locator":         next,
		"Sforce-NumberOfRecords": strconv.Itoa(to - from),
	}}
}

// camelToSnake turns a job state into the upper-case form the results
// error names it by: InProgress -> IN_PROGRESS.
func camelToSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// csvLineWriter renders CSV lines the way query results come: every cell
// quoted (the guide's examples), the job's delimiter and line ending.
type csvLineWriter struct {
	comma byte
	eol   string
}

func (w csvLineWriter) line(cells []string) []byte {
	var b []byte
	for i, c := range cells {
		if i > 0 {
			b = append(b, w.comma)
		}
		b = append(b, '"')
		b = append(b, strings.ReplaceAll(c, `"`, `""`)...)
		b = append(b, '"')
	}
	return append(b, w.eol...)
}

// csvCell formats a stored value for a query result CSV: null is an empty
// cell, datetimes are UTC with milliseconds and a Z, dates are plain.
func csvCell(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		if typ == "date" {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return ""
}
