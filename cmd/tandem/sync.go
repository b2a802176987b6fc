package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/tenants/vault"
)

// newSyncConfig wires the sync engine: tenants' clients from the vault,
// paced by the process's one Lightspeed Limits, their calls counted per run
// and per tenant and day, and the Salesforce API reserve.
func newSyncConfig(pool *pgxpool.Pool, v *vault.Vault, providers connect.Providers, limits *lightspeed.Limits,
	interval time.Duration, logger *slog.Logger) (*jobs.SyncConfig, error) {
	usage := connect.NewUsage(pool, nil)
	clients, err := connect.New(connect.Config{
		Vault: v, Providers: providers, Limits: limits, Usage: usage,
		Transport: func(provider string, base http.RoundTripper) http.RoundTripper {
			return sync.CountingTransport(provider, base)
		},
	})
	if err != nil {
		return nil, err
	}
	// Probes pace Lightspeed in this process only (connect.Clients.WithLimits).
	probes := clients.WithLimits(lightspeed.NewLimits(lightspeed.LimitsOptions{}))
	engine := sync.New(ledger.New(pool), mapping.NewStore(pool), clients, jobs.SetupConfig{Setup: setup.NewStore(pool)},
		logger.With("component", "sync"), sync.Options{Interval: interval, Describes: setup.NewStore(pool), Probes: probes})
	return &jobs.SyncConfig{
		Engine:   engine,
		Interval: interval,
		Reserve:  usage.ReserveCheck(connect.DefaultReservePct),
		Flush:    usage.FlushTenant,
		FlushAll: usage.Flush,
	}, nil
}

// newAlerts wires the alerts: computed from the sync's state and the
// tenants' Salesforce describes, linked to the dashboard, mailed through
// SMTP_URL when it is set, else to devMail (tandem dev's mailbox) when
// given; with neither they are shown on the dashboard only.
func newAlerts(pool *pgxpool.Pool, c config, logger *slog.Logger, devMail *mail.Mailbox) (*jobs.Alerts, error) {
	var sender mail.Sender
	switch {
	case c.SMTPURL != "":
		smtp, err := c.mailSender()
		if err != nil {
			return nil, configErrorf("SMTP_URL: %v", err)
		}
		sender = smtp
	case devMail != nil:
		sender = devMail
	}
	return jobs.NewAlerts(pool, jobs.SetupConfig{Setup: setup.NewStore(pool)}, sender,
		c.baseURL()+"/dashboard", logger.With("component", "alerts")), nil
}
