package sync

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs/ledger"
)

// Resend writes the given Lightspeed customers to Salesforce again with the
// tenant's current mapping, even those whose values have not changed since
// they were last sent: what a resync does after the mapping changed what is
// written. It is a run of the customers Lightspeed → Salesforce stream with
// trigger "resync"; the stream's cursor does not move.
//
// Customers are read by id, up to 100 a call, with the relations the
// mapping reads; those no longer in Lightspeed are skipped.
func (e *Engine) Resend(ctx context.Context, tenantID string, lsIDs []string) (Result, error) {
	k := ledger.StreamKey{TenantID: tenantID, Stream: ledger.CustomersToSalesforce}
	return e.runConfigured(ctx, k, ledger.TriggerResync, func(ctx context.Context, rc *runContext) (bool, error) {
		return false, rc.resend(ctx, lsIDs)
	})
}

func (rc *runContext) resend(ctx context.Context, lsIDs []string) error {
	ls, w, err := rc.customerSides(ctx)
	if err != nil {
		return err
	}
	w.force = true
	var batch []lightspeed.Customer
	for start := 0; start < len(lsIDs); start += lightspeed.MaxInValues {
		var ids []any
		for _, id := range lsIDs[start:min(start+lightspeed.MaxInValues, len(lsIDs))] {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				ids = append(ids, n) // a pending placeholder is not a Lightspeed id yet
			}
		}
		if len(ids) == 0 {
			continue
		}
		q := lightspeed.NewQuery().Archived(lightspeed.ArchivedInclude).Where("customerID", lightspeed.In, ids...).
			LoadRelations(customerRelations...).Limit(lightspeed.MaxLimit)
		for c, err := range ls.Customers.ListIter(ctx, q) {
			if err != nil {
				return fmt.Errorf("read Lightspeed customers: %w", err)
			}
			batch = append(batch, c)
		}
		if len(batch) >= rc.opts.BatchSize {
			// Within the API reserve: stop between batches once Salesforce
			// says the org is at it.
			if err := rc.checkReserve(w.sf); err != nil {
				return err
			}
			if err := w.writeBatch(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) == 0 {
		return nil
	}
	if err := rc.checkReserve(w.sf); err != nil {
		return err
	}
	return w.writeBatch(ctx, batch)
}
