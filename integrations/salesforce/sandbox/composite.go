package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// maxCollection is the sObject Collections record limit.
const maxCollection = 200

func (s *Server) routeComposite(c *call) result {
	segs := c.segs
	if len(segs) == 1 {
		if c.sub {
			return notFound()
		}
		if c.method != http.MethodPost {
			return methodNotAllowed(c.method, "POST")
		}
		return s.composite(c)
	}
	switch segs[1] {
	case "graph":
		if c.sub || len(segs) != 2 {
			return notFound()
		}
		if c.method != http.MethodPost {
			return methodNotAllowed(c.method, "POST")
		}
		return s.graph(c)
	case "sobjects":
	default:
		return notFound()
	}
	switch len(segs) {
	case 2:
		switch c.method {
		case http.MethodPost:
			return s.collectionSave(c, nil, nil)
		case http.MethodPatch:
			return s.collectionSave(c, nil, nil)
		case http.MethodDelete:
			return s.collectionDelete(c)
		}
		return methodNotAllowed(c.method, "POST", "PATCH", "DELETE")
	case 3, 4:
		var o *objectDef
		c.read(s.data, func() result { o = s.data.sch.object(segs[2]); return result{} })
		if o == nil {
			return errResult(http.StatusNotFound, invalidType(segs[2]))
		}
		if len(segs) == 3 {
			if c.method != http.MethodGet && c.method != http.MethodPost {
				return methodNotAllowed(c.method, "GET", "POST")
			}
			return s.collectionRetrieve(c, o)
		}
		if c.method != http.MethodPatch {
			return methodNotAllowed(c.method, "PATCH")
		}
		var f *fieldDef
		c.read(s.data, func() result { f = o.field(segs[3]); return result{} })
		if f == nil || !(f.ExternalID || f.Name == "Id") {
			return errResult(http.StatusBadRequest, errf("INVALID_FIELD", nil, "Field name provided, %s is not an External ID or indexed field for %s", segs[3], o.Name))
		}
		return s.collectionSave(c, o, f)
	}
	return notFound()
}

