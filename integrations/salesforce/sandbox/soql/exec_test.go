package soql

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOrderLimitOffset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tail string
		want []string
	}{
		{"ORDER BY LastName", []string{"100%_Real", "Empty", "O'Brien", "Smith", "smith"}},
		{"ORDER BY lastname ASC", []string{"100%_Real", "Empty", "O'Brien", "Smith", "smith"}},
		{"ORDER BY LastName DESC", []string{"Smith", "smith", "O'Brien", "Empty", "100%_Real"}},
		{"ORDER BY Score__c", []string{"O'Brien", "100%_Real", "smith", "Empty", "Smith"}},
		{"ORDER BY Score__c NULLS LAST", []string{"100%_Real", "smith", "Empty", "Smith", "O'Brien"}},
		{"ORDER BY Score__c DESC", []string{"Smith", "Empty", "smith", "100%_Real", "O'Brien"}},
		{"ORDER BY Score__c DESC NULLS FIRST", []string{"O'Brien", "Smith", "Empty", "smith", "100%_Real"}},
		{"ORDER BY Visits__c", []string{"O'Brien", "smith", "Smith", "Empty", "100%_Real"}},
		{"ORDER BY Email", []string{"O'Brien", "Empty", "smith", "Smith", "100%_Real"}},
		{"ORDER BY Birthdate DESC", []string{"Empty", "100%_Real", "Smith", "smith", "O'Brien"}},
		{"ORDER BY SystemModstamp, Id", []string{"100%_Real", "Smith", "smith", "O'Brien", "Empty"}},
		{"ORDER BY SystemModstamp DESC, Id", []string{"Empty", "O'Brien", "smith", "Smith", "100%_Real"}},
		{"ORDER BY Account.Name, LastName", []string{"Empty", "O'Brien", "100%_Real", "Smith", "smith"}},
		{"ORDER BY Account.Name DESC NULLS LAST, LastName DESC", []string{"smith", "Smith", "100%_Real", "O'Brien", "Empty"}},
		{"ORDER BY Active__c, LastName", []string{"Empty", "O'Brien", "smith", "100%_Real", "Smith"}},
		{"ORDER BY Id DESC", []string{"Empty", "100%_Real", "O'Brien", "smith", "Smith"}},
		{"ORDER BY Score__c LIMIT 2", []string{"O'Brien", "100%_Real"}},
		{"ORDER BY Score__c LIMIT 2 OFFSET 2", []string{"smith", "Empty"}},
		{"ORDER BY Score__c OFFSET 4", []string{"Smith"}},
		{"ORDER BY Score__c OFFSET 5", []string{}},
		{"ORDER BY Score__c OFFSET 2000", []string{}},
		{"LIMIT 0", []string{}},
		{"LIMIT 3", []string{"Smith", "smith", "O'Brien"}},
		{"OFFSET 3", []string{"100%_Real", "Empty"}},
		{"WHERE Active__c = false ORDER BY LastName LIMIT 2", []string{"Empty", "O'Brien"}},
	}
	for _, tc := range tests {
		t.Run(tc.tail, func(t *testing.T) {
			t.Parallel()
			res, err := run(t, "SELECT LastName FROM Contact "+tc.tail, ExecOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, lastNames(res)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if res.TotalSize != len(tc.want) || res.CountOnly {
				t.Errorf("TotalSize = %d CountOnly = %v, want %d false", res.TotalSize, res.CountOnly, len(tc.want))
			}
		})
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q    string
		want int
	}{
		{"SELECT COUNT() FROM Contact", 5},
		{"SELECT count() FROM contact WHERE LastName = 'smith'", 2},
		{"SELECT COUNT() FROM Contact WHERE Account.Name = 'Acme'", 2},
		{"SELECT COUNT() FROM Contact WHERE LastName = 'nobody'", 0},
		{"SELECT COUNT() FROM Contact LIMIT 1", 1},
		{"SELECT COUNT() FROM Contact OFFSET 4", 1},
		{"SELECT COUNT() FROM Contact OFFSET 9", 0},
		{"SELECT COUNT() FROM Account", 2},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			t.Parallel()
			res, err := run(t, tc.q, ExecOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.CountOnly || res.TotalSize != tc.want || len(res.Rows) != 0 {
				t.Errorf("got CountOnly=%v TotalSize=%d rows=%d, want true %d 0", res.CountOnly, res.TotalSize, len(res.Rows), tc.want)
			}
		})
	}
}

