package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiError is a resource-API error, written as
// {"httpCode","httpMessage","message","errorClass"}.
type apiError struct {
	status  int
	message string
	class   string
}

func (e *apiError) Error() string { return e.message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{400, fmt.Sprintf(format, args...), "Exception"}
}

// queryParam is one query-string parameter in its original position.
type queryParam struct{ key, value string }

// parseOrderedQuery splits a raw query string keeping parameter order, so
// next/previous URLs repeat the caller's parameters as sent.
func parseOrderedQuery(raw string) ([]queryParam, *apiError) {
	var out []queryParam
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, badRequest("Malformed query parameter %q.", k)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, badRequest("Malformed value for query parameter %q.", key)
		}
		out = append(out, queryParam{key, val})
	}
	return out, nil
}

// rawFilter is one filter before it is bound to a resource: field, the
// operator and the operand text.
type rawFilter struct {
	field, op, value string
}

// operators in the order they are tried; longer spellings first.
var filterOps = []string{">=", "<=", "><", "!=", "!~", "=", ">", "<", "~", "IN"}

// parseFilterValue splits "op,value"; a value without a known operator
// prefix is an equality test on the whole value.
func parseFilterValue(field, v string) rawFilter {
	if op, rest, ok := strings.Cut(v, ","); ok && slices.Contains(filterOps, op) {
		return rawFilter{field, op, rest}
	}
	return rawFilter{field, "=", v}
}

// listQuery is a parsed list request.
type listQuery struct {
	params    []queryParam
	relations relSet
	relNames  []string // as requested, for the cost model
	limit     int
	limitSet  bool
	sortField string // as spelled by the caller; "" = primary key
	sortSet   bool
	desc      bool
	after     []any
	before    []any
	count     bool
	archived  string
	filters   []rawFilter
	ors       [][]rawFilter
	// legacy marks a V2 request (/API/Account/...): offset pagination with
	// count/offset/limit attributes, orderby and orderby_desc.
	legacy bool
	offset int
}

func parseListQuery(params []queryParam, legacy bool) (*listQuery, error) {
	q := &listQuery{params: params, limit: 100, archived: "false", legacy: legacy}
	for _, p := range params {
		if legacy {
			switch p.key {
			case "offset":
				n, err := strconv.Atoi(p.value)
				if err != nil || n < 0 {
					return nil, badRequest("offset must be a non-negative integer, got %q.", p.value)
				}
				q.offset = n
				continue
			case "orderby":
				q.sortField, q.sortSet = p.value, true
				continue
			case "orderby_desc":
				q.desc = p.value == "1" || p.value == "true"
				continue
			case "sort", "after", "before":
				return nil, badRequest("%s is not supported by API V2; use offset and orderby.", p.key)
			}
		}
		switch p.key {
		case "load_relations":
			names, err := parseLoadRelations(p.value)
			if err != nil {
				return nil, err
			}
			q.relNames = names
		case "limit":
			n, err := strconv.Atoi(p.value)
			if err != nil || n < 0 || n > 100 {
				return nil, badRequest("limit must be an integer between 0 and 100, got %q.", p.value)
			}
			if n > 0 {
				q.limit = n
			}
			q.limitSet = true
		case "sort":
			q.sortSet = true
			q.sortField = p.value
			if f, ok := strings.CutPrefix(p.value, "-"); ok {
				q.sortField, q.desc = f, true
			}
		case "after", "before":
			key, err := decodeCursor(p.value)
			if err != nil {
				return nil, err
			}
			if p.key == "after" {
				q.after = key
			} else {
				q.before = key
			}
		case "count":
			q.count = p.value == "1" || p.value == "true"
		case "archived":
			switch p.value {
			case "false", "0", "":
				q.archived = "false"
			case "true", "1":
				q.archived = "true"
			case "only":
				q.archived = "only"
			default:
				return nil, badRequest("archived must be one of false, true, only; got %q.", p.value)
			}
		case "or":
			var group []rawFilter
			for operand := range strings.SplitSeq(p.value, "|") {
				field, v, ok := strings.Cut(operand, "=")
				if !ok || field == "" {
					return nil, badRequest("Malformed or= operand %q: expected field=[operator,]value.", operand)
				}
				group = append(group, parseFilterValue(field, v))
			}
			q.ors = append(q.ors, group)
		default:
			// PHP-style load_relations[0]=X is silently ignored by the API.
			if strings.HasPrefix(p.key, "load_relations[") {
				continue
			}
			q.filters = append(q.filters, parseFilterValue(p.key, p.value))
		}
	}
	if q.after != nil && q.before != nil {
		return nil, badRequest("after and before cannot be combined.")
	}
	if q.count && (q.limitSet || q.sortSet || q.after != nil || q.before != nil) {
		return nil, badRequest("count cannot be combined with limit, sort, after or before.")
	}
	return q, nil
}

