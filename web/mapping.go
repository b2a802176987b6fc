package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
	"github.com/tandemsync/tandem/web/onboard"
	"github.com/tandemsync/tandem/web/ui"
)

// Field mapping routes: the page, and the forms on it.
const (
	routeMapping        = "mapping"
	routeMappingSave    = "mapping.save"
	routeMappingPreview = "mapping.preview"
	routeMappingResync  = "mapping.resync"
	routeMappingReset   = "mapping.reset"
	routeMappingRefresh = "mapping.refresh"
)

// Audit actions of the mapping screen.
const (
	auditMappingSave   = "mapping.save"
	auditMappingResync = "mapping.resync"
)

// mappingRoutes registers the Field mapping screen. Everyone in the tenant
// may look; the forms are refused to viewers (loadSetup answers 403).
func (s *Server) mappingRoutes(e *echo.Echo) {
	e.GET("/mapping", s.showMapping, s.requireUser).Name = routeMapping
	e.POST("/mapping", s.saveMapping, s.requireUser).Name = routeMappingSave
	e.POST("/mapping/preview", s.previewMapping, s.requireUser).Name = routeMappingPreview
	e.POST("/mapping/resync", s.resyncMapping, s.requireUser).Name = routeMappingResync
	e.POST("/mapping/reset", s.resetMapping, s.requireUser).Name = routeMappingReset
	e.POST("/mapping/refresh", s.refreshMappingFields, s.requireUser).Name = routeMappingRefresh
}

// mappingState is what the mapping screen needs about the current tenant:
// its saved mapping, the field catalog and the cached describes.
type mappingState struct {
	*setupState
	store   *mapping.Store
	preset  mapping.Preset
	saved   mapping.Mapping
	catalog []mapping.Field
	sf      *setup.Discovery // nil before Salesforce is discovered
	ls      *setup.LightspeedDiscovery
	known   map[string]bool
}

func (s *Server) loadMapping(ctx context.Context, st *setupState) (*mappingState, error) {
	ms := &mappingState{setupState: st, store: mapping.NewStore(s.pool), preset: jobs.PresetOf(st.settings)}
	var err error
	if ms.saved, err = ms.store.Current(ctx, st.tenantID, ms.preset); err != nil {
		return nil, err
	}
	if ms.known, err = ms.store.KnownSources(ctx, st.tenantID); err != nil {
		return nil, err
	}
	store := s.setupStore()
	if ms.sf, err = store.Discovery(ctx, st.tenantID, vault.Salesforce); err != nil && !errors.Is(err, setup.ErrNoDiscovery) {
		return nil, err
	}
	lsd, err := store.Discovery(ctx, st.tenantID, vault.Lightspeed)
	if err != nil && !errors.Is(err, setup.ErrNoDiscovery) {
		return nil, err
	}
	var custom []mapping.CustomField
	if lsd != nil && lsd.Lightspeed != nil {
		ms.ls = lsd.Lightspeed
		for _, f := range ms.ls.CustomerFields {
			custom = append(custom, mapping.CustomField{ID: f.ID, Name: f.Name, Type: f.Type})
		}
	}
	ms.catalog = mapping.Catalog(custom)
	return ms, nil
}

// describe is the cached Salesforce describe, or nil.
func (ms *mappingState) describe() *setup.SalesforceDiscovery {
	if ms.sf == nil {
		return nil
	}
	return ms.sf.Salesforce
}

// Form field names of a row: the target select and the direction select.
func rowName(f mapping.Field) string { return "map." + f.Stream + "." + f.Key }
func dirName(f mapping.Field) string { return "dir." + f.Stream + "." + f.Key }
func rowID(f mapping.Field) string {
	return "f-" + f.Stream + "-" + strings.NewReplacer(":", "-", "_", "-").Replace(f.Key)
}

