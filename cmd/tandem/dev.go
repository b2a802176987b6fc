package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	lssandbox "github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/sql/devpg"
	"github.com/tandemsync/tandem/sql/migrate"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/onboard"
)

// The demo logins `tandem dev` creates and prints. They exist only in a
// developer's own database.
const (
	demoBusiness      = "Demo Boutique"
	demoEmail         = "demo@tandem.test"
	demoPassword      = "demo-password"
	demoStaffEmail    = "staff@tandem.test"
	demoStaffPassword = "staff-password"
)

func runDev(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	start := time.Now()
	fs := flag.NewFlagSet("tandem dev", flag.ContinueOnError)
	addr := fs.String("addr", "", "web listen address `HOST:PORT` (overrides TANDEM_ADDR)")
	lsAddr := fs.String("lightspeed-addr", "", "Lightspeed sandbox `127.0.0.1:PORT` (default: web port + 1, on 127.0.0.1)")
	sfAddr := fs.String("salesforce-addr", "", "Salesforce sandbox `127.0.0.1:PORT` (default: web port + 2, on 127.0.0.1)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tandem dev [flags]\n\nRuns the whole product on this machine: a private PostgreSQL when DATABASE_URL\nis unset, migrations, both API sandboxes with demo data, the web app and the\nworker. Prints the URLs and demo logins.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		if err := c.setAddr(*addr); err != nil {
			return err
		}
	}
	if *lsAddr, err = sandboxAddr("--lightspeed-addr", *lsAddr, c.Addr, 1); err != nil {
		return err
	}
	if *sfAddr, err = sandboxAddr("--salesforce-addr", *sfAddr, c.Addr, 2); err != nil {
		return err
	}
	if err := c.devSecretKey(); err != nil {
		return err
	}
	logger := newLogger(io.err, c)

	dbURL := c.DatabaseURL
	if dbURL == "" {
		pg, err := devpg.Start(ctx, devpg.Options{Dir: filepath.Join(c.DataDir, "postgres")})
		if err != nil {
			return err
		}
		defer func() {
			if err := pg.Stop(); err != nil {
				logger.Warn("stop postgres", "err", err)
			}
		}()
		dbURL = pg.URL
		logger.Info("private postgres started", "dir", filepath.Join(c.DataDir, "postgres"))
	}
	pool, err := openDB(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrate.Up(ctx, pool); err != nil {
		return err
	}
	if err := seedDemo(ctx, tenants.NewStore(pool)); err != nil {
		return err
	}
	// The sandboxes below start empty on every run: connections from the
	// last run would say "connected" against tokens they never issued.
	forgotten, err := forgetSandboxConnections(ctx, pool, c)
	if err != nil {
		return err
	}
	// Request logs at debug level, so the banner below stays readable;
	// LOG_LEVEL=debug shows them.
	c.RequestLogLevel = slog.LevelDebug

	webLn, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pass --addr to use another port)", c.Addr, err)
	}
	lsLn, err := net.Listen("tcp", *lsAddr)
	if err != nil {
		webLn.Close()
		return fmt.Errorf("Lightspeed sandbox: listen on %s: %w (pass --lightspeed-addr)", *lsAddr, err)
	}
	sfLn, err := net.Listen("tcp", *sfAddr)
	if err != nil {
		webLn.Close()
		lsLn.Close()
		return fmt.Errorf("Salesforce sandbox: listen on %s: %w (pass --salesforce-addr)", *sfAddr, err)
	}
	c.Addr = webLn.Addr().String()
	base := c.baseURL()
	lsURL := "http://" + lsLn.Addr().String()
	sfURL := "http://" + sfLn.Addr().String()

	seed := int64(42)
	ls := lssandbox.New(lssandbox.Options{
		ClientID:     devClientID,
		ClientSecret: devClientSecret,
		RedirectURIs: []string{base + "/connect/lightspeed/callback"},
		Seed:         &lssandbox.SeedOptions{Seed: seed},
		BaseURL:      lsURL,
		Logger:       logger.With("component", "lightspeed-sandbox"),
	})
	sf := sfsandbox.New(sfsandbox.Options{
		ClientID:     devClientID,
		ClientSecret: devClientSecret,
		RedirectURIs: []string{base + "/connect/salesforce/callback"},
		Seed:         &seed,
		BaseURL:      sfURL,
		Logger:       logger.With("component", "salesforce-sandbox"),
	})

	providers := devProviders(lsURL, sfURL)
	// One Lightspeed Limits for the process: the web app and the worker
	// share every account's bucket (and, through Postgres, with every other
	// process).
	limits := newLightspeedLimits(pool)
	// Without SMTP_URL, mail is caught and shown at /dev/mail.
	var devMail *mail.Mailbox
	mailLine := "none: mail is sent via SMTP_URL"
	if c.SMTPURL == "" {
		devMail = mail.NewMailbox()
		mailLine = base + "/dev/mail"
	} else if smtp, err := c.mailSender(); err == nil {
		mailLine = "none: mail is sent via " + smtp.String()
	}
	reg := newRegistry()
	reg.MustRegister(jobs.NewSyncCollector(pool))
	handler, err := newWebHandler(pool, logger, c, providers, limits, devMail, reg)
	if err != nil {
		return err
	}
	v, err := newVault(pool, c)
	if err != nil {
		return err
	}
	syncCfg, err := newSyncConfig(pool, v, providers, limits, c.SyncInterval, logger)
	if err != nil {
		return err
	}
	alerts, err := newAlerts(pool, c, logger, devMail)
	if err != nil {
		return err
	}
	worker, err := jobs.NewClient(pool, jobs.Config{
		Logger:              logger,
		LightspeedKeepAlive: &jobs.LightspeedKeepAlive{Vault: v, OAuth: providers.LightspeedOAuth()},
		Sync:                syncCfg,
		EventRetention:      c.EventRetention,
		Alerts:              alerts,
	})
	if err != nil {
		return err
	}
	if err := worker.Start(ctx); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(gctx, logger, webLn, handler) })
	g.Go(func() error { return serveHTTP(gctx, logger, lsLn, ls) })
	g.Go(func() error { return serveHTTP(gctx, logger, sfLn, sf) })
	// A busy metrics port should not stop a developer's demo: say so and
	// go on without.
	metricsURL := "off (" + c.MetricsAddr + " is busy: set TANDEM_METRICS_ADDR)"
	if mln, err := listenMetrics(c); err != nil {
		logger.Warn("metrics not served", "err", err)
	} else {
		metricsURL = "http://" + mln.Addr().String() + "/metrics"
		g.Go(func() error { return serveHTTP(gctx, logger, mln, metricsHandler(reg)) })
	}
	g.Go(func() error {
		<-gctx.Done()
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 30*time.Second)
		defer cancel()
		return worker.Stop(stopCtx)
	})

	fmt.Fprintf(io.out, `
Tandem is running (ready in %s).

  Web:                 %s
  Lightspeed sandbox:  %s
  Salesforce sandbox:  %s
  Metrics:             %s

  Merchant login:      %s / %s
  Staff login:         %s / %s   (%s/staff)
  Salesforce sandbox user: %s / %s
  Dev mailbox:         %s
%s
Press Ctrl-C to stop.
`, time.Since(start).Round(time.Millisecond), base, lsURL, sfURL, metricsURL,
		demoEmail, demoPassword, demoStaffEmail, demoStaffPassword, base,
		sfsandbox.DefaultUsername, sfsandbox.DefaultPassword, mailLine, restartNote(forgotten))

	err = g.Wait()
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, context.Canceled) {
		err = nil
	}
	logger.Info("stopped")
	return err
}

