package sandbox

import (
	"slices"
	"time"
)

// saleDefaults are the relations a Sale write response carries: the API
// embeds the lines, payments, Shop and (when set) Customer.
var saleDefaults = []string{"SaleLines", "SalePayments", "Shop", "Customer"}

func saleTail(_ *store, s *sale) func(*jw) {
	return func(w *jw) { w.kv("taxTotal", (s.Tax1 + s.Tax2).String()) }
}

// findItem resolves an itemID or an itemCode (UPC, EAN, custom SKU or
// item id).
func findItem(st *store, b map[string]any) (*item, error) {
	if v, ok := b["itemID"]; ok {
		id, err := asInt(v)
		if err != nil {
			return nil, fieldErr("SaleLine", "itemID", err)
		}
		if id != 0 {
			it := st.items.byID[id]
			if it == nil {
				return nil, semantic("Invalid Foreign keys for SaleLine: itemID %d does not exist.", id)
			}
			return it, nil
		}
	}
	code, err := asString(b["itemCode"])
	if err != nil {
		return nil, fieldErr("SaleLine", "itemCode", err)
	}
	if code == "" {
		return nil, badRequest("SaleLine not created. A SaleLine must have an itemID or itemCode.")
	}
	for _, it := range st.items.rows {
		if it.UPC == code || it.EAN == code || it.CustomSku == code || itoa(it.ID) == code {
			return it, nil
		}
	}
	return nil, semantic("No item matches itemCode %q.", code)
}

// addLines parses SaleLines into sale (not yet stored).
func addLines(st *store, sl *sale, v any, now time.Time) error {
	list, _, err := items(v, "SaleLines", "SaleLine")
	if err != nil {
		return err
	}
	sh := st.shops.byID[sl.ShopID]
	for _, b := range list {
		it, err := findItem(st, b)
		if err != nil {
			return err
		}
		l := &saleLine{CreateTime: now, TimeStamp: now, ItemID: it.ID, UnitPrice: it.Price, AvgCost: it.AvgCost,
			Tax: it.Tax, EmployeeID: sl.EmployeeID, ShopID: sl.ShopID, CustomerID: sl.CustomerID, TaxClassID: it.TaxClassID,
			Tax1Rate: sh.TaxRate1, Tax2Rate: sh.TaxRate2}
		qv, ok := b["unitQuantity"]
		if !ok {
			return badRequest("SaleLine not created. unitQuantity is required.")
		}
		if l.UnitQuantity, err = asInt(qv); err != nil || l.UnitQuantity == 0 || l.UnitQuantity > 1e6 || l.UnitQuantity < -1e6 {
			return badRequest("SaleLine not created. unitQuantity must be a non-zero integer between -1000000 and 1000000.")
		}
		if v, ok := b["unitPrice"]; ok {
			if l.UnitPrice, err = asDec(v); err != nil {
				return fieldErr("SaleLine", "unitPrice", err)
			}
			l.NormalUnitPrice = it.Price
		}
		if err := setBool(b, "SaleLine", "tax", &l.Tax); err != nil {
			return err
		}
		if err := setInt(b, "SaleLine", "employeeID", &l.EmployeeID); err != nil {
			return err
		}
		if l.EmployeeID != 0 && st.employees.byID[l.EmployeeID] == nil {
			return semantic("Invalid Foreign keys for SaleLine: employeeID %d does not exist.", l.EmployeeID)
		}
		if err := setInt(b, "SaleLine", "parentSaleLineID", &l.ParentSaleLineID); err != nil {
			return err
		}
		if l.ParentSaleLineID != 0 && st.saleLines.byID[l.ParentSaleLineID] == nil {
			return semantic("Invalid Foreign keys for SaleLine: parentSaleLineID %d does not exist.", l.ParentSaleLineID)
		}
		if err := setString(b, "SaleLine", "note", &l.Note, 4096); err != nil {
			return err
		}
		sl.Lines = append(sl.Lines, l)
	}
	return nil
}

