package soql

import (
	"strconv"
	"strings"
	"time"
)

// Query is a parsed SOQL statement. It holds no schema information, so one
// Query may be executed many times (for example once per result page).
type Query struct {
	text    string
	object  string
	objPos  int
	alias   string
	count   bool
	fields  []path
	where   expr
	orderBy []orderItem
	limit   int // -1 when absent
	offset  int
}

// Object returns the FROM object exactly as written in the query.
func (q *Query) Object() string { return q.object }

// IsCount reports whether the query is SELECT COUNT() FROM ....
func (q *Query) IsCount() bool { return q.count }

// Limit returns the LIMIT value and whether the query has one.
func (q *Query) Limit() (int, bool) { return q.limit, q.limit >= 0 }

// Offset returns the OFFSET value, 0 when absent.
func (q *Query) Offset() int { return q.offset }

// String returns the query text as given to Parse.
func (q *Query) String() string { return q.text }

// path is a field reference as written: Name, Account.Owner.Name, c.Email.
type path struct {
	text string
	segs []string
	pos  int
}

type orderItem struct {
	field     path
	desc      bool
	nullsLast bool
}

// expr is a WHERE condition node: *andExpr, *orExpr, *notExpr or *cmpExpr.
type expr interface{ isExpr() }

type andExpr struct{ terms []expr }
type orExpr struct{ terms []expr }
type notExpr struct{ x expr }

// cmpExpr is "field op value", "field [NOT] IN (values)" or "field LIKE value".
type cmpExpr struct {
	field  path
	op     string // = != < <= > >= IN NOTIN LIKE
	opPos  int
	values []value
}

func (*andExpr) isExpr() {}
func (*orExpr) isExpr()  {}
func (*notExpr) isExpr() {}
func (*cmpExpr) isExpr() {}

type valueKind int

const (
	valString valueKind = iota
	valNumber
	valBool
	valNull
	valDate        // YYYY-MM-DD
	valDateTime    // YYYY-MM-DDThh:mm:ssZ
	valDateLiteral // TODAY, LAST_N_DAYS:n, ...
)

// value is a literal on the right of a comparison.
type value struct {
	kind valueKind
	pos  int
	text string    // as written, for messages
	str  string    // decoded string
	raw  string    // undecoded string body, for LIKE
	num  float64   // number
	b    bool      // boolean
	day  int64     // date: days since 1970-01-01
	t    time.Time // datetime
	lit  string    // date literal name, upper case
	n    int       // date literal argument
}

// Parse parses a SOQL query. Syntax errors are *Error with code
// MALFORMED_QUERY (or NUMBER_OUTSIDE_VALID_RANGE for an OFFSET over 2,000);
// names are not checked until Execute, which has the schema.
func Parse(q string) (*Query, error) {
	p := &parser{q: q, toks: lex(q)}
	query, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	return query, nil
}

