package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SaveResult is the outcome of writing one record. Single-record calls
// return failures as *APIError instead; collections return one SaveResult
// per record, failures included.
type SaveResult struct {
	ID      string        `json:"id"`
	Success bool          `json:"success"`
	Created bool          `json:"created"`
	Errors  []ErrorDetail `json:"errors"`
}

// Err returns nil for a success, or the record's errors as an *APIError
// (status 0: the HTTP call itself succeeded).
func (r SaveResult) Err() error {
	if r.Success {
		return nil
	}
	e := &APIError{Errors: r.Errors, Path: r.ID}
	if len(r.Errors) > 0 {
		e.ErrorCode, e.Message, e.Fields = r.Errors[0].Code, r.Errors[0].Message, r.Errors[0].Fields
	} else {
		e.Message = "record failed without an error"
	}
	return e
}

func sobjectPath(sobject string, parts ...string) (string, error) {
	if err := checkName(sobject); err != nil {
		return "", err
	}
	p := "sobjects/" + sobject
	for _, s := range parts {
		if s == "" {
			return "", errors.New("empty path segment")
		}
		p += "/" + pathEscape(s)
	}
	return p, nil
}

// Create inserts one record and returns its id.
func (c *Client) Create(ctx context.Context, sobject string, fields map[string]any) (string, error) {
	path, err := sobjectPath(sobject)
	if err != nil {
		return "", fmt.Errorf("salesforce: create: %w", err)
	}
	req, err := c.NewRequest(ctx, http.MethodPost, path, withoutAttributes(fields))
	if err != nil {
		return "", err
	}
	var res SaveResult
	if _, err := c.Do(req, &res); err != nil {
		return "", fmt.Errorf("salesforce: create %s: %w", sobject, err)
	}
	if !res.Success {
		return "", fmt.Errorf("salesforce: create %s: %w", sobject, res.Err())
	}
	return res.ID, nil
}

// Get reads one record by id, with only the given fields if any are named.
// A missing or deleted record is an *APIError with status 404 (IsNotFound).
func (c *Client) Get(ctx context.Context, sobject, id string, fields ...string) (Record, error) {
	return c.getRecord(ctx, "get "+sobject, sobject, fields, id)
}

// GetByExternalID reads one record by the value of an external-ID field.
func (c *Client) GetByExternalID(ctx context.Context, sobject, extIDField, value string, fields ...string) (Record, error) {
	if err := checkName(extIDField); err != nil {
		return Record{}, fmt.Errorf("salesforce: get %s by external id: %w", sobject, err)
	}
	return c.getRecord(ctx, "get "+sobject+" by "+extIDField, sobject, fields, extIDField, value)
}

func (c *Client) getRecord(ctx context.Context, op, sobject string, fields []string, parts ...string) (Record, error) {
	path, err := sobjectPath(sobject, parts...)
	if err != nil {
		return Record{}, fmt.Errorf("salesforce: %s: %w", op, err)
	}
	if len(fields) > 0 {
		for _, f := range fields {
			if err := checkFieldPath(f); err != nil {
				return Record{}, fmt.Errorf("salesforce: %s: %w", op, err)
			}
		}
		path += "?fields=" + url.QueryEscape(strings.Join(fields, ","))
	}
	var rec Record
	if err := c.get(ctx, op, path, &rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

func checkFieldPath(f string) error {
	for _, part := range strings.Split(f, ".") {
		if err := checkName(part); err != nil {
			return err
		}
	}
	return nil
}

// Update changes the given fields of one record (a nil value clears the
// field).
func (c *Client) Update(ctx context.Context, sobject, id string, fields map[string]any) error {
	path, err := sobjectPath(sobject, id)
	if err != nil {
		return fmt.Errorf("salesforce: update %s: %w", sobject, err)
	}
	body := withoutAttributes(fields)
	delete(body, "Id")
	req, err := c.NewRequest(ctx, http.MethodPatch, path, body)
	if err != nil {
		return err
	}
	if _, err := c.Do(req, nil); err != nil {
		return fmt.Errorf("salesforce: update %s %s: %w", sobject, id, err)
	}
	return nil
}

// Delete moves one record to the recycle bin.
func (c *Client) Delete(ctx context.Context, sobject, id string) error {
	path, err := sobjectPath(sobject, id)
	if err != nil {
		return fmt.Errorf("salesforce: delete %s: %w", sobject, err)
	}
	req, err := c.NewRequest(ctx, http.MethodDelete, path, nil)
	if err != nil {
		return err
	}
	if _, err := c.Do(req, nil); err != nil {
		return fmt.Errorf("salesforce: delete %s %s: %w", sobject, id, err)
	}
	return nil
}

// UpsertResult says what an upsert by external id did.
type UpsertResult struct {
	// ID is the record's id. It is empty when the org answered an update
	// with 204 No Content (API versions before 46.0).
	ID      string
	Created bool
}

// Upsert creates or updates the one record whose extIDField equals value.
// 201 is a create, 200 and 204 are updates. More than one match is an
// *APIError with status 300 and ErrorCode MULTIPLE_CHOICES (its Matches
// list the records); an unknown or non-external-ID field is a 404.
func (c *Client) Upsert(ctx context.Context, sobject, extIDField, value string, fields map[string]any) (UpsertResult, error) {
	if err := checkName(extIDField); err != nil {
		return UpsertResult{}, fmt.Errorf("salesforce: upsert %s: %w", sobject, err)
	}
	if value == "" {
		return UpsertResult{}, fmt.Errorf("salesforce: upsert %s: empty %s value", sobject, extIDField)
	}
	path, err := sobjectPath(sobject, extIDField, value)
	if err != nil {
		return UpsertResult{}, fmt.Errorf("salesforce: upsert %s: %w", sobject, err)
	}
	body := withoutAttributes(fields)
	for k := range body {
		// The key travels in the URL; like jsforce, do not repeat it.
		if strings.EqualFold(k, extIDField) || k == "Id" {
			delete(body, k)
		}
	}
	req, err := c.NewRequest(ctx, http.MethodPatch, path, body)
	if err != nil {
		return UpsertResult{}, err
	}
	var res SaveResult
	resp, err := c.Do(req, &res)
	if err != nil {
		return UpsertResult{}, fmt.Errorf("salesforce: upsert %s %s=%s: %w", sobject, extIDField, value, err)
	}
	out := UpsertResult{ID: res.ID, Created: resp.StatusCode == http.StatusCreated}
	if resp.StatusCode != http.StatusNoContent && !res.Success {
		return out, fmt.Errorf("salesforce: upsert %s %s=%s: %w", sobject, extIDField, value, res.Err())
	}
	return out, nil
}

// withoutAttributes copies a record's fields for a request body, dropping an
// "attributes" key the caller may have carried over from a read.
func withoutAttributes(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		if k != "attributes" {
			out[k] = v
		}
	}
	return out
}
