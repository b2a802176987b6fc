package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/web/onboard"
	"github.com/tandemsync/tandem/web/ui"
)

// Setup wizard routes: the steps after both connections, each a page and a
// form posting back to it.
const (
	routeSetup                = "setup"
	routeSetupFields          = "setup.fields"
	routeSetupFieldsCheck     = "setup.fields.check"
	routeSetupFieldsCreate    = "setup.fields.create"
	routeSetupModel           = "setup.model"
	routeSetupModelSubmit     = "setup.model.submit"
	routeSetupLocations       = "setup.locations"
	routeSetupLocationsSubmit = "setup.locations.submit"
	routeSetupHistory         = "setup.history"
	routeSetupHistorySubmit   = "setup.history.submit"
)

// setupRoutes registers the setup wizard. Everyone in the tenant may look;
// the forms check the role themselves (viewers are refused with 403).
func (s *Server) setupRoutes(e *echo.Echo) {
	e.GET("/setup", s.showSetup, s.requireUser).Name = routeSetup
	e.GET("/setup/salesforce-fields", s.showSetupFields, s.requireUser).Name = routeSetupFields
	e.POST("/setup/salesforce-fields/check", s.recheckSetupFields, s.requireUser).Name = routeSetupFieldsCheck
	e.POST("/setup/salesforce-fields/create", s.createSetupFields, s.requireUser).Name = routeSetupFieldsCreate
	e.GET("/setup/model", s.showSetupModel, s.requireUser).Name = routeSetupModel
	e.POST("/setup/model", s.saveSetupModel, s.requireUser).Name = routeSetupModelSubmit
	e.GET("/setup/locations", s.showSetupLocations, s.requireUser).Name = routeSetupLocations
	e.POST("/setup/locations", s.saveSetupLocations, s.requireUser).Name = routeSetupLocationsSubmit
	e.GET("/setup/history", s.showSetupHistory, s.requireUser).Name = routeSetupHistory
	e.POST("/setup/history", s.saveSetupHistory, s.requireUser).Name = routeSetupHistorySubmit
}

// setupState is what every setup page needs about the current tenant.
type setupState struct {
	tenantID string
	canEdit  bool
	actor    tenants.Actor
	conns    map[tenants.Provider]tenants.ConnectionStatus
	settings setup.Settings
	locs     []setup.Location
}

func (st *setupState) connected(p tenants.Provider) bool {
	return st.conns[p] == tenants.StatusConnected
}

func (st *setupState) progressState() onboard.State {
	enabled := 0
	for _, l := range st.locs {
		if l.Enabled {
			enabled++
		}
	}
	return onboard.State{
		LightspeedConnected: st.connected(tenants.ProviderLightspeed),
		SalesforceConnected: st.connected(tenants.ProviderSalesforce),
		Settings:            st.settings,
		EnabledLocations:    enabled,
	}
}

// errNoTenant is a logged-in user with no business (support staff): setup
// has nothing to show them.
var errNoTenant = errors.New("web: user belongs to no tenant")

// loadSetup reads the current tenant's connections, settings and
// locations. A state-changing request by a viewer is refused here with 403.
func (s *Server) loadSetup(c echo.Context) (*setupState, error) {
	u := currentUser(c)
	cur, _, ok, err := s.currentTenant(c, u)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoTenant
	}
	c.Set(ctxTenant, cur.TenantName)
	st := &setupState{
		tenantID: cur.TenantID,
		canEdit:  cur.Role == tenants.RoleOwner || cur.Role == tenants.RoleAdmin,
		actor:    tenants.Actor{UserID: u.ID, Email: u.Email, IP: c.RealIP()},
		conns:    map[tenants.Provider]tenants.ConnectionStatus{},
	}
	if c.Request().Method != http.MethodGet && !st.canEdit {
		return nil, &echo.HTTPError{Code: http.StatusForbidden, Message: "setup is read-only for viewers",
			Internal: fmt.Errorf("web: %s may not change setup of tenant %s (role %s)", u.ID, cur.TenantID, cur.Role)}
	}
	ctx := c.Request().Context()
	conns, err := s.tenants.Connections(ctx, cur.TenantID)
	if err != nil {
		return nil, err
	}
	for _, cn := range conns {
		st.conns[cn.Provider] = cn.Status
	}
	store := s.setupStore()
	if st.settings, err = store.Settings(ctx, cur.TenantID); err != nil {
		return nil, err
	}
	if st.locs, err = store.Locations(ctx, cur.TenantID); err != nil {
		return nil, err
	}
	return st, nil
}