type collectionBody struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// collectionSave serves create (POST), update (PATCH) and upsert (PATCH with
// an external id field) over up to 200 records.
func (s *Server) collectionSave(c *call, upsertObj *objectDef, ext *fieldDef) result {
	var body collectionBody
	if e := decodeBody(c.body, &body); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	if len(body.Records) > maxCollection {
		return errResult(http.StatusBadRequest, errf("EXCEEDED_ID_LIMIT", nil, "record limit reached. cannot submit more than %d records into this call", maxCollection))
	}
	if len(body.Records) == 0 {
		return errResult(http.StatusBadRequest, errf("INVALID_FIELD", nil, "The request must contain at least one record"))
	}
	upsert := ext != nil
	creating := c.method == http.MethodPost
	opts := c.opts()
	return s.write(c, s.data, func(t *txn) result {
		start := t.savepoint()
		out := make([]saveResult, len(body.Records))
		failed := false
		dupExt := map[string]int{}
		if upsert && ext.Name != "Id" {
			for _, r := range body.Records {
				if v, ok := rawString(r[ext.Name]); ok {
					dupExt[strings.ToLower(v)]++
				}
			}
		}
		for i, rec := range body.Records {
			sp := t.savepoint()
			res, errs := s.saveItem(t, rec, upsertObj, ext, creating, dupExt, opts)
			if errs != nil {
				t.rollbackTo(sp)
				failed = true
				res.Success, res.Errors = false, toAny(itemErrors(errs))
				if !upsert {
					res.Created = nil
				}
				if creating {
					res.ID = ""
				}
			}
			out[i] = res
		}
		if failed && body.AllOrNone {
			t.rollbackTo(start)
			for i := range out {
				if out[i].Success {
					out[i].Success = false
					if creating || (upsert && out[i].Created != nil && *out[i].Created) {
						out[i].ID = ""
					}
					out[i].Errors = toAny(itemErrors([]apiError{errf("ALL_OR_NONE_OPERATION_ROLLED_BACK", nil,
						"Record rolled back because not all records were valid and the request was using AllOrNone header")}))
					if upsert {
						f := false
						out[i].Created = &f
					}
				}
			}
		}
		// A collections call answers 200 even when every record failed;
		// the rollback above already undid what allOrNone requires.
		return jsonResult(http.StatusOK, out)
	})
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func (s *Server) saveItem(t *txn, rec map[string]any, upsertObj *objectDef, ext *fieldDef, creating bool, dupExt map[string]int, opts writeOpts) (saveResult, []apiError) {
	f := false
	res := saveResult{Errors: []any{}}
	if ext != nil {
		res.Created = &f
	}
	typ := ""
	if attrs, ok := rec["attributes"].(map[string]any); ok {
		typ, _ = attrs["type"].(string)
	}
	o := upsertObj
	if o == nil {
		if typ == "" {
			return res, []apiError{errf("INVALID_TYPE", nil, "Must specify the sObject type in attributes.type")}
		}
		o = t.db.sch.object(typ)
		if o == nil {
			return res, []apiError{invalidType(typ)}
		}
	} else if typ != "" && !strings.EqualFold(typ, o.Name) {
		return res, []apiError{errf("INVALID_TYPE", nil, "The sObject type %s in attributes does not match %s in the URL", typ, o.Name)}
	}
	switch {
	case ext != nil:
		v, _ := rawString(rec[ext.Name])
		if ext.Name != "Id" && v == "" {
			return res, []apiError{errf("MISSING_ARGUMENT", []string{ext.Name}, "%s not specified", ext.Name)}
		}
		if ext.Name != "Id" && dupExt[strings.ToLower(v)] > 1 {
			return res, []apiError{errf("DUPLICATE_EXTERNAL_ID", []string{ext.Name}, "Duplicate external id specified: %s", v)}
		}
		raw := rec
		if ext.Name == "Id" {
			raw = make(map[string]any, len(rec))
			for k, x := range rec {
				if !strings.EqualFold(k, "Id") {
					raw[k] = x
				}
			}
		}
		u := t.upsert(o, ext, v, raw, opts)
		if u.matches != nil {
			return res, []apiError{errf("DUPLICATE_EXTERNAL_ID", []string{ext.Name},
				"%s: more than one record found for external id field: %v", ext.Name, u.matches)}
		}
		res.ID = u.id
		if u.errs != nil {
			return res, u.errs
		}
		c := u.created
		res.Success, res.Created = true, &c
		return res, nil
	case creating:
		id, errs := t.create(o, rec, opts)
		if errs != nil {
			return res, errs
		}
		res.ID, res.Success = id, true
		return res, nil
	}
	idv := rec["id"]
	if idv == nil {
		idv = rec["Id"]
	}
	sid, _ := idv.(string)
	if sid == "" {
		return res, []apiError{errf("MISSING_ARGUMENT", []string{"Id"}, "Id not specified in an update call")}
	}
	id, ok := normalizeID(sid)
	if !ok || id[:3] != o.KeyPrefix {
		res.ID = sid
		return res, []apiError{errf("MALFORMED_ID", []string{"Id"}, "%s ID: id value of incorrect type: %s", o.Label, sid)}
	}
	res.ID = id
	raw := make(map[string]any, len(rec))
	for k, x := range rec {
		if k != "id" {
			raw[k] = x
		}
	}
	if errs := t.update(o, id, raw, opts); errs != nil {
		return res, errs
	}
	res.Success = true
	return res, nil
}

func splitIDs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) collectionDelete(c *call) result {
	ids := splitIDs(c.query.Get("ids"))
	if len(ids) == 0 {
		return errResult(http.StatusBadRequest, errf("MISSING_ARGUMENT", nil, "ids parameter is required"))
	}
	if len(ids) > maxCollection {
		return errResult(http.StatusBadRequest, errf("EXCEEDED_ID_LIMIT", nil, "record limit reached. cannot submit more than %d records into this call", maxCollection))
	}
	allOrNone := c.query.Get("allOrNone") == "true"
	return s.write(c, s.data, func(t *txn) result {
		start := t.savepoint()
		out := make([]saveResult, len(ids))
		failed := false
		for i, raw := range ids {
			out[i].Errors = []any{}
			id, ok := normalizeID(raw)
			var errs []apiError
			if !ok {
				errs = []apiError{errf("MALFORMED_ID", nil, "malformed id %s", raw)}
			} else if o := t.db.sch.byPrefix[id[:3]]; o == nil {
				errs = []apiError{errf("INVALID_CROSS_REFERENCE_KEY", nil, "invalid cross reference id")}
			} else {
				sp := t.savepoint()
				if errs = t.remove(o, id); errs != nil {
					t.rollbackTo(sp)
				}
			}
			if errs != nil {
				failed = true
				out[i].Errors = toAny(itemErrors(errs))
				if ok {
					out[i].ID = id
				}
				continue
			}
			out[i].ID, out[i].Success = id, true
		}
		if failed && allOrNone {
			t.rollbackTo(start)
			for i := range out {
				if out[i].Success {
					out[i].Success = false
					out[i].Errors = toAny(itemErrors([]apiError{errf("ALL_OR_NONE_OPERATION_ROLLED_BACK", nil,
						"Record rolled back because not all records were valid and the request was using AllOrNone header")}))
				}
			}
		}
		return jsonResult(http.StatusOK, out)
	})
}

