package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/tenants"
)

// ActionSetupChange is the audit-log action of a setup change.
const ActionSetupChange = "setup.change"

// ErrTenantNotFound is returned for a tenant id that names no tenant.
var ErrTenantNotFound = errors.New("setup: tenant not found")

// History is how far back the first sync imports sales.
type History string

// History windows.
const (
	HistoryNone History = "none"
	History30d  History = "30d"
	History1y   History = "1y"
	HistoryAll  History = "all"
	// HistoryUnset is a tenant that has not chosen yet.
	HistoryUnset History = ""
)

// Histories lists the history windows in the order screens offer them.
func Histories() []History { return []History{HistoryNone, History30d, History1y, HistoryAll} }

// Valid reports whether h is one of the history windows.
func (h History) Valid() bool {
	switch h {
	case HistoryNone, History30d, History1y, HistoryAll:
		return true
	}
	return false
}

// Since returns the earliest sale time h imports when the import starts at
// now, and false for "everything". HistoryNone imports from now on.
func (h History) Since(now time.Time) (time.Time, bool) {
	switch h {
	case HistoryNone:
		return now, true
	case History30d:
		return now.AddDate(0, 0, -30), true
	case History1y:
		return now.AddDate(-1, 0, 0), true
	}
	return time.Time{}, false
}

// DataModel is where sales land in Salesforce.
type DataModel string

// The data models a tenant chooses between.
const (
	// ModelClassic writes customers to Contacts (or Person Accounts) and
	// sales to Opportunities with products; payments go to a custom
	// Lightspeed_Payment__c object.
	ModelClassic DataModel = "classic"
	// ModelCustom writes sales, their lines and payments to custom objects
	// the merchant owns.
	ModelCustom DataModel = "custom"
)

// Valid reports whether m is one of the data models.
func (m DataModel) Valid() bool { return m == ModelClassic || m == ModelCustom }

// CustomerTarget is the Salesforce object customers are written to.
type CustomerTarget string

// Customer targets. Person accounts exist only in orgs that enabled them.
const (
	TargetContact       CustomerTarget = "contact"
	TargetPersonAccount CustomerTarget = "person_account"
)

// Valid reports whether t is one of the customer targets.
func (t CustomerTarget) Valid() bool { return t == TargetContact || t == TargetPersonAccount }

// Settings are a tenant's setup choices. The zero value is a tenant that has
// chosen nothing yet.
type Settings struct {
	// DataModel is empty until the merchant chooses; the setup check
	// assumes ModelClassic until then.
	DataModel DataModel `json:"data_model,omitempty"`
	// CustomerTarget is where customers go in the Classic model.
	CustomerTarget CustomerTarget `json:"customer_target,omitempty"`
	// History is empty until the merchant chooses.
	History History `json:"history,omitempty"`
	// SalesforceCheck is the last setup check, nil before the first.
	SalesforceCheck *CheckResult `json:"salesforce_check,omitempty"`
	// LocationsSaved is set once the merchant saved the locations page.
	LocationsSaved bool `json:"locations_saved,omitempty"`
	// CreateExistingInLightspeed says whether Salesforce contacts that
	// existed before setup and match no Lightspeed customer are created in
	// Lightspeed too. Off by default: contacts created after setup always
	// are.
	CreateExistingInLightspeed bool `json:"sf_existing_to_ls,omitempty"`
}

// Model returns the data model the setup check should use: the chosen one,
// or ModelClassic before a choice.
func (s Settings) Model() DataModel {
	if s.DataModel == "" {
		return ModelClassic
	}
	return s.DataModel
}

// settingsKeys are the keys of tenants.settings this package owns.
var settingsKeys = []string{"data_model", "customer_target", "history", "salesforce_check", "locations_saved", "sf_existing_to_ls"}

