package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/web/onboard"
	"github.com/tandemsync/tandem/web/ui"
)

// stateLabels are how screens describe each connection state.
var stateLabels = map[string]string{
	onboard.StateNotConnected: "not connected",
	onboard.StateConnected:    "connected",
	onboard.StateNeedsReauth:  "needs to be reconnected",
	onboard.StateDisconnected: "disconnected",
}

// connectPage is the view of one provider's connection page.
func (s *Server) connectPage(c echo.Context, v onboard.ConnectionView, edit bool) ui.ConnectPage {
	name := onboard.ProviderName(v.Provider)
	p := ui.ConnectPage{
		Provider: v.Provider, Name: name, State: v.State, CanEdit: edit,
		BackURL: s.url(routeDashboard),
	}
	csrf := ""
	if edit {
		csrf = s.csrfToken(c)
	}
	start := s.url(routeConnectStart(v.Provider))
	switch v.State {
	case onboard.StateConnected:
		p.Heading = "Connected to " + v.AccountName
		if sd := salesforceDiscovery(v); sd != nil {
			p.Heading += " as " + sd.UserName
		}
		p.Refresh = &ui.ConnectForm{Action: s.url(routeConnectRefresh(v.Provider)), CSRF: csrf, Label: "Refresh from " + name, Secondary: true, TestID: "refresh"}
		p.Disconnect = &ui.ConnectForm{Action: s.url(routeConnectDrop(v.Provider)), CSRF: csrf, Label: "Disconnect", Secondary: true, TestID: "disconnect"}
	case onboard.StateNeedsReauth:
		p.Heading = name + " needs to be reconnected"
		// The stored reason carries the provider's error chain, meant for
		// support (the staff console shows it); the merchant gets words.
		p.Reason = reauthMessage(v.Provider) + " Reconnect to continue; your settings are kept."
		p.Disconnect = &ui.ConnectForm{Action: s.url(routeConnectDrop(v.Provider)), CSRF: csrf, Label: "Disconnect", Secondary: true, TestID: "disconnect"}
	case onboard.StateDisconnected:
		p.Heading = "Connect " + name
		p.Intro = fmt.Sprintf("Disconnected from %s. Reconnect the same account to pick up where you left off; your settings and history are kept.", v.AccountName)
	default:
		p.Heading = "Connect " + name
		p.Intro = connectIntro(v.Provider)
	}
	configured := s.onboard.Providers().Lightspeed.Configured()
	if v.Provider == onboard.Salesforce {
		configured = s.onboard.Providers().Salesforce.Configured()
	}
	if !configured && v.State != onboard.StateConnected {
		p.NotConfigured = fmt.Sprintf("Connecting %s is not possible yet: the operator of this Tandem server has not set %s_CLIENT_ID and %s_CLIENT_SECRET.", name, strings.ToUpper(v.Provider), strings.ToUpper(v.Provider))
	}
	if configured {
		verb := "Connect "
		if v.State != onboard.StateNotConnected {
			verb = "Reconnect "
		}
		// Connected too: reconnecting renews the grant (or, with a
		// confirmed reset, moves to another account).
		if v.Provider == onboard.Lightspeed {
			p.Connect = &ui.ConnectForm{Action: start, CSRF: csrf, Label: verb + name, TestID: "connect", Secondary: v.State == onboard.StateConnected}
		} else {
			env, dom := s.onboard.ReconnectChoice(v.LoginHost)
			p.Environment = &ui.EnvironmentForm{Action: start, CSRF: csrf, Environment: env, MyDomain: dom, Submit: verb + name,
				Secondary: v.State == onboard.StateConnected}
		}
	}
	if d := v.Discovery; d != nil && v.State == onboard.StateConnected {
		p.DiscoveredAt = "on " + d.DiscoveredAt.UTC().Format("2 Jan 2006 at 15:04 UTC")
		p.APICalls = d.APICalls
		if ld := d.Lightspeed; ld != nil {
			shops, regs, emps := ld.Counts()
			p.Facts = []ui.Fact{
				{Label: "Account", Value: fmt.Sprintf("%s (#%d)", ld.AccountName, ld.AccountID)},
				{Label: "Found", Value: fmt.Sprintf("%s, %s, %s (archived ones are not counted)", plural(shops, "store"), plural(regs, "register"), plural(emps, "active employee"))},
			}
			p.Shops = shopLines(ld)
			var pts, cfs []string
			for _, pt := range ld.PaymentTypes {
				pts = append(pts, pt.Name)
			}
			for _, cf := range ld.CustomerFields {
				cfs = append(cfs, cf.Name)
			}
			p.Lists = []ui.Fact{
				{Label: "Payment types", Value: listOrNone(pts)},
				{Label: "Customer custom fields", Value: listOrNone(cfs)},
			}
		}
		if sd := d.Salesforce; sd != nil {
			p.Facts = salesforceFacts(sd)
		}
	}
	return p
}

