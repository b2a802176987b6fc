package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Composite and Composite Graph limits.
const (
	MaxCompositeSubrequests = 25
	MaxGraphs               = 75
	MaxGraphNodes           = 500
)

// Subrequest is one step of a Composite or Composite Graph request.
type Subrequest struct {
	// Method is GET, POST, PATCH, PUT or DELETE.
	Method string `json:"method"`
	// URL is relative to the versioned REST root ("sobjects/Contact") or a
	// full "/services/data/..." path; "@{ref.id}" references earlier steps.
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// SubResponse is the outcome of one Subrequest.
type SubResponse struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

// Err returns the subrequest's failure as an *APIError, or nil for a 2xx.
// A 300 (an upsert whose external ID matched several records) is
// MULTIPLE_CHOICES with the matching record URLs in Matches, as from Do.
func (r SubResponse) Err() error {
	if r.HTTPStatusCode/100 == 2 {
		return nil
	}
	if r.HTTPStatusCode == http.StatusMultipleChoices {
		e := &APIError{StatusCode: r.HTTPStatusCode, Method: "subrequest", Path: r.ReferenceID,
			ErrorCode: CodeMultipleChoices, Message: "the external ID matches more than one record"}
		json.Unmarshal(r.Body, &e.Matches)
		return e
	}
	return newAPIError("subrequest", r.ReferenceID, r.HTTPStatusCode, r.Body)
}

// ID returns the "id" of a create or upsert subresponse body, or "".
func (r SubResponse) ID() string {
	var v struct {
		ID string `json:"id"`
	}
	json.Unmarshal(r.Body, &v)
	return v.ID
}

// CompositeRequest is the body of POST /composite.
type CompositeRequest struct {
	AllOrNone          bool         `json:"allOrNone"`
	CollateSubrequests bool         `json:"collateSubrequests"`
	Requests           []Subrequest `json:"compositeRequest"`
}

var refIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)

func (c *Client) prepareSubrequests(reqs []Subrequest) ([]Subrequest, error) {
	out := make([]Subrequest, len(reqs))
	seen := make(map[string]bool, len(reqs))
	for i, r := range reqs {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		default:
			return nil, fmt.Errorf("subrequest %d: method %q is not GET, POST, PATCH, PUT or DELETE", i, r.Method)
		}
		if !refIDRE.MatchString(r.ReferenceID) {
			return nil, fmt.Errorf("subrequest %d: reference id %q must start with a letter or digit and hold only letters, digits and _", i, r.ReferenceID)
		}
		if seen[r.ReferenceID] {
			return nil, fmt.Errorf("subrequest %d: duplicate reference id %q", i, r.ReferenceID)
		}
		seen[r.ReferenceID] = true
		for h := range r.HTTPHeaders {
			switch strings.ToLower(h) {
			case "accept", "authorization", "content-type":
				return nil, fmt.Errorf("subrequest %d: header %s is inherited and must not be set", i, h)
			}
		}
		if r.URL == "" {
			return nil, fmt.Errorf("subrequest %d: empty url", i)
		}
		if !strings.HasPrefix(r.URL, "/") {
			r.URL = c.dataPath() + "/" + r.URL
		}
		out[i] = r
	}
	return out, nil
}

// Composite runs up to 25 dependent subrequests in one API call and returns
// their responses in order. The call itself succeeds (200) even when
// subrequests fail; check each SubResponse.Err. With AllOrNone, one failure
// rolls back all, and the others report PROCESSING_HALTED.
func (c *Client) Composite(ctx context.Context, cr CompositeRequest) ([]SubResponse, error) {
	if n := len(cr.Requests); n == 0 || n > MaxCompositeSubrequests {
		return nil, fmt.Errorf("salesforce: composite: %d subrequests, want 1 to %d", n, MaxCompositeSubrequests)
	}
	reqs, err := c.prepareSubrequests(cr.Requests)
	if err != nil {
		return nil, fmt.Errorf("salesforce: composite: %w", err)
	}
	cr.Requests = reqs
	req, err := c.NewRequest(ctx, http.MethodPost, "composite", cr)
	if err != nil {
		return nil, err
	}
	var out struct {
		CompositeResponse []SubResponse `json:"compositeResponse"`
	}
	if _, err := c.Do(req, &out); err != nil {
		return nil, fmt.Errorf("salesforce: composite: %w", err)
	}
	return out.CompositeResponse, nil
}

