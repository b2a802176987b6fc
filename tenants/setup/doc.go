// Package setup holds a tenant's sync configuration: the choices made in the
// setup wizard (Settings: data model, customer target, history window, the
// last Salesforce setup check, whether existing Salesforce contacts are
// created in Lightspeed), the tenant's locations (one per Lightspeed shop),
// and what discovery learned about each connected account (Discovery).
//
// The web app writes it and the sync workers read it, so it is plain data
// over Postgres: it knows neither the web app nor the API clients (a
// discovery is stored as the plain structs below, not as client types).
//
// Settings live in tenants.settings (a JSON object shared with other
// features: keys this package does not know are kept as they are) and in
// the locations and discoveries tables. Every settings change is a
// read-modify-write in one transaction that locks the tenant's row, and is
// audit-logged in that transaction (tenants.AuditTx).
package setup
