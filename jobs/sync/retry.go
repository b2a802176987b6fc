package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/ledger"
)

// ErrNothingToResend is returned by Retry when ids names no record the
// stream can send.
var ErrNothingToResend = errors.New("sync: no record to resend")

// Retry sends the records ids of stream k again, as one run with trigger
// (ledger.TriggerRetry after the merchant fixed a record or the mapping,
// TriggerResync for one customer), whatever their hashes say and without
// moving the stream's cursor.
//
// For customers:ls→sf the ids are Lightspeed Customer IDs, sent as Resend
// sends them; for sales:ls→sf Lightspeed sale ids (ResendSales); for
// customers:sf→ls they are Salesforce ids, read in one
// query per batch (deleted ones included, so a merge or delete is
// followed). A record the other side refuses again is a failed event of
// the new run, as in any run.
func (e *Engine) Retry(ctx context.Context, k ledger.StreamKey, ids []string, trigger string) (Result, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" })
	if len(ids) == 0 {
		return Result{}, ErrNothingToResend
	}
	var body func(context.Context, *runContext) (bool, error)
	switch k.Stream {
	case ledger.CustomersToSalesforce, ledger.SalesToSalesforce:
		for _, id := range ids {
			if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
				return Result{}, fmt.Errorf("%w: %q is not a Lightspeed id", ErrNothingToResend, id)
			}
		}
		if k.Stream == ledger.SalesToSalesforce {
			return e.ResendSales(ctx, k, ids, trigger)
		}
		body = func(ctx context.Context, rc *runContext) (bool, error) { return false, rc.resend(ctx, ids) }
	case ledger.CustomersToLightspeed:
		for _, id := range ids {
			if !salesforce.ValidID(id) {
				return Result{}, fmt.Errorf("%w: %q is not a Salesforce id", ErrNothingToResend, id)
			}
		}
		body = func(ctx context.Context, rc *runContext) (bool, error) { return false, rc.resendSalesforce(ctx, ids) }
	default:
		return Result{}, fmt.Errorf("%w %q", ErrUnknownStream, k.Stream)
	}
	return e.runConfigured(ctx, k, trigger, body)
}

// resendSalesforce brings the Salesforce records ids to Lightspeed. Each
// page re-commits the cursor as it stands.
func (rc *runContext) resendSalesforce(ctx context.Context, ids []string) error {
	pos, ok, err := rc.ledger.Cursor(ctx, rc.key)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: the stream has not run yet", ErrNothingToResend)
	}
	var cur sfCursor
	if err := json.Unmarshal([]byte(pos), &cur); err != nil {
		return fmt.Errorf("read cursor %q: %w", pos, err)
	}
	ls, w, err := rc.customerSides(ctx)
	if err != nil {
		return err
	}
	r := &sfReader{customerWriter: w, ls: ls, setup: cur.Setup}
	var reset error
	for chunk := range slices.Chunk(ids, rc.opts.BatchSize) {
		soql, err := r.selectWhere(ctx, "Id IN "+soqlList(chunk))
		if err != nil {
			return err
		}
		var batch []salesforce.Record
		for rec, err := range w.sf.QueryAll(ctx, soql, nil) {
			if err != nil {
				return fmt.Errorf("read Salesforce customers %s: %w", strings.Join(chunk, ", "), err)
			}
			batch = append(batch, rec)
		}
		err = r.batch(ctx, batch, cur)
		if errors.Is(err, ledger.ErrCursorReset) {
			// The stream was reset during the retry: the cursor it
			// re-commits gives way, the records asked for are still sent.
			reset, err = err, nil
		}
		if err != nil {
			return err
		}
	}
	return reset
}

// customerSides returns the tenant's Lightspeed client and a customer
// writer over its Salesforce client.
func (rc *runContext) customerSides(ctx context.Context) (*lightspeed.Client, *customerWriter, error) {
	ls, err := rc.clients.Lightspeed(ctx, rc.key.TenantID)
	if err != nil {
		return nil, nil, err
	}
	sf, err := rc.clients.Salesforce(ctx, rc.key.TenantID)
	if err != nil {
		return nil, nil, err
	}
	w, err := rc.newCustomerWriter(ctx, sf)
	if err != nil {
		return nil, nil, err
	}
	return ls, w, nil
}

// CursorAt is the position that makes stream's next run read again every
// record changed at or after at, given its current position (empty before
// its first run): what Reset a location (or the customer stream) to a date
// stores with ledger.ResetCursorTx. What the position holds besides the time
// (when customers:sf→ls started, a sales import's progress) is kept.
func CursorAt(stream, current string, at time.Time) (string, error) {
	at = at.UTC()
	switch stream {
	case ledger.CustomersToSalesforce:
		return at.Format(time.RFC3339Nano), nil
	case ledger.CustomersToLightspeed:
		var cur sfCursor
		if current != "" {
			if err := json.Unmarshal([]byte(current), &cur); err != nil {
				return "", fmt.Errorf("sync: read cursor %q: %w", current, err)
			}
		} else {
			cur.Setup = at
		}
		cur.Since = at
		b, err := json.Marshal(cur)
		return string(b), err
	case ledger.SalesToSalesforce:
		cur, _ := parseSalesCursor(current)
		// A Bulk API step under way reads from the old position: drop it,
		// the next run starts over from at.
		cur.Bulk = nil
		cur.UpdatedAt = at
		return cur.encode(), nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownStream, stream)
}

// Codes of failures that say nothing about the record itself: its customer
// or product could not be written first, or Salesforce was briefly unable.
// The worker sends such records again on its own (RetryableCodes).
const (
	CodeCustomerNotSent = "CUSTOMER_NOT_SENT"
	CodeProductNotSaved = "PRODUCT_NOT_SAVED"
)

// RetryableCodes are the failure codes retried without anyone's help, a
// few times a day, after a stream's run; other failures wait for the
// record's next change or a Retry.
func RetryableCodes() []string {
	return []string{CodeCustomerNotSent, CodeProductNotSaved, "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
}
