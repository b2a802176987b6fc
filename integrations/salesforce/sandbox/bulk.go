package sandbox

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ingestJob is one Bulk API 2.0 ingest job.
type ingestJob struct {
	info      jobInfo
	data      []byte
	started   time.Time
	header    []string
	success   [][]string
	failed    [][]string
	pending   [][]string // rows not processed (job aborted or failed)
	processed int
	nfailed   int
}

// jobInfo is the JSON shape of a job.
type jobInfo struct {
	ID                      string  `json:"id"`
	Operation               string  `json:"operation"`
	Object                  string  `json:"object"`
	CreatedByID             string  `json:"createdById"`
	CreatedDate             string  `json:"createdDate"`
	SystemModstamp          string  `json:"systemModstamp"`
	State                   string  `json:"state"`
	ExternalIDFieldName     string  `json:"externalIdFieldName,omitempty"`
	ConcurrencyMode         string  `json:"concurrencyMode"`
	ContentType             string  `json:"contentType"`
	APIVersion              float64 `json:"apiVersion"`
	JobType                 string  `json:"jobType"`
	ContentURL              string  `json:"contentUrl,omitempty"`
	LineEnding              string  `json:"lineEnding"`
	ColumnDelimiter         string  `json:"columnDelimiter"`
	NumberRecordsProcessed  int     `json:"numberRecordsProcessed"`
	NumberRecordsFailed     int     `json:"numberRecordsFailed"`
	Retries                 int     `json:"retries"`
	TotalProcessingTime     int     `json:"totalProcessingTime"`
	APIActiveProcessingTime int     `json:"apiActiveProcessingTime"`
	ApexProcessingTime      int     `json:"apexProcessingTime"`
	ErrorMessage            string  `json:"errorMessage,omitempty"`
}

type jobStore struct {
	mu         sync.Mutex
	seq        uint64
	jobs       map[string]*ingestJob
	order      []string
	batches    int
	queries    map[string]*queryJob
	queryOrder []string
	queryJobs  int // query jobs created, for DailyBulkV2QueryJobs
}

func newJobStore() *jobStore {
	return &jobStore{jobs: map[string]*ingestJob{}, queries: map[string]*queryJob{}}
}

func (js *jobStore) reset() {
	js.mu.Lock()
	js.jobs, js.order, js.batches = map[string]*ingestJob{}, nil, 0
	js.queries, js.queryOrder, js.queryJobs = map[string]*queryJob{}, nil, 0
	js.mu.Unlock()
}

var delimiters = map[string]rune{"COMMA": ',', "TAB": '\t', "PIPE": '|', "SEMICOLON": ';', "CARET": '^', "BACKQUOTE": '`'}

