package sandbox

import (
	"strconv"
	"time"
)

// resources holds the description of every emulated entity. The relations
// refer to each other (a Sale loads its Customer), so they are built
// together by newResources.
type resources struct {
	shop          *resource[shop]
	register      *resource[register]
	employee      *resource[employee]
	customer      *resource[customer]
	customerType  *resource[customerType]
	customField   *resource[customField]
	choice        *resource[customFieldChoice]
	item          *resource[item]
	paymentType   *resource[paymentType]
	sale          *resource[sale]
	saleLine      *resource[saleLine]
	salePayment   *resource[salePayment]
	creditAccount *resource[creditAccount]
}

func writeContact(w *jw, c *contact) {
	w.beginObj()
	w.kv("contactID", itoa(c.ID))
	w.kv("custom", c.Custom)
	w.kv("noEmail", fmtBool(c.NoEmail))
	w.kv("noPhone", fmtBool(c.NoPhone))
	w.kv("noMail", fmtBool(c.NoMail))
	w.kv("timeStamp", fmtTime(c.TimeStamp))
	w.key("Addresses")
	if a := c.Address; a == nil {
		w.str("")
	} else {
		w.beginObj()
		w.key("ContactAddress")
		w.beginObj()
		// Empty address columns are null in the API and so omitted.
		for _, kv := range [...][2]string{
			{"address1", a.Address1}, {"address2", a.Address2}, {"city", a.City}, {"state", a.State},
			{"zip", a.Zip}, {"country", a.Country}, {"countryCode", a.CountryCode}, {"stateCode", a.StateCode},
		} {
			if kv[1] != "" {
				w.kv(kv[0], kv[1])
			}
		}
		w.endObj()
		w.endObj()
	}
	writeMany(w, "Phones", "ContactPhone", c.Phones, func(p phone) {
		w.beginObj()
		w.kv("number", p.Number)
		w.kv("useType", p.UseType)
		w.endObj()
	})
	writeMany(w, "Emails", "ContactEmail", c.Emails, func(e email) {
		w.beginObj()
		w.kv("address", e.Address)
		w.kv("useType", e.UseType)
		w.endObj()
	})
	w.key("Websites")
	if c.Website == "" {
		w.str("")
	} else {
		w.beginObj()
		w.key("ContactWebsite")
		w.beginObj()
		w.kv("url", c.Website)
		w.endObj()
		w.endObj()
	}
	w.endObj()
}

// contactValues answers Contact.* filters: the documented search shortcuts
// plus the address columns.
func contactValues(c *contact, name string) ([]string, kind, bool) {
	phoneOf := func(useType string) []string {
		for _, p := range c.Phones {
			if p.UseType == useType {
				return []string{p.Number}
			}
		}
		return nil
	}
	switch name {
	case "email":
		vals := make([]string, 0, len(c.Emails))
		for _, e := range c.Emails {
			vals = append(vals, e.Address)
		}
		return vals, kindString, true
	case "phoneHome":
		return phoneOf("Home"), kindString, true
	case "phoneWork":
		return phoneOf("Work"), kindString, true
	case "mobile":
		return phoneOf("Mobile"), kindString, true
	case "pager":
		return phoneOf("Pager"), kindString, true
	case "fax":
		return phoneOf("Fax"), kindString, true
	case "contactID":
		return []string{itoa(c.ID)}, kindInt, true
	case "noEmail", "noPhone", "noMail":
		v := map[string]bool{"noEmail": c.NoEmail, "noPhone": c.NoPhone, "noMail": c.NoMail}[name]
		return []string{fmtBool(v)}, kindBool, true
	}
	if a := c.Address; a != nil {
		switch name {
		case "address1":
			return []string{a.Address1}, kindString, true
		case "city":
			return []string{a.City}, kindString, true
		case "zip":
			return []string{a.Zip}, kindString, true
		case "countryCode":
			return []string{a.CountryCode}, kindString, true
		case "stateCode":
			return []string{a.StateCode}, kindString, true
		}
	} else if name == "address1" || name == "city" || name == "zip" || name == "countryCode" || name == "stateCode" {
		return nil, kindString, true
	}
	return nil, 0, false
}

func contactRelation[T any](get func(*T) *contact) *relation[T] {
	return &relation[T]{
		name: "Contact",
		write: func(_ *store, t *T, _ relSet, w *jw) {
			w.key("Contact")
			writeContact(w, get(t))
		},
		values: func(_ *store, t *T, name string) ([]string, kind, bool) { return contactValues(get(t), name) },
	}
}

