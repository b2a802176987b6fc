package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/tenants/vault"
)

// Discovery is what Tandem learned about a connected account, as stored in
// the discoveries table. Exactly one of Lightspeed and Salesforce is set,
// as Provider (vault.Lightspeed or vault.Salesforce) says.
type Discovery struct {
	Provider        string
	ExternalAccount string
	Lightspeed      *LightspeedDiscovery
	Salesforce      *SalesforceDiscovery
	// APICalls is how many API requests the discovery spent (retries
	// included); Duration how long it took.
	APICalls     int
	Duration     time.Duration
	DiscoveredAt time.Time
}

// ErrNoDiscovery is returned by Discovery when the provider was never
// discovered for the tenant (not connected yet, or reset since).
var ErrNoDiscovery = errors.New("setup: nothing discovered yet")

// Discovery returns what was last discovered about tenantID's account at
// provider, or ErrNoDiscovery.
func (s *Store) Discovery(ctx context.Context, tenantID, provider string) (*Discovery, error) {
	d := &Discovery{Provider: provider}
	var data []byte
	var ms int64
	err := s.pool.QueryRow(ctx, `
		SELECT external_account, data, api_calls, duration_ms, discovered_at
		FROM discoveries WHERE tenant_id = $1 AND provider = $2`, tenantID, provider).
		Scan(&d.ExternalAccount, &data, &d.APICalls, &ms, &d.DiscoveredAt)
	if errors.Is(err, pgx.ErrNoRows) || isInvalidUUID(err) {
		return nil, ErrNoDiscovery
	}
	if err != nil {
		return nil, fmt.Errorf("setup: load %s discovery: %w", provider, err)
	}
	d.Duration = time.Duration(ms) * time.Millisecond
	switch provider {
	case vault.Lightspeed:
		d.Lightspeed = new(LightspeedDiscovery)
		err = json.Unmarshal(data, d.Lightspeed)
	case vault.Salesforce:
		d.Salesforce = new(SalesforceDiscovery)
		err = json.Unmarshal(data, d.Salesforce)
	}
	if err != nil {
		return nil, fmt.Errorf("setup: decode %s discovery: %w", provider, err)
	}
	return d, nil
}

