package soql

import "time"

// Schema is the org's metadata as the engine needs it. The sandbox
// implements it over its describe data.
type Schema interface {
	// Object resolves an object name case-insensitively to its canonical name.
	Object(name string) (canonical string, ok bool)
	// Field resolves a field of a canonical object case-insensitively.
	Field(object, field string) (FieldInfo, bool)
	// Relationship resolves a parent relationship name (Account, Owner,
	// Foo__r) on a canonical object to the canonical target object.
	Relationship(object, relName string) (target string, ok bool)
}

// FieldInfo describes one field: its canonical name and its describe type
// (id, reference, string, textarea, email, phone, url, picklist, boolean,
// int, double, currency, percent, date, datetime). Unknown types are
// treated as strings.
type FieldInfo struct {
	Name string
	Type string
}

// Store gives the engine read access to records.
type Store interface {
	// Records returns every row of a canonical object, deleted ones included.
	// The engine does not modify the slice or the records.
	Records(object string) []Record
	// Get returns one record of a canonical object by 15- or 18-character id.
	Get(object, id string) (Record, bool)
}

// Record is one row: canonical field name to a string, bool, float64,
// int64, time.Time or nil. Every record has "Id" and "IsDeleted".
type Record map[string]any

// ExecOptions carries the per-request context of an execution.
type ExecOptions struct {
	// Now is the current time, for relative date literals.
	Now time.Time
	// IncludeDeleted makes the query see soft-deleted rows (queryAll).
	IncludeDeleted bool
	// APIVersion, such as "66.0", goes into attributes.url. Empty means 66.0.
	APIVersion string
	// Location is the org time zone in which date literals are evaluated
	// against datetime fields. Nil means UTC.
	Location *time.Location
}

// Result is the outcome of Execute.
type Result struct {
	// TotalSize is the number of rows after OFFSET and LIMIT, or the count
	// for COUNT() queries.
	TotalSize int
	// Rows holds the selected rows in order; empty for COUNT() queries.
	Rows []Row
	// CountOnly is true for SELECT COUNT() queries.
	CountOnly bool
}
