package lightspeed

import (
	"context"
	"net/http"
)

// Create creates a customer with its Contact, custom field values and note
// (POST .../Customer.json). Lightspeed defaults noEmail/noPhone/noMail to
// true unless the Contact sets them. Blank required fields or invalid
// values return an *APIError with the API's message.
func (s *CustomersService) Create(ctx context.Context, w CustomerWrite) (*Customer, *Response, error) {
	return write[Customer](ctx, s.c, http.MethodPost, "Customer", "Customer", w)
}

// Update changes the fields set in w (PUT .../Customer/{id}.json); nil
// fields keep their value. See ContactWrite for how phones and emails merge.
func (s *CustomersService) Update(ctx context.Context, id int64, w CustomerWrite) (*Customer, *Response, error) {
	return write[Customer](ctx, s.c, http.MethodPut, "Customer/"+itoa(id), "Customer", w)
}

// Archive archives a customer (DELETE .../Customer/{id}.json) and returns
// the archived record.
func (s *CustomersService) Archive(ctx context.Context, id int64) (*Customer, *Response, error) {
	return write[Customer](ctx, s.c, http.MethodDelete, "Customer/"+itoa(id), "Customer", nil)
}

// Count returns how many customers match q (a count=1 query, which costs 10
// drips; q's sort and limit are dropped as the API requires).
func (s *CustomersService) Count(ctx context.Context, q *Query) (int64, error) {
	return count(ctx, s.c, "Customer", q)
}

// Create defines a customer custom field (POST .../Customer/CustomField.json).
func (s *CustomFieldsService) Create(ctx context.Context, w CustomFieldWrite) (*CustomField, *Response, error) {
	return write[CustomField](ctx, s.c, http.MethodPost, "Customer/CustomField", "CustomField", w)
}

// ListChoices returns one page of the choices of a choice field
// (GET .../Customer/CustomField/{id}/CustomFieldChoice.json).
func (s *CustomFieldsService) ListChoices(ctx context.Context, fieldID int64, q *Query) ([]CustomFieldChoice, *Response, error) {
	return list[CustomFieldChoice](ctx, s.c, "Customer/CustomField/"+itoa(fieldID)+"/CustomFieldChoice", "CustomFieldChoice", q)
}

// Create creates a sale (POST .../Sale.json), for test and demo data. A
// completed sale's payments must balance its total.
func (s *SalesService) Create(ctx context.Context, w SaleWrite) (*Sale, *Response, error) {
	return write[Sale](ctx, s.c, http.MethodPost, "Sale", "Sale", w)
}

// Count returns how many sales match q (a count=1 query, 10 drips).
func (s *SalesService) Count(ctx context.Context, q *Query) (int64, error) {
	return count(ctx, s.c, "Sale", q)
}