// parseLoadRelations accepts a JSON array of names or the word "all"
// (returned as a single "all" entry).
func parseLoadRelations(v string) ([]string, error) {
	if v == "all" {
		return []string{"all"}, nil
	}
	var names []string
	if err := json.Unmarshal([]byte(v), &names); err != nil {
		return nil, badRequest(`load_relations must be a JSON array of relation names such as ["Contact"], or all.`)
	}
	return names, nil
}

func decodeCursor(v string) ([]any, error) {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	}
	var key []any
	if err == nil {
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		err = d.Decode(&key)
	}
	if err != nil || len(key) == 0 || len(key) > 2 {
		return nil, badRequest("Invalid pagination cursor %q.", v)
	}
	return key, nil
}

func encodeCursor(key []any) string {
	b, _ := json.Marshal(key) // strings and ints only: cannot fail
	return base64.StdEncoding.EncodeToString(b)
}

// resolveRelations checks requested relation names against the resource
// and expands "all" and implied parents ("SaleLines.Item" loads SaleLines).
func resolveRelations[T any](r *resource[T], names []string) (relSet, error) {
	if len(names) == 0 {
		return nil, nil
	}
	known := r.relationNames()
	set := relSet{}
	for _, n := range names {
		if n == "all" {
			for _, rel := range r.rels {
				if rel.notInAll {
					continue
				}
				set.add(rel.name)
				for _, sub := range rel.nested {
					set.add(rel.name + "." + sub)
				}
			}
			continue
		}
		if !slices.Contains(known, n) {
			return nil, badRequest("Invalid relation %q for %s. Allowed relations: %s.", n, r.name, strings.Join(known, ", "))
		}
		set.add(n)
	}
	return set, nil
}

// operand is a filter operand parsed for the field's kind.
type operand struct {
	s string
	i int64
	f float64
}

func parseOperand(k kind, v string) (operand, error) {
	switch k {
	case kindInt:
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return operand{}, fmt.Errorf("%q is not an integer", v)
		}
		return operand{s: v, i: i}, nil
	case kindDec:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return operand{}, fmt.Errorf("%q is not a number", v)
		}
		return operand{s: v, f: f}, nil
	case kindTime:
		t, err := parseTimeValue(strings.TrimSpace(v))
		if err != nil {
			return operand{}, err
		}
		return operand{s: fmtTime(t)}, nil
	case kindBool:
		switch strings.ToLower(v) {
		case "true", "1":
			return operand{s: "true"}, nil
		case "false", "0":
			return operand{s: "false"}, nil
		}
		return operand{}, fmt.Errorf("%q is not a boolean", v)
	}
	return operand{s: strings.ToLower(v)}, nil
}

// compareValue orders a wire value against an operand; ok is false when the
// stored value cannot be read as the field's kind.
func compareValue(k kind, val string, o operand) (int, bool) {
	switch k {
	case kindInt:
		i, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return 0, false
		}
		return cmpOrdered(i, o.i), true
	case kindDec:
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return 0, false
		}
		return cmpOrdered(f, o.f), true
	case kindString:
		return strings.Compare(strings.ToLower(val), o.s), true
	}
	return strings.Compare(val, o.s), true
}

func cmpOrdered[V int64 | float64 | int | string](a, b V) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// likePattern compiles a SQL LIKE pattern ("%" any run, "_" one character),
// case-insensitive as the API's collation is.
func likePattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range p {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()) // every metacharacter is quoted
}

// predicate tests one value of a field.
type predicate func(val string, null bool) bool