// parseMapping reads the mapping on screen from a submitted form: one rule
// per row with a Salesforce field chosen, its conversion picked from the
// source and the target's describe.
func (ms *mappingState) parseMapping(form url.Values) mapping.Mapping {
	m := mapping.Mapping{Version: ms.saved.Version, Preset: ms.preset}
	sf := ms.describe()
	for _, f := range ms.catalog {
		target := strings.TrimSpace(form.Get(rowName(f)))
		if target == "" {
			continue
		}
		r := mapping.Rule{Stream: f.Stream, Source: f.Key, Object: ms.preset.StreamObject(f.Stream), Target: target,
			Direction: mapping.ToSalesforce}
		if f.TwoWay {
			r.Direction = mapping.Direction(form.Get(dirName(f)))
		}
		if sf != nil {
			if o := sf.Object(r.Object); o != nil {
				if sfield := o.Field(target); sfield != nil {
					r.Target = sfield.Name // the API name's own case
					r.Transform = mapping.TransformFor(f, *sfield)
				}
			}
		}
		m.Rules = append(m.Rules, r)
	}
	return m
}

// pageFor builds the screen showing m with rep's problems.
func (s *Server) pageFor(c echo.Context, ms *mappingState, m mapping.Mapping, rep mapping.Report) (ui.MappingPage, error) {
	v := ui.MappingPage{
		CanEdit: ms.canEdit, CSRF: s.csrfToken(c), Version: ms.saved.Version, ModelLabel: ms.preset.Label(),
		SaveURL: s.url(routeMappingSave), PreviewURL: s.url(routeMappingPreview), ResyncURL: s.url(routeMappingResync),
		ResetURL: s.url(routeMappingReset),
	}
	if ms.connected(tenants.ProviderSalesforce) {
		v.RefreshURL = s.url(routeMappingRefresh)
	}
	for _, p := range mapping.Presets() {
		v.Presets = append(v.Presets, ui.Option{Value: string(p), Label: p.Label(), Selected: p == ms.preset})
	}
	sf := ms.describe()
	if sf == nil {
		v.NoSalesforce = "Tandem has not read your Salesforce fields yet: connect Salesforce to choose where each field goes."
	} else {
		v.DescribedAt = ago(s.now(), ms.sf.DiscoveredAt)
	}
	drift := ms.drift()
	for _, d := range drift {
		v.Drift = append(v.Drift, driftMessage(d))
	}
	for _, p := range rep.Problems {
		if p.Source == "" && p.Refused {
			v.Error = strings.TrimSpace(v.Error + " " + p.Message)
		}
	}
	rules := map[string]mapping.Rule{}
	for _, r := range m.Rules {
		rules[r.Stream+"."+r.Source] = r
	}
	groups := map[string]*ui.MappingGroup{}
	customers := ui.MappingSection{ID: "customers", Heading: "Customers"}
	sales := ui.MappingSection{ID: "sales", Heading: "Sales"}
	for _, stream := range []string{mapping.StreamCustomers, mapping.StreamSales, mapping.StreamLines, mapping.StreamPayments} {
		g := &ui.MappingGroup{Object: ms.preset.StreamObject(stream)}
		switch stream {
		case mapping.StreamSales:
			g.Heading = "The sale"
		case mapping.StreamLines:
			g.Heading = "Each line"
		case mapping.StreamPayments:
			g.Heading = "Each payment"
		}
		groups[stream] = g
	}
	for _, f := range ms.catalog {
		r, mapped := rules[f.Stream+"."+f.Key]
		row := ui.MappingRow{ID: rowID(f), Label: f.Label, Type: typeWords(f.Type), Name: rowName(f)}
		if _, custom := mapping.CustomID(f.Key); custom && len(ms.known) > 0 && !ms.known[f.Key] {
			row.New = true
		}
		row.Options = targetOptions(sf, ms.preset.StreamObject(f.Stream), r.Target, mapped)
		if f.TwoWay {
			row.DirName = dirName(f)
			dir := r.Direction
			if !mapped {
				dir = mapping.ToSalesforce
			}
			for _, d := range []mapping.Direction{mapping.ToSalesforce, mapping.ToLightspeed, mapping.Both} {
				row.DirOpts = append(row.DirOpts, ui.Option{Value: string(d), Label: d.Label(), Selected: d == dir})
			}
		}
		if mapped {
			for _, d := range drift {
				if d.Rule.Stream == r.Stream && d.Rule.Source == r.Source && strings.EqualFold(d.Rule.Target, r.Target) {
					row.Drift = "Stopped syncing: " + d.Problem
				}
			}
		}
		for _, p := range rep.For(f.Stream, f.Key) {
			switch {
			case p.Refused && row.Drift != "" && strings.HasSuffix(row.Drift, p.Message):
				// The drift says it already.
			case p.Refused:
				row.Refusals = append(row.Refusals, p.Message)
			default:
				row.Warnings = append(row.Warnings, p.Message)
			}
		}
		groups[f.Stream].Rows = append(groups[f.Stream].Rows, row)
	}
	customers.Groups = []ui.MappingGroup{*groups[mapping.StreamCustomers]}
	sales.Groups = []ui.MappingGroup{*groups[mapping.StreamSales], *groups[mapping.StreamLines], *groups[mapping.StreamPayments]}
	v.Sections = []ui.MappingSection{customers, sales}
	r, err := ms.store.LatestResync(c.Request().Context(), ms.tenantID)
	if err != nil {
		return v, err
	}
	if r != nil {
		v.Resync = resyncView(r)
	}
	return v, nil
}