func (s *Server) routeJobs(c *call) result {
	segs := c.segs
	if len(segs) >= 2 && segs[1] == "query" {
		return s.routeQueryJobs(c)
	}
	if len(segs) < 2 || segs[1] != "ingest" {
		return notFound()
	}
	if c.verNum < 41 {
		return notFound()
	}
	switch len(segs) {
	case 2:
		switch c.method {
		case http.MethodPost:
			return s.createJob(c)
		case http.MethodGet:
			s.jobs.mu.Lock()
			recs := make([]jobInfo, 0, len(s.jobs.order))
			for _, id := range s.jobs.order {
				recs = append(recs, s.jobs.jobs[id].snapshot())
			}
			s.jobs.mu.Unlock()
			return jsonResult(http.StatusOK, map[string]any{"done": true, "records": recs, "nextRecordsUrl": nil})
		}
		return methodNotAllowed(c.method, "GET", "POST")
	}
	s.jobs.mu.Lock()
	j := s.jobs.jobs[segs[2]]
	s.jobs.mu.Unlock()
	if j == nil {
		return errResult(http.StatusNotFound, errf("NOT_FOUND", nil, "The requested resource does not exist"))
	}
	if len(segs) == 3 {
		switch c.method {
		case http.MethodGet:
			s.jobs.mu.Lock()
			defer s.jobs.mu.Unlock()
			return jsonResult(http.StatusOK, j.snapshot())
		case http.MethodPatch:
			return s.patchJob(c, j)
		case http.MethodDelete:
			s.jobs.mu.Lock()
			defer s.jobs.mu.Unlock()
			if st := j.info.State; st == "InProgress" {
				return errResult(http.StatusBadRequest, errf("INVALIDJOBSTATE", nil, "Job is in progress and cannot be deleted"))
			}
			delete(s.jobs.jobs, j.info.ID)
			for i, id := range s.jobs.order {
				if id == j.info.ID {
					s.jobs.order = append(s.jobs.order[:i:i], s.jobs.order[i+1:]...)
					break
				}
			}
			return result{status: http.StatusNoContent}
		}
		return methodNotAllowed(c.method, "GET", "PATCH", "DELETE")
	}
	if len(segs) != 4 {
		return notFound()
	}
	switch segs[3] {
	case "batches":
		if c.method != http.MethodPut {
			return methodNotAllowed(c.method, "PUT")
		}
		return s.uploadJob(c, j)
	case "successfulResults", "failedResults", "unprocessedrecords":
		if c.method != http.MethodGet {
			return methodNotAllowed(c.method, "GET")
		}
		return s.jobResults(j, segs[3])
	}
	return notFound()
}

func (j *ingestJob) snapshot() jobInfo {
	info := j.info
	info.NumberRecordsProcessed, info.NumberRecordsFailed = j.processed, j.nfailed
	return info
}

func (s *Server) createJob(c *call) result {
	var body struct {
		Object              string `json:"object"`
		Operation           string `json:"operation"`
		ExternalIDFieldName string `json:"externalIdFieldName"`
		ContentType         string `json:"contentType"`
		LineEnding          string `json:"lineEnding"`
		ColumnDelimiter     string `json:"columnDelimiter"`
		AssignmentRuleID    string `json:"assignmentRuleId"`
	}
	if e := decodeBody(c.body, &body); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	bad := func(format string, args ...any) result {
		return errResult(http.StatusBadRequest, errf("INVALIDJOB", nil, format, args...))
	}
	switch body.Operation {
	case "insert", "update", "upsert", "delete", "hardDelete":
	case "":
		return bad("InvalidJob : Operation is required")
	default:
		return bad("InvalidJob : Invalid operation: %s", body.Operation)
	}
	var o *objectDef
	c.read(s.data, func() result { o = s.data.sch.object(body.Object); return result{} })
	if o == nil {
		return errResult(http.StatusBadRequest, errf("INVALIDENTITY", nil, "InvalidEntity : Entity '%s' is not supported by the Bulk API.", body.Object))
	}
	ext := ""
	if body.Operation == "upsert" {
		if body.ExternalIDFieldName == "" {
			return bad("InvalidJob : External ID was blank for %s. An External ID must be specified for upsert.", o.Name)
		}
		var f *fieldDef
		c.read(s.data, func() result { f = o.field(body.ExternalIDFieldName); return result{} })
		if f == nil || !(f.ExternalID || f.Name == "Id") {
			return bad("InvalidJob : Field name provided, %s is not an External ID or indexed field for %s", body.ExternalIDFieldName, o.Name)
		}
		ext = f.Name
	}
	if msg := csvFormat(&body.ContentType, &body.LineEnding, &body.ColumnDelimiter); msg != "" {
		return bad("%s", msg)
	}
	now := s.clk.Now()
	ver, _ := strconv.ParseFloat(c.version, 64)
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	s.jobs.seq++
	id := makeID("750", s.jobs.seq)
	j := &ingestJob{info: jobInfo{ID: id, Operation: body.Operation, Object: o.Name, CreatedByID: s.userID(), CreatedDate: sfDateTime(now),
		SystemModstamp: sfDateTime(now), State: "Open", ExternalIDFieldName: ext, ConcurrencyMode: "Parallel", ContentType: "CSV",
		APIVersion: ver, JobType: "V2Ingest", ContentURL: "services/data/v" + c.version + "/jobs/ingest/" + id + "/batches",
		LineEnding: body.LineEnding, ColumnDelimiter: body.ColumnDelimiter}}
	s.jobs.jobs[id] = j
	s.jobs.order = append(s.jobs.order, id)
	info := j.snapshot()
	return jsonResult(http.StatusOK, info)
}

