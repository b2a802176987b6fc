package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants"
)

// Alert causes: what needs the merchant.
const (
	AlertReconnect = "reconnect" // a connection needs reconnecting
	AlertFailing   = "failing"   // a stream failed FailingRuns runs in a row
	AlertReserve   = "reserve"   // the Salesforce API reserve holds syncing
	AlertDrift     = "drift"     // a mapped Salesforce field changed
)

// FailingRuns is how many failed runs in a row make a stream's alert.
const FailingRuns = 3

// alertsInterval is how often alerts are computed and mailed.
const alertsInterval = 5 * time.Minute

// Alert is one thing a merchant must know about.
type Alert struct {
	// Kind is one of the Alert* causes.
	Kind string
	// Cause identifies the alert within the tenant for the once-a-day
	// rule: the kind and what it is about ("failing:sales:ls→sf:1").
	Cause string
	// Message says what is wrong and what to do, in one or two sentences.
	Message string
}

// Alerts computes a tenant's alerts (the dashboard's banner) and emails
// them to the tenant's owners and admins, at most once per cause per UTC day.
type Alerts struct {
	Pool    *pgxpool.Pool
	Ledger  *ledger.Store
	Tenants *tenants.Store
	// Config and Mappings find schema drift; nil Config skips that check.
	Config   sync.ConfigSource
	Mappings *mapping.Store
	// Mail, when set, emails alerts; nil only shows them on the dashboard.
	Mail mail.Sender
	// DashboardURL is linked from the emails.
	DashboardURL string
	Logger       *slog.Logger
	Now          func() time.Time
}

// NewAlerts returns Alerts over pool, reading drift through config (nil
// skips drift) and mailing with sender (nil mails nothing).
func NewAlerts(pool *pgxpool.Pool, config sync.ConfigSource, sender mail.Sender, dashboardURL string, logger *slog.Logger) *Alerts {
	return &Alerts{Pool: pool, Ledger: ledger.New(pool), Tenants: tenants.NewStore(pool), Config: config,
		Mappings: mapping.NewStore(pool), Mail: sender, DashboardURL: dashboardURL, Logger: logger}
}