// drift is the saved mapping's schema drift against the cached describe.
func (ms *mappingState) drift() []mapping.DriftItem {
	return mapping.Drift(ms.saved, ms.catalog, ms.describe())
}

// driftMessage is a drift's banner: which field stopped, and why.
func driftMessage(d mapping.DriftItem) string {
	return fmt.Sprintf("The Salesforce field %s (mapped from %s) stopped syncing: %s The rest keeps syncing.", d.Field(), d.Label, d.Problem)
}

func resyncView(r *mapping.Resync) *ui.ResyncView {
	v := &ui.ResyncView{Done: r.Done, Total: r.Total, Message: r.Message, Status: "connected", Label: r.Status}
	switch r.Status {
	case mapping.ResyncQueued:
		v.Status, v.Label = "new", "queued"
	case mapping.ResyncRunning:
		v.Label = "running"
	case mapping.ResyncWaiting:
		v.Status, v.Label = "needs_reauth", "waiting for the API reserve"
	case mapping.ResyncDone:
		v.Label = "done"
	case mapping.ResyncFailed:
		v.Status, v.Label = "needs_reauth", "stopped"
	}
	return v
}

// targetOptions are a row's choices: "Not synced", then every field of
// object that describe returns (label, API name and type), sorted by
// label. A target the describe no longer has stays listed, marked, so the
// row shows what it was mapped to.
func targetOptions(sf *setup.SalesforceDiscovery, object, target string, mapped bool) []ui.Option {
	out := []ui.Option{{Value: "", Label: "Not synced", Selected: !mapped}}
	var fields []setup.SField
	if sf != nil {
		if o := sf.Object(object); o != nil {
			fields = slices.Clone(o.Fields)
		}
	}
	slices.SortStableFunc(fields, func(a, b setup.SField) int { return cmp.Compare(a.Label, b.Label) })
	found := false
	for _, f := range fields {
		sel := mapped && strings.EqualFold(f.Name, target)
		found = found || sel
		label := fmt.Sprintf("%s (%s) · %s", f.Label, f.Name, f.Type)
		if f.Type == "string" || f.Type == "textarea" {
			label = fmt.Sprintf("%s (%s) · %s(%d)", f.Label, f.Name, f.Type, f.Length)
		}
		out = append(out, ui.Option{Value: f.Name, Label: label, Selected: sel})
	}
	if mapped && !found {
		out = append(out, ui.Option{Value: target, Label: target + " (not in Salesforce)", Selected: true})
	}
	return out
}

