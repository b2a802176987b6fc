// Package sandbox emulates the Lightspeed Retail (R-Series) HTTP API for
// tests, demos and benchmarks. A *Server is an http.Handler holding one
// account in memory; it never imports Tandem's Lightspeed client, so the two
// can disagree and tests catch it. Behaviour follows
// shared/reference/lightspeed-retail.md ("Tandem's decisions" first).
//
// # Surface
//
//   - OAuth 2 server: GET /auth/oauth/authorize renders a consent page (account
//     name, scopes, Authorize and Deny buttons) whose form POSTs back and
//     redirects to the registered redirect URI with code and state, or
//     error=access_denied. Codes live 60 s and are single use; PKCE S256 and
//     plain are verified. POST /auth/oauth/token serves authorization_code and
//     refresh_token grants from JSON, form-urlencoded or multipart bodies (client
//     credentials in the body or HTTP Basic). Refresh tokens rotate; the used
//     one stays valid until the new access token is first used (deferred
//     revocation), at most 5 times. POST /auth/oauth/revoke kills a pair.
//     GET /auth/oauth/introspect and /.well-known/jwks exist for debugging.
//     The legacy /oauth/authorize.php and /oauth/access_token.php answer too;
//     the latter refreshes without rotating and returns a scope carrying the
//     systemuserid pseudo-scope, as before 2024.
//     Access tokens are RS256 JWTs with acct, sub, aud, scope and fractional
//     iat/nbf/exp, but the sandbox validates them by lookup.
//   - API under /API/V3/Account/{accountID}/ (".json" optional): Account
//     (and /API/V3/Account.json, /API/Session.json), Shop, Register, Employee,
//     Customer (+ Contact, CustomerType, Note, CreditAccount, Tags,
//     CustomFieldValues), CustomerType, Customer/CustomField (+
//     CustomFieldChoice), Sale (+ SaleLines, SaleLines.Item, SalePayments,
//     SalePayments.PaymentType, Customer, Customer.Contact, Shop), SaleLine,
//     Sale/{id}/SaleLine, SalePayment, PaymentType and Item. Writes: Customer
//     POST/PUT/DELETE (archives) and DELETE .../Anonymize; CustomerType
//     POST/PUT/DELETE (deletes); CustomField POST/PUT/DELETE (archives);
//     CustomFieldChoice POST/PUT/DELETE; Register PUT; Sale POST/PUT/DELETE (archives) and
//     POST Sale/{id}/refund; POST Sale/{id}/SaleLine and DELETE SaleLine on
//     open sales; Item POST/PUT/DELETE (archives). Other verbs get 405.
//   - Wire format: every scalar a string, decimals without trailing zeros,
//     "0" for unset foreign keys, "+00:00" timestamps, one element collapsed
//     to an object, "" for a loaded empty relation, null scalars omitted,
//     "/" escaped as "\/" like PHP, Sale's updateTime (filtered and sorted as
//     updatetime). Lists carry @attributes next/previous (absolute URLs or "");
//     single reads and writes carry count "1"; count=1 returns only the count.
//     The legacy V2 path /API/Account/{id}/ pages by offset with
//     count/offset/limit attributes and orderby/orderby_desc.
//   - Query engine: operators = > >= < <= >< != ~ !~ IN, or=, one-level
//     relation filters (Contact.email, Contact.mobile, CustomerType.name, ...)
//     that require the relation in load_relations, archived=false|true|only,
//     per-entity sort whitelists with "-", limit <= 100, base64-JSON after and
//     before cursors, load_relations as a JSON array or "all" (which excludes
//     CustomFieldValues).
//   - Rate limiting: a leaky bucket per (account, OAuth client) with the 2026
//     cost table, the overflow-once rule and a one-second burst window; every
//     response carries the X-LS-API-* headers, refusals are 429 with
//     Retry-After and X-LS-API-RateLimit-Type.
//   - Admin API under /_sandbox/ (see serveAdmin): reset, seed, token, tokens,
//     stats, faults (error rate with a seeded RNG, fail_next, status, latency,
//     token expiry) and clock.
//
// # Choices where the reference is silent (UNCONFIRMED upstream)
//
// 404 and 429 bodies use the four-key resource error shape; blank required
// fields and malformed JSON are 400, unknown foreign keys, unbalanced
// completed sales and other semantic conflicts 422; a bad sort or filter field
// is 400 naming the allowed fields. String comparisons are case-insensitive
// (MySQL collation). A null column never matches a filter except != and !~.
// On PUT, Contact phones and emails merge by useType (an empty number removes
// one), the address is replaced, and "" clears a list. A single-choice custom
// field value is the choice's value string; with CustomFieldValues.value
// loaded it is the CustomFieldChoice object. A customer needs a firstName,
// lastName or company. limit=0 means the default of 100. Accept headers that
// exclude JSON get 406: the sandbox serves JSON only. A token for one account
// used on another account's path gets 403.
//
// Seeded timestamps are anchored at 2025-01-06 (not the clock), so a seed
// always produces byte-identical data.
package sandbox
