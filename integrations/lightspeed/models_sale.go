package lightspeed

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/shopspring/decimal"
)

// Sale is a sale (also a refund, which carries negative lines, or a voided
// sale). TimeStamp becomes the completion time once a sale is completed, so
// incremental reads use UpdateTime.
type Sale struct {
	SaleID                int64
	TimeStamp             time.Time
	DiscountPercent       decimal.Decimal
	Completed             bool
	Archived              bool
	Voided                bool
	EnablePromotions      bool
	IsTaxInclusive        bool
	CreateTime            time.Time
	UpdateTime            time.Time // "updateTime" in live data, "updatetime" in the docs; both decode
	CompleteTime          time.Time
	ReferenceNumber       string
	ReferenceNumberSource string
	Tax1Rate              decimal.Decimal
	Tax2Rate              decimal.Decimal
	Change                decimal.Decimal
	TipEnabled            bool
	ReceiptPreference     string
	DisplayableSubtotal   decimal.Decimal
	TicketNumber          string
	CalcDiscount          decimal.Decimal
	CalcTotal             decimal.Decimal
	CalcSubtotal          decimal.Decimal
	CalcTaxable           decimal.Decimal
	CalcNonTaxable        decimal.Decimal
	CalcAvgCost           decimal.Decimal
	CalcFIFOCost          decimal.Decimal
	CalcTax1              decimal.Decimal
	CalcTax2              decimal.Decimal
	CalcPayments          decimal.Decimal
	CalcTips              decimal.Decimal
	CalcItemFees          decimal.Decimal
	Total                 decimal.Decimal
	TotalDue              decimal.Decimal
	DisplayableTotal      decimal.Decimal
	Balance               decimal.Decimal
	TaxTotal              decimal.Decimal
	CustomerID            int64
	DiscountID            int64
	EmployeeID            int64 // the employee who processed the sale at the register
	TipEmployeeID         int64
	QuoteID               int64
	RegisterID            int64
	ShipToID              int64
	ShopID                int64
	TaxCategoryID         int64
	MetaData              map[string]string

	// Relations, present when loaded.
	Customer     *Customer
	SaleLines    []SaleLine
	SalePayments []SalePayment
	Shop         *Shop
}

// Channel returns "in-store", or the online source of the sale: its
// ReferenceNumberSource when set (e.g. "ecom", "shopify"), else "ecom" when
// it was paid with a payment type of type "ecom" (which needs
// SalePayments.PaymentType loaded).
func (s *Sale) Channel() string {
	if s.ReferenceNumberSource != "" {
		return s.ReferenceNumberSource
	}
	for _, p := range s.SalePayments {
		if p.PaymentType != nil && p.PaymentType.Type == "ecom" {
			return "ecom"
		}
	}
	return "in-store"
}

