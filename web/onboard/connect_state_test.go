package onboard_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants/vault"
	"github.com/tandemsync/tandem/web/onboard"
)

func TestFlowsTake(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	begin := func() onboard.Flows {
		var f onboard.Flows
		f.Begin(onboard.Pending{Provider: onboard.Lightspeed, State: "s1", Verifier: "v1", Started: t0})
		return onboard.DecodeFlows(f.Encode()) // through the session's form
	}
	tests := []struct {
		name     string
		flows    func() onboard.Flows
		provider string
		state    string
		at       time.Time
		want     onboard.Reason // "" for success
	}{
		{"ok", begin, onboard.Lightspeed, "s1", t0.Add(time.Minute), ""},
		{"ok at the limit", begin, onboard.Lightspeed, "s1", t0.Add(onboard.StateTTL), ""},
		{"expired", begin, onboard.Lightspeed, "s1", t0.Add(onboard.StateTTL + time.Second), onboard.ReasonStateExpired},
		{"wrong state", begin, onboard.Lightspeed, "s2", t0, onboard.ReasonStateMismatch},
		{"empty state", begin, onboard.Lightspeed, "", t0, onboard.ReasonStateMismatch},
		{"other provider", begin, onboard.Salesforce, "s1", t0, onboard.ReasonStateMissing},
		{"nothing started", func() onboard.Flows { return onboard.DecodeFlows("") }, onboard.Lightspeed, "s1", t0, onboard.ReasonStateMissing},
		{"garbage session value", func() onboard.Flows { return onboard.DecodeFlows("{not json") }, onboard.Lightspeed, "s1", t0, onboard.ReasonStateMissing},
		{"replayed", func() onboard.Flows {
			f := begin()
			if _, err := f.Take(onboard.Lightspeed, "s1", t0); err != nil {
				t.Fatal(err)
			}
			return onboard.DecodeFlows(f.Encode())
		}, onboard.Lightspeed, "s1", t0, onboard.ReasonStateReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := tt.flows()
			p, err := f.Take(tt.provider, tt.state, tt.at)
			if tt.want == "" {
				if err != nil || p.Verifier != "v1" {
					t.Fatalf("Take = %+v, %v", p, err)
				}
			} else {
				fl, ok := onboard.AsFailure(err)
				if !ok || fl.Reason != tt.want {
					t.Fatalf("Take error = %v; want reason %s", err, tt.want)
				}
				if fl.Title == "" || fl.Message == "" {
					t.Errorf("failure %s has no words", tt.want)
				}
			}
			// Whatever happened, the state is spent.
			if _, err := f.Take(tt.provider, tt.state, tt.at); err == nil {
				t.Error("a second Take succeeded")
			}
			if tt.provider == onboard.Lightspeed && strings.Contains(f.Encode(), `"s1"`) {
				t.Error("the session keeps the raw state after use")
			}
		})
	}
}

func TestFlowsUsedIsBounded(t *testing.T) {
	t.Parallel()
	var f onboard.Flows
	now := time.Now()
	for i := range 50 {
		s := fmt.Sprint("state-", i)
		f.Begin(onboard.Pending{Provider: onboard.Lightspeed, State: s, Started: now})
		if _, err := f.Take(onboard.Lightspeed, s, now); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.Used); n > 8 {
		t.Errorf("%d used states kept", n)
	}
}