// csvFormat fills in the defaults of a job's CSV format (CSV, LF, COMMA)
// and returns the error message for a value the API does not take.
func csvFormat(contentType, lineEnding, delimiter *string) string {
	if *contentType == "" {
		*contentType = "CSV"
	}
	if *lineEnding == "" {
		*lineEnding = "LF"
	}
	if *delimiter == "" {
		*delimiter = "COMMA"
	}
	switch _, ok := delimiters[*delimiter]; {
	case *contentType != "CSV":
		return fmt.Sprintf("InvalidJob : Content type %s is not supported; use CSV", *contentType)
	case *lineEnding != "LF" && *lineEnding != "CRLF":
		return "InvalidJob : Invalid lineEnding: " + *lineEnding
	case !ok:
		return "InvalidJob : Invalid columnDelimiter: " + *delimiter
	}
	return ""
}

func (s *Server) uploadJob(c *call, j *ingestJob) result {
	ct := strings.ToLower(c.header.Get("Content-Type"))
	if !strings.HasPrefix(ct, "text/csv") {
		return errResult(http.StatusBadRequest, errf("INVALIDJOB", nil, "InvalidJob : Content-Type must be text/csv"))
	}
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if j.info.State != "Open" {
		return errResult(http.StatusConflict, errf("INVALIDJOBSTATE", nil, "InvalidJobState : Job with id %s is not in Open state", j.info.ID))
	}
	if j.data != nil {
		return errResult(http.StatusBadRequest, errf("INVALIDJOB", nil, "InvalidJob : Found multiple contents for job: <%s>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.", j.info.ID))
	}
	j.data = c.body
	rows := bytes.Count(c.body, []byte{'\n'})
	s.jobs.batches += max(1, (rows+9999)/10000)
	return result{status: http.StatusCreated, raw: []byte{}, ctype: "text/plain;charset=UTF-8"}
}

func (s *Server) patchJob(c *call, j *ingestJob) result {
	var body struct {
		State string `json:"state"`
	}
	if e := decodeBody(c.body, &body); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	now := s.clk.Now()
	switch body.State {
	case "UploadComplete":
		if j.info.State != "Open" {
			return errResult(http.StatusConflict, errf("INVALIDJOBSTATE", nil, "InvalidJobState : Job with id %s is not in Open state", j.info.ID))
		}
		j.info.State, j.info.SystemModstamp = "UploadComplete", sfDateTime(now)
		s.wg.Add(1)
		go s.processJob(j)
	case "Aborted":
		switch j.info.State {
		case "JobComplete", "Failed", "Aborted":
			return errResult(http.StatusConflict, errf("INVALIDJOBSTATE", nil, "InvalidJobState : Job with id %s is already complete", j.info.ID))
		}
		j.info.State, j.info.SystemModstamp = "Aborted", sfDateTime(now)
	default:
		return errResult(http.StatusBadRequest, errf("INVALIDJOBSTATE", nil, "InvalidJobState : Invalid state: %s", body.State))
	}
	return jsonResult(http.StatusOK, j.snapshot())
}

// bulkChunk is how many rows are written per data-lock acquisition, so a
// large job never starves interactive calls.
const bulkChunk = 200

