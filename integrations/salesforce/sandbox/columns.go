package sandbox

import (
	"net/http"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// columnMeta is one entry of the column metadata that query?q=...&columns=true
// answers instead of records. The shape is not in the REST API reference;
// it is the one the sf CLI parses (salesforcecli/plugin-data,
// src/commands/data/query.ts retrieveColumns) and records from real orgs in
// its test exemplars (test/test-files/queryFields.exemplars.ts): every key
// is always present, foreignKeyName is the reference field of a
// relationship column and null otherwise, and a relationship column carries
// the columns selected through it in joinColumns.
type columnMeta struct {
	Aggregate      bool         `json:"aggregate"`
	ApexType       *string      `json:"apexType"`
	BooleanType    bool         `json:"booleanType"`
	ColumnName     string       `json:"columnName"`
	Custom         bool         `json:"custom"`
	DisplayName    string       `json:"displayName"`
	ForeignKeyName *string      `json:"foreignKeyName"`
	Insertable     bool         `json:"insertable"`
	JoinColumns    []columnMeta `json:"joinColumns"`
	NumberType     bool         `json:"numberType"`
	TextType       bool         `json:"textType"`
	Updatable      bool         `json:"updatable"`
}

// queryColumns is the whole columns=true answer.
type queryColumns struct {
	ColumnMetadata []columnMeta `json:"columnMetadata"`
	EntityName     string       `json:"entityName"`
	GroupBy        bool         `json:"groupBy"`
	IDSelected     bool         `json:"idSelected"`
	KeyPrefix      *string      `json:"keyPrefix"`
}

// apexType is the Apex type of a field's values, as column metadata names it.
func apexType(f *fieldDef) string {
	switch f.Type {
	case "id", "reference":
		return "Id"
	case "boolean":
		return "Boolean"
	case "int":
		return "Integer"
	case "double", "currency", "percent":
		return "Decimal"
	case "date":
		return "Date"
	case "datetime":
		return "Datetime"
	}
	return "String"
}

// columnsResult answers a columns=true query over d; the caller holds d's
// read lock.
func columnsResult(d *db, q *soql.Query) result {
	cols, err := soql.Columns(q, soqlSchema{d.sch})
	if err != nil {
		return queryError(err)
	}
	o := d.sch.object(q.Object())
	out := queryColumns{ColumnMetadata: columnMetas(d.sch, cols), EntityName: o.Name}
	if o.KeyPrefix != "" {
		out.KeyPrefix = &o.KeyPrefix
	}
	for _, c := range cols {
		if !c.Relationship && c.Name == "Id" {
			out.IDSelected = true
		}
	}
	return jsonResult(http.StatusOK, out)
}

func columnMetas(sch *schema, cols []soql.Column) []columnMeta {
	out := make([]columnMeta, 0, len(cols))
	for _, c := range cols {
		m := columnMeta{ColumnName: c.Name, DisplayName: c.Name, JoinColumns: []columnMeta{}}
		f := sch.object(c.Object).field(c.Field)
		if c.Relationship {
			m.ForeignKeyName = &f.Name
			m.Custom = f.Custom
			m.JoinColumns = columnMetas(sch, c.Children)
			out = append(out, m)
			continue
		}
		t := apexType(f)
		m.ApexType = &t
		m.Custom, m.Insertable, m.Updatable = f.Custom, f.Createable, f.Updateable
		m.BooleanType = f.Type == "boolean"
		m.NumberType = t == "Integer" || t == "Decimal"
		m.TextType = f.isText()
		out = append(out, m)
	}
	return out
}