// withSetup runs h with the setup state, sending users without a business
// to the dashboard (which explains).
func (s *Server) withSetup(c echo.Context, h func(*setupState) error) error {
	st, err := s.loadSetup(c)
	if errors.Is(err, errNoTenant) {
		return redirect(c, s.url(routeDashboard))
	}
	if err != nil {
		return err
	}
	return h(st)
}

// stepInfo is how the wizard names and links each step.
func (s *Server) stepInfo(step onboard.Step) (label, url string) {
	switch step {
	case onboard.StepConnectLightspeed:
		return "Connect Lightspeed", s.url(routeConnect(onboard.Lightspeed))
	case onboard.StepConnectSalesforce:
		return "Connect Salesforce", s.url(routeConnect(onboard.Salesforce))
	case onboard.StepSalesforceFields:
		return "Salesforce setup check", s.url(routeSetupFields)
	case onboard.StepDataModel:
		return "Data model", s.url(routeSetupModel)
	case onboard.StepLocations:
		return "Locations", s.url(routeSetupLocations)
	case onboard.StepHistory:
		return "Sales history", s.url(routeSetupHistory)
	}
	return string(step), ""
}

// setupProgress returns the onboarding progress of tenantID for the
// dashboard, which draws it with ui.SetupProgress.
func (s *Server) setupProgress(ctx context.Context, tenantID string) (ui.SetupProgressView, error) {
	conns, err := s.tenants.Connections(ctx, tenantID)
	if err != nil {
		return ui.SetupProgressView{}, err
	}
	st := &setupState{tenantID: tenantID, conns: map[tenants.Provider]tenants.ConnectionStatus{}}
	for _, cn := range conns {
		st.conns[cn.Provider] = cn.Status
	}
	store := s.setupStore()
	if st.settings, err = store.Settings(ctx, tenantID); err != nil {
		return ui.SetupProgressView{}, err
	}
	if st.locs, err = store.Locations(ctx, tenantID); err != nil {
		return ui.SetupProgressView{}, err
	}
	return s.progressView(st, ""), nil
}

func (s *Server) progressView(st *setupState, current onboard.Step) ui.SetupProgressView {
	steps := onboard.Progress(st.progressState())
	v := ui.SetupProgressView{MappingURL: s.url(routeMapping)}
	for _, ss := range steps {
		label, url := s.stepInfo(ss.Step)
		item := ui.SetupStep{Key: string(ss.Step), Label: label, URL: url, Done: ss.Done, Current: ss.Step == current}
		if ss.Blocked && !ss.Done {
			ls, _ := ss.Step.Needs()
			item.Blocked = "Connect Salesforce first."
			if ls {
				item.Blocked = "Connect Lightspeed first."
			}
		}
		v.Steps = append(v.Steps, item)
	}
	next, ok := onboard.Next(steps)
	switch {
	case !ok:
		v.Complete = true
	case next != current:
		label, url := s.stepInfo(next)
		v.NextURL, v.NextLabel = url, "Next: "+label
	}
	return v
}

// continueSetup follows a saved step: to the next step not done with msg,
// or, when that was the last one, to the dashboard saying setup is complete.
func (s *Server) continueSetup(c echo.Context, st *setupState, msg string) error {
	// The streams follow the setup: created once it is finished, a sales
	// stream per enabled store, a store turned off losing its stream.
	if err := jobs.EnsureStreams(c.Request().Context(), s.pool, st.tenantID); err != nil {
		return err
	}
	next, ok := onboard.Next(onboard.Progress(st.progressState()))
	to := s.url(routeDashboard)
	if ok {
		_, to = s.stepInfo(next)
		addFlash(c, ui.FlashSuccess, msg)
	} else {
		addFlash(c, ui.FlashSuccess, msg+" "+setupCompleteMessage)
	}
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, to)
}

