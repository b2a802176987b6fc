// Package lightspeed is a client for the Lightspeed Retail (R-Series) API:
// OAuth 2.0 with PKCE and rotating refresh tokens, a leaky-bucket rate
// limiter shared per account, cursor pagination as iterators, and typed
// models that tolerate the API's loose JSON.
//
// # Shape
//
// NewClient takes an *http.Client and Options (base URL, account id, a
// TokenProvider, the shared *Limits). Every call goes through one choke
// point, which waits for the rate limiter, sends, reads the X-LS-API-*
// headers, retries 429/503/transient failures with capped jittered backoff
// honouring Retry-After, refreshes an expired token once, and turns any
// non-2xx response into an *APIError (or *RateLimitError). Resources are
// services on the client: c.Customers.Get, c.Sales.ListIter, ...
//
//	ts, _ := lightspeed.NewTokenSource(cfg, stored, lightspeed.TokenSourceOptions{Persist: vault.Save})
//	c, _ := lightspeed.NewClient(hc, lightspeed.Options{AccountID: acct, Tokens: ts, ClientID: cfg.ClientID, Limits: limits})
//	q := lightspeed.NewQuery().
//		Where("updatetime", lightspeed.GreaterEq, cursor).
//		Where("completed", lightspeed.Eq, true).
//		Where("shopID", lightspeed.Eq, shopID).
//		Sort("updatetime", false).
//		LoadRelations("SaleLines", "SaleLines.Item", "SalePayments", "SalePayments.PaymentType", "Customer", "Customer.Contact")
//	for sale, err := range c.Sales.ListIter(ctx, q) { ... }
//
// # Errors
//
// *APIError carries the status and the decoded body in either form the API
// uses: {"httpCode","httpMessage","message","errorClass"} (resource errors
// and the 2017 401) or {"error","error_description","hint"} (OAuth server
// and the current 401). It matches ErrNotFound, ErrUnauthorized,
// ErrForbidden and ErrInvalidGrant with errors.Is. *RateLimitError means
// "try again after RetryAfter": a job should snooze rather than sleep.
// Tokens, client secrets, codes and verifiers never appear in error strings
// or URLs.
//
// # Wire tolerance
//
// Every model decodes "7" and 7, "true" and true, "" and null and a missing
// key as the zero value, a one-element collection sent as an object, an
// empty relation sent as "", timestamps with "+00:00", "Z", "-0400", a
// space for the T or no offset, and Sale's updateTime/updatetime. IDs are
// int64 (0 = none), money is decimal.Decimal.
//
// # Rate limits across processes
//
// Limits shares a bucket among the clients of one account. Its BucketStore
// decides how far: the default keeps the state in this process; a store over
// shared storage (Tandem's is a Postgres row per account) makes every
// process reserve from one level and one burst window, and spreads a 429's
// Retry-After to all of them. The store only makes each update atomic; the
// arithmetic is this package's. Refreshes are serialised in process by
// TokenSource and across processes by TokenSourceOptions.Lock.
package lightspeed
