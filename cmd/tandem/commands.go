package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/sql/migrate"
	"github.com/tandemsync/tandem/tenants"
)

// openDB connects and pings, so an unreachable database is reported at start
// with the host it tried, not on the first request.
func openDB(ctx context.Context, dbURL string) (*pgxpool.Pool, error) {
	host := "the database"
	if u, err := url.Parse(dbURL); err == nil && u.Host != "" {
		host = u.Host
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, configErrorf("DATABASE_URL: %v", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the database at %s: %w", host, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database at %s: %w", host, err)
	}
	return pool, nil
}

func requireDatabaseURL(c config) error {
	if c.DatabaseURL == "" {
		return configErrorf("DATABASE_URL is not set: want a PostgreSQL URL such as postgres://user@host:5432/tandem")
	}
	return nil
}

// connect checks what a database command needs (DATABASE_URL, and the
// secret key when needKey) and connects.
func (c *config) connect(ctx context.Context, needKey bool) (*pgxpool.Pool, error) {
	if err := requireDatabaseURL(*c); err != nil {
		return nil, err
	}
	if needKey {
		if err := c.requireSecretKey(); err != nil {
			return nil, err
		}
	}
	return openDB(ctx, c.DatabaseURL)
}

func runMigrate(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("tandem migrate", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tandem migrate\n\nApplies Tandem's and River's pending migrations to DATABASE_URL. Safe to run\ntwice or from several processes at once.")
	}
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	pool, err := c.connect(ctx, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := migrate.Up(ctx, pool)
	if err != nil {
		return err
	}
	if len(res.Applied) == 0 && res.RiverApplied == 0 {
		fmt.Fprintln(io.out, "Database is up to date.")
		return nil
	}
	for _, m := range res.Applied {
		fmt.Fprintf(io.out, "Applied %s\n", m)
	}
	if res.RiverApplied > 0 {
		fmt.Fprintf(io.out, "Applied %d River migrations\n", res.RiverApplied)
	}
	return nil
}

func runWorker(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("tandem worker", flag.ContinueOnError)
	maxWorkers := fs.Int("max-workers", 10, "housekeeping jobs worked at once by this process")
	syncWorkers := fs.Int("sync-workers", 32, "sync runs worked at once by this process")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tandem worker [flags]\n\nRuns background jobs (sync streams and housekeeping) until SIGINT/SIGTERM.\nRun as many as you like against one database.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(io.err, c)
	pool, err := c.connect(ctx, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrate.Check(ctx, pool); err != nil {
		return fmt.Errorf("%w (run `tandem migrate`)", err)
	}
	v, err := newVault(pool, c)
	if err != nil {
		return err
	}
	providers := productionProviders(c)
	syncCfg, err := newSyncConfig(pool, v, providers, newLightspeedLimits(pool), c.SyncInterval, logger)
	if err != nil {
		return err
	}
	syncCfg.Workers = *syncWorkers
	alerts, err := newAlerts(pool, c, logger, nil)
	if err != nil {
		return err
	}
	jcfg := jobs.Config{Logger: logger, MaxWorkers: *maxWorkers, Sync: syncCfg, EventRetention: c.EventRetention, Alerts: alerts}
	if c.LightspeedClientID != "" {
		jcfg.LightspeedKeepAlive = &jobs.LightspeedKeepAlive{Vault: v, OAuth: providers.LightspeedOAuth()}
	}
	client, err := jobs.NewClient(pool, jcfg)
	if err != nil {
		return err
	}
	mln, err := listenMetrics(c)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		mln.Close()
		return fmt.Errorf("start worker: %w", err)
	}
	logger.Info("worker started", "max_workers", *maxWorkers, "sync_workers", *syncWorkers, "sync_interval", c.SyncInterval, "metrics_addr", mln.Addr().String())
	g, gctx := errgroup.WithContext(ctx)
	reg := newRegistry()
	reg.MustRegister(jobs.NewSyncCollector(pool))
	g.Go(func() error { return serveHTTP(gctx, logger, mln, metricsHandler(reg)) })
	<-gctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	logger.Info("worker stopping: finishing running jobs")
	return errors.Join(client.Stop(stopCtx), g.Wait())
}

func runStaff(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(io.out, "Usage: tandem staff add EMAIL [--password-file FILE]\n\nCreates a support-staff user, or gives an existing user staff access. The\npassword is read from FILE, or asked for at the terminal (or read from the\nfirst line of standard input when it is not a terminal).")
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	if args[0] != "add" {
		return fmt.Errorf("unknown staff command %q (want: staff add EMAIL)", args[0])
	}
	fs := flag.NewFlagSet("tandem staff add", flag.ContinueOnError)
	passwordFile := fs.String("password-file", "", "read the password from `FILE` (first line)")
	// Accept the email before or after the flags.
	rest := args[1:]
	var email string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		email, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fs, rest, io); err != nil {
		return err
	}
	if email == "" && fs.NArg() > 0 {
		email = fs.Arg(0)
	}
	if email == "" {
		return errors.New("staff add needs an EMAIL: tandem staff add support@example.com")
	}
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if err := requireDatabaseURL(c); err != nil {
		return err
	}
	password, err := readPassword(io, *passwordFile)
	if err != nil {
		return err
	}
	pool, err := openDB(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	created, err := tenants.NewStore(pool).AddStaff(ctx, email, password)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(io.out, "Created staff user %s.\n", email)
	} else {
		fmt.Fprintf(io.out, "%s now has staff access (password unchanged).\n", email)
	}
	return nil
}

func readPassword(io *stdio, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	if f, ok := io.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(io.err, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(io.err)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(io.in).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given: use --password-file FILE or type it at the prompt")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runKeygen(_ context.Context, args []string, io *stdio, _ func(string) string) error {
	fs := flag.NewFlagSet("tandem keygen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tandem keygen\n\nPrints 32 random bytes in base64, for TANDEM_SECRET_KEY.")
	}
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	fmt.Fprintln(io.out, newKey())
	return nil
}

func runVersion(_ context.Context, args []string, io *stdio, _ func(string) string) error {
	fs := flag.NewFlagSet("tandem version", flag.ContinueOnError)
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	fmt.Fprintln(io.out, "tandem", version())
	return nil
}

// version is the VCS revision the binary was built from, as the go command
// records it.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return info.Main.Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "-dirty"
	}
	return rev
}

func runSandbox(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(io.out, "Usage: tandem sandbox lightspeed|salesforce [flags]\n\nServes an emulator of that API for tests, demos and benchmarks.\nRun `tandem sandbox lightspeed --help` for its flags.")
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(io.err, c)
	switch args[0] {
	case "lightspeed":
		return runSandboxLightspeed(ctx, args[1:], io.out, logger)
	case "salesforce":
		return runSandboxSalesforce(ctx, args[1:], io.out, logger)
	default:
		return fmt.Errorf("unknown sandbox %q (want lightspeed or salesforce)", args[0])
	}
}