// setupCompleteMessage closes the wizard.
const setupCompleteMessage = "Setup is complete. Tandem has everything it needs to sync."

// showSetup sends the merchant to the first step not done (the connect
// steps are the connect pages); a finished setup goes to the dashboard.
func (s *Server) showSetup(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		next, ok := onboard.Next(onboard.Progress(st.progressState()))
		if !ok {
			addFlash(c, ui.FlashSuccess, setupCompleteMessage)
			if err := s.saveSession(c); err != nil {
				return err
			}
			return redirect(c, s.url(routeDashboard))
		}
		_, url := s.stepInfo(next)
		return redirect(c, url)
	})
}

// salesforceGate explains that a page needs Salesforce, or is nil.
func (s *Server) salesforceGate(st *setupState, why string) *ui.SetupGate {
	if st.connected(tenants.ProviderSalesforce) {
		return nil
	}
	msg := why + " Connect Salesforce first."
	if st.conns[tenants.ProviderSalesforce] == tenants.StatusNeedsReauth {
		msg = why + " Salesforce needs to be reconnected first; your settings are kept."
	}
	return &ui.SetupGate{Message: msg, URL: s.url(routeConnect(onboard.Salesforce)), Label: "Connect Salesforce"}
}

// ---- Salesforce setup check ----

// runCheck checks the org for the tenant's data model and stores the result
// (with outcome, the "Create them for me" that preceded it, if any). For a
// viewer, who may not change setup, the result is only shown.
func (s *Server) runCheck(ctx context.Context, st *setupState, api onboard.SalesforceAPI, outcome *setup.CreateOutcome) error {
	rec := &describeRecorder{SalesforceAPI: api}
	res, err := onboard.Check(ctx, rec, st.settings.Model(), s.now())
	if err != nil {
		return err
	}
	res.Create = outcome
	if !st.canEdit {
		st.settings.SalesforceCheck = &res
		return nil
	}
	// The describes the check just read are the freshest: keep them in the
	// cached discovery, which the field mapping and the sync judge targets
	// against (fields "Create them for me" made are there at once).
	for _, d := range rec.seen {
		if err := s.setupStore().SaveSalesforceObject(ctx, st.tenantID, mapping.SObjectOf(d)); err != nil {
			return err
		}
	}
	st.settings, err = s.setupStore().Update(ctx, st.tenantID, st.actor, func(set *setup.Settings) error {
		set.SalesforceCheck = &res
		return nil
	})
	return err
}

// describeRecorder keeps the object describes a setup check reads.
type describeRecorder struct {
	onboard.SalesforceAPI
	seen []*salesforce.SObjectDescribe
}

func (r *describeRecorder) Describe(ctx context.Context, sobject string) (*salesforce.SObjectDescribe, error) {
	d, err := r.SalesforceAPI.Describe(ctx, sobject)
	if err == nil {
		r.seen = append(r.seen, d)
	}
	return d, err
}

// setupStore is the settings and locations store.
func (s *Server) setupStore() *setup.Store { return s.onboard.Setup() }

