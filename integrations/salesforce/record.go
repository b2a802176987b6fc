package salesforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Record is one record read from the API (a query row, a retrieve).
// Fields holds every key of the JSON object except "attributes", decoded
// with numbers as json.Number (currency survives exactly); parent
// relationships are nested Records' Fields maps (map[string]any), and
// child subqueries are their raw query-result maps.
type Record struct {
	// Type and URL come from the record's "attributes".
	Type   string
	URL    string
	Fields map[string]any
	raw    json.RawMessage
}

// ID returns the record's Id field, or "".
func (r Record) ID() string {
	id, _ := r.Fields["Id"].(string)
	return id
}

// String returns a text field, or "" when it is null or absent.
func (r Record) String(field string) string {
	s, _ := r.Get(field).(string)
	return s
}

// Time returns a dateTime or date field (SystemModstamp, CloseDate) parsed
// with ParseDateTime; a null or absent field is the zero time.
func (r Record) Time(field string) (time.Time, error) {
	v := r.Get(field)
	if v == nil {
		return time.Time{}, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("salesforce: field %s is %T, not a dateTime", field, v)
	}
	t, err := ParseDateTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("salesforce: field %s: %w", field, err)
	}
	return t, nil
}

// Get returns a field, following dotted parent paths ("Account.Name").
func (r Record) Get(path string) any {
	var cur any = r.Fields
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// Decode unmarshals the record's JSON into v (a struct with json tags, for
// example), the way encoding/json would.
func (r Record) Decode(v any) error {
	return json.Unmarshal(r.raw, v)
}

// Raw returns the record's JSON as the API sent it.
func (r Record) Raw() json.RawMessage { return r.raw }

// UnmarshalJSON keeps the raw JSON and decodes the fields.
func (r *Record) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("salesforce: record is null")
	}
	*r = Record{Fields: m, raw: append(json.RawMessage(nil), b...)}
	if a, ok := m["attributes"].(map[string]any); ok {
		r.Type, _ = a["type"].(string)
		r.URL, _ = a["url"].(string)
	}
	delete(m, "attributes")
	stripAttributes(m)
	return nil
}

// stripAttributes removes "attributes" from nested parent records so
// Fields maps hold only fields.
func stripAttributes(m map[string]any) {
	for _, v := range m {
		if sub, ok := v.(map[string]any); ok {
			if _, isRec := sub["attributes"]; isRec {
				delete(sub, "attributes")
				stripAttributes(sub)
			}
		}
	}
}

// MarshalJSON writes the raw JSON back (so a Record round-trips).
func (r Record) MarshalJSON() ([]byte, error) {
	if r.raw != nil {
		return r.raw, nil
	}
	return json.Marshal(r.Fields)
}