func TestRowJSON(t *testing.T) {
	t.Parallel()
	const (
		contactURL = `/services/data/v66.0/sobjects/Contact/`
		acme       = `{"attributes":{"type":"Account","url":"/services/data/v66.0/sobjects/Account/001000000000001AAA"}`
		cy         = `{"attributes":{"type":"User","url":"/services/data/v66.0/sobjects/User/005000000000003AAA"}`
	)
	tests := []struct {
		name string
		q    string
		opts ExecOptions
		want []string
	}{
		{
			name: "every type, merged parents, null and dangling parents",
			q: "SELECT Id, LastName, Email, Score__c, Visits__c, Active__c, Birthdate, CreatedDate, Account.Name, Account.Owner.Name, " +
				"Account.AnnualRevenue, Owner.Email FROM Contact WHERE Id IN ('003000000000001AAA', '003000000000003', '003000000000006AAA') ORDER BY Id",
			want: []string{
				`{"attributes":{"type":"Contact","url":"` + contactURL + `003000000000001AAA"},"Id":"003000000000001AAA","LastName":"Smith",` +
					`"Email":"jo@example.com","Score__c":10.5,"Visits__c":3,"Active__c":true,"Birthdate":"1990-05-01",` +
					`"CreatedDate":"2026-11-27T09:00:00.000+0000","Account":` + acme + `,"Name":"Acme","Owner":` + cy + `,"Name":"Cy Rep"},` +
					`"AnnualRevenue":1.5E7},"Owner":` + cy + `,"Email":"cy@tandem.test"}}`,
				`{"attributes":{"type":"Contact","url":"` + contactURL + `003000000000003AAA"},"Id":"003000000000003AAA","LastName":"O'Brien",` +
					`"Email":null,"Score__c":null,"Visits__c":null,"Active__c":false,"Birthdate":null,` +
					`"CreatedDate":"2026-10-15T12:00:00.000+0000","Account":null,"Owner":` + cy + `,"Email":"cy@tandem.test"}}`,
				`{"attributes":{"type":"Contact","url":"` + contactURL + `003000000000006AAA"},"Id":"003000000000006AAA","LastName":"Empty",` +
					`"Email":null,"Score__c":7.0,"Visits__c":7,"Active__c":false,"Birthdate":"2026-11-27",` +
					`"CreatedDate":"2026-11-28T00:00:00.000+0000","Account":null,"Owner":` + cy + `,"Email":"cy@tandem.test"}}`,
			},
		},
		{
			name: "canonical names, API version, Id not selected",
			q:    "select lastname, account.name, ACCOUNT.industry from contact where lastname = 'smith' and account.name = 'globex'",
			opts: ExecOptions{APIVersion: "58.0"},
			want: []string{
				`{"attributes":{"type":"Contact","url":"/services/data/v58.0/sobjects/Contact/003000000000002AAA"},"LastName":"smith",` +
					`"Account":{"attributes":{"type":"Account","url":"/services/data/v58.0/sobjects/Account/001000000000002AAA"},"Name":"Globex","Industry":null}}`,
			},
		},
		{
			name: "alias and custom relationship",
			q:    "SELECT c.FirstName, c.Favorite__r.Name, Favorite__c FROM Contact c WHERE c.Favorite__r.Name != null",
			want: []string{
				`{"attributes":{"type":"Contact","url":"` + contactURL + `003000000000004AAA"},"FirstName":"Zoë",` +
					`"Favorite__r":{"attributes":{"type":"Account","url":"/services/data/v66.0/sobjects/Account/001000000000002AAA"},"Name":"Globex"},` +
					`"Favorite__c":"001000000000002AAA"}`,
			},
		},
		{
			name: "five levels",
			q:    "SELECT Account.Owner.Manager.Manager.Name FROM Contact WHERE Id = '003000000000001'",
			want: []string{
				`{"attributes":{"type":"Contact","url":"` + contactURL + `003000000000001AAA"},"Account":` + acme + `,"Owner":` + cy + `,` +
					`"Manager":{"attributes":{"type":"User","url":"/services/data/v66.0/sobjects/User/005000000000002AAA"},` +
					`"Manager":{"attributes":{"type":"User","url":"/services/data/v66.0/sobjects/User/005000000000001AAA"},"Name":"Ada Boss"}}}}}`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := run(t, tc.q, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rows {
				b, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(b))
				if !json.Valid(b) {
					t.Errorf("invalid JSON %s", b)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRowGet(t *testing.T) {
	t.Parallel()
	res, err := run(t, "SELECT LastName, Account.Name, Account.Owner.Name, Score__c FROM Contact WHERE LastName = 'smith' ORDER BY Score__c DESC", ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(res.Rows))
	}
	r := res.Rows[0]
	tests := []struct {
		path string
		want any
	}{
		{"LastName", "Smith"},
		{"lastname", "Smith"},
		{"Account.Name", "Acme"},
		{"account.owner.name", "Cy Rep"},
		{"Score__c", 10.5},
		{"Email", nil},
		{"Account", nil},
		{"Account.Industry", nil},
		{"Nope.Name", nil},
		{"", nil},
	}
	for _, tc := range tests {
		if got := r.Get(tc.path); got != tc.want {
			t.Errorf("Get(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if got := r.ID(); got != sfid("Contact", 1) {
		t.Errorf("ID() = %q", got)
	}
	if got := res.Rows[1].Get("Account.Owner.Name"); got != nil {
		t.Errorf("Get through an ownerless account = %v, want nil", got)
	}
	var zero Row
	if zero.Get("Id") != nil || zero.ID() != "" {
		t.Error("zero Row should read as empty")
	}
	if b, err := json.Marshal(zero); err != nil || string(b) != "null" {
		t.Errorf("zero Row JSON = %s, %v", b, err)
	}
}

// TestRowsAreSnapshots checks that rows keep their values when the store's
// records change after Execute, as a later result page would see them.
func TestRowsAreSnapshots(t *testing.T) {
	t.Parallel()
	schema, store := newFixture()
	q, err := Parse("SELECT LastName, Account.Name FROM Contact WHERE Id = '003000000000001'")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Execute(q, schema, store, ExecOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	store.rows["Contact"][0]["LastName"] = "Changed"
	store.rows["Account"][0]["Name"] = "Changed"
	if got := res.Rows[0].Get("LastName"); got != "Smith" {
		t.Errorf("LastName = %v after store change, want Smith", got)
	}
	if got := res.Rows[0].Get("Account.Name"); got != "Acme" {
		t.Errorf("Account.Name = %v after store change, want Acme", got)
	}
}

func TestJavaDouble(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{1500, "1500.0"},
		{0.25, "0.25"},
		{-2.5, "-2.5"},
		{0.001, "0.001"},
		{9999999, "9999999.0"},
		{1.5e7, "1.5E7"},
		{12345678.9, "1.23456789E7"},
		{1e-4, "1.0E-4"},
		{-3.2e-5, "-3.2E-5"},
		{1e21, "1.0E21"},
	}
	for _, tc := range tests {
		if got := javaDouble(tc.in); got != tc.want {
			t.Errorf("javaDouble(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendValue(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		v    any
		typ  string
		want string
	}{
		{"a<b>&\"c\"\\\n\t\x01é", "string", `"a<b>&\"c\"\\\n\t\u0001é"`},
		{"bad\xffutf8", "string", `"bad\ufffdutf8"`},
		{"", "string", "null"},
		{nil, "boolean", "false"},
		{nil, "double", "null"},
		{int64(42), "int", "42"},
		{42.0, "int", "42"},
		{int64(42), "double", "42.0"},
		{int64(5), "currency", "5.0"},
		{12.5, "percent", "12.5"},
		{time.Date(2026, 11, 27, 11, 0, 0, 123456789, berlin), "datetime", `"2026-11-27T10:00:00.123+0000"`},
		{time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), "date", `"2026-11-27"`},
		{"2026-11-27T11:00:00+01:00", "datetime", `"2026-11-27T10:00:00.000+0000"`},
		{"2026-11-27", "date", `"2026-11-27"`},
		{[]string{"x"}, "string", `["x"]`},
	}
	for _, tc := range tests {
		if got := string(appendValue(nil, tc.v, tc.typ)); got != tc.want {
			t.Errorf("appendValue(%#v, %s) = %s, want %s", tc.v, tc.typ, got, tc.want)
		}
	}
}

// benchFixture builds n contacts across 100 accounts, with modstamps one
// second apart in a shuffled order.
func benchFixture(n int) (*testSchema, *testStore) {
	st := newTestStore()
	base := ts("2026-11-01T00:00:00Z")
	for a := 1; a <= 100; a++ {
		st.add("Account", Record{"Id": sfid("Account", a), "Name": fmt.Sprintf("Account %03d", a)})
	}
	for i := 1; i <= n; i++ {
		j := (i * 7919) % n // a permutation, so the sort has work to do
		st.add("Contact", Record{
			"Id": sfid("Contact", i), "LastName": fmt.Sprintf("Last%05d", j), "FirstName": "First",
			"Email": fmt.Sprintf("c%05d@example.com", i), "AccountId": sfid("Account", 1+i%100),
			"SystemModstamp": base.Add(time.Duration(j) * time.Second), "Score__c": float64(i % 50),
		})
	}
	return newTestSchema(), st
}

func TestBenchFixtureQuery(t *testing.T) {
	t.Parallel()
	schema, store := benchFixture(1000)
	q, err := Parse("SELECT Id, LastName FROM Contact WHERE SystemModstamp >= 2026-11-01T00:00:10Z ORDER BY SystemModstamp, Id LIMIT 3")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Execute(q, schema, store, ExecOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Last00010", "Last00011", "Last00012"}, lastNames(res)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func BenchmarkExecute(b *testing.B) {
	schema, store := benchFixture(10000)
	queries := map[string]string{
		"incremental": "SELECT Id, LastName, Email, SystemModstamp, Account.Name FROM Contact WHERE SystemModstamp >= 2026-11-01T00:00:00Z ORDER BY SystemModstamp, Id",
		"filtered":    "SELECT Id, LastName FROM Contact WHERE Email LIKE '%1%@example.com' AND Score__c > 10 ORDER BY LastName",
		"count":       "SELECT COUNT() FROM Contact WHERE Account.Name = 'Account 007'",
	}
	for name, text := range queries {
		b.Run(name, func(b *testing.B) {
			q, err := Parse(text)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Execute(q, schema, store, ExecOptions{Now: fixedNow}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("marshal-10000", func(b *testing.B) {
		q, _ := Parse(queries["incremental"])
		res, err := Execute(q, schema, store, ExecOptions{Now: fixedNow})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		buf := make([]byte, 0, 4<<20)
		for b.Loop() {
			buf = buf[:0]
			for _, r := range res.Rows {
				buf = r.AppendJSON(buf)
			}
		}
	})
}