// The OAuth client both dev sandboxes know Tandem as. Not a secret: the
// sandboxes exist only on the developer's machine.
const (
	devClientID     = "tandem-dev"
	devClientSecret = "tandem-dev-secret"
)

// devProviders points Tandem at the sandboxes: Lightspeed's OAuth server and
// API are both lsURL; every Salesforce login host (production, sandbox and
// any My Domain, which is still validated as on the real service) is sfURL.
func devProviders(lsURL, sfURL string) connect.Providers {
	return connect.Providers{
		Lightspeed: connect.LightspeedProvider{
			ClientID: devClientID, ClientSecret: devClientSecret,
			AuthURL: lsURL, APIURL: lsURL,
		},
		Salesforce: connect.SalesforceProvider{
			ClientID: devClientID, ClientSecret: devClientSecret,
			ProductionLoginURL: sfURL, SandboxLoginURL: sfURL,
			MyDomainLoginURL: func(input string) (string, error) {
				if _, err := salesforce.MyDomainLoginURL(input); err != nil {
					return "", err
				}
				return sfURL, nil
			},
		},
	}
}

// seedDemo creates the demo merchant and staff user unless they exist.
func seedDemo(ctx context.Context, store *tenants.Store) error {
	_, _, err := store.SignUp(ctx, tenants.SignUpParams{
		BusinessName: demoBusiness, Email: demoEmail, Password: demoPassword,
	})
	if err != nil && !errors.Is(err, tenants.ErrEmailTaken) {
		return fmt.Errorf("seed demo merchant: %w", err)
	}
	if _, err := store.AddStaff(ctx, demoStaffEmail, demoStaffPassword); err != nil {
		return fmt.Errorf("seed demo staff user: %w", err)
	}
	return nil
}

// sandboxAddr is where a sandbox listens: flag's value, or port offset
// after the web's. Always on the loopback interface, whatever the web's
// address: the sandboxes' /_sandbox/ admin API has no authentication, so
// it must not be reachable from another machine.
func sandboxAddr(name, flag, webAddr string, offset int) (string, error) {
	if flag == "" {
		_, port, _ := net.SplitHostPort(offsetAddr(webAddr, offset))
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	host, port, err := net.SplitHostPort(flag)
	if err != nil || port == "" {
		return "", configErrorf("%s: want 127.0.0.1:PORT, got %q", name, flag)
	}
	switch host {
	case "", "localhost", "127.0.0.1":
		return net.JoinHostPort("127.0.0.1", port), nil
	case "::1":
		return flag, nil
	}
	return "", configErrorf("%s: the sandboxes listen on 127.0.0.1 only (their admin API has no authentication), got %q", name, flag)
}

// offsetAddr is addr with its port increased by n ("127.0.0.1:8080", 1 →
// "127.0.0.1:8081"); port 0 stays 0 (any free port).
func offsetAddr(addr string, n int) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(p+n))
}

// forgetSandboxConnections marks disconnected every connection the last
// run left, which the fresh sandboxes do not know (see
// onboard.ForgetSandboxConnections).
func forgetSandboxConnections(ctx context.Context, pool *pgxpool.Pool, c config) (int, error) {
	v, err := newVault(pool, c)
	if err != nil {
		return 0, err
	}
	n, err := onboard.ForgetSandboxConnections(ctx, pool, v)
	if err != nil {
		return 0, fmt.Errorf("reset connections to the restarted sandboxes: %w", err)
	}
	return n, nil
}

// restartNote tells, in the banner, that connections of the last run were
// marked disconnected, or nothing when there were none.
func restartNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("\n  The sandboxes start empty on every run: %d connection(s) from the last run are now\n  \"disconnected\". Connect again from the dashboard; settings and store choices are kept.\n", n)
}