// salesforceAPI returns a client for the tenant's org (refreshing through
// the vault), or an error whose ProblemText explains why there is none.
func (s *Server) salesforceAPI(ctx context.Context, st *setupState) (onboard.SalesforceAPI, error) {
	c, err := s.onboard.SalesforceClient(ctx, st.tenantID)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// markReauth marks the Salesforce connection needs_reauth when err says
// Salesforce refused it for good, and returns the error to explain.
func (s *Server) markReauth(ctx context.Context, st *setupState, err error) error {
	return s.onboard.CheckReauth(ctx, st.tenantID, st.actor, err)
}

// discoveredPersonAccounts reports what discovery found about person
// accounts when no check ran yet.
func (s *Server) discoveredPersonAccounts(ctx context.Context, tenantID string) bool {
	d, err := s.onboard.Discovery(ctx, tenantID, onboard.Salesforce)
	if err != nil || d.Salesforce == nil {
		return false
	}
	return d.Salesforce.PersonAccounts
}

// checkProblem turns a failed call to Salesforce into words for the page,
// marking the connection for reconnecting when Salesforce refused it.
func (s *Server) checkProblem(c echo.Context, st *setupState, err error) string {
	ctx := c.Request().Context()
	err = s.markReauth(ctx, st, err)
	s.log.WarnContext(ctx, "salesforce setup check failed", slog.String("request_id", requestID(c)),
		slog.String("tenant_id", st.tenantID), slog.Any("error", err))
	return onboard.ProblemText(err)
}

func (s *Server) showSetupFields(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		v := s.fieldsView(c, st)
		if v.Gate == nil {
			chk := st.settings.SalesforceCheck
			// The first visit, or the model changed: check now, so the
			// page never shows another model's answer.
			if chk == nil || chk.Model != st.settings.Model() {
				ctx := c.Request().Context()
				api, err := s.salesforceAPI(ctx, st)
				if err == nil {
					err = s.runCheck(ctx, st, api, nil)
				}
				if err != nil {
					v = s.fieldsView(c, st)
					v.Error = s.checkProblem(c, st, err)
					return s.render(c, http.StatusOK, "Salesforce setup check", ui.SetupFieldsBody(v))
				}
				v = s.fieldsView(c, st)
			}
		}
		return s.render(c, http.StatusOK, "Salesforce setup check", ui.SetupFieldsBody(v))
	})
}

// fieldsView builds the check page from the stored check.
func (s *Server) fieldsView(c echo.Context, st *setupState) ui.SetupFields {
	model := st.settings.Model()
	v := ui.SetupFields{
		Progress:      s.progressView(st, onboard.StepSalesforceFields),
		Gate:          s.salesforceGate(st, "The setup check reads your Salesforce org."),
		CanEdit:       st.canEdit,
		CSRF:          s.csrfToken(c),
		ModelLabel:    modelLabel(model),
		ModelURL:      s.url(routeSetupModel),
		CreateAction:  s.url(routeSetupFieldsCreate),
		RecheckAction: s.url(routeSetupFieldsCheck),
		NextURL:       s.url(routeSetup),
	}
	chk := st.settings.SalesforceCheck
	if chk != nil && chk.Model != model {
		chk = nil
	}
	created := map[string]setup.CreateResult{}
	if chk != nil {
		v.CheckedAt = chk.CheckedAt.Format("2 Jan 2006 15:04 MST")
		v.Complete = chk.Complete()
		v.Missing = len(chk.Missing())
		if chk.Create != nil {
			v.PermissionDenied = chk.Create.PermissionDenied
			for _, r := range chk.Create.Results {
				created[r.Key] = r
			}
		}
	}
	for _, r := range mapping.RequiredFor(model) {
		it := ui.SetupItem{Key: r.Key(), Object: r.Object, Field: r.Field, TypeLabel: r.TypeLabel(), Flags: r.Flags(),
			Why: r.Why, Status: "unknown", ManualSteps: r.ManualSteps()}
		if chk != nil {
			if ci, ok := chk.Item(r.Key()); ok {
				it.Status, it.Problem = string(ci.Status), ci.Problem
			}
			if cr, ok := created[r.Key()]; ok {
				it.Created = cr.OK && it.Status == string(setup.StatusPresent)
				// After a permission refusal the manual steps explain the
				// rest; repeating "not attempted" on every row is noise.
				if !cr.OK && !(cr.Skipped && v.PermissionDenied) {
					it.CreateError = cr.Error
				}
			}
		}
		v.Items = append(v.Items, it)
	}
	return v
}

