package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// body is a decoded write payload. Numbers are kept as json.Number so
// "7", 7 and 7.0 are all accepted the way the API accepts them.
type body map[string]any

func (c *call) decodeBody() (body, error) {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil, badRequest("The request body is empty; send a JSON object.")
	}
	d := json.NewDecoder(bytes.NewReader(c.body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, badRequest("Malformed JSON in request body: %v.", err)
	}
	if d.More() {
		return nil, badRequest("Malformed JSON in request body: trailing data after the object.")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("The request body must be a JSON object.")
	}
	return m, nil
}

func asString(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	case bool:
		return fmtBool(t), nil
	}
	return "", fmt.Errorf("expected a string")
}

func asBool(v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		switch strings.ToLower(t) {
		case "true", "1":
			return true, nil
		case "false", "0", "":
			return false, nil
		}
	case json.Number:
		switch t.String() {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("expected a boolean")
}

func asInt(v any) (int, error) {
	s, err := asString(v)
	if err != nil {
		return 0, fmt.Errorf("expected an integer")
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int(f)) {
			return 0, fmt.Errorf("expected an integer")
		}
		n = int(f)
	}
	return n, nil
}

func asDec(v any) (dec, error) {
	s, err := asString(v)
	if err != nil || s == "" {
		return 0, fmt.Errorf("expected a decimal number")
	}
	d, err := parseDec(s)
	if err != nil {
		return 0, fmt.Errorf("expected a decimal number")
	}
	return d, nil
}

// items unwraps the API's plural container: {"ContactPhone": {...}} or
// {"ContactPhone": [{...}, ...]}; "" and null mean an empty list.
func items(v any, plural, singular string) ([]map[string]any, bool, error) {
	switch t := v.(type) {
	case nil:
		return nil, true, nil
	case string:
		if t == "" {
			return nil, true, nil
		}
	case map[string]any:
		inner, ok := t[singular]
		if !ok {
			if len(t) == 0 {
				return nil, true, nil
			}
			return nil, false, badRequest("%s must contain %q.", plural, singular)
		}
		switch in := inner.(type) {
		case map[string]any:
			return []map[string]any{in}, false, nil
		case []any:
			out := make([]map[string]any, 0, len(in))
			for _, e := range in {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, false, badRequest("Each %s must be an object.", singular)
				}
				out = append(out, m)
			}
			return out, false, nil
		}
		return nil, false, badRequest("%s.%s must be an object or an array of objects.", plural, singular)
	}
	return nil, false, badRequest(`%s must be an object like {"%s": ...} or "".`, plural, singular)
}

// fieldErr wraps a conversion error with the entity and field.
func fieldErr(entity, field string, err error) *apiError {
	return badRequest("%s.%s: %v.", entity, field, err)
}

func semantic(format string, args ...any) *apiError {
	return &apiError{http.StatusUnprocessableEntity, fmt.Sprintf(format, args...), "Exception"}
}

// setString applies a string member if present.
func setString(b body, entity, key string, dst *string, maxLen int) error {
	v, ok := b[key]
	if !ok {
		return nil
	}
	s, err := asString(v)
	if err != nil {
		return fieldErr(entity, key, err)
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		return badRequest("%s.%s is longer than %d characters.", entity, key, maxLen)
	}
	*dst = s
	return nil
}

func setInt(b body, entity, key string, dst *int) error {
	v, ok := b[key]
	if !ok {
		return nil
	}
	n, err := asInt(v)
	if err != nil {
		return fieldErr(entity, key, err)
	}
	*dst = n
	return nil
}

func setBool(b body, entity, key string, dst *bool) error {
	v, ok := b[key]
	if !ok {
		return nil
	}
	x, err := asBool(v)
	if err != nil {
		return fieldErr(entity, key, err)
	}
	*dst = x
	return nil
}

