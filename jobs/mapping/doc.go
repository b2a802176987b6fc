// Package mapping is what Tandem writes where: the field catalog (the
// Lightspeed values Tandem can send, custom fields included), the presets of
// each Salesforce data model and their rules with directions and transforms,
// the canonical form and hash of a record, validation against the org's
// describes, and the Salesforce objects and fields each data model requires
// (Requirements: what the setup check looks for, what "Create them for me"
// creates and what the manual steps tell a merchant to create by hand, with
// Judge for an existing field).
//
// All of it is pure (records in, records out, no I/O) except Store, which
// keeps each tenant's saved mappings in the field_mappings table. The setup
// check that calls Salesforce runs from the web app (web/onboard); what it
// finds is stored in the tenant's settings as a setup.CheckResult.
package mapping