// shopLines are the per-store rows of the connect page. Each active
// employee is counted once, so the rows add up to the total above them: in
// the store they are limited to, or in a last row for those who may work in
// any store (Lightspeed lists only active employees; archived ones are not
// counted anywhere).
func shopLines(ld *setup.LightspeedDiscovery) []ui.ShopLine {
	limited := map[int64]int{}
	anyStore := 0
	known := map[int64]bool{}
	for _, sh := range ld.Shops {
		known[sh.ID] = true
	}
	for _, e := range ld.Employees {
		if e.LimitToShopID != 0 && known[e.LimitToShopID] {
			limited[e.LimitToShopID]++
		} else {
			anyStore++
		}
	}
	lines := make([]ui.ShopLine, 0, len(ld.Shops)+1)
	for _, sh := range ld.Shops {
		lines = append(lines, ui.ShopLine{Name: sh.Name, Registers: sh.Registers, Employees: limited[sh.ID]})
	}
	if anyStore > 0 {
		lines = append(lines, ui.ShopLine{Name: "Any store (employees not limited to one)", Employees: anyStore, AllStores: true})
	}
	return lines
}

func salesforceDiscovery(v onboard.ConnectionView) *setup.SalesforceDiscovery {
	if v.Discovery == nil {
		return nil
	}
	return v.Discovery.Salesforce
}

func salesforceFacts(sd *setup.SalesforceDiscovery) []ui.Fact {
	edition := sd.Edition
	if edition == "" {
		edition = "not reported by the org"
	}
	if sd.IsSandbox {
		edition += " (sandbox)"
	}
	persons := "off: customers become Contacts"
	if sd.PersonAccounts {
		persons = "on: customers can be Person Accounts or Contacts"
	}
	usage := "not reported yet"
	if sd.APIMax > 0 {
		usage = fmt.Sprintf("%d of %d API calls used in the last 24 hours (%d%%)", sd.APIUsed, sd.APIMax, sd.APIUsed*100/sd.APIMax)
	}
	var objs []string
	for _, o := range sd.Objects {
		objs = append(objs, o.Name)
	}
	facts := []ui.Fact{
		{Label: "Org", Value: fmt.Sprintf("%s (%s)", sd.OrgName, sd.OrgID)},
		{Label: "Connected as", Value: fmt.Sprintf("%s (%s)", sd.UserName, sd.Username)},
		{Label: "Edition", Value: edition},
		{Label: "Person accounts", Value: persons},
		{Label: "API usage today", Value: usage},
		{Label: "Instance", Value: sd.InstanceURL},
		{Label: "Signed in through", Value: sd.LoginHost},
		{Label: "Objects Tandem can write", Value: listOrNone(objs)},
	}
	if len(sd.MissingObjects) > 0 {
		facts = append(facts, ui.Fact{Label: "Not available to this user", Value: strings.Join(sd.MissingObjects, ", ")})
	}
	return facts
}

// reauthMessage says why a connection needs the merchant, in their words;
// the vault's stored reason (the provider's refusal) is a detail.
func reauthMessage(p string) string {
	return onboard.ProviderName(p) + " no longer accepts Tandem's access: it was revoked or expired, or the password of the user who connected it changed."
}