// Store reads and writes a tenant's setup: settings, locations and
// discoveries. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Settings returns tenantID's setup settings.
func (s *Store) Settings(ctx context.Context, tenantID string) (Settings, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT settings FROM tenants WHERE id = $1`, tenantID).Scan(&raw)
	if err != nil {
		return Settings{}, notFound("read settings", err)
	}
	var st Settings
	if err := json.Unmarshal(raw, &st); err != nil {
		return Settings{}, fmt.Errorf("setup: read settings of %s: %w", tenantID, err)
	}
	return st, nil
}

// Update changes tenantID's settings with fn, in one transaction that locks
// the tenant's row (SELECT … FOR UPDATE), so concurrent changes never lose
// each other's work. Keys of the stored object that Settings does not know
// are kept. When fn changed something, an audit entry (ActionSetupChange)
// naming what changed is written in the same transaction. An error from fn
// aborts the change and is returned as is.
func (s *Store) Update(ctx context.Context, tenantID string, actor tenants.Actor, fn func(*Settings) error) (Settings, error) {
	var out Settings
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = updateTx(ctx, tx, tenantID, actor, fn)
		return err
	})
	return out, err
}

// updateTx is Update inside the caller's transaction: the tenant's row stays
// locked until tx ends.
func updateTx(ctx context.Context, tx pgx.Tx, tenantID string, actor tenants.Actor, fn func(*Settings) error) (Settings, error) {
	var raw []byte
	err := tx.QueryRow(ctx, `SELECT settings FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&raw)
	if err != nil {
		return Settings{}, notFound("update settings", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil || all == nil {
		all = map[string]json.RawMessage{}
	}
	var before Settings
	if err := json.Unmarshal(raw, &before); err != nil {
		return Settings{}, fmt.Errorf("setup: update settings of %s: %w", tenantID, err)
	}
	after := before
	if before.SalesforceCheck != nil {
		c := *before.SalesforceCheck
		after.SalesforceCheck = &c
	}
	if err := fn(&after); err != nil {
		return Settings{}, err
	}
	changes, err := diff(before, after)
	if err != nil {
		return Settings{}, fmt.Errorf("setup: update settings of %s: %w", tenantID, err)
	}
	if len(changes) == 0 {
		return after, nil
	}
	mine, err := toMap(after)
	if err != nil {
		return Settings{}, fmt.Errorf("setup: update settings of %s: %w", tenantID, err)
	}
	for _, k := range settingsKeys {
		delete(all, k)
	}
	maps.Copy(all, mine)
	enc, err := json.Marshal(all)
	if err != nil {
		return Settings{}, fmt.Errorf("setup: update settings of %s: %w", tenantID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE tenants SET settings = $2 WHERE id = $1`, tenantID, enc); err != nil {
		return Settings{}, fmt.Errorf("setup: update settings of %s: %w", tenantID, err)
	}
	if err := tenants.AuditTx(ctx, tx, actor.Entry(tenantID, ActionSetupChange, map[string]any{"changed": changes})); err != nil {
		return Settings{}, fmt.Errorf("setup: update settings of %s: %w", tenantID, err)
	}
	return after, nil
}

// diff returns, per changed key, {"from": old, "to": new}. The check result
// is summarised: the log needs to know a check ran, not its every item.
func diff(before, after Settings) (map[string]any, error) {
	b, err := toMap(summarise(before))
	if err != nil {
		return nil, err
	}
	a, err := toMap(summarise(after))
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, k := range settingsKeys {
		if string(b[k]) != string(a[k]) {
			out[k] = map[string]any{"from": b[k], "to": a[k]}
		}
	}
	return out, nil
}

// checkSummary is how the audit log records a setup check.
type checkSummary struct {
	Model            DataModel `json:"model"`
	CheckedAt        time.Time `json:"checked_at"`
	Complete         bool      `json:"complete"`
	Missing          int       `json:"missing"`
	Created          int       `json:"created,omitempty"`
	PermissionDenied bool      `json:"permission_denied,omitempty"`
}

type summarised struct {
	Settings
	SalesforceCheck *checkSummary `json:"salesforce_check,omitempty"`
	// CreateExistingInLightspeed is always present in the summary, so a
	// change either way logs both values rather than a missing key.
	CreateExistingInLightspeed bool `json:"sf_existing_to_ls"`
}

func summarise(s Settings) summarised {
	out := summarised{Settings: s, CreateExistingInLightspeed: s.CreateExistingInLightspeed}
	if c := s.SalesforceCheck; c != nil {
		sum := &checkSummary{Model: c.Model, CheckedAt: c.CheckedAt, Complete: c.Complete(), Missing: len(c.Missing())}
		if c.Create != nil {
			sum.PermissionDenied = c.Create.PermissionDenied
			for _, r := range c.Create.Results {
				if r.OK {
					sum.Created++
				}
			}
		}
		out.SalesforceCheck = sum
	}
	return out
}

func toMap(v any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}

// notFound turns "no row" and a malformed id into ErrTenantNotFound.
func notFound(op string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) || isInvalidUUID(err) {
		return fmt.Errorf("setup: %s: %w", op, ErrTenantNotFound)
	}
	return fmt.Errorf("setup: %s: %w", op, err)
}

// isInvalidUUID reports whether Postgres refused a malformed uuid: a tenant
// id no tenant can have.
func isInvalidUUID(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "22P02"
}
