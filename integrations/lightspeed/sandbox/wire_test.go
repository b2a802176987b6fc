package sandbox_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

// allStrings reports the path of the first non-string scalar, if any.
func allStrings(v any, path string) string {
	switch t := v.(type) {
	case string:
		return ""
	case map[string]any:
		for k, c := range t {
			if p := allStrings(c, path+"."+k); p != "" {
				return p
			}
		}
		return ""
	case []any:
		for _, c := range t {
			if p := allStrings(c, path+"[]"); p != "" {
				return p
			}
		}
		return ""
	}
	return path
}

func TestWireEveryScalarIsAString(t *testing.T) {
	t.Parallel()
	e := seeded(t, 7, 2, 40, 60)
	for _, path := range []string{
		"Customer.json?load_relations=all",
		`Customer.json?load_relations=["Contact","CustomFieldValues","CustomFieldValues.value"]`,
		`Sale.json?load_relations=["SaleLines","SaleLines.Item","SalePayments","SalePayments.PaymentType","Customer","Customer.Contact","Shop"]`,
		"Shop.json?load_relations=all", "Register.json", "Employee.json?load_relations=all", "PaymentType.json",
		"Item.json", "CustomerType.json", "Customer/CustomField.json?load_relations=all", "SaleLine.json", "SalePayment.json",
		"/API/V3/Account.json", "/API/V3/Account/" + acct + ".json", "/API/Session.json",
	} {
		m := e.getJSON(path, http.StatusOK)
		if p := allStrings(m, ""); p != "" {
			t.Errorf("%s: non-string scalar at %s", path, p)
		}
	}
}

func TestWireOneOrManyAndEmptyRelations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})

	// No list yet: the entity key is absent, next/previous are "".
	m := e.getJSON("Customer.json", http.StatusOK)
	if diff := cmp.Diff(map[string]any{"@attributes": map[string]any{"next": "", "previous": ""}}, m); diff != "" {
		t.Errorf("empty list (-want +got):\n%s", diff)
	}

	bare := e.createCustomer(`{"firstName":"Ada"}`)
	one := e.createCustomer(`{"firstName":"Bo","Contact":{"Phones":{"ContactPhone":{"number":"555-0100","useType":"Mobile"}}}}`)
	two := e.createCustomer(`{"firstName":"Cy","Contact":{"Phones":{"ContactPhone":[{"number":"555-0101","useType":"Mobile"},{"number":"555-0102","useType":"Home"}]}}}`)

	// A new customer's Contact exists with "" relations and opt-outs "true".
	c := e.getJSON("Customer/"+bare+".json?load_relations=[\"Contact\"]", http.StatusOK)
	if diff := cmp.Diff(map[string]any{"count": "1"}, c["@attributes"]); diff != "" {
		t.Errorf("single @attributes (-want +got):\n%s", diff)
	}
	contact := c["Customer"].(map[string]any)["Contact"].(map[string]any)
	for k, want := range map[string]any{"Phones": "", "Emails": "", "Websites": "", "Addresses": "", "noEmail": "true", "noPhone": "true", "noMail": "true"} {
		if contact[k] != want {
			t.Errorf("Contact.%s = %#v, want %#v", k, contact[k], want)
		}
	}
	// Null scalars are omitted: no dob was set.
	if _, ok := c["Customer"].(map[string]any)["dob"]; ok {
		t.Error("dob present for a customer without one; want it omitted")
	}

	phones := func(id string) any {
		c := e.getJSON("Customer/"+id+".json?load_relations=[\"Contact\"]", http.StatusOK)
		return c["Customer"].(map[string]any)["Contact"].(map[string]any)["Phones"].(map[string]any)["ContactPhone"]
	}
	if _, ok := phones(one).(map[string]any); !ok {
		t.Errorf("one phone: ContactPhone = %#v, want an object", phones(one))
	}
	if arr, ok := phones(two).([]any); !ok || len(arr) != 2 {
		t.Errorf("two phones: ContactPhone = %#v, want an array of 2", phones(two))
	}

	// Top-level lists collapse the same way.
	if _, ok := e.getJSON("Customer.json?limit=1", http.StatusOK)["Customer"].(map[string]any); !ok {
		t.Error("one-row page: Customer is not an object")
	}
	if rows, ok := e.getJSON("Customer.json", http.StatusOK)["Customer"].([]any); !ok || len(rows) != 3 {
		t.Errorf("three-row page: Customer = %#v, want an array of 3", rows)
	}
}

func TestWireSaleSpellingAndEscaping(t *testing.T) {
	t.Parallel()
	e := seeded(t, 3, 1, 5, 5)
	resp, body := e.do(http.MethodGet, "Sale/1.json", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	sale := decode(t, body)["Sale"].(map[string]any)
	if _, ok := sale["updateTime"]; !ok {
		t.Error("Sale has no updateTime")
	}
	if _, ok := sale["updatetime"]; ok {
		t.Error("Sale emits updatetime; the current API spells it updateTime")
	}
	ts, _ := sale["timeStamp"].(string)
	if _, err := time.Parse("2006-01-02T15:04:05-07:00", ts); err != nil || !strings.HasSuffix(ts, "+00:00") {
		t.Errorf("timeStamp %q is not ISO-8601 with +00:00", ts)
	}
	// The account link is written with PHP's escaped slashes.
	_, body = e.do(http.MethodGet, "/API/V3/Account.json", "")
	if !bytes.Contains(body, []byte(`"\/API\/V3\/Account\/`+acct+`"`)) {
		t.Errorf("Account.json link not escaped as PHP does: %s", body)
	}
}

func TestWireDecimalsAndForeignKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{Seed: &sandbox.SeedOptions{Seed: 1, Shops: 1, Customers: 1, Sales: -1}})
	// Shop 1 taxes at 5% + 9.975%: the docs' own example sale.
	m := e.jsonCall(http.MethodPost, "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"completed":true,
		"SaleLines":{"SaleLine":[{"itemID":1,"unitQuantity":2,"unitPrice":"20"},{"itemID":2,"unitQuantity":1,"unitPrice":9.99}]},
		"SalePayments":{"SalePayment":{"amount":"57.48","paymentTypeID":3}}}`, http.StatusOK)
	sale := m["Sale"].(map[string]any)
	want := map[string]string{"calcSubtotal": "49.99", "calcTax1": "2.5", "calcTax2": "4.99", "total": "57.48",
		"balance": "0", "customerID": "0", "change": "0", "completed": "true", "taxTotal": "7.49"}
	for k, v := range want {
		if sale[k] != v {
			t.Errorf("Sale.%s = %#v, want %q", k, sale[k], v)
		}
	}
	lines := many(sale["SaleLines"].(map[string]any)["SaleLine"])
	if got := lines[1]["calcTotal"]; got != "11.4860025" {
		t.Errorf("line calcTotal = %v, want full precision 11.4860025", got)
	}
	if _, ok := sale["SalePayments"].(map[string]any)["SalePayment"].(map[string]any); !ok {
		t.Error("one payment is not collapsed to an object")
	}
}
