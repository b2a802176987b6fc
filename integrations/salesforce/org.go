package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Identity is the answer of the identity URL (the token's "id").
type Identity struct {
	ID             string            `json:"id"`
	UserID         string            `json:"user_id"`
	OrganizationID string            `json:"organization_id"`
	Username       string            `json:"username"`
	DisplayName    string            `json:"display_name"`
	NickName       string            `json:"nick_name"`
	Email          string            `json:"email"`
	Active         bool              `json:"active"`
	UserType       string            `json:"user_type"`
	Language       string            `json:"language"`
	Locale         string            `json:"locale"`
	URLs           map[string]string `json:"urls"`
}

// Identity reads the connected user and org from the token's identity URL.
// Tandem records OrganizationID as the connection's external account.
func (c *Client) Identity(ctx context.Context) (*Identity, error) {
	idURL := c.Token().ID
	u, err := url.Parse(idURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, fmt.Errorf("salesforce: identity: token has no usable identity URL")
	}
	req, err := c.NewRequest(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("version", c.version)
	u.RawQuery = q.Encode()
	req.URL = u
	req.Host = ""
	id := new(Identity)
	if _, err := c.Do(req, id); err != nil {
		return nil, fmt.Errorf("salesforce: identity: %w", err)
	}
	return id, nil
}

// UserInfo is the OpenID Connect userinfo answer.
type UserInfo struct {
	Sub               string            `json:"sub"`
	UserID            string            `json:"user_id"`
	OrganizationID    string            `json:"organization_id"`
	PreferredUsername string            `json:"preferred_username"`
	Name              string            `json:"name"`
	Email             string            `json:"email"`
	URLs              map[string]string `json:"urls"`
}

// UserInfo reads /services/oauth2/userinfo on the instance.
func (c *Client) UserInfo(ctx context.Context) (*UserInfo, error) {
	ui := new(UserInfo)
	if err := c.get(ctx, "userinfo", "/services/oauth2/userinfo", ui); err != nil {
		return nil, err
	}
	return ui, nil
}

// Limit is one entry of the limits resource.
type Limit struct {
	Max       int `json:"Max"`
	Remaining int `json:"Remaining"`
}

// Limits reads the org's limits (DailyApiRequests, DailyBulkApiBatches, …).
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	var out map[string]Limit
	if err := c.get(ctx, "limits", "limits", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Version is one entry of GET /services/data/.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the API versions the instance serves.
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	var out []Version
	if err := c.get(ctx, "versions", "/services/data/", &out); err != nil {
		return nil, err
	}
	return out, nil
}
