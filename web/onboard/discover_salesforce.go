package onboard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants/setup"
)

// discoverSalesforce reads the org tok belongs to: global describe (1 call),
// identity (1), the Organization row when the org exposes it (1),
// and one describe per writable object present (6 standard, plus any
// Lightspeed_* custom objects). The API usage comes free with the last
// answer's Sforce-Limit-Info header.
func (s *Service) discoverSalesforce(ctx context.Context, tok salesforce.Token, loginURL string) (*setup.Discovery, error) {
	start := time.Now()
	hc, counter := countingClient(s.hc)
	c, err := salesforce.NewClient(hc, tok, s.prov.SalesforceOptions()...)
	if err != nil {
		return nil, fmt.Errorf("onboard: salesforce client: %w", err)
	}
	d, err := discoverOrg(ctx, c)
	if err != nil {
		return nil, err
	}
	d.LoginHost = loginURL
	return &setup.Discovery{
		Provider:        Salesforce,
		ExternalAccount: d.OrgID,
		Salesforce:      d,
		APICalls:        int(counter.n.Load()),
		Duration:        time.Since(start),
		DiscoveredAt:    s.now(),
	}, nil
}

func discoverOrg(ctx context.Context, c *salesforce.Client) (*setup.SalesforceDiscovery, error) {
	// The global describe goes first: a REST call answers an expired
	// session with 401 INVALID_SESSION_ID, which the client refreshes,
	// where the identity URL answers 403 and nothing would refresh.
	global, err := c.DescribeGlobal(ctx)
	if err != nil {
		return nil, fmt.Errorf("onboard: salesforce: describe global: %w", err)
	}
	id, err := c.Identity(ctx)
	if err != nil {
		return nil, fmt.Errorf("onboard: salesforce: %w", err)
	}
	d := &setup.SalesforceDiscovery{
		OrgID:       id.OrganizationID,
		UserID:      id.UserID,
		Username:    id.Username,
		UserName:    firstNonEmpty(id.DisplayName, id.Username),
		InstanceURL: c.InstanceURL(),
	}
	if d.OrgID == "" {
		d.OrgID = c.Token().OrgID()
	}
	present := map[string]salesforce.SObjectSummary{}
	var custom []string
	for _, o := range global.SObjects {
		present[o.Name] = o
		if o.Custom && strings.HasPrefix(o.Name, "Lightspeed_") {
			custom = append(custom, o.Name)
		}
	}
	slices.Sort(custom)

	if _, ok := present["Organization"]; ok {
		page, err := c.QueryPage(ctx, "SELECT Id, Name, OrganizationType, IsSandbox FROM Organization LIMIT 1", "", nil)
		if err != nil {
			return nil, fmt.Errorf("onboard: salesforce: read organization: %w", err)
		}
		if len(page.Records) == 1 {
			r := page.Records[0]
			d.OrgName, _ = r.Get("Name").(string)
			d.Edition, _ = r.Get("OrganizationType").(string)
			d.IsSandbox, _ = r.Get("IsSandbox").(bool)
		}
	}
	if d.OrgName == "" {
		// The org does not expose its name to this user: its id is the
		// next best thing to show.
		d.OrgName = "Salesforce org " + d.OrgID
	}

	for _, name := range append(slices.Clone(setup.WritableObjects()), custom...) {
		if _, ok := present[name]; !ok {
			d.MissingObjects = append(d.MissingObjects, name)
			continue
		}
		desc, err := c.Describe(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("onboard: salesforce: describe %s: %w", name, err)
		}
		o := mapping.SObjectOf(desc)
		if name == "Account" && o.Field("IsPersonAccount") != nil {
			d.PersonAccounts = true
		}
		d.Objects = append(d.Objects, o)
	}
	if li := c.LastLimitInfo(); !li.At.IsZero() {
		d.APIUsed, d.APIMax, d.UsageAt = li.Used, li.Max, li.At
	}
	return d, nil
}
