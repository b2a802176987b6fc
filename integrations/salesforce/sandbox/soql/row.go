package soql

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// dateTimeLayout is how Salesforce writes datetimes in JSON.
const dateTimeLayout = "2006-01-02T15:04:05.000-0700"

// defaultAPIVersion is used in attributes.url when ExecOptions has none.
const defaultAPIVersion = "66.0"

// layout is the shape of every row of one result: the SELECT list as a
// tree, with parent paths through one relationship merged into one node.
// Rows share it and keep only a flat slice of values.
type layout struct {
	root      *node
	nslots    int
	urlPrefix string // /services/data/vNN.N/sobjects/
}

// node is the root object, a parent relationship or a selected field.
type node struct {
	key      string // JSON key: field or relationship name, canonical
	leaf     bool
	typ      string // leaf: describe type, for formatting
	field    string // leaf: field name; relationship: reference field on the child
	object   string // root or relationship: object type for attributes
	slot     int    // leaf: its value; root or relationship: the record's Id (nil = no record)
	children []*node
}

func newLayout(r *resolver, fields []path, apiVersion string) (*layout, error) {
	if apiVersion == "" {
		apiVersion = defaultAPIVersion
	}
	l := &layout{
		root:      &node{object: r.object},
		nslots:    1,
		urlPrefix: "/services/data/v" + apiVersion + "/sobjects/",
	}
	for _, p := range fields {
		ref, err := r.resolve(p)
		if err != nil {
			return nil, err
		}
		cur := l.root
		for _, h := range ref.hops {
			next := cur.child(h.relName, false)
			if next == nil {
				next = &node{key: h.relName, field: h.refField, object: h.target, slot: l.nslots}
				l.nslots++
				cur.children = append(cur.children, next)
			}
			cur = next
		}
		if cur.child(ref.name, true) != nil {
			return nil, positioned(CodeMalformedQuery, r.q.text, p.pos, "duplicate field selected: %s", p.text)
		}
		cur.children = append(cur.children, &node{key: ref.name, leaf: true, typ: ref.typ, field: ref.name, slot: l.nslots})
		l.nslots++
	}
	return l, nil
}

func (n *node) child(key string, leaf bool) *node {
	for _, c := range n.children {
		if c.leaf == leaf && strings.EqualFold(c.key, key) {
			return c
		}
	}
	return nil
}

// filler copies selected values out of records. It remembers the parents
// it has fetched, since many rows usually share a few parents and a
// store lookup may cost more than a map hit.
type filler struct {
	store   Store
	parents map[*node]map[string]Record
}

// fill copies the selected values of rec (and its parents) into vals, so
// rows stay unchanged if the store's records change after the query.
func (f *filler) fill(n *node, rec Record, vals []any) {
	vals[n.slot] = rec["Id"]
	for _, c := range n.children {
		if c.leaf {
			vals[c.slot] = rec[c.field]
			continue
		}
		id, _ := rec[c.field].(string)
		if id == "" {
			continue
		}
		if parent := f.parent(c, id); parent != nil {
			f.fill(c, parent, vals)
		}
	}
}

func (f *filler) parent(n *node, id string) Record {
	if f.parents == nil {
		f.parents = make(map[*node]map[string]Record)
	}
	cache := f.parents[n]
	if cache == nil {
		cache = make(map[string]Record)
		f.parents[n] = cache
	}
	if rec, ok := cache[id]; ok {
		return rec
	}
	rec, ok := f.store.Get(n.object, id)
	if !ok {
		rec = nil
	}
	cache[id] = rec
	return rec
}

// Row is one query record. It marshals to JSON exactly as Salesforce
// writes query records: attributes first, then the selected fields in
// SELECT order, parents nested under their relationship name.
type Row struct {
	l    *layout
	vals []any
}

// ID returns the record's Id, selected or not.
func (r Row) ID() string {
	if r.l == nil {
		return ""
	}
	s, _ := r.vals[r.l.root.slot].(string)
	return s
}

