package sandbox

import (
	"slices"
	"time"
)

// table holds one entity type: rows in ascending id order (ids are issued
// in increasing order, so appending keeps the order) and an index by id.
type table[T any] struct {
	rows []*T
	byID map[int]*T
	last int
}

func newTable[T any]() table[T] { return table[T]{byID: map[int]*T{}} }

// nextID reserves the next id.
func (t *table[T]) nextID() int {
	t.last++
	return t.last
}

func (t *table[T]) add(id int, row *T) {
	t.rows = append(t.rows, row)
	t.byID[id] = row
}

// remove deletes a row; it is O(n) but only DELETE on the few entities the
// API really deletes (CustomerType, CustomFieldChoice, SaleLine) reaches it.
func (t *table[T]) remove(id int) {
	row, ok := t.byID[id]
	if !ok {
		return
	}
	delete(t.byID, id)
	t.rows = slices.DeleteFunc(t.rows, func(r *T) bool { return r == row })
}

type account struct {
	ID   int
	Name string
}

type contact struct {
	ID               int
	Custom           string
	NoEmail, NoPhone bool
	NoMail           bool
	TimeStamp        time.Time
	Address          *address // nil: no address stored
	Phones           []phone  // at most one per useType
	Emails           []email  // at most one per useType
	Website          string
}

type address struct {
	Address1, Address2, City, State, StateCode, Zip, Country, CountryCode string
}

type phone struct{ Number, UseType string }
type email struct{ Address, UseType string }

type note struct {
	ID        int
	Note      string
	IsPublic  bool
	TimeStamp time.Time
}

type shop struct {
	ID          int
	Name        string
	TimeZone    string
	ServiceRate dec
	TaxRate1    dec
	TaxRate2    dec
	Archived    bool
	TimeStamp   time.Time
	Contact     contact
}

type register struct {
	ID         int
	Name       string
	ShopID     int
	Open       bool
	OpenTime   time.Time
	OpenEmpID  int
	Archived   bool
	TipEnabled bool
}

type employee struct {
	ID          int
	FirstName   string
	LastName    string
	LockOut     bool
	Archived    bool
	TimeStamp   time.Time
	RoleID      int
	LimitShopID int
	LastShopID  int
	Contact     contact
}

type customerType struct {
	ID            int
	Name          string
	TaxCategoryID int
	DiscountID    int
}

type customField struct {
	ID               int
	Type             string
	Name             string
	UOM              string
	DecimalPrecision int
	Archived         bool
	Default          string
	TimeStamp        time.Time
	Choices          []*customFieldChoice
}

type customFieldChoice struct {
	ID        int
	FieldID   int
	field     *customField
	Name      string
	Value     string
	TimeStamp time.Time
}

type customFieldValue struct {
	ID      int
	FieldID int
	Value   string // for choice fields: the choice's value
}

type creditAccount struct {
	ID          int
	Name        string
	Code        string // gift card number
	GiftCard    bool
	Balance     dec
	CreditLimit dec
	TimeStamp   time.Time
}

type customer struct {
	ID             int
	FirstName      string
	LastName       string
	DOB            time.Time // zero: omitted from the wire
	Archived       bool
	Title          string
	Company        string
	CompanyRegNo   string
	VATNumber      string
	CreateTime     time.Time
	TimeStamp      time.Time
	CustomerTypeID int
	DiscountID     int
	EmployeeID     int
	TaxCategoryID  int
	CreditAccount  *creditAccount
	Contact        contact
	Note           *note
	Values         []customFieldValue
}

type item struct {
	ID            int
	SystemSku     string
	DefaultCost   dec
	AvgCost       dec
	Discountable  bool
	Tax           bool
	Archived      bool
	ItemType      string
	Description   string
	ModelYear     int
	UPC, EAN      string
	CustomSku     string
	CreateTime    time.Time
	TimeStamp     time.Time
	PublishToEcom bool
	CategoryID    int
	TaxClassID    int
	Price         dec
	MSRP          dec
	OnlinePrice   dec // zero: no Online price level
}

type paymentType struct {
	ID               int
	Name             string
	Code             string
	RequireCustomer  bool
	Archived         bool
	InternalReserved bool
	Type             string
	Channel          string
	RefundAsID       int
}

