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
	if q == nil {
		return nil, &Error{Code: CodeMalformedQuery, Message: "no query"}
	}
	obj, err := fromObject(q, schema)
	if err != nil {
		return nil, err
	}
	if q.count {
		return []Column{}, nil
	}
	lay, err := newLayout(&resolver{q: q, schema: schema, object: obj}, q.fields, "")
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
