package sync

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants/setup"
)

// DescribeCache keeps refreshed describes in the tenant's cached
// Salesforce discovery (setup.Store implements it).
type DescribeCache interface {
	SaveSalesforceObject(ctx context.Context, tenantID string, o setup.SObject) error
}

// applyDrift leaves out of the run the rules whose Salesforce field the
// cached describes no longer accept (deleted, renamed, retyped, made
// read-only): only those fields stop, the rest of each record is written.
func (rc *runContext) applyDrift() {
	catalog := mapping.Catalog(rc.cfg.CustomFields)
	rc.full = rc.mapping
	rc.drift = mapping.Drift(rc.mapping, catalog, rc.cfg.Salesforce)
	rc.mapping = rc.mapping.Without(rc.drift)
}

// confirmDrift checks drift the cached describes show against Salesforce
// itself before a run leaves fields out: a field created after the cache
// was taken (by hand, or by another tool) is not drift. One describe per
// drifted object; nothing when there is no drift.
func (rc *runContext) confirmDrift(ctx context.Context, sf *salesforce.Client) error {
	var objects []string
	for _, d := range rc.drift {
		if !slices.Contains(objects, d.Rule.Object) {
			objects = append(objects, d.Rule.Object)
		}
	}
	for _, o := range objects {
		if _, err := rc.refreshDrift(ctx, sf, o); err != nil {
			return fmt.Errorf("describe %s again: %w", o, err)
		}
	}
	return nil
}

// streamDrift is the drift of one mapping stream.
func (rc *runContext) streamDrift(stream string) []mapping.DriftItem {
	var out []mapping.DriftItem
	for _, d := range rc.drift {
		if d.Rule.Stream == stream {
			out = append(out, d)
		}
	}
	return out
}

// commit commits a page, first noting on the events of the records it
// wrote which fields were left out because their Salesforce field changed:
// customer events name the customer rules', sale events the sales rules'.
func (rc *runContext) commit(ctx context.Context, page ledger.Page) error {
	notes := map[string]string{
		ledger.KindCustomer: mapping.DriftNote(rc.streamDrift(mapping.StreamCustomers)),
		ledger.KindSale: mapping.DriftNote(slices.Concat(rc.streamDrift(mapping.StreamSales),
			rc.streamDrift(mapping.StreamLines), rc.streamDrift(mapping.StreamPayments))),
	}
	for i := range page.Events {
		e := &page.Events[i]
		note := notes[e.Kind]
		if note == "" || !slices.Contains([]string{ledger.ActionCreated, ledger.ActionUpdated, ledger.ActionLinked}, e.Action) {
			continue
		}
		if e.Message != "" {
			e.Message += " "
		}
		e.Message += note
	}
	return rc.ledger.CommitPage(ctx, rc.run, page)
}

// unknownField reports whether a failed write named a field Salesforce does
// not have: the describe is stale.
func unknownField(res salesforce.SaveResult) bool {
	for _, e := range res.Errors {
		if e.Code == "INVALID_FIELD" && strings.Contains(e.Message, "No such column") {
			return true
		}
	}
	return false
}

// refreshDrift describes object again (the cached describe said a field
// exists that a write was refused for), keeps the new describe, and drops
// the rules it no longer accepts. It returns the newly drifted rules.
func (rc *runContext) refreshDrift(ctx context.Context, sf *salesforce.Client, object string) ([]mapping.DriftItem, error) {
	sf.InvalidateDescribes(object)
	desc, err := sf.Describe(ctx, object)
	if err != nil {
		return nil, err
	}
	o := mapping.SObjectOf(desc)
	d := rc.cfg.Salesforce
	if d == nil {
		d = &setup.SalesforceDiscovery{}
	} else {
		clone := *d
		clone.Objects = slices.Clone(d.Objects)
		d = &clone
	}
	if i := slices.IndexFunc(d.Objects, func(x setup.SObject) bool { return strings.EqualFold(x.Name, object) }); i >= 0 {
		d.Objects[i] = o
	} else {
		d.Objects = append(d.Objects, o)
	}
	rc.cfg.Salesforce = d
	if rc.opts.Describes != nil {
		if err := rc.opts.Describes.SaveSalesforceObject(ctx, rc.key.TenantID, o); err != nil {
			return nil, err
		}
	}
	before := rc.drift
	rc.drift = mapping.Drift(rc.full, mapping.Catalog(rc.cfg.CustomFields), d)
	rc.mapping = rc.full.Without(rc.drift)
	var added []mapping.DriftItem
	for _, x := range rc.drift {
		if !slices.ContainsFunc(before, func(b mapping.DriftItem) bool { return b.Rule == x.Rule }) {
			added = append(added, x)
		}
	}
	return added, nil
}