func (s *Server) recheckSetupFields(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		if gate := s.salesforceGate(st, "The setup check reads your Salesforce org."); gate != nil {
			return redirect(c, s.url(routeSetupFields))
		}
		ctx := c.Request().Context()
		api, err := s.salesforceAPI(ctx, st)
		if err == nil {
			err = s.runCheck(ctx, st, api, nil)
		}
		switch {
		case err != nil:
			addFlash(c, ui.FlashError, s.checkProblem(c, st, err))
		case st.settings.SalesforceCheck.Complete():
			addFlash(c, ui.FlashSuccess, "Checked: everything Tandem needs is in your Salesforce org.")
		default:
			addFlash(c, ui.FlashInfo, fmt.Sprintf("Checked: %d still missing.", len(st.settings.SalesforceCheck.Missing())))
		}
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeSetupFields))
	})
}

func (s *Server) createSetupFields(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		if gate := s.salesforceGate(st, "The setup check reads your Salesforce org."); gate != nil {
			return redirect(c, s.url(routeSetupFields))
		}
		ctx := c.Request().Context()
		msg, kind, err := s.createFields(ctx, st)
		if err != nil {
			msg, kind = s.checkProblem(c, st, err), ui.FlashError
		}
		addFlash(c, kind, msg)
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeSetupFields))
	})
}

// createBudget bounds the Tooling API calls of one "Create them for me".
const createBudget = 40 * time.Second

// createFields checks the org (so it creates only what is missing now),
// creates the missing items, checks again and stores the outcome.
func (s *Server) createFields(ctx context.Context, st *setupState) (string, ui.FlashKind, error) {
	api, err := s.salesforceAPI(ctx, st)
	if err != nil {
		return "", "", err
	}
	if err := s.runCheck(ctx, st, api, nil); err != nil {
		return "", "", err
	}
	chk := *st.settings.SalesforceCheck
	if len(chk.Missing()) == 0 {
		return "Nothing to create: everything that can be created is already there.", ui.FlashInfo, nil
	}
	// Leave time to check again and answer before the server's write
	// timeout: what is not created by then is created by the next click.
	cctx, cancel := context.WithTimeout(ctx, createBudget)
	out := onboard.Create(cctx, api, chk, s.now())
	cancel()
	created := 0
	for _, r := range out.Results {
		if r.OK {
			created++
		}
	}
	if err := s.runCheck(ctx, st, api, &out); err != nil {
		// Keep what was learnt: the outcome on the previous check.
		chk.Create = &out
		_, uerr := s.setupStore().Update(ctx, st.tenantID, st.actor, func(set *setup.Settings) error {
			set.SalesforceCheck = &chk
			return nil
		})
		return "", "", errors.Join(err, uerr)
	}
	switch {
	case out.PermissionDenied:
		return "Salesforce did not let your user create fields. The steps to create them by hand are below.", ui.FlashError, nil
	case created == len(out.Results):
		return fmt.Sprintf("Created %d in Salesforce.", created), ui.FlashSuccess, nil
	}
	return fmt.Sprintf("Created %d of %d; Salesforce refused the rest (see below).", created, len(out.Results)), ui.FlashError, nil
}

// ---- Data model ----

func modelLabel(m setup.DataModel) string {
	if m == setup.ModelCustom {
		return "Custom"
	}
	return "Classic"
}

// personAccounts reports whether the org has person accounts: from the
// last check, else from discovery.
func (s *Server) personAccounts(ctx context.Context, st *setupState) bool {
	if chk := st.settings.SalesforceCheck; chk != nil {
		return chk.PersonAccounts
	}
	return s.discoveredPersonAccounts(ctx, st.tenantID)
}