// SaveDiscovery stores d as tenantID's discovery of d.Provider, replacing
// the previous one, inside the caller's transaction (the one that saves the
// connection or records the refresh).
func SaveDiscovery(ctx context.Context, tx pgx.Tx, tenantID string, d *Discovery) error {
	var v any = d.Lightspeed
	if d.Provider == vault.Salesforce {
		v = d.Salesforce
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("setup: encode %s discovery: %w", d.Provider, err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO discoveries (tenant_id, provider, external_account, data, api_calls, duration_ms, discovered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, provider) DO UPDATE SET
			external_account = EXCLUDED.external_account, data = EXCLUDED.data,
			api_calls = EXCLUDED.api_calls, duration_ms = EXCLUDED.duration_ms,
			discovered_at = EXCLUDED.discovered_at`,
		tenantID, d.Provider, d.ExternalAccount, data, d.APICalls, d.Duration.Milliseconds(), d.DiscoveredAt)
	if err != nil {
		return fmt.Errorf("setup: save %s discovery: %w", d.Provider, err)
	}
	return nil
}

// LightspeedDiscovery is what Tandem reads from a Lightspeed account after
// connecting: what the setup steps (locations, payment and employee
// mapping, custom fields) offer the merchant, and the names the sync
// writes for shops, registers and employees.
type LightspeedDiscovery struct {
	AccountID      int64           `json:"account_id"`
	AccountName    string          `json:"account_name"`
	Shops          []LSShop        `json:"shops"`
	Registers      []LSRegister    `json:"registers"`
	Employees      []LSEmployee    `json:"employees"`
	PaymentTypes   []LSPaymentType `json:"payment_types"`
	CustomerFields []LSCustomField `json:"customer_fields"`
}

// LSShop is a store (a Tandem location) with its counts.
type LSShop struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	TimeZone  string `json:"time_zone,omitempty"`
	Registers int    `json:"registers"`
	// Employees who can work in the shop: those limited to it and those
	// limited to no shop.
	Employees int `json:"employees"`
}

// LSRegister is a till.
type LSRegister struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	ShopID int64  `json:"shop_id"`
}

// LSEmployee is a staff member (the sales employee and the one who rang a
// sale up both come from here).
type LSEmployee struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	LimitToShopID int64  `json:"limit_to_shop_id,omitempty"`
}

// LSPaymentType is a tender.
type LSPaymentType struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Code string `json:"code,omitempty"`
}

// LSCustomField is a customer custom field definition.
type LSCustomField struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Counts summarises d for screens: shops, registers, employees.
func (d *LightspeedDiscovery) Counts() (shops, registers, employees int) {
	return len(d.Shops), len(d.Registers), len(d.Employees)
}

// writableObjects are the standard objects Tandem may write, whatever data
// model the merchant picks; custom objects named Lightspeed_* are added
// when the org has them.
var writableObjects = []string{"Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2", "PricebookEntry"}

// WritableObjects returns the standard objects Tandem may write: the ones
// discovery describes.
func WritableObjects() []string { return slices.Clone(writableObjects) }

// SalesforceDiscovery is what Tandem reads from a Salesforce org after
// connecting: who connected, where the API is, how much of the daily API
// allocation is used, whether person accounts are on, and the describe of
// every object Tandem may write (what the setup check and the field
// mapping read).
type SalesforceDiscovery struct {
	OrgID   string `json:"org_id"`
	OrgName string `json:"org_name"`
	// Edition is Organization.OrganizationType ("Developer Edition",
	// "Enterprise Edition", ...); empty when the org does not say.
	Edition   string `json:"edition,omitempty"`
	IsSandbox bool   `json:"is_sandbox,omitempty"`

	UserID      string `json:"user_id"`
	Username    string `json:"username"`
	UserName    string `json:"user_name"`
	InstanceURL string `json:"instance_url"`
	LoginHost   string `json:"login_host"`

	// APIUsed and APIMax are the org's rolling 24-hour API usage, as the
	// Sforce-Limit-Info header of the last discovery call reported it.
	APIUsed int       `json:"api_used"`
	APIMax  int       `json:"api_max"`
	UsageAt time.Time `json:"usage_at"`

	PersonAccounts bool `json:"person_accounts"`
	// Objects are the describes of the writable objects the org has,
	// in the order of WritableObjects then the custom ones by name;
	// MissingObjects the standard ones it lacks (or hides from the user).
	Objects        []SObject `json:"objects"`
	MissingObjects []string  `json:"missing_objects,omitempty"`
}

// SObject is an object's describe, reduced to what setup and mapping need.
type SObject struct {
	Name       string   `json:"name"`
	Label      string   `json:"label"`
	Custom     bool     `json:"custom,omitempty"`
	Createable bool     `json:"createable"`
	Updateable bool     `json:"updateable"`
	Fields     []SField `json:"fields"`
}

// SField is one field of an object.
type SField struct {
	Name       string   `json:"name"`
	Label      string   `json:"label"`
	Type       string   `json:"type"`
	Length     int      `json:"length,omitempty"`
	Custom     bool     `json:"custom,omitempty"`
	Createable bool     `json:"createable,omitempty"`
	Updateable bool     `json:"updateable,omitempty"`
	Required   bool     `json:"required,omitempty"` // on create
	ExternalID bool     `json:"external_id,omitempty"`
	Unique     bool     `json:"unique,omitempty"`
	References []string `json:"references,omitempty"`
	Picklist   []string `json:"picklist,omitempty"`
}

// Object returns the named object (case-insensitively), or nil.
func (d *SalesforceDiscovery) Object(name string) *SObject {
	for i := range d.Objects {
		if strings.EqualFold(d.Objects[i].Name, name) {
			return &d.Objects[i]
		}
	}
	return nil
}

// Field returns the named field (case-insensitively), or nil.
func (o *SObject) Field(name string) *SField {
	for i := range o.Fields {
		if strings.EqualFold(o.Fields[i].Name, name) {
			return &o.Fields[i]
		}
	}
	return nil
}
