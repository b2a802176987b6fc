// Package tenants is Tandem's account domain: the businesses that use Tandem
// (tenants), the people who log in (users), which tenants each person belongs
// to and with what role (memberships), support staff, the state of each
// tenant's connections as far as the dashboard needs it, and the audit log.
//
// A Store is the only way in. Every method that reads or writes a tenant's
// data takes that tenant's id explicitly; nothing is taken from a context.
//
// Errors callers branch on are sentinels ([ErrNotFound], [ErrEmailTaken],
// [ErrInvalidCredentials]) or types ([*ValidationError], [*ThrottledError]);
// everything else is wrapped with the operation that failed. Passwords never
// appear in errors or logs.
package tenants