func addPayments(st *store, sl *sale, v any, now time.Time) error {
	list, _, err := items(v, "SalePayments", "SalePayment")
	if err != nil {
		return err
	}
	for _, b := range list {
		p := &salePayment{CreateTime: now, RegisterID: sl.RegisterID, EmployeeID: sl.EmployeeID, PaymentID: randomUUID()}
		av, ok := b["amount"]
		if !ok {
			return badRequest("SalePayment not created. amount is required.")
		}
		if p.Amount, err = asDec(av); err != nil {
			return fieldErr("SalePayment", "amount", err)
		}
		if err := setInt(b, "SalePayment", "paymentTypeID", &p.PaymentTypeID); err != nil {
			return err
		}
		pt := st.paymentTypes.byID[p.PaymentTypeID]
		if p.PaymentTypeID == 0 {
			return badRequest("SalePayment not created. paymentTypeID is required.")
		}
		if pt == nil {
			return semantic("Invalid Foreign keys for SalePayment: paymentTypeID %d does not exist.", p.PaymentTypeID)
		}
		if pt.RequireCustomer && sl.CustomerID == 0 {
			return semantic("Payment type %q requires a customer on the sale.", pt.Name)
		}
		if err := setInt(b, "SalePayment", "creditAccountID", &p.CreditAccountID); err != nil {
			return err
		}
		if p.CreditAccountID != 0 && st.credit.byID[p.CreditAccountID] == nil {
			return semantic("Invalid Foreign keys for SalePayment: creditAccountID %d does not exist.", p.CreditAccountID)
		}
		if err := setString(b, "SalePayment", "remoteReference", &p.RemoteReference, 255); err != nil {
			return err
		}
		sl.Payments = append(sl.Payments, p)
	}
	return nil
}

func randomUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// complete marks the sale completed if its payments balance: a short
// payment is refused, an overpayment is allowed only in cash (it becomes
// change). Refunds (negative totals) must be paid back exactly.
func complete(st *store, sl *sale, now time.Time, at time.Time) error {
	sl.Change = 0
	sl.recalc()
	switch {
	case sl.Total >= 0 && sl.Paid < sl.Total,
		sl.Total < 0 && sl.Paid != sl.Total:
		return semantic("Sale can not be completed: payments (%s) do not balance the total (%s).", sl.Paid, sl.Total)
	case sl.Paid > sl.Total:
		cash := slices.ContainsFunc(sl.Payments, func(p *salePayment) bool {
			pt := st.paymentTypes.byID[p.PaymentTypeID]
			return pt != nil && pt.Type == "cash"
		})
		if !cash {
			return semantic("Sale can not be completed: overpayment (%s over %s) is only allowed in cash.", sl.Paid, sl.Total)
		}
		sl.Change = sl.Paid - sl.Total
	}
	sl.Completed = true
	if at.IsZero() {
		at = now
	}
	sl.CompleteTime = at
	sl.TimeStamp = at
	sl.recalc()
	return nil
}

// store adds a built sale and its lines and payments, assigning ids.
func (st *store) addSale(sl *sale) {
	sl.ID = st.sales.nextID()
	st.sales.add(sl.ID, sl)
	for _, l := range sl.Lines {
		if l.ID == 0 {
			l.ID = st.saleLines.nextID()
			st.saleLines.add(l.ID, l)
		}
		l.SaleID = sl.ID
	}
	for _, p := range sl.Payments {
		if p.ID == 0 {
			p.ID = st.salePayments.nextID()
			st.salePayments.add(p.ID, p)
		}
		p.SaleID = sl.ID
	}
}

// attach stores lines and payments added to an existing sale.
func (st *store) attach(sl *sale) {
	for _, l := range sl.Lines {
		if l.ID == 0 {
			l.ID = st.saleLines.nextID()
			l.SaleID = sl.ID
			st.saleLines.add(l.ID, l)
		}
	}
	for _, p := range sl.Payments {
		if p.ID == 0 {
			p.ID = st.salePayments.nextID()
			p.SaleID = sl.ID
			st.salePayments.add(p.ID, p)
		}
	}
}