// Get returns the value of a selected field by path (Name, Account.Name),
// matched case-insensitively, as the store held it. It returns nil for a
// null value, a path through a missing parent, or a path not selected.
func (r Row) Get(path string) any {
	if r.l == nil {
		return nil
	}
	n := r.l.root
	for {
		seg, rest, more := strings.Cut(path, ".")
		if !more {
			c := n.child(seg, true)
			if c == nil {
				return nil
			}
			return r.vals[c.slot]
		}
		n = n.child(seg, false)
		if n == nil || r.vals[n.slot] == nil {
			return nil
		}
		path = rest
	}
}

// MarshalJSON implements json.Marshaler.
func (r Row) MarshalJSON() ([]byte, error) {
	if r.l == nil {
		return []byte("null"), nil
	}
	return r.AppendJSON(make([]byte, 0, 64+32*len(r.vals))), nil
}

// AppendJSON appends the row's JSON to b; handy for writing a page of rows
// into one buffer.
func (r Row) AppendJSON(b []byte) []byte {
	return r.appendNode(b, r.l.root)
}

func (r Row) appendNode(b []byte, n *node) []byte {
	id := r.vals[n.slot]
	if id == nil && n != r.l.root {
		return append(b, "null"...)
	}
	idStr, _ := id.(string)
	b = append(b, `{"attributes":{"type":`...)
	b = appendString(b, n.object)
	b = append(b, `,"url":`...)
	b = append(b, '"')
	b = appendEscaped(b, r.l.urlPrefix)
	b = appendEscaped(b, n.object)
	b = append(b, '/')
	b = appendEscaped(b, idStr)
	b = append(b, '"')
	b = append(b, '}')
	for _, c := range n.children {
		b = append(b, ',')
		b = appendString(b, c.key)
		b = append(b, ':')
		if c.leaf {
			b = appendValue(b, r.vals[c.slot], c.typ)
		} else {
			b = r.appendNode(b, c)
		}
	}
	return append(b, '}')
}

// appendValue writes one field value the way Salesforce does for its type.
func appendValue(b []byte, v any, typ string) []byte {
	switch v := v.(type) {
	case nil:
		if strings.EqualFold(typ, "boolean") {
			return append(b, "false"...) // a checkbox is never null
		}
		return append(b, "null"...)
	case string:
		if v == "" {
			return append(b, "null"...) // Salesforce stores empty text as null
		}
		if strings.EqualFold(typ, "datetime") {
			if t, ok := parseRecordDateTime(v); ok {
				return appendTime(b, t.UTC(), dateTimeLayout)
			}
		}
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case time.Time:
		if strings.EqualFold(typ, "date") {
			return appendTime(b, v, "2006-01-02")
		}
		return appendTime(b, v.UTC(), dateTimeLayout)
	case float64, float32, int64, int, int32:
		return append(b, formatNumber(v, typ)...)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, out...)
}

// formatNumber writes integers plainly and every other number as Java's
// Double.toString does, which is what Salesforce's JSON shows: 1500.0,
// 0.25, 1.5E7.
func formatNumber(v any, typ string) string {
	var f float64
	switch v := v.(type) {
	case int64:
		if strings.EqualFold(typ, "int") {
			return strconv.FormatInt(v, 10)
		}
		f = float64(v)
	case int:
		if strings.EqualFold(typ, "int") {
			return strconv.Itoa(v)
		}
		f = float64(v)
	case int32:
		if strings.EqualFold(typ, "int") {
			return strconv.Itoa(int(v))
		}
		f = float64(v)
	case float32:
		f = float64(v)
	case float64:
		f = v
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	if strings.EqualFold(typ, "int") && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return javaDouble(f)
}

func javaDouble(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.5E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if exp == "" {
		exp = "0"
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}

const hexDigits = "0123456789abcdef"

func appendTime(b []byte, t time.Time, layout string) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, layout)
	return append(b, '"')
}

// appendString writes s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone, as Salesforce does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped writes s with JSON string escapes, without quotes.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += n
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	return append(b, s[start:]...)
}
