package soql

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// testSchema is a map-backed Schema: object -> field -> type, and
// object -> relationship -> target.
type testSchema struct {
	fields map[string]map[string]string
	rels   map[string]map[string]string
}

func (s *testSchema) Object(name string) (string, bool) {
	for obj := range s.fields {
		if strings.EqualFold(obj, name) {
			return obj, true
		}
	}
	return "", false
}

func (s *testSchema) Field(object, field string) (FieldInfo, bool) {
	for name, typ := range s.fields[object] {
		if strings.EqualFold(name, field) {
			return FieldInfo{Name: name, Type: typ}, true
		}
	}
	return FieldInfo{}, false
}

func (s *testSchema) Relationship(object, rel string) (string, bool) {
	for name, target := range s.rels[object] {
		if strings.EqualFold(name, rel) {
			return target, true
		}
	}
	return "", false
}

func newTestSchema() *testSchema {
	system := map[string]string{"Id": "id", "IsDeleted": "boolean", "CreatedDate": "datetime", "SystemModstamp": "datetime", "OwnerId": "reference"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range system {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	return &testSchema{
		fields: map[string]map[string]string{
			"Contact": with(map[string]string{
				"FirstName": "string", "LastName": "string", "Email": "email", "AccountId": "reference",
				"Birthdate": "date", "Score__c": "double", "Visits__c": "int", "Active__c": "boolean",
				"Favorite__c": "reference", "Description": "textarea",
			}),
			"Account": with(map[string]string{"Name": "string", "AnnualRevenue": "currency", "Industry": "picklist"}),
			"User": {
				"Id": "id", "IsDeleted": "boolean", "Name": "string", "Email": "email", "ManagerId": "reference",
			},
		},
		rels: map[string]map[string]string{
			"Contact": {"Account": "Account", "Owner": "User", "Favorite__r": "Account"},
			"Account": {"Owner": "User"},
			"User":    {"Manager": "User"},
		},
	}
}

// testStore is a map-backed Store that keeps insertion order.
type testStore struct {
	rows map[string][]Record
	byID map[string]Record // 15-character id -> record
}

func newTestStore() *testStore {
	return &testStore{rows: map[string][]Record{}, byID: map[string]Record{}}
}

func (s *testStore) add(object string, r Record) {
	if _, ok := r["IsDeleted"]; !ok {
		r["IsDeleted"] = false
	}
	s.rows[object] = append(s.rows[object], r)
	s.byID[r["Id"].(string)[:15]] = r
}

func (s *testStore) Records(object string) []Record { return s.rows[object] }

func (s *testStore) Get(object, id string) (Record, bool) {
	if len(id) < 15 {
		return nil, false
	}
	r, ok := s.byID[id[:15]]
	if !ok || !strings.HasPrefix(r["Id"].(string), prefixes[object]) {
		return nil, false
	}
	return r, true
}

var prefixes = map[string]string{"Account": "001", "Contact": "003", "User": "005"}

// sfid builds an 18-character id with the object's key prefix.
func sfid(object string, n int) string { return fmt.Sprintf("%s%012dAAA", prefixes[object], n) }

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixedNow is Friday 27 November 2026, 10:00 UTC.
var fixedNow = ts("2026-11-27T10:00:00Z")

// newFixture returns a small org: a manager chain of users, two accounts
// (one without owner) and contacts covering nulls, cases and dates.
func newFixture() (*testSchema, *testStore) {
	st := newTestStore()
	st.add("User", Record{"Id": sfid("User", 1), "Name": "Ada Boss", "Email": "ada@tandem.test"})
	st.add("User", Record{"Id": sfid("User", 2), "Name": "Ben Lead", "Email": "ben@tandem.test", "ManagerId": sfid("User", 1)})
	st.add("User", Record{"Id": sfid("User", 3), "Name": "Cy Rep", "Email": "cy@tandem.test", "ManagerId": sfid("User", 2)})
	st.add("Account", Record{"Id": sfid("Account", 1), "Name": "Acme", "AnnualRevenue": 15000000.0, "Industry": "Retail", "OwnerId": sfid("User", 3),
		"CreatedDate": ts("2026-01-01T00:00:00Z"), "SystemModstamp": ts("2026-01-01T00:00:00Z")})
	st.add("Account", Record{"Id": sfid("Account", 2), "Name": "Globex", "AnnualRevenue": nil, "Industry": nil, "OwnerId": nil,
		"CreatedDate": ts("2026-01-02T00:00:00Z"), "SystemModstamp": ts("2026-01-02T00:00:00Z")})
	contacts := []Record{
		{"FirstName": "Jo", "LastName": "Smith", "Email": "jo@example.com", "AccountId": sfid("Account", 1), "Birthdate": day("1990-05-01"),
			"Score__c": 10.5, "Visits__c": int64(3), "Active__c": true, "CreatedDate": ts("2026-11-27T09:00:00Z"), "SystemModstamp": ts("2026-11-27T09:30:00Z")},
		{"FirstName": "Al", "LastName": "smith", "Email": "AL@Example.com", "AccountId": sfid("Account", 2), "Birthdate": day("1985-12-24"),
			"Score__c": 2.0, "Visits__c": int64(0), "Active__c": false, "CreatedDate": ts("2026-11-26T23:59:59.999Z"), "SystemModstamp": ts("2026-11-27T10:00:00Z")},
		{"FirstName": nil, "LastName": "O'Brien", "Email": nil, "AccountId": nil, "Birthdate": nil,
			"Score__c": nil, "Visits__c": nil, "Active__c": false, "CreatedDate": ts("2026-10-15T12:00:00Z"), "SystemModstamp": ts("2026-11-27T10:00:00.001Z")},
		{"FirstName": "Zoë", "LastName": "100%_Real", "Email": "zoe@example.org", "AccountId": sfid("Account", 1), "Birthdate": day("2000-02-29"),
			"Score__c": -1.0, "Visits__c": int64(12), "Active__c": true, "CreatedDate": ts("2025-06-30T00:00:00Z"), "SystemModstamp": ts("2026-11-20T00:00:00Z"),
			"Favorite__c": sfid("Account", 2)},
		{"FirstName": "Del", "LastName": "Eted", "Email": "del@example.com", "AccountId": sfid("Account", 1), "Birthdate": day("1970-01-01"),
			"Score__c": 0.0, "Visits__c": int64(1), "Active__c": false, "CreatedDate": ts("2026-11-01T00:00:00Z"), "SystemModstamp": ts("2026-11-25T00:00:00Z"),
			"IsDeleted": true},
		{"FirstName": "", "LastName": "Empty", "Email": "", "AccountId": sfid("Account", 9), "Birthdate": day("2026-11-27"),
			"Score__c": 7.0, "Visits__c": int64(7), "Active__c": nil, "CreatedDate": ts("2026-11-28T00:00:00Z"), "SystemModstamp": ts("2026-11-28T00:00:00Z")},
	}
	for i, c := range contacts {
		c["Id"] = sfid("Contact", i+1)
		c["OwnerId"] = sfid("User", 3)
		st.add("Contact", c)
	}
	return newTestSchema(), st
}

// run parses and executes q against a fresh fixture.
func run(t *testing.T, q string, opts ExecOptions) (*Result, error) {
	t.Helper()
	parsed, err := Parse(q)
	if err != nil {
		return nil, err
	}
	schema, store := newFixture()
	if opts.Now.IsZero() {
		opts.Now = fixedNow
	}
	return Execute(parsed, schema, store, opts)
}

// lastNames returns the LastName of each row.
func lastNames(res *Result) []string {
	out := []string{}
	for _, r := range res.Rows {
		s, _ := r.Get("LastName").(string)
		out = append(out, s)
	}
	return out
}