func completeTimeOf(b body) (time.Time, error) {
	v, ok := b["completeTime"]
	if !ok {
		return time.Time{}, nil
	}
	s, err := asString(v)
	if err != nil || s == "" {
		return time.Time{}, nil
	}
	return parseTimeValue(s)
}

func (s *Server) createSale(c *call) {
	b, err := c.decodeBody()
	if err != nil {
		c.fail(err)
		return
	}
	now := s.clock.now()
	s.writeLock()
	defer s.mu.Unlock()
	st := s.st
	sl := &sale{CreateTime: now, TimeStamp: now, UpdateTime: now, ReceiptPreference: "printed"}
	for _, f := range []struct {
		key string
		dst *int
	}{{"shopID", &sl.ShopID}, {"registerID", &sl.RegisterID}, {"employeeID", &sl.EmployeeID}, {"customerID", &sl.CustomerID}} {
		if err := setInt(b, "Sale", f.key, f.dst); err != nil {
			c.fail(err)
			return
		}
	}
	for _, f := range []struct{ key string }{{"shopID"}, {"registerID"}, {"employeeID"}} {
		if v, _ := asInt(b[f.key]); v == 0 {
			c.fail(badRequest("Sale not created. %s is required.", f.key))
			return
		}
	}
	sh := st.shops.byID[sl.ShopID]
	if sh == nil {
		c.fail(semantic("Invalid Foreign keys for Sale: shopID %d does not exist.", sl.ShopID))
		return
	}
	if r := st.registers.byID[sl.RegisterID]; r == nil || r.ShopID != sl.ShopID {
		c.fail(semantic("Invalid Foreign keys for Sale: registerID %d does not exist in shop %d.", sl.RegisterID, sl.ShopID))
		return
	}
	if st.employees.byID[sl.EmployeeID] == nil {
		c.fail(semantic("Invalid Foreign keys for Sale: employeeID %d does not exist.", sl.EmployeeID))
		return
	}
	// Archived customers are still accepted on sales.
	if sl.CustomerID != 0 && st.customers.byID[sl.CustomerID] == nil {
		c.fail(semantic("Invalid Foreign keys for Sale: customerID %d does not exist.", sl.CustomerID))
		return
	}
	sl.Tax1Rate, sl.Tax2Rate, sl.TaxCategoryID = sh.TaxRate1, sh.TaxRate2, sh.ID
	for _, k := range []struct {
		key string
		dst *string
	}{{"referenceNumber", &sl.ReferenceNumber}, {"referenceNumberSource", &sl.ReferenceNumberSource}, {"receiptPreference", &sl.ReceiptPreference}} {
		if err := setString(b, "Sale", k.key, k.dst, 255); err != nil {
			c.fail(err)
			return
		}
	}
	if err := addLines(st, sl, b["SaleLines"], now); err != nil {
		c.fail(err)
		return
	}
	if err := addPayments(st, sl, b["SalePayments"], now); err != nil {
		c.fail(err)
		return
	}
	sl.recalc()
	var completed bool
	if err := setBool(b, "Sale", "completed", &completed); err != nil {
		c.fail(err)
		return
	}
	if completed {
		at, err := completeTimeOf(b)
		if err != nil || at.After(now) {
			c.fail(badRequest("Sale.completeTime must be a timestamp that is not in the future."))
			return
		}
		if err := complete(st, sl, now, at); err != nil {
			c.fail(err)
			return
		}
	}
	st.addSale(sl)
	respondWrite(c, s.res.sale, 0, sl.ID, b)
}

func (s *Server) updateSale(rt *route) func(*call) {
	return func(c *call) {
		updateRecord(s, c, s.res.sale, rt, applySaleUpdate)
	}
}

