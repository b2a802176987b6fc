// Package connect builds a tenant's API clients: how Tandem reaches
// Lightspeed and Salesforce (Providers: OAuth client registrations and
// service URLs), the adapters that make the clients refresh their tokens
// through the vault (LightspeedTokens, NewSalesforceClient), and Clients,
// which hands out a ready *lightspeed.Client or *salesforce.Client for a
// tenant. Every Lightspeed client is paced by one shared lightspeed.Limits,
// whose buckets live in Postgres (Buckets), so every process of Tandem
// shares each account's bucket.
//
// The web app (onboarding, discovery) and the sync workers both use it; it
// imports neither.
package connect