// toOne builds a to-one relation onto another resource's rows.
func toOne[T, R any](name string, target *resource[R], get func(*store, *T) *R, nested ...string) *relation[T] {
	return &relation[T]{
		name:   name,
		nested: nested,
		write: func(st *store, t *T, loaded relSet, w *jw) {
			if r := get(st, t); r != nil {
				w.key(name)
				target.write(st, r, loaded, w)
			}
		},
		values: func(st *store, t *T, f string) ([]string, kind, bool) {
			return scalarValues(target, get(st, t))(f)
		},
	}
}

// toMany builds a to-many relation onto another resource's rows.
func toMany[T, R any](plural, singular string, target *resource[R], get func(*store, *T) []*R, nested ...string) *relation[T] {
	return &relation[T]{
		name:   plural,
		many:   true,
		nested: nested,
		write: func(st *store, t *T, loaded relSet, w *jw) {
			writeMany(w, plural, singular, get(st, t), func(r *R) { target.write(st, r, loaded, w) })
		},
		values: func(st *store, t *T, f string) ([]string, kind, bool) {
			return scalarValues(target, get(st, t)...)(f)
		},
	}
}

func newResources() *resources {
	rs := &resources{}

	rs.creditAccount = (&resource[creditAccount]{
		name: "CreditAccount", idField: "creditAccountID",
		id: func(c *creditAccount) int { return c.ID },
		fields: []field[creditAccount]{
			intField("creditAccountID", func(c *creditAccount) int { return c.ID }),
			strField("name", func(c *creditAccount) string { return c.Name }),
			optStrField("code", func(c *creditAccount) string { return c.Code }),
			boolField("giftCard", func(c *creditAccount) bool { return c.GiftCard }),
			decField("balance", func(c *creditAccount) dec { return c.Balance }),
			decField("creditLimit", func(c *creditAccount) dec { return c.CreditLimit }),
			timeField("timeStamp", func(c *creditAccount) time.Time { return c.TimeStamp }),
		},
	}).init()

	rs.customerType = (&resource[customerType]{
		name: "CustomerType", idField: "customerTypeID",
		id: func(c *customerType) int { return c.ID },
		fields: []field[customerType]{
			intField("customerTypeID", func(c *customerType) int { return c.ID }),
			strField("name", func(c *customerType) string { return c.Name }),
			intField("taxCategoryID", func(c *customerType) int { return c.TaxCategoryID }),
			intField("discountID", func(c *customerType) int { return c.DiscountID }),
		},
		sortable:  []string{"customerTypeID"},
		extraRels: []string{"Discount", "TaxCategory", "TaxCategory.TaxCategoryClasses"},
		rows:      func(st *store, _ int) []*customerType { return st.customerTypes.rows },
		find:      func(st *store, _, id int) *customerType { return st.customerTypes.byID[id] },
	}).init()

	rs.choice = (&resource[customFieldChoice]{
		name: "CustomFieldChoice", idField: "customFieldChoiceID",
		id: func(c *customFieldChoice) int { return c.ID },
		fields: []field[customFieldChoice]{
			intField("customFieldChoiceID", func(c *customFieldChoice) int { return c.ID }),
			strField("value", func(c *customFieldChoice) string { return c.Value }),
			strField("name", func(c *customFieldChoice) string { return c.Name }),
			// The last choice of a field cannot be deleted.
			boolField("canBeDeleted", func(c *customFieldChoice) bool { return c.field != nil && len(c.field.Choices) > 1 }),
			intField("customFieldID", func(c *customFieldChoice) int { return c.FieldID }),
			timeField("timeStamp", func(c *customFieldChoice) time.Time { return c.TimeStamp }),
		},
		sortable: []string{"customFieldChoiceID", "timeStamp"},
		rows: func(st *store, parent int) []*customFieldChoice {
			if f := st.customFields.byID[parent]; f != nil {
				return f.Choices
			}
			return nil
		},
		find: func(st *store, parent, id int) *customFieldChoice {
			if c := st.choices.byID[id]; c != nil && c.FieldID == parent {
				return c
			}
			return nil
		},
	}).init()

	rs.customField = (&resource[customField]{
		name: "CustomField", idField: "customFieldID",
		id:       func(c *customField) int { return c.ID },
		archived: func(c *customField) bool { return c.Archived },
		fields: []field[customField]{
			intField("customFieldID", func(c *customField) int { return c.ID }),
			strField("name", func(c *customField) string { return c.Name }),
			strField("type", func(c *customField) string { return c.Type }),
			strField("uom", func(c *customField) string { return c.UOM }),
			intField("decimalPrecision", func(c *customField) int { return c.DecimalPrecision }),
			boolField("archived", func(c *customField) bool { return c.Archived }),
			optStrField("default", func(c *customField) string { return c.Default }),
			timeField("timeStamp", func(c *customField) time.Time { return c.TimeStamp }),
		},
		sortable: []string{"customFieldID", "timeStamp", "name"},
		rows:     func(st *store, _ int) []*customField { return st.customFields.rows },
		find:     func(st *store, _, id int) *customField { return st.customFields.byID[id] },
	}).init()
	rs.customField.rels = []*relation[customField]{
		toMany("CustomFieldChoices", "CustomFieldChoice", rs.choice, func(_ *store, f *customField) []*customFieldChoice { return f.Choices }),
	}

	rs.customer = (&resource[customer]{
		name: "Customer", idField: "customerID",
		id:       func(c *customer) int { return c.ID },
		archived: func(c *customer) bool { return c.Archived },
		fields: []field[customer]{
			intField("customerID", func(c *customer) int { return c.ID }),
			strField("firstName", func(c *customer) string { return c.FirstName }),
			strField("lastName", func(c *customer) string { return c.LastName }),
			timeField("dob", func(c *customer) time.Time { return c.DOB }),
			boolField("archived", func(c *customer) bool { return c.Archived }),
			strField("title", func(c *customer) string { return c.Title }),
			strField("company", func(c *customer) string { return c.Company }),
			strField("companyRegistrationNumber", func(c *customer) string { return c.CompanyRegNo }),
			strField("vatNumber", func(c *customer) string { return c.VATNumber }),
			timeField("createTime", func(c *customer) time.Time { return c.CreateTime }),
			timeField("timeStamp", func(c *customer) time.Time { return c.TimeStamp }),
			intField("contactID", func(c *customer) int { return c.Contact.ID }),
			intField("creditAccountID", func(c *customer) int {
				if c.CreditAccount == nil {
					return 0
				}
				return c.CreditAccount.ID
			}),
			intField("customerTypeID", func(c *customer) int { return c.CustomerTypeID }),
			intField("discountID", func(c *customer) int { return c.DiscountID }),
			intField("employeeID", func(c *customer) int { return c.EmployeeID }),
			intField("noteID", func(c *customer) int {
				if c.Note == nil {
					return 0
				}
				return c.Note.ID
			}),
			intField("taxCategoryID", func(c *customer) int { return c.TaxCategoryID }),
			intField("measurementID", func(*customer) int { return 0 }),
		},
		sortable:  []string{"customerID", "timeStamp", "firstName", "lastName"},
		extraRels: []string{"Discount", "TaxCategory"},
		rows:      func(st *store, _ int) []*customer { return st.customers.rows },
		find:      func(st *store, _, id int) *customer { return st.customers.byID[id] },
		writeRels: customerDefaults,
	}).init()
	rs.customer.rels = []*relation[customer]{
		contactRelation(func(c *customer) *contact { return &c.Contact }),
		toOne("CustomerType", rs.customerType, func(st *store, c *customer) *customerType { return st.customerTypes.byID[c.CustomerTypeID] }),
		{
			name: "Note",
			write: func(_ *store, c *customer, _ relSet, w *jw) {
				if n := c.Note; n != nil {
					w.key("Note")
					w.beginObj()
					w.kv("noteID", itoa(n.ID))
					w.kv("note", n.Note)
					w.kv("isPublic", fmtBool(n.IsPublic))
					w.kv("timeStamp", fmtTime(n.TimeStamp))
					w.endObj()
				}
			},
			values: func(_ *store, c *customer, f string) ([]string, kind, bool) {
				if f != "note" {
					return nil, 0, false
				}
				if c.Note == nil {
					return nil, kindString, true
				}
				return []string{c.Note.Note}, kindString, true
			},
		},
		toOne("CreditAccount", rs.creditAccount, func(_ *store, c *customer) *creditAccount { return c.CreditAccount }),
		{
			name:   "Tags",
			many:   true,
			write:  func(_ *store, _ *customer, _ relSet, w *jw) { w.kv("Tags", "") },
			values: func(*store, *customer, string) ([]string, kind, bool) { return nil, kindString, true },
		},
		{
			name:       "CustomFieldValues",
			many:       true,
			notInAll:   true,
			nested:     []string{"value"},
			nestedMany: map[string]bool{},
			write: func(st *store, c *customer, loaded relSet, w *jw) {
				writeMany(w, "CustomFieldValues", "CustomFieldValue", c.Values, func(v customFieldValue) {
					writeCustomFieldValue(st, w, v, loaded.has("value"))
				})
			},
			values: func(st *store, c *customer, f string) ([]string, kind, bool) {
				switch f {
				case "customFieldID", "value", "name":
				default:
					return nil, 0, false
				}
				var vals []string
				for _, v := range c.Values {
					switch f {
					case "customFieldID":
						vals = append(vals, itoa(v.FieldID))
					case "value":
						vals = append(vals, v.Value)
					case "name":
						if cf := st.customFields.byID[v.FieldID]; cf != nil {
							vals = append(vals, cf.Name)
						}
					}
				}
				k := kindString
				if f == "customFieldID" {
					k = kindInt
				}
				return vals, k, true
			},
		},
	}

	rs.paymentType = (&resource[paymentType]{
		name: "PaymentType", idField: "paymentTypeID",
		id:       func(p *paymentType) int { return p.ID },
		archived: func(p *paymentType) bool { return p.Archived },
		fields: []field[paymentType]{
			intField("paymentTypeID", func(p *paymentType) int { return p.ID }),
			strField("code", func(p *paymentType) string { return p.Code }),
			strField("name", func(p *paymentType) string { return p.Name }),
			boolField("requireCustomer", func(p *paymentType) bool { return p.RequireCustomer }),
			boolField("archived", func(p *paymentType) bool { return p.Archived }),
			boolField("internalReserved", func(p *paymentType) bool { return p.InternalReserved }),
			strField("type", func(p *paymentType) string { return p.Type }),
			strField("channel", func(p *paymentType) string { return p.Channel }),
			intField("refundAsPaymentTypeID", func(p *paymentType) int { return p.RefundAsID }),
		},
		sortable: []string{"paymentTypeID"},
		rows:     func(st *store, _ int) []*paymentType { return st.paymentTypes.rows },
		find:     func(st *store, _, id int) *paymentType { return st.paymentTypes.byID[id] },
	}).init()

	rs.item = (&resource[item]{
		name: "Item", idField: "itemID",
		id:       func(i *item) int { return i.ID },
		archived: func(i *item) bool { return i.Archived },
		fields: []field[item]{
			intField("itemID", func(i *item) int { return i.ID }),
			strField("systemSku", func(i *item) string { return i.SystemSku }),
			decField("defaultCost", func(i *item) dec { return i.DefaultCost }),
			decField("avgCost", func(i *item) dec { return i.AvgCost }),
			boolField("discountable", func(i *item) bool { return i.Discountable }),
			boolField("tax", func(i *item) bool { return i.Tax }),
			boolField("archived", func(i *item) bool { return i.Archived }),
			strField("itemType", func(i *item) string { return i.ItemType }),
			boolField("serialized", func(*item) bool { return false }),
			strField("description", func(i *item) string { return i.Description }),
			intField("modelYear", func(i *item) int { return i.ModelYear }),
			strField("upc", func(i *item) string { return i.UPC }),
			strField("ean", func(i *item) string { return i.EAN }),
			strField("customSku", func(i *item) string { return i.CustomSku }),
			strField("manufacturerSku", func(*item) string { return "" }),
			timeField("createTime", func(i *item) time.Time { return i.CreateTime }),
			timeField("timeStamp", func(i *item) time.Time { return i.TimeStamp }),
			boolField("publishToEcom", func(i *item) bool { return i.PublishToEcom }),
			intField("categoryID", func(i *item) int { return i.CategoryID }),
			intField("taxClassID", func(i *item) int { return i.TaxClassID }),
			intField("departmentID", func(*item) int { return 0 }),
			intField("itemMatrixID", func(*item) int { return 0 }),
			intField("itemAttributesID", func(*item) int { return 0 }),
			intField("manufacturerID", func(*item) int { return 0 }),
			intField("noteID", func(*item) int { return 0 }),
			intField("seasonID", func(*item) int { return 0 }),
			intField("defaultVendorID", func(*item) int { return 0 }),
		},
		sortable: []string{"itemID", "timeStamp", "description"},
		extraRels: []string{"Category", "TaxClass", "ItemAttributes", "ItemAttributes.ItemAttributeSet", "Manufacturer",
			"Note", "Images", "ItemShops", "ItemVendorNums", "ItemComponents", "ItemECommerce", "TagRelations",
			"TagRelations.Tag", "CustomFieldValues", "CustomFieldValues.value", "ItemPrices"},
		always: func(_ *store, i *item, w *jw) {
			type price struct {
				amount  dec
				id      int
				useType string
			}
			prices := []price{{i.Price, 1, "Default"}, {i.MSRP, 2, "MSRP"}}
			if i.OnlinePrice != 0 {
				prices = append(prices, price{i.OnlinePrice, 3, "Online"})
			}
			writeMany(w, "Prices", "ItemPrice", prices, func(p price) {
				w.beginObj()
				w.kv("amount", p.amount.String())
				w.kv("useTypeID", itoa(p.id))
				w.kv("useType", p.useType)
				w.endObj()
			})
		},
		rows: func(st *store, _ int) []*item { return st.items.rows },
		find: func(st *store, _, id int) *item { return st.items.byID[id] },
	}).init()

	rs.register = (&resource[register]{
		name: "Register", idField: "registerID",
		id:       func(r *register) int { return r.ID },
		archived: func(r *register) bool { return r.Archived },
		fields: []field[register]{
			intField("registerID", func(r *register) int { return r.ID }),
			strField("name", func(r *register) string { return r.Name }),
			boolField("open", func(r *register) bool { return r.Open }),
			timeField("openTime", func(r *register) time.Time { return r.OpenTime }),
			boolField("archived", func(r *register) bool { return r.Archived }),
			boolField("tipEnabled", func(r *register) bool { return r.TipEnabled }),
			intField("openEmployeeID", func(r *register) int { return r.OpenEmpID }),
			intField("shopID", func(r *register) int { return r.ShopID }),
			intField("ccTerminalID", func(*register) int { return 0 }),
		},
		sortable: []string{"registerID"},
		rows:     func(st *store, _ int) []*register { return st.registers.rows },
		find:     func(st *store, _, id int) *register { return st.registers.byID[id] },
	}).init()

	rs.shop = (&resource[shop]{
		name: "Shop", idField: "shopID",
		id:       func(s *shop) int { return s.ID },
		archived: func(s *shop) bool { return s.Archived },
		fields: []field[shop]{
			intField("shopID", func(s *shop) int { return s.ID }),
			strField("name", func(s *shop) string { return s.Name }),
			decField("serviceRate", func(s *shop) dec { return s.ServiceRate }),
			strField("timeZone", func(s *shop) string { return s.TimeZone }),
			boolField("taxLabor", func(*shop) bool { return false }),
			strField("labelTitle", func(*shop) string { return "Shop Name" }),
			boolField("labelMsrp", func(*shop) bool { return false }),
			boolField("archived", func(s *shop) bool { return s.Archived }),
			timeField("timeStamp", func(s *shop) time.Time { return s.TimeStamp }),
			strField("companyRegistrationNumber", func(*shop) string { return "" }),
			strField("vatNumber", func(*shop) string { return "" }),
			boolField("zebraBrowserPrint", func(*shop) bool { return false }),
			intField("contactID", func(s *shop) int { return s.Contact.ID }),
			intField("taxCategoryID", func(s *shop) int { return s.ID }),
			intField("receiptSetupID", func(s *shop) int { return s.ID }),
			intField("vendorID", func(*shop) int { return 0 }),
			intField("ccGatewayID", func(*shop) int { return 0 }),
			intField("gatewayConfigID", func(*shop) int { return 0 }),
			intField("priceLevelID", func(*shop) int { return 1 }),
		},
		sortable:  []string{"shopID"},
		extraRels: []string{"ReceiptSetup", "TaxCategory", "ShelfLocations", "CCGateway", "PriceLevel"},
		rows:      func(st *store, _ int) []*shop { return st.shops.rows },
		find:      func(st *store, _, id int) *shop { return st.shops.byID[id] },
	}).init()
	rs.shop.rels = []*relation[shop]{
		contactRelation(func(s *shop) *contact { return &s.Contact }),
		toMany("Registers", "Register", rs.register, func(st *store, s *shop) []*register {
			var out []*register
			for _, r := range st.registers.rows {
				if r.ShopID == s.ID {
					out = append(out, r)
				}
			}
			return out
		}),
	}

	rs.employee = (&resource[employee]{
		name: "Employee", idField: "employeeID",
		id:       func(e *employee) int { return e.ID },
		archived: func(e *employee) bool { return e.Archived },
		fields: []field[employee]{
			intField("employeeID", func(e *employee) int { return e.ID }),
			strField("firstName", func(e *employee) string { return e.FirstName }),
			strField("lastName", func(e *employee) string { return e.LastName }),
			boolField("lockOut", func(e *employee) bool { return e.LockOut }),
			boolField("archived", func(e *employee) bool { return e.Archived }),
			timeField("timeStamp", func(e *employee) time.Time { return e.TimeStamp }),
			intField("contactID", func(e *employee) int { return e.Contact.ID }),
			intField("clockInEmployeeHoursID", func(*employee) int { return 0 }),
			intField("employeeRoleID", func(e *employee) int { return e.RoleID }),
			intField("limitToShopID", func(e *employee) int { return e.LimitShopID }),
			intField("lastShopID", func(e *employee) int { return e.LastShopID }),
			intField("lastSaleID", func(*employee) int { return 0 }),
			intField("lastRegisterID", func(*employee) int { return 0 }),
		},
		sortable:  []string{"employeeID", "timeStamp"},
		extraRels: []string{"EmployeeRole", "EmployeeRole.EmployeeRights", "EmployeeRights"},
		rows:      func(st *store, _ int) []*employee { return st.employees.rows },
		find:      func(st *store, _, id int) *employee { return st.employees.byID[id] },
	}).init()
	rs.employee.rels = []*relation[employee]{contactRelation(func(e *employee) *contact { return &e.Contact })}

	rs.salePayment = (&resource[salePayment]{
		name: "SalePayment", idField: "salePaymentID",
		id:       func(p *salePayment) int { return p.ID },
		archived: func(p *salePayment) bool { return p.Archived },
		fields: []field[salePayment]{
			intField("salePaymentID", func(p *salePayment) int { return p.ID }),
			decField("amount", func(p *salePayment) dec { return p.Amount }),
			decField("tipAmount", func(p *salePayment) dec { return p.TipAmount }),
			timeField("createTime", func(p *salePayment) time.Time { return p.CreateTime }),
			boolField("archived", func(p *salePayment) bool { return p.Archived }),
			strField("remoteReference", func(p *salePayment) string { return p.RemoteReference }),
			strField("paymentID", func(p *salePayment) string { return p.PaymentID }),
			intField("saleID", func(p *salePayment) int { return p.SaleID }),
			intField("paymentTypeID", func(p *salePayment) int { return p.PaymentTypeID }),
			intField("ccChargeID", func(*salePayment) int { return 0 }),
			intField("refPaymentID", func(*salePayment) int { return 0 }),
			intField("registerID", func(p *salePayment) int { return p.RegisterID }),
			intField("employeeID", func(p *salePayment) int { return p.EmployeeID }),
			intField("creditAccountID", func(p *salePayment) int { return p.CreditAccountID }),
		},
		// The API also lists timeStamp as sortable, but documents no such
		// field on SalePayment; the emulator leaves it out.
		sortable:  []string{"salePaymentID", "saleID"},
		extraRels: []string{"CCCharge", "SaleAccounts", "Signatures", "ProcessingFees"},
		rows:      func(st *store, _ int) []*salePayment { return st.salePayments.rows },
		find:      func(st *store, _, id int) *salePayment { return st.salePayments.byID[id] },
	}).init()
	rs.salePayment.rels = []*relation[salePayment]{
		toOne("PaymentType", rs.paymentType, func(st *store, p *salePayment) *paymentType { return st.paymentTypes.byID[p.PaymentTypeID] }),
	}

	rs.saleLine = (&resource[saleLine]{
		name: "SaleLine", idField: "saleLineID",
		id: func(l *saleLine) int { return l.ID },
		fields: []field[saleLine]{
			intField("saleLineID", func(l *saleLine) int { return l.ID }),
			timeField("createTime", func(l *saleLine) time.Time { return l.CreateTime }),
			timeField("timeStamp", func(l *saleLine) time.Time { return l.TimeStamp }),
			intField("unitQuantity", func(l *saleLine) int { return l.UnitQuantity }),
			decField("unitPrice", func(l *saleLine) dec { return l.UnitPrice }),
			decField("normalUnitPrice", func(l *saleLine) dec { return l.NormalUnitPrice }),
			decField("discountAmount", func(*saleLine) dec { return 0 }),
			decField("discountPercent", func(*saleLine) dec { return 0 }),
			decField("avgCost", func(l *saleLine) dec { return l.AvgCost }),
			decField("fifoCost", func(l *saleLine) dec { return l.AvgCost }),
			boolField("tax", func(l *saleLine) bool { return l.Tax }),
			decField("tax1Rate", func(l *saleLine) dec { return l.Tax1Rate }),
			decField("tax2Rate", func(l *saleLine) dec { return l.Tax2Rate }),
			boolField("isLayaway", func(*saleLine) bool { return false }),
			boolField("isWorkorder", func(*saleLine) bool { return false }),
			boolField("isSpecialOrder", func(*saleLine) bool { return false }),
			decField("displayableSubtotal", func(l *saleLine) dec { return l.subtotal() }),
			decField("displayableUnitPrice", func(l *saleLine) dec { return l.UnitPrice }),
			strField("lineType", func(*saleLine) string { return "" }),
			decField("calcLineDiscount", func(*saleLine) dec { return 0 }),
			decField("calcTransactionDiscount", func(*saleLine) dec { return 0 }),
			decField("calcTotal", func(l *saleLine) dec { return l.subtotal() + l.tax1() + l.tax2() }),
			decField("calcSubtotal", func(l *saleLine) dec { return l.subtotal() }),
			decField("calcTax1", func(l *saleLine) dec { return l.tax1() }),
			decField("calcTax2", func(l *saleLine) dec { return l.tax2() }),
			intField("taxClassID", func(l *saleLine) int { return l.TaxClassID }),
			intField("customerID", func(l *saleLine) int { return l.CustomerID }),
			intField("discountID", func(*saleLine) int { return 0 }),
			intField("employeeID", func(l *saleLine) int { return l.EmployeeID }),
			intField("itemID", func(l *saleLine) int { return l.ItemID }),
			intField("noteID", func(*saleLine) int { return 0 }),
			intField("parentSaleLineID", func(l *saleLine) int { return l.ParentSaleLineID }),
			intField("shopID", func(l *saleLine) int { return l.ShopID }),
			intField("saleID", func(l *saleLine) int { return l.SaleID }),
			intField("itemFeeID", func(*saleLine) int { return 0 }),
			intField("taxCategoryID", func(l *saleLine) int { return l.ShopID }),
		},
		sortable:  []string{"saleLineID", "timeStamp", "saleID"},
		extraRels: []string{"Discount", "TaxClass", "TaxCategory", "Note", "InventorySales", "SaleAccounts"},
		rows: func(st *store, parent int) []*saleLine {
			if parent == 0 {
				return st.saleLines.rows
			}
			if s := st.sales.byID[parent]; s != nil {
				return s.Lines
			}
			return nil
		},
		find: func(st *store, parent, id int) *saleLine {
			if l := st.saleLines.byID[id]; l != nil && (parent == 0 || l.SaleID == parent) {
				return l
			}
			return nil
		},
	}).init()
	rs.saleLine.rels = []*relation[saleLine]{
		toOne("Item", rs.item, func(st *store, l *saleLine) *item { return st.items.byID[l.ItemID] }),
	}

	rs.sale = (&resource[sale]{
		name: "Sale", idField: "saleID",
		id:       func(s *sale) int { return s.ID },
		archived: func(s *sale) bool { return s.Archived },
		fields: []field[sale]{
			intField("saleID", func(s *sale) int { return s.ID }),
			timeField("timeStamp", func(s *sale) time.Time { return s.TimeStamp }),
			decField("discountPercent", func(*sale) dec { return 0 }),
			boolField("completed", func(s *sale) bool { return s.Completed }),
			boolField("archived", func(s *sale) bool { return s.Archived }),
			boolField("voided", func(s *sale) bool { return s.Voided }),
			boolField("enablePromotions", func(*sale) bool { return true }),
			boolField("isTaxInclusive", func(s *sale) bool { return s.IsTaxInclusive }),
			boolField("tipEnabled", func(*sale) bool { return false }),
			timeField("createTime", func(s *sale) time.Time { return s.CreateTime }),
			timeField("updateTime", func(s *sale) time.Time { return s.UpdateTime }),
			timeField("completeTime", func(s *sale) time.Time { return s.CompleteTime }),
			strField("referenceNumber", func(s *sale) string { return s.ReferenceNumber }),
			strField("referenceNumberSource", func(s *sale) string { return s.ReferenceNumberSource }),
			decField("tax1Rate", func(s *sale) dec { return s.Tax1Rate }),
			decField("tax2Rate", func(s *sale) dec { return s.Tax2Rate }),
			decField("change", func(s *sale) dec { return s.Change }),
			strField("receiptPreference", func(s *sale) string { return s.ReceiptPreference }),
			decField("displayableSubtotal", func(s *sale) dec { return s.Subtotal }),
			strField("ticketNumber", func(s *sale) string { return ticketNumber(s.ID) }),
			decField("calcDiscount", func(*sale) dec { return 0 }),
			decField("calcTotal", func(s *sale) dec { return s.Total }),
			decField("calcSubtotal", func(s *sale) dec { return s.Subtotal }),
			decField("calcTaxable", func(s *sale) dec { return s.taxable() }),
			decField("calcNonTaxable", func(s *sale) dec { return s.Subtotal - s.taxable() }),
			decField("calcAvgCost", func(s *sale) dec { return s.avgCost() }),
			decField("calcFIFOCost", func(s *sale) dec { return s.avgCost() }),
			decField("calcTax1", func(s *sale) dec { return s.Tax1 }),
			decField("calcTax2", func(s *sale) dec { return s.Tax2 }),
			decField("calcPayments", func(s *sale) dec { return s.Paid }),
			decField("calcTips", func(*sale) dec { return 0 }),
			decField("calcItemFees", func(*sale) dec { return 0 }),
			decField("total", func(s *sale) dec { return s.Total }),
			decField("totalDue", func(s *sale) dec { return s.Total }),
			decField("displayableTotal", func(s *sale) dec { return s.Total }),
			decField("balance", func(s *sale) dec { return s.Balance }),
			intField("customerID", func(s *sale) int { return s.CustomerID }),
			intField("discountID", func(*sale) int { return 0 }),
			intField("employeeID", func(s *sale) int { return s.EmployeeID }),
			intField("quoteID", func(*sale) int { return 0 }),
			intField("registerID", func(s *sale) int { return s.RegisterID }),
			intField("shipToID", func(*sale) int { return 0 }),
			intField("shopID", func(s *sale) int { return s.ShopID }),
			intField("taxCategoryID", func(s *sale) int { return s.TaxCategoryID }),
			intField("tipEmployeeID", func(*sale) int { return 0 }),
		},
		sortable: []string{"saleID", "timeStamp", "completeTime", "updatetime"},
		// Sale emits updateTime but sorts and filters on updatetime.
		aliases: map[string]string{"updatetime": "updateTime"},
		extraRels: []string{"SaleLines.Discount", "SaleLines.TaxClass", "SaleLines.Note", "SaleLines.InventorySales",
			"SaleNotes", "SalePayments.CCCharge", "SalePayments.SaleAccounts", "SalePayments.Signatures", "ShipTo",
			"ShipTo.Contact", "Discount", "TaxCategory", "TaxCategory.TaxCategoryClasses", "Quote"},
		rows:      func(st *store, _ int) []*sale { return st.sales.rows },
		find:      func(st *store, _, id int) *sale { return st.sales.byID[id] },
		writeRels: func(body) []string { return saleDefaults },
		writeTail: saleTail,
	}).init()
	rs.sale.rels = []*relation[sale]{
		toOne("Customer", rs.customer, func(st *store, s *sale) *customer { return st.customers.byID[s.CustomerID] }, "Contact"),
		toMany("SaleLines", "SaleLine", rs.saleLine, func(_ *store, s *sale) []*saleLine { return s.Lines }, "Item"),
		toMany("SalePayments", "SalePayment", rs.salePayment, func(_ *store, s *sale) []*salePayment { return s.Payments }, "PaymentType"),
		toOne("Shop", rs.shop, func(st *store, s *sale) *shop { return st.shops.byID[s.ShopID] }),
	}
	return rs
}

