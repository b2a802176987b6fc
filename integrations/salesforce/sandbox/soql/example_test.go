package soql_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// orgSchema and orgStore are the smallest Schema and Store: one Contact
// with a parent Account.
type orgSchema struct{}

func (orgSchema) Object(name string) (string, bool) {
	for _, o := range []string{"Contact", "Account"} {
		if strings.EqualFold(o, name) {
			return o, true
		}
	}
	return "", false
}

func (orgSchema) Field(object, field string) (soql.FieldInfo, bool) {
	types := map[string]map[string]string{
		"Contact": {"Id": "id", "IsDeleted": "boolean", "LastName": "string", "AccountId": "reference", "SystemModstamp": "datetime"},
		"Account": {"Id": "id", "IsDeleted": "boolean", "Name": "string"},
	}
	for name, typ := range types[object] {
		if strings.EqualFold(name, field) {
			return soql.FieldInfo{Name: name, Type: typ}, true
		}
	}
	return soql.FieldInfo{}, false
}

func (orgSchema) Relationship(object, rel string) (string, bool) {
	if object == "Contact" && strings.EqualFold(rel, "Account") {
		return "Account", true
	}
	return "", false
}

type orgStore map[string][]soql.Record

func (s orgStore) Records(object string) []soql.Record { return s[object] }

func (s orgStore) Get(object, id string) (soql.Record, bool) {
	for _, r := range s[object] {
		if r["Id"].(string)[:15] == id[:15] {
			return r, true
		}
	}
	return nil, false
}

func ExampleExecute() {
	store := orgStore{
		"Account": {{"Id": "001RM0000000001AAA", "IsDeleted": false, "Name": "Smith Household"}},
		"Contact": {{"Id": "003RM0000000001AAA", "IsDeleted": false, "LastName": "Smith", "AccountId": "001RM0000000001AAA",
			"SystemModstamp": time.Date(2026, 11, 27, 10, 15, 2, 0, time.UTC)}},
	}
	q, err := soql.Parse("SELECT Id, LastName, SystemModstamp, Account.Name FROM Contact " +
		"WHERE SystemModstamp >= 2026-11-27T10:00:00Z ORDER BY SystemModstamp, Id")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := soql.Execute(q, orgSchema{}, store, soql.ExecOptions{Now: time.Now(), APIVersion: "66.0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := json.Marshal(res.Rows)
	fmt.Println(res.TotalSize)
	fmt.Println(string(out))

	_, err = soql.Parse("SELECT Id FORM Contact")
	fmt.Println(err)
	// Output:
	// 1
	// [{"attributes":{"type":"Contact","url":"/services/data/v66.0/sobjects/Contact/003RM0000000001AAA"},"Id":"003RM0000000001AAA","LastName":"Smith","SystemModstamp":"2026-11-27T10:15:02.000+0000","Account":{"attributes":{"type":"Account","url":"/services/data/v66.0/sobjects/Account/001RM0000000001AAA"},"Name":"Smith Household"}}]
	// MALFORMED_QUERY:
	// SELECT Id FORM Contact
	//           ^
	// ERROR at Row:1:Column:11
	// unexpected token: 'FORM'
}
