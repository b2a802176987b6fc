package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxCollectionSize is how many records one sObject Collections call takes.
const MaxCollectionSize = 200

// CollectionOptions tune a collections write.
type CollectionOptions struct {
	// AllOrNone rolls back every record of a call (up to 200) if one
	// fails. Off by default: Tandem wants the good records saved.
	AllOrNone bool
	// AllowDuplicateSave sends Sforce-Duplicate-Rule-Header: allowSave=true,
	// which saves records a duplicate rule in Alert mode would block.
	AllowDuplicateSave bool
}

// CreateRecords inserts records of one object through sObject Collections,
// 200 per call, and returns one SaveResult per record in input order.
// Records that fail with UNABLE_TO_LOCK_ROW are sent again (up to the retry
// policy's attempts) when AllOrNone is off. A call that fails as a whole
// stops the run: the results so far are returned with the error.
func (c *Client) CreateRecords(ctx context.Context, sobject string, records []map[string]any, opts *CollectionOptions) ([]SaveResult, error) {
	return c.collectionWrite(ctx, "create", http.MethodPost, "composite/sobjects", sobject, "", records, opts)
}

// UpdateRecords updates records by their "Id" field, 200 per call.
func (c *Client) UpdateRecords(ctx context.Context, sobject string, records []map[string]any, opts *CollectionOptions) ([]SaveResult, error) {
	for i, r := range records {
		if id, _ := r["Id"].(string); id == "" {
			if id, _ = r["id"].(string); id == "" {
				return nil, fmt.Errorf("salesforce: update %s records: record %d has no Id", sobject, i)
			}
		}
	}
	return c.collectionWrite(ctx, "update", http.MethodPatch, "composite/sobjects", sobject, "", records, opts)
}

// UpsertRecords creates or updates records keyed by extIDField, 200 per
// call. Each record must carry its extIDField value. SaveResult.Created
// tells creates from updates.
func (c *Client) UpsertRecords(ctx context.Context, sobject, extIDField string, records []map[string]any, opts *CollectionOptions) ([]SaveResult, error) {
	if err := checkName(extIDField); err != nil {
		return nil, fmt.Errorf("salesforce: upsert %s records: %w", sobject, err)
	}
	for i, r := range records {
		if v, ok := lookupFold(r, extIDField); !ok || v == nil || v == "" {
			return nil, fmt.Errorf("salesforce: upsert %s records: record %d has no %s", sobject, i, extIDField)
		}
	}
	return c.collectionWrite(ctx, "upsert", http.MethodPatch, "composite/sobjects/"+sobject+"/"+extIDField, sobject, extIDField, records, opts)
}

type collectionBody struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

func (c *Client) collectionWrite(ctx context.Context, op, method, path, sobject, extID string, records []map[string]any, opts *CollectionOptions) ([]SaveResult, error) {
	if err := checkName(sobject); err != nil {
		return nil, fmt.Errorf("salesforce: %s records: %w", op, err)
	}
	if opts == nil {
		opts = &CollectionOptions{}
	}
	results := make([]SaveResult, 0, len(records))
	for start := 0; start < len(records); start += MaxCollectionSize {
		chunk := records[start:min(start+MaxCollectionSize, len(records))]
		res, err := c.collectionChunk(ctx, method, path, sobject, chunk, opts)
		if err != nil {
			return results, fmt.Errorf("salesforce: %s %s records %d-%d: %w", op, sobject, start, start+len(chunk)-1, err)
		}
		results = append(results, res...)
	}
	return results, nil
}