func typeWords(t mapping.FieldType) string {
	switch t {
	case mapping.TypeBool:
		return "checkbox"
	case mapping.TypeDateTime:
		return "date and time"
	case mapping.TypeMoney:
		return "amount"
	case mapping.TypeID:
		return "id"
	}
	return string(t)
}

func (s *Server) renderMapping(c echo.Context, status int, ms *mappingState, m mapping.Mapping, rep mapping.Report, edit func(*ui.MappingPage)) error {
	v, err := s.pageFor(c, ms, m, rep)
	if err != nil {
		return err
	}
	if edit != nil {
		edit(&v)
	}
	return s.render(c, status, "Field mapping", ui.MappingBody(v))
}

// showMapping shows the saved mapping (or the defaults), checked against
// the cached describe: drifted and refused rows flagged, warnings shown.
func (s *Server) showMapping(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		ms, err := s.loadMapping(c.Request().Context(), st)
		if err != nil {
			return err
		}
		rep := mapping.Report{}
		if ms.describe() != nil {
			rep = mapping.Validate(ms.saved, ms.catalog, ms.describe())
		}
		return s.renderMapping(c, http.StatusOK, ms, ms.saved, rep, nil)
	})
}

// saveMapping validates the mapping on screen and stores it as the next
// version, audit-logged with before and after. A refused save stores
// nothing and shows, next to each row, what to change.
func (s *Server) saveMapping(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		ctx := c.Request().Context()
		ms, err := s.loadMapping(ctx, st)
		if err != nil {
			return err
		}
		form, err := c.FormParams()
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
		}
		m := ms.parseMapping(form)
		rep := mapping.Validate(m, ms.catalog, ms.describe())
		if rep.Refused() {
			return s.renderMapping(c, http.StatusUnprocessableEntity, ms, m, rep, func(v *ui.MappingPage) {
				v.Error = strings.TrimSpace("Nothing was saved: change the fields marked below. " + v.Error)
			})
		}
		keys := make([]string, len(ms.catalog))
		for i, f := range ms.catalog {
			keys[i] = f.Key
		}
		var version int
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if version, err = mapping.SaveTx(ctx, tx, st.tenantID, m); err != nil {
				return err
			}
			if err := mapping.RememberSourcesTx(ctx, tx, st.tenantID, keys); err != nil {
				return err
			}
			return tenants.AuditTx(ctx, tx, st.actor.Entry(st.tenantID, auditMappingSave, map[string]any{
				"version": version, "before": ms.saved.Rules, "before_version": ms.saved.Version, "after": m.Rules,
			}))
		})
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("Mapping saved as version %d.", version)
		if !sameRules(ms.saved.Rules, m.Rules) {
			msg += " Records already in Salesforce get the new mapping when they next change; Resync existing records sends them all now."
		}
		addFlash(c, ui.FlashSuccess, msg)
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeMapping))
	})
}

// sameRules reports whether two mappings write the same thing.
func sameRules(a, b []mapping.Rule) bool {
	key := func(r mapping.Rule) string {
		return strings.Join([]string{r.Stream, r.Source, r.Object, strings.ToLower(r.Target), string(r.Direction), string(r.Transform)}, "|")
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, r := range a {
		ka[i] = key(r)
	}
	for i, r := range b {
		kb[i] = key(r)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// resyncMapping starts a background re-send of every linked record with the
// saved mapping; the page shows its progress.
func (s *Server) resyncMapping(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		ctx := c.Request().Context()
		ms, err := s.loadMapping(ctx, st)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := jobs.EnqueueResync(ctx, s.jobs, tx, st.tenantID, ms.saved.Version, st.actor.Email); err != nil {
				return err
			}
			return tenants.AuditTx(ctx, tx, st.actor.Entry(st.tenantID, auditMappingResync, map[string]any{"version": ms.saved.Version}))
		})
		if err != nil {
			return err
		}
		addFlash(c, ui.FlashSuccess, "Resync started: every linked customer and sale is sent again with the saved mapping, within your Salesforce API reserve. This page shows its progress.")
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeMapping))
	})
}

