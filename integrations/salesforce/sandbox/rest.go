package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// decodeBody parses a JSON request body keeping numbers exact.
func decodeBody(b []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if len(bytes.TrimSpace(b)) == 0 {
			msg = "No content to map due to end-of-input"
		}
		e := errf("JSON_PARSER_ERROR", nil, "%s", msg)
		return &e
	}
	if dec.More() {
		e := errf("JSON_PARSER_ERROR", nil, "Unexpected content after the end of the JSON body")
		return &e
	}
	return nil
}

func invalidType(name string) apiError {
	return errf("INVALID_TYPE", nil, "sObject type '%s' is not supported.", name)
}

func (s *Server) routeSObjects(c *call) result {
	segs := c.segs
	d := s.data
	if len(segs) == 1 {
		if c.method != http.MethodGet && c.method != http.MethodHead {
			return methodNotAllowed(c.method, "GET", "HEAD")
		}
		return c.read(d, func() result {
			var entries []globalEntry
			for _, o := range d.sch.sorted() {
				entries = append(entries, globalDescribe(o, c.version))
			}
			return jsonResult(http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": entries})
		})
	}
	var o *objectDef
	c.read(d, func() result { o = d.sch.object(segs[1]); return result{} })
	if o == nil {
		return errResult(http.StatusNotFound, invalidType(segs[1]))
	}
	switch len(segs) {
	case 2:
		switch c.method {
		case http.MethodGet, http.MethodHead:
			return c.read(d, func() result {
				return jsonResult(http.StatusOK, map[string]any{"objectDescribe": globalDescribe(o, c.version), "recentItems": []any{}})
			})
		case http.MethodPost:
			return s.createOne(c, o)
		}
		return methodNotAllowed(c.method, "GET", "HEAD", "POST")
	case 3:
		switch segs[2] {
		case "describe":
			if c.method != http.MethodGet && c.method != http.MethodHead {
				return methodNotAllowed(c.method, "GET", "HEAD")
			}
			return c.read(d, func() result {
				if ims := c.header.Get("If-Modified-Since"); ims != "" {
					if t, err := http.ParseTime(ims); err == nil && !o.modified.Truncate(time.Second).After(t) {
						return result{status: http.StatusNotModified}
					}
				}
				res := jsonResult(http.StatusOK, d.describe(o, c.version))
				res.headers = map[string]string{"Last-Modified": o.modified.UTC().Format(http.TimeFormat)}
				return res
			})
		case "updated", "deleted":
			if c.method != http.MethodGet {
				return methodNotAllowed(c.method, "GET")
			}
			return s.replication(c, o, segs[2] == "deleted")
		}
		if c.method == http.MethodPost && segs[2] == "Id" {
			var idField *fieldDef
			c.read(d, func() result { idField = o.field("Id"); return result{} })
			return s.upsertOne(c, o, idField, "")
		}
		id, ok := normalizeID(segs[2])
		if !ok || id[:3] != o.KeyPrefix {
			if c.method == http.MethodPost {
				return methodNotAllowed(c.method, "GET", "HEAD", "PATCH", "DELETE")
			}
			return errResult(http.StatusNotFound, errf("NOT_FOUND", nil, "Provided external ID field does not exist or is not accessible: %s", segs[2]))
		}
		switch c.method {
		case http.MethodGet, http.MethodHead:
			return s.retrieveOne(c, o, id)
		case http.MethodPatch:
			return s.write(c, d, func(t *txn) result {
				raw := map[string]any{}
				if e := decodeBody(c.body, &raw); e != nil {
					return errResult(http.StatusBadRequest, *e)
				}
				if errs := t.update(o, id, raw, c.opts()); errs != nil {
					return errResult(singleStatus(errs), errs...)
				}
				return result{status: http.StatusNoContent}
			})
		case http.MethodDelete:
			return s.write(c, d, func(t *txn) result {
				if errs := t.remove(o, id); errs != nil {
					return errResult(singleStatus(errs), errs...)
				}
				return result{status: http.StatusNoContent}
			})
		}
		return methodNotAllowed(c.method, "GET", "HEAD", "PATCH", "DELETE")
	case 4:
		var f *fieldDef
		c.read(d, func() result { f = o.field(segs[2]); return result{} })
		if f == nil || !(f.ExternalID || f.Name == "Id") {
			return notFound()
		}
		value := segs[3]
		switch c.method {
		case http.MethodPatch:
			return s.upsertOne(c, o, f, value)
		case http.MethodGet, http.MethodHead, http.MethodDelete:
			return s.byExternalID(c, o, f, value)
		}
		return methodNotAllowed(c.method, "GET", "HEAD", "PATCH", "DELETE")
	}
	return notFound()
}

// singleStatus is the HTTP status of a failed single-record write.
func singleStatus(errs []apiError) int {
	switch errs[0].Code {
	case "ENTITY_IS_DELETED", "NOT_FOUND":
		return http.StatusNotFound
	case "INSUFFICIENT_ACCESS_OR_READONLY":
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

type saveResult struct {
	ID      string `json:"id,omitempty"`
	Success bool   `json:"success"`
	Errors  []any  `json:"errors"`
	Created *bool  `json:"created,omitempty"`
}

func (s *Server) createOne(c *call, o *objectDef) result {
	return s.write(c, s.data, func(t *txn) result {
		raw := map[string]any{}
		if e := decodeBody(c.body, &raw); e != nil {
			return errResult(http.StatusBadRequest, *e)
		}
		id, errs := t.create(o, raw, c.opts())
		if errs != nil {
			return errResult(singleStatus(errs), errs...)
		}
		res := jsonResult(http.StatusCreated, saveResult{ID: id, Success: true, Errors: []any{}})
		res.headers = map[string]string{"Location": recordURL(c.version, o.Name, id)}
		return res
	})
}

func (s *Server) upsertOne(c *call, o *objectDef, f *fieldDef, value string) result {
	return s.write(c, s.data, func(t *txn) result {
		raw := map[string]any{}
		if e := decodeBody(c.body, &raw); e != nil {
			return errResult(http.StatusBadRequest, *e)
		}
		// updateOnly=true refuses to create (newer API versions).
		if c.query.Get("updateOnly") == "true" && f.Name != "Id" {
			if cv, err := coerce(f, value); err == nil && len(t.db.table(o).lookup(f, cv)) == 0 {
				return notFound()
			}
		}
		u := t.upsert(o, f, value, raw, c.opts())
		if u.matches != nil {
			urls := make([]string, len(u.matches))
			for i, id := range u.matches {
				urls[i] = recordURL(c.version, o.Name, id)
			}
			return jsonResult(http.StatusMultipleChoices, urls)
		}
		if u.errs != nil {
			return errResult(singleStatus(u.errs), u.errs...)
		}
		created := u.created
		if created {
			res := jsonResult(http.StatusCreated, saveResult{ID: u.id, Success: true, Errors: []any{}, Created: &created})
			res.headers = map[string]string{"Location": recordURL(c.version, o.Name, u.id)}
			return res
		}
		if c.verNum < 46 {
			return result{status: http.StatusNoContent}
		}
		return jsonResult(http.StatusOK, saveResult{ID: u.id, Success: true, Errors: []any{}, Created: &created})
	})
}

// selectFields parses a fields= parameter.
func selectFields(o *objectDef, list string) ([]*fieldDef, *apiError) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []*fieldDef
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		f := o.field(name)
		if f == nil {
			e := errf("INVALID_FIELD", nil, "No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, o.Name)
			return nil, &e
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *Server) retrieveOne(c *call, o *objectDef, id string) result {
	return c.read(s.data, func() result {
		fields, e := selectFields(o, c.query.Get("fields"))
		if e != nil {
			return errResult(http.StatusBadRequest, *e)
		}
		rec, ok := s.data.table(o).get(id)
		if !ok {
			return notFound()
		}
		if rec["IsDeleted"] == true {
			return errResult(http.StatusNotFound, errf("ENTITY_IS_DELETED", nil, "entity is deleted"))
		}
		return jsonResult(http.StatusOK, recordJSON(o, rec, fields, c.version))
	})
}

func (s *Server) byExternalID(c *call, o *objectDef, f *fieldDef, value string) result {
	var id string
	res := c.read(s.data, func() result {
		fields, e := selectFields(o, c.query.Get("fields"))
		if e != nil {
			return errResult(http.StatusBadRequest, *e)
		}
		if f.Name == "Id" {
			nid, ok := normalizeID(value)
			if !ok {
				return notFound()
			}
			value = nid
		}
		cv, cerr := coerce(f, value)
		if cerr != nil {
			return notFound()
		}
		tb := s.data.table(o)
		ids := tb.lookup(f, cv)
		if f.Name == "Id" {
			ids = nil
			if r, ok := tb.get(value); ok && r["IsDeleted"] != true {
				ids = []string{value}
			}
		}
		switch len(ids) {
		case 0:
			return notFound()
		case 1:
			id = ids[0]
			if c.method == http.MethodDelete {
				return result{}
			}
			rec, _ := tb.get(ids[0])
			return jsonResult(http.StatusOK, recordJSON(o, rec, fields, c.version))
		}
		urls := make([]string, len(ids))
		for i, x := range ids {
			urls[i] = recordURL(c.version, o.Name, x)
		}
		return jsonResult(http.StatusMultipleChoices, urls)
	})
	if c.method != http.MethodDelete || res.status != 0 {
		return res
	}
	return s.write(c, s.data, func(t *txn) result {
		if errs := t.remove(o, id); errs != nil {
			return errResult(singleStatus(errs), errs...)
		}
		return result{status: http.StatusNoContent}
	})
}

// replication serves getUpdated and getDeleted.
func (s *Server) replication(c *call, o *objectDef, deleted bool) result {
	now := s.clk.Now()
	parse := func(name string) (time.Time, *apiError) {
		v := c.query.Get(name)
		t, ok := parseDateTime(v)
		if !ok {
			e := errf("INVALID_REPLICATION_DATE", nil, "%s date is missing or not an ISO 8601 date-time: %q", name, v)
			return t, &e
		}
		return t.Truncate(time.Minute), nil
	}
	start, e := parse("start")
	if e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	end, e := parse("end")
	if e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	if !start.Before(end) {
		return errResult(http.StatusBadRequest, errf("INVALID_REPLICATION_DATE", nil, "startDate must chronologically precede endDate by more than one minute"))
	}
	window := 30 * 24 * time.Hour
	if deleted {
		window = 15 * 24 * time.Hour
	}
	if start.Before(now.Add(-window)) {
		return errResult(http.StatusBadRequest, errf("INVALID_REPLICATION_DATE", nil, "startDate cannot be more than %d days ago", int(window.Hours()/24)))
	}
	if end.After(now) {
		end = now.Truncate(time.Minute)
	}
	return c.read(s.data, func() result {
		tb := s.data.table(o)
		if !deleted {
			ids := []string{}
			for _, r := range tb.rows {
				m, _ := r["SystemModstamp"].(time.Time)
				if r["IsDeleted"] != true && !m.Before(start) && m.Before(end) {
					ids = append(ids, r["Id"].(string))
				}
			}
			if len(ids) > 600000 {
				return errResult(http.StatusBadRequest, errf("EXCEEDED_ID_LIMIT", nil, "record limit reached. cannot submit more than 600000 records into this call"))
			}
			return jsonResult(http.StatusOK, map[string]any{"ids": ids, "latestDateCovered": sfDateTime(end)})
		}
		type del struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		}
		recs := []del{}
		for _, r := range tb.rows {
			id := r["Id"].(string)
			at, ok := tb.deletedAt[id]
			if r["IsDeleted"] == true && ok && !at.Before(start) && at.Before(end) {
				recs = append(recs, del{id, sfDateTime(at)})
			}
		}
		earliest := s.data.created
		if lim := now.Add(-window); earliest.Before(lim) {
			earliest = lim
		}
		return jsonResult(http.StatusOK, map[string]any{"deletedRecords": recs, "earliestDateAvailable": sfDateTime(earliest.Truncate(time.Minute)), "latestDateCovered": sfDateTime(end)})
	})
}
