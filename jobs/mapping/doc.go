// Package mapping is what Tandem writes where in Salesforce, as pure data and
// functions: no database, no network. It holds the Salesforce objects and
// fields each data model requires (Requirements: what the setup check looks
// for, what "Create them for me" creates and what the manual steps tell a
// merchant to create by hand) and how an existing field is judged against
// its requirement.
//
// The setup check that calls Salesforce runs from the web app
// (web/onboard); what it finds is stored in the tenant's settings as a
// setup.CheckResult.
package mapping
