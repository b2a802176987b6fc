package soql

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// predicate reports whether a record matches a WHERE condition.
type predicate func(Record) bool

// compiler turns a parsed WHERE tree into predicates bound to one schema,
// store and clock.
type compiler struct {
	r     *resolver
	store Store
	now   time.Time
	loc   *time.Location
}

func (c *compiler) compile(e expr) (predicate, error) {
	switch e := e.(type) {
	case *andExpr:
		ps, err := c.compileAll(e.terms)
		if err != nil {
			return nil, err
		}
		if len(ps) == 2 {
			a, b := ps[0], ps[1]
			return func(r Record) bool { return a(r) && b(r) }, nil
		}
		return func(r Record) bool {
			for _, p := range ps {
				if !p(r) {
					return false
				}
			}
			return true
		}, nil
	case *orExpr:
		ps, err := c.compileAll(e.terms)
		if err != nil {
			return nil, err
		}
		return func(r Record) bool {
			for _, p := range ps {
				if p(r) {
					return true
				}
			}
			return false
		}, nil
	case *notExpr:
		p, err := c.compile(e.x)
		if err != nil {
			return nil, err
		}
		return func(r Record) bool { return !p(r) }, nil
	case *cmpExpr:
		return c.compileCmp(e)
	}
	panic("soql: unknown expression node") // unreachable: the parser builds only the types above
}

