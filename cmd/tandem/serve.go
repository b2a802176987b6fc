package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/sql/migrate"
	"github.com/tandemsync/tandem/tenants/vault"
	"github.com/tandemsync/tandem/web"
)

func runServe(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("tandem serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "listen address `HOST:PORT` (overrides TANDEM_ADDR)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tandem serve [flags]\n\nRuns the web app until SIGINT/SIGTERM, then finishes in-flight requests.\n\nFlags:")
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
	logger := newLogger(io.err, c)
	pool, err := c.connect(ctx, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	reg := newRegistry()
	handler, err := newWebHandler(pool, logger, c, productionProviders(c), newLightspeedLimits(pool), nil, reg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	mln, err := listenMetrics(c)
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("web listening", "addr", ln.Addr().String(), "base_url", c.baseURL(), "metrics_addr", mln.Addr().String())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(gctx, logger, ln, handler) })
	g.Go(func() error { return serveHTTP(gctx, logger, mln, metricsHandler(reg)) })
	return g.Wait()
}

// newWebHandler builds the web app. Mail goes through SMTP_URL when it is
// set, else to devMail (tandem dev's mailbox) when that is given; with
// neither, the app runs but cannot send password reset or invitation
// emails, and says so in the log.
func newWebHandler(pool *pgxpool.Pool, logger *slog.Logger, c config, providers connect.Providers, limits *lightspeed.Limits, devMail *mail.Mailbox, reg *prometheus.Registry) (http.Handler, error) {
	v, err := newVault(pool, c)
	if err != nil {
		return nil, err
	}
	var sender mail.Sender
	switch {
	case c.SMTPURL != "":
		smtp, err := c.mailSender()
		if err != nil {
			return nil, configErrorf("SMTP_URL: %v", err)
		}
		sender, devMail = smtp, nil
		logger.Info("mail via SMTP", "server", smtp.String())
	case devMail == nil:
		logger.Warn("SMTP_URL is not set: password reset and invitation emails cannot be sent")
	}
	srv, err := web.New(web.Config{
		Pool:      pool,
		Logger:    logger,
		BaseURL:   c.baseURL(),
		SecretKey: c.SecretKey,
		// /readyz is public: it names what is wrong, while the details
		// (database host, user) go to the log only.
		Ready: func(ctx context.Context) error {
			if err := pool.Ping(ctx); err != nil {
				logger.Warn("readiness: database unreachable", "err", err)
				return errors.New("database unreachable")
			}
			if err := migrate.Check(ctx, pool); err != nil {
				logger.Warn("readiness: schema not current", "err", err)
				if errors.Is(err, migrate.ErrPending) {
					return errors.New("migrations pending: run `tandem migrate`")
				}
				return errors.New("schema check failed")
			}
			return nil
		},
		Vault:            v,
		Providers:        providers,
		LightspeedLimits: limits,
		Mail:             sender,
		RequestLogLevel:  c.RequestLogLevel,
		DevMailbox:       devMail,
		Registry:         reg,
	})
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}

// newVault is the token vault: it seals with TANDEM_SECRET_KEY and still
// opens what older keys (TANDEM_SECRET_KEYS) sealed, until `tandem keys
// rotate`.
func newVault(pool *pgxpool.Pool, c config) (*vault.Vault, error) {
	keys, err := vault.NewKeyRing(c.SecretKey, c.OldKeys...)
	if err != nil {
		return nil, err
	}
	return vault.New(pool, keys), nil
}

// newLightspeedLimits is the process's one Lightspeed rate-limit registry:
// its buckets live in Postgres, so this process and every other web and
// worker process share each account's bucket.
func newLightspeedLimits(pool *pgxpool.Pool) *lightspeed.Limits {
	return lightspeed.NewLimits(lightspeed.LimitsOptions{Store: connect.NewBuckets(pool)})
}

// productionProviders are the real Lightspeed and Salesforce services with
// the client registrations from the environment. A missing client id is
// not an error: the Connect page tells the merchant the operator has not
// configured that provider.
func productionProviders(c config) connect.Providers {
	return connect.Providers{
		Lightspeed: connect.LightspeedProvider{ClientID: c.LightspeedClientID, ClientSecret: c.LightspeedClientSecret,
			APIURL: c.LightspeedAPIURL, AuthURL: c.LightspeedAuthURL},
		// SALESFORCE_LOGIN_URL replaces the Production login host only:
		// Sandbox and My Domain stay choosable.
		Salesforce: connect.SalesforceProvider{ClientID: c.SalesforceClientID, ClientSecret: c.SalesforceClientSecret,
			ProductionLoginURL: c.SalesforceLoginURL},
	}
}

// serveHTTP serves until ctx is done, then stops accepting and waits up to
// 30 s for in-flight requests to finish.
func serveHTTP(ctx context.Context, logger *slog.Logger, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
