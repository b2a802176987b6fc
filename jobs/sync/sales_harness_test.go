package sync_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants/setup"
)

// salesWorld is a world whose org has everything setup creates for the
// data model, and whose configuration names Lightspeed's shops, employees
// and registers as discovery would.
type salesWorld struct {
	*world
	custom bool
	shops  []lightspeed.Shop
}

type salesOptions struct {
	worldOptions
	custom bool
	// off lists shop indexes turned off in setup.
	off []int
}

func newSalesWorld(t testing.TB, o salesOptions) *salesWorld {
	t.Helper()
	if o.sales == 0 {
		o.sales = 120
	}
	if o.customers == 0 {
		o.customers = 60
	}
	w := &salesWorld{world: newWorld(t, o.worldOptions), custom: o.custom}
	model := setup.ModelClassic
	if o.custom {
		model = setup.ModelCustom
		w.cfg.Preset = mapping.PresetCustom
	}
	createRequirements(t, w.sfSrv, model)
	w.cfg.Shops = map[string]sync.Shop{}
	w.cfg.Employees = map[int64]string{}
	w.cfg.Registers = map[int64]string{}
	var keys []ledger.StreamKey
	shops, _, err := w.ls.Shops.List(w.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.shops = shops
	for i, sh := range w.shops {
		id := strconv.FormatInt(sh.ShopID, 10)
		enabled := true
		for _, off := range o.off {
			enabled = enabled && off != i
		}
		w.cfg.Shops[id] = sync.Shop{Name: sh.Name, TimeZone: sh.TimeZone, Enabled: enabled}
		if enabled {
			keys = append(keys, ledger.StreamKey{TenantID: w.tenant, Location: id, Stream: ledger.SalesToSalesforce})
		}
	}
	for e, err := range w.ls.Employees.ListIter(w.ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		w.cfg.Employees[e.EmployeeID] = e.FirstName + " " + e.LastName
	}
	for r, err := range w.ls.Registers.ListIter(w.ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			t.Fatal(err)
		}
		w.cfg.Registers[r.RegisterID] = r.Name
	}
	keys = append(keys, ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToSalesforce},
		ledger.StreamKey{TenantID: w.tenant, Stream: ledger.CustomersToLightspeed})
	if err := w.ledger.EnsureStreams(w.ctx, w.tenant, keys); err != nil {
		t.Fatal(err)
	}
	return w
}

// createRequirements creates in the sandbox org what setup's "Create them
// for me" creates for model.
func createRequirements(t testing.TB, srv *sfsandbox.Server, model setup.DataModel) {
	t.Helper()
	for _, r := range mapping.RequiredFor(model) {
		var err error
		if r.IsObject() {
			err = srv.AddCustomObject(r.Object, r.Label, r.PluralLabel)
		} else {
			err = srv.AddCustomField(r.Object, sfsandbox.FieldSpec{Name: r.Field, Label: r.Label, Type: r.Type, Length: r.Length,
				Precision: r.Precision, Scale: r.Scale, ExternalID: r.ExternalID, Unique: r.Unique, ReferenceTo: r.ReferenceTo})
		}
		if err != nil && !errors.Is(err, sfsandbox.ErrDuplicateName) {
			t.Fatalf("create %s: %v", r.Key(), err)
		}
	}
}

func (w *salesWorld) shopKey(i int) ledger.StreamKey {
	return ledger.StreamKey{TenantID: w.tenant, Location: strconv.FormatInt(w.shops[i].ShopID, 10), Stream: ledger.SalesToSalesforce}
}

func (w *salesWorld) runShop(i int) sync.Result {
	w.t.Helper()
	return w.runKey(w.shopKey(i))
}

func (w *salesWorld) runShopUntilDone(i int) []sync.Result {
	w.t.Helper()
	return w.runKeyUntilDone(w.shopKey(i))
}

func (w *salesWorld) saleObject() string {
	if w.custom {
		return "Lightspeed_Sale__c"
	}
	return "Opportunity"
}

func (w *salesWorld) lineObject() string {
	if w.custom {
		return "Lightspeed_Sale_Line__c"
	}
	return "OpportunityLineItem"
}

// query returns every record a SOQL query finds.
func (w *salesWorld) query(soql string) []salesforce.Record {
	w.t.Helper()
	var out []salesforce.Record
	for rec, err := range w.sf.Query(w.ctx, soql, nil) {
		if err != nil {
			w.t.Fatalf("%s: %v", soql, err)
		}
		out = append(out, rec)
	}
	return out
}

// sfSales returns the sales in Salesforce by Lightspeed Sale ID, failing
// on a sale that is there twice.
func (w *salesWorld) sfSales(fields string) map[string]salesforce.Record {
	w.t.Helper()
	out := map[string]salesforce.Record{}
	for _, rec := range w.query("SELECT Id, Lightspeed_Sale_ID__c, " + fields + " FROM " + w.saleObject()) {
		id := rec.String("Lightspeed_Sale_ID__c")
		if id == "" {
			continue
		}
		if _, dup := out[id]; dup {
			w.t.Errorf("sale %s is in Salesforce twice", id)
		}
		out[id] = rec
	}
	return out
}

