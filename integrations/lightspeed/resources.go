package lightspeed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// pageAttrs is the @attributes object of a response: next/previous (V3),
// count/offset/limit (V2 and count=1).
type pageAttrs struct {
	Next     flexString `json:"next"`
	Previous flexString `json:"previous"`
	Count    flexInt    `json:"count"`
	Offset   flexInt    `json:"offset"`
	Limit    flexInt    `json:"limit"`
}

// page decodes {"@attributes": {...}, "<key>": <object|array>}. When the
// key is absent and bare is set, the whole object is the entity (the
// Account detail response has no wrapper).
type page[T any] struct {
	key   string
	bare  bool
	attrs pageAttrs
	items []T
}

func (p *page[T]) UnmarshalJSON(b []byte) error {
	if !p.bare {
		return unmarshal(b, p)
	}
	var top map[string]json.RawMessage
	if err := decodeEntity("response", b, &top); err != nil {
		return err
	}
	if a, ok := top["@attributes"]; ok && !isNull(a) {
		if err := json.Unmarshal(a, &p.attrs); err != nil {
			return fmt.Errorf("decode @attributes: %w", err)
		}
	}
	raw, ok := top[p.key]
	if !ok {
		if p.bare && len(top) > 1 {
			var v T
			if err := json.Unmarshal(b, &v); err != nil {
				return err
			}
			p.items = []T{v}
		}
		return nil
	}
	var items many[T]
	if err := items.UnmarshalJSON(raw); err != nil {
		return err
	}
	p.items = items
	return nil
}

func (r *Response) setPage(a pageAttrs) {
	r.Next, r.Previous = string(a.Next), string(a.Previous)
	r.Count, r.Offset, r.Limit = int64(a.Count), int64(a.Offset), int64(a.Limit)
}

// get fetches one entity.
func get[T any](ctx context.Context, c *Client, resource, key string, q *Query) (*T, *Response, error) {
	r, err := c.newRequest(http.MethodGet, c.accountPath(resource), q, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("lightspeed: get %s: %w", resource, err)
	}
	return fetchOne[T](ctx, c, r, key, "get "+resource)
}

func fetchOne[T any](ctx context.Context, c *Client, r *request, key, op string) (*T, *Response, error) {
	p := &page[T]{key: key}
	resp, err := c.do(ctx, r, p)
	if err != nil {
		return nil, resp, wrapOp(op, err)
	}
	resp.setPage(p.attrs)
	if len(p.items) == 0 {
		return nil, resp, fmt.Errorf("lightspeed: %s: response has no %s", op, key)
	}
	return &p.items[0], resp, nil
}

