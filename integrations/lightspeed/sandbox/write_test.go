package sandbox_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

func TestCustomerCreateUpdateMerge(t *testing.T) {
	t.Parallel()
	e := seeded(t, 2, 1, 2, -1) // custom fields 1 Stylist (choice), 2 Student (boolean), 3 Loyalty tier
	stylist := e.getJSON("Customer/CustomField/1/CustomFieldChoice.json", http.StatusOK)
	choice := many(stylist["CustomFieldChoice"])[0]["value"].(string)

	m := e.jsonCall(http.MethodPost, "Customer.json?load_relations=[\"Contact\",\"CustomFieldValues\"]", `{
		"firstName": "Zoë", "lastName": "Ødegård", "dob": "1988-05-14T04:00:00+00:00", "customerTypeID": 1,
		"Contact": {"noEmail": "false",
			"Phones": {"ContactPhone": [{"number": "514-555-0142", "useType": "Mobile"}, {"number": "514-555-0100", "useType": "Work"}]},
			"Emails": {"ContactEmail": {"address": "zoe@example.com", "useType": "Primary"}},
			"Addresses": {"ContactAddress": {"address1": "700 St-Antoine E", "city": "Montréal", "countryCode": "CA"}}},
		"CustomFieldValues": {"CustomFieldValue": [{"customFieldID": "1", "value": "`+choice+`"}, {"customFieldID": 2, "value": true}]}
	}`, http.StatusOK)
	c := m["Customer"].(map[string]any)
	id := c["customerID"].(string)
	contact := c["Contact"].(map[string]any)
	if contact["noEmail"] != "false" || contact["noPhone"] != "true" {
		t.Errorf("opt-outs: noEmail %v noPhone %v; want the sent false and the default true", contact["noEmail"], contact["noPhone"])
	}
	if c["dob"] != "1988-05-14T04:00:00+00:00" {
		t.Errorf("dob = %v", c["dob"])
	}
	addr := contact["Addresses"].(map[string]any)["ContactAddress"].(map[string]any)
	if _, ok := addr["address2"]; ok || addr["city"] != "Montréal" {
		t.Errorf("address %v: want city kept and empty address2 omitted", addr)
	}
	vals := many(c["CustomFieldValues"].(map[string]any)["CustomFieldValue"])
	if len(vals) != 2 || vals[0]["value"] != choice || vals[1]["value"] != "true" || vals[0]["type"] != "single_choice" {
		t.Errorf("custom field values %v", vals)
	}

	// PUT merges phones by useType, replaces the address, leaves other fields.
	m = e.jsonCall(http.MethodPut, "Customer/"+id+".json", `{
		"Contact": {"Phones": {"ContactPhone": [{"number": "514-555-9999", "useType": "Mobile"}, {"number": "", "useType": "Work"}, {"number": "206-555-0000", "useType": "Home"}]},
		            "Addresses": {"ContactAddress": {"address1": "1 Main St", "city": "Seattle"}}},
		"CustomFieldValues": {"CustomFieldValue": {"customFieldID": 2, "deleted": true}}
	}`, http.StatusOK)
	m = e.getJSON("Customer/"+id+".json?load_relations=[\"Contact\",\"CustomFieldValues\"]", http.StatusOK)
	c = m["Customer"].(map[string]any)
	contact = c["Contact"].(map[string]any)
	got := map[string]string{}
	for _, p := range many(contact["Phones"].(map[string]any)["ContactPhone"]) {
		got[p["useType"].(string)] = p["number"].(string)
	}
	if diff := cmp.Diff(map[string]string{"Mobile": "514-555-9999", "Home": "206-555-0000"}, got); diff != "" {
		t.Errorf("phones after merge (-want +got):\n%s", diff)
	}
	if e := many(contact["Emails"].(map[string]any)["ContactEmail"]); len(e) != 1 || e[0]["address"] != "zoe@example.com" {
		t.Errorf("emails changed by a PUT that did not send them: %v", e)
	}
	if a := contact["Addresses"].(map[string]any)["ContactAddress"].(map[string]any); a["city"] != "Seattle" || a["countryCode"] != nil {
		t.Errorf("address not replaced: %v", a)
	}
	if c["firstName"] != "Zoë" || c["customerTypeID"] != "1" {
		t.Errorf("PUT changed fields it did not send: %v", c)
	}
	if v, ok := c["CustomFieldValues"].(map[string]any)["CustomFieldValue"].(map[string]any); !ok || v["customFieldID"] != "1" {
		t.Errorf("after deleting the boolean value: %v", c["CustomFieldValues"])
	}
	if c["timeStamp"] != "2026-06-01T12:00:00+00:00" {
		t.Errorf("timeStamp %v, want the sandbox clock", c["timeStamp"])
	}

	// DELETE archives; Anonymize scrubs.
	e.s.Advance(time.Minute)
	d := e.jsonCall(http.MethodDelete, "Customer/"+id+".json", "", http.StatusOK)["Customer"].(map[string]any)
	if d["archived"] != "true" || d["timeStamp"] != "2026-06-01T12:01:00+00:00" {
		t.Errorf("DELETE: %v", d)
	}
	a := e.jsonCall(http.MethodDelete, "Customer/"+id+"/Anonymize.json", "", http.StatusOK)["Customer"].(map[string]any)
	if a["firstName"] != "Customer" || a["lastName"] != "["+id+"]" || a["Contact"].(map[string]any)["Emails"] != "" {
		t.Errorf("Anonymize: %v", a)
	}
}

