package sandbox

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// seedEpoch anchors seeded timestamps, so a seed yields the same data
// whatever the wall clock says.
var seedEpoch = time.Date(2025, 1, 6, 14, 0, 0, 0, time.UTC)

// Payment type ids of the base data.
const (
	ptCash       = 1
	ptCheck      = 2
	ptCreditCard = 3
	ptCreditAcct = 4
	ptGiftCard   = 5
	ptDebit      = 6
	ptOnline     = 7
)

// seedBase creates what every account has: the payment types and the
// owner employee who authorizes API clients.
func seedBase(st *store) {
	for _, p := range []paymentType{
		{ID: ptCash, Name: "Cash", Code: "Cash", InternalReserved: true, Type: "cash", RefundAsID: ptCash},
		{ID: ptCheck, Name: "Check", Code: "Check", Type: "user defined", RefundAsID: ptCash},
		{ID: ptCreditCard, Name: "Credit Card", Code: "Credit Card", Type: "credit card", RefundAsID: ptCreditCard},
		{ID: ptCreditAcct, Name: "Credit Account", Code: "Credit Account", RequireCustomer: true, InternalReserved: true, Type: "credit account", RefundAsID: ptCreditAcct},
		{ID: ptGiftCard, Name: "Gift Card", Code: "Gift Card", InternalReserved: true, Type: "gift card", RefundAsID: ptGiftCard},
		{ID: ptDebit, Name: "Debit Card", Code: "Debit", Type: "user defined", RefundAsID: ptDebit},
		{ID: ptOnline, Name: "Online Payment", Code: "ecom", InternalReserved: true, Type: "ecom", Channel: "ecom", RefundAsID: ptOnline},
	} {
		p := p
		st.paymentTypes.last = p.ID
		st.paymentTypes.add(p.ID, &p)
	}
	// The owner's first name carries a trailing space, as real data does.
	owner := &employee{ID: st.employees.nextID(), FirstName: "Alex ", LastName: "Martin", RoleID: 1,
		TimeStamp: seedEpoch, Contact: contact{ID: st.newContactID(), NoEmail: false, NoPhone: true, NoMail: true,
			TimeStamp: seedEpoch, Emails: []email{{"owner@tandem-demo.example", "Primary"}}}}
	st.employees.add(owner.ID, owner)
}

var (
	shopNames  = []string{"Downtown", "Plateau", "Waterfront", "Mile End", "Old Port", "Westmount"}
	shopZones  = []string{"America/Toronto", "US/Pacific", "America/Vancouver"}
	taxRates   = [][2]string{{"0.05", "0.09975"}, {"0.0825", "0"}, {"0.05", "0.07"}}
	empFirst   = []string{"Zoë", "Renée", "Łukasz", "Søren", "Camille", "Mateo", "Aiko", "Noah", "Inès", "Dmitri", "Fatima", "Liam"}
	empLast    = []string{"Lefèvre", "Kowalczyk", "Hansen", "Bernard", "Silva", "Tanaka", "Roy", "Moreau"}
	custFirst  = []string{"Marie", "Jean", "Zoë", "José", "Chloé", "Ngọc Ánh", "Søren", "Łucja", "Aoife", "小龙", "Mohammed", "Ana", "Émile", "Björn", "Siobhán", "Kwame", "Priya", "François", "Olga", "Hélène", "Tomás", "Yuki", "Sam", "Léa"}
	custLast   = []string{"Tremblay", "Núñez", "Ødegård", "Nguyễn", "Gagnon", "O'Brien", "Müller", "Kowalski", "Roy", "李", "Smith", "Côté", "Bouchard", "García", "Dubois", "Ivanova", "Haddad", "Okafor", "Fischer", "Lavoie"}
	cities     = [][4]string{{"Montreal", "Quebec", "QC", "H2Y 1A6"}, {"Seattle", "Washington", "WA", "98101"}, {"Vancouver", "British Columbia", "BC", "V6B 1A1"}, {"Toronto", "Ontario", "ON", "M5V 2T6"}}
	streets    = []string{"St-Antoine E", "Main St", "Rue Saint-Denis", "Granville St", "Queen St W", "Pike St"}
	companies  = []string{"Atelier Nord", "Café Olé", "Studio Ümlaut", "Northwind Traders"}
	tiers      = []string{"Bronze", "Silver", "Gold"}
	ecomSource = []string{"ecom", "shopify", "woocommerce", "magento"}
	foldAccent = strings.NewReplacer("é", "e", "è", "e", "ë", "e", "ê", "e", "É", "e", "á", "a", "à", "a", "å", "a", "ä", "a",
		"ó", "o", "ò", "o", "ø", "o", "Ø", "o", "ö", "o", "ọ", "o", "ô", "o", "ñ", "n", "ç", "c", "ł", "l", "Ł", "l",
		"í", "i", "ü", "u", "ú", "u", "ễ", "e", "Á", "a", "'", "", " ", "")
)

