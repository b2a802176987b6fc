package soql

// Column is one entry of a query's SELECT list seen as a tree: a selected
// field, or a parent relationship holding the columns selected through it.
type Column struct {
	// Name is the canonical field name, or the relationship name (Account,
	// Owner, Foo__r).
	Name string
	// Object is the canonical object the field or relationship belongs to.
	Object string
	// Relationship is set on a relationship column: Field is then its
	// reference field (AccountId) and Target the parent object.
	Relationship bool
	Field        string
	Target       string
	// Children are the columns selected through a relationship, in the
	// order first selected.
	Children []Column
}

// Columns resolves q's SELECT list against schema, with the same errors as
// Execute, and returns it as a tree: paths through one relationship share
// one relationship column (Account.Name and Account.Phone sit under one
// Account). A COUNT() query selects no columns.
func Columns(q *Query, schema Schema) ([]Column, error) {
	r, err := newResolver(q, schema)
	if err != nil {
		return nil, err
	}
	if q.count {
		return []Column{}, nil
	}
	lay, err := newLayout(r, q.fields, "")
	if err != nil {
		return nil, err
	}
	return columnsOf(lay.root), nil
}

func columnsOf(n *node) []Column {
	out := make([]Column, 0, len(n.children))
	for _, c := range n.children {
		if c.leaf {
			out = append(out, Column{Name: c.key, Object: n.object, Field: c.field})
			continue
		}
		out = append(out, Column{Name: c.key, Object: n.object, Relationship: true, Field: c.field, Target: c.object, Children: columnsOf(c)})
	}
	return out
}

// Selected is one field of a query's SELECT list, resolved.
type Selected struct {
	// Path is the canonical dotted path (Name, Account.Owner.Name), what
	// Row.Get takes and what a CSV header names the column.
	Path string
	// Type is the leaf field's describe type.
	Type string
}

// SelectedFields resolves q's SELECT list against schema, with the same
// errors as Execute, and returns its fields in SELECT order. A COUNT()
// query selects none.
func SelectedFields(q *Query, schema Schema) ([]Selected, error) {
	r, err := newResolver(q, schema)
	if err != nil {
		return nil, err
	}
	out := make([]Selected, 0, len(q.fields))
	for _, p := range q.fields {
		ref, err := r.resolve(p)
		if err != nil {
			return nil, err
		}
		out = append(out, Selected{Path: ref.key, Type: ref.typ})
	}
	return out, nil
}