// respondWrite writes a write's result with the relations the caller
// asked for in load_relations, or r's defaults for the body b.
func respondWrite[T any](c *call, r *resource[T], parent, id int, b body) {
	names := c.loadRelationsParam()
	if names == nil && r.writeRels != nil {
		names = r.writeRels(b)
	}
	loaded, err := resolveRelations(r, names)
	if err != nil {
		c.fail(err)
		return
	}
	st := c.s.st
	t := r.find(st, parent, id)
	if t == nil {
		writeAPIError(c.w, notFound(r.name, id))
		return
	}
	w := &jw{}
	w.beginObj()
	w.key("@attributes")
	w.beginObj()
	w.kv("count", "1")
	w.endObj()
	w.key(r.name)
	var tl func(*jw)
	if r.writeTail != nil {
		tl = r.writeTail(st, t)
	}
	r.writeWith(st, t, loaded, w, tl)
	w.endObj()
	writeJSON(c.w, http.StatusOK, w.b)
}

// onRecord runs fn under the write lock on the record r has at
// parent/id, or answers 404 if there is none. now is read before the lock
// is taken, as every write does.
func onRecord[T any](s *Server, c *call, r *resource[T], parent, id int, fn func(st *store, t *T, now time.Time)) {
	now := s.clock.now()
	s.writeLock()
	defer s.mu.Unlock()
	t := r.find(s.st, parent, id)
	if t == nil {
		writeAPIError(c.w, notFound(r.name, id))
		return
	}
	fn(s.st, t, now)
}

// updateRecord serves PUT on the record rt names. apply edits a shallow
// copy, which replaces the record only if apply accepts the body, so a
// rejected write changes nothing; apply must clone any slice it edits in
// place, as the copy shares them with the stored record.
func updateRecord[T any](s *Server, c *call, r *resource[T], rt *route, apply func(st *store, cp *T, b body, now time.Time) error) {
	b, err := c.decodeBody()
	if err != nil {
		c.fail(err)
		return
	}
	onRecord(s, c, r, rt.parent, rt.id, func(st *store, t *T, now time.Time) {
		cp := *t
		if err := apply(st, &cp, b, now); err != nil {
			c.fail(err)
			return
		}
		*t = cp
		respondWrite(c, r, rt.parent, rt.id, b)
	})
}

// archiveRecord serves DELETE on an entity the API archives rather than
// removes: mark flags the record, and the response shows it.
func archiveRecord[T any](s *Server, c *call, r *resource[T], rt *route, mark func(t *T, now time.Time)) {
	onRecord(s, c, r, rt.parent, rt.id, func(_ *store, t *T, now time.Time) {
		mark(t, now)
		respondWrite(c, r, rt.parent, rt.id, nil)
	})
}

// ---- Customer ----

var phoneUseTypes = []string{"Home", "Work", "Mobile", "Pager", "Fax"}
var emailUseTypes = []string{"Primary", "Secondary"}

func cloneCustomer(c *customer) *customer {
	cp := *c
	cp.Contact.Phones = slices.Clone(c.Contact.Phones)
	cp.Contact.Emails = slices.Clone(c.Contact.Emails)
	if c.Contact.Address != nil {
		a := *c.Contact.Address
		cp.Contact.Address = &a
	}
	if c.Note != nil {
		n := *c.Note
		cp.Note = &n
	}
	cp.Values = slices.Clone(c.Values)
	return &cp
}

