package soql

import (
	"slices"
	"strings"
	"time"
)

// Execute checks q's names against schema (INVALID_TYPE for the object,
// INVALID_FIELD for fields and relationships, INVALID_QUERY_FILTER_OPERATOR
// and INVALID_FIELD for operators and values that do not fit the field)
// and runs it over store. Errors are *Error.
func Execute(q *Query, schema Schema, store Store, opts ExecOptions) (*Result, error) {
	r, err := newResolver(q, schema)
	if err != nil {
		return nil, err
	}

	var lay *layout
	if !q.count {
		if lay, err = newLayout(r, q.fields, opts.APIVersion); err != nil {
			return nil, err
		}
	}

	var match predicate
	if q.where != nil {
		loc := opts.Location
		if loc == nil {
			loc = time.UTC
		}
		c := &compiler{r: r, store: store, now: opts.Now, loc: loc}
		if match, err = c.compile(q.where); err != nil {
			return nil, err
		}
	}

	orders := make([]orderKey, len(q.orderBy))
	for i, item := range q.orderBy {
		ref, err := r.resolve(item.field)
		if err != nil {
			return nil, err
		}
		orders[i] = orderKey{get: ref.getter(store), cat: ref.cat, desc: item.desc, nullsLast: item.nullsLast}
	}

	all := store.Records(r.object)
	matched := make([]Record, 0, len(all))
	for _, rec := range all {
		if !opts.IncludeDeleted {
			if del, _ := rec["IsDeleted"].(bool); del {
				continue
			}
		}
		if match != nil && !match(rec) {
			continue
		}
		matched = append(matched, rec)
	}

	if q.count {
		return &Result{TotalSize: window(len(matched), q.offset, q.limit), CountOnly: true}, nil
	}

	if len(orders) > 0 {
		matched = sortRecords(matched, orders)
	}
	n := window(len(matched), q.offset, q.limit)
	if n == 0 {
		return &Result{}, nil
	}
	matched = matched[q.offset : q.offset+n]
	rows := make([]Row, n)
	slots := make([]any, n*lay.nslots) // one allocation for every row's values
	f := filler{store: store}
	for i, rec := range matched {
		vals := slots[i*lay.nslots : (i+1)*lay.nslots : (i+1)*lay.nslots]
		f.fill(lay.root, rec, vals)
		rows[i] = Row{l: lay, vals: vals}
	}
	return &Result{TotalSize: n, Rows: rows}, nil
}

// newResolver checks q's FROM object against schema and returns a
// resolver for its field paths.
func newResolver(q *Query, schema Schema) (*resolver, error) {
	if q == nil {
		return nil, &Error{Code: CodeMalformedQuery, Message: "no query"}
	}
	obj, ok := schema.Object(q.object)
	if !ok {
		return nil, positioned(CodeInvalidType, q.text, q.objPos,
			"sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", q.object)
	}
	return &resolver{q: q, schema: schema, object: obj}, nil
}

// window is how many of n rows remain after offset and limit (-1 = none).
func window(n, offset, limit int) int {
	n -= offset
	if n < 0 {
		n = 0
	}
	if limit >= 0 && n > limit {
		n = limit
	}
	return n
}

// orderKey is one resolved ORDER BY item.
type orderKey struct {
	get       func(Record) any
	cat       category
	desc      bool
	nullsLast bool
}

// sortKey is an ORDER BY value extracted once per record, so the sort
// compares plain values instead of reading maps and following parents.
type sortKey struct {
	null bool
	i    int64
	f    float64
	s    string
}

func sortRecords(recs []Record, orders []orderKey) []Record {
	k := len(orders)
	keys := make([]sortKey, len(recs)*k)
	for i, rec := range recs {
		for j, o := range orders {
			keys[i*k+j] = extractKey(o, o.get(rec))
		}
	}
	idx := make([]int32, len(recs))
	for i := range idx {
		idx[i] = int32(i)
	}
	// Ties fall back to the original position: a stable order from the
	// faster unstable sort.
	slices.SortFunc(idx, func(a, b int32) int {
		ka, kb := keys[int(a)*k:int(a)*k+k], keys[int(b)*k:int(b)*k+k]
		for j, o := range orders {
			x, y := &ka[j], &kb[j]
			if x.null || y.null {
				if x.null == y.null {
					continue
				}
				if x.null != o.nullsLast {
					return -1
				}
				return 1
			}
			c := compareKey(o.cat, x, y)
			if c == 0 {
				continue
			}
			if o.desc {
				return -c
			}
			return c
		}
		return int(a - b)
	})
	out := make([]Record, len(recs))
	for i, j := range idx {
		out[i] = recs[j]
	}
	return out
}

func extractKey(o orderKey, v any) sortKey {
	switch o.cat {
	case catString:
		s, ok := asString(v)
		// Lower-casing once here keeps the comparisons allocation-free;
		// strings.ToLower returns its argument when nothing changes.
		return sortKey{null: !ok, s: strings.ToLower(s)}
	case catID:
		s, ok := v.(string)
		return sortKey{null: !ok || s == "", s: s}
	case catBool:
		b, _ := v.(bool)
		if b {
			return sortKey{i: 1}
		}
		return sortKey{}
	case catNumber:
		f, ok := asNumber(v)
		return sortKey{null: !ok, f: f}
	case catDate:
		d, ok := asDay(v)
		return sortKey{null: !ok, i: d}
	default:
		ms, ok := asMilli(v)
		return sortKey{null: !ok, i: ms}
	}
}

func compareKey(cat category, x, y *sortKey) int {
	switch cat {
	case catString, catID:
		return strings.Compare(x.s, y.s)
	case catNumber:
		return compareFloat(x.f, y.f)
	default:
		switch {
		case x.i < y.i:
			return -1
		case x.i > y.i:
			return 1
		}
		return 0
	}
}
