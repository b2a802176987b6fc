package soql

import (
	"strings"
)

// maxRelationshipDepth is the deepest parent path SOQL allows
// (Contact.Account.Owner.Manager.Profile.Name is five hops).
const maxRelationshipDepth = 5

// hop is one step up a parent relationship.
type hop struct {
	refField string // reference field on the child, e.g. AccountId
	relName  string // canonical relationship name, e.g. Account
	target   string // canonical parent object, e.g. Account
}

// fieldRef is a resolved field path: the hops from the queried object and
// the leaf field on the last object.
type fieldRef struct {
	hops   []hop
	object string // object that owns the leaf
	name   string // canonical leaf name
	typ    string
	cat    category
	key    string // canonical dotted path, e.g. Account.Name
}

// category groups describe types by how SOQL compares them.
type category int

const (
	catString category = iota
	catID
	catBool
	catNumber
	catDate
	catDateTime
)

func categoryOf(typ string) category {
	switch strings.ToLower(typ) {
	case "id", "reference":
		return catID
	case "boolean":
		return catBool
	case "int", "double", "currency", "percent", "long":
		return catNumber
	case "date":
		return catDate
	case "datetime":
		return catDateTime
	default:
		return catString
	}
}

// resolver resolves paths of one query against a schema.
type resolver struct {
	q      *Query
	schema Schema
	object string
}

const invalidFieldHint = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."

func (r *resolver) resolve(p path) (*fieldRef, error) {
	segs := p.segs
	if len(segs) > 1 && r.q.alias != "" && strings.EqualFold(segs[0], r.q.alias) {
		segs = segs[1:]
	}
	if len(segs)-1 > maxRelationshipDepth {
		return nil, positioned(CodeMalformedQuery, r.q.text, p.pos,
			"SOQL statements cannot query more than %d levels of relationships", maxRelationshipDepth)
	}
	ref := &fieldRef{object: r.object}
	var key strings.Builder
	obj := r.object
	for _, seg := range segs[:len(segs)-1] {
		target, ok := r.schema.Relationship(obj, seg)
		var fi FieldInfo
		if ok {
			fi, ok = r.schema.Field(obj, referenceFieldFor(seg))
		}
		if !ok {
			return nil, positioned(CodeInvalidField, r.q.text, p.pos,
				"Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", seg)
		}
		h := hop{refField: fi.Name, relName: relationshipNameFor(fi.Name), target: target}
		ref.hops = append(ref.hops, h)
		key.WriteString(h.relName)
		key.WriteByte('.')
		obj = target
	}
	leaf := segs[len(segs)-1]
	fi, ok := r.schema.Field(obj, leaf)
	if !ok {
		return nil, positioned(CodeInvalidField, r.q.text, p.pos,
			"No such column '%s' on entity '%s'. %s", leaf, obj, invalidFieldHint)
	}
	ref.object, ref.name, ref.typ, ref.cat = obj, fi.Name, fi.Type, categoryOf(fi.Type)
	key.WriteString(fi.Name)
	ref.key = key.String()
	return ref, nil
}

// referenceFieldFor maps a relationship name to its reference field by
// Salesforce's naming convention: Account → AccountId, Foo__r → Foo__c.
func referenceFieldFor(rel string) string {
	if len(rel) > 3 && strings.EqualFold(rel[len(rel)-3:], "__r") {
		return rel[:len(rel)-3] + "__c"
	}
	return rel + "Id"
}

// relationshipNameFor is the inverse of referenceFieldFor on canonical
// names, so results use the canonical spelling whatever the query wrote.
func relationshipNameFor(refField string) string {
	if strings.HasSuffix(refField, "__c") {
		return refField[:len(refField)-3] + "__r"
	}
	return strings.TrimSuffix(refField, "Id")
}

// getter returns a function reading the field from a root record,
// following parent references through the store. A missing parent reads
// as nil.
func (f *fieldRef) getter(store Store) func(Record) any {
	name := f.name
	if len(f.hops) == 0 {
		return func(rec Record) any { return rec[name] }
	}
	hops := f.hops
	return func(rec Record) any {
		cur := rec
		for _, h := range hops {
			id, _ := cur[h.refField].(string)
			if id == "" {
				return nil
			}
			parent, ok := store.Get(h.target, id)
			if !ok {
				return nil
			}
			cur = parent
		}
		return cur[name]
	}
}
