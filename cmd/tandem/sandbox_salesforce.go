package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

// runSandboxSalesforce runs the Salesforce emulator until ctx is done.
func runSandboxSalesforce(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("tandem sandbox salesforce", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8092", "listen address `HOST:PORT`")
	clientID := fs.String("client-id", sandbox.DefaultClientID, "connected app consumer key")
	clientSecret := fs.String("client-secret", sandbox.DefaultClientSecret, "connected app consumer secret")
	var redirects sfRedirectURIs
	fs.Var(&redirects, "redirect-uri", "allowed OAuth callback `URL` (repeatable; none allows any)")
	username := fs.String("username", sandbox.DefaultUsername, "admin username")
	password := fs.String("password", sandbox.DefaultPassword, "admin password")
	personAccounts := fs.Bool("person-accounts", false, "enable person accounts")
	dupRule := fs.Bool("duplicate-rule-email", false, "turn on the Contact email duplicate rule (DUPLICATES_DETECTED)")
	limit := fs.Int("daily-api-limit", sandbox.DefaultDailyAPILimit, "rolling 24-hour API allocation")
	rotate := fs.Bool("rotate-refresh-tokens", false, "issue a new refresh token on every refresh")
	ttl := fs.Duration("token-ttl", sandbox.DefaultTokenTTL, "access token lifetime")
	seedFlag := fs.String("seed", "1", "demo data seed `N`, or none for a bare org")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tandem sandbox salesforce [flags]\n\nRuns an in-memory Salesforce org (OAuth, REST, composite, query, Bulk API 2.0, Tooling) for tests and demos.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err // flag.ErrHelp for --help, after usage was printed
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sandbox salesforce: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var seed *int64
	if *seedFlag != "none" {
		n, err := strconv.ParseInt(*seedFlag, 10, 64)
		if err != nil {
			return fmt.Errorf("sandbox salesforce: --seed must be a number or none, got %q", *seedFlag)
		}
		seed = &n
	}
	if *limit <= 0 {
		return fmt.Errorf("sandbox salesforce: --daily-api-limit must be positive, got %d", *limit)
	}
	if *ttl <= 0 {
		return fmt.Errorf("sandbox salesforce: --token-ttl must be positive, got %s", *ttl)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox salesforce: listen on %s: %w", *addr, err)
	}
	srv := sandbox.New(sandbox.Options{
		ClientID: *clientID, ClientSecret: *clientSecret, RedirectURIs: redirects,
		Username: *username, Password: *password,
		PersonAccounts: *personAccounts, DuplicateRuleEmail: *dupRule, RotateRefreshTokens: *rotate,
		DailyAPILimit: *limit, TokenTTL: *ttl, Seed: seed, Logger: logger,
	})
	defer srv.Close()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "salesforce sandbox listening on http://%s (login %s)\n", ln.Addr(), *username)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox salesforce: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("sandbox salesforce: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox salesforce: serve: %w", err)
	}
	return nil
}

// sfRedirectURIs is a repeatable string flag.
type sfRedirectURIs []string

func (l *sfRedirectURIs) String() string { return strings.Join(*l, ",") }

func (l *sfRedirectURIs) Set(v string) error {
	*l = append(*l, v)
	return nil
}
