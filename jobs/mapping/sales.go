package mapping

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tandemsync/tandem/integrations/lightspeed"
)

// Sale is a Lightspeed sale in canonical form, with its lines and
// payments.
type Sale struct {
	ID          string
	Values      Record
	Lines       []SaleLine
	Payments    []Payment
	CustomerID  string // "" when the sale has no customer
	CompletedAt time.Time
	Voided      bool
	Archived    bool
	// Channel is the channel's raw value ("in-store", "shopify").
	Channel string
}

// SaleLine is one line of a Sale.
type SaleLine struct {
	ID       string
	ItemID   string // "0" for a line without an item
	ParentID string // the refunded line, or ""
	Values   Record
	// Quantity and UnitPrice are the numbers Salesforce gets: the unit
	// price after line and sale discounts.
	Quantity  int64
	UnitPrice decimal.Decimal
}

// Payment is one payment of a Sale.
type Payment struct {
	ID     string
	Values Record
	Amount decimal.Decimal
}

// FromLightspeedSale is s in canonical form: what the sales stream writes
// and the mapping preview shows. The sales employee is the employees of the
// sale's lines, distinct, in line order, joined with ", ". It needs the
// relations SaleLines, SaleLines.Item, SalePayments,
// SalePayments.PaymentType and, for the customer's name, Customer.
func FromLightspeedSale(s *lightspeed.Sale, names SaleNames) Sale {
	out := Sale{ID: itoa(s.SaleID), CompletedAt: s.CompleteTime, Voided: s.Voided, Archived: s.Archived,
		Channel: s.Channel()}
	if s.CustomerID != 0 {
		out.CustomerID = itoa(s.CustomerID)
	}
	shop := names.Shops[s.ShopID]
	if shop == "" && s.Shop != nil {
		shop = s.Shop.Name
	}
	rec := Record{
		SaleShop:             strings.TrimSpace(shop),
		SaleRegister:         strings.TrimSpace(names.Registers[s.RegisterID]),
		SaleRegisterEmployee: FullName(names.Employees[s.EmployeeID]),
		SaleChannel:          ChannelLabel(out.Channel),
		SaleTicket:           strings.TrimSpace(s.TicketNumber),
		SaleSubtotal:         money(s.CalcSubtotal),
		SaleDiscount:         money(s.CalcDiscount),
		SaleTax:              money(s.CalcTax1.Add(s.CalcTax2)),
		SaleTotal:            money(s.CalcTotal),
	}
	if !s.CompleteTime.IsZero() {
		rec[SaleCompletedAt] = s.CompleteTime.UTC().Format(time.RFC3339)
	}
	if c := s.Customer; c != nil {
		rec[SaleCustomer] = strings.TrimSpace(c.FirstName + " " + c.LastName)
	}
	var sellers []string
	seen := map[string]bool{}
	for i := range s.SaleLines {
		l := &s.SaleLines[i]
		line := SaleLine{ID: itoa(l.SaleLineID), ItemID: itoa(l.ItemID), Quantity: l.UnitQuantity}
		if l.ParentSaleLineID != 0 {
			line.ParentID = itoa(l.ParentSaleLineID)
		}
		discount := l.CalcLineDiscount.Add(l.CalcTransactionDiscount)
		line.UnitPrice = l.UnitPrice
		if l.UnitQuantity != 0 {
			net := l.UnitPrice.Mul(decimal.NewFromInt(l.UnitQuantity)).Sub(discount)
			line.UnitPrice = net.Div(decimal.NewFromInt(l.UnitQuantity)).Round(2)
		}
		employee := FullName(names.Employees[l.EmployeeID])
		line.Values = Record{
			LineQuantity:  strconv.FormatInt(l.UnitQuantity, 10),
			LineUnitPrice: money(line.UnitPrice),
			LineDiscount:  money(discount),
			LineEmployee:  employee,
		}
		if it := l.Item; it != nil {
			line.Values[LineItem] = strings.TrimSpace(it.Description)
			line.Values[LineSKU] = ItemSKU(it)
		}
		if employee != "" && !seen[employee] {
			seen[employee] = true
			sellers = append(sellers, employee)
		}
		out.Lines = append(out.Lines, line)
	}
	rec[SaleSalesEmployee] = strings.Join(sellers, ", ")
	for i := range s.SalePayments {
		p := &s.SalePayments[i]
		if p.Archived {
			continue
		}
		pay := Payment{ID: itoa(p.SalePaymentID), Amount: p.Amount, Values: Record{PaymentAmount: money(p.Amount)}}
		if p.PaymentType != nil {
			pay.Values[PaymentType] = strings.TrimSpace(p.PaymentType.Name)
		}
		out.Payments = append(out.Payments, pay)
	}
	out.Values = rec
	return out
}

// ItemSKU is the code a product is known by: the custom SKU, else the UPC,
// else the EAN, else Lightspeed's system SKU.
func ItemSKU(it *lightspeed.Item) string {
	for _, v := range []string{it.CustomSKU, it.UPC, it.EAN, it.SystemSKU} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// FullName is a person's name with its spaces trimmed and collapsed
// (Lightspeed keeps names as typed, trailing spaces included).
func FullName(s string) string { return strings.Join(strings.Fields(s), " ") }

// ChannelLabel is how a sale's channel reads in Salesforce: "In store", or
// the online shop's platform.
func ChannelLabel(raw string) string {
	switch strings.ToLower(raw) {
	case "", "in-store":
		return "In store"
	case "ecom":
		return "Lightspeed eCom"
	case "shopify":
		return "Shopify"
	case "woocommerce":
		return "WooCommerce"
	case "magento":
		return "Magento"
	case "bigcommerce":
		return "BigCommerce"
	}
	return strings.ToUpper(raw[:1]) + raw[1:]
}

// SalesToSalesforce returns the Salesforce fields the merchant mapped for
// one record of a sales stream ("sales", "sale_lines", "payments"), on top
// of the fixed shape the sales stream writes. Money and numbers go as JSON
// numbers; empty values as nil.
func (m Mapping) SalesToSalesforce(stream, object string, rec Record) map[string]any {
	out := m.ToSalesforce(stream, object, rec, nil)
	for _, r := range m.Rules {
		if r.Stream != stream || r.Object != object || !r.Direction.ToSF() {
			continue
		}
		v, ok := out[r.Target].(string)
		if !ok {
			continue
		}
		if t := saleFieldType(stream, r.Source); t == TypeMoney || t == TypeNumber {
			if _, err := decimal.NewFromString(v); err == nil {
				out[r.Target] = json.Number(v)
			}
		}
	}
	return out
}

func money(d decimal.Decimal) string { return d.StringFixed(2) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