// metaData decodes Sale.MetaData, an object of scalar strings or "".
type metaData struct{ p *map[string]string }

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (s *Sale) UnmarshalJSON(b []byte) error { return unmarshal(b, s) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (s *Sale) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("Sale", dec, &struct {
		SaleID                *flexInt             `json:"saleID"`
		TimeStamp             *flexTime            `json:"timeStamp"`
		DiscountPercent       *flexDecimal         `json:"discountPercent"`
		Completed             *flexBool            `json:"completed"`
		Archived              *flexBool            `json:"archived"`
		Voided                *flexBool            `json:"voided"`
		EnablePromotions      *flexBool            `json:"enablePromotions"`
		IsTaxInclusive        *flexBool            `json:"isTaxInclusive"`
		CreateTime            *flexTime            `json:"createTime"`
		UpdateTime            *flexTime            `json:"updateTime"` // names match case-insensitively, so "updatetime" too
		CompleteTime          *flexTime            `json:"completeTime"`
		ReferenceNumber       *flexString          `json:"referenceNumber"`
		ReferenceNumberSource *flexString          `json:"referenceNumberSource"`
		Tax1Rate              *flexDecimal         `json:"tax1Rate"`
		Tax2Rate              *flexDecimal         `json:"tax2Rate"`
		Change                *flexDecimal         `json:"change"`
		TipEnabled            *flexBool            `json:"tipEnabled"`
		ReceiptPreference     *flexString          `json:"receiptPreference"`
		DisplayableSubtotal   *flexDecimal         `json:"displayableSubtotal"`
		TicketNumber          *flexString          `json:"ticketNumber"`
		CalcDiscount          *flexDecimal         `json:"calcDiscount"`
		CalcTotal             *flexDecimal         `json:"calcTotal"`
		CalcSubtotal          *flexDecimal         `json:"calcSubtotal"`
		CalcTaxable           *flexDecimal         `json:"calcTaxable"`
		CalcNonTaxable        *flexDecimal         `json:"calcNonTaxable"`
		CalcAvgCost           *flexDecimal         `json:"calcAvgCost"`
		CalcFIFOCost          *flexDecimal         `json:"calcFIFOCost"`
		CalcTax1              *flexDecimal         `json:"calcTax1"`
		CalcTax2              *flexDecimal         `json:"calcTax2"`
		CalcPayments          *flexDecimal         `json:"calcPayments"`
		CalcTips              *flexDecimal         `json:"calcTips"`
		CalcItemFees          *flexDecimal         `json:"calcItemFees"`
		Total                 *flexDecimal         `json:"total"`
		TotalDue              *flexDecimal         `json:"totalDue"`
		DisplayableTotal      *flexDecimal         `json:"displayableTotal"`
		Balance               *flexDecimal         `json:"balance"`
		TaxTotal              *flexDecimal         `json:"taxTotal"`
		CustomerID            *flexInt             `json:"customerID"`
		DiscountID            *flexInt             `json:"discountID"`
		EmployeeID            *flexInt             `json:"employeeID"`
		TipEmployeeID         *flexInt             `json:"tipEmployeeID"`
		QuoteID               *flexInt             `json:"quoteID"`
		RegisterID            *flexInt             `json:"registerID"`
		ShipToID              *flexInt             `json:"shipToID"`
		ShopID                *flexInt             `json:"shopID"`
		TaxCategoryID         *flexInt             `json:"taxCategoryID"`
		MetaData              metaData             `json:"MetaData"`
		Customer              one[Customer]        `json:"Customer"`
		SaleLines             *nested[SaleLine]    `json:"SaleLines"`
		SalePayments          *nested[SalePayment] `json:"SalePayments"`
		Shop                  one[Shop]            `json:"Shop"`
	}{
		i64(&s.SaleID), ts(&s.TimeStamp), money(&s.DiscountPercent), boolean(&s.Completed), boolean(&s.Archived),
		boolean(&s.Voided), boolean(&s.EnablePromotions), boolean(&s.IsTaxInclusive), ts(&s.CreateTime),
		ts(&s.UpdateTime), ts(&s.CompleteTime), str(&s.ReferenceNumber), str(&s.ReferenceNumberSource),
		money(&s.Tax1Rate), money(&s.Tax2Rate), money(&s.Change), boolean(&s.TipEnabled), str(&s.ReceiptPreference),
		money(&s.DisplayableSubtotal), str(&s.TicketNumber), money(&s.CalcDiscount), money(&s.CalcTotal),
		money(&s.CalcSubtotal), money(&s.CalcTaxable), money(&s.CalcNonTaxable), money(&s.CalcAvgCost),
		money(&s.CalcFIFOCost), money(&s.CalcTax1), money(&s.CalcTax2), money(&s.CalcPayments), money(&s.CalcTips),
		money(&s.CalcItemFees), money(&s.Total), money(&s.TotalDue), money(&s.DisplayableTotal), money(&s.Balance),
		money(&s.TaxTotal), i64(&s.CustomerID), i64(&s.DiscountID), i64(&s.EmployeeID), i64(&s.TipEmployeeID),
		i64(&s.QuoteID), i64(&s.RegisterID), i64(&s.ShipToID), i64(&s.ShopID), i64(&s.TaxCategoryID),
		metaData{&s.MetaData}, one[Customer]{&s.Customer}, (*nested[SaleLine])(&s.SaleLines),
		(*nested[SalePayment])(&s.SalePayments), one[Shop]{&s.Shop},
	})
}