// Graph is one all-or-nothing graph of a Composite Graph request: a sale
// and its lines and payments, for example.
type Graph struct {
	GraphID  string       `json:"graphId"`
	Requests []Subrequest `json:"compositeRequest"`
}

// GraphResult is the outcome of one Graph.
type GraphResult struct {
	GraphID      string
	IsSuccessful bool
	Responses    []SubResponse
}

// Err returns nil for a successful graph, else the first real failure
// (skipping the PROCESSING_HALTED answers of the steps it rolled back).
func (g GraphResult) Err() error {
	if g.IsSuccessful {
		return nil
	}
	var halted error
	for _, r := range g.Responses {
		err := r.Err()
		if err == nil {
			continue
		}
		if e, ok := err.(*APIError); ok && e.ErrorCode == CodeProcessingHalted {
			halted = err
			continue
		}
		return fmt.Errorf("graph %s: %w", g.GraphID, err)
	}
	if halted != nil {
		return fmt.Errorf("graph %s: %w", g.GraphID, halted)
	}
	return fmt.Errorf("graph %s failed without an error", g.GraphID)
}

// CompositeGraph runs graphs (each all-or-nothing) in one API call.
func (c *Client) CompositeGraph(ctx context.Context, graphs []Graph) ([]GraphResult, error) {
	if n := len(graphs); n == 0 || n > MaxGraphs {
		return nil, fmt.Errorf("salesforce: composite graph: %d graphs, want 1 to %d", n, MaxGraphs)
	}
	nodes := 0
	body := struct {
		Graphs []Graph `json:"graphs"`
	}{Graphs: make([]Graph, len(graphs))}
	ids := make(map[string]bool, len(graphs))
	for i, g := range graphs {
		if g.GraphID == "" || ids[g.GraphID] {
			return nil, fmt.Errorf("salesforce: composite graph: graph %d: empty or duplicate graph id %q", i, g.GraphID)
		}
		ids[g.GraphID] = true
		nodes += len(g.Requests)
		if len(g.Requests) == 0 || nodes > MaxGraphNodes {
			return nil, fmt.Errorf("salesforce: composite graph: graph %s: %d nodes (at most %d per payload, at least 1 per graph)", g.GraphID, len(g.Requests), MaxGraphNodes)
		}
		reqs, err := c.prepareSubrequests(g.Requests)
		if err != nil {
			return nil, fmt.Errorf("salesforce: composite graph: graph %s: %w", g.GraphID, err)
		}
		body.Graphs[i] = Graph{GraphID: g.GraphID, Requests: reqs}
	}
	req, err := c.NewRequest(ctx, http.MethodPost, "composite/graph", body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Graphs []struct {
			GraphID       string `json:"graphId"`
			IsSuccessful  bool   `json:"isSuccessful"`
			GraphResponse struct {
				CompositeResponse []SubResponse `json:"compositeResponse"`
			} `json:"graphResponse"`
		} `json:"graphs"`
	}
	if _, err := c.Do(req, &out); err != nil {
		return nil, fmt.Errorf("salesforce: composite graph: %w", err)
	}
	res := make([]GraphResult, len(out.Graphs))
	for i, g := range out.Graphs {
		res[i] = GraphResult{GraphID: g.GraphID, IsSuccessful: g.IsSuccessful, Responses: g.GraphResponse.CompositeResponse}
	}
	return res, nil
}