type seedItem struct {
	desc    string
	price   string
	cost    string
	service bool
	tax     bool
}

var seedItems = []seedItem{
	{"Women's cut & style", "65", "0", true, true}, {"Men's cut", "38", "0", true, true},
	{"Colour – full", "120", "18.5", true, true}, {"Balayage", "185", "24", true, true},
	{"Blow-dry", "45", "0", true, true}, {"Beard trim", "22", "0", true, true},
	{"Manicure", "35", "4.25", true, true}, {"Keratin treatment", "240", "41", true, true},
	{"Shampoo 250 ml", "24.99", "9.5", false, true}, {"Conditioner 250 ml", "26.99", "10.25", false, true},
	{"Hair oil 50 ml", "34", "12", false, true}, {"Styling cream", "19.5", "6.8", false, true},
	{"Wide-tooth comb", "9.99", "2.1", false, true}, {"Silk scrunchie", "14", "3.35", false, true},
	{"Dry shampoo", "21.75", "7.9", false, true}, {"Heat protectant", "28", "9.95", false, true},
	{"Round brush", "32.5", "11.2", false, true}, {"Nail polish – Rouge", "16", "4.4", false, true},
	{"Gift card", "50", "0", false, false}, {"Travel kit", "44.99", "15.6", false, true},
}

