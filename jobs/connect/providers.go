package connect

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
)

// defaultLightspeedScopes are the Lightspeed scopes Tandem asks for:
// customers both ways, sales history with their shops, registers,
// employees and payments (register_read), and the items on sale lines.
var defaultLightspeedScopes = []string{"employee:customers", "employee:register_read", "employee:inventory_read"}

// Providers is how Tandem reaches the two services: the OAuth client
// registrations and the service URLs. The zero value of every URL means the
// real service; `tandem dev` and tests point them at the sandboxes.
type Providers struct {
	Lightspeed LightspeedProvider
	Salesforce SalesforceProvider
}

// LightspeedProvider is Tandem's Lightspeed Retail OAuth client.
type LightspeedProvider struct {
	ClientID     string // LIGHTSPEED_CLIENT_ID
	ClientSecret string // LIGHTSPEED_CLIENT_SECRET
	// AuthURL is the OAuth server's base; lightspeed.DefaultAuthURL when empty.
	AuthURL string
	// APIURL is the API's base; lightspeed.DefaultBaseURL when empty.
	APIURL string
	// Scopes requested; a customer-and-sales set when empty.
	Scopes []string
}

// SalesforceProvider is Tandem's Salesforce connected app.
type SalesforceProvider struct {
	ClientID     string // SALESFORCE_CLIENT_ID
	ClientSecret string // SALESFORCE_CLIENT_SECRET
	// ProductionLoginURL and SandboxLoginURL are the login hosts of the two
	// environment choices; salesforce.ProductionLoginURL and
	// salesforce.SandboxLoginURL when empty.
	ProductionLoginURL string
	SandboxLoginURL    string
	// MyDomainLoginURL turns what the merchant typed as their My Domain
	// into a login URL, or explains why it cannot be one;
	// salesforce.MyDomainLoginURL when nil. `tandem dev` validates with that
	// function and then answers the sandbox's URL, since no real My Domain
	// is reachable there.
	MyDomainLoginURL func(input string) (string, error)
	// APIVersion pinned for every call; salesforce.DefaultAPIVersion when
	// empty.
	APIVersion string
}

// WithDefaults fills the empty fields with the real services' values.
func (p Providers) WithDefaults() Providers {
	p.Lightspeed.AuthURL = cmp.Or(p.Lightspeed.AuthURL, lightspeed.DefaultAuthURL)
	p.Lightspeed.APIURL = cmp.Or(p.Lightspeed.APIURL, lightspeed.DefaultBaseURL)
	if len(p.Lightspeed.Scopes) == 0 {
		p.Lightspeed.Scopes = defaultLightspeedScopes
	}
	p.Salesforce.ProductionLoginURL = cmp.Or(p.Salesforce.ProductionLoginURL, salesforce.ProductionLoginURL)
	p.Salesforce.SandboxLoginURL = cmp.Or(p.Salesforce.SandboxLoginURL, salesforce.SandboxLoginURL)
	if p.Salesforce.MyDomainLoginURL == nil {
		p.Salesforce.MyDomainLoginURL = salesforce.MyDomainLoginURL
	}
	p.Salesforce.APIVersion = cmp.Or(p.Salesforce.APIVersion, salesforce.DefaultAPIVersion)
	return p
}

// Validate reports configuration that cannot work, naming the setting.
func (p Providers) Validate() error {
	for name, u := range map[string]string{
		"Lightspeed auth URL":         p.Lightspeed.AuthURL,
		"Lightspeed API URL":          p.Lightspeed.APIURL,
		"Salesforce production login": p.Salesforce.ProductionLoginURL,
		"Salesforce sandbox login":    p.Salesforce.SandboxLoginURL,
	} {
		if origin(u) == "" {
			return fmt.Errorf("connect: %s %q is not an absolute http(s) URL", name, u)
		}
	}
	return nil
}

// Configured reports whether the provider has a client id: without one
// its Connect button explains that the operator must set it.
func (p LightspeedProvider) Configured() bool { return p.ClientID != "" }

// Configured reports whether the connected app has a client id.
func (p SalesforceProvider) Configured() bool { return p.ClientID != "" }

// FormActionOrigins are the origins a Connect form may lead the browser to
// (its POST answers with a redirect to the provider's consent page), for the
// Content-Security-Policy form-action directive. My Domain login hosts are
// covered by a wildcard on the real service.
func (p Providers) FormActionOrigins() []string {
	p = p.WithDefaults()
	var out []string
	seen := map[string]bool{}
	add := func(o string) {
		if o != "" && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	add(origin(p.Lightspeed.AuthURL))
	add(origin(p.Salesforce.ProductionLoginURL))
	add(origin(p.Salesforce.SandboxLoginURL))
	if strings.HasSuffix(hostOf(p.Salesforce.ProductionLoginURL), ".salesforce.com") {
		add("https://*.my.salesforce.com")
	}
	return out
}

// LightspeedOAuth is Tandem's Lightspeed OAuth client for refreshing and
// revoking tokens outside a request (the worker's keep-alive); nil when no
// client id is configured.
func (p Providers) LightspeedOAuth() *lightspeed.Config {
	if !p.Lightspeed.Configured() {
		return nil
	}
	return p.LightspeedConfig("", nil, nil)
}

// LightspeedConfig is Tandem's Lightspeed OAuth client: redirectURL is the
// callback of an authorization (empty to refresh or revoke only), hc sends
// its calls (nil: http.DefaultClient) and now is its clock (nil: time.Now).
func (p Providers) LightspeedConfig(redirectURL string, hc *http.Client, now func() time.Time) *lightspeed.Config {
	lp := p.WithDefaults().Lightspeed
	return &lightspeed.Config{
		ClientID:     lp.ClientID,
		ClientSecret: lp.ClientSecret,
		Endpoint:     lightspeed.CurrentEndpoint(lp.AuthURL),
		Scopes:       lp.Scopes,
		RedirectURL:  redirectURL,
		HTTPClient:   hc,
		Now:          now,
	}
}

// SalesforceConfig is Tandem's connected app on loginURL (the production
// login when empty): redirectURL is the callback of an authorization (empty
// to refresh or revoke only), hc sends its calls.
func (p Providers) SalesforceConfig(loginURL, redirectURL string, hc *http.Client) *salesforce.OAuthConfig {
	sp := p.WithDefaults().Salesforce
	return &salesforce.OAuthConfig{
		ClientID:     sp.ClientID,
		ClientSecret: sp.ClientSecret,
		RedirectURL:  redirectURL,
		LoginURL:     cmp.Or(loginURL, sp.ProductionLoginURL),
		HTTPClient:   hc,
	}
}

// SalesforceOptions are the options of every Salesforce client Tandem
// builds: the pinned API version.
func (p Providers) SalesforceOptions() []salesforce.Option {
	return []salesforce.Option{salesforce.WithAPIVersion(p.WithDefaults().Salesforce.APIVersion)}
}

// origin returns scheme://host of an absolute http(s) URL, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
