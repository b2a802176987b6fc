package web_test

import (
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/web"
	"github.com/tandemsync/tandem/web/onboard"
)

// The web app's Lightspeed calls (discovery at connect) spend from the
// Limits it is given, the one cmd/tandem shares with the worker, not from a
// registry of its own.
func TestWebSpendsFromSharedLightspeedLimits(t *testing.T) {
	t.Parallel()
	limits := lightspeed.NewLimits(lightspeed.LimitsOptions{})
	prov := newProviders(t)
	clk := &clock{now: time.Now()}
	a := &connectApp{prov: prov, clock: clk, app: newApp(t, func(c *web.Config) {
		c.BaseURL = testBase
		c.Providers = prov.config()
		c.Now = clk.Now
		c.LightspeedLimits = limits
	})}
	b, _ := a.merchant("Shared Bucket")
	b.connect(onboard.Lightspeed)
	// The zero time drains nothing: the level is what discovery reserved.
	st, err := limits.Bucket(200001, "tandem-dev").State(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Level < 1 {
		t.Errorf("shared bucket level = %v after discovery, want the drips it spent", st.Level)
	}
}
