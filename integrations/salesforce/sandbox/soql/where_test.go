package soql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Fixture contacts in store order: Smith, smith, O'Brien, 100%_Real,
// Eted (deleted), Empty.
func TestWhere(t *testing.T) {
	t.Parallel()
	tests := []struct {
		where string
		want  []string
	}{
		// Strings: equality ignores case; != and NOT IN include nulls.
		{"LastName = 'SMITH'", []string{"Smith", "smith"}},
		{"lastname = 'smith'", []string{"Smith", "smith"}},
		{"LastName != 'smith'", []string{"O'Brien", "100%_Real", "Empty"}},
		{"LastName <> 'smith'", []string{"O'Brien", "100%_Real", "Empty"}},
		{"LastName = 'O\\'Brien'", []string{"O'Brien"}},
		{"Email = null", []string{"O'Brien", "Empty"}},
		{"Email != null", []string{"Smith", "smith", "100%_Real"}},
		{"FirstName = NULL", []string{"O'Brien", "Empty"}},
		{"Email != 'jo@example.com'", []string{"smith", "O'Brien", "100%_Real", "Empty"}},
		{"Email IN ('JO@example.com', 'al@example.com')", []string{"Smith", "smith"}},
		{"Email IN ('jo@example.com', null)", []string{"Smith", "O'Brien", "Empty"}},
		{"Email NOT IN ('jo@example.com')", []string{"smith", "O'Brien", "100%_Real", "Empty"}},
		{"Email NOT IN ('jo@example.com', null)", []string{"smith", "100%_Real"}},
		{"LastName < 'O'", []string{"100%_Real", "Empty"}},
		{"LastName >= 's'", []string{"Smith", "smith"}},
		{"Email > 'b'", []string{"Smith", "100%_Real"}},
		{"Email < null", []string{}},
		// LIKE: case-insensitive, % and _, escapes, nulls never match.
		{"LastName LIKE 'sm%'", []string{"Smith", "smith"}},
		{"LastName LIKE '%IT%'", []string{"Smith", "smith"}},
		{"LastName LIKE 'Smit_'", []string{"Smith", "smith"}},
		{"LastName LIKE 'Smi_'", []string{}},
		{"LastName LIKE '%'", []string{"Smith", "smith", "O'Brien", "100%_Real", "Empty"}},
		{"LastName LIKE '100\\%\\_%'", []string{"100%_Real"}},
		{"LastName LIKE '1%\\_R%'", []string{"100%_Real"}},
		{"LastName LIKE '_\\%%'", []string{}},
		{"LastName LIKE 'o\\'%'", []string{"O'Brien"}},
		{"FirstName LIKE 'zo_'", []string{"100%_Real"}},
		{"FirstName LIKE 'ZOË'", []string{"100%_Real"}},
		{"Email LIKE '%example.com'", []string{"Smith", "smith"}},
		{"Email LIKE '%'", []string{"Smith", "smith", "100%_Real"}},
		{"Email LIKE null", []string{}},
		{"NOT Email LIKE '%.com'", []string{"O'Brien", "100%_Real", "Empty"}},
		{"Description LIKE '%'", []string{}},
		// Numbers: int and double, negative literals, IN.
		{"Score__c > 2", []string{"Smith", "Empty"}},
		{"Score__c >= 2", []string{"Smith", "smith", "Empty"}},
		{"Score__c < 0", []string{"100%_Real"}},
		{"Score__c <= -1.0", []string{"100%_Real"}},
		{"Score__c = 10.5", []string{"Smith"}},
		{"Score__c != 10.5", []string{"smith", "O'Brien", "100%_Real", "Empty"}},
		{"Score__c = null", []string{"O'Brien"}},
		{"Visits__c IN (0, 12)", []string{"smith", "100%_Real"}},
		{"Visits__c NOT IN (0, 12)", []string{"Smith", "O'Brien", "Empty"}},
		{"Visits__c > 1e1", []string{"100%_Real"}},
		// Booleans: a checkbox is never null.
		{"Active__c = TRUE", []string{"Smith", "100%_Real"}},
		{"Active__c = false", []string{"smith", "O'Brien", "Empty"}},
		{"Active__c != true", []string{"smith", "O'Brien", "Empty"}},
		{"Active__c = null", []string{}},
		{"Active__c IN (true)", []string{"Smith", "100%_Real"}},
		// Ids and references: 15 or 18 characters, case-sensitive.
		{"Id = '003000000000001AAA'", []string{"Smith"}},
		{"Id = '003000000000001'", []string{"Smith"}},
		{"Id = '003000000000001ZZZ'", []string{"Smith"}},
		{"Id IN ('003000000000001', '003000000000004AAA')", []string{"Smith", "100%_Real"}},
		{"AccountId = '001000000000001AAA'", []string{"Smith", "100%_Real"}},
		{"AccountId = null", []string{"O'Brien"}},
		{"AccountId != null", []string{"Smith", "smith", "100%_Real", "Empty"}},
		{"Id > '003000000000004'", []string{"Empty"}},
		// Dates and datetimes.
		{"Birthdate = 1990-05-01", []string{"Smith"}},
		{"Birthdate < 1990-05-01", []string{"smith"}},
		{"Birthdate <= 1990-05-01", []string{"Smith", "smith"}},
		{"Birthdate > 1990-05-01", []string{"100%_Real", "Empty"}},
		{"Birthdate IN (1990-05-01, 2000-02-29)", []string{"Smith", "100%_Real"}},
		{"Birthdate = null", []string{"O'Brien"}},
		{"CreatedDate = 2026-11-27T09:00:00Z", []string{"Smith"}},
		{"CreatedDate = 2026-11-27T10:00:00+01:00", []string{"Smith"}},
		{"CreatedDate = 2026-11-27T04:00:00-05:00", []string{"Smith"}},
		{"CreatedDate = 2026-11-26T23:59:59.999Z", []string{"smith"}},
		{"CreatedDate < 2026-11-27T00:00:00Z", []string{"smith", "O'Brien", "100%_Real"}},
		{"CreatedDate > 2026-11-27T09:00:00Z", []string{"Empty"}},
		{"CreatedDate >= 2026-11-27T09:00:00Z", []string{"Smith", "Empty"}},
		{"SystemModstamp >= 2026-11-27T10:00:00Z", []string{"smith", "O'Brien", "Empty"}},
		{"SystemModstamp > 2026-11-27T10:00:00Z", []string{"O'Brien", "Empty"}},
		{"SystemModstamp >= 2026-11-27T10:00:00.001Z", []string{"O'Brien", "Empty"}},
		{"CreatedDate = TODAY", []string{"Smith"}},
		{"CreatedDate = YESTERDAY", []string{"smith"}},
		{"CreatedDate > TODAY", []string{"Empty"}},
		{"CreatedDate >= TODAY", []string{"Smith", "Empty"}},
		{"CreatedDate < TODAY", []string{"smith", "O'Brien", "100%_Real"}},
		{"CreatedDate <= TODAY", []string{"Smith", "smith", "O'Brien", "100%_Real"}},
		{"CreatedDate != TODAY", []string{"smith", "O'Brien", "100%_Real", "Empty"}},
		{"CreatedDate = LAST_N_DAYS:60", []string{"Smith", "smith", "O'Brien"}},
		{"CreatedDate IN (TODAY, LAST_YEAR)", []string{"Smith", "100%_Real"}},
		{"Birthdate = TODAY", []string{"Empty"}},
		// Parent paths, including null, dangling and custom relationships.
		{"Account.Name = 'acme'", []string{"Smith", "100%_Real"}},
		{"Account.Name != 'acme'", []string{"smith", "O'Brien", "Empty"}},
		{"Account.Name = null", []string{"O'Brien", "Empty"}},
		{"Account.Owner.Name = 'Cy Rep'", []string{"Smith", "100%_Real"}},
		{"Account.Owner.Manager.Manager.Name LIKE 'ada%'", []string{"Smith", "100%_Real"}},
		{"Favorite__r.Name = 'Globex'", []string{"100%_Real"}},
		{"favorite__R.name = 'globex'", []string{"100%_Real"}},
		{"Account.AnnualRevenue > 1000000", []string{"Smith", "100%_Real"}},
		// AND, OR, NOT and parentheses.
		{"LastName = 'smith' AND Active__c = true", []string{"Smith"}},
		{"LastName = 'smith' and Active__c = true and Score__c > 100", []string{}},
		{"LastName = 'O\\'Brien' OR Score__c > 5", []string{"Smith", "O'Brien", "Empty"}},
		{"NOT LastName = 'smith'", []string{"O'Brien", "100%_Real", "Empty"}},
		{"NOT (LastName = 'smith' OR Email = null)", []string{"100%_Real"}},
		{"(LastName = 'smith' OR Email = null) AND Active__c = false", []string{"smith", "O'Brien", "Empty"}},
		{"LastName = 'smith' OR (Email = null AND Active__c = false)", []string{"Smith", "smith", "O'Brien", "Empty"}},
		{"NOT NOT LastName = 'Empty'", []string{"Empty"}},
		{"((LastName = 'Empty'))", []string{"Empty"}},
		{"NOT Active__c = true AND NOT Email = null", []string{"smith"}},
		// Deleted rows are invisible to query.
		{"LastName = 'Eted'", []string{}},
		{"IsDeleted = true", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.where, func(t *testing.T) {
			t.Parallel()
			res, err := run(t, "SELECT Id, LastName FROM Contact WHERE "+tc.where, ExecOptions{})
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if diff := cmp.Diff(tc.want, lastNames(res)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if res.TotalSize != len(tc.want) {
				t.Errorf("TotalSize = %d, want %d", res.TotalSize, len(tc.want))
			}
		})
	}
}

func TestQueryAllSeesDeleted(t *testing.T) {
	t.Parallel()
	res, err := run(t, "SELECT LastName, IsDeleted FROM Contact WHERE IsDeleted = true", ExecOptions{IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Eted"}, lastNames(res)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	res, err = run(t, "SELECT COUNT() FROM Contact", ExecOptions{IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.TotalSize != 6 {
		t.Errorf("queryAll COUNT() = %d, want 6", res.TotalSize)
	}
}

// TestDateLiterals checks each literal's range against one contact per day
// from 2023 to 2028, with today Friday 2026-11-27.
func TestDateLiterals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lit, from, to string // inclusive range of matching days
	}{
		{"TODAY", "2026-11-27", "2026-11-27"},
		{"YESTERDAY", "2026-11-26", "2026-11-26"},
		{"TOMORROW", "2026-11-28", "2026-11-28"},
		{"THIS_WEEK", "2026-11-22", "2026-11-28"},
		{"LAST_WEEK", "2026-11-15", "2026-11-21"},
		{"NEXT_WEEK", "2026-11-29", "2026-12-05"},
		{"THIS_MONTH", "2026-11-01", "2026-11-30"},
		{"LAST_MONTH", "2026-10-01", "2026-10-31"},
		{"NEXT_MONTH", "2026-12-01", "2026-12-31"},
		{"THIS_QUARTER", "2026-10-01", "2026-12-31"},
		{"LAST_QUARTER", "2026-07-01", "2026-09-30"},
		{"NEXT_QUARTER", "2027-01-01", "2027-03-31"},
		{"THIS_YEAR", "2026-01-01", "2026-12-31"},
		{"LAST_YEAR", "2025-01-01", "2025-12-31"},
		{"NEXT_YEAR", "2027-01-01", "2027-12-31"},
		{"LAST_90_DAYS", "2026-08-29", "2026-11-27"},
		{"NEXT_90_DAYS", "2026-11-28", "2027-02-25"},
		{"LAST_N_DAYS:7", "2026-11-20", "2026-11-27"},
		{"LAST_N_DAYS:1", "2026-11-26", "2026-11-27"},
		{"NEXT_N_DAYS:7", "2026-11-28", "2026-12-04"},
		{"N_DAYS_AGO:3", "2026-11-24", "2026-11-24"},
		{"LAST_N_WEEKS:2", "2026-11-08", "2026-11-21"},
		{"NEXT_N_WEEKS:2", "2026-11-29", "2026-12-12"},
		{"N_WEEKS_AGO:2", "2026-11-08", "2026-11-14"},
		{"LAST_N_MONTHS:2", "2026-09-01", "2026-10-31"},
		{"NEXT_N_MONTHS:2", "2026-12-01", "2027-01-31"},
		{"N_MONTHS_AGO:2", "2026-09-01", "2026-09-30"},
		{"LAST_N_QUARTERS:1", "2026-07-01", "2026-09-30"},
		{"NEXT_N_QUARTERS:2", "2027-01-01", "2027-06-30"},
		{"N_QUARTERS_AGO:1", "2026-07-01", "2026-09-30"},
		{"LAST_N_YEARS:2", "2024-01-01", "2025-12-31"},
		{"NEXT_N_YEARS:1", "2027-01-01", "2027-12-31"},
		{"N_YEARS_AGO:1", "2025-01-01", "2025-12-31"},
		{"today", "2026-11-27", "2026-11-27"},
		{"last_n_days:0", "2026-11-27", "2026-11-27"},
	}
	schema := newTestSchema()
	store := newTestStore()
	n := 0
	for d := day("2023-01-01"); d.Before(day("2029-01-01")); d = d.AddDate(0, 0, 1) {
		n++
		store.add("Contact", Record{"Id": sfid("Contact", n), "LastName": d.Format("2006-01-02"), "Birthdate": d,
			"CreatedDate": d.Add(12 * time.Hour)})
	}
	for _, tc := range tests {
		for _, field := range []string{"Birthdate", "CreatedDate"} {
			t.Run(tc.lit+"/"+field, func(t *testing.T) {
				t.Parallel()
				q, err := Parse("SELECT LastName FROM Contact WHERE " + field + " = " + tc.lit + " ORDER BY " + field)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Execute(q, schema, store, ExecOptions{Now: fixedNow})
				if err != nil {
					t.Fatal(err)
				}
				got := lastNames(res)
				want := []string{}
				for d := day(tc.from); !d.After(day(tc.to)); d = d.AddDate(0, 0, 1) {
					want = append(want, d.Format("2006-01-02"))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("days (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestDateLiteralTimeZone checks that TODAY on a datetime field means the
// org's local day, and on a date field the org's local date.
func TestDateLiteralTimeZone(t *testing.T) {
	t.Parallel()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skipf("no tz data: %v", err)
	}
	// 03:00 UTC on the 27th is 19:00 on the 26th in Los Angeles (PST, UTC-8),
	// so TODAY is [2026-11-26T08:00Z, 2026-11-27T08:00Z).
	now := ts("2026-11-27T03:00:00Z")
	schema := newTestSchema()
	store := newTestStore()
	for i, s := range []string{"2026-11-26T07:59:59.999Z", "2026-11-26T08:00:00Z", "2026-11-27T07:59:59.999Z", "2026-11-27T08:00:00Z"} {
		store.add("Contact", Record{"Id": sfid("Contact", i+1), "LastName": s, "CreatedDate": ts(s), "Birthdate": day(s[:10])})
	}
	tests := []struct {
		where string
		loc   *time.Location
		want  []string
	}{
		{"CreatedDate = TODAY", la, []string{"2026-11-26T08:00:00Z", "2026-11-27T07:59:59.999Z"}},
		{"CreatedDate < TODAY", la, []string{"2026-11-26T07:59:59.999Z"}},
		{"CreatedDate > TODAY", la, []string{"2026-11-27T08:00:00Z"}},
		{"CreatedDate = TODAY", nil, []string{"2026-11-27T07:59:59.999Z", "2026-11-27T08:00:00Z"}},
		{"Birthdate = TODAY", la, []string{"2026-11-26T07:59:59.999Z", "2026-11-26T08:00:00Z"}},
		{"Birthdate = TODAY", nil, []string{"2026-11-27T07:59:59.999Z", "2026-11-27T08:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.where+"/"+tc.loc.String(), func(t *testing.T) {
			t.Parallel()
			q, err := Parse("SELECT LastName FROM Contact WHERE " + tc.where)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Execute(q, schema, store, ExecOptions{Now: now, Location: tc.loc})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, lastNames(res)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExecuteErrors covers the errors that need the schema.
func TestExecuteErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q        string
		code     string
		contains string
	}{
		{"SELECT Id FROM Foo", CodeInvalidType, "sObject type 'Foo' is not supported."},
		{"SELECT Id FROM Foo__c", CodeInvalidType, "ERROR at Row:1:Column:16\nsObject type 'Foo__c' is not supported. If you are attempting to use a custom object, be sure to append the '__c'"},
		{"SELECT Foo FROM Contact", CodeInvalidField, "\nSELECT Foo FROM Contact\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id FROM Contact WHERE Foo = 1", CodeInvalidField, "No such column 'Foo' on entity 'Contact'"},
		{"SELECT Id FROM Contact ORDER BY Foo", CodeInvalidField, "No such column 'Foo' on entity 'Contact'"},
		{"SELECT Account.Foo FROM Contact", CodeInvalidField, "No such column 'Foo' on entity 'Account'"},
		{"SELECT Acount.Name FROM Contact", CodeInvalidField, "Didn't understand relationship 'Acount' in field path."},
		{"SELECT Favorite__c.Name FROM Contact", CodeInvalidField, "Didn't understand relationship 'Favorite__c' in field path."},
		{"SELECT Account FROM Contact", CodeInvalidField, "No such column 'Account' on entity 'Contact'"},
		{"SELECT Account.Owner.Manager.Manager.Manager.Manager.Name FROM Contact", CodeMalformedQuery, "cannot query more than 5 levels"},
		{"SELECT Id, id FROM Contact", CodeMalformedQuery, "duplicate field selected: id"},
		{"SELECT Account.Name, account.name FROM Contact", CodeMalformedQuery, "duplicate field selected: account.name"},
		{"SELECT Id FROM Contact WHERE Score__c LIKE '1%'", CodeInvalidFilterOp, "invalid operator on double field"},
		{"SELECT Id FROM Contact WHERE Id LIKE '003%'", CodeInvalidFilterOp, "invalid operator on id field"},
		{"SELECT Id FROM Contact WHERE Active__c > false", CodeInvalidFilterOp, "invalid operator on boolean field"},
		{"SELECT Id FROM Contact WHERE Birthdate LIKE '1990%'", CodeInvalidFilterOp, "invalid operator on date field"},
		{"SELECT Id FROM Contact WHERE Id = 'abc'", CodeInvalidFilterOp, "invalid ID field: abc"},
		{"SELECT Id FROM Contact WHERE AccountId IN ('001000000000001', 'nope')", CodeInvalidFilterOp, "invalid ID field: nope"},
		{"SELECT Id FROM Contact WHERE Score__c = '1'", CodeInvalidField, "value of filter criterion for field 'Score__c' must be of type double and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE Visits__c = 'x'", CodeInvalidField, "must be of type int and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE LastName = 5", CodeInvalidField, "field 'LastName' must be of type string and should be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE LastName LIKE 5", CodeInvalidField, "must be of type string"},
		{"SELECT Id FROM Contact WHERE Active__c = 'true'", CodeInvalidField, "must be of type boolean"},
		{"SELECT Id FROM Contact WHERE Birthdate = '2026-01-01'", CodeInvalidField, "must be of type date and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE Birthdate = 2026-01-01T00:00:00Z", CodeInvalidField, "must be of type date"},
		{"SELECT Id FROM Contact WHERE CreatedDate = 2026-01-01", CodeInvalidField, "field 'CreatedDate' must be of type dateTime"},
		{"SELECT Id FROM Contact WHERE CreatedDate IN (TODAY, 5)", CodeInvalidField, "must be of type dateTime"},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			t.Parallel()
			_, err := run(t, tc.q, ExecOptions{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.contains) {
				t.Errorf("error = %s %q, want %s containing %q", e.Code, e.Message, tc.code, tc.contains)
			}
		})
	}
}
