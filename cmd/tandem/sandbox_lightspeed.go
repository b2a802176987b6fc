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
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

// redirectURIs collects repeated --redirect-uri flags.
type redirectURIs []string

func (r *redirectURIs) String() string { return fmt.Sprint(*r) }

func (r *redirectURIs) Set(v string) error {
	if v == "" {
		return errors.New("redirect URI must not be empty")
	}
	*r = append(*r, v)
	return nil
}

// runSandboxLightspeed serves the Lightspeed Retail emulator until ctx is
// cancelled. By default it serves a seeded demo account.
func runSandboxLightspeed(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("tandem sandbox lightspeed", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8091", "listen address `HOST:PORT`")
	clientID := fs.String("client-id", "tandem-dev", "OAuth client id")
	clientSecret := fs.String("client-secret", "tandem-dev-secret", "OAuth client secret")
	var redirects redirectURIs
	fs.Var(&redirects, "redirect-uri", "registered OAuth redirect `URL` (repeatable)")
	accountID := fs.Int("account-id", 200001, "emulated account id")
	accountName := fs.String("account-name", "Tandem Demo Boutique", "emulated account name")
	bucketSize := fs.Float64("bucket-size", 90, "leaky bucket size in drips")
	dripRate := fs.Float64("drip-rate", 1, "leaky bucket drip rate per second")
	burst := fs.Int("burst", 20, "burst limit: requests per one-second window")
	tokenTTL := fs.Duration("token-ttl", time.Hour, "access token lifetime")
	seed := fs.String("seed", "42", "demo data seed `N`, or none for an empty account")
	shops := fs.Int("shops", 3, "number of seeded shops")
	customers := fs.Int("customers", 500, "number of seeded customers")
	sales := fs.Int("sales", 2000, "number of seeded sales")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tandem sandbox lightspeed [flags]\n\nServes an emulator of the Lightspeed Retail R-Series API, its OAuth server\nand a /_sandbox/ admin API.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err // flag.ErrHelp for --help, after usage was printed
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sandbox lightspeed: unexpected arguments %q", fs.Args())
	}
	switch {
	case *accountID <= 0:
		return errors.New("sandbox lightspeed: --account-id must be positive")
	case *bucketSize <= 0 || *dripRate <= 0 || *burst <= 0:
		return errors.New("sandbox lightspeed: --bucket-size, --drip-rate and --burst must be positive")
	case *tokenTTL <= 0:
		return errors.New("sandbox lightspeed: --token-ttl must be positive")
	case *shops < 0 || *customers < 0 || *sales < 0:
		return errors.New("sandbox lightspeed: --shops, --customers and --sales must not be negative")
	}
	var seedOpts *sandbox.SeedOptions
	if *seed != "none" {
		n, err := strconv.ParseInt(*seed, 10, 64)
		if err != nil {
			return fmt.Errorf("sandbox lightspeed: --seed must be an integer or none, got %q", *seed)
		}
		// SeedOptions reads 0 as "default" and negative as "none".
		size := func(v int) int {
			if v == 0 {
				return -1
			}
			return v
		}
		seedOpts = &sandbox.SeedOptions{Seed: n, Shops: size(*shops), Customers: size(*customers), Sales: size(*sales)}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox lightspeed: listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	sb := sandbox.New(sandbox.Options{
		ClientID: *clientID, ClientSecret: *clientSecret, RedirectURIs: redirects,
		AccountID: *accountID, AccountName: *accountName,
		BucketSize: *bucketSize, DripRate: *dripRate, Burst: *burst, TokenTTL: *tokenTTL,
		Seed: seedOpts, Logger: logger,
	})
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Lightspeed sandbox listening on %s (account %d, client %s)\n", base, *accountID, *clientID)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox lightspeed: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("sandbox lightspeed: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox lightspeed: serve: %w", err)
	}
	return nil
}