// applyContact applies a Contact payload. Phones and emails merge by
// useType (one per useType; an empty number/address removes that useType),
// the single address is replaced, "" clears a list.
func applyContact(c *contact, v any, now time.Time) error {
	b, ok := v.(map[string]any)
	if !ok {
		if s, isStr := v.(string); isStr && s == "" {
			return nil
		}
		return badRequest("Contact must be an object.")
	}
	for _, k := range []struct {
		key string
		dst *bool
	}{{"noEmail", &c.NoEmail}, {"noPhone", &c.NoPhone}, {"noMail", &c.NoMail}} {
		if err := setBool(b, "Contact", k.key, k.dst); err != nil {
			return err
		}
	}
	if err := setString(b, "Contact", "custom", &c.Custom, 255); err != nil {
		return err
	}
	if v, ok := b["Phones"]; ok {
		list, clear, err := items(v, "Phones", "ContactPhone")
		if err != nil {
			return err
		}
		if clear {
			c.Phones = nil
		}
		for _, p := range list {
			number, err1 := asString(p["number"])
			useType, err2 := asString(p["useType"])
			if err1 != nil || err2 != nil {
				return badRequest("ContactPhone number and useType must be strings.")
			}
			if !slices.Contains(phoneUseTypes, useType) {
				return badRequest("Invalid ContactPhone useType %q. Allowed: %s.", useType, strings.Join(phoneUseTypes, ", "))
			}
			c.Phones = slices.DeleteFunc(c.Phones, func(x phone) bool { return x.UseType == useType })
			if strings.TrimSpace(number) != "" {
				c.Phones = append(c.Phones, phone{Number: number, UseType: useType})
			}
		}
	}
	if v, ok := b["Emails"]; ok {
		list, clear, err := items(v, "Emails", "ContactEmail")
		if err != nil {
			return err
		}
		if clear {
			c.Emails = nil
		}
		for _, e := range list {
			addr, err1 := asString(e["address"])
			useType, err2 := asString(e["useType"])
			if err1 != nil || err2 != nil {
				return badRequest("ContactEmail address and useType must be strings.")
			}
			if !slices.Contains(emailUseTypes, useType) {
				return badRequest("Invalid ContactEmail useType %q. Allowed: %s.", useType, strings.Join(emailUseTypes, ", "))
			}
			addr = strings.TrimSpace(addr)
			if addr != "" {
				if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
					return badRequest("Invalid email address %q.", addr)
				}
			}
			c.Emails = slices.DeleteFunc(c.Emails, func(x email) bool { return x.UseType == useType })
			if addr != "" {
				c.Emails = append(c.Emails, email{Address: addr, UseType: useType})
			}
		}
		slices.SortStableFunc(c.Emails, func(a, b email) int { return strings.Compare(a.UseType, b.UseType) })
	}
	if v, ok := b["Addresses"]; ok {
		list, clear, err := items(v, "Addresses", "ContactAddress")
		if err != nil {
			return err
		}
		if len(list) > 1 {
			return badRequest("A Contact can only have one address.")
		}
		if clear {
			c.Address = nil
		}
		if len(list) == 1 {
			a := &address{}
			for _, f := range []struct {
				key string
				dst *string
			}{{"address1", &a.Address1}, {"address2", &a.Address2}, {"city", &a.City}, {"state", &a.State},
				{"stateCode", &a.StateCode}, {"zip", &a.Zip}, {"country", &a.Country}, {"countryCode", &a.CountryCode}} {
				if err := setString(list[0], "ContactAddress", f.key, f.dst, 255); err != nil {
					return err
				}
			}
			if *a == (address{}) {
				a = nil
			}
			c.Address = a
		}
	}
	if v, ok := b["Websites"]; ok {
		list, clear, err := items(v, "Websites", "ContactWebsite")
		if err != nil {
			return err
		}
		if clear {
			c.Website = ""
		}
		if len(list) > 1 {
			return badRequest("A Contact can only have one website.")
		}
		if len(list) == 1 {
			u, err := asString(list[0]["url"])
			if err != nil {
				return fieldErr("ContactWebsite", "url", err)
			}
			c.Website = u
		}
	}
	c.TimeStamp = now
	return nil
}

// validateValue checks a custom field value against the field's type and
// returns its stored form.
func validateValue(st *store, cf *customField, v any) (string, error) {
	s, err := asString(v)
	if err != nil {
		return "", badRequest("CustomFieldValue %d (%s): value must be a scalar.", cf.ID, cf.Name)
	}
	if s == "" {
		return "", nil
	}
	bad := func(what string) error {
		return badRequest("CustomFieldValue %d (%s): %q is not a valid %s.", cf.ID, cf.Name, s, what)
	}
	switch cf.Type {
	case "string":
		if utf8.RuneCountInString(s) > 64 {
			return "", badRequest("CustomFieldValue %d (%s): value is longer than 64 characters.", cf.ID, cf.Name)
		}
	case "text":
		if utf8.RuneCountInString(s) > 4096 {
			return "", badRequest("CustomFieldValue %d (%s): value is longer than 4096 characters.", cf.ID, cf.Name)
		}
	case "boolean":
		b, err := asBool(v)
		if err != nil {
			return "", bad("boolean")
		}
		return fmtBool(b), nil
	case "integer":
		if _, err := strconv.Atoi(s); err != nil {
			return "", bad("integer")
		}
	case "float":
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "", bad("number")
		}
	case "date", "datetime":
		t, err := parseTimeValue(s)
		if err != nil {
			return "", bad(cf.Type)
		}
		if cf.Type == "date" {
			return t.Format(time.DateOnly), nil
		}
		return fmtTime(t), nil
	case "email":
		if _, err := mail.ParseAddress(s); err != nil {
			return "", bad("email address")
		}
	case "single_choice":
		for _, ch := range cf.Choices {
			if ch.Value == s || ch.Name == s || itoa(ch.ID) == s {
				return ch.Value, nil
			}
		}
		names := make([]string, len(cf.Choices))
		for i, ch := range cf.Choices {
			names[i] = ch.Value
		}
		return "", badRequest("CustomFieldValue %d (%s): %q is not one of the choices: %s.", cf.ID, cf.Name, s, strings.Join(names, ", "))
	}
	return s, nil
}