func TestWriteValidation(t *testing.T) {
	t.Parallel()
	e := seeded(t, 2, 1, 2, 3)
	dup := many(e.getJSON("Customer/CustomField/1/CustomFieldChoice.json", http.StatusOK)["CustomFieldChoice"])[0]["name"].(string)
	upc := e.itemUPC(2)
	completedSale := many(e.getJSON("Sale.json?completed=true&limit=1", http.StatusOK)["Sale"])[0]["saleID"].(string)
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"malformed JSON", "POST", "Customer.json", `{"firstName":`, 400, "Malformed JSON"},
		{"empty body", "POST", "Customer.json", ``, 400, "empty"},
		{"array body", "POST", "Customer.json", `[{"firstName":"A"}]`, 400, "JSON object"},
		{"blank names", "POST", "Customer.json", `{"firstName":"  ","title":"x"}`, 400, "must have a firstName"},
		{"object as name", "POST", "Customer.json", `{"firstName":{"a":1}}`, 400, "firstName"},
		{"bad phone useType", "POST", "Customer.json", `{"firstName":"A","Contact":{"Phones":{"ContactPhone":{"number":"1","useType":"Cell"}}}}`, 400, "Home, Work, Mobile, Pager, Fax"},
		{"bad email", "POST", "Customer.json", `{"firstName":"A","Contact":{"Emails":{"ContactEmail":{"address":"not an email","useType":"Primary"}}}}`, 400, "Invalid email"},
		{"unknown customer type", "POST", "Customer.json", `{"firstName":"A","customerTypeID":99}`, 422, "Invalid Foreign keys"},
		{"bad dob", "POST", "Customer.json", `{"firstName":"A","dob":"someday"}`, 400, "dob"},
		{"choice not offered", "POST", "Customer.json", `{"firstName":"A","CustomFieldValues":{"CustomFieldValue":{"customFieldID":1,"value":"Nobody"}}}`, 400, "not one of the choices"},
		{"boolean value", "POST", "Customer.json", `{"firstName":"A","CustomFieldValues":{"CustomFieldValue":{"customFieldID":2,"value":"maybe"}}}`, 400, "boolean"},
		{"string too long", "POST", "Customer.json", `{"firstName":"A","CustomFieldValues":{"CustomFieldValue":{"customFieldID":3,"value":"` + strings.Repeat("x", 65) + `"}}}`, 400, "64"},
		{"unknown custom field", "POST", "Customer.json", `{"firstName":"A","CustomFieldValues":{"CustomFieldValue":{"customFieldID":99,"value":"x"}}}`, 422, "does not exist"},
		{"update unknown customer", "PUT", "Customer/99999.json", `{"firstName":"A"}`, 404, "not found"},
		{"get unknown sale", "GET", "Sale/99999.json", "", 404, "not found"},
		{"unknown resource", "GET", "Widget.json", "", 404, "Not found"},
		{"non-numeric id", "GET", "Customer/abc.json", "", 404, "Not found"},
		{"method not allowed", "DELETE", "Shop/1.json", "", 405, "Allowed"},
		{"register is GET and PUT only", "POST", "Register.json", `{"name":"R"}`, 405, "GET"},
		{"register without name", "PUT", "Register/1.json", `{"name":""}`, 400, "name cannot be blank"},
		{"post to a single id", "POST", "Customer/1.json", `{}`, 405, "PUT, DELETE"},
		{"custom field without type", "POST", "Customer/CustomField.json", `{"name":"Shoe size"}`, 400, "type cannot be blank"},
		{"custom field bad type", "POST", "Customer/CustomField.json", `{"name":"Shoe size","type":"shoe"}`, 400, "Allowed types"},
		{"custom field uom too long", "POST", "Customer/CustomField.json", `{"name":"Height","type":"float","uom":"inches"}`, 400, "4 characters"},
		{"duplicate choice", "POST", "Customer/CustomField/1/CustomFieldChoice.json", `{"name":"` + dup + `"}`, 422, "already exists"},
		{"choice on a boolean field", "POST", "Customer/CustomField/2/CustomFieldChoice.json", `{"name":"x"}`, 422, "only single_choice"},
		{"customer type without name", "POST", "CustomerType.json", `{"name":""}`, 400, "name cannot be blank"},
		{"sale without shop", "POST", "Sale.json", `{"registerID":1,"employeeID":2}`, 400, "shopID is required"},
		{"sale in unknown shop", "POST", "Sale.json", `{"shopID":9,"registerID":1,"employeeID":2}`, 422, "shopID 9"},
		{"sale line without item", "POST", "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"SaleLines":{"SaleLine":{"unitQuantity":1}}}`, 400, "itemID or itemCode"},
		{"sale line unknown item code", "POST", "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"SaleLines":{"SaleLine":{"itemCode":"nope","unitQuantity":1}}}`, 422, "itemCode"},
		{"unbalanced completed sale", "POST", "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"completed":true,"SaleLines":{"SaleLine":{"itemID":9,"unitQuantity":1}},"SalePayments":{"SalePayment":{"amount":"1","paymentTypeID":3}}}`, 422, "do not balance"},
		{"card overpayment", "POST", "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"completed":true,"SaleLines":{"SaleLine":{"itemID":9,"unitQuantity":1}},"SalePayments":{"SalePayment":{"amount":"1000","paymentTypeID":3}}}`, 422, "only allowed in cash"},
		{"credit account needs customer", "POST", "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"SalePayments":{"SalePayment":{"amount":"1","paymentTypeID":4}}}`, 422, "requires a customer"},
		{"future completeTime", "POST", "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"completed":true,"completeTime":"2030-01-01T00:00:00+00:00"}`, 400, "future"},
		{"xml accept", "GET", "Customer", "", 406, "JSON only"},
		{"item without description", "POST", "Item.json", `{"upc":"123"}`, 400, "Item not created. An Item must have a description."},
		{"item update blanking description", "PUT", "Item/1.json", `{"description":""}`, 400, "Item not updated. An Item must have a description."},
		{"item duplicate UPC", "POST", "Item.json", `{"description":"Copy","upc":"` + upc + `"}`, 422, "already exists"},
		{"line on a completed sale", "POST", "Sale/" + completedSale + "/SaleLine.json", `{"itemID":1,"unitQuantity":1}`, 422, "completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path
			var resp *http.Response
			var body []byte
			if tt.status == 406 {
				req, _ := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/API/V3/Account/"+acct+"/Customer", nil)
				req.Header.Set("Authorization", "Bearer "+e.tok)
				req.Header.Set("Accept", "application/xml")
				r, err := e.ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Body.Close()
				resp = r
				body = readAll(t, r)
			} else {
				resp, body = e.do(tt.method, path, tt.body)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if msg := errBody(t, body, itoa(tt.status)); !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q does not contain %q", msg, tt.msg)
			}
		})
	}
	// A refused write changes nothing.
	if n := e.getJSON("Customer.json?count=1&archived=true", http.StatusOK)["@attributes"].(map[string]any)["count"]; n != "2" {
		t.Errorf("customer count after refused writes = %v, want 2", n)
	}
}

func TestSaleWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{Seed: &sandbox.SeedOptions{Seed: 4, Shops: 1, Customers: 3, Sales: -1}})
	// Shampoo 24.99 at 5% + 9.975%: total 28.73. Split: 10 cash, rest card.
	m := e.jsonCall(http.MethodPost, "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"customerID":1,"completed":true,
		"referenceNumber":"#1001","referenceNumberSource":"shopify",
		"SaleLines":{"SaleLine":{"itemCode":"`+e.itemUPC(9)+`","unitQuantity":1,"employeeID":4}},
		"SalePayments":{"SalePayment":[{"amount":10,"paymentTypeID":1},{"amount":"18.73","paymentTypeID":3}]}}`, http.StatusOK)
	s := m["Sale"].(map[string]any)
	if s["total"] != "28.73" || s["balance"] != "0" || s["completed"] != "true" || s["referenceNumberSource"] != "shopify" {
		t.Fatalf("sale %v", s)
	}
	if _, ok := s["Shop"].(map[string]any); !ok {
		t.Error("write response does not embed Shop")
	}
	line := many(s["SaleLines"].(map[string]any)["SaleLine"])[0]
	if line["employeeID"] != "4" || s["employeeID"] != "2" {
		t.Errorf("line employee %v, sale employee %v; want 4 and 2", line["employeeID"], s["employeeID"])
	}
	id := s["saleID"].(string)

	// Cash overpayment becomes change.
	m = e.jsonCall(http.MethodPost, "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2,"completed":true,
		"SaleLines":{"SaleLine":{"itemID":9,"unitQuantity":1}},"SalePayments":{"SalePayment":{"amount":"30","paymentTypeID":1}}}`, http.StatusOK)
	if c := m["Sale"].(map[string]any); c["change"] != "1.27" || c["balance"] != "0" {
		t.Errorf("cash overpay: change %v balance %v", c["change"], c["balance"])
	}

	// Refund: a new sale with negative lines pointing at the originals.
	r := e.jsonCall(http.MethodPost, "Sale/"+id+"/refund.json", `{"paymentTypeID":3}`, http.StatusOK)["Sale"].(map[string]any)
	rl := many(r["SaleLines"].(map[string]any)["SaleLine"])[0]
	if r["total"] != "-28.73" || rl["unitQuantity"] != "-1" || rl["parentSaleLineID"] != line["saleLineID"] {
		t.Errorf("refund: total %v, line %v", r["total"], rl)
	}
	if p := many(r["SalePayments"].(map[string]any)["SalePayment"])[0]; p["amount"] != "-28.73" {
		t.Errorf("refund payment %v", p)
	}

	// Void via PUT; updateTime moves with the clock.
	e.s.Advance(30 * time.Minute)
	v := e.jsonCall(http.MethodPut, "Sale/"+id+".json", `{"voided":true}`, http.StatusOK)["Sale"].(map[string]any)
	if v["voided"] != "true" || v["updateTime"] != "2026-06-01T12:30:00+00:00" {
		t.Errorf("void: %v %v", v["voided"], v["updateTime"])
	}
	resp, body := e.do(http.MethodPut, "Sale/"+id+".json", `{"SaleLines":{"SaleLine":{"itemID":9,"unitQuantity":1}}}`)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("adding a line to a completed sale: %d %s", resp.StatusCode, body)
	}
	// The new sale is found by updatetime.
	found := e.getJSON("Sale.json?updatetime=%3E%3D%2C2026-06-01T12%3A15%3A00%2B00%3A00", http.StatusOK)
	if got := ids(many(found["Sale"]), "saleID"); !cmp.Equal(got, []string{id}) {
		t.Errorf("updatetime filter: %v, want [%s]", got, id)
	}
}