// applySaleUpdate applies a PUT Sale body to sl, a copy of the stored sale.
func applySaleUpdate(st *store, sl *sale, b body, now time.Time) error {
	wasCompleted, wasVoided := sl.Completed, sl.Voided
	sl.Lines, sl.Payments = slices.Clone(sl.Lines), slices.Clone(sl.Payments)
	_, hasLines := b["SaleLines"]
	_, hasPayments := b["SalePayments"]
	_, hasCustomer := b["customerID"]
	if wasCompleted && (hasLines || hasPayments || hasCustomer) {
		return semantic("Sale %d is completed; its lines, payments and customer cannot be changed.", sl.ID)
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"referenceNumber", &sl.ReferenceNumber}, {"referenceNumberSource", &sl.ReferenceNumberSource}, {"receiptPreference", &sl.ReceiptPreference}} {
		if err := setString(b, "Sale", k.key, k.dst, 255); err != nil {
			return err
		}
	}
	if err := setInt(b, "Sale", "customerID", &sl.CustomerID); err != nil {
		return err
	}
	if sl.CustomerID != 0 && st.customers.byID[sl.CustomerID] == nil {
		return semantic("Invalid Foreign keys for Sale: customerID %d does not exist.", sl.CustomerID)
	}
	if err := setBool(b, "Sale", "archived", &sl.Archived); err != nil {
		return err
	}
	if err := addLines(st, sl, b["SaleLines"], now); err != nil {
		return err
	}
	if err := addPayments(st, sl, b["SalePayments"], now); err != nil {
		return err
	}
	if v, ok := b["voided"]; ok {
		voided, err := asBool(v)
		if err != nil {
			return fieldErr("Sale", "voided", err)
		}
		if voided && !wasCompleted {
			return semantic("Sale %d is not completed and cannot be voided.", sl.ID)
		}
		if !voided && wasVoided {
			return semantic("A voided sale cannot be un-voided.")
		}
		sl.Voided = voided
	}
	sl.recalc()
	if v, ok := b["completed"]; ok && !wasCompleted {
		completed, err := asBool(v)
		if err != nil {
			return fieldErr("Sale", "completed", err)
		}
		if completed {
			at, err := completeTimeOf(b)
			if err != nil || at.After(now) {
				return badRequest("Sale.completeTime must be a timestamp that is not in the future.")
			}
			if err := complete(st, sl, now, at); err != nil {
				return err
			}
		}
	} else if ok && wasCompleted {
		if completed, _ := asBool(v); !completed {
			return semantic("A completed sale cannot be re-opened.")
		}
	}
	sl.UpdateTime = now
	if !sl.Completed || wasCompleted {
		sl.TimeStamp = now
	}
	// New lines and payments point at sl's id, which the stored sale shares.
	st.attach(sl)
	return nil
}

// deleteSale archives a sale.
func (s *Server) deleteSale(rt *route) func(*call) {
	return func(c *call) {
		archiveRecord(s, c, s.res.sale, rt, func(sl *sale, now time.Time) {
			sl.Archived = true
			sl.TimeStamp, sl.UpdateTime = now, now
		})
	}
}

// deleteSaleLine removes a line from an open sale.
func (s *Server) deleteSaleLine(rt *route) func(*call) {
	return func(c *call) {
		onRecord(s, c, s.res.saleLine, 0, rt.id, func(st *store, l *saleLine, now time.Time) {
			sl := st.sales.byID[l.SaleID]
			if sl != nil && sl.Completed {
				c.fail(semantic("SaleLine %d belongs to completed sale %d and cannot be deleted.", l.ID, sl.ID))
				return
			}
			respondWrite(c, s.res.saleLine, 0, l.ID, nil)
			st.saleLines.remove(l.ID)
			if sl != nil {
				sl.Lines = slices.DeleteFunc(sl.Lines, func(x *saleLine) bool { return x == l })
				sl.recalc()
				sl.TimeStamp, sl.UpdateTime = now, now
			}
		})
	}
}