func (c *compiler) compileAll(es []expr) ([]predicate, error) {
	ps := make([]predicate, len(es))
	for i, e := range es {
		p, err := c.compile(e)
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	return ps, nil
}

// typeNames are the type words Salesforce uses in filter-value errors.
var typeNames = map[category]string{
	catString:   "string",
	catID:       "id",
	catBool:     "boolean",
	catNumber:   "double",
	catDate:     "date",
	catDateTime: "dateTime",
}

func (c *compiler) compileCmp(e *cmpExpr) (predicate, error) {
	ref, err := c.r.resolve(e.field)
	if err != nil {
		return nil, err
	}
	q := c.r.q.text
	badOp := func() error {
		return positioned(CodeInvalidFilterOp, q, e.opPos, "invalid operator on %s field", typeNames[ref.cat])
	}
	badValue := func(v value) error {
		quoted := "should not be enclosed in quotes"
		if ref.cat == catString || ref.cat == catID {
			quoted = "should be enclosed in quotes"
		}
		tn := typeNames[ref.cat]
		if ref.cat == catNumber && strings.EqualFold(ref.typ, "int") {
			tn = "int"
		}
		return positioned(CodeInvalidField, q, v.pos,
			"value of filter criterion for field '%s' must be of type %s and %s", ref.name, tn, quoted)
	}
	switch {
	case e.op == "LIKE" && ref.cat != catString:
		return nil, badOp()
	case ref.cat == catBool && e.op != "=" && e.op != "!=" && e.op != "IN" && e.op != "NOTIN":
		return nil, badOp()
	}
	get := ref.getter(c.store)

	if e.op == "LIKE" {
		v := e.values[0]
		switch v.kind {
		case valNull:
			return func(Record) bool { return false }, nil
		case valString:
		default:
			return nil, badValue(v)
		}
		m := compileLike(v.raw)
		return func(r Record) bool {
			s, ok := asString(get(r))
			return ok && m.match(s)
		}, nil
	}

	// Null literals are handled here once, for every type.
	if len(e.values) == 1 && e.values[0].kind == valNull && (e.op != "IN" && e.op != "NOTIN") {
		isNull := nullTest(ref.cat, get)
		switch e.op {
		case "=":
			return isNull, nil
		case "!=":
			return func(r Record) bool { return !isNull(r) }, nil
		default:
			return func(Record) bool { return false }, nil
		}
	}

	switch ref.cat {
	case catString:
		lits, nulls, err := literals(e.values, func(v value) (string, bool) { return v.str, v.kind == valString }, badValue)
		if err != nil {
			return nil, err
		}
		return build(e.op, get, asString, lits, nulls, compareFold), nil
	case catID:
		lits, nulls, err := literals(e.values, func(v value) (string, bool) {
			return normalizeID(v.str), v.kind == valString && validID(v.str)
		}, func(v value) error {
			if v.kind == valString {
				return positioned(CodeInvalidFilterOp, q, v.pos, "invalid ID field: %s", v.str)
			}
			return badValue(v)
		})
		if err != nil {
			return nil, err
		}
		return build(e.op, get, asID, lits, nulls, strings.Compare), nil
	case catBool:
		lits, nulls, err := literals(e.values, func(v value) (bool, bool) { return v.b, v.kind == valBool }, badValue)
		if err != nil {
			return nil, err
		}
		return build(e.op, get, asBool, lits, nulls, compareBool), nil
	case catNumber:
		lits, nulls, err := literals(e.values, func(v value) (float64, bool) { return v.num, v.kind == valNumber }, badValue)
		if err != nil {
			return nil, err
		}
		return build(e.op, get, asNumber, lits, nulls, compareFloat), nil
	case catDate, catDateTime:
		datetime := ref.cat == catDateTime
		lits, nulls, err := literals(e.values, func(v value) (span, bool) {
			switch {
			case v.kind == valDateLiteral:
				lo, hi := literalRange(v, c.now, c.loc, datetime)
				return span{lo, hi}, true
			case v.kind == valDate && !datetime:
				return span{v.day, v.day + 1}, true
			case v.kind == valDateTime && datetime:
				ms := v.t.UnixMilli()
				return span{ms, ms + 1}, true
			}
			return span{}, false
		}, badValue)
		if err != nil {
			return nil, err
		}
		conv := asDay
		if datetime {
			conv = asMilli
		}
		return build(e.op, get, conv, lits, nulls, compareSpan), nil
	}
	panic("soql: unknown category") // unreachable: categoryOf covers every value
}

// nullTest reports whether the field reads as null. Salesforce stores
// empty text as null, and a checkbox is never null.
func nullTest(cat category, get func(Record) any) predicate {
	if cat == catBool {
		return func(Record) bool { return false }
	}
	return func(r Record) bool {
		switch v := get(r).(type) {
		case nil:
			return true
		case string:
			return v == ""
		}
		return false
	}
}

// literals converts the comparison's values to typed literals, noting
// which entries were NULL.
func literals[L any](vs []value, conv func(value) (L, bool), bad func(value) error) ([]L, []bool, error) {
	lits := make([]L, len(vs))
	nulls := make([]bool, len(vs))
	for i, v := range vs {
		if v.kind == valNull {
			nulls[i] = true
			continue
		}
		l, ok := conv(v)
		if !ok {
			return nil, nil, bad(v)
		}
		lits[i] = l
	}
	return lits, nulls, nil
}

// build makes the predicate for one comparison. conv reads the record
// value (ok=false for null); cmp orders a value against a literal.
// SOQL, unlike SQL, treats null as a value: "!=" and "NOT IN" match rows
// where the field is null, and the ordering operators never do.
func build[V, L any](op string, get func(Record) any, conv func(any) (V, bool), lits []L, nulls []bool, cmp func(V, L) int) predicate {
	in := func(r Record) bool {
		v, ok := conv(get(r))
		for i := range lits {
			if nulls[i] {
				if !ok {
					return true
				}
				continue
			}
			if ok && cmp(v, lits[i]) == 0 {
				return true
			}
		}
		return false
	}
	if op == "IN" {
		return in
	}
	if op == "NOTIN" {
		return func(r Record) bool { return !in(r) }
	}
	lit := lits[0]
	var test func(int) bool
	switch op {
	case "=":
		test = func(c int) bool { return c == 0 }
	case "!=":
		return func(r Record) bool {
			v, ok := conv(get(r))
			return !ok || cmp(v, lit) != 0
		}
	case "<":
		test = func(c int) bool { return c < 0 }
	case "<=":
		test = func(c int) bool { return c <= 0 }
	case ">":
		test = func(c int) bool { return c > 0 }
	default: // ">="
		test = func(c int) bool { return c >= 0 }
	}
	return func(r Record) bool {
		v, ok := conv(get(r))
		return ok && test(cmp(v, lit))
	}
}

// span is a half-open range [lo, hi): a date literal, a single date (one
// day) or a datetime (one millisecond). Comparing a value against it gives
// SOQL's semantics for ranges: "=" means inside, "<" before, ">" after.
type span struct{ lo, hi int64 }

func compareSpan(v int64, s span) int {
	switch {
	case v < s.lo:
		return -1
	case v >= s.hi:
		return 1
	}
	return 0
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// compareFold orders strings case-insensitively without allocating.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		var ra, rb rune
		if a[0] < utf8.RuneSelf {
			ra, a = rune(a[0]), a[1:]
		} else {
			r, n := utf8.DecodeRuneInString(a)
			ra, a = r, a[n:]
		}
		if b[0] < utf8.RuneSelf {
			rb, b = rune(b[0]), b[1:]
		} else {
			r, n := utf8.DecodeRuneInString(b)
			rb, b = r, b[n:]
		}
		if ra == rb {
			continue
		}
		la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// Value conversions from record values. ok=false means null.

func asString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case nil:
		return "", false
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case time.Time:
		return v.UTC().Format(dateTimeLayout), true
	}
	return formatNumber(v, "double"), true
}

