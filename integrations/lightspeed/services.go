package lightspeed

// Services for each resource: Get, List (one page), ListNext (the page at a
// Response.Next URL) and ListIter (every record, following next). Generated
// once from a template, then kept by hand.

import (
	"context"
	"iter"
)

// ShopsService reads shops (store locations).
type ShopsService service

// Get returns the shop with the given id (GET .../Shop/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *ShopsService) Get(ctx context.Context, id int64, q *Query) (*Shop, *Response, error) {
	return get[Shop](ctx, s.c, "Shop/"+itoa(id), "Shop", q)
}

// List returns one page of shops (store locations) matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *ShopsService) List(ctx context.Context, q *Query) ([]Shop, *Response, error) {
	return list[Shop](ctx, s.c, "Shop", "Shop", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *ShopsService) ListNext(ctx context.Context, next string) ([]Shop, *Response, error) {
	return listNext[Shop](ctx, s.c, "Shop", "Shop", next)
}

// ListIter returns every shop matching q, following next until "". It
// stops after yielding an error.
func (s *ShopsService) ListIter(ctx context.Context, q *Query) iter.Seq2[Shop, error] {
	return listIter[Shop](ctx, s.c, "Shop", "Shop", q)
}

// RegistersService reads registers.
type RegistersService service

// Get returns the register with the given id (GET .../Register/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *RegistersService) Get(ctx context.Context, id int64, q *Query) (*Register, *Response, error) {
	return get[Register](ctx, s.c, "Register/"+itoa(id), "Register", q)
}

// List returns one page of registers matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *RegistersService) List(ctx context.Context, q *Query) ([]Register, *Response, error) {
	return list[Register](ctx, s.c, "Register", "Register", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *RegistersService) ListNext(ctx context.Context, next string) ([]Register, *Response, error) {
	return listNext[Register](ctx, s.c, "Register", "Register", next)
}

// ListIter returns every register matching q, following next until "". It
// stops after yielding an error.
func (s *RegistersService) ListIter(ctx context.Context, q *Query) iter.Seq2[Register, error] {
	return listIter[Register](ctx, s.c, "Register", "Register", q)
}

// EmployeesService reads employees.
type EmployeesService service

// Get returns the employee with the given id (GET .../Employee/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *EmployeesService) Get(ctx context.Context, id int64, q *Query) (*Employee, *Response, error) {
	return get[Employee](ctx, s.c, "Employee/"+itoa(id), "Employee", q)
}

// List returns one page of employees matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *EmployeesService) List(ctx context.Context, q *Query) ([]Employee, *Response, error) {
	return list[Employee](ctx, s.c, "Employee", "Employee", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *EmployeesService) ListNext(ctx context.Context, next string) ([]Employee, *Response, error) {
	return listNext[Employee](ctx, s.c, "Employee", "Employee", next)
}

// ListIter returns every employee matching q, following next until "". It
// stops after yielding an error.
func (s *EmployeesService) ListIter(ctx context.Context, q *Query) iter.Seq2[Employee, error] {
	return listIter[Employee](ctx, s.c, "Employee", "Employee", q)
}

// CustomersService reads customers.
type CustomersService service

// Get returns the customer with the given id (GET .../Customer/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *CustomersService) Get(ctx context.Context, id int64, q *Query) (*Customer, *Response, error) {
	return get[Customer](ctx, s.c, "Customer/"+itoa(id), "Customer", q)
}

// Stamps returns the change times of one page of customers matching q,
// without decoding the rest of them.
func (s *CustomersService) Stamps(ctx context.Context, q *Query) ([]Stamp, *Response, error) {
	return list[Stamp](ctx, s.c, "Customer", "Customer", q)
}

// List returns one page of customers matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *CustomersService) List(ctx context.Context, q *Query) ([]Customer, *Response, error) {
	return list[Customer](ctx, s.c, "Customer", "Customer", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *CustomersService) ListNext(ctx context.Context, next string) ([]Customer, *Response, error) {
	return listNext[Customer](ctx, s.c, "Customer", "Customer", next)
}