// seedDemo fills st with deterministic demo data for opts.
func seedDemo(st *store, opts SeedOptions) {
	size := func(n, def int) int {
		switch {
		case n == 0:
			return def
		case n < 0:
			return 0
		}
		return n
	}
	nShops, nCustomers, nSales := size(opts.Shops, 3), size(opts.Customers, 500), size(opts.Sales, 2000)
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x7a5d3e11))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	chance := func(p float64) bool { return rng.Float64() < p }
	seedBase(st)

	// Shops, registers, employees.
	type staff struct{ cashiers, stylists []int }
	shopStaff := map[int]*staff{}
	var stylistNames []string
	for i := range nShops {
		rates := taxRates[i%len(taxRates)]
		t1, _ := parseDec(rates[0])
		t2, _ := parseDec(rates[1])
		c := cities[i%len(cities)]
		sh := &shop{ID: st.shops.nextID(), Name: st.account.Name + " – " + shopNames[i%len(shopNames)],
			TimeZone: shopZones[i%len(shopZones)], TaxRate1: t1, TaxRate2: t2, TimeStamp: seedEpoch,
			Contact: contact{ID: st.newContactID(), NoEmail: true, NoPhone: true, NoMail: true, TimeStamp: seedEpoch,
				Address: &address{Address1: fmt.Sprintf("%d %s", 100+i*10, streets[i%len(streets)]), City: c[0], State: c[1], StateCode: c[2], Zip: c[3]},
				Phones:  []phone{{fmt.Sprintf("514-555-02%02d", i), "Work"}}}}
		if i >= len(shopNames) {
			sh.Name += fmt.Sprintf(" %d", i+1)
		}
		st.shops.add(sh.ID, sh)
		for r := range 2 {
			reg := &register{ID: st.registers.nextID(), Name: fmt.Sprintf("Register %d", r+1), ShopID: sh.ID,
				Open: r == 0, OpenEmpID: 1}
			if reg.Open {
				reg.OpenTime = seedEpoch
			}
			st.registers.add(reg.ID, reg)
		}
		ss := &staff{}
		for e := range 4 {
			emp := &employee{ID: st.employees.nextID(), FirstName: empFirst[(i*4+e)%len(empFirst)],
				LastName: empLast[(i*3+e)%len(empLast)], RoleID: 2 + e%2, LimitShopID: sh.ID, LastShopID: sh.ID,
				TimeStamp: seedEpoch.Add(time.Duration(e) * time.Hour),
				Contact:   contact{ID: st.newContactID(), NoEmail: true, NoPhone: true, NoMail: true, TimeStamp: seedEpoch}}
			st.employees.add(emp.ID, emp)
			// Cashiers ring sales up at the register; stylists sell the lines.
			if e < 2 {
				ss.cashiers = append(ss.cashiers, emp.ID)
			} else {
				ss.stylists = append(ss.stylists, emp.ID)
				stylistNames = append(stylistNames, strings.TrimSpace(emp.FirstName+" "+emp.LastName))
			}
		}
		shopStaff[sh.ID] = ss
	}
	if nShops > 0 {
		// A former employee, archived.
		gone := &employee{ID: st.employees.nextID(), FirstName: "Pat", LastName: "Gone", Archived: true, LockOut: true,
			TimeStamp: seedEpoch, Contact: contact{ID: st.newContactID(), NoEmail: true, NoPhone: true, NoMail: true, TimeStamp: seedEpoch}}
		st.employees.add(gone.ID, gone)
	}

	// Customer types and custom fields.
	for _, n := range []string{"Loyalty", "Wholesale", "VIP"} {
		ct := &customerType{ID: st.customerTypes.nextID(), Name: n}
		st.customerTypes.add(ct.ID, ct)
	}
	addField := func(name, typ string, choices []string) *customField {
		cf := &customField{ID: st.customFields.nextID(), Name: name, Type: typ, TimeStamp: seedEpoch}
		if typ == "float" {
			cf.DecimalPrecision = 2
		}
		st.customFields.add(cf.ID, cf)
		for _, c := range choices {
			ch := &customFieldChoice{ID: st.choices.nextID(), FieldID: cf.ID, field: cf, Name: c, Value: c, TimeStamp: seedEpoch}
			st.choices.add(ch.ID, ch)
			cf.Choices = append(cf.Choices, ch)
		}
		return cf
	}
	if len(stylistNames) == 0 {
		stylistNames = []string{"Front desk"}
	}
	fStylist := addField("Stylist", "single_choice", stylistNames)
	fStudent := addField("Student", "boolean", nil)
	fTier := addField("Loyalty tier", "string", nil)
	fSince := addField("Member since", "date", nil)
	archivedField := addField("Old referral code", "string", nil)
	archivedField.Archived = true

	// Items.
	for i, si := range seedItems {
		price, _ := parseDec(si.price)
		cost, _ := parseDec(si.cost)
		it := &item{ID: st.items.nextID(), Description: si.desc, Price: price, MSRP: price, DefaultCost: cost, AvgCost: cost,
			Discountable: !si.service, Tax: si.tax, ItemType: "default", TaxClassID: 1, CategoryID: 1 + i%4,
			UPC: fmt.Sprintf("0%011d", 4006381333+i*7), CreateTime: seedEpoch.Add(-24 * time.Hour), TimeStamp: seedEpoch,
			PublishToEcom: !si.service}
		it.SystemSku = fmt.Sprintf("21%010d", it.ID)
		if si.service {
			it.ItemType = "non_inventory"
		}
		if i%3 == 0 {
			it.EAN = fmt.Sprintf("40%011d", 12345+i)
		}
		if it.PublishToEcom && i%2 == 0 {
			it.OnlinePrice = price - cents(100)
		}
		st.items.add(it.ID, it)
	}

	// Customers.
	var emails []string
	var giftCardCustomers []int
	span := int64(540 * 24 * time.Hour / time.Second)
	for range nCustomers {
		id := st.customers.nextID()
		created := seedEpoch.Add(time.Duration(int64(id)*span/int64(max(nCustomers, 1))) * time.Second)
		c := &customer{ID: id, FirstName: pick(custFirst), LastName: pick(custLast), CreateTime: created,
			TimeStamp: created.Add(time.Duration(rng.IntN(30*24*3600)) * time.Second),
			Contact:   contact{ID: st.newContactID(), NoEmail: true, NoPhone: true, NoMail: true}}
		c.Contact.TimeStamp = c.TimeStamp
		switch {
		case len(emails) > 0 && chance(0.04):
			// Shared email: a duplicate created by an eCom order or a family account.
			c.Contact.Emails = []email{{emails[rng.IntN(len(emails))], "Primary"}}
		case chance(0.8):
			local := strings.ToLower(foldAccent.Replace(c.FirstName) + "." + foldAccent.Replace(c.LastName))
			local = strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r == '.' {
					return r
				}
				return -1
			}, local)
			local = strings.Trim(local, ".")
			if local == "" {
				local = "client"
			}
			addr := fmt.Sprintf("%s%d@example.com", local, id)
			c.Contact.Emails = []email{{addr, "Primary"}}
			emails = append(emails, addr)
			if chance(0.1) {
				c.Contact.Emails = append(c.Contact.Emails, email{fmt.Sprintf("work%d@example.org", id), "Secondary"})
			}
		}
		if len(c.Contact.Emails) > 0 && chance(0.6) {
			c.Contact.NoEmail = false
		}
		if chance(0.7) {
			c.Contact.Phones = append(c.Contact.Phones, phone{fmt.Sprintf("514-555-%04d", rng.IntN(10000)), "Mobile"})
		}
		if chance(0.2) {
			c.Contact.Phones = append(c.Contact.Phones, phone{fmt.Sprintf("(206) 555-%04d", rng.IntN(10000)), "Home"})
		}
		if chance(0.1) {
			c.Contact.Phones = append(c.Contact.Phones, phone{fmt.Sprintf("+1 604 555 %04d", rng.IntN(10000)), "Work"})
		}
		if chance(0.6) {
			ci := cities[rng.IntN(len(cities))]
			a := &address{Address1: fmt.Sprintf("%d %s", 1+rng.IntN(2000), pick(streets)), City: ci[0], State: ci[1], StateCode: ci[2], Zip: ci[3]}
			if chance(0.3) {
				a.Address2 = fmt.Sprintf("Suite %d", 100+rng.IntN(400))
			}
			if chance(0.5) {
				a.Country, a.CountryCode = "Canada", "CA"
				if ci[2] == "WA" {
					a.Country, a.CountryCode = "United States", "US"
				}
			}
			c.Contact.Address = a
			c.Contact.NoMail = !chance(0.4)
		}
		if chance(0.05) {
			c.Contact.Website = fmt.Sprintf("https://example.com/~c%d", id)
		}
		if chance(0.5) {
			// A local-midnight date of birth stored in UTC.
			c.DOB = time.Date(1950+rng.IntN(55), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 4+rng.IntN(2)*4, 0, 0, 0, time.UTC)
		}
		if chance(0.1) {
			c.Company = pick(companies)
			c.Title = "Buyer"
		}
		if chance(0.3) {
			c.CustomerTypeID = 1 + rng.IntN(3)
		}
		if chance(0.04) {
			c.Archived = true
		}
		if chance(0.1) {
			c.Note = &note{ID: st.newNoteID(), Note: "Prefers morning appointments.\nAllergic to ammonia.", TimeStamp: c.TimeStamp}
		}
		if chance(0.4) {
			c.Values = append(c.Values, customFieldValue{st.newValueID(), fStylist.ID, fStylist.Choices[rng.IntN(len(fStylist.Choices))].Value})
		}
		if chance(0.3) {
			c.Values = append(c.Values, customFieldValue{st.newValueID(), fStudent.ID, fmtBool(chance(0.5))})
		}
		if chance(0.25) {
			c.Values = append(c.Values, customFieldValue{st.newValueID(), fTier.ID, pick(tiers)})
		}
		if chance(0.15) {
			c.Values = append(c.Values, customFieldValue{st.newValueID(), fSince.ID, created.Format(time.DateOnly)})
		}
		if chance(0.06) {
			ca := &creditAccount{ID: st.credit.nextID(), Name: strings.TrimSpace(c.FirstName + " " + c.LastName), GiftCard: true,
				Code: fmt.Sprintf("GC-%08d", rng.IntN(1e8)), Balance: cents(int64(2500 + rng.IntN(10000))), TimeStamp: c.TimeStamp}
			st.credit.add(ca.ID, ca)
			c.CreditAccount = ca
			giftCardCustomers = append(giftCardCustomers, c.ID)
		}
		st.customers.add(c.ID, c)
	}

	if nShops == 0 {
		return
	}
	// Sales.
	uuid := func() string {
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
	}
	var completedSales []*sale
	saleSpan := int64(600 * 24 * time.Hour / time.Second)
	for i := range nSales {
		created := seedEpoch.Add(24*time.Hour + time.Duration(int64(i)*saleSpan/int64(max(nSales, 1)))*time.Second)
		sh := st.shops.rows[rng.IntN(len(st.shops.rows))]
		ss := shopStaff[sh.ID]
		regID := st.registers.rows[(sh.ID-1)*2+rng.IntN(2)].ID
		sl := &sale{CreateTime: created, TimeStamp: created, UpdateTime: created, ShopID: sh.ID, RegisterID: regID,
			EmployeeID: ss.cashiers[rng.IntN(len(ss.cashiers))], Tax1Rate: sh.TaxRate1, Tax2Rate: sh.TaxRate2,
			TaxCategoryID: sh.ID, ReceiptPreference: "printed"}
		// Only customers created before the sale can be on it.
		known := min(nCustomers, int(int64(created.Sub(seedEpoch)/time.Second)*int64(nCustomers)/span))
		if known > 0 && chance(0.7) {
			sl.CustomerID = 1 + rng.IntN(known)
		}
		roll := rng.Float64()
		// Refund of an earlier sale: negative lines pointing at the originals.
		if roll < 0.05 && len(completedSales) > 0 {
			orig := completedSales[rng.IntN(len(completedSales))]
			sl.ShopID, sl.RegisterID, sl.CustomerID = orig.ShopID, orig.RegisterID, orig.CustomerID
			sl.Tax1Rate, sl.Tax2Rate, sl.TaxCategoryID = orig.Tax1Rate, orig.Tax2Rate, orig.TaxCategoryID
			for _, l := range orig.Lines[:1+rng.IntN(len(orig.Lines))] {
				nl := *l
				nl.ID, nl.CreateTime, nl.TimeStamp = 0, created, created
				nl.UnitQuantity = -l.UnitQuantity
				nl.ParentSaleLineID = l.ID
				nl.CustomerID = sl.CustomerID
				sl.Lines = append(sl.Lines, &nl)
			}
			sl.recalc()
			ptID := orig.Payments[0].PaymentTypeID
			if ptID == ptGiftCard || ptID == ptOnline {
				ptID = ptCash
			}
			sl.Payments = []*salePayment{{Amount: sl.Total, CreateTime: created, PaymentTypeID: ptID, RegisterID: sl.RegisterID,
				EmployeeID: sl.EmployeeID, PaymentID: uuid()}}
			finishSeedSale(st, sl, created)
			continue
		}
		online := roll >= 0.05 && roll < 0.13
		if online {
			sl.ReferenceNumberSource = pick(ecomSource)
			sl.ReferenceNumber = fmt.Sprintf("#%d", 10000+i)
			sl.EmployeeID = 1
			sl.RegisterID = st.registers.rows[(sh.ID-1)*2].ID
		}
		nLines := 1 + rng.IntN(4)
		for range nLines {
			it := st.items.rows[rng.IntN(len(st.items.rows)-1)] // the gift card item is sold on its own below
			if online && !it.PublishToEcom {
				it = st.items.rows[8+rng.IntN(8)]
			}
			l := &saleLine{CreateTime: created, TimeStamp: created, UnitQuantity: 1 + rng.IntN(2), UnitPrice: it.Price,
				AvgCost: it.AvgCost, Tax: it.Tax, Tax1Rate: sh.TaxRate1, Tax2Rate: sh.TaxRate2, ItemID: it.ID, ShopID: sh.ID,
				CustomerID: sl.CustomerID, TaxClassID: it.TaxClassID, EmployeeID: sl.EmployeeID}
			if online && it.OnlinePrice != 0 {
				l.UnitPrice, l.NormalUnitPrice = it.OnlinePrice, it.Price
			}
			if it.ItemType == "non_inventory" {
				// Services are credited to the stylist, not the cashier.
				l.UnitQuantity = 1
				l.EmployeeID = ss.stylists[rng.IntN(len(ss.stylists))]
			}
			sl.Lines = append(sl.Lines, l)
		}
		if !online && chance(0.03) {
			gc := st.items.rows[len(st.items.rows)-1]
			sl.Lines = append(sl.Lines, &saleLine{CreateTime: created, TimeStamp: created, UnitQuantity: 1, UnitPrice: gc.Price,
				Tax1Rate: sh.TaxRate1, Tax2Rate: sh.TaxRate2, ItemID: gc.ID, ShopID: sh.ID, CustomerID: sl.CustomerID,
				TaxClassID: gc.TaxClassID, EmployeeID: sl.EmployeeID})
		}
		sl.recalc()
		pay := func(amount dec, pt int, credit int) {
			sl.Payments = append(sl.Payments, &salePayment{Amount: amount, CreateTime: created.Add(3 * time.Minute),
				PaymentTypeID: pt, RegisterID: sl.RegisterID, EmployeeID: sl.EmployeeID, PaymentID: uuid(), CreditAccountID: credit})
		}
		switch r := rng.Float64(); {
		case online:
			pay(sl.Total, ptOnline, 0)
		case roll < 0.16:
			// Still open: a parked sale or layaway, not completed.
			st.addSale(sl)
			continue
		case r < 0.12:
			cash := (sl.Total.mul(cents(40))).roundCents()
			pay(cash, ptCash, 0)
			pay(sl.Total-cash, ptCreditCard, 0)
		case r < 0.18 && sort.SearchInts(giftCardCustomers, known+1) > 0:
			cid := giftCardCustomers[rng.IntN(sort.SearchInts(giftCardCustomers, known+1))]
			sl.CustomerID = cid
			for _, l := range sl.Lines {
				l.CustomerID = cid
			}
			ca := st.customers.byID[cid].CreditAccount
			part := min(sl.Total, cents(2500))
			pay(part, ptGiftCard, ca.ID)
			if rest := sl.Total - part; rest > 0 {
				pay(rest, ptCreditCard, 0)
			}
		case r < 0.35:
			// Cash rounded up to the next five dollars; the excess is change.
			five := cents(500)
			paid := (sl.Total + five - 1) / five * five
			pay(paid, ptCash, 0)
			sl.Change = paid - sl.Total
		case r < 0.45:
			pay(sl.Total, ptDebit, 0)
		default:
			pay(sl.Total, ptCreditCard, 0)
		}
		finishSeedSale(st, sl, created)
		if chance(0.04) {
			// Voided after completion: updateTime moves, the sale stays completed.
			sl.Voided = true
			sl.UpdateTime = sl.CompleteTime.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
			sl.TimeStamp = sl.UpdateTime
		} else {
			completedSales = append(completedSales, sl)
		}
		if chance(0.01) {
			sl.Archived = true
		}
	}
}

func finishSeedSale(st *store, sl *sale, created time.Time) {
	sl.Completed = true
	sl.CompleteTime = created.Add(4 * time.Minute)
	sl.TimeStamp = sl.CompleteTime
	sl.UpdateTime = sl.CompleteTime.Add(time.Second)
	change := sl.Change
	sl.recalc()
	sl.Change = change
	sl.Balance = sl.Total - sl.Paid + sl.Change
	st.addSale(sl)
}