func (a *Alerts) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Current returns tenantID's alerts now, in a stable order.
func (a *Alerts) Current(ctx context.Context, tenantID string) ([]Alert, error) {
	var out []Alert
	conns, err := a.Tenants.Connections(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	for _, c := range conns {
		if c.Status == tenants.StatusNeedsReauth {
			name := providerName(string(c.Provider))
			out = append(out, Alert{Kind: AlertReconnect, Cause: AlertReconnect + ":" + string(c.Provider),
				Message: fmt.Sprintf("%s needs reconnecting: syncing with it has stopped. Open the dashboard and press Reconnect; every setting is kept.", name)})
		}
	}
	streams, err := a.Ledger.Streams(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	reserve := false
	for _, st := range streams {
		key := st.Stream + ":" + st.Location
		if st.FailedRuns >= FailingRuns && !st.Paused {
			msg := fmt.Sprintf("%s has failed its last %d runs.", streamName(st.StreamKey), st.FailedRuns)
			if st.LastRun != nil && st.LastRun.Error != "" {
				msg += " The last error: " + st.LastRun.Error
			}
			out = append(out, Alert{Kind: AlertFailing, Cause: AlertFailing + ":" + key, Message: msg})
		}
		if !reserve && (strings.Contains(st.HoldReason, "API reserve") || strings.Contains(st.HoldReason, "daily API allocation")) {
			reserve = true
			out = append(out, Alert{Kind: AlertReserve, Cause: AlertReserve, Message: st.HoldReason})
		}
	}
	if a.Config != nil && len(streams) > 0 {
		drift, err := a.drift(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if len(drift) > 0 {
			names := make([]string, len(drift))
			for i, d := range drift {
				names[i] = fmt.Sprintf("%s → %s (%s)", d.Label, d.Field(), d.Problem)
			}
			sort.Strings(names)
			out = append(out, Alert{Kind: AlertDrift, Cause: AlertDrift + ":" + strings.Join(names, ","),
				Message: "A mapped Salesforce field changed, so it is not synced until the field mapping is fixed: " + strings.Join(names, "; ") + "."})
		}
	}
	return out, nil
}

// drift is the tenant's mapped fields that its Salesforce org no longer
// accepts, by the cached describes.
func (a *Alerts) drift(ctx context.Context, tenantID string) ([]mapping.DriftItem, error) {
	cfg, err := a.Config.Config(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("alerts: drift: %w", err)
	}
	m, err := a.Mappings.Current(ctx, tenantID, cfg.Preset)
	if err != nil {
		return nil, fmt.Errorf("alerts: drift: %w", err)
	}
	return mapping.Drift(m, mapping.Catalog(cfg.CustomFields), cfg.Salesforce), nil
}

// Notify emails tenantID's owners and admins each alert not yet mailed
// today, and returns how many alerts it mailed. Without Send it does
// nothing.
func (a *Alerts) Notify(ctx context.Context, tenantID string) (int, error) {
	if a.Mail == nil {
		return 0, nil
	}
	alerts, err := a.Current(ctx, tenantID)
	if err != nil || len(alerts) == 0 {
		return 0, err
	}
	members, err := a.Tenants.Members(ctx, tenantID)
	if err != nil {
		return 0, fmt.Errorf("alerts: %w", err)
	}
	var to []string
	for _, m := range members {
		if m.Role == tenants.RoleOwner || m.Role == tenants.RoleAdmin {
			to = append(to, m.Email)
		}
	}
	if len(to) == 0 {
		return 0, nil
	}
	t, err := a.Tenants.Tenant(ctx, tenantID)
	if err != nil {
		return 0, fmt.Errorf("alerts: %w", err)
	}
	day := utcDay(a.now())
	sent := 0
	for _, al := range alerts {
		claimed, err := a.claim(ctx, tenantID, al.Cause, day)
		if err != nil {
			return sent, err
		}
		if !claimed {
			continue // already mailed today
		}
		subject := fmt.Sprintf("Tandem: %s needs you", t.Name)
		body := fmt.Sprintf("%s\n\nOpen your dashboard: %s\n\nYou get this email at most once a day per problem while it lasts.\n", al.Message, a.DashboardURL)
		var serr error
		for _, addr := range to {
			serr = errors.Join(serr, a.Mail.Send(ctx, mail.Message{To: addr, Subject: subject, Body: body}))
		}
		if serr != nil {
			// Release the claim so the next round tries again.
			if _, err := a.Pool.Exec(context.WithoutCancel(ctx),
				`DELETE FROM alerts_sent WHERE tenant_id = $1 AND cause = $2 AND day = $3`, tenantID, al.Cause, day); err != nil {
				serr = errors.Join(serr, err)
			}
			return sent, fmt.Errorf("alerts: send %s: %w", al.Cause, serr)
		}
		sent++
	}
	return sent, nil
}

// claim records that the alert of cause is mailed on day; false means it
// already was. Concurrent workers cannot both claim one cause.
func (a *Alerts) claim(ctx context.Context, tenantID, cause string, day time.Time) (bool, error) {
	var ok bool
	err := a.Pool.QueryRow(ctx, `INSERT INTO alerts_sent (tenant_id, cause, day) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING RETURNING true`, tenantID, cause, day).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("alerts: record %s: %w", cause, err)
	}
	return ok, nil
}

// alertsKeep is how long sent-alert rows are kept: only today's matter.
const alertsKeep = 7 * 24 * time.Hour

// Round mails every syncing tenant's new alerts and forgets old records.
// A tenant's failure is logged and does not stop the others.
func (a *Alerts) Round(ctx context.Context) error {
	ids, err := a.Ledger.Tenants(ctx)
	if err != nil {
		return err
	}
	var errs error
	for _, id := range ids {
		if _, err := a.Notify(ctx, id); err != nil {
			errs = errors.Join(errs, err)
			if a.Logger != nil {
				a.Logger.Warn("alerts: notify", "tenant_id", id, "err", err)
			}
		}
	}
	if _, err := a.Pool.Exec(ctx, `DELETE FROM alerts_sent WHERE day < $1`, utcDay(a.now().Add(-alertsKeep))); err != nil {
		errs = errors.Join(errs, fmt.Errorf("alerts: forget old: %w", err))
	}
	return errs
}

// AlertsArgs asks for a round of alerts.
type AlertsArgs struct{}

// Kind is River's job kind.
func (AlertsArgs) Kind() string { return "alerts" }

// InsertOpts makes concurrent schedulers enqueue at most one round at a time.
func (AlertsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// AlertsWorker runs a round of Alerts.
type AlertsWorker struct {
	river.WorkerDefaults[AlertsArgs]
	Alerts *Alerts
}

// Work runs one round.
func (w *AlertsWorker) Work(ctx context.Context, _ *river.Job[AlertsArgs]) error {
	return w.Alerts.Round(ctx)
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// streamName names a stream as the merchant reads it.
func streamName(k ledger.StreamKey) string {
	var s string
	switch k.Stream {
	case ledger.CustomersToSalesforce:
		s = "Customers, Lightspeed → Salesforce"
	case ledger.CustomersToLightspeed:
		s = "Customers, Salesforce → Lightspeed"
	case ledger.SalesToSalesforce:
		s = "Sales, Lightspeed → Salesforce"
	default:
		s = k.Stream
	}
	if k.Location != "" {
		s += " (shop " + k.Location + ")"
	}
	return s
}
