package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/tandemsync/tandem/tenants/vault"
)

func runKeys(ctx context.Context, args []string, io *stdio, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(io.out, `Usage: tandem keys rotate

Re-seals every stored OAuth token under the current TANDEM_SECRET_KEY. To rotate:
  1. tandem keygen                       (the new key)
  2. set TANDEM_SECRET_KEY to the new key and add the old one to TANDEM_SECRET_KEYS
  3. restart serve and worker, then run: tandem keys rotate
  4. drop the old key from TANDEM_SECRET_KEYS
Running it twice is harmless.`)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	if args[0] != "rotate" {
		return fmt.Errorf("unknown keys command %q (want: keys rotate)", args[0])
	}
	fs := flag.NewFlagSet("tandem keys rotate", flag.ContinueOnError)
	if err := parseFlags(fs, args[1:], io); err != nil {
		return err
	}
	c, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	pool, err := c.connect(ctx, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	v, err := newVault(pool, c)
	if err != nil {
		return err
	}
	n, err := v.RotateAll(ctx)
	if err != nil {
		return fmt.Errorf("re-sealed %d connections, then: %w", n, err)
	}
	fmt.Fprintf(io.out, "Re-sealed %d connections under key %s.\n", n, vault.KeyID(c.SecretKey))
	return nil
}