// processJob runs an uploaded job in the background.
func (s *Server) processJob(j *ingestJob) {
	defer s.wg.Done()
	start := time.Now()
	s.jobs.mu.Lock()
	if j.info.State != "UploadComplete" {
		s.jobs.mu.Unlock()
		return
	}
	j.info.State = "InProgress"
	data, info := j.data, j.info
	s.jobs.mu.Unlock()

	fail := func(msg string) {
		s.jobs.mu.Lock()
		j.info.State, j.info.ErrorMessage = "Failed", msg
		j.info.SystemModstamp = sfDateTime(s.clk.Now())
		j.info.TotalProcessingTime = int(time.Since(start).Milliseconds())
		s.jobs.mu.Unlock()
	}
	if len(bytes.TrimSpace(data)) == 0 {
		fail("InvalidBatch : No data was uploaded for this job")
		return
	}
	if info.LineEnding == "LF" && bytes.Contains(data, []byte("\r\n")) {
		fail("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF")
		return
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delimiters[info.ColumnDelimiter]
	header, err := r.Read()
	if err != nil {
		fail("InvalidBatch : Failed to parse CSV header: " + err.Error())
		return
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail("InvalidBatch : Failed to parse CSV: " + err.Error())
			return
		}
		rows = append(rows, rec)
	}
	s.data.mu.RLock()
	o := s.data.sch.object(info.Object)
	msg := checkHeader(o, header, info)
	s.data.mu.RUnlock()
	s.jobs.mu.Lock()
	j.header = header
	s.jobs.mu.Unlock()
	if msg != "" {
		s.jobs.mu.Lock()
		j.pending = rows
		s.jobs.mu.Unlock()
		fail(msg)
		return
	}
	opts := writeOpts{csv: true, version: strconv.FormatFloat(info.APIVersion, 'f', 1, 64)}
	for from := 0; from < len(rows); from += bulkChunk {
		s.jobs.mu.Lock()
		aborted := j.info.State == "Aborted"
		if aborted {
			j.pending = append(j.pending, rows[from:]...)
		}
		s.jobs.mu.Unlock()
		if aborted {
			return
		}
		chunk := rows[from:min(from+bulkChunk, len(rows))]
		var ok, bad [][]string
		s.data.mu.Lock()
		t := s.data.begin(s.clk.Now())
		for _, row := range chunk {
			sp := t.savepoint()
			id, created, errs := s.bulkRow(t, o, header, row, info, opts)
			if errs != nil {
				t.rollbackTo(sp)
				bad = append(bad, append([]string{id, bulkError(errs)}, row...))
				continue
			}
			ok = append(ok, append([]string{id, strconv.FormatBool(created)}, row...))
		}
		s.data.mu.Unlock()
		s.jobs.mu.Lock()
		j.success = append(j.success, ok...)
		j.failed = append(j.failed, bad...)
		j.processed += len(chunk)
		j.nfailed += len(bad)
		s.jobs.mu.Unlock()
	}
	s.jobs.mu.Lock()
	if j.info.State == "InProgress" {
		j.info.State = "JobComplete"
	}
	ms := int(time.Since(start).Milliseconds())
	j.info.TotalProcessingTime, j.info.APIActiveProcessingTime = ms, ms
	j.info.SystemModstamp = sfDateTime(s.clk.Now())
	s.jobs.mu.Unlock()
}

// checkHeader validates the CSV columns against the object.
func checkHeader(o *objectDef, header []string, info jobInfo) string {
	has := map[string]bool{}
	for _, h := range header {
		name := strings.TrimSpace(h)
		if rel, field, ok := strings.Cut(name, "."); ok {
			rf := o.relationship(rel)
			if rf == nil || len(rf.ReferenceTo) == 0 {
				return "InvalidBatch : Field name not found : " + name
			}
			_ = field
			continue
		}
		f := o.field(name)
		if f == nil {
			return "InvalidBatch : Field name not found : " + name
		}
		has[f.Name] = true
	}
	switch info.Operation {
	case "update", "delete", "hardDelete":
		if !has["Id"] {
			return "InvalidBatch : Field name not found : Id"
		}
	case "upsert":
		if !has[info.ExternalIDFieldName] {
			return "InvalidBatch : Field name not found : " + info.ExternalIDFieldName
		}
	}
	return ""
}

