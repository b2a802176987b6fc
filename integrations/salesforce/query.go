package salesforce

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// QueryOptions tune a SOQL query.
type QueryOptions struct {
	// BatchSize asks for pages of this many records
	// (Sforce-Query-Options: batchSize, 200 to 2000). It is a hint: pages may
	// be shorter, and the iterator never infers the end from a page's size.
	BatchSize int
}

// QueryPage is one page of a query result.
type QueryPage struct {
	TotalSize      int      `json:"totalSize"`
	Done           bool     `json:"done"`
	NextRecordsURL string   `json:"nextRecordsUrl"`
	Records        []Record `json:"records"`
}

// Query runs a SOQL query and yields its records across every page,
// following nextRecordsUrl exactly as the API sends it. Iteration stops at
// the first error, which is yielded with a zero Record. Breaking out of the
// loop early costs no further calls.
//
// A query locator belongs to the session that opened it: once the access
// token is refreshed mid-query (here or, with rotation, by another
// process), the next page is refused with INVALID_SESSION_ID or
// INVALID_QUERY_LOCATOR. The query is then run again from its first page
// with the new session, so records already yielded may be yielded again;
// a cursor sync de-duplicates by Id and SystemModstamp anyway.
func (c *Client) Query(ctx context.Context, soql string, opts *QueryOptions) iter.Seq2[Record, error] {
	return c.queryIter(ctx, "query", soql, opts)
}

// QueryAll is Query including deleted and archived records (IsDeleted).
func (c *Client) QueryAll(ctx context.Context, soql string, opts *QueryOptions) iter.Seq2[Record, error] {
	return c.queryIter(ctx, "queryAll", soql, opts)
}

// ToolingQuery runs a SOQL query against the Tooling API (for example over
// CustomField or EntityDefinition).
func (c *Client) ToolingQuery(ctx context.Context, soql string, opts *QueryOptions) iter.Seq2[Record, error] {
	return c.queryIter(ctx, "tooling/query", soql, opts)
}

// QueryInto runs Query and decodes each record into a T (a struct with
// json tags matching the API names).
func QueryInto[T any](ctx context.Context, c *Client, soql string, opts *QueryOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for rec, err := range c.Query(ctx, soql, opts) {
			var v T
			if err == nil {
				if err = rec.Decode(&v); err != nil {
					err = fmt.Errorf("salesforce: query: decode %s record %s: %w", rec.Type, rec.ID(), err)
				}
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// QueryPage fetches one page: the first page of soql when next is empty,
// else the page at next (a nextRecordsUrl).
func (c *Client) QueryPage(ctx context.Context, soql, next string, opts *QueryOptions) (*QueryPage, error) {
	return c.queryPage(ctx, "query", soql, next, opts)
}

func (c *Client) queryPage(ctx context.Context, resource, soql, next string, opts *QueryOptions) (*QueryPage, error) {
	path := resource + "?q=" + url.QueryEscape(soql)
	if next != "" {
		if !strings.HasPrefix(next, "/services/") {
			return nil, fmt.Errorf("salesforce: %s: nextRecordsUrl %q is not an API path", resource, next)
		}
		path = next
	}
	req, err := c.NewRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.BatchSize > 0 {
		req.Header.Set("Sforce-Query-Options", "batchSize="+strconv.Itoa(opts.BatchSize))
	}
	var page QueryPage
	if _, err := c.Do(req, &page); err != nil {
		// The SOQL may hold customer data; the error names only the resource.
		return nil, fmt.Errorf("salesforce: %s: %w", resource, err)
	}
	return &page, nil
}

func (c *Client) queryIter(ctx context.Context, resource, soql string, opts *QueryOptions) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if strings.TrimSpace(soql) == "" {
			yield(Record{}, fmt.Errorf("salesforce: %s: empty SOQL", resource))
			return
		}
		next, session, restarts := "", "", 0
		for {
			page, err := c.queryPage(ctx, resource, soql, next, opts)
			if err != nil {
				if next != "" && restarts < maxQueryRestarts && locatorLost(err) && c.Token().AccessToken != session {
					next = ""
					restarts++
					continue
				}
				yield(Record{}, err)
				return
			}
			if next == "" {
				// The session the locator now belongs to.
				session = c.Token().AccessToken
			}
			for _, r := range page.Records {
				if !yield(r, nil) {
					return
				}
			}
			if page.Done {
				return
			}
			if page.NextRecordsURL == "" {
				yield(Record{}, fmt.Errorf("salesforce: %s: page is not done but has no nextRecordsUrl", resource))
				return
			}
			next = page.NextRecordsURL
		}
	}
}

// maxQueryRestarts bounds how often one query starts over because the
// session that owned its locator was replaced.
const maxQueryRestarts = 3

// locatorLost reports a next-page refusal that a new session causes: the
// API does not let one session resume another's query locator.
func locatorLost(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode == http.StatusUnauthorized && ae.ErrorCode == CodeInvalidSessionID ||
		ae.HasCode(CodeInvalidQueryLocator)
}

// Count runs a SELECT COUNT() query and returns totalSize.
func (c *Client) Count(ctx context.Context, soql string) (int, error) {
	page, err := c.queryPage(ctx, "query", soql, "", nil)
	if err != nil {
		return 0, err
	}
	return page.TotalSize, nil
}