func applyCustomFieldValues(st *store, c *customer, v any) error {
	list, clear, err := items(v, "CustomFieldValues", "CustomFieldValue")
	if err != nil {
		return err
	}
	if clear {
		c.Values = nil
	}
	for _, e := range list {
		id, err := asInt(e["customFieldID"])
		if err != nil || id == 0 {
			return badRequest("Each CustomFieldValue needs a customFieldID.")
		}
		cf := st.customFields.byID[id]
		if cf == nil {
			return semantic("Custom field %d does not exist.", id)
		}
		deleted := false
		if dv, ok := e["deleted"]; ok {
			if deleted, err = asBool(dv); err != nil {
				return fieldErr("CustomFieldValue", "deleted", err)
			}
		}
		i := slices.IndexFunc(c.Values, func(x customFieldValue) bool { return x.FieldID == id })
		if deleted {
			if i >= 0 {
				c.Values = slices.Delete(c.Values, i, i+1)
			}
			continue
		}
		val, err := validateValue(st, cf, e["value"])
		if err != nil {
			return err
		}
		if i >= 0 {
			c.Values[i].Value = val
		} else {
			c.Values = append(c.Values, customFieldValue{ID: st.newValueID(), FieldID: id, Value: val})
		}
	}
	return nil
}

// applyCustomer applies a Customer payload to c (a private copy).
func applyCustomer(st *store, c *customer, b body, verb string, now time.Time) error {
	for _, f := range []struct {
		key string
		dst *string
		max int
	}{{"firstName", &c.FirstName, 255}, {"lastName", &c.LastName, 255}, {"title", &c.Title, 255},
		{"company", &c.Company, 255}, {"companyRegistrationNumber", &c.CompanyRegNo, 255}, {"vatNumber", &c.VATNumber, 255}} {
		if err := setString(b, "Customer", f.key, f.dst, f.max); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key string
		dst *int
	}{{"customerTypeID", &c.CustomerTypeID}, {"discountID", &c.DiscountID}, {"taxCategoryID", &c.TaxCategoryID}, {"employeeID", &c.EmployeeID}} {
		if err := setInt(b, "Customer", f.key, f.dst); err != nil {
			return err
		}
	}
	if err := setBool(b, "Customer", "archived", &c.Archived); err != nil {
		return err
	}
	if v, ok := b["dob"]; ok {
		s, err := asString(v)
		if err != nil {
			return fieldErr("Customer", "dob", err)
		}
		if s == "" {
			c.DOB = time.Time{}
		} else if c.DOB, err = parseTimeValue(s); err != nil {
			return fieldErr("Customer", "dob", err)
		}
	}
	if v, ok := b["Contact"]; ok {
		if err := applyContact(&c.Contact, v, now); err != nil {
			return err
		}
	}
	if v, ok := b["Note"]; ok {
		switch n := v.(type) {
		case map[string]any:
			if c.Note == nil {
				c.Note = &note{ID: st.newNoteID()}
			}
			if err := setString(n, "Note", "note", &c.Note.Note, 65535); err != nil {
				return err
			}
			if err := setBool(n, "Note", "isPublic", &c.Note.IsPublic); err != nil {
				return err
			}
			c.Note.TimeStamp = now
		case nil, string:
			c.Note = nil
		default:
			return badRequest("Note must be an object.")
		}
	}
	if v, ok := b["CustomFieldValues"]; ok {
		if err := applyCustomFieldValues(st, c, v); err != nil {
			return err
		}
	}
	if strings.TrimSpace(c.FirstName) == "" && strings.TrimSpace(c.LastName) == "" && strings.TrimSpace(c.Company) == "" {
		return badRequest("Customer not %s. A Customer must have a firstName, lastName or company.", verb)
	}
	if c.CustomerTypeID != 0 && st.customerTypes.byID[c.CustomerTypeID] == nil {
		return semantic("Invalid Foreign keys for Customer: customerTypeID %d does not exist.", c.CustomerTypeID)
	}
	if c.EmployeeID != 0 && st.employees.byID[c.EmployeeID] == nil {
		return semantic("Invalid Foreign keys for Customer: employeeID %d does not exist.", c.EmployeeID)
	}
	c.TimeStamp = now
	return nil
}

