package lightspeed

// Integration tests: the client against the Lightspeed sandbox. The two
// share no code; a wrong tag or assumption on either side fails here.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

// signingKey is shared by every sandbox in this package's tests, since
// generating an RSA key per test is slow under -race.
var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

type sbEnv struct {
	sb     *sandbox.Server
	srv    *httptest.Server
	cfg    *Config
	client *Client
	tokens *TokenSource
	saved  atomic.Int32
}

// newSandbox starts a sandbox (seeded unless opts.Seed is set to a
// negative-size seed) and a client with a token source minted by it.
func newSandbox(t testing.TB, opts sandbox.Options, mutate ...func(*Options)) *sbEnv {
	t.Helper()
	if opts.BucketSize == 0 {
		opts.BucketSize, opts.DripRate, opts.Burst = 100000, 100000, 100000
	}
	if opts.Seed == nil {
		opts.Seed = &sandbox.SeedOptions{Seed: 42, Shops: 2, Customers: 150, Sales: 240}
	}
	opts.SigningKey = signingKey()
	opts.RedirectURIs = append(opts.RedirectURIs, "https://tandem.test/callback")
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	env := &sbEnv{sb: sb, srv: srv}
	env.cfg = &Config{
		ClientID: "tandem-dev", ClientSecret: "tandem-dev-secret", Endpoint: CurrentEndpoint(srv.URL),
		Scopes: []string{"employee:all"}, HTTPClient: srv.Client(), Now: sb.Now,
	}
	pair := sb.MintToken()
	tok := Token{AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken,
		Expiry: sb.Now().Add(time.Duration(pair.ExpiresIn) * time.Second), AccountID: int64(pair.AccountID)}
	ts, err := NewTokenSource(env.cfg, tok, TokenSourceOptions{
		Persist:      func(context.Context, Token) error { env.saved.Add(1); return nil },
		RefreshAhead: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	env.tokens = ts
	o := Options{BaseURL: srv.URL, AccountID: int64(pair.AccountID), Tokens: ts, ClientID: "tandem-dev",
		RetryBase: 10 * time.Millisecond, RetryCap: 200 * time.Millisecond}
	for _, m := range mutate {
		m(&o)
	}
	env.client, err = NewClient(srv.Client(), o)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func collect[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatalf("iterate: %v", err)
		}
		out = append(out, v)
	}
	return out
}

func TestSandboxReadEveryResource(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	c, ctx := env.client, t.Context()

	accts, _, err := c.Accounts.List(ctx)
	if err != nil || len(accts) != 1 || accts[0].AccountID != c.AccountID() || accts[0].Name == "" {
		t.Fatalf("Accounts.List = %+v, %v", accts, err)
	}
	acct, _, err := c.Accounts.Get(ctx)
	if err != nil || acct.AccountID != c.AccountID() {
		t.Fatalf("Accounts.Get = %+v, %v", acct, err)
	}

	shops := collect(t, c.Shops.ListIter(ctx, nil))
	if len(shops) != 2 || shops[0].ShopID == 0 || shops[0].Name == "" {
		t.Fatalf("shops = %+v", shops)
	}
	shop, _, err := c.Shops.Get(ctx, shops[1].ShopID, nil)
	if err != nil || shop.Name != shops[1].Name {
		t.Errorf("Shops.Get = %+v, %v", shop, err)
	}
	regs := collect(t, c.Registers.ListIter(ctx, nil))
	if len(regs) < 2 || regs[0].ShopID == 0 {
		t.Errorf("registers = %+v", regs)
	}
	if r, _, err := c.Registers.Get(ctx, regs[0].RegisterID, nil); err != nil || r.Name != regs[0].Name {
		t.Errorf("Registers.Get = %+v, %v", r, err)
	}
	emps := collect(t, c.Employees.ListIter(ctx, nil))
	if len(emps) < 2 {
		t.Errorf("employees = %+v", emps)
	}
	if e, _, err := c.Employees.Get(ctx, emps[0].EmployeeID, NewQuery().LoadRelations("Contact")); err != nil || e.EmployeeID != emps[0].EmployeeID {
		t.Errorf("Employees.Get = %+v, %v", e, err)
	}
	pts := collect(t, c.PaymentTypes.ListIter(ctx, nil))
	kinds := map[string]bool{}
	for _, p := range pts {
		kinds[p.Type] = true
	}
	if !kinds["cash"] || !kinds["credit card"] {
		t.Errorf("payment types = %+v", pts)
	}
	if p, _, err := c.PaymentTypes.Get(ctx, pts[0].PaymentTypeID, nil); err != nil || p.Name != pts[0].Name {
		t.Errorf("PaymentTypes.Get = %+v, %v", p, err)
	}
	ctypes := collect(t, c.CustomerTypes.ListIter(ctx, nil))
	if len(ctypes) == 0 {
		t.Fatal("no customer types")
	}
	if ct, _, err := c.CustomerTypes.Get(ctx, ctypes[0].CustomerTypeID, nil); err != nil || ct.Name != ctypes[0].Name {
		t.Errorf("CustomerTypes.Get = %+v, %v", ct, err)
	}
	fields := collect(t, c.CustomFields.ListIter(ctx, nil))
	var choiceField *CustomField
	for i, f := range fields {
		if f.Type == "single_choice" {
			choiceField = &fields[i]
		}
	}
	if choiceField == nil {
		t.Fatalf("no single_choice custom field in %+v", fields)
	}
	if f, _, err := c.CustomFields.Get(ctx, choiceField.CustomFieldID, nil); err != nil || f.Name != choiceField.Name {
		t.Errorf("CustomFields.Get = %+v, %v", f, err)
	}
	choices, _, err := c.CustomFields.ListChoices(ctx, choiceField.CustomFieldID, nil)
	if err != nil || len(choices) == 0 || choices[0].Name == "" {
		t.Errorf("ListChoices = %+v, %v", choices, err)
	}
	items := collect(t, c.Items.ListIter(ctx, nil))
	if len(items) == 0 || len(items[0].Prices) == 0 {
		t.Fatalf("items = %+v", items)
	}
	if it, _, err := c.Items.Get(ctx, items[0].ItemID, nil); err != nil || it.Description != items[0].Description {
		t.Errorf("Items.Get = %+v, %v", it, err)
	}

	// Customers: the iterator sees exactly what count=1 reports, each once.
	q := NewQuery().Archived(ArchivedInclude).Sort("timeStamp", false).LoadRelations("Contact", "CustomFieldValues")
	custs := collect(t, c.Customers.ListIter(ctx, q))
	n, err := c.Customers.Count(ctx, NewQuery().Archived(ArchivedInclude))
	if err != nil || int64(len(custs)) != n || n < 150 {
		t.Errorf("iterated %d customers, count says %d (%v)", len(custs), n, err)
	}
	seen := map[int64]bool{}
	var withEmail, archived, withCF int
	for _, cu := range custs {
		if seen[cu.CustomerID] {
			t.Errorf("customer %d seen twice", cu.CustomerID)
		}
		seen[cu.CustomerID] = true
		if cu.Contact.Email("Primary") != "" {
			withEmail++
		}
		if cu.Archived {
			archived++
		}
		if len(cu.CustomFieldValues) > 0 {
			withCF++
		}
	}
	if withEmail == 0 || withEmail == len(custs) || archived == 0 || withCF == 0 {
		t.Errorf("seed variety: %d with email, %d archived, %d with custom fields of %d", withEmail, archived, withCF, len(custs))
	}
	active := collect(t, c.Customers.ListIter(ctx, nil))
	if len(active) != len(custs)-archived {
		t.Errorf("default archived=false: %d, want %d", len(active), len(custs)-archived)
	}
	if cu, _, err := c.Customers.Get(ctx, custs[0].CustomerID, NewQuery().LoadRelations("Contact", "CustomerType", "CustomFieldValues")); err != nil || cu.CustomerID != custs[0].CustomerID {
		t.Errorf("Customers.Get = %+v, %v", cu, err)
	}

	// Sales as the sync reads them: one shop, completed, by updatetime.
	rels := []string{"SaleLines", "SaleLines.Item", "SalePayments", "SalePayments.PaymentType", "Customer", "Customer.Contact"}
	var sales []Sale
	for _, sh := range shops {
		sq := NewQuery().Where("shopID", Eq, sh.ShopID).Where("completed", Eq, true).
			Where("updatetime", GreaterEq, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).
			Sort("updatetime", false).LoadRelations(rels...)
		for s, err := range c.Sales.ListIter(ctx, sq) {
			if err != nil {
				t.Fatal(err)
			}
			if s.ShopID != sh.ShopID || !s.Completed {
				t.Errorf("sale %d: shop %d completed %v", s.SaleID, s.ShopID, s.Completed)
			}
			sales = append(sales, s)
		}
	}
	if len(sales) < 100 {
		t.Fatalf("only %d completed sales", len(sales))
	}
	var voided, refunds, split, online, lineEmployees int
	for i := 1; i < len(sales); i++ {
		if sales[i].ShopID == sales[i-1].ShopID && sales[i].UpdateTime.Before(sales[i-1].UpdateTime) {
			t.Errorf("sales not sorted by updatetime at %d", i)
		}
	}
	for _, s := range sales {
		if s.UpdateTime.IsZero() || len(s.SaleLines) == 0 {
			t.Errorf("sale %d: updateTime %v, %d lines", s.SaleID, s.UpdateTime, len(s.SaleLines))
			continue
		}
		if s.Voided {
			voided++
		}
		for _, l := range s.SaleLines {
			if l.UnitQuantity < 0 {
				refunds++
			}
			if l.Item == nil && l.ItemID != 0 {
				t.Errorf("sale %d line %d: Item not loaded", s.SaleID, l.SaleLineID)
			}
			if l.EmployeeID != 0 && l.EmployeeID != s.EmployeeID {
				lineEmployees++
			}
		}
		if len(s.SalePayments) > 1 {
			split++
		}
		for _, p := range s.SalePayments {
			if p.PaymentType == nil {
				t.Errorf("sale %d: PaymentType not loaded", s.SaleID)
			}
		}
		if s.Channel() != "in-store" {
			online++
		}
		// Money adds up in decimal.
		sum := decimal.Zero
		for _, p := range s.SalePayments {
			sum = sum.Add(p.Amount)
		}
		if !s.Voided && !sum.Sub(s.CalcPayments).Abs().LessThan(decimal.RequireFromString("0.01")) {
			t.Errorf("sale %d: payments %s != calcPayments %s", s.SaleID, sum, s.CalcPayments)
		}
	}
	t.Logf("sales %d: voided %d, refund lines %d, split %d, online %d, line-employee differs %d", len(sales), voided, refunds, split, online, lineEmployees)
	if refunds == 0 || split == 0 || online == 0 {
		t.Errorf("seed variety missing: refunds %d split %d online %d", refunds, split, online)
	}
	s0 := sales[0]
	if s, _, err := c.Sales.Get(ctx, s0.SaleID, NewQuery().LoadRelations(rels...)); err != nil || s.SaleID != s0.SaleID || len(s.SaleLines) != len(s0.SaleLines) {
		t.Errorf("Sales.Get = %+v, %v", s, err)
	}
	lines, _, err := c.SaleLines.List(ctx, NewQuery().Where("saleID", Eq, s0.SaleID))
	if err != nil || len(lines) != len(s0.SaleLines) {
		t.Errorf("SaleLines.List = %d lines, %v; want %d", len(lines), err, len(s0.SaleLines))
	}
	if l, _, err := c.SaleLines.Get(ctx, s0.SaleLines[0].SaleLineID, nil); err != nil || l.SaleID != s0.SaleID {
		t.Errorf("SaleLines.Get = %+v, %v", l, err)
	}
	pays, _, err := c.SalePayments.List(ctx, NewQuery().Where("saleID", Eq, s0.SaleID).LoadRelations("PaymentType"))
	if err != nil || len(pays) != len(s0.SalePayments) {
		t.Errorf("SalePayments.List = %d, %v; want %d", len(pays), err, len(s0.SalePayments))
	}
	if len(pays) > 0 {
		if p, _, err := c.SalePayments.Get(ctx, pays[0].SalePaymentID, nil); err != nil || !p.Amount.Equal(pays[0].Amount) {
			t.Errorf("SalePayments.Get = %+v, %v", p, err)
		}
	}
	if n, err := c.Sales.Count(ctx, nil); err != nil || n < int64(len(sales)) {
		t.Errorf("Sales.Count = %d, %v", n, err)
	}
}

func TestSandboxFilters(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	c, ctx := env.client, t.Context()
	all := collect(t, c.Customers.ListIter(ctx, NewQuery().LoadRelations("Contact")))
	var email string
	for _, cu := range all {
		if e := cu.Contact.Email("Primary"); e != "" {
			email = e
			break
		}
	}
	if email == "" {
		t.Fatal("no customer with an email")
	}
	byEmail := collect(t, c.Customers.ListIter(ctx, NewQuery().Where("Contact.email", Eq, email)))
	if len(byEmail) == 0 {
		t.Fatalf("no customer found by Contact.email=%s", email)
	}
	for _, cu := range byEmail {
		if !strings.EqualFold(cu.Contact.Email("Primary"), email) && !strings.EqualFold(cu.Contact.Email("Secondary"), email) {
			t.Errorf("customer %d does not have %s: %+v", cu.CustomerID, email, cu.Contact)
		}
	}
	ids := []any{all[0].CustomerID, all[2].CustomerID, all[4].CustomerID}
	in := collect(t, c.Customers.ListIter(ctx, NewQuery().Where("customerID", In, ids...)))
	if len(in) != 3 {
		t.Errorf("IN returned %d, want 3", len(in))
	}
	between := collect(t, c.Customers.ListIter(ctx, NewQuery().Where("customerID", Between, all[0].CustomerID, all[9].CustomerID)))
	if len(between) != 10 {
		t.Errorf("between returned %d, want 10", len(between))
	}
	or := collect(t, c.Customers.ListIter(ctx, NewQuery().Or(C("customerID", Eq, all[0].CustomerID), C("customerID", Eq, all[1].CustomerID))))
	if len(or) != 2 {
		t.Errorf("or returned %d, want 2", len(or))
	}
	// Timestamps with a "+" offset survive the query string.
	mid := all[len(all)/2].TimeStamp.In(time.FixedZone("CET", 3600))
	newer := collect(t, c.Customers.ListIter(ctx, NewQuery().Where("timeStamp", GreaterEq, mid)))
	for _, cu := range newer {
		if cu.TimeStamp.Before(mid) {
			t.Errorf("customer %d timeStamp %s before %s", cu.CustomerID, cu.TimeStamp, mid)
		}
	}
	if len(newer) == 0 || len(newer) == len(all) && !all[0].TimeStamp.Equal(mid) {
		t.Logf("timeStamp filter kept %d of %d", len(newer), len(all))
	}
	page, resp, err := c.Customers.List(ctx, NewQuery().Limit(7).Sort("customerID", true))
	if err != nil || len(page) != 7 || resp.Next == "" || page[0].CustomerID < page[6].CustomerID {
		t.Fatalf("List limit 7 desc = %d, next %q, %v", len(page), resp.Next, err)
	}
	page2, _, err := c.Customers.ListNext(ctx, resp.Next)
	if err != nil || len(page2) != 7 || page2[0].CustomerID >= page[6].CustomerID {
		t.Errorf("ListNext = %d, %v", len(page2), err)
	}
	only := collect(t, c.Customers.ListIter(ctx, NewQuery().Archived(ArchivedOnly)))
	for _, cu := range only {
		if !cu.Archived {
			t.Errorf("archived=only returned active customer %d", cu.CustomerID)
		}
	}
	if len(only) == 0 {
		t.Error("no archived customers")
	}
}

func TestSandboxCustomerWrites(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	c, ctx := env.client, t.Context()
	fields := collect(t, c.CustomFields.ListIter(ctx, nil))
	var strField, boolField *CustomField
	for i, f := range fields {
		switch f.Type {
		case "string":
			strField = &fields[i]
		case "boolean":
			boolField = &fields[i]
		}
	}
	if strField == nil || boolField == nil {
		t.Fatalf("seed lacks string/boolean custom fields: %+v", fields)
	}
	created, _, err := c.Customers.Create(ctx, CustomerWrite{
		FirstName: Ptr("Zoë"), LastName: Ptr("Ñúñez"), Company: Ptr("Atelier"),
		Contact: &ContactWrite{
			NoEmail: Ptr(false),
			Phones:  []ContactPhone{{Number: "514-555-0142", UseType: "Mobile"}, {Number: "514-555-0100", UseType: "Work"}},
			Emails:  []ContactEmail{{Address: "zoe@example.com", UseType: "Primary"}},
			Address: &ContactAddress{Address1: "700 St-Antoine E", City: "Montréal", StateCode: "QC", Zip: "H2Y 1A6", CountryCode: "CA"},
		},
		CustomFieldValues: []CustomFieldValueWrite{{CustomFieldID: strField.CustomFieldID, Value: "Ana"}, {CustomFieldID: boolField.CustomFieldID, Value: "true"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.CustomerID == 0 || created.FirstName != "Zoë" {
		t.Fatalf("created = %+v", created)
	}
	got, _, err := c.Customers.Get(ctx, created.CustomerID, NewQuery().LoadRelations("Contact", "CustomFieldValues"))
	if err != nil {
		t.Fatal(err)
	}
	ct := got.Contact
	if ct == nil || ct.NoEmail || !ct.NoPhone || ct.Email("Primary") != "zoe@example.com" || ct.Phone("Mobile") != "514-555-0142" ||
		ct.Phone("Work") != "514-555-0100" || ct.Address() == nil || ct.Address().City != "Montréal" {
		t.Errorf("contact after create = %+v", ct)
	}
	cf := map[int64]string{}
	for _, v := range got.CustomFieldValues {
		cf[v.CustomFieldID] = v.Value
	}
	if cf[strField.CustomFieldID] != "Ana" || cf[boolField.CustomFieldID] != "true" {
		t.Errorf("custom fields after create = %+v", got.CustomFieldValues)
	}

	// Update: change one phone, clear another, keep the email, replace the
	// address, change a custom field.
	_, _, err = c.Customers.Update(ctx, created.CustomerID, CustomerWrite{
		LastName: Ptr("Nunez"),
		Contact: &ContactWrite{
			Phones:  []ContactPhone{{Number: "438-555-0199", UseType: "Mobile"}, {Number: "", UseType: "Work"}},
			Address: &ContactAddress{Address1: "1 Main St", City: "Seattle", StateCode: "WA", Zip: "98101", CountryCode: "US"},
		},
		CustomFieldValues: []CustomFieldValueWrite{{CustomFieldID: strField.CustomFieldID, Value: "Bo"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err = c.Customers.Get(ctx, created.CustomerID, NewQuery().LoadRelations("Contact", "CustomFieldValues"))
	if err != nil {
		t.Fatal(err)
	}
	ct = got.Contact
	if got.LastName != "Nunez" || got.FirstName != "Zoë" || ct.Phone("Mobile") != "438-555-0199" || ct.Phone("Work") != "" ||
		ct.Email("Primary") != "zoe@example.com" || ct.Address().City != "Seattle" || ct.Address().Address2 != "" {
		t.Errorf("after update: %+v contact %+v", got, ct)
	}
	cf = map[int64]string{}
	for _, v := range got.CustomFieldValues {
		cf[v.CustomFieldID] = v.Value
	}
	if cf[strField.CustomFieldID] != "Bo" || cf[boolField.CustomFieldID] != "true" {
		t.Errorf("custom fields after update = %+v", got.CustomFieldValues)
	}
	// Found by email, as the sync's fallback match does.
	found := collect(t, c.Customers.ListIter(ctx, NewQuery().Where("Contact.email", Eq, "zoe@example.com")))
	if len(found) != 1 || found[0].CustomerID != created.CustomerID {
		t.Errorf("by email = %+v", found)
	}
	archived, _, err := c.Customers.Archive(ctx, created.CustomerID)
	if err != nil || !archived.Archived {
		t.Errorf("Archive = %+v, %v", archived, err)
	}
	if _, _, err := c.Customers.Update(ctx, created.CustomerID, CustomerWrite{Archived: Ptr(false)}); err != nil {
		t.Errorf("unarchive: %v", err)
	}
	if cu, _, err := c.Customers.Get(ctx, created.CustomerID, nil); err != nil || cu.Archived {
		t.Errorf("after unarchive = %+v, %v", cu, err)
	}

	cfNew, _, err := c.CustomFields.Create(ctx, CustomFieldWrite{Name: "Tandem ID", Type: "string"})
	if err != nil || cfNew.CustomFieldID == 0 || cfNew.Type != "string" {
		t.Errorf("CustomFields.Create = %+v, %v", cfNew, err)
	}
}

func TestSandboxCreateSale(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	c, ctx := env.client, t.Context()
	regs, _, err := c.Registers.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	emps, _, _ := c.Employees.List(ctx, nil)
	items, _, _ := c.Items.List(ctx, NewQuery().Limit(2))
	pts := collect(t, c.PaymentTypes.ListIter(ctx, nil))
	var cash int64
	for _, p := range pts {
		if p.Type == "cash" {
			cash = p.PaymentTypeID
		}
	}
	price := decimal.RequireFromString("10.5")
	s, _, err := c.Sales.Create(ctx, SaleWrite{
		ShopID: regs[0].ShopID, RegisterID: regs[0].RegisterID, EmployeeID: emps[0].EmployeeID,
		Lines: []SaleLineWrite{{ItemID: items[0].ItemID, UnitQuantity: 2, UnitPrice: &price}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.SaleID == 0 || s.Completed {
		t.Fatalf("sale = %+v", s)
	}
	got, _, err := c.Sales.Get(ctx, s.SaleID, NewQuery().LoadRelations("SaleLines"))
	if err != nil || len(got.SaleLines) != 1 || got.SaleLines[0].UnitQuantity != 2 || !got.SaleLines[0].UnitPrice.Equal(price) {
		t.Errorf("sale read back = %+v, %v", got, err)
	}
	// A completed sale whose payments do not balance is refused with the API's message.
	_, _, err = c.Sales.Create(ctx, SaleWrite{
		ShopID: regs[0].ShopID, RegisterID: regs[0].RegisterID, EmployeeID: emps[0].EmployeeID, Completed: true,
		Lines:    []SaleLineWrite{{ItemID: items[0].ItemID, UnitQuantity: 1, UnitPrice: &price}},
		Payments: []SalePaymentWrite{{PaymentTypeID: cash, Amount: decimal.RequireFromString("1")}},
	})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode < 400 || apiErr.StatusCode >= 500 || apiErr.Message == "" {
		t.Errorf("unbalanced completed sale: err = %v", err)
	}
}

func TestSandboxBadInput(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	c, ctx := env.client, t.Context()

	_, _, err := c.Customers.Get(ctx, 987654321, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrNotFound) || apiErr.Message == "" || apiErr.HTTPCode != "404" {
		t.Errorf("unknown id: %v", err)
	}
	_, _, err = c.Customers.List(ctx, NewQuery().Sort("favouriteColour", false))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "customerID") {
		t.Errorf("bad sort: %v", err)
	}
	_, _, err = c.Customers.List(ctx, NewQuery().Where("noSuchField", Eq, 1))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Message == "" {
		t.Errorf("bad filter: %v", err)
	}
	_, _, err = c.Customers.Update(ctx, 987654321, CustomerWrite{FirstName: Ptr("x")})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}
	_, _, err = c.CustomFields.Create(ctx, CustomFieldWrite{Name: "", Type: "string"})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "name cannot be blank") {
		t.Errorf("blank name: %v", err)
	}
	_, _, err = c.Customers.Create(ctx, CustomerWrite{Contact: &ContactWrite{Phones: []ContactPhone{{Number: "1", UseType: "Carrier pigeon"}}}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "useType") {
		t.Errorf("bad useType: %v", err)
	}

	// A bad token is a 401 in the current OAuth form; a static token
	// cannot refresh, so it surfaces.
	bad, err := NewClient(env.srv.Client(), Options{BaseURL: env.srv.URL, AccountID: c.AccountID(), Tokens: StaticToken{AccessToken: "not-a-real-token-abc"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = bad.Shops.List(ctx, nil)
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrUnauthorized) || apiErr.Code != "access_denied" || apiErr.Hint == "" {
		t.Errorf("bad token: %#v", err)
	}
	if strings.Contains(err.Error(), "not-a-real-token-abc") {
		t.Errorf("token leaked: %v", err)
	}
}

// authorize drives the sandbox consent page like a browser clicking
// Authorize (or Deny) and returns the redirect's query.
func authorize(t *testing.T, env *sbEnv, authURL, decision string) url.Values {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("consent page: %d", resp.StatusCode)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("decision", decision)
	if form.Get("redirect_uri") == "" {
		form.Set("redirect_uri", "https://tandem.test/callback")
	}
	resp, err = hc.PostForm(env.cfg.Endpoint.AuthorizeURL, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query()
}

func TestSandboxOAuthFlow(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{TokenTTL: 10 * time.Minute})
	ctx := t.Context()
	cfg := *env.cfg
	cfg.RedirectURL = "https://tandem.test/callback"
	pkce, err := NewPKCE()
	if err != nil {
		t.Fatal(err)
	}
	state, _ := NewState()

	cb := authorize(t, env, cfg.AuthCodeURL(state, pkce), "authorize")
	if cb.Get("state") != state || cb.Get("code") == "" {
		t.Fatalf("callback = %v", cb)
	}
	// PKCE failure: a different verifier.
	other, _ := NewPKCE()
	if _, err := cfg.Exchange(ctx, cb.Get("code"), other.Verifier); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("wrong verifier: %v", err)
	}
	cb = authorize(t, env, cfg.AuthCodeURL(state, pkce), "authorize")
	tok, err := cfg.Exchange(ctx, cb.Get("code"), pkce.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.Expiry.Sub(env.sb.Now()); tok.AccountID == 0 || tok.RefreshToken == "" || d < 9*time.Minute || d > 10*time.Minute {
		t.Errorf("token = %v (expiry in %s)", tok, d)
	}
	// A code is single use, and replaying it revokes what it issued.
	if _, err := cfg.Exchange(ctx, cb.Get("code"), pkce.Verifier); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("code reuse: %v", err)
	}
	replayed, _ := NewClient(env.srv.Client(), Options{BaseURL: env.srv.URL, AccountID: tok.AccountID, Tokens: StaticToken(tok)})
	if _, _, err := replayed.Accounts.List(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("token of a replayed code still works: %v", err)
	}
	cb = authorize(t, env, cfg.AuthCodeURL(state, pkce), "authorize")
	if tok, err = cfg.Exchange(ctx, cb.Get("code"), pkce.Verifier); err != nil {
		t.Fatal(err)
	}
	// Expired code.
	cb = authorize(t, env, cfg.AuthCodeURL(state, pkce), "authorize")
	env.sb.Advance(61 * time.Second)
	_, err = cfg.Exchange(ctx, cb.Get("code"), pkce.Verifier)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrInvalidGrant) || !strings.Contains(apiErr.Hint+apiErr.ErrorDescription, "expired") {
		t.Errorf("expired code: %v", err)
	}
	if strings.Contains(err.Error(), cb.Get("code")) || strings.Contains(err.Error(), pkce.Verifier) {
		t.Errorf("error leaks the code or verifier: %v", err)
	}
	// Deny.
	if cb := authorize(t, env, cfg.AuthCodeURL(state, pkce), "deny"); cb.Get("error") != "access_denied" || cb.Get("state") != state {
		t.Errorf("deny callback = %v", cb)
	}

	// Discovery with the new token, then rotation.
	c, err := NewClient(env.srv.Client(), Options{BaseURL: env.srv.URL, AccountID: tok.AccountID, Tokens: StaticToken(tok)})
	if err != nil {
		t.Fatal(err)
	}
	accts, _, err := c.Accounts.List(ctx)
	if err != nil || len(accts) != 1 || accts[0].AccountID != tok.AccountID {
		t.Fatalf("accounts = %+v, %v", accts, err)
	}
	next, err := cfg.Refresh(ctx, tok.RefreshToken)
	if err != nil || next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
		t.Fatalf("refresh = %v, %v", next, err)
	}
	// Deferred revocation: until the new access token is used, the old
	// refresh token still works...
	retry, err := cfg.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatalf("retry before use: %v", err)
	}
	// ...and once the new one is used, it is dead.
	c2, _ := NewClient(env.srv.Client(), Options{BaseURL: env.srv.URL, AccountID: tok.AccountID, Tokens: StaticToken(retry)})
	if _, _, err := c2.Shops.List(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Refresh(ctx, tok.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("old refresh token after use: %v", err)
	}
	if err := cfg.Revoke(ctx, retry.RefreshToken); err != nil {
		t.Errorf("revoke: %v", err)
	}
	if _, err := cfg.Refresh(ctx, retry.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("revoked refresh token: %v", err)
	}
}

func TestSandboxRefreshRace(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{TokenTTL: time.Minute})
	env.sb.Advance(2 * time.Minute) // the minted token has expired
	var wg sync.WaitGroup
	toks := make([]Token, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for i := range 2 {
		wg.Go(func() {
			<-start
			toks[i], errs[i] = env.tokens.Token(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if toks[0].AccessToken != toks[1].AccessToken || env.saved.Load() != 1 {
		t.Errorf("tokens equal: %v; persisted %d times, want 1", toks[0].AccessToken == toks[1].AccessToken, env.saved.Load())
	}
	// Both clients' next calls use it successfully.
	if _, _, err := env.client.Shops.List(t.Context(), nil); err != nil {
		t.Error(err)
	}
}

func TestSandboxBurstWithoutRateLimitErrors(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{BucketSize: 10, DripRate: 25, Burst: 1000},
		func(o *Options) { o.Limits = NewLimits(LimitsOptions{}) })
	shops, _, err := env.client.Shops.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another client of the same account shares the bucket through Limits.
	limits := NewLimits(LimitsOptions{})
	mk := func() *Client {
		c, err := NewClient(env.srv.Client(), Options{BaseURL: env.srv.URL, AccountID: env.client.AccountID(),
			Tokens: env.tokens, ClientID: "tandem-dev", Limits: limits})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	clients := []*Client{mk(), mk(), mk()}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 6 {
		wg.Go(func() {
			c := clients[i%len(clients)]
			for range 10 {
				if _, _, err := c.Shops.Get(t.Context(), shops[0].ShopID, nil); err != nil {
					failed.Add(1)
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := env.sb.Stats()
	t.Logf("sandbox: %d requests, %.1f drips, %d 429s", st.Requests, st.DripsSpent, st.RateLimited)
	if failed.Load() != 0 {
		t.Errorf("%d callers saw errors", failed.Load())
	}
	if st.RateLimited != 0 {
		t.Errorf("sandbox sent %d 429s; the limiter should wait before overflowing", st.RateLimited)
	}
}

func TestSandboxBurstLimiterAbsorbed(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{BucketSize: 1000, DripRate: 1000, Burst: 5})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 4 {
				if _, _, err := env.client.Shops.List(t.Context(), nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("burst 429s absorbed by retries: %d", env.sb.Stats().RateLimited)
}

func TestSandboxFaults(t *testing.T) {
	t.Parallel()
	// Enough retries that 20% random failures cannot exhaust them (0.2^11).
	env := newSandbox(t, sandbox.Options{}, func(o *Options) { o.MaxRetries = 10 })
	c, ctx := env.client, t.Context()

	env.sb.SetFaults(sandbox.FaultConfig{FailNext: 3, Status: 503})
	if _, resp, err := c.Shops.List(ctx, nil); err != nil || resp.Attempts != 4 {
		t.Errorf("after 3 injected 503s: attempts %d, %v", resp.Attempts, err)
	}
	env.sb.SetFaults(sandbox.FaultConfig{FailNext: 1, Status: 500})
	if _, resp, err := c.Customers.List(ctx, nil); err != nil || resp.Attempts != 2 {
		t.Errorf("after an injected 500: %v", err)
	}
	// A POST that hit a 500 is not retried: it might have been applied.
	env.sb.SetFaults(sandbox.FaultConfig{FailNext: 1, Status: 500})
	if _, _, err := c.Customers.Create(ctx, CustomerWrite{FirstName: Ptr("Once")}); err == nil {
		t.Error("POST after injected 500 succeeded; want the error")
	}
	// Random errors at 20% over many calls are all absorbed.
	env.sb.SetFaults(sandbox.FaultConfig{ErrorRate: 0.2, Status: 503})
	for range 25 {
		if _, _, err := c.PaymentTypes.List(ctx, nil); err != nil {
			t.Fatalf("with 20%% 503s: %v", err)
		}
	}
	// Latency is survived, and a deadline shorter than it is honoured.
	env.sb.SetFaults(sandbox.FaultConfig{LatencyMS: 50})
	if _, _, err := c.Shops.List(ctx, nil); err != nil {
		t.Errorf("with latency: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, _, err := c.Shops.List(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	// Expired tokens: the client refreshes once and retries.
	env.sb.SetFaults(sandbox.FaultConfig{ExpireTokens: true})
	before := env.saved.Load()
	if _, _, err := c.Shops.List(ctx, nil); err != nil {
		t.Fatalf("after expire_tokens: %v", err)
	}
	if env.saved.Load() != before+1 {
		t.Errorf("persisted %d new tokens, want 1", env.saved.Load()-before)
	}
	st := env.sb.Stats()
	if st.FaultsInjected == 0 {
		t.Error("sandbox reports no injected faults")
	}
}

func BenchmarkClientOverheadSandbox(b *testing.B) {
	env := newSandbox(b, sandbox.Options{Seed: &sandbox.SeedOptions{Seed: 1, Shops: 1, Customers: 10, Sales: -1}})
	ctx := context.Background()
	custs, _, err := env.client.Customers.List(ctx, nil)
	if err != nil || len(custs) == 0 {
		b.Fatal(err)
	}
	id := custs[0].CustomerID
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := env.client.Customers.Get(ctx, id, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSandboxSalePage(b *testing.B) {
	env := newSandbox(b, sandbox.Options{Seed: &sandbox.SeedOptions{Seed: 1, Shops: 1, Customers: 50, Sales: 120}})
	ctx := context.Background()
	q := NewQuery().LoadRelations("SaleLines", "SaleLines.Item", "SalePayments", "SalePayments.PaymentType", "Customer", "Customer.Contact")
	b.ReportAllocs()
	for b.Loop() {
		sales, _, err := env.client.Sales.List(ctx, q)
		if err != nil || len(sales) != 100 {
			b.Fatalf("%d sales, %v", len(sales), err)
		}
	}
}

// Stamps read the same records as List, with their change times only.
func TestSandboxStamps(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{Seed: &sandbox.SeedOptions{Seed: 2, Shops: 1, Customers: 30, Sales: 40}})
	c, ctx := env.client, t.Context()
	q := NewQuery().Archived(ArchivedInclude).Sort("timeStamp", true).Limit(5)
	full, _, err := c.Customers.List(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	stamps, _, err := c.Customers.Stamps(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(stamps) != len(full) || len(full) == 0 {
		t.Fatalf("%d customer stamps for %d customers", len(stamps), len(full))
	}
	for i := range full {
		if !stamps[i].TimeStamp.Equal(full[i].TimeStamp) || stamps[i].TimeStamp.IsZero() {
			t.Errorf("customer %d: stamp %s, timeStamp %s", full[i].CustomerID, stamps[i].TimeStamp, full[i].TimeStamp)
		}
	}
	q = NewQuery().Where("completed", Eq, true).Sort("updatetime", true).Limit(5)
	sales, _, err := c.Sales.List(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	sstamps, _, err := c.Sales.Stamps(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(sstamps) != len(sales) || len(sales) == 0 {
		t.Fatalf("%d sale stamps for %d sales", len(sstamps), len(sales))
	}
	for i := range sales {
		if !sstamps[i].UpdateTime.Equal(sales[i].UpdateTime) || !sstamps[i].TimeStamp.Equal(sales[i].TimeStamp) || sstamps[i].UpdateTime.IsZero() {
			t.Errorf("sale %d: stamps %+v, sale's times %s and %s", sales[i].SaleID, sstamps[i], sales[i].TimeStamp, sales[i].UpdateTime)
		}
	}
}
