package mapping

import (
	"slices"
)

// Canonical sale keys: the sale (stream "sales"), each line ("sale_lines")
// and each payment ("payments").
const (
	SaleShop             = "shop"
	SaleRegister         = "register"
	SaleRegisterEmployee = "register_employee"
	SaleSalesEmployee    = "sales_employee"
	SaleChannel          = "channel"
	SaleTicket           = "ticket"
	SaleCompletedAt      = "completed_at"
	SaleSubtotal         = "subtotal"
	SaleDiscount         = "discount"
	SaleTax              = "tax"
	SaleTotal            = "total"
	SaleCustomer         = "customer"

	LineItem      = "item"
	LineSKU       = "sku"
	LineQuantity  = "quantity"
	LineUnitPrice = "unit_price"
	LineDiscount  = "discount"
	LineEmployee  = "line_employee"

	PaymentType   = "payment_type"
	PaymentAmount = "amount"
)

// SaleFields is the sales catalog in the order the mapping screen lists it:
// the sale's fields, then each line's, then each payment's.
func SaleFields() []Field {
	f := func(stream, key, label string, t FieldType) Field {
		return Field{Key: key, Label: label, Type: t, Stream: stream}
	}
	return []Field{
		f(StreamSales, SaleShop, "Shop", TypeText),
		f(StreamSales, SaleRegister, "Register", TypeText),
		f(StreamSales, SaleRegisterEmployee, "Register employee", TypeText),
		f(StreamSales, SaleSalesEmployee, "Sales employee", TypeText),
		f(StreamSales, SaleChannel, "Channel", TypeText),
		f(StreamSales, SaleTicket, "Ticket number", TypeText),
		f(StreamSales, SaleCompletedAt, "Completed at", TypeDateTime),
		f(StreamSales, SaleSubtotal, "Subtotal", TypeMoney),
		f(StreamSales, SaleDiscount, "Discount", TypeMoney),
		f(StreamSales, SaleTax, "Tax", TypeMoney),
		f(StreamSales, SaleTotal, "Total", TypeMoney),
		f(StreamSales, SaleCustomer, "Customer", TypeText),
		f(StreamLines, LineItem, "Item", TypeText),
		f(StreamLines, LineSKU, "SKU", TypeText),
		f(StreamLines, LineQuantity, "Quantity", TypeNumber),
		f(StreamLines, LineUnitPrice, "Unit price", TypeMoney),
		f(StreamLines, LineDiscount, "Discount", TypeMoney),
		f(StreamLines, LineEmployee, "Line employee", TypeText),
		f(StreamPayments, PaymentType, "Payment type", TypeText),
		f(StreamPayments, PaymentAmount, "Amount", TypeMoney),
	}
}

// Catalog is every field the mapping screen lists: customers, then sales.
func Catalog(custom []CustomField) []Field {
	return slices.Concat(CustomerFields(custom), SaleFields())
}

// StreamObject is the Salesforce object a stream's rules write in the
// preset: customers to Contact (or Account), sales to Opportunity or
// Lightspeed_Sale__c, lines to OpportunityLineItem or
// Lightspeed_Sale_Line__c, payments to Lightspeed_Payment__c.
func (p Preset) StreamObject(stream string) string {
	custom := p == PresetCustom
	switch stream {
	case StreamCustomers:
		return p.CustomerObject()
	case StreamSales:
		if custom {
			return "Lightspeed_Sale__c"
		}
		return "Opportunity"
	case StreamLines:
		if custom {
			return "Lightspeed_Sale_Line__c"
		}
		return "OpportunityLineItem"
	case StreamPayments:
		return "Lightspeed_Payment__c"
	}
	return ""
}

// SaleNames are the names a sale's ids stand for, from discovery.
type SaleNames struct {
	Shops     map[int64]string
	Registers map[int64]string
	Employees map[int64]string
}
