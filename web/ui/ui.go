// Package ui holds Tandem's HTML as templ components. Every component is a
// pure function of a view model shaped like its screen: handlers in package
// web build the view models from domain values, and nothing here does I/O or
// knows about Echo, the database or sessions.
//
// Pages are rendered as a body component inside Layout, which draws the
// chrome (header, navigation, flash messages) from a Page.
package ui

import (
	"context"
	"strconv"
	"strings"
)

// Page is what the layout needs around every screen.
type Page struct {
	Title         string // the screen's name; the layout appends " · Tandem"
	StylesheetURL string
	LogoURL       string
	HomeURL       string
	Viewer        *Viewer // nil when nobody is logged in
	Nav           []NavItem
	Flashes       []Flash
	LoginURL      string
	SignUpURL     string
	LogoutURL     string
	CSRF          string // for the log-out form in the header
	Narrow        bool   // a single narrow column, for forms such as log-in
}

// Viewer is the logged-in person as the layout shows them.
type Viewer struct {
	Email      string
	TenantName string // the tenant being worked on; empty when none
	IsStaff    bool
}

// NavItem is one link in the header's navigation.
type NavItem struct {
	Label   string
	URL     string
	Current bool
}

// FlashKind selects a flash message's colour and role.
type FlashKind string

// Flash kinds.
const (
	FlashSuccess FlashKind = "success"
	FlashInfo    FlashKind = "info"
	FlashError   FlashKind = "error"
)

// Flash is a one-time message carried across a redirect.
type Flash struct {
	Kind    FlashKind
	Message string
}

// role is the ARIA role of a flash: errors interrupt, the rest wait.
func (f Flash) role() string {
	if f.Kind == FlashError {
		return "alert"
	}
	return "status"
}

// Field is one labelled form input with its value and error.
type Field struct {
	Name         string
	Label        string
	Type         string // "text", "email", "password"
	Value        string // never set for passwords
	Error        string // shown under the input and marks it invalid
	Hint         string
	Autocomplete string
	MinLength    int
	Autofocus    bool
}

// describedBy is the id of the text that explains the input: its error if
// it has one, else its hint.
func (f Field) describedBy() string {
	switch {
	case f.Error != "":
		return f.Name + "-error"
	case f.Hint != "":
		return f.Name + "-hint"
	}
	return ""
}

// SignUpForm is the sign-up page.
type SignUpForm struct {
	Action       string
	CSRF         string
	Error        string // a problem with the form as a whole
	BusinessName Field
	Email        Field
	Password     Field
	LoginURL     string
}

// LoginForm is the log-in page.
type LoginForm struct {
	Action    string
	CSRF      string
	Error     string // wrong credentials or throttling
	Notice    string // why the form is shown, e.g. "Log in to continue."
	Next      string // where to go after logging in: a local path or ""
	Email     Field
	Password  Field
	SignUpURL string
	ForgotURL string
}

// Dashboard is a tenant's home screen.
type Dashboard struct {
	TenantName  string
	Role        string
	Connections []ConnectionState
	Switcher    *Switcher // nil unless the viewer belongs to several tenants
	// NoTenant is set for a user who belongs to no tenant (support staff,
	// typically); the other fields are then empty.
	NoTenant bool
	StaffURL string // set for staff, to point them to the console
}

// ConnectionState is one provider's line on the dashboard.
type ConnectionState struct {
	Provider string // "lightspeed": a stable hook for tests and styling
	Name     string // "Lightspeed"
	Status   string // "not_connected", "connected", …: the CSS class
	Label    string // "not connected"
	Account  string // the connected account's name, when there is one
	// Detail is the stored reason a connection needs reconnecting, with
	// the provider's own words; shown on staff pages only.
	Detail string
}

// Switcher lets a member of several tenants pick which one to work on.
type Switcher struct {
	Action  string
	CSRF    string
	Options []TenantOption
}

// TenantOption is one tenant in the switcher.
type TenantOption struct {
	ID      string
	Name    string
	Role    string
	Current bool
}

// StaffTenants is the staff console's list of every tenant.
type StaffTenants struct {
	Tenants []StaffTenantRow
	// Search is the list's search form: Query is what was searched.
	SearchAction, Query string
	Total               int // tenants before the search
}

// StaffTenantRow is one tenant in the staff list.
type StaffTenantRow struct {
	Name       string
	URL        string
	Created    string // already formatted
	OwnerEmail string
	Members    int
	// Health at a glance.
	Connections []ConnectionState
	Streams     []string // "Customers, Lightspeed → Salesforce: synced 2 minutes ago"
	Failing     bool     // a stream's last run failed, or records failed today
	Failures24h int
	Calls       string // "Lightspeed 120 · Salesforce 45" today
}

// StaffTenant is the staff view of one tenant.
type StaffTenant struct {
	Name        string
	ID          string
	Created     string
	Connections []ConnectionState
	Members     []MemberRow
	Audit       []AuditRow
	BackURL     string
	// Sync is the tenant's sync for support: streams, runs, failures,
	// River jobs and the actions staff take on the merchant's behalf.
	Sync StaffSync
}

// MemberRow is one member of a tenant.
type MemberRow struct {
	Email string
	Role  string
	Since string
}

// AuditRow is one audit log entry, in words.
type AuditRow struct {
	When     string // in UTC, saying so
	Actor    string // the person's email, or "Tandem" for the system
	Action   string // "Connected", "Invited ann@shop.example", ...
	Provider string // "Lightspeed", "Salesforce" or empty
	Detail   string
	IP       string
}

// ErrorPage explains a failed request without its internals.
type ErrorPage struct {
	Status    int
	Heading   string
	Message   string
	RequestID string // quoted so support can find the log line
	HomeURL   string
}

// Thousands formats n with commas: 1234 → "1,234".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formTenantKey is the context key of the tenant id forms carry.
type formTenantKey struct{}

// WithFormTenant returns ctx for rendering a page shown while working on
// tenantID: every form's CSRF field then also names the tenant.
func WithFormTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, formTenantKey{}, tenantID)
}

func formTenant(ctx context.Context) string {
	id, _ := ctx.Value(formTenantKey{}).(string)
	return id
}
