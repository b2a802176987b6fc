package onboard

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/integrations/lightspeed"
)

// LightspeedDiscovery is what Tandem reads from a Lightspeed account after
// connecting: what the setup steps (locations, payment and employee
// mapping, custom fields) offer the merchant.
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

// lightspeedClient builds an API client over hc for account with tokens.
func (s *Service) lightspeedClient(hc *http.Client, account int64, tokens lightspeed.TokenProvider) (*lightspeed.Client, error) {
	return lightspeed.NewClient(hc, lightspeed.Options{
		BaseURL:   s.prov.Lightspeed.APIURL,
		AccountID: account,
		Tokens:    tokens,
		ClientID:  s.prov.Lightspeed.ClientID,
		Limits:    s.limits,
		// The merchant is waiting on a page: fail in seconds, not minutes.
		MaxWait:    5 * time.Second,
		MaxRetries: 2,
		RetryBase:  250 * time.Millisecond,
		RetryCap:   2 * time.Second,
		UserAgent:  userAgent,
		Now:        s.now,
	})
}

// discoverLightspeed reads the account tok reaches (want, when non-zero,
// must be among them) and its shops, registers, employees, payment types
// and customer custom fields. Every list is read in pages of 100, one call
// each: six calls for an account with up to 100 of everything.
func (s *Service) discoverLightspeed(ctx context.Context, tokens lightspeed.TokenProvider, want int64) (*Discovery, error) {
	start := time.Now()
	hc, counter := countingClient(s.hc)
	// Listing accounts addresses no account; a client needs one, so the
	// token's own (from its JWT) or a placeholder serves until we know.
	acct := want
	if acct == 0 {
		if t, err := tokens.Token(ctx); err == nil && t.AccountID > 0 {
			acct = t.AccountID
		} else {
			acct = 1
		}
	}
	c, err := s.lightspeedClient(hc, acct, tokens)
	if err != nil {
		return nil, fmt.Errorf("onboard: lightspeed client: %w", err)
	}
	accounts, _, err := c.Accounts.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("onboard: lightspeed: list accounts: %w", err)
	}
	var account *lightspeed.Account
	for i := range accounts {
		if accounts[i].AccountID == acct || (account == nil && want == 0 && len(accounts) == 1) {
			account = &accounts[i]
		}
	}
	if account == nil {
		return nil, failure(Lightspeed, ReasonMissingAccount, fmt.Errorf("onboard: lightspeed: token reaches %d accounts, none is %d", len(accounts), acct))
	}
	if account.AccountID != acct {
		if c, err = s.lightspeedClient(hc, account.AccountID, tokens); err != nil {
			return nil, fmt.Errorf("onboard: lightspeed client: %w", err)
		}
	}

	d := &LightspeedDiscovery{AccountID: account.AccountID, AccountName: account.Name}
	for sh, err := range c.Shops.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list shops: %w", err)
		}
		d.Shops = append(d.Shops, LSShop{ID: sh.ShopID, Name: strings.TrimSpace(sh.Name), TimeZone: sh.TimeZone})
	}
	for r, err := range c.Registers.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list registers: %w", err)
		}
		d.Registers = append(d.Registers, LSRegister{ID: r.RegisterID, Name: strings.TrimSpace(r.Name), ShopID: r.ShopID})
	}
	for e, err := range c.Employees.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list employees: %w", err)
		}
		name := strings.TrimSpace(strings.TrimSpace(e.FirstName) + " " + strings.TrimSpace(e.LastName))
		d.Employees = append(d.Employees, LSEmployee{ID: e.EmployeeID, Name: name, LimitToShopID: e.LimitToShopID})
	}
	for p, err := range c.PaymentTypes.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list payment types: %w", err)
		}
		d.PaymentTypes = append(d.PaymentTypes, LSPaymentType{ID: p.PaymentTypeID, Name: p.Name, Type: p.Type, Code: p.Code})
	}
	for f, err := range c.CustomFields.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list customer custom fields: %w", err)
		}
		d.CustomerFields = append(d.CustomerFields, LSCustomField{ID: f.CustomFieldID, Name: f.Name, Type: f.Type})
	}
	for i := range d.Shops {
		sh := &d.Shops[i]
		for _, r := range d.Registers {
			if r.ShopID == sh.ID {
				sh.Registers++
			}
		}
		for _, e := range d.Employees {
			if e.LimitToShopID == 0 || e.LimitToShopID == sh.ID {
				sh.Employees++
			}
		}
	}
	return &Discovery{
		Provider:        Lightspeed,
		ExternalAccount: strconv.FormatInt(d.AccountID, 10),
		Lightspeed:      d,
		APICalls:        int(counter.n.Load()),
		Duration:        time.Since(start),
		DiscoveredAt:    s.now(),
	}, nil
}

// upsertLocations records every shop as a location: new shops are
// inserted flagged new (and disabled until the merchant enables them);
// known ones get their current name. enabled is never touched here.
func upsertLocations(ctx context.Context, tx pgx.Tx, tenantID string, shops []LSShop) error {
	for _, sh := range shops {
		name := sh.Name
		if name == "" {
			name = "Shop " + strconv.FormatInt(sh.ID, 10)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO locations (tenant_id, ls_shop_id, name, is_new)
			VALUES ($1, $2, $3, true)
			ON CONFLICT (tenant_id, ls_shop_id) DO UPDATE SET name = EXCLUDED.name`,
			tenantID, strconv.FormatInt(sh.ID, 10), name); err != nil {
			return fmt.Errorf("onboard: save location %d: %w", sh.ID, err)
		}
	}
	return nil
}