// SaleLine is one line of a sale. UnitQuantity is negative on refunds, and
// ParentSaleLineID then names the refunded line. EmployeeID is the employee
// who sold the line (a salon's "Stylist"); it defaults to the sale's.
type SaleLine struct {
	SaleLineID              int64
	CreateTime              time.Time
	TimeStamp               time.Time
	UnitQuantity            int64
	UnitPrice               decimal.Decimal
	NormalUnitPrice         decimal.Decimal
	DiscountAmount          decimal.Decimal
	DiscountPercent         decimal.Decimal // a fraction: 0.4 is 40%
	AvgCost                 decimal.Decimal
	FIFOCost                decimal.Decimal
	Tax                     bool
	Tax1Rate                decimal.Decimal
	Tax2Rate                decimal.Decimal
	IsLayaway               bool
	IsWorkorder             bool
	IsSpecialOrder          bool
	DisplayableSubtotal     decimal.Decimal
	DisplayableUnitPrice    decimal.Decimal
	LineType                string
	CalcLineDiscount        decimal.Decimal
	CalcTransactionDiscount decimal.Decimal
	CalcTotal               decimal.Decimal
	CalcSubtotal            decimal.Decimal
	CalcTax1                decimal.Decimal
	CalcTax2                decimal.Decimal
	TaxClassID              int64
	CustomerID              int64
	DiscountID              int64
	EmployeeID              int64
	ItemID                  int64
	NoteID                  int64
	ParentSaleLineID        int64
	ShopID                  int64
	SaleID                  int64
	ItemFeeID               int64
	TaxCategoryID           int64

	// Relations, present when loaded.
	Item *Item
	Note *Note
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (l *SaleLine) UnmarshalJSON(b []byte) error { return unmarshal(b, l) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (l *SaleLine) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("SaleLine", dec, &struct {
		SaleLineID              *flexInt     `json:"saleLineID"`
		CreateTime              *flexTime    `json:"createTime"`
		TimeStamp               *flexTime    `json:"timeStamp"`
		UnitQuantity            *flexInt     `json:"unitQuantity"`
		UnitPrice               *flexDecimal `json:"unitPrice"`
		NormalUnitPrice         *flexDecimal `json:"normalUnitPrice"`
		DiscountAmount          *flexDecimal `json:"discountAmount"`
		DiscountPercent         *flexDecimal `json:"discountPercent"`
		AvgCost                 *flexDecimal `json:"avgCost"`
		FIFOCost                *flexDecimal `json:"fifoCost"`
		Tax                     *flexBool    `json:"tax"`
		Tax1Rate                *flexDecimal `json:"tax1Rate"`
		Tax2Rate                *flexDecimal `json:"tax2Rate"`
		IsLayaway               *flexBool    `json:"isLayaway"`
		IsWorkorder             *flexBool    `json:"isWorkorder"`
		IsSpecialOrder          *flexBool    `json:"isSpecialOrder"`
		DisplayableSubtotal     *flexDecimal `json:"displayableSubtotal"`
		DisplayableUnitPrice    *flexDecimal `json:"displayableUnitPrice"`
		LineType                *flexString  `json:"lineType"`
		CalcLineDiscount        *flexDecimal `json:"calcLineDiscount"`
		CalcTransactionDiscount *flexDecimal `json:"calcTransactionDiscount"`
		CalcTotal               *flexDecimal `json:"calcTotal"`
		CalcSubtotal            *flexDecimal `json:"calcSubtotal"`
		CalcTax1                *flexDecimal `json:"calcTax1"`
		CalcTax2                *flexDecimal `json:"calcTax2"`
		TaxClassID              *flexInt     `json:"taxClassID"`
		CustomerID              *flexInt     `json:"customerID"`
		DiscountID              *flexInt     `json:"discountID"`
		EmployeeID              *flexInt     `json:"employeeID"`
		ItemID                  *flexInt     `json:"itemID"`
		NoteID                  *flexInt     `json:"noteID"`
		ParentSaleLineID        *flexInt     `json:"parentSaleLineID"`
		ShopID                  *flexInt     `json:"shopID"`
		SaleID                  *flexInt     `json:"saleID"`
		ItemFeeID               *flexInt     `json:"itemFeeID"`
		TaxCategoryID           *flexInt     `json:"taxCategoryID"`
		Item                    one[Item]    `json:"Item"`
		Note                    one[Note]    `json:"Note,case:strict"` // not the scalar "note" of SaleLine payloads (5.3)
	}{
		i64(&l.SaleLineID), ts(&l.CreateTime), ts(&l.TimeStamp), i64(&l.UnitQuantity), money(&l.UnitPrice),
		money(&l.NormalUnitPrice), money(&l.DiscountAmount), money(&l.DiscountPercent), money(&l.AvgCost),
		money(&l.FIFOCost), boolean(&l.Tax), money(&l.Tax1Rate), money(&l.Tax2Rate), boolean(&l.IsLayaway),
		boolean(&l.IsWorkorder), boolean(&l.IsSpecialOrder), money(&l.DisplayableSubtotal),
		money(&l.DisplayableUnitPrice), str(&l.LineType), money(&l.CalcLineDiscount),
		money(&l.CalcTransactionDiscount), money(&l.CalcTotal), money(&l.CalcSubtotal), money(&l.CalcTax1),
		money(&l.CalcTax2), i64(&l.TaxClassID), i64(&l.CustomerID), i64(&l.DiscountID), i64(&l.EmployeeID),
		i64(&l.ItemID), i64(&l.NoteID), i64(&l.ParentSaleLineID), i64(&l.ShopID), i64(&l.SaleID),
		i64(&l.ItemFeeID), i64(&l.TaxCategoryID), one[Item]{&l.Item}, one[Note]{&l.Note},
	})
}

// SalePayment is one payment on a sale. Amount is negative on refunds.
type SalePayment struct {
	SalePaymentID   int64
	Amount          decimal.Decimal
	TipAmount       decimal.Decimal
	CreateTime      time.Time
	Archived        bool
	RemoteReference string
	PaymentID       string
	SaleID          int64
	PaymentTypeID   int64
	CCChargeID      int64
	RefPaymentID    int64
	RegisterID      int64
	EmployeeID      int64
	CreditAccountID int64

	// PaymentType is present when loaded.
	PaymentType *PaymentType
}

// UnmarshalJSON decodes the API's loose wire form; see the package comment.
func (p *SalePayment) UnmarshalJSON(b []byte) error { return unmarshal(b, p) }

// UnmarshalJSONFrom decodes the API's loose wire form in a streaming pass.
func (p *SalePayment) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return decodeFrom("SalePayment", dec, &struct {
		SalePaymentID   *flexInt         `json:"salePaymentID"`
		Amount          *flexDecimal     `json:"amount"`
		TipAmount       *flexDecimal     `json:"tipAmount"`
		CreateTime      *flexTime        `json:"createTime"`
		Archived        *flexBool        `json:"archived"`
		RemoteReference *flexString      `json:"remoteReference"`
		PaymentID       *flexString      `json:"paymentID"`
		SaleID          *flexInt         `json:"saleID"`
		PaymentTypeID   *flexInt         `json:"paymentTypeID"`
		CCChargeID      *flexInt         `json:"ccChargeID"`
		RefPaymentID    *flexInt         `json:"refPaymentID"`
		RegisterID      *flexInt         `json:"registerID"`
		EmployeeID      *flexInt         `json:"employeeID"`
		CreditAccountID *flexInt         `json:"creditAccountID"`
		PaymentType     one[PaymentType] `json:"PaymentType"`
	}{
		i64(&p.SalePaymentID), money(&p.Amount), money(&p.TipAmount), ts(&p.CreateTime), boolean(&p.Archived),
		str(&p.RemoteReference), str(&p.PaymentID), i64(&p.SaleID), i64(&p.PaymentTypeID), i64(&p.CCChargeID),
		i64(&p.RefPaymentID), i64(&p.RegisterID), i64(&p.EmployeeID), i64(&p.CreditAccountID),
		one[PaymentType]{&p.PaymentType},
	})
}

// Stamp is a record's change times, all a check for changes needs
// (CustomersService.Stamps, SalesService.Stamps): decoding a whole Sale to
// read its updatetime cost a scheduler that checks thousands of quiet
// stores a tenth of its CPU.
type Stamp struct {
	TimeStamp  time.Time
	UpdateTime time.Time // sales only
}

// UnmarshalJSONFrom reads the two times and skips the rest, token by
// token: the struct decoder's matching of every other name cost as much
// as the call.
func (s *Stamp) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if k := dec.PeekKind(); k != '{' {
		if err := dec.SkipValue(); err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		return fmt.Errorf("decode record: want an object, got %s", kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		n := name.String() // the token is voided by the next read
		var into *time.Time
		switch {
		case strings.EqualFold(n, "timeStamp"):
			into = &s.TimeStamp
		case strings.EqualFold(n, "updateTime"): // "updatetime" too
			into = &s.UpdateTime
		}
		if into == nil {
			err = dec.SkipValue()
		} else {
			err = (*flexTime)(into).UnmarshalJSONFrom(dec)
		}
		if err != nil {
			return fmt.Errorf("decode record: %s: %w", n, err)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	return nil
}