func (s *Server) collectionRetrieve(c *call, o *objectDef) result {
	var ids []string
	var fieldList string
	if c.method == http.MethodPost {
		var body struct {
			IDs    []string `json:"ids"`
			Fields []string `json:"fields"`
		}
		if e := decodeBody(c.body, &body); e != nil {
			return errResult(http.StatusBadRequest, *e)
		}
		ids, fieldList = body.IDs, strings.Join(body.Fields, ",")
	} else {
		ids, fieldList = splitIDs(c.query.Get("ids")), c.query.Get("fields")
	}
	if len(ids) == 0 {
		return errResult(http.StatusBadRequest, errf("MISSING_ARGUMENT", nil, "ids parameter is required"))
	}
	if len(ids) > 2000 {
		return errResult(http.StatusBadRequest, errf("EXCEEDED_ID_LIMIT", nil, "record limit reached. cannot submit more than 2000 records into this call"))
	}
	if strings.TrimSpace(fieldList) == "" {
		return errResult(http.StatusBadRequest, errf("MISSING_ARGUMENT", nil, "fields parameter is required"))
	}
	return c.read(s.data, func() result {
		fields, e := selectFields(o, fieldList)
		if e != nil {
			return errResult(http.StatusBadRequest, *e)
		}
		out := make([]any, len(ids))
		tb := s.data.table(o)
		for i, raw := range ids {
			id, ok := normalizeID(raw)
			if !ok {
				return errResult(http.StatusBadRequest, errf("MALFORMED_ID", nil, "malformed id %s", raw))
			}
			if rec, ok := tb.get(id); ok && rec["IsDeleted"] != true {
				out[i] = recordJSON(o, rec, fields, c.version)
			}
		}
		return jsonResult(http.StatusOK, out)
	})
}

// compositeSub is one subrequest of composite or composite graph.
type compositeSub struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