// bulkRow applies one CSV row.
func (s *Server) bulkRow(t *txn, o *objectDef, header, row []string, info jobInfo, opts writeOpts) (string, bool, []apiError) {
	if len(row) != len(header) {
		return "", false, []apiError{errf("INVALID_FIELD", nil, "Row has %d columns; the header has %d", len(row), len(header))}
	}
	raw := make(map[string]any, len(header))
	idVal := ""
	for i, h := range header {
		h = strings.TrimSpace(h)
		v := row[i]
		if rel, field, ok := strings.Cut(h, "."); ok {
			if v != "" {
				raw[rel] = map[string]any{field: v}
			}
			continue
		}
		if strings.EqualFold(h, "Id") {
			idVal = v
		}
		raw[h] = v
	}
	switch info.Operation {
	case "insert":
		id, errs := t.create(o, raw, opts)
		return id, errs == nil, errs
	case "update", "delete", "hardDelete":
		id, ok := normalizeID(idVal)
		if !ok || id[:3] != o.KeyPrefix {
			return "", false, []apiError{errf("MALFORMED_ID", []string{"Id"}, "%s ID: id value of incorrect type: %s", o.Label, idVal)}
		}
		if info.Operation == "update" {
			delete(raw, "Id")
			delete(raw, "id")
			return id, false, t.update(o, id, raw, opts)
		}
		return id, false, t.remove(o, id)
	}
	ef := o.field(info.ExternalIDFieldName)
	value, _ := raw[ef.Name].(string)
	if ef.Name == "Id" {
		delete(raw, "Id")
	}
	if ef.Name != "Id" && value == "" {
		return "", false, []apiError{errf("MISSING_ARGUMENT", []string{ef.Name}, "%s not specified", ef.Name)}
	}
	u := t.upsert(o, ef, value, raw, opts)
	if u.matches != nil {
		return "", false, []apiError{errf("DUPLICATE_EXTERNAL_ID", []string{ef.Name}, "%s: more than one record found for external id field: %v", ef.Name, u.matches)}
	}
	return u.id, u.created, u.errs
}

// bulkError renders errors as sf__Error does: CODE:message:fields --.
func bulkError(errs []apiError) string {
	e := errs[0]
	return fmt.Sprintf("%s:%s:%s --", e.Code, e.Message, strings.Join(e.Fields, ","))
}

func csvQuoted(b *bytes.Buffer, rec []string) {
	for i, v := range rec {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(v, `"`, `""`))
		b.WriteByte('"')
	}
	b.WriteByte('\n')
}

func (s *Server) jobResults(j *ingestJob, kind string) result {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	switch j.info.State {
	case "JobComplete", "Failed", "Aborted":
	default:
		return errResult(http.StatusBadRequest, errf("INVALIDJOBSTATE", nil, "InvalidJobState : Results are not available until the job is complete (state %s)", j.info.State))
	}
	var b bytes.Buffer
	switch kind {
	case "successfulResults":
		csvQuoted(&b, append([]string{"sf__Id", "sf__Created"}, j.header...))
		for _, r := range j.success {
			csvQuoted(&b, r)
		}
	case "failedResults":
		csvQuoted(&b, append([]string{"sf__Id", "sf__Error"}, j.header...))
		for _, r := range j.failed {
			csvQuoted(&b, r)
		}
	default:
		if j.header != nil {
			csvQuoted(&b, j.header)
		}
		for _, r := range j.pending {
			csvQuoted(&b, r)
		}
	}
	return result{status: http.StatusOK, raw: b.Bytes(), ctype: "text/csv"}
}