func customerDefaults(b body) []string {
	names := []string{"Contact"}
	if _, ok := b["CustomFieldValues"]; ok {
		names = append(names, "CustomFieldValues")
	}
	if _, ok := b["Note"]; ok {
		names = append(names, "Note")
	}
	return names
}

func (s *Server) createCustomer(c *call) {
	b, err := c.decodeBody()
	if err != nil {
		c.fail(err)
		return
	}
	now := s.clock.now()
	s.writeLock()
	defer s.mu.Unlock()
	st := s.st
	// New customers opt out of email, phone and mail unless told otherwise.
	cu := &customer{CreateTime: now, Contact: contact{NoEmail: true, NoPhone: true, NoMail: true, TimeStamp: now}}
	if err := applyCustomer(st, cu, b, "created", now); err != nil {
		c.fail(err)
		return
	}
	cu.ID = st.customers.nextID()
	cu.Contact.ID = st.newContactID()
	st.customers.add(cu.ID, cu)
	respondWrite(c, s.res.customer, 0, cu.ID, b)
}

func (s *Server) updateCustomer(rt *route) func(*call) {
	return func(c *call) {
		updateRecord(s, c, s.res.customer, rt, func(st *store, cu *customer, b body, now time.Time) error {
			*cu = *cloneCustomer(cu) // applyCustomer edits the contact and value lists in place
			return applyCustomer(st, cu, b, "updated", now)
		})
	}
}

func (s *Server) deleteCustomer(rt *route) func(*call) {
	return func(c *call) {
		archiveRecord(s, c, s.res.customer, rt, func(cu *customer, now time.Time) {
			cu.Archived = true
			cu.TimeStamp = now
		})
	}
}

// anonymizeCustomer archives a customer and scrubs personal data.
func (s *Server) anonymizeCustomer(rt *route) func(*call) {
	return func(c *call) {
		archiveRecord(s, c, s.res.customer, rt, func(cu *customer, now time.Time) {
			id, contactID := cu.ID, cu.Contact.ID
			*cu = customer{ID: id, FirstName: "Customer", LastName: "[" + itoa(id) + "]", Archived: true,
				CreateTime: cu.CreateTime, TimeStamp: now,
				Contact: contact{ID: contactID, NoEmail: true, NoPhone: true, NoMail: true, TimeStamp: now}}
		})
	}
}

// ---- CustomerType ----

func applyCustomerType(ct *customerType, b body, verb string) error {
	if err := setString(b, "CustomerType", "name", &ct.Name, 255); err != nil {
		return err
	}
	if err := setInt(b, "CustomerType", "taxCategoryID", &ct.TaxCategoryID); err != nil {
		return err
	}
	if err := setInt(b, "CustomerType", "discountID", &ct.DiscountID); err != nil {
		return err
	}
	if strings.TrimSpace(ct.Name) == "" {
		return badRequest("CustomerType not %s. name cannot be blank.", verb)
	}
	return nil
}