// resetMapping shows a data model's defaults on the screen; nothing is
// saved until Save mapping.
func (s *Server) resetMapping(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		ms, err := s.loadMapping(c.Request().Context(), st)
		if err != nil {
			return err
		}
		p := mapping.Preset(c.FormValue("preset"))
		if !slices.Contains(mapping.Presets(), p) {
			return echo.NewHTTPError(http.StatusBadRequest, "Choose a data model: Classic, Person Accounts or Custom objects.")
		}
		m := mapping.Defaults(p)
		// The defaults' fields, on the objects this tenant writes.
		for i := range m.Rules {
			m.Rules[i].Object = ms.preset.StreamObject(m.Rules[i].Stream)
		}
		m.Preset, m.Version = ms.preset, ms.saved.Version
		rep := mapping.Report{}
		if ms.describe() != nil {
			rep = mapping.Validate(m, ms.catalog, ms.describe())
		}
		return s.renderMapping(c, http.StatusOK, ms, m, rep, func(v *ui.MappingPage) {
			v.Notice = fmt.Sprintf("Showing the defaults of %s. Nothing is saved until you press Save mapping.", p.Label())
			for i := range v.Presets {
				v.Presets[i].Selected = v.Presets[i].Value == string(p)
			}
		})
	})
}

// refreshMappingFields reads the Salesforce org's fields again (a new
// discovery), so fields added, renamed or deleted since show.
func (s *Server) refreshMappingFields(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		if _, err := s.onboard.RefreshDiscovery(c.Request().Context(), st.tenantID, onboard.Salesforce, st.actor); err != nil {
			addFlash(c, ui.FlashError, "Salesforce's fields could not be read: "+onboard.ProblemText(err))
		} else {
			addFlash(c, ui.FlashSuccess, "Read Salesforce's fields again.")
		}
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeMapping))
	})
}

// previewMapping shows what Tandem would write to Salesforce, with the
// mapping on screen, for a Lightspeed customer or sale found by name, email
// or ticket number (or picked among several found).
func (s *Server) previewMapping(c echo.Context) error {
	return s.withSetup(c, func(st *setupState) error {
		ctx := c.Request().Context()
		ms, err := s.loadMapping(ctx, st)
		if err != nil {
			return err
		}
		form, err := c.FormParams()
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
		}
		m := ms.parseMapping(form)
		rep := mapping.Report{}
		if ms.describe() != nil {
			rep = mapping.Validate(m, ms.catalog, ms.describe())
		}
		q := strings.TrimSpace(form.Get("q"))
		p := s.preview(ctx, ms, m, q, form.Get("pick"))
		return s.renderMapping(c, http.StatusOK, ms, m, rep, func(v *ui.MappingPage) {
			v.Query, v.Preview = q, p
		})
	})
}

// previewRelations are what a preview loads with a sale.
var previewSaleRelations = []string{"SaleLines", "SaleLines.Item", "SalePayments", "SalePayments.PaymentType", "Customer"}

