package onboard

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/tenants/setup"
)

// discoverLightspeed reads the account tok reaches (want, when non-zero,
// must be among them) and its shops, registers, employees, payment types
// and customer custom fields. Every list is read in pages of 100, one call
// each: six calls for an account with up to 100 of everything.
func (s *Service) discoverLightspeed(ctx context.Context, tokens lightspeed.TokenProvider, want int64) (*setup.Discovery, error) {
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
	c, err := s.clients.LightspeedClient(hc, acct, tokens)
	if err != nil {
		return nil, fmt.Errorf("onboard: %w", err)
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
		if c, err = s.clients.LightspeedClient(hc, account.AccountID, tokens); err != nil {
			return nil, fmt.Errorf("onboard: %w", err)
		}
	}

	d := &setup.LightspeedDiscovery{AccountID: account.AccountID, AccountName: account.Name}
	for sh, err := range c.Shops.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list shops: %w", err)
		}
		d.Shops = append(d.Shops, setup.LSShop{ID: sh.ShopID, Name: strings.TrimSpace(sh.Name), TimeZone: sh.TimeZone})
	}
	for r, err := range c.Registers.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list registers: %w", err)
		}
		d.Registers = append(d.Registers, setup.LSRegister{ID: r.RegisterID, Name: strings.TrimSpace(r.Name), ShopID: r.ShopID})
	}
	for e, err := range c.Employees.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list employees: %w", err)
		}
		name := strings.TrimSpace(strings.TrimSpace(e.FirstName) + " " + strings.TrimSpace(e.LastName))
		d.Employees = append(d.Employees, setup.LSEmployee{ID: e.EmployeeID, Name: name, LimitToShopID: e.LimitToShopID})
	}
	for p, err := range c.PaymentTypes.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list payment types: %w", err)
		}
		d.PaymentTypes = append(d.PaymentTypes, setup.LSPaymentType{ID: p.PaymentTypeID, Name: p.Name, Type: p.Type, Code: p.Code})
	}
	for f, err := range c.CustomFields.ListIter(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("onboard: lightspeed: list customer custom fields: %w", err)
		}
		d.CustomerFields = append(d.CustomerFields, setup.LSCustomField{ID: f.CustomFieldID, Name: f.Name, Type: f.Type})
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
	return &setup.Discovery{
		Provider:        Lightspeed,
		ExternalAccount: strconv.FormatInt(d.AccountID, 10),
		Lightspeed:      d,
		APICalls:        int(counter.n.Load()),
		Duration:        time.Since(start),
		DiscoveredAt:    s.now(),
	}, nil
}