func (s *Server) createCustomerType(c *call) {
	b, err := c.decodeBody()
	if err != nil {
		c.fail(err)
		return
	}
	s.writeLock()
	defer s.mu.Unlock()
	ct := &customerType{}
	if err := applyCustomerType(ct, b, "created"); err != nil {
		c.fail(err)
		return
	}
	ct.ID = s.st.customerTypes.nextID()
	s.st.customerTypes.add(ct.ID, ct)
	respondWrite(c, s.res.customerType, 0, ct.ID, b)
}

func (s *Server) updateCustomerType(rt *route) func(*call) {
	return func(c *call) {
		updateRecord(s, c, s.res.customerType, rt, func(_ *store, ct *customerType, b body, _ time.Time) error {
			return applyCustomerType(ct, b, "updated")
		})
	}
}

// deleteCustomerType really deletes (CustomerType is one of the few
// entities DELETE removes); customers of that type fall back to none.
func (s *Server) deleteCustomerType(rt *route) func(*call) {
	return func(c *call) {
		onRecord(s, c, s.res.customerType, 0, rt.id, func(st *store, ct *customerType, _ time.Time) {
			respondWrite(c, s.res.customerType, 0, ct.ID, nil)
			st.customerTypes.remove(ct.ID)
			for _, cu := range st.customers.rows {
				if cu.CustomerTypeID == ct.ID {
					cu.CustomerTypeID = 0
				}
			}
		})
	}
}

// ---- Customer custom fields and choices ----

var customFieldTypes = []string{"string", "text", "url", "email", "datetime", "date", "boolean", "integer", "float", "single_choice", "multi_choice"}

func applyCustomField(cf *customField, b body, verb string, create bool) error {
	if err := setString(b, "CustomField", "name", &cf.Name, 255); err != nil {
		return err
	}
	if create {
		if err := setString(b, "CustomField", "type", &cf.Type, 0); err != nil {
			return err
		}
	} else if v, ok := b["type"]; ok {
		if t, _ := asString(v); t != cf.Type {
			return semantic("The type of a custom field cannot be changed (it is %s).", cf.Type)
		}
	}
	if err := setString(b, "CustomField", "uom", &cf.UOM, 4); err != nil {
		return err
	}
	if err := setInt(b, "CustomField", "decimalPrecision", &cf.DecimalPrecision); err != nil {
		return err
	}
	if err := setString(b, "CustomField", "default", &cf.Default, 4096); err != nil {
		return err
	}
	if err := setBool(b, "CustomField", "archived", &cf.Archived); err != nil {
		return err
	}
	if strings.TrimSpace(cf.Name) == "" {
		return badRequest("CustomField not %s. name cannot be blank.", verb)
	}
	if cf.Type == "" {
		return badRequest("CustomField not %s. type cannot be blank.", verb)
	}
	if !slices.Contains(customFieldTypes, cf.Type) {
		return badRequest("CustomField not %s. Invalid type %q. Allowed types: %s.", verb, cf.Type, strings.Join(customFieldTypes, ", "))
	}
	return nil
}

func (s *Server) createCustomField(c *call) {
	b, err := c.decodeBody()
	if err != nil {
		c.fail(err)
		return
	}
	now := s.clock.now()
	s.writeLock()
	defer s.mu.Unlock()
	cf := &customField{TimeStamp: now}
	if err := applyCustomField(cf, b, "created", true); err != nil {
		c.fail(err)
		return
	}
	cf.ID = s.st.customFields.nextID()
	s.st.customFields.add(cf.ID, cf)
	respondWrite(c, s.res.customField, 0, cf.ID, b)
}

func (s *Server) updateCustomField(rt *route) func(*call) {
	return func(c *call) {
		updateRecord(s, c, s.res.customField, rt, func(_ *store, cf *customField, b body, now time.Time) error {
			if err := applyCustomField(cf, b, "updated", false); err != nil {
				return err
			}
			cf.TimeStamp = now
			return nil
		})
	}
}

// deleteCustomField archives the field; existing values are kept.
func (s *Server) deleteCustomField(rt *route) func(*call) {
	return func(c *call) {
		archiveRecord(s, c, s.res.customField, rt, func(cf *customField, now time.Time) {
			cf.Archived = true
			cf.TimeStamp = now
		})
	}
}

