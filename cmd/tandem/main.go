// Command tandem is Tandem's one binary: the web app, the sync worker, the
// migrator, the API sandboxes, and `tandem dev`, which runs all of them on a
// laptop. This package reads configuration and wires packages together; the
// work happens elsewhere.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}

// stdio is the process's standard streams, replaced in tests.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, io *stdio, getenv func(string) string) error
}

func commands() []command {
	return []command{
		{"dev", "run everything on this machine: database, sandboxes, web and worker", runDev},
		{"serve", "run the web app", runServe},
		{"worker", "run the background sync worker", runWorker},
		{"migrate", "apply database migrations", runMigrate},
		{"staff", "manage support staff (staff add EMAIL)", runStaff},
		{"keygen", "print a new random TANDEM_SECRET_KEY", runKeygen},
		{"keys", "re-seal stored tokens under the current key (keys rotate)", runKeys},
		{"sandbox", "run an API sandbox (sandbox lightspeed|salesforce)", runSandbox},
		{"bench", "measure the engine against in-process sandboxes; prints one JSON line", runBench},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: tandem COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Tandem keeps Lightspeed Retail and Salesforce in step.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `tandem COMMAND --help` for a command's flags. Configuration comes from the")
	fmt.Fprintln(w, "environment: DATABASE_URL, TANDEM_ADDR, TANDEM_METRICS_ADDR, TANDEM_BASE_URL,")
	fmt.Fprintln(w, "TANDEM_SECRET_KEY, TANDEM_SECRET_KEYS, TANDEM_DATA_DIR, LOG_LEVEL, LOG_FORMAT (see README.md).")
}

// run executes one command line and returns the exit code: 0 on success, 2
// for usage errors, 1 otherwise, with one line on stderr saying why.
func run(ctx context.Context, args []string, io *stdio, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.out)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], io, getenv)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(io.err, "tandem %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(io.err, "tandem: unknown command %q\n\n", args[0])
	usage(io.err)
	return 2
}

// errUsage means the flag package already printed what was wrong.
var errUsage = errors.New("usage")

// parseFlags parses args with fs, mapping the flag package's errors to ours.
// Positional arguments are refused unless the command asks for them.
func parseFlags(fs *flag.FlagSet, args []string, io *stdio) error {
	fs.SetOutput(io.err)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	return nil
}