func newService(t *testing.T, p connect.Providers) *onboard.Service {
	t.Helper()
	pool := dbtest.New(t)
	keys, err := vault.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := onboard.New(onboard.Config{Pool: pool, Vault: vault.New(pool, keys), Providers: p, BaseURL: "https://tandem.example"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStartAndEnvironments(t *testing.T) {
	t.Parallel()
	s := newService(t, connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: "ls-id"},
		Salesforce: connect.SalesforceProvider{ClientID: "sf-id"},
	})
	u, p, err := s.Start(onboard.StartRequest{TenantID: "t1", Provider: onboard.Lightspeed})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{lightspeed.DefaultAuthURL, "state=" + p.State, "code_challenge=", "redirect_uri=https%3A%2F%2Ftandem.example%2Fconnect%2Flightspeed%2Fcallback"} {
		if !strings.Contains(u, want) {
			t.Errorf("authorize URL %s lacks %q", u, want)
		}
	}
	if strings.Contains(u, p.Verifier) {
		t.Error("the PKCE verifier is in the authorize URL")
	}

	for _, tt := range []struct{ env, domain, login, field string }{
		{onboard.EnvProduction, "", salesforce.ProductionLoginURL, ""},
		{onboard.EnvSandbox, "", salesforce.SandboxLoginURL, ""},
		{onboard.EnvMyDomain, "acme", "https://acme.my.salesforce.com", ""},
		{onboard.EnvMyDomain, "acme.lightning.force.com", "", "my_domain"},
		{onboard.EnvMyDomain, " ", "", "my_domain"},
		{"elsewhere", "", "", "environment"},
	} {
		u, p, err := s.Start(onboard.StartRequest{TenantID: "t1", Provider: onboard.Salesforce, Environment: tt.env, MyDomain: tt.domain})
		if tt.field != "" {
			f, ok := onboard.AsFailure(err)
			if !ok || f.Reason != onboard.ReasonBadInput || f.Field != tt.field || f.Message == "" {
				t.Errorf("%s %q: err %v; want bad input on %s", tt.env, tt.domain, err, tt.field)
			}
			continue
		}
		if err != nil || p.LoginURL != tt.login || !strings.HasPrefix(u, tt.login+"/services/oauth2/authorize?") {
			t.Errorf("%s %q: %s, %+v, %v", tt.env, tt.domain, u, p, err)
		}
		env, dom := s.ReconnectChoice(p.LoginURL)
		if env != tt.env || (tt.env == onboard.EnvMyDomain && dom != "acme.my.salesforce.com") {
			t.Errorf("ReconnectChoice(%s) = %s %q", p.LoginURL, env, dom)
		}
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	s := newService(t, connect.Providers{})
	for _, p := range []string{onboard.Lightspeed, onboard.Salesforce} {
		_, _, err := s.Start(onboard.StartRequest{TenantID: "t1", Provider: p, Environment: onboard.EnvProduction})
		if f, ok := onboard.AsFailure(err); !ok || f.Reason != onboard.ReasonNotConfigured || !strings.Contains(f.Message, "_CLIENT_ID") {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestFormActionOrigins(t *testing.T) {
	t.Parallel()
	got := connect.Providers{}.FormActionOrigins()
	want := []string{"https://cloud.lightspeedapp.com", "https://login.salesforce.com", "https://test.salesforce.com", "https://*.my.salesforce.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("real services (-want +got):\n%s", diff)
	}
	dev := connect.Providers{
		Lightspeed: connect.LightspeedProvider{AuthURL: "http://127.0.0.1:8081"},
		Salesforce: connect.SalesforceProvider{ProductionLoginURL: "http://127.0.0.1:8082", SandboxLoginURL: "http://127.0.0.1:8082/"},
	}
	if diff := cmp.Diff([]string{"http://127.0.0.1:8081", "http://127.0.0.1:8082"}, dev.FormActionOrigins()); diff != "" {
		t.Errorf("dev (-want +got):\n%s", diff)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	keys, _ := vault.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	v := vault.New(pool, keys)
	for name, cfg := range map[string]onboard.Config{
		"no pool":     {Vault: v, BaseURL: "https://x"},
		"no base":     {Pool: pool, Vault: v},
		"bad API URL": {Pool: pool, Vault: v, BaseURL: "https://x", Providers: connect.Providers{Lightspeed: connect.LightspeedProvider{APIURL: "ftp://x"}}},
	} {
		if _, err := onboard.New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestFailureWrapsCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	f := &onboard.Failure{Provider: onboard.Lightspeed, Reason: onboard.ReasonDiscoveryFailed, Err: cause}
	if !errors.Is(fmt.Errorf("x: %w", f), cause) {
		t.Error("Failure does not unwrap to its cause")
	}
}