// collectionChunk sends up to 200 records and resends those that failed only
// on row-lock contention.
func (c *Client) collectionChunk(ctx context.Context, method, path, sobject string, chunk []map[string]any, opts *CollectionOptions) ([]SaveResult, error) {
	results := make([]SaveResult, len(chunk))
	pending := make([]int, len(chunk))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 0; ; attempt++ {
		body := collectionBody{AllOrNone: opts.AllOrNone, Records: make([]map[string]any, len(pending))}
		for j, i := range pending {
			rec := withoutAttributes(chunk[i])
			rec["attributes"] = map[string]any{"type": sobject}
			body.Records[j] = rec
		}
		req, err := c.NewRequest(ctx, method, path, body)
		if err != nil {
			return nil, err
		}
		if opts.AllowDuplicateSave {
			req.Header.Set("Sforce-Duplicate-Rule-Header", "allowSave=true")
		}
		var got []SaveResult
		if _, err := c.Do(req, &got); err != nil {
			return nil, err
		}
		if len(got) != len(pending) {
			return nil, fmt.Errorf("got %d results for %d records", len(got), len(pending))
		}
		var again []int
		for j, i := range pending {
			results[i] = got[j]
			if !opts.AllOrNone && lockedOnly(got[j]) {
				again = append(again, i)
			}
		}
		if len(again) == 0 || attempt+1 >= c.retry.MaxAttempts {
			return results, nil
		}
		if err := sleepCtx(ctx, c.retry.backoff(attempt)); err != nil {
			return results, err
		}
		pending = again
	}
}

func lockedOnly(r SaveResult) bool {
	if r.Success || len(r.Errors) == 0 {
		return false
	}
	for _, e := range r.Errors {
		if e.Code != CodeUnableToLockRow {
			return false
		}
	}
	return true
}

// RetrieveRecords reads records of one object by id, with the named
// fields. Ids that match nothing come back as zero Records (no Fields) at
// their position, as the API returns null for them.
func (c *Client) RetrieveRecords(ctx context.Context, sobject string, ids, fields []string) ([]Record, error) {
	if err := checkName(sobject); err != nil {
		return nil, fmt.Errorf("salesforce: retrieve records: %w", err)
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("salesforce: retrieve %s records: no fields named", sobject)
	}
	for _, f := range fields {
		if err := checkFieldPath(f); err != nil {
			return nil, fmt.Errorf("salesforce: retrieve %s records: %w", sobject, err)
		}
	}
	out := make([]Record, 0, len(ids))
	for start := 0; start < len(ids); start += MaxCollectionSize {
		chunk := ids[start:min(start+MaxCollectionSize, len(ids))]
		for _, id := range chunk {
			if !ValidID(id) {
				return out, fmt.Errorf("salesforce: retrieve %s records: %q is not a record id", sobject, id)
			}
		}
		q := url.Values{"ids": {strings.Join(chunk, ",")}, "fields": {strings.Join(fields, ",")}}
		var got []*Record
		if err := c.get(ctx, "retrieve "+sobject+" records", "composite/sobjects/"+sobject+"?"+q.Encode(), &got); err != nil {
			return out, err
		}
		for _, r := range got {
			if r == nil {
				out = append(out, Record{})
				continue
			}
			out = append(out, *r)
		}
	}
	return out, nil
}

// DeleteRecords moves records to the recycle bin by id, 200 per call, and
// returns one SaveResult per id.
func (c *Client) DeleteRecords(ctx context.Context, ids []string, opts *CollectionOptions) ([]SaveResult, error) {
	if opts == nil {
		opts = &CollectionOptions{}
	}
	results := make([]SaveResult, 0, len(ids))
	for start := 0; start < len(ids); start += MaxCollectionSize {
		chunk := ids[start:min(start+MaxCollectionSize, len(ids))]
		for _, id := range chunk {
			if id == "" || strings.ContainsAny(id, ",&?/#") {
				return results, errors.New("salesforce: delete records: empty or malformed id")
			}
		}
		q := url.Values{"ids": {strings.Join(chunk, ",")}, "allOrNone": {strconv.FormatBool(opts.AllOrNone)}}
		req, err := c.NewRequest(ctx, http.MethodDelete, "composite/sobjects?"+q.Encode(), nil)
		if err != nil {
			return results, err
		}
		var got []SaveResult
		if _, err := c.Do(req, &got); err != nil {
			return results, fmt.Errorf("salesforce: delete records %d-%d: %w", start, start+len(chunk)-1, err)
		}
		results = append(results, got...)
	}
	return results, nil
}
