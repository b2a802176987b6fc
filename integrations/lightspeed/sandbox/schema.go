package sandbox

import (
	"strconv"
	"strings"
	"time"
)

// kind is how the query engine compares a field's values.
type kind uint8

const (
	kindString kind = iota
	kindInt
	kindDec
	kindBool
	kindTime
)

// field is one scalar member of an entity on the wire. get returns false
// when the value is null, and the field is then omitted, as the API does.
// app appends the quoted JSON value straight into a buffer: rendering a
// page calls it thousands of times, so it avoids get's string allocation.
type field[T any] struct {
	name string
	kind kind
	get  func(*T) (string, bool)
	app  func(b []byte, t *T) ([]byte, bool)
	// num reads integer fields as numbers and timestamps as Unix seconds
	// (the wire's resolution), so filters and sorts on them compare numbers
	// without formatting a string per row; false means null.
	num func(*T) (int64, bool)
	// member is the pre-encoded `"name":` prefix.
	member []byte
}

func intField[T any](name string, f func(*T) int) field[T] {
	return field[T]{name: name, kind: kindInt,
		get: func(t *T) (string, bool) { return itoa(f(t)), true },
		app: func(b []byte, t *T) ([]byte, bool) {
			b = append(b, '"')
			b = strconv.AppendInt(b, int64(f(t)), 10)
			return append(b, '"'), true
		},
		num: func(t *T) (int64, bool) { return int64(f(t)), true }}
}

func strField[T any](name string, f func(*T) string) field[T] {
	return field[T]{name: name, kind: kindString,
		get: func(t *T) (string, bool) { return f(t), true },
		app: func(b []byte, t *T) ([]byte, bool) { return appendJSONString(b, f(t)), true }}
}

// optStrField omits the field when the value is empty (a null column).
func optStrField[T any](name string, f func(*T) string) field[T] {
	return field[T]{name: name, kind: kindString,
		get: func(t *T) (string, bool) { v := f(t); return v, v != "" },
		app: func(b []byte, t *T) ([]byte, bool) {
			v := f(t)
			if v == "" {
				return b, false
			}
			return appendJSONString(b, v), true
		}}
}

func boolField[T any](name string, f func(*T) bool) field[T] {
	return field[T]{name: name, kind: kindBool,
		get: func(t *T) (string, bool) { return fmtBool(f(t)), true },
		app: func(b []byte, t *T) ([]byte, bool) {
			if f(t) {
				return append(b, `"true"`...), true
			}
			return append(b, `"false"`...), true
		}}
}

func decField[T any](name string, f func(*T) dec) field[T] {
	return field[T]{name: name, kind: kindDec,
		get: func(t *T) (string, bool) { return f(t).String(), true },
		app: func(b []byte, t *T) ([]byte, bool) {
			b = append(b, '"')
			b = f(t).appendTo(b)
			return append(b, '"'), true
		}}
}

// timeField omits zero times (null columns such as an unset dob).
func timeField[T any](name string, f func(*T) time.Time) field[T] {
	return field[T]{name: name, kind: kindTime,
		get: func(t *T) (string, bool) {
			v := f(t)
			if v.IsZero() {
				return "", false
			}
			return fmtTime(v), true
		},
		app: func(b []byte, t *T) ([]byte, bool) {
			v := f(t)
			if v.IsZero() {
				return b, false
			}
			b = append(b, '"')
			b = v.UTC().AppendFormat(b, wireTime)
			return append(b, '"'), true
		},
		num: func(t *T) (int64, bool) {
			v := f(t)
			return v.Unix(), !v.IsZero()
		}}
}

// relSet is the tree of relations a request loads: a key present means the
// relation is loaded, its value the relations loaded below it. It is built
// once per request so rendering a row allocates nothing for relations.
type relSet map[string]relSet

// has reports whether the relation is loaded.
func (rs relSet) has(name string) bool {
	_, ok := rs[name]
	return ok
}

// add loads a dotted relation path ("SaleLines.Item" loads both levels).
func (rs relSet) add(path string) {
	name, rest, nested := strings.Cut(path, ".")
	child := rs[name]
	if nested && child == nil {
		child = relSet{}
	}
	rs[name] = child
	if nested {
		child.add(rest)
	}
}

// paths lists the loaded relations as dotted names.
func (rs relSet) paths() []string {
	var out []string
	for name, child := range rs {
		out = append(out, name)
		for _, p := range child.paths() {
			out = append(out, name+"."+p)
		}
	}
	return out
}

