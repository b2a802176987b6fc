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
func parseOrderedQuery(raw string) ([]queryParam, error) {
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
}

func parseListQuery(params []queryParam) (*listQuery, error) {
	q := &listQuery{params: params, limit: 100, archived: "false"}
	for _, p := range params {
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
				set[rel.name] = true
				for _, sub := range rel.nested {
					set[rel.name+"."+sub] = true
				}
			}
			continue
		}
		if !slices.Contains(known, n) {
			return nil, badRequest("Invalid relation %q for %s. Allowed relations: %s.", n, r.name, strings.Join(known, ", "))
		}
		set[n] = true
		if parent, _, ok := strings.Cut(n, "."); ok {
			set[parent] = true
		}
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

// rowFilter is a compiled filter over rows of one resource.
type rowFilter[T any] func(st *store, t *T) bool

func compileFilter[T any](st *store, r *resource[T], loaded relSet, f rawFilter) (rowFilter[T], error) {
	if relName, sub, ok := strings.Cut(f.field, "."); ok {
		rel := r.relation(relName)
		if rel == nil {
			return nil, badRequest("Invalid filter field %q for %s. Allowed fields: %s.", f.field, r.name, strings.Join(r.fieldNames(), ", "))
		}
		if !loaded[relName] {
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
		case kindInt:
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

// runQuery filters, sorts and pages rows. It scans every row once, so a
// request costs O(n log n) at worst and O(n) for the default id order.
func runQuery[T any](st *store, r *resource[T], rows []*T, q *listQuery, loaded relSet) (*page[T], error) {
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
	if q.sortField != "" && q.sortField != r.idField {
		if !r.sortableField(q.sortField) {
			return nil, badRequest("Invalid sort field %q for %s. Allowed sort fields: %s.", q.sortField, r.name, strings.Join(r.sortable, ", "))
		}
		sortF, _ = r.field(q.sortField)
		byID = false
	} else if q.sortField != "" && !r.sortableField(q.sortField) {
		return nil, badRequest("Invalid sort field %q for %s. Allowed sort fields: %s.", q.sortField, r.name, strings.Join(r.sortable, ", "))
	}

	matched := make([]*T, 0, min(len(rows), 256))
	for _, t := range rows {
		if r.archived != nil {
			a := r.archived(t)
			if q.archived == "false" && a || q.archived == "only" && !a {
				continue
			}
		}
		ok := true
		for _, f := range filters {
			if !f(st, t) {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, t)
		}
	}
	if q.count {
		return &page[T]{count: len(matched)}, nil
	}

	var k kind
	if sortF != nil {
		k = sortF.kind
	}
	dir := 1
	if q.desc {
		dir = -1
	}
	keys := make([]sortKey, len(matched))
	for i, t := range matched {
		keys[i] = keyOf(r, sortF, t)
	}
	// Rows arrive in id order; only other orders need sorting.
	if !byID || q.desc {
		idx := make([]int, len(matched))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return dir*compareKeys(k, byID, keys[idx[a]], keys[idx[b]]) < 0 })
		sortedRows := make([]*T, len(matched))
		sortedKeys := make([]sortKey, len(matched))
		for i, j := range idx {
			sortedRows[i], sortedKeys[i] = matched[j], keys[j]
		}
		matched, keys = sortedRows, sortedKeys
	}

	start, end := 0, min(q.limit, len(matched))
	switch {
	case q.after != nil:
		c, err := cursorKey(k, byID, q.after)
		if err != nil {
			return nil, err
		}
		start = sort.Search(len(keys), func(i int) bool { return dir*compareKeys(k, byID, keys[i], c) > 0 })
		end = min(start+q.limit, len(matched))
	case q.before != nil:
		c, err := cursorKey(k, byID, q.before)
		if err != nil {
			return nil, err
		}
		end = sort.Search(len(keys), func(i int) bool { return dir*compareKeys(k, byID, keys[i], c) >= 0 })
		start = max(0, end-q.limit)
	}
	p := &page[T]{rows: matched[start:end]}
	if start < end {
		cursor := func(i int) []any {
			if byID {
				return []any{keys[i].id}
			}
			v, _ := sortF.get(matched[i])
			if sortF.kind == kindInt {
				n, _ := strconv.ParseInt(v, 10, 64)
				return []any{n, keys[i].id}
			}
			return []any{v, keys[i].id}
		}
		if end < len(matched) {
			p.nextKey = cursor(end - 1)
		}
		if start > 0 {
			p.prevKey = cursor(start)
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