func asID(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", false
	}
	return normalizeID(s), true
}

func asBool(v any) (bool, bool) {
	b, _ := v.(bool)
	return b, true // a checkbox is never null; a missing value reads false
}

func asNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	case float32:
		return float64(v), true
	}
	return 0, false
}

func asDay(v any) (int64, bool) {
	switch v := v.(type) {
	case time.Time:
		return dayNumber(v.Date()), true
	case string:
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return dayNumber(t.Date()), true
		}
	}
	return 0, false
}

func asMilli(v any) (int64, bool) {
	switch v := v.(type) {
	case time.Time:
		return v.UnixMilli(), true
	case string:
		if t, ok := parseRecordDateTime(v); ok {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// parseRecordDateTime reads a datetime a store may hold as text, either in
// Salesforce's output form or RFC 3339.
func parseRecordDateTime(s string) (time.Time, bool) {
	if t, err := time.Parse(dateTimeLayout, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// normalizeID reduces an 18-character id to its case-sensitive
// 15-character core so both forms compare equal.
func normalizeID(s string) string {
	if len(s) == 18 {
		return s[:15]
	}
	return s
}

func validID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && !(s[i]|0x20 >= 'a' && s[i]|0x20 <= 'z') {
			return false
		}
	}
	return true
}

// likeMatcher matches SOQL LIKE patterns: % is any run of characters, _ is
// exactly one, \% and \_ are literal, and matching ignores case.
type likeMatcher struct {
	elems []likeElem
}

type likeElem struct {
	kind byte // 'c' literal rune, '_' any one, '%' any run
	r    rune // lower-cased literal
}

func compileLike(raw string) likeMatcher {
	var m likeMatcher
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRuneInString(raw[i:])
		i += n
		switch r {
		case '%':
			if len(m.elems) > 0 && m.elems[len(m.elems)-1].kind == '%' {
				continue
			}
			m.elems = append(m.elems, likeElem{kind: '%'})
		case '_':
			m.elems = append(m.elems, likeElem{kind: '_'})
		case '\\':
			if i >= len(raw) {
				m.elems = append(m.elems, likeElem{kind: 'c', r: '\\'})
				continue
			}
			e, n := utf8.DecodeRuneInString(raw[i:])
			i += n
			m.elems = append(m.elems, likeElem{kind: 'c', r: unicode.ToLower(unescapeRune(e))})
		default:
			m.elems = append(m.elems, likeElem{kind: 'c', r: unicode.ToLower(r)})
		}
	}
	return m
}

func unescapeRune(r rune) rune {
	switch r {
	case 'n', 'N':
		return '\n'
	case 'r', 'R':
		return '\r'
	case 't', 'T':
		return '\t'
	case 'b', 'B':
		return '\b'
	case 'f', 'F':
		return '\f'
	}
	return r
}

// match runs the classic wildcard algorithm with single-star backtracking:
// linear for patterns with one %, and never allocates.
func (m likeMatcher) match(s string) bool {
	p := m.elems
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, n := utf8.DecodeRuneInString(s[si:])
		if pi < len(p) {
			switch e := p[pi]; e.kind {
			case '%':
				starP, starS = pi, si
				pi++
				continue
			case '_':
				pi++
				si += n
				continue
			default:
				if e.r == r || e.r == unicode.ToLower(r) {
					pi++
					si += n
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n = utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi].kind == '%' {
		pi++
	}
	return pi == len(p)
}