type sale struct {
	ID                    int
	TimeStamp             time.Time
	Completed             bool
	Archived              bool
	Voided                bool
	IsTaxInclusive        bool
	CreateTime            time.Time
	UpdateTime            time.Time
	CompleteTime          time.Time // zero until completed
	ReferenceNumber       string
	ReferenceNumberSource string
	Tax1Rate, Tax2Rate    dec
	Change                dec
	ReceiptPreference     string
	CustomerID            int
	EmployeeID            int
	RegisterID            int
	ShopID                int
	TaxCategoryID         int
	Lines                 []*saleLine
	Payments              []*salePayment

	// Computed by recalc.
	Subtotal, Tax1, Tax2, Total, Paid, Balance dec
}

type saleLine struct {
	ID               int
	SaleID           int
	CreateTime       time.Time
	TimeStamp        time.Time
	UnitQuantity     int
	UnitPrice        dec
	NormalUnitPrice  dec
	AvgCost          dec
	Tax              bool
	Tax1Rate         dec
	Tax2Rate         dec
	EmployeeID       int
	ItemID           int
	ParentSaleLineID int
	ShopID           int
	CustomerID       int
	TaxClassID       int
	Note             string
}

type salePayment struct {
	ID              int
	SaleID          int
	Amount          dec
	TipAmount       dec
	CreateTime      time.Time
	Archived        bool
	RemoteReference string
	PaymentID       string
	PaymentTypeID   int
	RegisterID      int
	EmployeeID      int
	CreditAccountID int
}

// recalc recomputes the sale's totals from its lines and payments with the
// API's formulas: line taxes at full precision, sale taxes rounded to cents,
// total = subtotal + tax1 + tax2, balance = total − payments.
func (s *sale) recalc() {
	var sub, t1, t2, pay dec
	for _, l := range s.Lines {
		ls := l.subtotal()
		sub += ls
		if l.Tax {
			t1 += ls.mul(l.Tax1Rate)
			t2 += ls.mul(l.Tax2Rate)
		}
	}
	for _, p := range s.Payments {
		pay += p.Amount
	}
	s.Subtotal = sub
	s.Tax1 = t1.roundCents()
	s.Tax2 = t2.roundCents()
	s.Total = sub + s.Tax1 + s.Tax2
	s.Paid = pay
	s.Balance = s.Total - pay + s.Change
}

func (l *saleLine) subtotal() dec { return l.UnitPrice.mulInt(l.UnitQuantity) }

func (l *saleLine) tax1() dec {
	if !l.Tax {
		return 0
	}
	return l.subtotal().mul(l.Tax1Rate)
}

func (l *saleLine) tax2() dec {
	if !l.Tax {
		return 0
	}
	return l.subtotal().mul(l.Tax2Rate)
}

// store is the whole in-memory state of one emulated account. The Server
// guards it with a sync.RWMutex.
type store struct {
	account       account
	shops         table[shop]
	registers     table[register]
	employees     table[employee]
	customerTypes table[customerType]
	customFields  table[customField]
	choices       table[customFieldChoice]
	customers     table[customer]
	items         table[item]
	paymentTypes  table[paymentType]
	sales         table[sale]
	saleLines     table[saleLine]
	salePayments  table[salePayment]
	credit        table[creditAccount]

	lastContactID int
	lastNoteID    int
	lastValueID   int
}

func newStore(acct account) *store {
	return &store{
		account:       acct,
		shops:         newTable[shop](),
		registers:     newTable[register](),
		employees:     newTable[employee](),
		customerTypes: newTable[customerType](),
		customFields:  newTable[customField](),
		choices:       newTable[customFieldChoice](),
		customers:     newTable[customer](),
		items:         newTable[item](),
		paymentTypes:  newTable[paymentType](),
		sales:         newTable[sale](),
		saleLines:     newTable[saleLine](),
		salePayments:  newTable[salePayment](),
		credit:        newTable[creditAccount](),
	}
}

func (st *store) newContactID() int {
	st.lastContactID++
	return st.lastContactID
}

func (st *store) newNoteID() int {
	st.lastNoteID++
	return st.lastNoteID
}

func (st *store) newValueID() int {
	st.lastValueID++
	return st.lastValueID
}