type compositeResult struct {
	Body           any               `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

var (
	refIDPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)
	refUsePattern = regexp.MustCompile(`@\{([A-Za-z0-9][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_]+|\[[0-9]+\])*)\}`)
)

func (s *Server) composite(c *call) result {
	var body struct {
		AllOrNone          bool           `json:"allOrNone"`
		CollateSubrequests bool           `json:"collateSubrequests"`
		CompositeRequest   []compositeSub `json:"compositeRequest"`
	}
	if e := decodeBody(c.body, &body); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	if e := checkSubrequests(body.CompositeRequest, 25); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	return s.write(c, s.data, func(t *txn) result {
		out := s.runSubrequests(c, t, body.CompositeRequest, body.AllOrNone)
		return jsonResult(http.StatusOK, map[string]any{"compositeResponse": out})
	})
}

func checkSubrequests(subs []compositeSub, max int) *apiError {
	if len(subs) == 0 {
		e := errf("INVALID_API_INPUT", nil, "compositeRequest must contain at least one subrequest")
		return &e
	}
	if len(subs) > max {
		e := errf("LIMIT_EXCEEDED", nil, "A maximum of %d subrequests are allowed in a single request", max)
		return &e
	}
	seen := map[string]bool{}
	queries := 0
	for _, sub := range subs {
		if !refIDPattern.MatchString(sub.ReferenceID) {
			e := errf("INVALID_API_INPUT", nil, "Invalid reference id: %q. Reference ids must start with a letter or number and contain only letters, numbers and underscores", sub.ReferenceID)
			return &e
		}
		if seen[sub.ReferenceID] {
			e := errf("INVALID_API_INPUT", nil, "Duplicate reference id: %s", sub.ReferenceID)
			return &e
		}
		seen[sub.ReferenceID] = true
		switch sub.Method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			e := errf("INVALID_API_INPUT", nil, "Invalid method %q for subrequest %s", sub.Method, sub.ReferenceID)
			return &e
		}
		for k := range sub.HTTPHeaders {
			switch strings.ToLower(k) {
			case "accept", "authorization", "content-type":
				e := errf("INVALID_API_INPUT", nil, "The %s header cannot be set on a subrequest", k)
				return &e
			}
		}
		if strings.Contains(sub.URL, "/query") {
			queries++
		}
	}
	if max == 25 && queries > 5 {
		e := errf("LIMIT_EXCEEDED", nil, "A maximum of 5 query subrequests are allowed in a single composite request")
		return &e
	}
	return nil
}

var processingHalted = errf("PROCESSING_HALTED", nil, "The transaction was rolled back since another operation in the same transaction failed.")

// runSubrequests executes subrequests in order inside t. With allOrNone,
// the first failure rolls everything back and every other subrequest reports
// PROCESSING_HALTED.
func (s *Server) runSubrequests(c *call, t *txn, subs []compositeSub, allOrNone bool) []compositeResult {
	out := make([]compositeResult, len(subs))
	bodies := map[string]any{}
	failedRefs := map[string]bool{}
	start := t.savepoint()
	failedAt := -1
	for i, sub := range subs {
		out[i].ReferenceID = sub.ReferenceID
		out[i].HTTPHeaders = map[string]string{}
		if failedAt >= 0 && allOrNone {
			out[i].HTTPStatusCode, out[i].Body = http.StatusBadRequest, restErrors([]apiError{processingHalted})
			continue
		}
		rawURL, missing := substitute(sub.URL, bodies, failedRefs, false)
		var body string
		if missing == "" {
			body, missing = substitute(string(sub.Body), bodies, failedRefs, true)
		}
		if missing != "" {
			ref, _, _ := strings.Cut(missing, ".")
			ref, _, _ = strings.Cut(ref, "[")
			out[i].HTTPStatusCode = http.StatusBadRequest
			out[i].Body = restErrors([]apiError{errf("PROCESSING_HALTED", nil, "Invalid reference specified. No value for %s found in %s. Provided referenceId ('%s') is invalid or the request it refers to failed.", missing, ref, ref)})
			failedRefs[sub.ReferenceID] = true
			if failedAt < 0 {
				failedAt = i
			}
			continue
		}
		sp := t.savepoint()
		res := s.subrequest(c, t, sub, rawURL, body)
		if res.status >= 400 {
			t.rollbackTo(sp)
		}
		out[i].HTTPStatusCode = res.status
		for k, v := range res.headers {
			out[i].HTTPHeaders[k] = v
		}
		switch {
		case res.raw != nil:
			out[i].Body = json.RawMessage(res.raw)
		default:
			out[i].Body = res.body
		}
		if res.status >= 400 {
			failedRefs[sub.ReferenceID] = true
			if failedAt < 0 {
				failedAt = i
			}
			continue
		}
		// Keep a decoded copy for later @{ref...} lookups.
		var decoded any
		b := res.raw
		if b == nil && res.body != nil {
			b, _ = json.Marshal(res.body)
		}
		if len(b) > 0 {
			_ = json.Unmarshal(b, &decoded)
		}
		bodies[sub.ReferenceID] = decoded
	}
	if failedAt >= 0 && allOrNone {
		t.rollbackTo(start)
		for i := range out {
			if i != failedAt && out[i].HTTPStatusCode < 400 {
				out[i].HTTPStatusCode, out[i].Body, out[i].HTTPHeaders = http.StatusBadRequest, restErrors([]apiError{processingHalted}), map[string]string{}
			}
		}
	}
	return out
}

// substitute replaces @{ref.path} references. In a JSON body a reference
// that fills a whole string keeps its JSON type. It returns the name of the
// first reference it cannot resolve.
func substitute(text string, bodies map[string]any, failed map[string]bool, inJSON bool) (string, string) {
	missing := ""
	out := refUsePattern.ReplaceAllStringFunc(text, func(m string) string {
		if missing != "" {
			return m
		}
		sub := refUsePattern.FindStringSubmatch(m)
		expr := sub[1] + sub[2]
		v, ok := lookupRef(bodies, sub[1], sub[2])
		if !ok || failed[sub[1]] {
			missing = expr
			return m
		}
		str := ""
		switch x := v.(type) {
		case string:
			str = x
		case float64:
			str = strconv.FormatFloat(x, 'f', -1, 64)
		case nil:
			str = ""
		default:
			str = fmt.Sprint(x)
		}
		if inJSON {
			b, _ := json.Marshal(str)
			return string(b[1 : len(b)-1])
		}
		return url.PathEscape(str)
	})
	return out, missing
}

func lookupRef(bodies map[string]any, ref, path string) (any, bool) {
	v, ok := bodies[ref]
	if !ok {
		return nil, false
	}
	for path != "" {
		switch path[0] {
		case '.':
			end := strings.IndexAny(path[1:], ".[")
			if end < 0 {
				end = len(path) - 1
			}
			key := path[1 : end+1]
			path = path[end+1:]
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[key]; !ok {
				return nil, false
			}
		case '[':
			end := strings.IndexByte(path, ']')
			n, _ := strconv.Atoi(path[1:end])
			path = path[end+1:]
			a, ok := v.([]any)
			if !ok || n >= len(a) {
				return nil, false
			}
			v = a[n]
		default:
			return nil, false
		}
	}
	return v, true
}

// subrequest runs one composite subrequest through the router.
func (s *Server) subrequest(c *call, t *txn, sub compositeSub, rawURL, body string) result {
	u, err := url.Parse(rawURL)
	if err != nil || !strings.HasPrefix(u.Path, "/services/data/") {
		return errResult(http.StatusBadRequest, errf("INVALID_API_INPUT", nil, "The subrequest url must start with /services/data/vXX.X/: %s", sub.URL))
	}
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/services/data/"), "/")
	version, verNum, ok := parseVersion(segs[0])
	if !ok {
		return notFound()
	}
	segs = segs[1:]
	if n := len(segs); n > 0 && segs[n-1] == "" {
		segs = segs[:n-1]
	}
	// Path segments arrive escaped (external id values).
	for i, sg := range segs {
		if un, err := url.PathUnescape(sg); err == nil {
			segs[i] = un
		}
	}
	h := c.header.Clone()
	for k, v := range sub.HTTPHeaders {
		h.Set(k, v)
	}
	if body == "null" {
		body = ""
	}
	sc := &call{method: sub.Method, version: version, verNum: verNum, segs: segs, query: u.Query(), body: []byte(body),
		header: h, base: c.base, tok: c.tok, tx: t, sub: true}
	return s.route(sc)
}

type graphRequest struct {
	GraphID          string         `json:"graphId"`
	CompositeRequest []compositeSub `json:"compositeRequest"`
}

func (s *Server) graph(c *call) result {
	var body struct {
		Graphs []graphRequest `json:"graphs"`
	}
	if e := decodeBody(c.body, &body); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	if len(body.Graphs) == 0 {
		return errResult(http.StatusBadRequest, errf("INVALID_API_INPUT", nil, "graphs must contain at least one graph"))
	}
	if len(body.Graphs) > 75 {
		return errResult(http.StatusBadRequest, errf("LIMIT_EXCEEDED", nil, "A maximum of 75 graphs are allowed in a single request"))
	}
	nodes := 0
	ids := map[string]bool{}
	for _, g := range body.Graphs {
		if g.GraphID == "" || ids[g.GraphID] {
			return errResult(http.StatusBadRequest, errf("INVALID_API_INPUT", nil, "Each graph needs a unique graphId"))
		}
		ids[g.GraphID] = true
		nodes += len(g.CompositeRequest)
		if e := checkSubrequests(g.CompositeRequest, 500); e != nil {
			return errResult(http.StatusBadRequest, *e)
		}
	}
	if nodes > 500 {
		return errResult(http.StatusBadRequest, errf("LIMIT_EXCEEDED", nil, "A maximum of 500 nodes are allowed across all graphs in a request"))
	}
	type graphResult struct {
		GraphID       string         `json:"graphId"`
		GraphResponse map[string]any `json:"graphResponse"`
		IsSuccessful  bool           `json:"isSuccessful"`
	}
	return s.write(c, s.data, func(t *txn) result {
		out := make([]graphResult, len(body.Graphs))
		failures := 0
		for i, g := range body.Graphs {
			var res []compositeResult
			if failures >= 14 {
				res = make([]compositeResult, len(g.CompositeRequest))
				for j, sub := range g.CompositeRequest {
					res[j] = compositeResult{Body: restErrors([]apiError{processingHalted}), HTTPHeaders: map[string]string{}, HTTPStatusCode: http.StatusBadRequest, ReferenceID: sub.ReferenceID}
				}
			} else {
				res = s.runSubrequests(c, t, g.CompositeRequest, true)
			}
			ok := true
			for _, r := range res {
				if r.HTTPStatusCode >= 400 {
					ok = false
				}
			}
			if !ok {
				failures++
			}
			out[i] = graphResult{GraphID: g.GraphID, GraphResponse: map[string]any{"compositeResponse": res}, IsSuccessful: ok}
		}
		return jsonResult(http.StatusOK, map[string]any{"graphs": out})
	})
}