type parser struct {
	q    string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// unexpected reports tok the way Salesforce does.
func (p *parser) unexpected(t token) *Error {
	if t.kind == tokEOF {
		return positioned(CodeMalformedQuery, p.q, t.pos, "unexpected token: <EOF>")
	}
	return positioned(CodeMalformedQuery, p.q, t.pos, "unexpected token: '%s'", t.text)
}

// unsupported rejects valid SOQL the sandbox does not implement.
func (p *parser) unsupported(t token, what string) *Error {
	return positioned(CodeMalformedQuery, p.q, t.pos, "%s is not supported by the sandbox", what)
}

func (p *parser) expectKeyword(kw string) error {
	t := p.next()
	if !t.is(kw) {
		return p.unexpected(t)
	}
	return nil
}

// clauseKeywords end a FROM clause; an identifier that is none of these
// after the object name is its alias.
var clauseKeywords = []string{"WHERE", "WITH", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FOR", "UPDATE", "USING", "ALL"}

func isClauseKeyword(t token) bool {
	for _, kw := range clauseKeywords {
		if t.is(kw) {
			return true
		}
	}
	return false
}

func (p *parser) parseQuery() (*Query, error) {
	q := &Query{text: p.q, limit: -1}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	if err := p.parseSelectList(q); err != nil {
		return nil, err
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	obj := p.next()
	// Any identifier can name the object: Order is a standard object even
	// though ORDER is also a keyword.
	if obj.kind != tokIdent || strings.Contains(obj.text, ".") {
		return nil, p.unexpected(obj)
	}
	q.object, q.objPos = obj.text, obj.pos
	if t := p.peek(); t.kind == tokIdent && !isClauseKeyword(t) && !strings.Contains(t.text, ".") {
		if t.is("AS") {
			p.next()
			t = p.peek()
			if t.kind != tokIdent || isClauseKeyword(t) {
				return nil, p.unexpected(t)
			}
		}
		q.alias = p.next().text
	}
	if p.peek().is("USING") {
		return nil, p.unsupported(p.peek(), "USING SCOPE")
	}
	if p.peek().is("WHERE") {
		p.next()
		w, err := p.parseCondition()
		if err != nil {
			return nil, err
		}
		q.where = w
	}
	switch t := p.peek(); {
	case t.is("WITH"):
		return nil, p.unsupported(t, "WITH")
	case t.is("GROUP"):
		return nil, p.unsupported(t, "GROUP BY")
	case t.is("HAVING"):
		return nil, p.unsupported(t, "HAVING")
	}
	if p.peek().is("ORDER") {
		p.next()
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		for {
			item, err := p.parseOrderItem()
			if err != nil {
				return nil, err
			}
			q.orderBy = append(q.orderBy, item)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if p.peek().is("LIMIT") {
		p.next()
		n, err := p.parseNonNegativeInt()
		if err != nil {
			return nil, err
		}
		q.limit = n
	}
	if t := p.peek(); t.is("OFFSET") {
		p.next()
		n, err := p.parseNonNegativeInt()
		if err != nil {
			return nil, err
		}
		if n > maxOffset {
			return nil, &Error{Code: CodeNumberOutsideRange, Message: "Maximum SOQL offset allowed is 2000"}
		}
		q.offset = n
	}
	switch t := p.peek(); {
	case t.kind == tokEOF:
		return q, nil
	case t.is("FOR"):
		return nil, p.unsupported(t, "FOR VIEW/REFERENCE/UPDATE")
	case t.is("ALL"):
		return nil, p.unsupported(t, "ALL ROWS")
	default:
		return nil, p.unexpected(t)
	}
}

// maxOffset is the largest OFFSET the real API accepts.
const maxOffset = 2000

func (p *parser) parseNonNegativeInt() (int, error) {
	t := p.next()
	if t.kind != tokNumber {
		return 0, p.unexpected(t)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 0 {
		return 0, p.unexpected(t)
	}
	return n, nil
}

func (p *parser) parseSelectList(q *Query) error {
	for {
		t := p.peek()
		switch {
		case t.kind == tokLParen:
			return p.unsupported(t, "a child relationship subquery")
		case t.is("TYPEOF"):
			return p.unsupported(t, "TYPEOF")
		case t.kind == tokIdent && p.toks[p.i+1].kind == tokLParen:
			if !t.is("COUNT") {
				if t.is("FIELDS") {
					return p.unsupported(t, "FIELDS()")
				}
				return p.unsupported(t, "the function "+strings.ToUpper(t.text)+"()")
			}
			p.next()
			p.next()
			if r := p.peek(); r.kind != tokRParen {
				return p.unsupported(t, "COUNT(field)")
			}
			p.next()
			if len(q.fields) > 0 || q.count {
				return positioned(CodeMalformedQuery, p.q, t.pos, "COUNT() must be the only element in the SELECT list")
			}
			q.count = true
		case t.kind == tokIdent && !t.is("FROM"):
			if q.count {
				return positioned(CodeMalformedQuery, p.q, t.pos, "COUNT() must be the only element in the SELECT list")
			}
			p.next()
			q.fields = append(q.fields, newPath(t))
		default:
			return p.unexpected(t)
		}
		if p.peek().kind != tokComma {
			return nil
		}
		p.next()
	}
}

func newPath(t token) path {
	return path{text: t.text, segs: strings.Split(t.text, "."), pos: t.pos}
}

func (p *parser) parseOrderItem() (orderItem, error) {
	t := p.next()
	if t.kind != tokIdent || isClauseKeyword(t) {
		return orderItem{}, p.unexpected(t)
	}
	if p.peek().kind == tokLParen {
		return orderItem{}, p.unsupported(t, "ORDER BY a function")
	}
	item := orderItem{field: newPath(t)}
	switch {
	case p.peek().is("ASC"):
		p.next()
	case p.peek().is("DESC"):
		p.next()
		item.desc = true
	}
	// Salesforce sorts nulls first in ascending order and last in
	// descending order unless told otherwise.
	item.nullsLast = item.desc
	if p.peek().is("NULLS") {
		p.next()
		switch t := p.next(); {
		case t.is("FIRST"):
			item.nullsLast = false
		case t.is("LAST"):
			item.nullsLast = true
		default:
			return orderItem{}, p.unexpected(t)
		}
	}
	return item, nil
}

// parseCondition parses a WHERE condition. SOQL does not give AND and OR a
// precedence: mixing them at one level without parentheses is a syntax
// error, and so it is here.
func (p *parser) parseCondition() (expr, error) {
	first, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	var joiner string
	switch {
	case t.is("AND"):
		joiner = "AND"
	case t.is("OR"):
		joiner = "OR"
	default:
		return first, nil
	}
	terms := []expr{first}
	for {
		t := p.peek()
		if t.is("AND") || t.is("OR") {
			if !t.is(joiner) {
				return nil, p.unexpected(t)
			}
			p.next()
			x, err := p.parseTerm()
			if err != nil {
				return nil, err
			}
			terms = append(terms, x)
			continue
		}
		break
	}
	if joiner == "AND" {
		return &andExpr{terms: terms}, nil
	}
	return &orExpr{terms: terms}, nil
}

func (p *parser) parseTerm() (expr, error) {
	t := p.peek()
	switch {
	case t.is("NOT"):
		p.next()
		x, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return &notExpr{x: x}, nil
	case t.kind == tokLParen:
		p.next()
		if p.peek().is("SELECT") {
			return nil, p.unsupported(p.peek(), "a subquery")
		}
		x, err := p.parseCondition()
		if err != nil {
			return nil, err
		}
		if r := p.next(); r.kind != tokRParen {
			return nil, p.unexpected(r)
		}
		return x, nil
	default:
		return p.parseComparison()
	}
}

func (p *parser) parseComparison() (expr, error) {
	f := p.next()
	if f.kind != tokIdent || isReserved(f) {
		return nil, p.unexpected(f)
	}
	if p.peek().kind == tokLParen {
		return nil, p.unsupported(f, "the function "+strings.ToUpper(f.text)+"()")
	}
	c := &cmpExpr{field: newPath(f)}
	op := p.next()
	c.opPos = op.pos
	switch {
	case op.kind == tokOp:
		c.op = op.text
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		c.values = []value{v}
	case op.is("LIKE"):
		c.op = "LIKE"
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		c.values = []value{v}
	case op.is("IN"):
		c.op = "IN"
	case op.is("NOT"):
		if in := p.next(); !in.is("IN") {
			return nil, p.unexpected(in)
		}
		c.op = "NOTIN"
	case op.is("INCLUDES") || op.is("EXCLUDES"):
		return nil, p.unsupported(op, strings.ToUpper(op.text))
	default:
		return nil, p.unexpected(op)
	}
	if c.op == "IN" || c.op == "NOTIN" {
		vs, err := p.parseValueList()
		if err != nil {
			return nil, err
		}
		c.values = vs
	}
	return c, nil
}

// isReserved reports keywords that cannot start a comparison.
func isReserved(t token) bool {
	for _, kw := range []string{"AND", "OR", "NOT", "IN", "LIKE", "NULL", "TRUE", "FALSE", "SELECT", "FROM", "WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "HAVING", "WITH"} {
		if t.is(kw) {
			return true
		}
	}
	return false
}

func (p *parser) parseValueList() ([]value, error) {
	if t := p.next(); t.kind != tokLParen {
		return nil, p.unexpected(t)
	}
	if t := p.peek(); t.is("SELECT") {
		return nil, p.unsupported(t, "a semi-join subquery")
	}
	var vs []value
	for {
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
		t := p.next()
		if t.kind == tokRParen {
			return vs, nil
		}
		if t.kind != tokComma {
			return nil, p.unexpected(t)
		}
	}
}

func (p *parser) parseValue() (value, error) {
	t := p.next()
	v := value{pos: t.pos, text: t.text}
	switch t.kind {
	case tokString:
		s, err := decodeString(t.text)
		if err != nil {
			return value{}, positioned(CodeMalformedQuery, p.q, t.pos, "%s", err.Error())
		}
		v.kind, v.str, v.raw = valString, s, t.text
		v.text = "'" + t.text + "'"
	case tokNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return value{}, p.unexpected(t)
		}
		v.kind, v.num = valNumber, f
	case tokDate:
		d, err := time.Parse("2006-01-02", t.text)
		if err != nil {
			return value{}, p.unexpected(t)
		}
		v.kind, v.day = valDate, dayNumber(d.Year(), d.Month(), d.Day())
	case tokDateTime:
		dt, ok := parseDateTime(t.text)
		if !ok {
			return value{}, p.unexpected(t)
		}
		v.kind, v.t = valDateTime, dt
	case tokIdent:
		switch {
		case t.is("NULL"):
			v.kind = valNull
		case t.is("TRUE"):
			v.kind, v.b = valBool, true
		case t.is("FALSE"):
			v.kind, v.b = valBool, false
		default:
			name := strings.ToUpper(t.text)
			spec, ok := dateLiterals[name]
			if !ok {
				return value{}, p.unexpected(t)
			}
			v.kind, v.lit = valDateLiteral, name
			if spec.takesN {
				if c := p.next(); c.kind != tokColon {
					return value{}, p.unexpected(c)
				}
				nt := p.next()
				n, err := strconv.Atoi(nt.text)
				if nt.kind != tokNumber || err != nil || n < 0 || n > maxDateLiteralN {
					return value{}, p.unexpected(nt)
				}
				v.n = n
				v.text = t.text + ":" + nt.text
			}
		}
	case tokLParen:
		if p.peek().is("SELECT") {
			return value{}, p.unsupported(p.peek(), "a semi-join subquery")
		}
		return value{}, p.unexpected(t)
	default:
		return value{}, p.unexpected(t)
	}
	return v, nil
}

// maxDateLiteralN bounds n in LAST_N_DAYS:n and friends; it keeps date
// arithmetic far from overflow.
const maxDateLiteralN = 100000

// parseDateTime accepts the SOQL datetime forms: YYYY-MM-DDThh:mm:ss with
// optional fractional seconds, then Z or an offset ±hh:mm (±hhmm tolerated).
func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range []string{
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05.999999999Z0700",
	} {
		if t, err := time.Parse(layout, strings.ToUpper(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// decodeString resolves the escapes SOQL allows in string literals. \% and
// \_ are kept as the bare characters here; LIKE reads the raw text instead.
func decodeString(raw string) (string, error) {
	if !strings.ContainsRune(raw, '\\') {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(raw) {
			return "", escapeError{raw: raw}
		}
		switch raw[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		case 'r', 'R':
			b.WriteByte('\r')
		case 't', 'T':
			b.WriteByte('\t')
		case 'b', 'B':
			b.WriteByte('\b')
		case 'f', 'F':
			b.WriteByte('\f')
		case '"', '\'', '\\', '%', '_':
			b.WriteByte(raw[i])
		default:
			return "", illegalEscape(raw, raw[i:])
		}
	}
	return b.String(), nil
}

type escapeError struct{ raw, seq string }

func (e escapeError) Error() string {
	return "Invalid string literal '" + e.raw + "'. Illegal character sequence '\\" + e.seq + "' in string literal."
}

func illegalEscape(raw, rest string) error {
	seq := rest
	if len(seq) > 1 {
		seq = seq[:1]
	}
	return escapeError{raw: raw, seq: seq}
}

// dayNumber returns the days since 1970-01-01 of a calendar date.
func dayNumber(y int, m time.Month, d int) int64 {
	return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