// ticketNumber is "22" and the zero-padded sale id, as the API prints it.
func ticketNumber(saleID int) string {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(saleID), 10)
	b := make([]byte, 0, 12+len(d))
	b = append(b, "22"...)
	for i := len(d); i < 10; i++ {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

func (s *sale) taxable() dec {
	var t dec
	for _, l := range s.Lines {
		if l.Tax {
			t += l.subtotal()
		}
	}
	return t
}

func (s *sale) avgCost() dec {
	var t dec
	for _, l := range s.Lines {
		t += l.AvgCost.mulInt(l.UnitQuantity)
	}
	return t
}

// writeCustomFieldValue writes one value. Choice values are the choice's
// value string, or, when "CustomFieldValues.value" is loaded, the
// CustomFieldChoice object itself.
func writeCustomFieldValue(st *store, w *jw, v customFieldValue, expand bool) {
	cf := st.customFields.byID[v.FieldID]
	w.beginObj()
	w.kv("customFieldValueID", itoa(v.ID))
	w.kv("customFieldID", itoa(v.FieldID))
	if cf != nil {
		w.kv("name", cf.Name)
		w.kv("type", cf.Type)
		if expand && cf.Type == "single_choice" {
			for _, c := range cf.Choices {
				if c.Value == v.Value {
					w.key("value")
					w.beginObj()
					w.kv("customFieldChoiceID", itoa(c.ID))
					w.kv("value", c.Value)
					w.kv("name", c.Name)
					w.endObj()
					w.endObj()
					return
				}
			}
		}
	}
	w.kv("value", v.Value)
	w.endObj()
}