// relation is one loadable relation of an entity.
type relation[T any] struct {
	name string
	many bool
	// nested lists the relations loadable below this one (without the prefix).
	nested []string
	// nestedMany marks which nested relations are to-many, for the cost model.
	nestedMany map[string]bool
	// notInAll marks relations "all" does not load (CustomFieldValues).
	notInAll bool
	// write writes the relation member (key and value) or nothing when the
	// relation has no row (an unset to-one foreign key).
	write func(st *store, t *T, loaded relSet, w *jw)
	// values returns the values of field on the related rows, for filters
	// such as Contact.email; ok is false for an unknown field.
	values func(st *store, t *T, field string) (vals []string, k kind, ok bool)
}

// resource describes one entity type: its wire name, fields in wire order,
// relations, sort whitelist and where its rows live.
type resource[T any] struct {
	name     string
	idField  string
	id       func(*T) int
	archived func(*T) bool // nil: the entity has no archived flag
	fields   []field[T]
	byName   map[string]int
	// aliases maps accepted spellings to wire field names.
	aliases  map[string]string
	sortable []string
	rels     []*relation[T]
	// extraRels are documented relations the emulator accepts but does not
	// model; loading them writes nothing.
	extraRels []string
	// always writes members present whatever load_relations says (Item's Prices).
	always func(st *store, t *T, w *jw)
	rows   func(st *store, parent int) []*T
	find   func(st *store, parent, id int) *T
	// writeRels gives the relations a write response loads when the
	// caller sends no load_relations; it sees the write's body (nil for a
	// DELETE). nil: none.
	writeRels func(b body) []string
	// writeTail adds members after the fields of a write response.
	writeTail func(st *store, t *T) func(*jw)
}

func (r *resource[T]) init() *resource[T] {
	r.byName = make(map[string]int, len(r.fields))
	for i, f := range r.fields {
		r.byName[f.name] = i
		r.fields[i].member = append(appendJSONString(nil, f.name), ':')
	}
	return r
}

func (r *resource[T]) field(name string) (*field[T], bool) {
	if a, ok := r.aliases[name]; ok {
		name = a
	}
	i, ok := r.byName[name]
	if !ok {
		return nil, false
	}
	return &r.fields[i], true
}

func (r *resource[T]) fieldNames() []string {
	names := make([]string, len(r.fields))
	for i, f := range r.fields {
		names[i] = f.name
	}
	return names
}

func (r *resource[T]) relation(name string) *relation[T] {
	for _, rel := range r.rels {
		if rel.name == name {
			return rel
		}
	}
	return nil
}

// relationNames lists every loadable relation name, nested ones dotted.
func (r *resource[T]) relationNames() []string {
	var names []string
	for _, rel := range r.rels {
		names = append(names, rel.name)
		for _, n := range rel.nested {
			names = append(names, rel.name+"."+n)
		}
	}
	return append(names, r.extraRels...)
}

// write writes one entity as a JSON object with the loaded relations.
func (r *resource[T]) write(st *store, t *T, loaded relSet, w *jw) {
	r.writeWith(st, t, loaded, w, nil)
}

// writeWith is write with extra trailing members (Sale's taxTotal on write
// responses).
func (r *resource[T]) writeWith(st *store, t *T, loaded relSet, w *jw, tail func(*jw)) {
	w.beginObj()
	for i := range r.fields {
		f := &r.fields[i]
		mark := len(w.b)
		if w.comma {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, f.member...)
		var ok bool
		if w.b, ok = f.app(w.b, t); ok {
			w.comma = true
		} else {
			w.b = w.b[:mark] // null: omit the member
		}
	}
	if r.always != nil {
		r.always(st, t, w)
	}
	if len(loaded) > 0 {
		for _, rel := range r.rels {
			if sub, ok := loaded[rel.name]; ok {
				rel.write(st, t, sub, w)
			}
		}
	}
	if tail != nil {
		tail(w)
	}
	w.endObj()
}

// writeMany writes a to-many relation: "" when empty, else the plural
// container with the singular key holding one object or an array.
func writeMany[C any](w *jw, plural, singular string, rows []C, item func(C)) {
	w.key(plural)
	if len(rows) == 0 {
		w.str("")
		return
	}
	w.beginObj()
	w.key(singular)
	w.collection(len(rows), func(i int) { item(rows[i]) })
	w.endObj()
}

// scalarValues adapts a resource's own fields for relation filters.
func scalarValues[T any](r *resource[T], rows ...*T) func(field string) ([]string, kind, bool) {
	return func(name string) ([]string, kind, bool) {
		f, ok := r.field(name)
		if !ok {
			return nil, 0, false
		}
		var vals []string
		for _, row := range rows {
			if row == nil {
				continue
			}
			if v, ok := f.get(row); ok {
				vals = append(vals, v)
			} else {
				vals = append(vals, "")
			}
		}
		return vals, f.kind, true
	}
}