func compileOp(k kind, op, value string) (predicate, error) {
	switch op {
	case "~", "!~":
		re := likePattern(value)
		neg := op == "!~"
		return func(val string, null bool) bool {
			if null {
				return neg
			}
			return re.MatchString(val) != neg
		}, nil
	case "IN":
		list := strings.TrimSuffix(strings.TrimPrefix(value, "["), "]")
		var ops []operand
		for v := range strings.SplitSeq(list, ",") {
			o, err := parseOperand(k, strings.Trim(strings.TrimSpace(v), `"`))
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
		}
		if len(ops) > 100 {
			return nil, fmt.Errorf("IN accepts at most 100 values, got %d", len(ops))
		}
		return func(val string, null bool) bool {
			if null {
				return false
			}
			for _, o := range ops {
				if c, ok := compareValue(k, val, o); ok && c == 0 {
					return true
				}
			}
			return false
		}, nil
	case "><":
		lo, hi, ok := strings.Cut(value, ",")
		if !ok {
			return nil, fmt.Errorf("between needs two values: ><,low,high")
		}
		ol, err := parseOperand(k, lo)
		if err != nil {
			return nil, err
		}
		oh, err := parseOperand(k, hi)
		if err != nil {
			return nil, err
		}
		return func(val string, null bool) bool {
			if null {
				return false
			}
			c1, ok1 := compareValue(k, val, ol)
			c2, ok2 := compareValue(k, val, oh)
			return ok1 && ok2 && c1 >= 0 && c2 <= 0
		}, nil
	}
	o, err := parseOperand(k, value)
	if err != nil {
		return nil, err
	}
	test := map[string]func(int) bool{
		"=":  func(c int) bool { return c == 0 },
		"!=": func(c int) bool { return c != 0 },
		">":  func(c int) bool { return c > 0 },
		">=": func(c int) bool { return c >= 0 },
		"<":  func(c int) bool { return c < 0 },
		"<=": func(c int) bool { return c <= 0 },
	}[op]
	return func(val string, null bool) bool {
		if null {
			return op == "!="
		}
		c, ok := compareValue(k, val, o)
		return ok && test(c)
	}, nil
}

func parseIntOperand(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(v), `"`), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	return n, nil
}

func parseTimeOperand(v string) (int64, error) {
	t, err := parseTimeValue(strings.TrimSpace(strings.Trim(strings.TrimSpace(v), `"`)))
	return t.Unix(), err
}

// compileNumOp compiles a comparison on an integer or on a timestamp held
// as Unix seconds; parse reads the operands.
func compileNumOp(op, value string, parse func(string) (int64, error)) (func(n int64, null bool) bool, error) {
	var ops []int64
	switch op {
	case "IN":
		list := strings.TrimSuffix(strings.TrimPrefix(value, "["), "]")
		for v := range strings.SplitSeq(list, ",") {
			n, err := parse(v)
			if err != nil {
				return nil, err
			}
			ops = append(ops, n)
		}
		if len(ops) > 100 {
			return nil, fmt.Errorf("IN accepts at most 100 values, got %d", len(ops))
		}
	case "><":
		lo, hi, ok := strings.Cut(value, ",")
		if !ok {
			return nil, fmt.Errorf("between needs two values: ><,low,high")
		}
		for _, v := range []string{lo, hi} {
			n, err := parse(v)
			if err != nil {
				return nil, err
			}
			ops = append(ops, n)
		}
	default:
		n, err := parse(value)
		if err != nil {
			return nil, err
		}
		ops = []int64{n}
	}
	o := ops[0]
	return func(n int64, null bool) bool {
		if null {
			return op == "!="
		}
		switch op {
		case "=":
			return n == o
		case "!=":
			return n != o
		case ">":
			return n > o
		case ">=":
			return n >= o
		case "<":
			return n < o
		case "<=":
			return n <= o
		case "><":
			return n >= ops[0] && n <= ops[1]
		case "IN":
			return slices.Contains(ops, n)
		}
		return false
	}, nil
}

// rowFilter is a compiled filter over rows of one resource.
type rowFilter[T any] func(st *store, t *T) bool