func (s *Server) preview(ctx context.Context, ms *mappingState, m mapping.Mapping, q, pick string) *ui.MappingPreview {
	if q == "" && pick == "" {
		return &ui.MappingPreview{Empty: "Type a customer's name or email, or a sale's ticket number, then Preview."}
	}
	if !ms.connected(tenants.ProviderLightspeed) {
		return &ui.MappingPreview{Empty: "Connect Lightspeed to preview a real customer or sale."}
	}
	ls, err := s.onboard.LightspeedClient(ctx, ms.tenantID)
	if err != nil {
		return &ui.MappingPreview{Empty: "Lightspeed could not be reached: " + onboard.ProblemText(err)}
	}
	kind, idText, _ := strings.Cut(pick, ":")
	id, _ := strconv.ParseInt(idText, 10, 64)
	if pick == "" {
		var matches []ui.Option
		kind, id, matches, err = search(ctx, ls, q)
		if err != nil {
			return &ui.MappingPreview{Empty: "Lightspeed could not be searched: " + onboard.ProblemText(err)}
		}
		if len(matches) == 0 {
			return &ui.MappingPreview{Empty: fmt.Sprintf("No Lightspeed customer or sale matches %q.", q)}
		}
		if len(matches) > 1 {
			return &ui.MappingPreview{Title: "Several records match: pick one", Matches: matches}
		}
	}
	switch {
	case kind == "customer" && id > 0:
		cust, _, err := ls.Customers.Get(ctx, id, lightspeed.NewQuery().LoadRelations("Contact", "CustomFieldValues", "CustomerType"))
		if err != nil {
			return &ui.MappingPreview{Empty: "The customer could not be read: " + onboard.ProblemText(err)}
		}
		return ms.previewCustomer(m, cust)
	case kind == "sale" && id > 0:
		sale, _, err := ls.Sales.Get(ctx, id, lightspeed.NewQuery().LoadRelations(previewSaleRelations...))
		if err != nil {
			return &ui.MappingPreview{Empty: "The sale could not be read: " + onboard.ProblemText(err)}
		}
		return ms.previewSale(m, sale)
	}
	return &ui.MappingPreview{Empty: "Pick a customer or a sale to preview."}
}

// search finds up to ten customers by name or email and sales by ticket
// number. With exactly one match it returns its kind and id.
func search(ctx context.Context, ls *lightspeed.Client, q string) (kind string, id int64, matches []ui.Option, err error) {
	like := "%" + q + "%"
	cq := lightspeed.NewQuery().LoadRelations("Contact").Limit(10).Or(
		lightspeed.C("firstName", lightspeed.Like, like), lightspeed.C("lastName", lightspeed.Like, like),
		lightspeed.C("Contact.email", lightspeed.Like, like))
	if first, last, ok := strings.Cut(q, " "); ok {
		cq = lightspeed.NewQuery().LoadRelations("Contact").Limit(10).
			Where("firstName", lightspeed.Like, "%"+first+"%").Where("lastName", lightspeed.Like, "%"+strings.TrimSpace(last)+"%")
	}
	customers, _, err := ls.Customers.List(ctx, cq)
	if err != nil {
		return "", 0, nil, err
	}
	for _, c := range customers {
		matches = append(matches, ui.Option{Value: "customer:" + strconv.FormatInt(c.CustomerID, 10), Label: customerName(&c)})
		kind, id = "customer", c.CustomerID
	}
	sales, _, err := ls.Sales.List(ctx, lightspeed.NewQuery().Where("ticketNumber", lightspeed.Eq, q).Limit(5))
	if err != nil {
		return "", 0, nil, err
	}
	for _, sl := range sales {
		matches = append(matches, ui.Option{Value: "sale:" + strconv.FormatInt(sl.SaleID, 10),
			Label: fmt.Sprintf("sale %s (%s)", sl.TicketNumber, sl.CalcTotal.String())})
		kind, id = "sale", sl.SaleID
	}
	if len(matches) != 1 {
		kind, id = "", 0
	}
	return kind, id, matches, nil
}

func customerName(c *lightspeed.Customer) string {
	name := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if c.Contact != nil {
		if e := c.Contact.Email("Primary"); e != "" {
			name = strings.TrimSpace(name + " <" + e + ">")
		}
	}
	if name == "" {
		name = "customer #" + strconv.FormatInt(c.CustomerID, 10)
	}
	return name
}

func (ms *mappingState) previewCustomer(m mapping.Mapping, c *lightspeed.Customer) *ui.MappingPreview {
	obj := ms.preset.CustomerObject()
	rec := mapping.FromLightspeedCustomer(c)
	fields := m.ToSalesforce(mapping.StreamCustomers, obj, rec, nil)
	// The sync always writes the Lightspeed Customer ID to its key field.
	fields[ms.preset.CustomerIDField()] = strconv.FormatInt(c.CustomerID, 10)
	return &ui.MappingPreview{Title: "Customer " + customerName(c),
		Objects: []ui.PreviewObject{ms.previewObject(m, mapping.StreamCustomers, obj, obj, rec, fields)}}
}

