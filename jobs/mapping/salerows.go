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
func SaleFields() []Field { return slices.Clone(saleFields) }

// saleFields is SaleFields' table, read in place where a sync looks up a
// field for every record.
var saleFields = []Field{
	{Stream: StreamSales, Key: SaleShop, Label: "Shop", Type: TypeText},
	{Stream: StreamSales, Key: SaleRegister, Label: "Register", Type: TypeText},
	{Stream: StreamSales, Key: SaleRegisterEmployee, Label: "Register employee", Type: TypeText},
	{Stream: StreamSales, Key: SaleSalesEmployee, Label: "Sales employee", Type: TypeText},
	{Stream: StreamSales, Key: SaleChannel, Label: "Channel", Type: TypeText},
	{Stream: StreamSales, Key: SaleTicket, Label: "Ticket number", Type: TypeText},
	{Stream: StreamSales, Key: SaleCompletedAt, Label: "Completed at", Type: TypeDateTime},
	{Stream: StreamSales, Key: SaleSubtotal, Label: "Subtotal", Type: TypeMoney},
	{Stream: StreamSales, Key: SaleDiscount, Label: "Discount", Type: TypeMoney},
	{Stream: StreamSales, Key: SaleTax, Label: "Tax", Type: TypeMoney},
	{Stream: StreamSales, Key: SaleTotal, Label: "Total", Type: TypeMoney},
	{Stream: StreamSales, Key: SaleCustomer, Label: "Customer", Type: TypeText},
	{Stream: StreamLines, Key: LineItem, Label: "Item", Type: TypeText},
	{Stream: StreamLines, Key: LineSKU, Label: "SKU", Type: TypeText},
	{Stream: StreamLines, Key: LineQuantity, Label: "Quantity", Type: TypeNumber},
	{Stream: StreamLines, Key: LineUnitPrice, Label: "Unit price", Type: TypeMoney},
	{Stream: StreamLines, Key: LineDiscount, Label: "Discount", Type: TypeMoney},
	{Stream: StreamLines, Key: LineEmployee, Label: "Line employee", Type: TypeText},
	{Stream: StreamPayments, Key: PaymentType, Label: "Payment type", Type: TypeText},
	{Stream: StreamPayments, Key: PaymentAmount, Label: "Amount", Type: TypeMoney},
}

// saleFieldType is the type of a sales stream's field, or "" when the
// stream has no such field.
func saleFieldType(stream, key string) FieldType {
	for _, f := range saleFields {
		if f.Stream == stream && f.Key == key {
			return f.Type
		}
	}
	return ""
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
