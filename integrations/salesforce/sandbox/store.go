package sandbox

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// table holds the rows of one object. Rows are immutable once stored: an
// update stores a fresh map, so a query result or cursor that still holds
// the old map never races with a writer.
type table struct {
	obj       *objectDef
	rows      []soql.Record
	pos       map[string]int                            // id -> index in rows
	idx       map[string]map[string]map[string]struct{} // field -> value key -> ids
	deletedAt map[string]time.Time
}

// db is the org's data: schema plus tables, guarded by one RWMutex. Reads
// (describe, retrieve, query) share it; every write runs as a txn holding it
// exclusively, which is what makes allOrNone and composite rollbacks simple.
type db struct {
	mu     sync.RWMutex
	sch    *schema
	tables map[string]*table // by canonical object name
	seq    uint64
	// dupRule turns on the Contact email duplicate rule.
	dupRule bool
	orgID   string
	userID  string
	created time.Time
}

func newDB(sch *schema) *db {
	d := &db{sch: sch, tables: map[string]*table{}}
	for _, o := range sch.objects {
		d.addTable(o)
	}
	return d
}

func (d *db) addTable(o *objectDef) *table {
	t := &table{obj: o, pos: map[string]int{}, idx: map[string]map[string]map[string]struct{}{}, deletedAt: map[string]time.Time{}}
	d.tables[o.Name] = t
	return t
}

func (d *db) table(o *objectDef) *table { return d.tables[o.Name] }

func (d *db) nextID(prefix string) string {
	d.seq++
	return makeID(prefix, d.seq)
}

// indexed reports whether the table keeps a value index for the field:
// external ids, unique fields, parent references (for children lookups and
// cascades) and, for the duplicate rule, Contact.Email. Audit and owner
// references are left out: every row shares the same few values.
func indexed(o *objectDef, f *fieldDef) bool {
	switch f.Name {
	case "OwnerId", "CreatedById", "LastModifiedById", "RecordTypeId":
		return false
	}
	return f.ExternalID || f.Unique || f.Type == "reference" ||
		(o.Name == "Contact" && f.Name == "Email") || (o.Name == "User" && f.Name == "Username")
}

func indexKey(f *fieldDef, v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		if x == "" {
			return "", false
		}
		if f.CaseSensitive {
			return x, true
		}
		return strings.ToLower(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

func (t *table) index(rec soql.Record, add bool) {
	if rec["IsDeleted"] == true {
		return
	}
	id := rec["Id"].(string)
	for _, f := range t.obj.Fields {
		if !indexed(t.obj, f) {
			continue
		}
		k, ok := indexKey(f, rec[f.Name])
		if !ok {
			continue
		}
		m := t.idx[f.Name]
		if m == nil {
			m = map[string]map[string]struct{}{}
			t.idx[f.Name] = m
		}
		set := m[k]
		if add {
			if set == nil {
				set = map[string]struct{}{}
				m[k] = set
			}
			set[id] = struct{}{}
			continue
		}
		delete(set, id)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// lookup returns the ids of live records whose field equals v, sorted.
func (t *table) lookup(f *fieldDef, v any) []string {
	k, ok := indexKey(f, v)
	if !ok {
		return nil
	}
	var out []string
	if indexed(t.obj, f) {
		for id := range t.idx[f.Name][k] {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	for _, r := range t.rows {
		if r["IsDeleted"] == true {
			continue
		}
		if k2, ok := indexKey(f, r[f.Name]); ok && k2 == k {
			out = append(out, r["Id"].(string))
		}
	}
	return out
}

func (t *table) get(id string) (soql.Record, bool) {
	i, ok := t.pos[id]
	if !ok {
		return nil, false
	}
	return t.rows[i], true
}

// findByID locates a record of any object by its id.
func (d *db) findByID(id string) (*table, soql.Record, bool) {
	if len(id) < 3 {
		return nil, nil, false
	}
	o := d.sch.byPrefix[id[:3]]
	if o == nil {
		return nil, nil, false
	}
	t := d.table(o)
	r, ok := t.get(id)
	return t, r, ok
}

// txn is an exclusive write transaction with an undo log. The caller holds
// db.mu for writing for the txn's whole life.
type txn struct {
	db   *db
	now  time.Time
	user string
	undo []func()
}

func (d *db) begin(now time.Time) *txn { return &txn{db: d, now: now, user: d.userID} }

// savepoint returns a mark that rollbackTo undoes back to.
func (t *txn) savepoint() int { return len(t.undo) }

func (t *txn) rollbackTo(sp int) {
	for i := len(t.undo) - 1; i >= sp; i-- {
		t.undo[i]()
	}
	t.undo = t.undo[:sp]
}

func (t *txn) rollback() { t.rollbackTo(0) }

// insert stores a new record; rec must carry every system field.
func (t *txn) insert(tb *table, rec soql.Record) {
	id := rec["Id"].(string)
	tb.pos[id] = len(tb.rows)
	tb.rows = append(tb.rows, rec)
	tb.index(rec, true)
	t.undo = append(t.undo, func() {
		tb.index(rec, false)
		delete(tb.pos, id)
		tb.rows = tb.rows[:len(tb.rows)-1]
	})
}

// replace swaps a stored record for a new version of it.
func (t *txn) replace(tb *table, rec soql.Record) {
	id := rec["Id"].(string)
	i := tb.pos[id]
	old := tb.rows[i]
	tb.index(old, false)
	tb.rows[i] = rec
	tb.index(rec, true)
	oldDeleted, hadDeleted := tb.deletedAt[id]
	if rec["IsDeleted"] == true && old["IsDeleted"] != true {
		tb.deletedAt[id] = t.now
	}
	t.undo = append(t.undo, func() {
		tb.index(rec, false)
		tb.rows[i] = old
		tb.index(old, true)
		if hadDeleted {
			tb.deletedAt[id] = oldDeleted
		} else {
			delete(tb.deletedAt, id)
		}
	})
}

// clone copies a record so a new version can be built from it.
func clone(r soql.Record) soql.Record {
	out := make(soql.Record, len(r)+2)
	for k, v := range r {
		out[k] = v
	}
	return out
}

// soqlSchema adapts the org schema to the soql package.
type soqlSchema struct{ sch *schema }

func (s soqlSchema) Field(object, field string) (soql.FieldInfo, bool) {
	o := s.sch.object(object)
	if o == nil {
		return soql.FieldInfo{}, false
	}
	f := o.field(field)
	if f == nil {
		return soql.FieldInfo{}, false
	}
	return soql.FieldInfo{Name: f.Name, Type: f.Type}, true
}

func (s soqlSchema) Relationship(object, rel string) (string, bool) {
	o := s.sch.object(object)
	if o == nil {
		return "", false
	}
	f := o.relationship(rel)
	if f == nil || len(f.ReferenceTo) == 0 {
		return "", false
	}
	return f.ReferenceTo[0], true
}

func (s soqlSchema) Object(name string) (string, bool) {
	o := s.sch.object(name)
	if o == nil {
		return "", false
	}
	return o.Name, true
}

// soqlStore adapts the tables to the soql package. It is only used while
// db.mu is held.
type soqlStore struct{ d *db }

func (s soqlStore) Records(object string) []soql.Record {
	o := s.d.sch.object(object)
	if o == nil {
		return nil
	}
	return s.d.table(o).rows
}

func (s soqlStore) Get(object, id string) (soql.Record, bool) {
	o := s.d.sch.object(object)
	if o == nil {
		return nil, false
	}
	return s.d.table(o).get(id)
}
