package sandbox

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// queryRecords runs a query or queryAll and returns its records.
func (b *bundle) queryRecords(t *testing.T, resource, q string) []map[string]any {
	t.Helper()
	r := b.do(t, "GET", "/"+resource+"?q="+url.QueryEscape(q), nil)
	if r.status != http.StatusOK {
		t.Fatalf("%s %q: %d %s", resource, q, r.status, r.body)
	}
	var page struct {
		Records []map[string]any `json:"records"`
	}
	r.json(t, &page)
	return page.Records
}

func TestMergeContacts(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	start := b.srv.Now().Add(-time.Minute).Format(time.RFC3339)
	acct := b.create(t, "Account", map[string]any{"Name": "Shop"})
	master := b.create(t, "Contact", map[string]any{"LastName": "Silva", "FirstName": "Ana", "Email": "ana@example.com", "AccountId": acct})
	dup1 := b.create(t, "Contact", map[string]any{"LastName": "Silva", "Email": "ana.silva@example.com", "Phone": "555"})
	dup2 := b.create(t, "Contact", map[string]any{"LastName": "Silva A."})
	opp := b.create(t, "Opportunity", map[string]any{"Name": "Sale", "StageName": "Prospecting", "CloseDate": "2026-04-01", "ContactId": dup1})
	other := b.create(t, "Opportunity", map[string]any{"Name": "Other", "StageName": "Prospecting", "CloseDate": "2026-04-01"})
	b.srv.Advance(time.Hour)
	mergedAt := sfDateTime(b.srv.Now())

	// The 15-character form of an id works as in the API.
	r := b.do(t, "POST", b.ts.URL+"/_sandbox/merge", map[string]any{"object": "Contact", "master": master[:15], "duplicates": []string{dup1, dup2}})
	if r.status != http.StatusOK {
		t.Fatalf("merge: %d %s", r.status, r.body)
	}
	var res MergeResult
	r.json(t, &res)
	if want := (MergeResult{ID: master, MergedRecordIDs: []string{dup1, dup2}, UpdatedRelatedIDs: []string{opp}, Success: true}); !cmp.Equal(res, want) {
		t.Errorf("merge result: %s", cmp.Diff(want, res))
	}

	// The duplicates are gone from query, in queryAll as deleted with
	// MasterRecordId pointing at the master.
	if got := b.queryRecords(t, "query", "SELECT Id FROM Contact WHERE LastName LIKE 'Silva%'"); len(got) != 1 || got[0]["Id"] != master {
		t.Errorf("query after merge: %v", got)
	}
	all := b.queryRecords(t, "queryAll", "SELECT Id, IsDeleted, MasterRecordId, SystemModstamp, LastName, Email, Phone FROM Contact WHERE LastName LIKE 'Silva%' ORDER BY CreatedDate")
	want := []map[string]any{
		{"Id": master, "IsDeleted": false, "MasterRecordId": nil, "SystemModstamp": mergedAt, "LastName": "Silva", "Email": "ana@example.com", "Phone": nil},
		{"Id": dup1, "IsDeleted": true, "MasterRecordId": master, "SystemModstamp": mergedAt, "LastName": "Silva", "Email": "ana.silva@example.com", "Phone": "555"},
		{"Id": dup2, "IsDeleted": true, "MasterRecordId": master, "SystemModstamp": mergedAt, "LastName": "Silva A.", "Email": nil, "Phone": nil},
	}
	for _, rec := range all {
		delete(rec, "attributes")
	}
	if !cmp.Equal(all, want) {
		t.Errorf("queryAll after merge: %s", cmp.Diff(want, all))
	}
	// A retrieve of a merged record answers as for any deleted record.
	if r := b.do(t, "GET", "/sobjects/Contact/"+dup1, nil); r.status != http.StatusNotFound {
		t.Errorf("retrieve merged record: %d %s", r.status, r.body)
	}

	// getDeleted lists the merged records.
	b.srv.Advance(2 * time.Minute)
	var del struct {
		DeletedRecords []struct{ ID, DeletedDate string } `json:"deletedRecords"`
	}
	r = b.do(t, "GET", "/sobjects/Contact/deleted/?start="+start+"&end="+b.srv.Now().Format(time.RFC3339), nil)
	r.json(t, &del)
	var ids []string
	for _, d := range del.DeletedRecords {
		ids = append(ids, d.ID)
		if d.DeletedDate != mergedAt {
			t.Errorf("deletedDate of %s = %s, want %s", d.ID, d.DeletedDate, mergedAt)
		}
	}
	if !cmp.Equal(ids, []string{dup1, dup2}) {
		t.Errorf("getDeleted after merge = %v, want %v (%s)", ids, []string{dup1, dup2}, r.body)
	}

	// The opportunity moved to the master; the unrelated one did not change.
	opps := b.queryRecords(t, "query", "SELECT Id, ContactId, SystemModstamp FROM Opportunity ORDER BY Name")
	if len(opps) != 2 || opps[1]["Id"] != opp || opps[1]["ContactId"] != master || opps[1]["SystemModstamp"] != mergedAt {
		t.Errorf("re-parented opportunity: %v", opps)
	}
	if opps[0]["Id"] != other || opps[0]["SystemModstamp"] == mergedAt {
		t.Errorf("unrelated opportunity was touched: %v", opps[0])
	}
}