// wrapOp names the operation on errors that are not already the package's
// typed errors (those carry method and URL and are returned as is, so
// callers can errors.As them directly, though wrapping would also work).
func wrapOp(op string, err error) error {
	var apiErr *APIError
	var rlErr *RateLimitError
	if errors.As(err, &apiErr) || errors.As(err, &rlErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("lightspeed: %s: %w", op, err)
}

// list fetches one page; q defaults to limit=100.
func list[T any](ctx context.Context, c *Client, resource, key string, q *Query) ([]T, *Response, error) {
	q = q.clone()
	if q.limit == 0 {
		q.limit = MaxLimit
	}
	r, err := c.newRequest(http.MethodGet, c.accountPath(resource), q, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("lightspeed: list %s: %w", resource, err)
	}
	r.list = true
	return fetchPage[T](ctx, c, r, key, "list "+resource)
}

func fetchPage[T any](ctx context.Context, c *Client, r *request, key, op string) ([]T, *Response, error) {
	p := &page[T]{key: key}
	resp, err := c.do(ctx, r, p)
	if err != nil {
		return nil, resp, wrapOp(op, err)
	}
	resp.setPage(p.attrs)
	return p.items, resp, nil
}

// listNext fetches the page at a Response.Next (or Previous) URL. Only its
// query is used, on this client's base URL and the resource's path, so a
// cursor URL can never send the token to another host.
func listNext[T any](ctx context.Context, c *Client, resource, key, next string) ([]T, *Response, error) {
	u, err := url.Parse(next)
	if err != nil {
		return nil, nil, fmt.Errorf("lightspeed: list %s: invalid next URL: %w", resource, err)
	}
	r, err := c.newRequest(http.MethodGet, c.accountPath(resource), nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("lightspeed: list %s: %w", resource, err)
	}
	r.u.RawQuery = u.RawQuery
	r.list = true
	return fetchPage[T](ctx, c, r, key, "list "+resource)
}

// listIter follows next until "" (or, for V2 offset responses, until
// offset+limit reaches count). Each item is yielded once; an error is
// yielded last and ends the sequence.
func listIter[T any](ctx context.Context, c *Client, resource, key string, q *Query) iter.Seq2[T, error] {
	q = q.clone() // the caller may reuse or change q while iterating
	return func(yield func(T, error) bool) {
		var zero T
		items, resp, err := list[T](ctx, c, resource, key, q)
		seen := map[string]bool{}
		var offset int64 // the V2 offset last requested
		for {
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			switch {
			case resp.Next != "":
				if seen[resp.Next] {
					yield(zero, fmt.Errorf("lightspeed: list %s: next URL repeats; stopping", resource))
					return
				}
				seen[resp.Next] = true
				items, resp, err = listNext[T](ctx, c, resource, key, resp.Next)
			case resp.Limit > 0 && len(items) > 0 && resp.Offset+resp.Limit < resp.Count:
				next := resp.Offset + resp.Limit
				if next <= offset {
					// A server that ignores offset would otherwise be asked
					// for the same page forever.
					yield(zero, fmt.Errorf("lightspeed: list %s: offset %d does not advance; stopping", resource, next))
					return
				}
				offset = next
				nq := q.clone()
				nq.Set("offset", strconv.FormatInt(next, 10))
				items, resp, err = list[T](ctx, c, resource, key, nq)
			default:
				return
			}
		}
	}
}

// send issues a write and decodes the returned entity.
func write[T any](ctx context.Context, c *Client, method, resource, key string, body any) (*T, *Response, error) {
	op := method + " " + resource
	r, err := c.newRequest(method, c.accountPath(resource), nil, body)
	if err != nil {
		return nil, nil, fmt.Errorf("lightspeed: %s: %w", op, err)
	}
	return fetchOne[T](ctx, c, r, key, op)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// count runs a count=1 query (10 drips) and returns the count.
func count(ctx context.Context, c *Client, resource string, q *Query) (int64, error) {
	q = q.clone()
	q.limit = 0
	q.sort = ""
	q.Set("count", "1")
	r, err := c.newRequest(http.MethodGet, c.accountPath(resource), q, nil)
	if err != nil {
		return 0, fmt.Errorf("lightspeed: count %s: %w", resource, err)
	}
	p := &page[struct{}]{key: "-"}
	if _, err := c.do(ctx, r, p); err != nil {
		return 0, wrapOp("count "+resource, err)
	}
	return int64(p.attrs.Count), nil
}

// AccountsService reads the accounts a token can reach.
type AccountsService service

// List returns the accounts the token can reach (GET /API/V3/Account.json).
// It is the discovery call after a code exchange.
func (s *AccountsService) List(ctx context.Context) ([]Account, *Response, error) {
	r, err := s.c.newRequest(http.MethodGet, "API/V3/Account.json", nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("lightspeed: list accounts: %w", err)
	}
	return fetchPage[Account](ctx, s.c, r, "Account", "list accounts")
}

// Get returns the client's account with its details
// (GET /API/V3/Account/{id}.json, which answers without an "Account" wrapper;
// the wrapped form is accepted too).
func (s *AccountsService) Get(ctx context.Context) (*Account, *Response, error) {
	r, err := s.c.newRequest(http.MethodGet, "API/V3/Account/"+itoa(s.c.account)+".json", nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("lightspeed: get account: %w", err)
	}
	p := &page[Account]{key: "Account", bare: true}
	resp, err := s.c.do(ctx, r, p)
	if err != nil {
		return nil, resp, wrapOp("get account", err)
	}
	if len(p.items) == 0 {
		return nil, resp, errors.New("lightspeed: get account: empty response")
	}
	a := &p.items[0]
	if a.AccountID == 0 {
		a.AccountID = s.c.account
	}
	return a, resp, nil
}