func compileFilter[T any](st *store, r *resource[T], loaded relSet, f rawFilter) (rowFilter[T], error) {
	if relName, sub, ok := strings.Cut(f.field, "."); ok {
		rel := r.relation(relName)
		if rel == nil {
			return nil, badRequest("Invalid filter field %q for %s. Allowed fields: %s.", f.field, r.name, strings.Join(r.fieldNames(), ", "))
		}
		if !loaded.has(relName) {
			return nil, badRequest("Filtering on %s requires load_relations to include %q.", f.field, relName)
		}
		var zero T
		_, k, known := rel.values(st, &zero, sub)
		if !known || strings.Contains(sub, ".") {
			return nil, badRequest("Invalid filter field %q for %s: %s has no field %q.", f.field, r.name, relName, sub)
		}
		pred, err := compileOp(k, f.op, f.value)
		if err != nil {
			return nil, badRequest("Invalid value for %s: %v.", f.field, err)
		}
		// A parent matches when at least one related row matches.
		return func(st *store, t *T) bool {
			vals, _, _ := rel.values(st, t, sub)
			for _, v := range vals {
				if pred(v, false) {
					return true
				}
			}
			return false
		}, nil
	}
	fd, ok := r.field(f.field)
	if !ok {
		return nil, badRequest("Invalid filter field %q for %s. Allowed fields: %s.", f.field, r.name, strings.Join(r.fieldNames(), ", "))
	}
	if fd.num != nil && f.op != "~" && f.op != "!~" {
		parse := parseIntOperand
		if fd.kind == kindTime {
			parse = parseTimeOperand
		}
		pred, err := compileNumOp(f.op, f.value, parse)
		if err != nil {
			return nil, badRequest("Invalid value for %s: %v.", f.field, err)
		}
		num := fd.num
		return func(_ *store, t *T) bool {
			n, ok := num(t)
			return pred(n, !ok)
		}, nil
	}
	pred, err := compileOp(fd.kind, f.op, f.value)
	if err != nil {
		return nil, badRequest("Invalid value for %s: %v.", f.field, err)
	}
	get := fd.get
	return func(_ *store, t *T) bool {
		v, ok := get(t)
		return pred(v, !ok)
	}, nil
}

// sortKey is a row's position in the requested order.
type sortKey struct {
	i  int64
	f  float64
	s  string
	id int
}

func compareKeys(k kind, byID bool, a, b sortKey) int {
	if !byID {
		var c int
		switch k {
		case kindInt, kindTime:
			c = cmpOrdered(a.i, b.i)
		case kindDec:
			c = cmpOrdered(a.f, b.f)
		default:
			c = strings.Compare(a.s, b.s)
		}
		if c != 0 {
			return c
		}
	}
	return cmpOrdered(a.id, b.id)
}

// keyOf reads a row's sort value.
func keyOf[T any](r *resource[T], f *field[T], t *T) sortKey {
	k := sortKey{id: r.id(t)}
	if f == nil {
		return k
	}
	if f.num != nil {
		k.i, _ = f.num(t)
		return k
	}
	v, _ := f.get(t)
	switch f.kind {
	case kindInt:
		k.i, _ = strconv.ParseInt(v, 10, 64)
	case kindDec:
		k.f, _ = strconv.ParseFloat(v, 64)
	case kindString:
		k.s = strings.ToLower(v)
	default:
		k.s = v
	}
	return k
}

// cursorKey turns a decoded cursor into a sortKey for the sort field.
func cursorKey(k kind, byID bool, c []any) (sortKey, error) {
	bad := badRequest("Pagination cursor does not match the sort order.")
	want := 2
	if byID {
		want = 1
	}
	if len(c) != want {
		return sortKey{}, bad
	}
	idNum, ok := c[len(c)-1].(json.Number)
	if !ok {
		return sortKey{}, bad
	}
	id, err := idNum.Int64()
	if err != nil || id > math.MaxInt32 {
		return sortKey{}, bad
	}
	key := sortKey{id: int(id)}
	if byID {
		return key, nil
	}
	var s string
	switch v := c[0].(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return sortKey{}, bad
	}
	switch k {
	case kindInt:
		key.i, err = strconv.ParseInt(s, 10, 64)
	case kindTime:
		var t time.Time
		t, err = parseTimeValue(s)
		key.i = t.Unix()
	case kindDec:
		key.f, err = strconv.ParseFloat(s, 64)
	case kindString:
		key.s = strings.ToLower(s)
	default:
		key.s = s
	}
	if err != nil {
		return sortKey{}, bad
	}
	return key, nil
}