// refundSale serves POST Sale/{id}/refund: a new completed sale with the
// original lines negated (each pointing at its parentSaleLineID) and one
// negative payment of the given type.
func (s *Server) refundSale(rt *route) func(*call) {
	return func(c *call) {
		b, err := c.decodeBody()
		if err != nil {
			c.fail(err)
			return
		}
		onRecord(s, c, s.res.sale, 0, rt.id, func(st *store, orig *sale, now time.Time) {
			if !orig.Completed || orig.Voided {
				c.fail(semantic("Only a completed, non-voided sale can be refunded."))
				return
			}
			var ptID int
			if err := setInt(b, "Sale", "paymentTypeID", &ptID); err != nil {
				c.fail(err)
				return
			}
			if ptID == 0 {
				c.fail(badRequest("Refund not created. paymentTypeID is required."))
				return
			}
			if st.paymentTypes.byID[ptID] == nil {
				c.fail(semantic("Invalid Foreign keys for refund: paymentTypeID %d does not exist.", ptID))
				return
			}
			ref := &sale{CreateTime: now, TimeStamp: now, UpdateTime: now, ReceiptPreference: "printed",
				ShopID: orig.ShopID, RegisterID: orig.RegisterID, EmployeeID: orig.EmployeeID, CustomerID: orig.CustomerID,
				Tax1Rate: orig.Tax1Rate, Tax2Rate: orig.Tax2Rate, TaxCategoryID: orig.TaxCategoryID}
			for _, l := range orig.Lines {
				if l.UnitQuantity <= 0 {
					continue
				}
				nl := *l
				nl.ID, nl.SaleID, nl.CreateTime, nl.TimeStamp = 0, 0, now, now
				nl.UnitQuantity = -l.UnitQuantity
				nl.ParentSaleLineID = l.ID
				ref.Lines = append(ref.Lines, &nl)
			}
			ref.recalc()
			amount := ref.Total
			if v, ok := b["amount"]; ok {
				a, err := asDec(v)
				if err != nil {
					c.fail(fieldErr("Sale", "amount", err))
					return
				}
				amount = -a
				if a < 0 {
					amount = a
				}
				if amount != ref.Total {
					c.fail(semantic("Refund amount %s does not match the refundable total %s.", (-amount).String(), (-ref.Total).String()))
					return
				}
			}
			ref.Payments = []*salePayment{{Amount: amount, CreateTime: now, PaymentTypeID: ptID, RegisterID: orig.RegisterID,
				EmployeeID: orig.EmployeeID, PaymentID: randomUUID()}}
			if err := complete(st, ref, now, time.Time{}); err != nil {
				c.fail(err)
				return
			}
			st.addSale(ref)
			respondWrite(c, s.res.sale, 0, ref.ID, b)
		})
	}
}

// addSaleLine serves POST Sale/{id}/SaleLine: one line (the bare SaleLine
// object) added to an open sale. The response is the new SaleLine.
func (s *Server) addSaleLine(rt *route) func(*call) {
	return func(c *call) {
		b, err := c.decodeBody()
		if err != nil {
			c.fail(err)
			return
		}
		onRecord(s, c, s.res.sale, 0, rt.parent, func(st *store, sl *sale, now time.Time) {
			if sl.Completed {
				c.fail(semantic("Sale %d is completed; lines cannot be added.", sl.ID))
				return
			}
			before := len(sl.Lines)
			cp := *sl
			cp.Lines = slices.Clone(sl.Lines)
			if err := addLines(st, &cp, map[string]any{"SaleLine": map[string]any(b)}, now); err != nil {
				c.fail(err)
				return
			}
			cp.recalc()
			cp.TimeStamp, cp.UpdateTime = now, now
			*sl = cp
			st.attach(sl)
			respondWrite(c, s.res.saleLine, sl.ID, sl.Lines[before].ID, b)
		})
	}
}