func applyChoice(cf *customField, ch *customFieldChoice, b body, verb string) error {
	if err := setString(b, "CustomFieldChoice", "name", &ch.Name, 255); err != nil {
		return err
	}
	valueSet := false
	if _, ok := b["value"]; ok {
		valueSet = true
		if err := setString(b, "CustomFieldChoice", "value", &ch.Value, 255); err != nil {
			return err
		}
	}
	if strings.TrimSpace(ch.Name) == "" {
		return badRequest("CustomFieldChoice not %s. name cannot be blank.", verb)
	}
	if !valueSet && ch.Value == "" || valueSet && ch.Value == "" {
		ch.Value = ch.Name
	}
	for _, o := range cf.Choices {
		if o.ID != ch.ID && (o.Value == ch.Value || o.Name == ch.Name) {
			return semantic("CustomFieldChoice not %s. A choice with value %q already exists for custom field %d.", verb, ch.Value, cf.ID)
		}
	}
	return nil
}

func (s *Server) createChoice(rt *route) func(*call) {
	return func(c *call) {
		b, err := c.decodeBody()
		if err != nil {
			c.fail(err)
			return
		}
		onRecord(s, c, s.res.customField, 0, rt.parent, func(st *store, cf *customField, now time.Time) {
			if cf.Type != "single_choice" && cf.Type != "multi_choice" {
				c.fail(semantic("Custom field %d is of type %s; only single_choice and multi_choice fields have choices.", cf.ID, cf.Type))
				return
			}
			if len(cf.Choices) >= 64 {
				c.fail(semantic("Custom field %d already has the maximum of 64 choices.", cf.ID))
				return
			}
			ch := &customFieldChoice{FieldID: cf.ID, field: cf, TimeStamp: now}
			if err := applyChoice(cf, ch, b, "created"); err != nil {
				c.fail(err)
				return
			}
			ch.ID = st.choices.nextID()
			st.choices.add(ch.ID, ch)
			cf.Choices = append(cf.Choices, ch)
			respondWrite(c, s.res.choice, cf.ID, ch.ID, b)
		})
	}
}

func (s *Server) updateChoice(rt *route) func(*call) {
	return func(c *call) {
		updateRecord(s, c, s.res.choice, rt, func(st *store, ch *customFieldChoice, b body, now time.Time) error {
			old := ch.Value
			if err := applyChoice(ch.field, ch, b, "updated"); err != nil {
				return err
			}
			ch.TimeStamp = now
			// Stored values follow the choice they name.
			for _, cu := range st.customers.rows {
				for i := range cu.Values {
					if cu.Values[i].FieldID == ch.FieldID && cu.Values[i].Value == old {
						cu.Values[i].Value = ch.Value
					}
				}
			}
			return nil
		})
	}
}

// deleteChoice deletes a choice; the last choice of a field cannot go.
func (s *Server) deleteChoice(rt *route) func(*call) {
	return func(c *call) {
		onRecord(s, c, s.res.choice, rt.parent, rt.id, func(st *store, ch *customFieldChoice, _ time.Time) {
			cf := ch.field
			if len(cf.Choices) <= 1 {
				c.fail(semantic("The last choice of custom field %d cannot be deleted.", cf.ID))
				return
			}
			respondWrite(c, s.res.choice, rt.parent, ch.ID, nil)
			cf.Choices = slices.DeleteFunc(cf.Choices, func(x *customFieldChoice) bool { return x == ch })
			st.choices.remove(ch.ID)
		})
	}
}

// updateRegister serves PUT Register/{id}: Register is GET and PUT only.
func (s *Server) updateRegister(rt *route) func(*call) {
	return func(c *call) {
		updateRecord(s, c, s.res.register, rt, func(_ *store, reg *register, b body, _ time.Time) error {
			return applyRegister(reg, b)
		})
	}
}

func applyRegister(reg *register, b body) error {
	if err := setString(b, "Register", "name", &reg.Name, 255); err != nil {
		return err
	}
	if err := setBool(b, "Register", "tipEnabled", &reg.TipEnabled); err != nil {
		return err
	}
	if err := setBool(b, "Register", "archived", &reg.Archived); err != nil {
		return err
	}
	if strings.TrimSpace(reg.Name) == "" {
		return badRequest("Register not updated. name cannot be blank.")
	}
	return nil
}