// page is the result of running a list query.
type page[T any] struct {
	rows             []*T
	count            int
	nextKey, prevKey []any // nil: no next/previous page
}

// runQuery filters, sorts and pages rows. Rows are in id order already; for
// other sort fields it uses a sorted index cached until the next write, so a
// page costs O(limit + log n) plus the rows its filters skip.
func runQuery[T any](st *store, r *resource[T], rows []*T, q *listQuery, loaded relSet, cache *sortCache, version uint64, cacheKey string) (*page[T], error) {
	var filters []rowFilter[T]
	for _, f := range q.filters {
		rf, err := compileFilter(st, r, loaded, f)
		if err != nil {
			return nil, err
		}
		filters = append(filters, rf)
	}
	for _, group := range q.ors {
		var alts []rowFilter[T]
		for _, f := range group {
			rf, err := compileFilter(st, r, loaded, f)
			if err != nil {
				return nil, err
			}
			alts = append(alts, rf)
		}
		filters = append(filters, func(st *store, t *T) bool {
			for _, a := range alts {
				if a(st, t) {
					return true
				}
			}
			return false
		})
	}

	var sortF *field[T]
	byID := true
	if q.legacy && q.sortField != "" {
		// V2 orderby accepts any field (non-sortable ones just cost more).
		f, ok := r.field(q.sortField)
		if !ok {
			return nil, badRequest("Invalid orderby field %q for %s. Allowed fields: %s.", q.sortField, r.name, strings.Join(r.fieldNames(), ", "))
		}
		if q.sortField != r.idField {
			sortF, byID = f, false
		}
	} else if q.sortField != "" && q.sortField != r.idField {
		if !r.sortableField(q.sortField) {
			return nil, badRequest("Invalid sort field %q for %s. Allowed sort fields: %s.", q.sortField, r.name, strings.Join(r.sortable, ", "))
		}
		sortF, _ = r.field(q.sortField)
		byID = false
	} else if q.sortField != "" && !r.sortableField(q.sortField) {
		return nil, badRequest("Invalid sort field %q for %s. Allowed sort fields: %s.", q.sortField, r.name, strings.Join(r.sortable, ", "))
	}

	match := func(t *T) bool {
		if r.archived != nil {
			a := r.archived(t)
			if q.archived == "false" && a || q.archived == "only" && !a {
				return false
			}
		}
		for _, f := range filters {
			if !f(st, t) {
				return false
			}
		}
		return true
	}
	if q.count {
		n := 0
		for _, t := range rows {
			if match(t) {
				n++
			}
		}
		return &page[T]{count: n}, nil
	}
	if byID {
		// Rows are kept in id order: no index needed.
		return pageSorted(r, rows, nil, kindInt, true, q, match, nil)
	}
	ix := cachedIndex(cache, version, cacheKey+"\x00"+sortF.name, func() sortedIndex[T] {
		keys := make([]sortKey, len(rows))
		order := make([]int, len(rows))
		for i, t := range rows {
			keys[i] = keyOf(r, sortF, t)
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return compareKeys(sortF.kind, false, keys[order[a]], keys[order[b]]) < 0 })
		ix := sortedIndex[T]{rows: make([]*T, len(rows)), keys: make([]sortKey, len(rows))}
		for i, j := range order {
			ix.rows[i], ix.keys[i] = rows[j], keys[j]
		}
		return ix
	})
	return pageSorted(r, ix.rows, ix.keys, sortF.kind, false, q, match, sortF)
}

// sortedIndex is a resource's rows ordered by one sort field (then id).
type sortedIndex[T any] struct {
	rows []*T
	keys []sortKey
}

// sortCache keeps sorted indexes between requests. Every write bumps the
// server's data version, which empties the cache, so an index is built once
// per field per version and a sorted page costs O(limit + log n).
type sortCache struct {
	mu      sync.Mutex
	version uint64
	entries map[string]any
}

