// Package salesforce is a typed client for the Salesforce REST API as Tandem
// uses it: OAuth 2.0 web server flow with PKCE, describe, single-record and
// sObject Collections writes, Composite and Composite Graph, SOQL query
// iterators, getUpdated/getDeleted, Bulk API 2.0 ingest and query jobs
// ([Client.Ingest], and [Client.BulkQuery] yielding CSV result pages) and the
// Tooling API calls that create custom fields.
//
// The shape follows go-github: a [Client] built by [NewClient] around an
// injected *http.Client, one request choke point ([Client.NewRequest] and
// [Client.Do]), typed errors ([*APIError], [*OAuthError]) and iterators for
// paged reads. Retries of transient failures (UNABLE_TO_LOCK_ROW, 502/503,
// timeouts) live in an http.RoundTripper layer that the client installs
// around the caller's transport, so request-building code never loops.
//
// # Sessions
//
// Salesforce does not say when an access token expires. The client therefore
// treats a 401 INVALID_SESSION_ID as "refresh once, then replay once". Only
// one refresh runs per Client at a time (the others wait for its result), a
// [RefreshLockFunc] lets the caller serialise refreshes across Clients and
// processes that share a connection (a Postgres row lock in Tandem; the
// waiter then adopts the token the winner stored instead of refreshing
// again, and refreshes after all if the API refuses that one too), and
// every token a refresh returns is handed to a [SaveTokenFunc] before the
// new access token is used, so a rotated refresh token is never lost. The
// lock's unlock function learns how the refresh ended, so the caller can
// record a refused refresh token under the same lock and return its own
// error for it. A query page that fails with an expired session is fetched
// again with the new token from the same nextRecordsUrl; since a query
// locator belongs to the session that opened it, a page the new session is
// refused starts the query over from its first page (records may repeat).
//
// API calls always go to the token's instance_url, never to the login host.
//
// # Secrets
//
// Tokens, client secrets and passwords never appear in error strings; [Token]
// prints and logs itself redacted.
package salesforce
