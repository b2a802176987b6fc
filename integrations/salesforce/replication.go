package salesforce

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Error codes of the replication resources (sObject Get Updated and Get
// Deleted).
const (
	CodeInvalidReplicationDate = "INVALID_REPLICATION_DATE"
	CodeExceededIDLimit        = "EXCEEDED_ID_LIMIT"
)

// UpdatedResult is the answer of sObject Get Updated.
type UpdatedResult struct {
	// IDs are the records changed in the window; read them afterwards
	// (RetrieveRecords).
	IDs []string
	// LatestDateCovered may be earlier than the end asked for while a long
	// transaction is open: it, not end, is the next start.
	LatestDateCovered time.Time
}

// DeletedRecord is one entry of sObject Get Deleted.
type DeletedRecord struct {
	ID          string
	DeletedDate time.Time
}

// DeletedResult is the answer of sObject Get Deleted.
type DeletedResult struct {
	Records []DeletedRecord
	// EarliestDateAvailable is how far back the delete log still reaches.
	EarliestDateAvailable time.Time
	LatestDateCovered     time.Time
}

// Lost reports whether the delete log was purged past start: deletes in
// between are gone and only a full resync can find them.
func (r *DeletedResult) Lost(start time.Time) bool {
	return !r.EarliestDateAvailable.IsZero() && r.EarliestDateAvailable.After(start)
}

// GetUpdated lists the ids of sobject records changed between start and end
// (the API truncates both to the minute and covers the last 30 days). A
// start not before end is INVALID_REPLICATION_DATE; more than 600,000 ids
// is EXCEEDED_ID_LIMIT (narrow the window).
func (c *Client) GetUpdated(ctx context.Context, sobject string, start, end time.Time) (*UpdatedResult, error) {
	var w struct {
		IDs               []string `json:"ids"`
		LatestDateCovered string   `json:"latestDateCovered"`
	}
	if err := c.replication(ctx, "updated", sobject, start, end, &w); err != nil {
		return nil, err
	}
	latest, err := ParseDateTime(w.LatestDateCovered)
	if err != nil {
		return nil, fmt.Errorf("salesforce: get updated %s: latestDateCovered: %w", sobject, err)
	}
	return &UpdatedResult{IDs: w.IDs, LatestDateCovered: latest}, nil
}

// GetDeleted lists the sobject records deleted between start and end (at
// most the last 15 days, less if the recycle bin was emptied: see
// DeletedResult.Lost).
func (c *Client) GetDeleted(ctx context.Context, sobject string, start, end time.Time) (*DeletedResult, error) {
	var w struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		} `json:"deletedRecords"`
		EarliestDateAvailable string `json:"earliestDateAvailable"`
		LatestDateCovered     string `json:"latestDateCovered"`
	}
	if err := c.replication(ctx, "deleted", sobject, start, end, &w); err != nil {
		return nil, err
	}
	res := &DeletedResult{Records: make([]DeletedRecord, 0, len(w.DeletedRecords))}
	var err error
	if res.EarliestDateAvailable, err = ParseDateTime(w.EarliestDateAvailable); err != nil {
		return nil, fmt.Errorf("salesforce: get deleted %s: earliestDateAvailable: %w", sobject, err)
	}
	if res.LatestDateCovered, err = ParseDateTime(w.LatestDateCovered); err != nil {
		return nil, fmt.Errorf("salesforce: get deleted %s: latestDateCovered: %w", sobject, err)
	}
	for _, d := range w.DeletedRecords {
		at, err := ParseDateTime(d.DeletedDate)
		if err != nil {
			return nil, fmt.Errorf("salesforce: get deleted %s: record %s: %w", sobject, d.ID, err)
		}
		res.Records = append(res.Records, DeletedRecord{ID: d.ID, DeletedDate: at})
	}
	return res, nil
}

func (c *Client) replication(ctx context.Context, which, sobject string, start, end time.Time, v any) error {
	path, err := sobjectPath(sobject, which)
	if err != nil {
		return fmt.Errorf("salesforce: get %s %s: %w", which, sobject, err)
	}
	if !start.Before(end) {
		return fmt.Errorf("salesforce: get %s %s: start %s is not before end %s", which, sobject, start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	q := url.Values{"start": {start.UTC().Format(time.RFC3339)}, "end": {end.UTC().Format(time.RFC3339)}}
	return c.get(ctx, "get "+which+" "+sobject, path+"/?"+q.Encode(), v)
}

// ParseDateTime reads a dateTime as the API writes it
// ("2026-03-01T10:15:02.000+0000", which time.RFC3339 does not accept), an
// RFC 3339 value, or a date ("2026-03-01", as midnight UTC). The result is
// in UTC. An empty string is the zero time.
func ParseDateTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a Salesforce dateTime", excerpt(strings.TrimSpace(s), 40))
}
