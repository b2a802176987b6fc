package soql

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q        string
		code     string
		contains string
	}{
		{"SELECT Id FORM Contact", CodeMalformedQuery, "\nSELECT Id FORM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"},
		{"", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"UPDATE Contact", CodeMalformedQuery, "unexpected token: 'UPDATE'"},
		{"SELECT FROM Contact", CodeMalformedQuery, "unexpected token: 'FROM'"},
		{"SELECT Id, FROM Contact", CodeMalformedQuery, "Column:12\nunexpected token: 'FROM'"},
		{"SELECT Id FROM", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM WHERE Id = null", CodeMalformedQuery, "unexpected token: '='"},
		{"SELECT Id FROM Contact.Account", CodeMalformedQuery, "unexpected token: 'Contact.Account'"},
		{"SELECT Id FROM Contact WHERE", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact WHERE Name", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact WHERE Name =", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact WHERE Name = 'x' AND Email = 'y' OR Id = null", CodeMalformedQuery, "unexpected token: 'OR'"},
		{"SELECT Id FROM Contact WHERE Name = 'x' OR Email = 'y' AND Id = null", CodeMalformedQuery, "unexpected token: 'AND'"},
		{"SELECT Id FROM Contact WHERE (Name = 'x'", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact WHERE Name = 'x')", CodeMalformedQuery, "unexpected token: ')'"},
		{"SELECT Id FROM Contact WHERE Name = 'x", CodeMalformedQuery, "unexpected token: ''x'"},
		{`SELECT Id FROM Contact WHERE Name = 'a\qb'`, CodeMalformedQuery, `Invalid string literal 'a\qb'. Illegal character sequence '\q' in string literal.`},
		{"SELECT Id FROM Contact WHERE Name IN ()", CodeMalformedQuery, "unexpected token: ')'"},
		{"SELECT Id FROM Contact WHERE Name IN ('a',)", CodeMalformedQuery, "unexpected token: ')'"},
		{"SELECT Id FROM Contact WHERE Name IN 'a'", CodeMalformedQuery, "unexpected token: 'a'"},
		{"SELECT Id FROM Contact WHERE Name NOT LIKE 'a'", CodeMalformedQuery, "unexpected token: 'LIKE'"},
		{"SELECT Id FROM Contact WHERE Name = 'a' Email = 'b'", CodeMalformedQuery, "unexpected token: 'Email'"},
		{"SELECT Id FROM Contact WHERE Name = :bind", CodeMalformedQuery, "unexpected token: ':'"},
		{"SELECT Id FROM Contact WHERE Name ! 'a'", CodeMalformedQuery, "unexpected token: '!'"},
		{"SELECT Id FROM Contact WHERE Name = 12abc", CodeMalformedQuery, "unexpected token: '12abc'"},
		{"SELECT Id FROM Contact WHERE Name = 'a' AND", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact WHERE AND Name = 'a'", CodeMalformedQuery, "unexpected token: 'AND'"},
		{"SELECT Id FROM Contact WHERE NOT", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:x", CodeMalformedQuery, "unexpected token: 'x'"},
		{"SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:-1", CodeMalformedQuery, "unexpected token: '-1'"},
		{"SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:1.5", CodeMalformedQuery, "unexpected token: '1.5'"},
		{"SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:999999999", CodeMalformedQuery, "unexpected token: '999999999'"},
		{"SELECT Id FROM Contact WHERE CreatedDate = THIS_FISCAL_YEAR", CodeMalformedQuery, "unexpected token: 'THIS_FISCAL_YEAR'"},
		{"SELECT Id FROM Contact WHERE CreatedDate = SOMEDAY", CodeMalformedQuery, "unexpected token: 'SOMEDAY'"},
		{"SELECT Id FROM Contact WHERE Birthdate = 2026-13-01", CodeMalformedQuery, "unexpected token: '2026-13-01'"},
		{"SELECT Id FROM Contact WHERE CreatedDate = 2026-11-27T25:00:00Z", CodeMalformedQuery, "unexpected token: '2026-11-27T25:00:00Z'"},
		{"SELECT Id FROM Contact WHERE CreatedDate = 2026-11-27T10:00:00", CodeMalformedQuery, "unexpected token: '2026-11-27T10:00:00'"},
		{"SELECT Id FROM Contact LIMIT -1", CodeMalformedQuery, "unexpected token: '-1'"},
		{"SELECT Id FROM Contact LIMIT x", CodeMalformedQuery, "unexpected token: 'x'"},
		{"SELECT Id FROM Contact LIMIT 99999999999999999999", CodeMalformedQuery, "unexpected token: '99999999999999999999'"},
		{"SELECT Id FROM Contact LIMIT 5 ORDER BY Name", CodeMalformedQuery, "unexpected token: 'ORDER'"},
		{"SELECT Id FROM Contact OFFSET 5 LIMIT 1", CodeMalformedQuery, "unexpected token: 'LIMIT'"},
		{"SELECT Id FROM Contact OFFSET 2001", CodeNumberOutsideRange, "Maximum SOQL offset allowed is 2000"},
		{"SELECT Id FROM Contact ORDER BY", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact ORDER Name", CodeMalformedQuery, "unexpected token: 'Name'"},
		{"SELECT Id FROM Contact ORDER BY Name NULLS", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact ORDER BY Name NULLS MIDDLE", CodeMalformedQuery, "unexpected token: 'MIDDLE'"},
		{"SELECT Id FROM Contact ORDER BY Name,", CodeMalformedQuery, "unexpected token: <EOF>"},
		{"SELECT Id FROM Contact trailing junk", CodeMalformedQuery, "unexpected token: 'junk'"},
		{"SELECT Id\nFROM Contact\nWHER Name = 'x'", CodeMalformedQuery, "\nWHER Name = 'x'\n     ^\nERROR at Row:3:Column:6\nunexpected token: 'Name'"},
		{"SELECT COUNT(), Id FROM Contact", CodeMalformedQuery, "COUNT() must be the only element in the SELECT list"},
		{"SELECT Id, COUNT() FROM Contact", CodeMalformedQuery, "COUNT() must be the only element in the SELECT list"},
		{"SELECT COUNT( FROM Contact", CodeMalformedQuery, "COUNT(field) is not supported"},
		{"SELECT COUNT(Id) FROM Contact", CodeMalformedQuery, "COUNT(field) is not supported by the sandbox"},
		{"SELECT SUM(Amount) FROM Opportunity", CodeMalformedQuery, "the function SUM() is not supported by the sandbox"},
		{"SELECT FIELDS(ALL) FROM Contact", CodeMalformedQuery, "FIELDS() is not supported"},
		{"SELECT TYPEOF What WHEN Account THEN Name END FROM Event", CodeMalformedQuery, "TYPEOF is not supported"},
		{"SELECT Id, (SELECT Id FROM Contacts) FROM Account", CodeMalformedQuery, "child relationship subquery is not supported"},
		{"SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)", CodeMalformedQuery, "semi-join subquery is not supported"},
		{"SELECT Id FROM Account WHERE (SELECT Id FROM Contact)", CodeMalformedQuery, "subquery is not supported"},
		{"SELECT Id FROM Account WHERE Id = (SELECT Id FROM Contact)", CodeMalformedQuery, "semi-join subquery is not supported"},
		{"SELECT Id FROM Contact GROUP BY Id", CodeMalformedQuery, "GROUP BY is not supported"},
		{"SELECT Id FROM Contact WHERE Name = 'a' HAVING COUNT(Id) > 1", CodeMalformedQuery, "HAVING is not supported"},
		{"SELECT Id FROM Contact WITH SECURITY_ENFORCED", CodeMalformedQuery, "WITH is not supported"},
		{"SELECT Id FROM Contact USING SCOPE Mine", CodeMalformedQuery, "USING SCOPE is not supported"},
		{"SELECT Id FROM Contact FOR UPDATE", CodeMalformedQuery, "FOR VIEW/REFERENCE/UPDATE is not supported"},
		{"SELECT Id FROM Contact ALL ROWS", CodeMalformedQuery, "ALL ROWS is not supported"},
		{"SELECT Id FROM Contact WHERE CALENDAR_YEAR(CreatedDate) = 2020", CodeMalformedQuery, "the function CALENDAR_YEAR() is not supported"},
		{"SELECT Id FROM Contact ORDER BY CALENDAR_YEAR(CreatedDate)", CodeMalformedQuery, "ORDER BY a function is not supported"},
		{"SELECT Id FROM Contact WHERE Tags__c INCLUDES ('a')", CodeMalformedQuery, "INCLUDES is not supported"},
		{"SELECT Id FROM Contact WHERE Name = 'é' AND Name = ¤", CodeMalformedQuery, "unexpected token: '¤'"},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tc.q)
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want %s", q, tc.code)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.contains) {
				t.Errorf("error = %s %q\nwant %s containing %q", e.Code, e.Message, tc.code, tc.contains)
			}
			if got := err.Error(); !strings.HasPrefix(got, tc.code+":") || !strings.Contains(got, tc.contains) {
				t.Errorf("Error() = %q, want the code first", got)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q      string
		object string
		count  bool
		limit  int // -1 for none
		offset int
	}{
		{"SELECT Id FROM Contact", "Contact", false, -1, 0},
		{"select id from contact", "contact", false, -1, 0},
		{"  SELECT\tId,\n  LastName\r\nFROM   Contact  ", "Contact", false, -1, 0},
		{"SELECT Id FROM Contact c WHERE c.Email = 'x'", "Contact", false, -1, 0},
		{"SELECT Id FROM Contact AS c", "Contact", false, -1, 0},
		{"SELECT COUNT() FROM Contact", "Contact", true, -1, 0},
		{"SELECT count() FROM Contact WHERE Email != null LIMIT 10", "Contact", true, 10, 0},
		{"SELECT Id FROM Contact LIMIT 0", "Contact", false, 0, 0},
		{"SELECT Id FROM Contact ORDER BY Name DESC NULLS LAST, Id LIMIT 5 OFFSET 2000", "Contact", false, 5, 2000},
		{"SELECT Id FROM Contact OFFSET 3", "Contact", false, -1, 3},
		{"SELECT Id FROM Contact WHERE SystemModstamp >= 2026-11-27T10:00:00Z ORDER BY SystemModstamp, Id", "Contact", false, -1, 0},
		{"SELECT Id FROM Contact WHERE CreatedDate > 2026-11-27T10:00:00.123+01:00", "Contact", false, -1, 0},
		{"SELECT Id FROM Contact WHERE CreatedDate > 2026-11-27t10:00:00z", "Contact", false, -1, 0},
		{"SELECT Id FROM Contact WHERE Score__c IN (1, -2.5, .5, +3)", "Contact", false, -1, 0},
		{`SELECT Id FROM Contact WHERE Name = 'tab\tquote\'\"back\\slash\n'`, "Contact", false, -1, 0},
		{"SELECT Id FROM Contact WHERE NOT (Name = 'a' OR Name = 'b') AND (Id != null)", "Contact", false, -1, 0},
		{"SELECT Id, Account.Owner.Name FROM Contact WHERE Account.Name LIKE 'A%'", "Contact", false, -1, 0},
		{"SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE TableEnumOrId = 'Contact'", "CustomField", false, -1, 0},
		{"SELECT Id FROM Contact WHERE Name<>'x'AND Id!=null", "Contact", false, -1, 0},
		{"SELECT Id FROM Order ORDER BY Id LIMIT 1", "Order", false, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tc.q)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if q.Object() != tc.object || q.IsCount() != tc.count || q.Offset() != tc.offset || q.String() != tc.q {
				t.Errorf("got object %q count %v offset %d, want %q %v %d", q.Object(), q.IsCount(), q.Offset(), tc.object, tc.count, tc.offset)
			}
			limit, ok := q.Limit()
			if ok != (tc.limit >= 0) || (ok && limit != tc.limit) {
				t.Errorf("Limit() = %d, %v; want %d", limit, ok, tc.limit)
			}
		})
	}
}

func TestDecodeString(t *testing.T) {
	t.Parallel()
	q, err := Parse(`SELECT Id FROM Contact WHERE Name = 'a\tb\'c\"d\\e\nf\%g\_h'`)
	if err != nil {
		t.Fatal(err)
	}
	got := q.where.(*cmpExpr).values[0].str
	if want := "a\tb'c\"d\\e\nf%g_h"; got != want {
		t.Errorf("decoded %q, want %q", got, want)
	}
}

// FuzzParse checks that no input makes Parse panic, and that every
// failure is a *Error with a code.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT Id FROM Contact",
		"SELECT Id, Account.Name FROM Contact WHERE (Email = 'a\\'b' OR Score__c > -1.5) AND CreatedDate = LAST_N_DAYS:3 ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 1",
		"SELECT COUNT() FROM Contact WHERE Id IN ('003000000000001', null) AND NOT Name LIKE '%\\_%'",
		"SELECT Id FROM Contact WHERE SystemModstamp >= 2026-11-27T10:00:00.5+01:00",
		"SELECT Id FROM Contact WHERE Birthdate = 2026-11-27",
		"SELECT Id FROM Contact c WHERE c.Name = 'x'",
		"SELECT (SELECT Id FROM Contacts) FROM Account",
		"'", "\\", "SELECT Id FROM Contact WHERE Name = '\\",
	} {
		f.Add(s)
	}
	schema, store := newFixture()
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" {
				t.Fatalf("Parse(%q) error %v is not a coded *Error", s, err)
			}
			return
		}
		// A query that parses must also execute or fail cleanly.
		res, err := Execute(q, schema, store, ExecOptions{Now: fixedNow})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" {
				t.Fatalf("Execute(%q) error %v is not a coded *Error", s, err)
			}
			return
		}
		for _, r := range res.Rows {
			if _, err := r.MarshalJSON(); err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
		}
	})
}