func cachedIndex[T any](c *sortCache, version uint64, key string, build func() sortedIndex[T]) sortedIndex[T] {
	if c == nil {
		return build()
	}
	c.mu.Lock()
	if c.version != version || c.entries == nil {
		c.version, c.entries = version, map[string]any{}
	}
	if ix, ok := c.entries[key].(sortedIndex[T]); ok {
		c.mu.Unlock()
		return ix
	}
	c.mu.Unlock()
	ix := build() // outside the lock: concurrent builders produce equal indexes
	c.mu.Lock()
	if c.version == version {
		c.entries[key] = ix
	}
	c.mu.Unlock()
	return ix
}

// pageSorted pages rows that are in ascending sort order (keys nil means
// id order) without materialising the filtered result: a cursor is a binary
// search and a page scans only until it has limit rows, plus one look each
// way to decide next/previous.
func pageSorted[T any](r *resource[T], rows []*T, keys []sortKey, k kind, byID bool, q *listQuery, match func(*T) bool, sortF *field[T]) (*page[T], error) {
	n := len(rows)
	pos := func(j int) int {
		if q.desc {
			return n - 1 - j
		}
		return j
	}
	at := func(j int) *T { return rows[pos(j)] }
	keyAt := func(j int) sortKey {
		if keys == nil {
			return sortKey{id: r.id(rows[pos(j)])}
		}
		return keys[pos(j)]
	}
	dir := 1
	if q.desc {
		dir = -1
	}
	anyMatch := func(from, to, step int) bool {
		for j := from; j != to; j += step {
			if match(at(j)) {
				return true
			}
		}
		return false
	}
	var got []int
	var hasNext, hasPrev bool
	if q.before != nil {
		c, err := cursorKey(k, byID, q.before)
		if err != nil {
			return nil, err
		}
		end := sort.Search(n, func(j int) bool { return dir*compareKeys(k, byID, keyAt(j), c) >= 0 })
		j := end - 1
		for ; j >= 0 && len(got) < q.limit; j-- {
			if match(at(j)) {
				got = append(got, j)
			}
		}
		slices.Reverse(got)
		hasPrev = anyMatch(j, -1, -1)
		hasNext = anyMatch(end, n, 1)
	} else {
		start := 0
		if q.after != nil {
			c, err := cursorKey(k, byID, q.after)
			if err != nil {
				return nil, err
			}
			start = sort.Search(n, func(j int) bool { return dir*compareKeys(k, byID, keyAt(j), c) > 0 })
		}
		j := start
		for ; j < n && len(got) < q.limit; j++ {
			if match(at(j)) {
				got = append(got, j)
			}
		}
		hasNext = anyMatch(j, n, 1)
		hasPrev = anyMatch(start-1, -1, -1)
	}
	p := &page[T]{rows: make([]*T, len(got))}
	for i, j := range got {
		p.rows[i] = at(j)
	}
	cursor := func(j int) []any {
		key := keyAt(j)
		if byID {
			return []any{key.id}
		}
		v, _ := sortF.get(at(j))
		if k == kindInt {
			n, _ := strconv.ParseInt(v, 10, 64)
			return []any{n, key.id}
		}
		return []any{v, key.id}
	}
	if len(got) > 0 {
		if hasNext {
			p.nextKey = cursor(got[len(got)-1])
		}
		if hasPrev {
			p.prevKey = cursor(got[0])
		}
	}
	return p, nil
}

func (r *resource[T]) sortableField(name string) bool {
	canon := func(n string) string {
		if a, ok := r.aliases[n]; ok {
			return a
		}
		return n
	}
	for _, s := range r.sortable {
		if canon(s) == canon(name) {
			return true
		}
	}
	return false
}

// pageURL builds an absolute next/previous URL: the caller's parameters
// minus any cursor, sort and limit defaulted in, then the new cursor.
func pageURL(base, path string, q *listQuery, defaultSort, cursorParam string, key []any) string {
	if key == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteString(path)
	sep := byte('?')
	add := func(k, v string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	for _, p := range q.params {
		if p.key == "after" || p.key == "before" {
			continue
		}
		add(p.key, p.value)
	}
	if !q.sortSet {
		add("sort", defaultSort)
	}
	if !q.limitSet {
		add("limit", strconv.Itoa(q.limit))
	}
	add(cursorParam, encodeCursor(key))
	return b.String()
}