func connectIntro(p string) string {
	if p == onboard.Lightspeed {
		return "Tandem keeps your customers in step both ways between Lightspeed Retail and Salesforce, and reads your stores and sales from Lightspeed. You will sign in at Lightspeed and approve access; Tandem never sees your password."
	}
	return "Tandem keeps your customers in step both ways between Salesforce and Lightspeed Retail, and writes your sales to Salesforce. Choose where your org is, then sign in at Salesforce and approve access; Tandem never sees your password."
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// connectionCard is the dashboard card of one provider.
func (s *Server) connectionCard(c echo.Context, v onboard.ConnectionView, edit bool) ui.ConnectionCard {
	name := onboard.ProviderName(v.Provider)
	card := ui.ConnectionCard{Provider: v.Provider, Name: name, State: v.State, Label: stateLabels[v.State], PageURL: s.url(routeConnect(v.Provider))}
	if v.AccountName != "" && v.State == onboard.StateConnected {
		card.Summary = "Connected to " + v.AccountName
		if d := v.Discovery; d != nil && d.Lightspeed != nil {
			shops, regs, emps := d.Lightspeed.Counts()
			card.Summary += fmt.Sprintf(": %s, %s, %s", plural(shops, "store"), plural(regs, "register"), plural(emps, "active employee"))
		}
		if sd := salesforceDiscovery(v); sd != nil {
			card.Summary += " as " + sd.UserName
			if sd.APIMax > 0 {
				card.Summary += fmt.Sprintf("; API usage %d of %d today", sd.APIUsed, sd.APIMax)
			}
		}
	}
	if !edit {
		return card
	}
	csrf := s.csrfToken(c)
	verb := "Connect "
	if v.State == onboard.StateNeedsReauth || v.State == onboard.StateDisconnected {
		verb = "Reconnect "
	}
	switch {
	case v.State == onboard.StateConnected:
		card.Actions = append(card.Actions, ui.ConnectForm{Action: s.url(routeConnectDrop(v.Provider)), CSRF: csrf, Label: "Disconnect", Secondary: true, TestID: "disconnect-" + v.Provider})
	case v.Provider == onboard.Lightspeed:
		card.Actions = append(card.Actions, ui.ConnectForm{Action: s.url(routeConnectStart(v.Provider)), CSRF: csrf, Label: verb + name, TestID: "connect-" + v.Provider})
	case v.State == onboard.StateNeedsReauth:
		card.Actions = append(card.Actions, s.reconnectForm(c, v))
	default:
		card.LinkLabel, card.LinkURL = verb+name, s.url(routeConnect(v.Provider))
	}
	return card
}

// reconnectForm is the one-click Reconnect of a connection: Salesforce
// goes back through the login host it was made with.
func (s *Server) reconnectForm(c echo.Context, v onboard.ConnectionView) ui.ConnectForm {
	f := ui.ConnectForm{Action: s.url(routeConnectStart(v.Provider)), CSRF: s.csrfToken(c), Label: "Reconnect " + onboard.ProviderName(v.Provider), TestID: "reconnect-" + v.Provider}
	if v.Provider == onboard.Salesforce {
		env, dom := s.onboard.ReconnectChoice(v.LoginHost)
		f.Hidden = []ui.HiddenField{{Name: "environment", Value: env}, {Name: "my_domain", Value: dom}}
	}
	return f
}

// home builds the dashboard's connection cards, banners and locations.
func (s *Server) home(c echo.Context, tenantID string, edit bool) (ui.Home, error) {
	o, err := s.onboard.Overview(c.Request().Context(), tenantID)
	if err != nil {
		return ui.Home{}, err
	}
	var h ui.Home
	for _, v := range []onboard.ConnectionView{o.Lightspeed, o.Salesforce} {
		h.Cards = append(h.Cards, s.connectionCard(c, v, edit))
		if v.State == onboard.StateNeedsReauth {
			b := ui.ReconnectBanner{Provider: v.Provider, Name: onboard.ProviderName(v.Provider),
				Reason: reauthMessage(v.Provider) + " Your settings are kept."}
			if edit {
				f := s.reconnectForm(c, v)
				b.Reconnect = &f
			}
			h.Banners = append(h.Banners, b)
		}
	}
	for _, l := range o.Locations {
		h.Locations = append(h.Locations, locationState(l, o.Lightspeed.State))
	}
	return h, nil
}

// locationState is a store's line on the dashboard: whether the merchant
// turned its sync on, never whether anything synced (the Sync section
// reports runs). A store turned on whose Lightspeed connection is broken or
// gone says so instead of showing a healthy badge.
func locationState(l setup.Location, lightspeed string) ui.LocationState {
	ls := ui.LocationState{ShopID: l.ShopID, Name: l.Name, New: l.New, State: "off", Label: "Off"}
	switch {
	case !l.Enabled:
	case lightspeed == onboard.StateConnected:
		ls.State, ls.Label = "enabled", "Sync on"
	case lightspeed == onboard.StateNeedsReauth:
		ls.State, ls.Label = "needs_reauth", "Sync on, paused: Lightspeed needs to be reconnected"
	default:
		ls.State, ls.Label = "disconnected", "Sync on, paused: Lightspeed is disconnected"
	}
	return ls
}