// ListIter returns every customer matching q, following next until "". It
// stops after yielding an error.
func (s *CustomersService) ListIter(ctx context.Context, q *Query) iter.Seq2[Customer, error] {
	return listIter[Customer](ctx, s.c, "Customer", "Customer", q)
}

// CustomerTypesService reads customer types.
type CustomerTypesService service

// Get returns the customer type with the given id (GET .../CustomerType/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *CustomerTypesService) Get(ctx context.Context, id int64, q *Query) (*CustomerType, *Response, error) {
	return get[CustomerType](ctx, s.c, "CustomerType/"+itoa(id), "CustomerType", q)
}

// List returns one page of customer types matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *CustomerTypesService) List(ctx context.Context, q *Query) ([]CustomerType, *Response, error) {
	return list[CustomerType](ctx, s.c, "CustomerType", "CustomerType", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *CustomerTypesService) ListNext(ctx context.Context, next string) ([]CustomerType, *Response, error) {
	return listNext[CustomerType](ctx, s.c, "CustomerType", "CustomerType", next)
}

// ListIter returns every customer type matching q, following next until "". It
// stops after yielding an error.
func (s *CustomerTypesService) ListIter(ctx context.Context, q *Query) iter.Seq2[CustomerType, error] {
	return listIter[CustomerType](ctx, s.c, "CustomerType", "CustomerType", q)
}

// CustomFieldsService reads customer custom field definitions.
type CustomFieldsService service

// Get returns the customer custom field with the given id (GET .../Customer/CustomField/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *CustomFieldsService) Get(ctx context.Context, id int64, q *Query) (*CustomField, *Response, error) {
	return get[CustomField](ctx, s.c, "Customer/CustomField/"+itoa(id), "CustomField", q)
}

// List returns one page of customer custom field definitions matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *CustomFieldsService) List(ctx context.Context, q *Query) ([]CustomField, *Response, error) {
	return list[CustomField](ctx, s.c, "Customer/CustomField", "CustomField", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *CustomFieldsService) ListNext(ctx context.Context, next string) ([]CustomField, *Response, error) {
	return listNext[CustomField](ctx, s.c, "Customer/CustomField", "CustomField", next)
}

// ListIter returns every customer custom field matching q, following next until "". It
// stops after yielding an error.
func (s *CustomFieldsService) ListIter(ctx context.Context, q *Query) iter.Seq2[CustomField, error] {
	return listIter[CustomField](ctx, s.c, "Customer/CustomField", "CustomField", q)
}

// SalesService reads sales.
type SalesService service

// Get returns the sale with the given id (GET .../Sale/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *SalesService) Get(ctx context.Context, id int64, q *Query) (*Sale, *Response, error) {
	return get[Sale](ctx, s.c, "Sale/"+itoa(id), "Sale", q)
}

// Stamps returns the change times of one page of sales matching q, without
// decoding the rest of them.
func (s *SalesService) Stamps(ctx context.Context, q *Query) ([]Stamp, *Response, error) {
	return list[Stamp](ctx, s.c, "Sale", "Sale", q)
}

// List returns one page of sales matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *SalesService) List(ctx context.Context, q *Query) ([]Sale, *Response, error) {
	return list[Sale](ctx, s.c, "Sale", "Sale", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *SalesService) ListNext(ctx context.Context, next string) ([]Sale, *Response, error) {
	return listNext[Sale](ctx, s.c, "Sale", "Sale", next)
}

// ListIter returns every sale matching q, following next until "". It
// stops after yielding an error.
func (s *SalesService) ListIter(ctx context.Context, q *Query) iter.Seq2[Sale, error] {
	return listIter[Sale](ctx, s.c, "Sale", "Sale", q)
}

// SaleLinesService reads sale lines.
type SaleLinesService service

// Get returns the sale line with the given id (GET .../SaleLine/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *SaleLinesService) Get(ctx context.Context, id int64, q *Query) (*SaleLine, *Response, error) {
	return get[SaleLine](ctx, s.c, "SaleLine/"+itoa(id), "SaleLine", q)
}

