package tenants

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is what a member may do in a tenant.
type Role string

// The roles a membership can have. The database enforces the same list.
const (
	RoleOwner  Role = "owner"  // created the tenant; may do everything
	RoleAdmin  Role = "admin"  // may change connections and settings
	RoleViewer Role = "viewer" // may look but not change
)

// Tenant is one business using Tandem.
type Tenant struct {
	ID        string // UUID
	Name      string
	CreatedAt time.Time
}

// User is a person who can log in. A user belongs to tenants through
// memberships; support staff (IsStaff) can also see every tenant.
type User struct {
	ID        string // UUID
	Email     string // normalised: trimmed and lower-case
	IsStaff   bool
	CreatedAt time.Time
}

// Membership says that a user belongs to a tenant, with a role.
type Membership struct {
	TenantID   string
	TenantName string
	Role       Role
	CreatedAt  time.Time
}

// Member is a user as seen from a tenant they belong to.
type Member struct {
	UserID    string
	Email     string
	Role      Role
	CreatedAt time.Time // when they joined the tenant
}

// TenantSummary is one row of the staff console's tenant list.
type TenantSummary struct {
	ID         string
	Name       string
	CreatedAt  time.Time
	OwnerEmail string // empty when the tenant has no owner left
	Members    int
}

// Provider names a connected service.
type Provider string

// The providers a tenant can connect. The database enforces the same list.
const (
	ProviderLightspeed Provider = "lightspeed"
	ProviderSalesforce Provider = "salesforce"
)

// Providers lists every provider in the order screens show them.
func Providers() []Provider { return []Provider{ProviderLightspeed, ProviderSalesforce} }

// ConnectionStatus is the state of a tenant's link to a provider.
type ConnectionStatus string

// Connection states. A provider with no connections row is
// StatusNotConnected; the others are stored.
const (
	StatusNotConnected ConnectionStatus = "not_connected"
	StatusConnected    ConnectionStatus = "connected"
	StatusNeedsReauth  ConnectionStatus = "needs_reauth"
	StatusDisconnected ConnectionStatus = "disconnected"
)

// Connection is what screens may know about a tenant's link to a provider:
// never the tokens.
type Connection struct {
	Provider        Provider
	Status          ConnectionStatus
	ExternalAccount string // the provider's account or org id
	ExternalName    string // the provider's display name for that account
	// StatusReason is why the connection needs reauthorization, with the
	// provider's own error: for support staff, not for merchants.
	StatusReason string
	// InstanceURL is where the account lives (Salesforce: the org's
	// instance, which record links start with); empty when unknown.
	InstanceURL string
	UpdatedAt   time.Time
}

// ErrNotFound is returned when the requested tenant or user does not exist
// (or the id is not a well-formed UUID, which amounts to the same thing).
var ErrNotFound = errors.New("tenants: not found")

// ErrEmailTaken is returned by SignUp when a user with that email exists.
// Nothing is created.
var ErrEmailTaken = errors.New("tenants: email already registered")

// ErrInvalidCredentials is returned by Authenticate for a wrong password and
// for an unknown email alike, so a caller cannot tell which.
var ErrInvalidCredentials = errors.New("tenants: invalid email or password")

// FieldError is a problem with one input field, with a message fit to show
// the person who typed it.
type FieldError struct {
	Field   string // the input's name, e.g. "email"
	Message string
}

// ValidationError reports every invalid field of one request.
type ValidationError struct {
	Fields []FieldError
}

// Error lists the invalid fields and their messages.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "tenants: invalid input: " + strings.Join(parts, "; ")
}

// Message returns the message for field, or "" when that field is valid.
func (e *ValidationError) Message(field string) string {
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// add records a problem with a field, keeping only the first per field.
func (e *ValidationError) add(field, msg string) {
	if e.Message(field) == "" {
		e.Fields = append(e.Fields, FieldError{Field: field, Message: msg})
	}
}

// err returns e when it holds any problem and nil otherwise.
func (e *ValidationError) err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// ThrottledError is returned by Authenticate when too many log-ins failed
// recently for the email or from the address (the attempt was not
// checked), and by SignUp when the address signed up too often.
type ThrottledError struct {
	RetryAfter time.Duration // how long until an attempt will be checked again
}

// Error says how long to wait.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("tenants: too many failed log-ins, retry after %s", e.RetryAfter.Round(time.Second))
}

// Minutes is RetryAfter in whole minutes, rounded up and at least 1: what to
// tell a person ("try again in 3 minutes").
func (e *ThrottledError) Minutes() int {
	m := int((e.RetryAfter + time.Minute - 1) / time.Minute)
	return max(m, 1)
}