// countBy counts records of object by the value of field, failing on any
// value seen twice.
func (w *salesWorld) countBy(object, field string) map[string]int {
	w.t.Helper()
	out := map[string]int{}
	for _, rec := range w.query("SELECT Id, " + field + " FROM " + object) {
		out[rec.String(field)]++
	}
	for v, n := range out {
		if n > 1 {
			w.t.Errorf("%s %s=%s is in Salesforce %d times", object, field, v, n)
		}
	}
	return out
}

// lsSales returns every sale of a shop, with lines and payments.
func (w *salesWorld) lsSales(shop int) []lightspeed.Sale {
	w.t.Helper()
	var out []lightspeed.Sale
	q := lightspeed.NewQuery().Where("shopID", lightspeed.Eq, w.shops[shop].ShopID).Archived(lightspeed.ArchivedInclude).
		LoadRelations("SaleLines", "SalePayments", "SalePayments.PaymentType").Limit(100)
	for s, err := range w.ls.Sales.ListIter(w.ctx, q) {
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// lsDo sends a raw request to the Lightspeed sandbox (sale edits the client
// has no method for) and decodes the "Sale" of the answer.
func (w *salesWorld) lsDo(method, resource string, body any) lightspeed.Sale {
	w.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		w.t.Fatal(err)
	}
	tp := w.lsSrv.MintToken()
	u := fmt.Sprintf("%s/API/V3/Account/%d/%s.json", w.lsURL, tp.AccountID, resource)
	req, err := http.NewRequestWithContext(w.ctx, method, u, bytes.NewReader(raw))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tp.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		w.t.Fatalf("%s %s: %d %s", method, resource, resp.StatusCode, b)
	}
	var out struct{ Sale lightspeed.Sale }
	if err := json.Unmarshal(b, &out); err != nil {
		w.t.Fatalf("%s %s: %v: %s", method, resource, err, b)
	}
	return out.Sale
}

// Payment type ids of the Lightspeed sandbox.
const (
	ptCash       = 1
	ptCreditCard = 3
	ptGiftCard   = 5
)

// sell creates a completed sale in shop i: the first two items, paid by
// the payments given (cash last, so an overpayment is change).
func (w *salesWorld) sell(i int, customerID int64, source string, pays ...lightspeed.SalePaymentWrite) lightspeed.Sale {
	w.t.Helper()
	shopID := w.shops[i].ShopID
	var reg, emp int64
	for r, err := range w.ls.Registers.ListIter(w.ctx, lightspeed.NewQuery().Where("shopID", lightspeed.Eq, shopID).Limit(100)) {
		if err != nil {
			w.t.Fatal(err)
		}
		if reg == 0 {
			reg = r.RegisterID
		}
	}
	for e, err := range w.ls.Employees.ListIter(w.ctx, lightspeed.NewQuery().Limit(100)) {
		if err != nil {
			w.t.Fatal(err)
		}
		if e.EmployeeID > 1 && emp == 0 && !e.Archived {
			emp = e.EmployeeID
		}
	}
	sw := lightspeed.SaleWrite{ShopID: shopID, RegisterID: reg, EmployeeID: emp, CustomerID: customerID, Completed: true,
		ReferenceNumberSource: source, Lines: []lightspeed.SaleLineWrite{{ItemID: 1, UnitQuantity: 2, EmployeeID: emp}, {ItemID: 2, UnitQuantity: 1, EmployeeID: 1}},
		Payments: pays}
	if source != "" {
		sw.ReferenceNumber = "#W-" + strconv.Itoa(int(time.Now().UnixNano()%100000))
	}
	s, _, err := w.ls.Sales.Create(w.ctx, sw)
	if err != nil {
		w.t.Fatal(err)
	}
	return *s
}

func pay(pt int64, amount string) lightspeed.SalePaymentWrite {
	return lightspeed.SalePaymentWrite{PaymentTypeID: pt, Amount: decimal.RequireFromString(amount)}
}

// saveMapping stores rules on top of the preset's defaults.
func (w *salesWorld) saveMapping(rules ...mapping.Rule) {
	w.t.Helper()
	m := mapping.Defaults(w.cfg.Preset)
	m.Rules = append(m.Rules, rules...)
	if err := pgx.BeginFunc(w.ctx, w.pool, func(tx pgx.Tx) error {
		_, err := mapping.SaveTx(w.ctx, tx, w.tenant, m)
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
}

func sfsandboxText(name string) sfsandbox.FieldSpec {
	return sfsandbox.FieldSpec{Name: name, Type: "Text", Length: 255}
}

// num reads a number field of a record (json.Number or float64).
func num(v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case float64:
		return x
	}
	return 0
}
