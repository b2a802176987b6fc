package mapping

import (
	"strconv"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
)

// Lightspeed's contact use types.
const (
	useHome    = "Home"
	useWork    = "Work"
	useMobile  = "Mobile"
	usePrimary = "Primary"
)

// FromLightspeedCustomer is c in canonical form. The customer type's name
// needs the CustomerType relation, the contact fields the Contact relation,
// custom fields the CustomFieldValues relation.
func FromLightspeedCustomer(c *lightspeed.Customer) Record {
	rec := Record{
		CustFirst:   strings.TrimSpace(c.FirstName),
		CustLast:    strings.TrimSpace(c.LastName),
		CustCompany: strings.TrimSpace(c.Company),
		CustID:      strconv.FormatInt(c.CustomerID, 10),
	}
	if c.CustomerType != nil {
		rec[CustType] = strings.TrimSpace(c.CustomerType.Name)
	}
	if !c.DOB.IsZero() {
		rec[CustBirth] = CalendarDate(c.DOB)
	}
	if !c.CreateTime.IsZero() {
		rec[CustCreated] = c.CreateTime.UTC().Format(time.RFC3339)
	}
	if ct := c.Contact; ct != nil {
		if a := ct.Address(); a != nil {
			rec[CustStreet] = strings.TrimSpace(a.Address1)
			rec[CustStreet2] = strings.TrimSpace(a.Address2)
			rec[CustCity] = strings.TrimSpace(a.City)
			rec[CustState] = strings.TrimSpace(a.State)
			rec[CustZip] = strings.TrimSpace(a.Zip)
			rec[CustCountry] = strings.TrimSpace(a.Country)
		}
		rec[CustHome] = strings.TrimSpace(ct.Phone(useHome))
		rec[CustWork] = strings.TrimSpace(ct.Phone(useWork))
		rec[CustMobile] = strings.TrimSpace(ct.Phone(useMobile))
		rec[CustEmail] = strings.TrimSpace(ct.Email(usePrimary))
	}
	for _, v := range c.CustomFieldValues {
		rec[CustomKey(v.CustomFieldID)] = strings.TrimSpace(v.Value)
	}
	for k, v := range rec {
		if v == "" {
			delete(rec, k)
		}
	}
	return rec
}

// CalendarDate is the date Lightspeed meant by t: Lightspeed stores a date
// as the shop's local midnight converted to UTC, so the nearest UTC
// midnight is that date whatever the shop's offset (up to ±12 h).
func CalendarDate(t time.Time) string {
	return t.UTC().Add(12 * time.Hour).Truncate(24 * time.Hour).Format(time.DateOnly)
}

// LightspeedCustomerWrite is the Lightspeed customer write that sets the
// given canonical keys to rec's values. current is the customer's canonical
// values now: Lightspeed replaces the single address whole, so every
// address part is sent, taking the parts not being set from current.
func LightspeedCustomerWrite(rec Record, keys []string, current Record) lightspeed.CustomerWrite {
	var w lightspeed.CustomerWrite
	contact := &lightspeed.ContactWrite{}
	touched := false
	address := false
	for _, k := range keys {
		v := rec[k]
		switch k {
		case CustFirst:
			w.FirstName = lightspeed.Ptr(v)
		case CustLast:
			w.LastName = lightspeed.Ptr(v)
		case CustCompany:
			w.Company = lightspeed.Ptr(v)
		case CustHome, CustWork, CustMobile:
			use := map[string]string{CustHome: useHome, CustWork: useWork, CustMobile: useMobile}[k]
			contact.Phones = append(contact.Phones, lightspeed.ContactPhone{Number: v, UseType: use})
			touched = true
		case CustEmail:
			contact.Emails = append(contact.Emails, lightspeed.ContactEmail{Address: v, UseType: usePrimary})
			if v != "" {
				contact.NoEmail = lightspeed.Ptr(false)
			}
			touched = true
		case CustStreet, CustStreet2, CustCity, CustState, CustZip, CustCountry:
			address = true
		}
	}
	if address {
		get := func(k string) string {
			for _, want := range keys {
				if want == k {
					return rec[k]
				}
			}
			return current[k]
		}
		contact.Address = &lightspeed.ContactAddress{
			Address1: get(CustStreet), Address2: get(CustStreet2), City: get(CustCity),
			State: get(CustState), Zip: get(CustZip), Country: get(CustCountry),
		}
		touched = true
	}
	if touched {
		w.Contact = contact
	}
	return w
}