func TestMergeAccountsMovesContacts(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	master := b.create(t, "Account", map[string]any{"Name": "Shop"})
	dup := b.create(t, "Account", map[string]any{"Name": "Shop Inc"})
	c := b.create(t, "Contact", map[string]any{"LastName": "Kept", "AccountId": dup})
	child := b.create(t, "Account", map[string]any{"Name": "Branch", "ParentId": dup})
	res, err := b.srv.Merge("account", master, []string{dup})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(res.UpdatedRelatedIDs, []string{child, c}) && !cmp.Equal(res.UpdatedRelatedIDs, []string{c, child}) {
		t.Errorf("updated related = %v, want the contact and the child account", res.UpdatedRelatedIDs)
	}
	// Deleting an account deletes its contacts; merging one moves them.
	got := b.queryRecords(t, "query", "SELECT Id, AccountId FROM Contact")
	if len(got) != 1 || got[0]["AccountId"] != master {
		t.Errorf("contacts after the account merge: %v", got)
	}
	got = b.queryRecords(t, "query", "SELECT ParentId FROM Account WHERE Name = 'Branch'")
	if len(got) != 1 || got[0]["ParentId"] != master {
		t.Errorf("child account after the merge: %v", got)
	}
}

func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	a := b.create(t, "Contact", map[string]any{"LastName": "A"})
	c := b.create(t, "Contact", map[string]any{"LastName": "C"})
	d := b.create(t, "Contact", map[string]any{"LastName": "D"})
	e := b.create(t, "Contact", map[string]any{"LastName": "E"})
	gone := b.create(t, "Contact", map[string]any{"LastName": "Gone"})
	b.do(t, "DELETE", "/sobjects/Contact/"+gone, nil)
	acct := b.create(t, "Account", map[string]any{"Name": "Acct"})
	opp := b.create(t, "Opportunity", map[string]any{"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-04-01"})
	for _, tc := range []struct {
		name, body, want string
	}{
		{"not mergeable", `{"object":"Opportunity","master":"` + opp + `","duplicates":["` + opp + `"]}`, "cannot be merged"},
		{"unknown object", `{"object":"Nope","master":"` + a + `","duplicates":["` + c + `"]}`, "does not exist"},
		{"no duplicates", `{"object":"Contact","master":"` + a + `","duplicates":[]}`, "give 1 or 2 duplicates"},
		{"too many", `{"object":"Contact","master":"` + a + `","duplicates":["` + c + `","` + d + `","` + e + `"]}`, "at most three records"},
		{"master twice", `{"object":"Contact","master":"` + a + `","duplicates":["` + a + `"]}`, "given twice"},
		{"deleted duplicate", `{"object":"Contact","master":"` + a + `","duplicates":["` + gone + `"]}`, "is deleted"},
		{"wrong type", `{"object":"Contact","master":"` + a + `","duplicates":["` + acct + `"]}`, "is not a Contact id"},
		{"malformed id", `{"object":"Contact","master":"nope","duplicates":["` + c + `"]}`, "is not a Contact id"},
		{"unknown field", `{"object":"Contact","master":"` + a + `","duplicates":["` + c + `"],"extra":1}`, "unknown field"},
		{"empty", `{}`, "name the object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, "POST", b.ts.URL+"/_sandbox/merge", tc.body)
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), tc.want) {
				t.Errorf("%s: %d %s, want 400 mentioning %q", tc.body, r.status, r.body, tc.want)
			}
		})
	}
	// A refused merge changed nothing.
	if got := b.queryRecords(t, "query", "SELECT Id FROM Contact"); len(got) != 4 {
		t.Errorf("%d live contacts after refused merges, want 4", len(got))
	}
}