func (s *Server) modelView(c echo.Context, st *setupState, model setup.DataModel, customer setup.CustomerTarget, msg string) ui.SetupModel {
	person := s.personAccounts(c.Request().Context(), st)
	v := ui.SetupModel{
		Progress: s.progressView(st, onboard.StepDataModel),
		Gate:     s.salesforceGate(st, "The data model depends on what your Salesforce org offers."),
		CanEdit:  st.canEdit,
		CSRF:     s.csrfToken(c),
		Action:   s.url(routeSetupModelSubmit),
		Error:    msg,
		Models: []ui.SetupChoice{
			{Value: string(setup.ModelClassic), Label: "Classic", Checked: model == setup.ModelClassic,
				Hint: "Each sale becomes a Closed Won Opportunity with its products as line items, using Salesforce's standard objects and reports."},
			{Value: string(setup.ModelCustom), Label: "Custom", Checked: model == setup.ModelCustom,
				Hint: "Each sale, its lines and payments become records of Tandem's custom objects (Lightspeed Sale, Sale Line, Payment), leaving your Opportunities untouched."},
		},
		Customers: []ui.SetupChoice{
			{Value: string(setup.TargetContact), Label: "Contacts", Checked: customer == setup.TargetContact,
				Hint: "Each Lightspeed customer becomes a Contact."},
			{Value: string(setup.TargetPersonAccount), Label: "Person Accounts", Checked: customer == setup.TargetPersonAccount,
				Hint: "Each Lightspeed customer becomes a Person Account."},
		},
	}
	if !person {
		v.Customers[1].Disabled = "Your Salesforce org does not have Person Accounts enabled."
		v.Customers[1].Checked = false
	}
	return v
}

func (s *Server) showSetupModel(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		model := st.settings.Model()
		customer := st.settings.CustomerTarget
		if customer == "" {
			customer = setup.TargetContact
		}
		return s.render(c, http.StatusOK, "Data model", ui.SetupModelBody(s.modelView(c, st, model, customer, "")))
	})
}

func (s *Server) saveSetupModel(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		ctx := c.Request().Context()
		if s.salesforceGate(st, "") != nil {
			return redirect(c, s.url(routeSetupModel))
		}
		model := setup.DataModel(c.FormValue("model"))
		customer := setup.CustomerTarget(c.FormValue("customer"))
		if customer == "" {
			customer = setup.TargetContact
		}
		var msg string
		switch {
		case !model.Valid():
			msg = "Choose Classic or Custom."
		case !customer.Valid():
			msg = "Choose Contacts or Person Accounts."
		case customer == setup.TargetPersonAccount && !s.personAccounts(ctx, st):
			msg = "Your Salesforce org does not have Person Accounts enabled: choose Contacts, or enable Person Accounts in Salesforce and re-check."
		}
		if msg != "" {
			return s.render(c, http.StatusUnprocessableEntity, "Data model", ui.SetupModelBody(s.modelView(c, st, model, customer, msg)))
		}
		previous := st.settings.Model()
		var err error
		st.settings, err = s.setupStore().Update(ctx, st.tenantID, st.actor, func(set *setup.Settings) error {
			set.DataModel, set.CustomerTarget = model, customer
			return nil
		})
		if err != nil {
			return err
		}
		// Another model needs other fields: check again at once.
		if chk := st.settings.SalesforceCheck; chk == nil || chk.Model != model || previous != model {
			api, err := s.salesforceAPI(ctx, st)
			if err == nil {
				err = s.runCheck(ctx, st, api, nil)
			}
			if err != nil {
				addFlash(c, ui.FlashError, s.checkProblem(c, st, err))
				if err := s.saveSession(c); err != nil {
					return err
				}
				return redirect(c, s.url(routeSetupFields))
			}
		}
		if !st.settings.SalesforceCheck.Complete() {
			addFlash(c, ui.FlashInfo, fmt.Sprintf("Saved: %s model. It needs %d more fields or objects in Salesforce.", modelLabel(model), len(st.settings.SalesforceCheck.Missing())))
			if err := s.saveSession(c); err != nil {
				return err
			}
			return redirect(c, s.url(routeSetupFields))
		}
		return s.continueSetup(c, st, fmt.Sprintf("Saved: %s model.", modelLabel(model)))
	})
}

// ---- Locations ----