func (ms *mappingState) previewSale(m mapping.Mapping, sale *lightspeed.Sale) *ui.MappingPreview {
	names := mapping.SaleNames{Shops: map[int64]string{}, Registers: map[int64]string{}, Employees: map[int64]string{}}
	if ms.ls != nil {
		for _, x := range ms.ls.Shops {
			names.Shops[x.ID] = x.Name
		}
		for _, x := range ms.ls.Registers {
			names.Registers[x.ID] = x.Name
		}
		for _, x := range ms.ls.Employees {
			names.Employees[x.ID] = x.Name
		}
	}
	canon := mapping.FromLightspeedSale(sale, names)
	p := &ui.MappingPreview{Title: fmt.Sprintf("Sale %s", sale.TicketNumber)}
	add := func(stream, heading string, r mapping.Record) {
		obj := ms.preset.StreamObject(stream)
		p.Objects = append(p.Objects, ms.previewObject(m, stream, obj, heading, r, m.SalesToSalesforce(stream, obj, r)))
	}
	add(mapping.StreamSales, ms.preset.StreamObject(mapping.StreamSales), canon.Values)
	for i, l := range canon.Lines {
		add(mapping.StreamLines, fmt.Sprintf("%s, line %d", ms.preset.StreamObject(mapping.StreamLines), i+1), l.Values)
	}
	for i, pay := range canon.Payments {
		add(mapping.StreamPayments, fmt.Sprintf("%s, payment %d", ms.preset.StreamObject(mapping.StreamPayments), i+1), pay.Values)
	}
	if len(p.Objects) > 0 {
		p.Empty = "Besides these, the sales stream writes the fields every sale needs (its name, stage, close date, amount, customer and Lightspeed ids)."
	}
	return p
}

// previewObject lists the fields written, each with the Lightspeed field it
// comes from, and flags values Salesforce would refuse or cut.
func (ms *mappingState) previewObject(m mapping.Mapping, stream, object, heading string, rec mapping.Record, fields map[string]any) ui.PreviewObject {
	o := ui.PreviewObject{Heading: heading}
	var sobj *setup.SObject
	if sf := ms.describe(); sf != nil {
		sobj = sf.Object(object)
	}
	for _, r := range m.Stream(stream) {
		if _, ok := fields[r.Target]; !ok || r.Object != object {
			continue
		}
		f := ui.PreviewField{Field: r.Target, Source: r.Source}
		if src := lookup(ms.catalog, stream, r.Source); src != nil {
			f.Source = src.Label
		}
		val, _ := fields[r.Target].(string)
		f.Value = val
		if fields[r.Target] == nil {
			f.Value = "(empty: clears the field)"
		}
		if sobj != nil {
			if sfield := sobj.Field(r.Target); sfield != nil {
				if (sfield.Type == "picklist" || sfield.Type == "multipicklist") && val != "" && len(sfield.Picklist) > 0 &&
					!slices.ContainsFunc(sfield.Picklist, func(p string) bool { return strings.EqualFold(p, val) }) {
					f.Note = "Not a value of the picklist: Salesforce refuses it."
				}
				if n, ok := r.Transform.TruncateTo(); ok && utf8.RuneCountInString(rec[r.Source]) > n {
					f.Note = fmt.Sprintf("Cut to %d characters.", n)
				}
			}
		}
		o.Fields = append(o.Fields, f)
		delete(fields, r.Target)
	}
	for name, v := range fields { // the key field the sync adds
		s, _ := v.(string)
		o.Fields = append(o.Fields, ui.PreviewField{Field: name, Value: s, Source: "Lightspeed Customer ID (the link)"})
	}
	return o
}

func lookup(catalog []mapping.Field, stream, key string) *mapping.Field {
	for i := range catalog {
		if catalog[i].Stream == stream && catalog[i].Key == key {
			return &catalog[i]
		}
	}
	return nil
}
