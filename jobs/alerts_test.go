package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/jobs/sync"
	"github.com/tandemsync/tandem/sql/dbtest"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/tenants/setup"
)

var cheapParams = tenants.PasswordParams{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// failingMail refuses every message, like a mail server that is down.
type failingMail struct{ err error }

func (f failingMail) Send(context.Context, mail.Message) error { return f.err }

// signUp creates a tenant with an owner and returns the tenant id.
func signUp(t *testing.T, pool *pgxpool.Pool, business, email string) string {
	t.Helper()
	tn, _, err := tenants.NewStore(pool, tenants.WithPasswordParams(cheapParams)).SignUp(t.Context(),
		tenants.SignUpParams{BusinessName: business, Email: email, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

// failRuns records n failed runs of k.
func failRuns(t *testing.T, l *ledger.Store, k ledger.StreamKey, n int) {
	t.Helper()
	ctx := t.Context()
	for range n {
		run, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.FinishRun(ctx, run, errors.New("salesforce: 500 INTERNAL_ERROR"), nil, ledger.Schedule{Interval: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAlertsFailedRunsMailOncePerDay(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	l := ledger.New(pool)
	tenant := signUp(t, pool, "Alert Boutique", "owner@alert.example")
	other := signUp(t, pool, "Quiet Boutique", "owner@quiet.example")
	k := ledger.StreamKey{TenantID: tenant, Stream: ledger.CustomersToSalesforce}
	for _, key := range []ledger.StreamKey{k, {TenantID: other, Stream: ledger.CustomersToSalesforce}} {
		if err := l.EnsureStreams(ctx, key.TenantID, []ledger.StreamKey{key}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	box := mail.NewMailbox()
	a := jobs.NewAlerts(pool, nil, box, "https://app.tandem.example/dashboard", nil)
	a.Now = func() time.Time { return now }

	// Two failures are not yet an alert; the other tenant has none.
	failRuns(t, l, k, 2)
	failRuns(t, l, ledger.StreamKey{TenantID: other, Stream: ledger.CustomersToSalesforce}, 1)
	if err := a.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(box.Messages()); n != 0 {
		t.Fatalf("after two failed runs: %d emails, want 0", n)
	}

	failRuns(t, l, k, 1)
	al, err := a.Current(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(al) != 1 || al[0].Kind != jobs.AlertFailing || !strings.Contains(al[0].Message, "failed its last 3 runs") {
		t.Fatalf("Current = %+v; want one failing alert", al)
	}
	for range 2 {
		if err := a.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(box.Messages()); n != 1 {
		t.Fatalf("third failed run, two rounds: %d emails, want 1", n)
	}
	msg := box.Messages()[0]
	if msg.To != "owner@alert.example" || msg.Subject != "Tandem: Alert Boutique needs you" ||
		!strings.Contains(msg.Body, "INTERNAL_ERROR") || !strings.Contains(msg.Body, "https://app.tandem.example/dashboard") {
		t.Errorf("email = %+v", msg)
	}

	// A fourth failure the same day: still one email.
	failRuns(t, l, k, 1)
	if err := a.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(box.Messages()); n != 1 {
		t.Fatalf("fourth failed run the same day: %d emails, want 1", n)
	}

	// The next day it is mailed again while it lasts.
	now = now.Add(24 * time.Hour)
	if err := a.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(box.Messages()); n != 2 {
		t.Fatalf("next day: %d emails, want 2", n)
	}
}

// A send that fails does not count as sent: the next round tries again.
func TestAlertsFailedSendRetries(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	l := ledger.New(pool)
	tenant := signUp(t, pool, "Retry Boutique", "owner@retry.example")
	k := ledger.StreamKey{TenantID: tenant, Stream: ledger.CustomersToLightspeed}
	if err := l.EnsureStreams(ctx, tenant, []ledger.StreamKey{k}); err != nil {
		t.Fatal(err)
	}
	failRuns(t, l, k, 3)
	a := jobs.NewAlerts(pool, nil, failingMail{errors.New("smtp: 451 try later")}, "http://localhost/dashboard", nil)
	if err := a.Round(ctx); err == nil {
		t.Fatal("Round with a failing sender: no error")
	}
	box := mail.NewMailbox()
	a.Mail = box
	if err := a.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(box.Messages()); n != 1 {
		t.Fatalf("after the server recovered: %d emails, want 1", n)
	}
}

// The reserve's hold and a connection needing reconnecting are alerts too.
func TestAlertsReserveAndReconnect(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	l := ledger.New(pool)
	tenant := signUp(t, pool, "Held Boutique", "owner@held.example")
	k := ledger.StreamKey{TenantID: tenant, Stream: ledger.CustomersToSalesforce}
	if err := l.EnsureStreams(ctx, tenant, []ledger.StreamKey{k}); err != nil {
		t.Fatal(err)
	}
	if err := l.Hold(ctx, k, "Paused: Salesforce API reserve reached: 95 of the org's 100 daily calls used."); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO connections (tenant_id, provider, status, external_account) VALUES ($1, 'salesforce', 'needs_reauth', '00D000000000001')`, tenant); err != nil {
		t.Fatal(err)
	}
	al, err := jobs.NewAlerts(pool, nil, nil, "", nil).Current(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range al {
		kinds = append(kinds, a.Kind)
	}
	if strings.Join(kinds, ",") != "reconnect,reserve" {
		t.Errorf("alerts = %v; want reconnect,reserve", kinds)
	}
}

func TestRetentionPrunesOldEventsAndRuns(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	l := ledger.New(pool)
	tenant := signUp(t, pool, "Old Boutique", "owner@old.example")
	k := ledger.StreamKey{TenantID: tenant, Stream: ledger.CustomersToSalesforce}
	if err := l.EnsureStreams(ctx, tenant, []ledger.StreamKey{k}); err != nil {
		t.Fatal(err)
	}
	// Three runs: 400 days old, 100 days old, and today's (the stream's
	// last run), each with 7 events.
	for _, age := range []int{400, 100, 0} {
		run, err := l.StartRun(ctx, k, ledger.TriggerSchedule, 0)
		if err != nil {
			t.Fatal(err)
		}
		var evs []ledger.Event
		for range 7 {
			evs = append(evs, ledger.Event{Action: ledger.ActionCreated, Kind: ledger.KindCustomer, LSID: "1"})
		}
		if err := l.CommitPage(ctx, run, ledger.Page{Events: evs}); err != nil {
			t.Fatal(err)
		}
		if err := l.FinishRun(ctx, run, nil, nil, ledger.Schedule{Interval: time.Minute}); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE sync_runs SET started_at = now() - make_interval(days => $2) WHERE id = $1`, run.ID, age); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE sync_events SET created_at = now() - make_interval(days => $2) WHERE run_id = $1`, run.ID, age); err != nil {
			t.Fatal(err)
		}
	}
	// A stream whose last run is old keeps it: the dashboard shows it.
	idle := ledger.StreamKey{TenantID: tenant, Stream: ledger.CustomersToLightspeed}
	if err := l.EnsureStreams(ctx, tenant, []ledger.StreamKey{k, idle}); err != nil {
		t.Fatal(err)
	}
	run, err := l.StartRun(ctx, idle, ledger.TriggerSchedule, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.FinishRun(ctx, run, nil, nil, ledger.Schedule{Interval: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE sync_runs SET started_at = now() - interval '500 days' WHERE id = $1`, run.ID); err != nil {
		t.Fatal(err)
	}
	// Batches of 3 force several statements per table.
	w := &jobs.RetentionWorker{Ledger: l, Events: 90 * 24 * time.Hour, Batch: 3}
	events, runs, err := w.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if events != 14 || runs != 1 {
		t.Errorf("pruned %d events and %d runs; want 14 and 1", events, runs)
	}
	var nEvents, nRuns int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM sync_events), (SELECT count(*) FROM sync_runs)`).Scan(&nEvents, &nRuns); err != nil {
		t.Fatal(err)
	}
	if nEvents != 7 || nRuns != 3 {
		t.Errorf("left %d events and %d runs; want 7 (today's) and 3 (a year's and the idle stream's last)", nEvents, nRuns)
	}
}

// A mapped Salesforce field that changed under the mapping is an alert
// naming it; an org never discovered says nothing.
func TestAlertsSchemaDrift(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	l := ledger.New(pool)
	tenant := signUp(t, pool, "Drift Boutique", "owner@drift.example")
	k := ledger.StreamKey{TenantID: tenant, Stream: ledger.CustomersToSalesforce}
	if err := l.EnsureStreams(ctx, tenant, []ledger.StreamKey{k}); err != nil {
		t.Fatal(err)
	}
	var org *setup.SalesforceDiscovery
	cfg := sync.ConfigFunc(func(context.Context, string) (sync.TenantConfig, error) {
		return sync.TenantConfig{Preset: mapping.PresetClassic, Salesforce: org}, nil
	})
	box := mail.NewMailbox()
	a := jobs.NewAlerts(pool, cfg, box, "http://localhost/dashboard", nil)
	if al, err := a.Current(ctx, tenant); err != nil || len(al) != 0 {
		t.Fatalf("never discovered: alerts %+v, %v; want none", al, err)
	}
	// The org's Email field was retyped to a checkbox.
	org = &setup.SalesforceDiscovery{Objects: []setup.SObject{{Name: "Contact", Label: "Contact", Fields: []setup.SField{
		{Name: "Email", Label: "Email", Type: "boolean", Createable: true, Updateable: true},
	}}}}
	al, err := a.Current(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(al) != 1 || al[0].Kind != jobs.AlertDrift || !strings.Contains(al[0].Message, "Contact.Email") {
		t.Fatalf("alerts = %+v; want one drift alert naming Contact.Email", al)
	}
	for range 2 {
		if err := a.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(box.Messages()); n != 1 {
		t.Errorf("drift emails = %d, want 1", n)
	}
}
