// Package onboard is the non-HTTP logic of onboarding a merchant: connecting
// Lightspeed and Salesforce (Service: OAuth with state and PKCE, discovery,
// disconnect, reconnect) and the setup wizard that follows (Check and Create
// for the Salesforce fields Tandem needs, and Progress over the steps).
//
// What the merchant chooses and what discovery finds are kept by
// tenants/setup, which the sync workers read too; this package writes them.
package onboard
