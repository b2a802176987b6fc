package sandbox

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// cursorLife is how long a query locator stays valid (API v56.0 and later).
const cursorLife = 48 * time.Hour

// maxCursors bounds memory: the oldest cursors are dropped past it, and a
// client that comes back to one gets INVALID_QUERY_LOCATOR.
const maxCursors = 2000

type cursor struct {
	rows    []soql.Row
	total   int
	expires time.Time
}

type cursorStore struct {
	mu    sync.Mutex
	seq   uint64
	byID  map[string]*cursor
	order []string
}

func newCursorStore() *cursorStore { return &cursorStore{byID: map[string]*cursor{}} }

func (cs *cursorStore) add(c *cursor) string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.seq++
	id := makeID("01g", cs.seq)
	cs.byID[id] = c
	cs.order = append(cs.order, id)
	for len(cs.order) > maxCursors {
		delete(cs.byID, cs.order[0])
		cs.order = cs.order[1:]
	}
	return id
}

func (cs *cursorStore) get(id string, now time.Time) *cursor {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.byID[id]
	if c == nil || !now.Before(c.expires) {
		return nil
	}
	return c
}

func (cs *cursorStore) reset() {
	cs.mu.Lock()
	cs.byID, cs.order = map[string]*cursor{}, nil
	cs.mu.Unlock()
}

// batchSize reads Sforce-Query-Options: batchSize=N (200..2000, default
// 2000). Like the real service it is a hint: out-of-range values are
// clamped.
func batchSize(h string) int {
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 2000
		}
		return min(max(n, 200), 2000)
	}
	return 2000
}

func queryError(err error) result {
	var se *soql.Error
	if errors.As(err, &se) {
		return errResult(http.StatusBadRequest, errf(se.Code, nil, "%s", se.Message))
	}
	return errResult(http.StatusBadRequest, errf("MALFORMED_QUERY", nil, "%v", err))
}

// routeQuery serves query and queryAll (and their locators) over d, the org
// data or the tooling store.
func (s *Server) routeQuery(c *call, d *db, all bool, rest []string) result {
	if c.method != http.MethodGet && c.method != http.MethodHead {
		return methodNotAllowed(c.method, "GET", "HEAD")
	}
	prefix := "/services/data/v" + c.version + "/query/"
	if d == s.tooling {
		prefix = "/services/data/v" + c.version + "/tooling/query/"
	}
	size := batchSize(c.header.Get("Sforce-Query-Options"))
	now := s.clk.Now()
	if len(rest) == 1 {
		id, off, ok := strings.Cut(rest[0], "-")
		n, err := strconv.Atoi(off)
		cur := s.cursors.get(id, now)
		if !ok || err != nil || cur == nil || n < 0 || n > len(cur.rows) {
			return errResult(http.StatusBadRequest, errf("INVALID_QUERY_LOCATOR", nil, "invalid query locator"))
		}
		return page(cur, id, n, size, prefix)
	}
	if len(rest) > 1 {
		return notFound()
	}
	q := c.query.Get("q")
	if strings.TrimSpace(q) == "" {
		return errResult(http.StatusBadRequest, errf("MALFORMED_QUERY", nil, "A query string has to be specified"))
	}
	parsed, err := soql.Parse(q)
	if err != nil {
		return queryError(err)
	}
	if c.query.Get("columns") == "true" {
		return c.read(d, func() result { return columnsResult(d, parsed) })
	}
	var res *soql.Result
	c.read(d, func() result {
		res, err = soql.Execute(parsed, soqlSchema{d.sch}, soqlStore{d}, soql.ExecOptions{Now: now, IncludeDeleted: all, APIVersion: c.version})
		return result{}
	})
	if err != nil {
		return queryError(err)
	}
	if res.CountOnly || len(res.Rows) <= size {
		cur := &cursor{rows: res.Rows, total: res.TotalSize}
		return page(cur, "", 0, size, prefix)
	}
	cur := &cursor{rows: res.Rows, total: res.TotalSize, expires: now.Add(cursorLife)}
	id := s.cursors.add(cur)
	return page(cur, id, 0, size, prefix)
}

// page writes one page of a cursor as raw JSON.
func page(cur *cursor, id string, from, size int, prefix string) result {
	to := min(from+size, len(cur.rows))
	done := to >= len(cur.rows)
	b := make([]byte, 0, 256+(to-from)*256)
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(cur.total), 10)
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, done)
	if !done {
		b = append(b, `,"nextRecordsUrl":"`...)
		b = append(b, prefix...)
		b = append(b, id...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(to), 10)
		b = append(b, '"')
	}
	b = append(b, `,"records":[`...)
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = cur.rows[i].AppendJSON(b)
	}
	b = append(b, "]}"...)
	return result{status: http.StatusOK, raw: b, ctype: "application/json;charset=UTF-8"}
}