func (s *Server) locationsView(c echo.Context, st *setupState, msg string) ui.SetupLocations {
	v := ui.SetupLocations{
		Progress: s.progressView(st, onboard.StepLocations),
		CanEdit:  st.canEdit,
		CSRF:     s.csrfToken(c),
		Action:   s.url(routeSetupLocationsSubmit),
		Error:    msg,
	}
	if len(st.locs) == 0 && !st.connected(tenants.ProviderLightspeed) {
		v.Gate = &ui.SetupGate{Message: "Locations are your Lightspeed stores. Connect Lightspeed first.",
			URL: s.url(routeConnect(onboard.Lightspeed)), Label: "Connect Lightspeed"}
	}
	if st.connected(tenants.ProviderLightspeed) {
		v.RefreshURL = s.url(routeConnect(onboard.Lightspeed))
	}
	for _, l := range st.locs {
		v.Locations = append(v.Locations, ui.SetupLocation{ShopID: l.ShopID, Name: l.Name, Enabled: l.Enabled, New: l.New})
	}
	return v
}

func (s *Server) showSetupLocations(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		return s.render(c, http.StatusOK, "Locations", ui.SetupLocationsBody(s.locationsView(c, st, "")))
	})
}

func (s *Server) saveSetupLocations(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		form, err := c.FormParams()
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest).SetInternal(err)
		}
		shown, enabled := form["shown"], form["enabled"]
		if len(enabled) == 0 {
			return s.render(c, http.StatusUnprocessableEntity, "Locations",
				ui.SetupLocationsBody(s.locationsView(c, st, "Turn on at least one store: Tandem syncs only the stores turned on.")))
		}
		locs, err := s.setupStore().SaveLocations(c.Request().Context(), st.tenantID, st.actor, shown, enabled)
		if errors.Is(err, setup.ErrUnknownShop) {
			return s.render(c, http.StatusUnprocessableEntity, "Locations",
				ui.SetupLocationsBody(s.locationsView(c, st, "The list of stores changed while this page was open. Check it and save again.")))
		}
		if err != nil {
			return err
		}
		n := 0
		for _, l := range locs {
			if l.Enabled {
				n++
			}
		}
		st.locs = locs
		st.settings.LocationsSaved = true
		return s.continueSetup(c, st, fmt.Sprintf("Saved: %d of %d stores will be synced.", n, len(locs)))
	})
}

// ---- History ----

// historyChoice is one history option with its wording.
type historyChoice struct {
	value       setup.History
	label, hint string
}

// historyChoices are the history options, in setup.Histories order.
func historyChoices() []historyChoice {
	return []historyChoice{
		{setup.HistoryNone, "None", "Only sales made from now on."},
		{setup.History30d, "30 days", "Sales of the last 30 days, then everything new."},
		{setup.History1y, "1 year", "Sales of the last 12 months, then everything new."},
		{setup.HistoryAll, "Everything", "Every sale Lightspeed has. Large stores may take a while and use more of your Salesforce API allocation."},
	}
}

func (s *Server) historyView(c echo.Context, st *setupState, chosen setup.History, msg string) ui.SetupHistory {
	v := ui.SetupHistory{
		Progress: s.progressView(st, onboard.StepHistory),
		CanEdit:  st.canEdit,
		CSRF:     s.csrfToken(c),
		Action:   s.url(routeSetupHistorySubmit),
		Error:    msg,

		ExistingToLightspeed: st.settings.CreateExistingInLightspeed,
	}
	for _, h := range historyChoices() {
		v.Options = append(v.Options, ui.SetupChoice{Value: string(h.value), Label: h.label, Hint: h.hint, Checked: h.value == chosen})
	}
	return v
}

func (s *Server) showSetupHistory(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		return s.render(c, http.StatusOK, "Sales history", ui.SetupHistoryBody(s.historyView(c, st, st.settings.History, "")))
	})
}

func (s *Server) saveSetupHistory(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		h := setup.History(c.FormValue("history"))
		if !h.Valid() {
			return s.render(c, http.StatusUnprocessableEntity, "Sales history",
				ui.SetupHistoryBody(s.historyView(c, st, st.settings.History, "Choose how far back to import sales.")))
		}
		var err error
		st.settings, err = s.setupStore().Update(c.Request().Context(), st.tenantID, st.actor, func(set *setup.Settings) error {
			set.History = h
			set.CreateExistingInLightspeed = c.FormValue("sf_existing_to_ls") == "on"
			return nil
		})
		if err != nil {
			return err
		}
		return s.continueSetup(c, st, "Saved: sales history.")
	})
}