// ---- Item ----

var itemTypes = []string{"default", "non_inventory", "serialized", "box", "serialized_assembly", "assembly"}

// applyItem applies an Item payload; verb is "created" or "updated" for
// the API's messages ("Item not created. An Item must have a description.").
func applyItem(st *store, it *item, b body, verb string) error {
	for _, f := range []struct {
		key string
		dst *string
	}{{"description", &it.Description}, {"upc", &it.UPC}, {"ean", &it.EAN}, {"customSku", &it.CustomSku}, {"itemType", &it.ItemType}} {
		if err := setString(b, "Item", f.key, f.dst, 255); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"tax", &it.Tax}, {"discountable", &it.Discountable}, {"archived", &it.Archived}, {"publishToEcom", &it.PublishToEcom}} {
		if err := setBool(b, "Item", f.key, f.dst); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key string
		dst *int
	}{{"categoryID", &it.CategoryID}, {"taxClassID", &it.TaxClassID}, {"modelYear", &it.ModelYear}} {
		if err := setInt(b, "Item", f.key, f.dst); err != nil {
			return err
		}
	}
	if v, ok := b["defaultCost"]; ok {
		d, err := asDec(v)
		if err != nil {
			return fieldErr("Item", "defaultCost", err)
		}
		it.DefaultCost, it.AvgCost = d, d
	}
	if v, ok := b["Prices"]; ok {
		list, _, err := items(v, "Prices", "ItemPrice")
		if err != nil {
			return err
		}
		for _, p := range list {
			amount, err := asDec(p["amount"])
			if err != nil {
				return fieldErr("ItemPrice", "amount", err)
			}
			useType, _ := asString(p["useType"])
			switch useType {
			case "Default":
				it.Price = amount
			case "MSRP":
				it.MSRP = amount
			case "Online":
				it.OnlinePrice = amount
			default:
				return badRequest("Invalid ItemPrice useType %q. Allowed: Default, MSRP, Online.", useType)
			}
		}
	}
	if strings.TrimSpace(it.Description) == "" {
		return badRequest("Item not %s. An Item must have a description.", verb)
	}
	if !slices.Contains(itemTypes, it.ItemType) {
		return badRequest("Item not %s. Invalid itemType %q. Allowed: %s.", verb, it.ItemType, strings.Join(itemTypes, ", "))
	}
	for _, o := range st.items.rows {
		if o.ID == it.ID {
			continue
		}
		if it.UPC != "" && o.UPC == it.UPC {
			return semantic("Item not %s. An item with UPC %s already exists.", verb, it.UPC)
		}
		if it.EAN != "" && o.EAN == it.EAN {
			return semantic("Item not %s. An item with EAN %s already exists.", verb, it.EAN)
		}
	}
	return nil
}

func (s *Server) createItem(c *call) {
	b, err := c.decodeBody()
	if err != nil {
		c.fail(err)
		return
	}
	now := s.clock.now()
	s.writeLock()
	defer s.mu.Unlock()
	st := s.st
	it := &item{ItemType: "default", Tax: true, Discountable: true, CreateTime: now, TimeStamp: now}
	if err := applyItem(st, it, b, "created"); err != nil {
		c.fail(err)
		return
	}
	if it.MSRP == 0 {
		it.MSRP = it.Price
	}
	it.ID = st.items.nextID()
	it.SystemSku = fmt.Sprintf("21%010d", it.ID)
	st.items.add(it.ID, it)
	respondWrite(c, s.res.item, 0, it.ID, b)
}

func (s *Server) updateItem(rt *route) func(*call) {
	return func(c *call) {
		updateRecord(s, c, s.res.item, rt, func(st *store, it *item, b body, now time.Time) error {
			if err := applyItem(st, it, b, "updated"); err != nil {
				return err
			}
			it.TimeStamp = now
			return nil
		})
	}
}

// deleteItem archives an item.
func (s *Server) deleteItem(rt *route) func(*call) {
	return func(c *call) {
		archiveRecord(s, c, s.res.item, rt, func(it *item, now time.Time) {
			it.Archived = true
			it.TimeStamp = now
		})
	}
}
