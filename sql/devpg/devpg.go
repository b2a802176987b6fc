// Package devpg runs a private PostgreSQL server for `tandem dev`, so that a
// laptop needs only the Debian server package, not a configured database.
//
// The cluster lives in a folder of the data dir; it is created with initdb on
// first start, listens only on 127.0.0.1 on a free port, uses trust
// authentication (nothing else can reach it), and is stopped with a fast
// shutdown when Stop is called or when the parent process dies. Root cannot run
// PostgreSQL, so as root the server runs as the `postgres` system user.
package devpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoServer means no PostgreSQL server binaries were found.
var ErrNoServer = errors.New("devpg: PostgreSQL server binaries not found: install the Debian package `postgresql` (apt-get install postgresql) or set DATABASE_URL")

// Server is a running private PostgreSQL server.
type Server struct {
	// URL connects to the `tandem` database as the superuser.
	URL string

	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the process's exit error, valid after done is closed
	once sync.Once
}

// Options tune Start.
type Options struct {
	// Dir holds the cluster (created if missing).
	Dir string
	// Database is created when missing; default "tandem".
	Database string
	// Log receives the server's output; nil discards it (it is also kept in
	// Dir/server.log).
	Log func(format string, args ...any)
}

// Start finds the server binaries, creates the cluster on first use, clears a
// stale postmaster.pid left by a crash, starts the server and waits until it
// accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Database == "" {
		opts.Database = "tandem"
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("devpg: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devpg: create %s: %w", dir, err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("devpg: hand %s to the postgres user: %w", dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := initdb(ctx, bin, dir, cred); err != nil {
			return nil, err
		}
	}
	if err := clearStalePID(dir); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("devpg: choose a port: %w", err)
	}

	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("devpg: open %s: %w", logPath, err)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories=",
		"-c", "fsync=off", // a laptop database; speed over crash safety
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		Setpgid:    true, // a terminal's Ctrl-C reaches us, and we stop the server in order
		Pdeathsig:  syscall.SIGINT,
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("devpg: start postgres: %w", err)
	}
	s := &Server{
		URL:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, opts.Database),
		dir:  dir,
		cmd:  cmd,
		done: make(chan struct{}),
	}
	go func() {
		s.err = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()

	if err := s.waitReady(ctx, port); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.ensureDatabase(ctx, port, opts.Database); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop shuts the server down (fast shutdown: active sessions are ended,
// everything committed is kept) and waits for it to exit.
func (s *Server) Stop() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	var exitErr *exec.ExitError
	if s.err != nil && !errors.As(s.err, &exitErr) {
		return fmt.Errorf("devpg: stop: %w", s.err)
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context, port int) error {
	deadline := time.Now().Add(60 * time.Second)
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("devpg: postgres exited during start-up: %s", s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		conn, err := pgx.Connect(ctx, admin)
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devpg: postgres did not accept connections within 60s: %v; log: %s", err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) ensureDatabase(ctx context.Context, port int, db string) error {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	if err != nil {
		return fmt.Errorf("devpg: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return fmt.Errorf("devpg: look up database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		return fmt.Errorf("devpg: create database %s: %w", db, err)
	}
	return nil
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	if len(b) == 0 {
		return "(server log is empty)"
	}
	return string(b)
}

// FindBinaries returns the folder holding initdb and postgres: PATH first,
// then the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", ErrNoServer
}

func versionOf(path string) int {
	// /usr/lib/postgresql/15/bin/initdb
	parts := strings.Split(path, string(filepath.Separator))
	if len(parts) < 3 {
		return 0
	}
	v, _ := strconv.Atoi(parts[len(parts)-3])
	return v
}

// runAs returns the credential to run the server with: nil for an ordinary
// user, the postgres system user for root (initdb refuses to run as root).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("devpg: running as root needs the `postgres` system user (installed with the Debian package postgresql): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func initdb(ctx context.Context, bin, dir string, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-instructions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = os.TempDir() // the postgres user may not be able to read our working directory
	out, err := cmd.CombinedOutput()
	if err != nil {
		hint := ""
		if cred != nil {
			hint = " (the postgres user must be able to enter every folder above it; set TANDEM_DATA_DIR to one it can)"
		}
		return fmt.Errorf("devpg: initdb %s%s: %w: %s", dir, hint, err, bytes.TrimSpace(out))
	}
	return nil
}

// clearStalePID removes a postmaster.pid whose process is gone (a crash or a
// kill -9), which would otherwise stop the server from starting. A live server
// on the same folder (a second `tandem dev`) is reported instead.
func clearStalePID(dir string) error {
	path := filepath.Join(dir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("devpg: read %s: %w", path, err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 && processAlive(pid) {
		return fmt.Errorf("devpg: a PostgreSQL server (pid %d) is already running on %s: is another `tandem dev` using this data dir?", pid, dir)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("devpg: remove stale %s: %w", path, err)
	}
	return nil
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A recycled pid may belong to anything; only a postgres process counts.
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err != nil || strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
