// Package sandbox is an in-memory emulator of the Salesforce APIs Tandem
// uses, close enough that real third-party clients (the jsforce npm package
// and Salesforce's own sf CLI) work against it unchanged. A [Server] is an http.Handler; build
// one with [New] and serve it (tests use httptest, `tandem sandbox
// salesforce` serves it on a port).
//
// # What it serves
//
//   - OAuth 2.0 on /services/oauth2/: authorize (a consent page with Allow
//     and Deny, PKCE S256), token (authorization_code, refresh_token with
//     optional rotation and the real "token request is already being
//     processed" error for overlapping refreshes of one token, password),
//     revoke, userinfo, and the identity URL /id/{org}/{user}. Token
//     responses carry instance_url (the sandbox's own base URL), id,
//     issued_at in epoch milliseconds, an HMAC signature, and no
//     expires_in. Expired or revoked tokens get 401 INVALID_SESSION_ID.
//   - REST under /services/data/vNN.N/ for versions 20.0 to 66.0: the
//     version list, the resource root, describe global and per object, record
//     create/read/update/delete, upsert by external id (201, 200 from v46.0
//     or 204 before, 300, 404), relationship references by external id,
//     sObject Collections (create, update, upsert, retrieve, delete; 200
//     records; allOrNone), Composite (25 subrequests, @{ref} references),
//     Composite Graph, query/queryAll through package soql with
//     nextRecordsUrl paging and Sforce-Query-Options batchSize (and
//     columns=true for the column metadata), sobjects/{T}/updated and
//     /deleted, limits, Bulk API 2.0 ingest jobs and query jobs (query and
//     queryAll, CSV results paged by Sforce-Locator and maxRecords), and the
//     Tooling API's CustomField/CustomObject create and tooling query. Runs
//     of slashes in a path read as one, as in the real service.
//   - An org with Account, Contact, Opportunity, OpportunityLineItem,
//     Product2, Pricebook2 (with the standard price book), PricebookEntry,
//     User, RecordType and Organization (one read-only row: the org's own
//     00D id, Options.OrgName, Options.Edition as OrganizationType,
//     IsSandbox false), optional person accounts, and custom objects and
//     fields usable as soon as they are created. Ids are 18 characters with
//     the real key prefixes and checksum. Writes maintain CreatedDate,
//     LastModifiedDate, LastModifiedById and SystemModstamp; deletes go to a
//     recycle bin (IsDeleted, queryAll, getDeleted), and so do the losers of
//     a merge (POST /_sandbox/merge), with MasterRecordId set.
//   - Validation as a real org reports it: REQUIRED_FIELD_MISSING,
//     STRING_TOO_LONG, INVALID_TYPE_ON_FIELD_IN_RECORD,
//     INVALID_EMAIL_ADDRESS, INVALID_FIELD, INVALID_FIELD_FOR_INSERT_UPDATE,
//     DUPLICATE_VALUE, INVALID_CROSS_REFERENCE_KEY, MALFORMED_ID,
//     NUMBER_OUTSIDE_VALID_RANGE, CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY for
//     writes the object type refuses, restricted picklists, the price-book rules
//     (STANDARD_PRICE_NOT_DEFINED, FIELD_INTEGRITY_EXCEPTION) and an optional
//     Contact email duplicate rule (DUPLICATES_DETECTED with duplicateResult).
//   - Sforce-Limit-Info: api-usage=N/M on every data-API response, and 403
//     REQUEST_LIMIT_EXCEEDED once the rolling 24-hour allocation is spent.
//
// # The admin API
//
// Everything under /_sandbox/ is outside the emulated service and takes and
// returns JSON (no authentication):
//
//	POST /_sandbox/reset    back to the initial org (bare, or seeded per Options.Seed)
//	POST /_sandbox/seed     {"seed":N}: a fresh org with demo data from seed N
//	POST /_sandbox/token    {"instance_url":...} optional: a token pair for the admin user
//	GET  /_sandbox/tokens   every token issued
//	GET  /_sandbox/stats    calls by resource and method, API usage, live records per object
//	GET/POST /_sandbox/faults  see [Faults]; {} clears
//	POST /_sandbox/fields   {"object":"Opportunity","name":"Stylist__c","type":"Text","length":80,...}
//	DELETE /_sandbox/fields {"object":"Contact","name":"Loyalty_Tier__c"}: the custom field is deleted
//	POST /_sandbox/objects  {"name":"Lightspeed_Sale__c","label":"Lightspeed Sale"}
//	GET/POST /_sandbox/clock   {"advance":"3h"} moves the sandbox clock forward
//	POST /_sandbox/merge   {"object":"Contact","master":ID,"duplicates":[ID,...]}: see [Server.Merge]
//
// Reset and seed keep issued tokens valid (the org and admin user ids are
// fixed) and clear faults, usage, stats, query cursors and Bulk jobs.
//
// # Where it differs from Salesforce
//
//   - One org, one connected app, one user. The consent page logs the admin
//     user in implicitly; there is no login form. With no RedirectURIs
//     configured any absolute http(s) callback is accepted.
//   - The access-token lifetime is absolute from issue (Salesforce's is an
//     inactivity timeout). The password grant never returns a refresh token,
//     as in Salesforce.
//   - Only the objects and fields above exist; no triggers, validation rules,
//     workflow, sharing or field-level security. Person accounts mirror the
//     standard person fields and custom __pc fields to the person contact.
//   - Organization is read-only to everyone; a real org lets an
//     administrator update some of its fields (name, address, phone). It
//     also carries IsDeleted, which a real Organization does not.
//   - Recycle-bin records are never purged and cannot be undeleted;
//     hardDelete in Bulk behaves like delete.
//   - Merges (POST /_sandbox/merge) keep the master's fields as they are
//     (the UI and SOAP merge() can also copy chosen values onto it) and
//     refuse person accounts.
//   - Bulk API 2.0 has no multipart upload and no parallel result pages
//     (resultPages); ingest result CSVs always use commas and LF. A query job
//     runs at once in the background, so it is rarely seen InProgress, and
//     it only fails (Failed) when the schema changes under it.
//   - Version-specific behaviour is limited to upsert-update answering 204
//     before v46.0; every other resource answers on every version.
//   - Composite Batch, SOSL search, Apex REST, the Metadata and SOAP APIs
//     and Change Data Capture are not served.
package sandbox