// List returns one page of sale lines matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *SaleLinesService) List(ctx context.Context, q *Query) ([]SaleLine, *Response, error) {
	return list[SaleLine](ctx, s.c, "SaleLine", "SaleLine", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *SaleLinesService) ListNext(ctx context.Context, next string) ([]SaleLine, *Response, error) {
	return listNext[SaleLine](ctx, s.c, "SaleLine", "SaleLine", next)
}

// ListIter returns every sale line matching q, following next until "". It
// stops after yielding an error.
func (s *SaleLinesService) ListIter(ctx context.Context, q *Query) iter.Seq2[SaleLine, error] {
	return listIter[SaleLine](ctx, s.c, "SaleLine", "SaleLine", q)
}

// SalePaymentsService reads sale payments.
type SalePaymentsService service

// Get returns the sale payment with the given id (GET .../SalePayment/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *SalePaymentsService) Get(ctx context.Context, id int64, q *Query) (*SalePayment, *Response, error) {
	return get[SalePayment](ctx, s.c, "SalePayment/"+itoa(id), "SalePayment", q)
}

// List returns one page of sale payments matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *SalePaymentsService) List(ctx context.Context, q *Query) ([]SalePayment, *Response, error) {
	return list[SalePayment](ctx, s.c, "SalePayment", "SalePayment", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *SalePaymentsService) ListNext(ctx context.Context, next string) ([]SalePayment, *Response, error) {
	return listNext[SalePayment](ctx, s.c, "SalePayment", "SalePayment", next)
}

// ListIter returns every sale payment matching q, following next until "". It
// stops after yielding an error.
func (s *SalePaymentsService) ListIter(ctx context.Context, q *Query) iter.Seq2[SalePayment, error] {
	return listIter[SalePayment](ctx, s.c, "SalePayment", "SalePayment", q)
}

// PaymentTypesService reads payment types.
type PaymentTypesService service

// Get returns the payment type with the given id (GET .../PaymentType/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *PaymentTypesService) Get(ctx context.Context, id int64, q *Query) (*PaymentType, *Response, error) {
	return get[PaymentType](ctx, s.c, "PaymentType/"+itoa(id), "PaymentType", q)
}

// List returns one page of payment types matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *PaymentTypesService) List(ctx context.Context, q *Query) ([]PaymentType, *Response, error) {
	return list[PaymentType](ctx, s.c, "PaymentType", "PaymentType", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *PaymentTypesService) ListNext(ctx context.Context, next string) ([]PaymentType, *Response, error) {
	return listNext[PaymentType](ctx, s.c, "PaymentType", "PaymentType", next)
}

// ListIter returns every payment type matching q, following next until "". It
// stops after yielding an error.
func (s *PaymentTypesService) ListIter(ctx context.Context, q *Query) iter.Seq2[PaymentType, error] {
	return listIter[PaymentType](ctx, s.c, "PaymentType", "PaymentType", q)
}

// ItemsService reads items (products).
type ItemsService service

// Get returns the item with the given id (GET .../Item/{id}.json). q may
// load relations; it may be nil. An unknown id is an *APIError matching
// ErrNotFound.
func (s *ItemsService) Get(ctx context.Context, id int64, q *Query) (*Item, *Response, error) {
	return get[Item](ctx, s.c, "Item/"+itoa(id), "Item", q)
}

// List returns one page of items (products) matching q (nil for all), at most 100;
// Response.Next is the URL of the next page, "" on the last.
func (s *ItemsService) List(ctx context.Context, q *Query) ([]Item, *Response, error) {
	return list[Item](ctx, s.c, "Item", "Item", q)
}

// ListNext returns the page at next, a Response.Next or Response.Previous
// URL of an earlier List call.
func (s *ItemsService) ListNext(ctx context.Context, next string) ([]Item, *Response, error) {
	return listNext[Item](ctx, s.c, "Item", "Item", next)
}

// ListIter returns every item matching q, following next until "". It
// stops after yielding an error.
func (s *ItemsService) ListIter(ctx context.Context, q *Query) iter.Seq2[Item, error] {
	return listIter[Item](ctx, s.c, "Item", "Item", q)
}