func (e *env) itemUPC(id int) string {
	e.t.Helper()
	return e.getJSON("Item/"+itoa(id)+".json", http.StatusOK)["Item"].(map[string]any)["upc"].(string)
}

func TestCustomFieldChoiceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	f := e.jsonCall(http.MethodPost, "Customer/CustomField.json", `{"name":"Stylist","type":"single_choice"}`, http.StatusOK)
	fid := f["CustomField"].(map[string]any)["customFieldID"].(string)
	base := "Customer/CustomField/" + fid + "/CustomFieldChoice"
	a := e.jsonCall(http.MethodPost, base+".json", `{"name":"Camille"}`, http.StatusOK)["CustomFieldChoice"].(map[string]any)
	if a["value"] != "Camille" || a["canBeDeleted"] != "false" {
		t.Errorf("first choice %v: value defaults to name, last choice cannot be deleted", a)
	}
	b := e.jsonCall(http.MethodPost, base+".json", `{"name":"Mateo","value":"mateo"}`, http.StatusOK)["CustomFieldChoice"].(map[string]any)
	cid := e.createCustomer(`{"firstName":"A","CustomFieldValues":{"CustomFieldValue":{"customFieldID":` + fid + `,"value":"mateo"}}}`)
	e.jsonCall(http.MethodDelete, base+"/"+b["customFieldChoiceID"].(string)+".json", "", http.StatusOK)
	resp, body := e.do(http.MethodDelete, base+"/"+a["customFieldChoiceID"].(string)+".json", "")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errBody(t, body, "422"), "last choice") {
		t.Errorf("deleting the last choice: %d %s", resp.StatusCode, body)
	}
	// Expanded values show the choice object when CustomFieldValues.value is loaded.
	e.jsonCall(http.MethodPut, "Customer/"+cid+".json", `{"CustomFieldValues":{"CustomFieldValue":{"customFieldID":`+fid+`,"value":"Camille"}}}`, http.StatusOK)
	c := e.getJSON("Customer/"+cid+`.json?load_relations=["CustomFieldValues","CustomFieldValues.value"]`, http.StatusOK)
	v := c["Customer"].(map[string]any)["CustomFieldValues"].(map[string]any)["CustomFieldValue"].(map[string]any)
	if obj, ok := v["value"].(map[string]any); !ok || obj["customFieldChoiceID"] != a["customFieldChoiceID"] {
		t.Errorf("expanded choice value %v", v["value"])
	}
	// DELETE on a custom field archives it.
	d := e.jsonCall(http.MethodDelete, "Customer/CustomField/"+fid+".json", "", http.StatusOK)
	if d["CustomField"].(map[string]any)["archived"] != "true" {
		t.Errorf("custom field DELETE: %v", d)
	}
	if got := e.getJSON("Customer/CustomField.json", http.StatusOK); got["CustomField"] != nil {
		t.Errorf("archived custom field listed by default: %v", got)
	}
}

func TestItemAndSaleLineWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{Seed: &sandbox.SeedOptions{Seed: 4, Shops: 1, Customers: 1, Sales: -1}})
	it := e.jsonCall(http.MethodPost, "Item.json", `{"description":"Cuticle oil","upc":"000111222333","defaultCost":"3.1",
		"Prices":{"ItemPrice":[{"amount":"12.5","useType":"Default"},{"amount":"14","useType":"MSRP"}]}}`, http.StatusOK)["Item"].(map[string]any)
	prices := many(it["Prices"].(map[string]any)["ItemPrice"])
	if it["description"] != "Cuticle oil" || len(prices) != 2 || prices[0]["amount"] != "12.5" || prices[1]["amount"] != "14" {
		t.Fatalf("created item %v", it)
	}
	id := it["itemID"].(string)
	sale := e.jsonCall(http.MethodPost, "Sale.json", `{"shopID":1,"registerID":1,"employeeID":2}`, http.StatusOK)["Sale"].(map[string]any)
	sid := sale["saleID"].(string)
	line := e.jsonCall(http.MethodPost, "Sale/"+sid+"/SaleLine.json", `{"itemCode":"000111222333","unitQuantity":2}`, http.StatusOK)["SaleLine"].(map[string]any)
	if line["itemID"] != id || line["saleID"] != sid || line["calcSubtotal"] != "25" {
		t.Errorf("added line %v", line)
	}
	got := e.getJSON("Sale/"+sid+".json", http.StatusOK)["Sale"].(map[string]any)
	if got["calcSubtotal"] != "25" {
		t.Errorf("sale subtotal after adding a line = %v, want 25", got["calcSubtotal"])
	}
	d := e.jsonCall(http.MethodDelete, "SaleLine/"+line["saleLineID"].(string)+".json", "", http.StatusOK)
	if d["SaleLine"] == nil || e.getJSON("Sale/"+sid+".json", http.StatusOK)["Sale"].(map[string]any)["calcSubtotal"] != "0" {
		t.Errorf("deleting the line did not empty the sale")
	}
	if a := e.jsonCall(http.MethodDelete, "Item/"+id+".json", "", http.StatusOK)["Item"].(map[string]any); a["archived"] != "true" {
		t.Errorf("item DELETE: %v", a)
	}
}
