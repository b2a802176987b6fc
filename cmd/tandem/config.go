package main

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/mail"
)

// config is everything Tandem reads from its environment. Flags override a
// few fields per command.
type config struct {
	DatabaseURL string   // DATABASE_URL; empty means "start a private server" in dev
	Addr        string   // TANDEM_ADDR
	MetricsAddr string   // TANDEM_METRICS_ADDR
	BaseURL     string   // TANDEM_BASE_URL; default http://Addr
	SecretKey   []byte   // TANDEM_SECRET_KEY, 32 bytes
	OldKeys     [][]byte // TANDEM_SECRET_KEYS, older keys that may still open sealed tokens
	DataDir     string   // TANDEM_DATA_DIR
	LogLevel    slog.Level
	LogFormat   string // text | json
	SMTPURL     string // SMTP_URL; empty means no mail (dev: the dev mailbox)
	// RequestLogLevel is the level of the web app's request logs: info,
	// or debug in `tandem dev` (not read from the environment).
	RequestLogLevel slog.Level

	LightspeedClientID, LightspeedClientSecret string
	SalesforceClientID, SalesforceClientSecret string

	// SyncInterval is how often each stream polls (TANDEM_SYNC_INTERVAL).
	SyncInterval time.Duration

	// The services' hosts (LIGHTSPEED_API_URL, LIGHTSPEED_AUTH_URL,
	// SALESFORCE_LOGIN_URL); empty means the real ones. They point serve and
	// worker at stand-alone sandboxes or a staging host.
	LightspeedAPIURL, LightspeedAuthURL, SalesforceLoginURL string
	// EventRetention is how long sync events are kept (TANDEM_EVENT_RETENTION).
	EventRetention time.Duration
}

// configError is a misconfiguration: the process stops with its one line.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

const keygenHint = "run `tandem keygen` and set the printed value"

// loadConfig reads and validates the environment. The secret key is checked
// only when present; commands that need one call requireSecretKey.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		DatabaseURL:            getenv("DATABASE_URL"),
		Addr:                   cmp.Or(getenv("TANDEM_ADDR"), "127.0.0.1:8080"),
		MetricsAddr:            cmp.Or(getenv("TANDEM_METRICS_ADDR"), "127.0.0.1:9090"),
		BaseURL:                getenv("TANDEM_BASE_URL"),
		DataDir:                cmp.Or(getenv("TANDEM_DATA_DIR"), ".tandem"),
		LogFormat:              cmp.Or(strings.ToLower(getenv("LOG_FORMAT")), "text"),
		SMTPURL:                getenv("SMTP_URL"),
		LightspeedClientID:     getenv("LIGHTSPEED_CLIENT_ID"),
		LightspeedClientSecret: getenv("LIGHTSPEED_CLIENT_SECRET"),
		SalesforceClientID:     getenv("SALESFORCE_CLIENT_ID"),
		SalesforceClientSecret: getenv("SALESFORCE_CLIENT_SECRET"),
	}
	for _, v := range []struct {
		name string
		dst  *string
	}{
		{"LIGHTSPEED_API_URL", &c.LightspeedAPIURL},
		{"LIGHTSPEED_AUTH_URL", &c.LightspeedAuthURL},
		{"SALESFORCE_LOGIN_URL", &c.SalesforceLoginURL},
	} {
		raw := getenv(v.name)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, configErrorf("%s: want an absolute http(s) URL such as https://api.example.com, got %q", v.name, raw)
		}
		*v.dst = strings.TrimRight(raw, "/")
	}
	c.SyncInterval = 30 * time.Second
	if v := getenv("TANDEM_SYNC_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > 24*time.Hour {
			return c, configErrorf("TANDEM_SYNC_INTERVAL: want a duration between 1s and 24h such as 30s or 5m, got %q", v)
		}
		c.SyncInterval = d
	}
	if v := getenv("TANDEM_EVENT_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			return c, configErrorf("TANDEM_EVENT_RETENTION: want a duration of at least 1h such as 2160h (90 days), got %q", v)
		}
		c.EventRetention = d
	}
	if c.DatabaseURL != "" {
		if _, err := url.Parse(c.DatabaseURL); err != nil || !strings.HasPrefix(c.DatabaseURL, "postgres") {
			return c, configErrorf("DATABASE_URL: want a PostgreSQL URL such as postgres://user@host:5432/tandem")
		}
	}
	if err := c.setAddr(c.Addr); err != nil {
		return c, err
	}
	if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
		return c, configErrorf("TANDEM_METRICS_ADDR: want HOST:PORT such as 127.0.0.1:9090, got %q", c.MetricsAddr)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, configErrorf("TANDEM_BASE_URL: want an absolute http(s) URL such as https://tandem.example.com, got %q", c.BaseURL)
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	if v := getenv("TANDEM_SECRET_KEY"); v != "" {
		key, err := decodeKey(v)
		if err != nil {
			return c, configErrorf("TANDEM_SECRET_KEY: %v; %s", err, keygenHint)
		}
		c.SecretKey = key
	}
	for i, k := range splitKeys(getenv("TANDEM_SECRET_KEYS")) {
		key, err := decodeKey(k)
		if err != nil {
			return c, configErrorf("TANDEM_SECRET_KEYS: key %d: %v (a comma-separated list of keys made by `tandem keygen`)", i+1, err)
		}
		c.OldKeys = append(c.OldKeys, key)
	}
	switch lvl := strings.ToLower(getenv("LOG_LEVEL")); lvl {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, configErrorf("LOG_LEVEL: want debug, info, warn or error, got %q", lvl)
	}
	if c.SMTPURL != "" {
		if _, err := c.mailSender(); err != nil {
			return c, configErrorf("SMTP_URL: %v", err)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, configErrorf("LOG_FORMAT: want text or json, got %q", c.LogFormat)
	}
	return c, nil
}

// setAddr validates and sets the listen address (from TANDEM_ADDR or --addr).
func (c *config) setAddr(addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return configErrorf("TANDEM_ADDR: want HOST:PORT such as 127.0.0.1:8080, got %q", addr)
	}
	c.Addr = addr
	return nil
}

// baseURL is TANDEM_BASE_URL, or the listen address over plain HTTP.
func (c *config) baseURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	host, port, _ := net.SplitHostPort(c.Addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func (c *config) requireSecretKey() error {
	if c.SecretKey == nil {
		return configErrorf("TANDEM_SECRET_KEY is not set: it seals tokens and signs sessions; %s", keygenHint)
	}
	return nil
}

// devSecretKey loads the key `tandem dev` keeps in its data dir, making one
// on first start, unless TANDEM_SECRET_KEY is set.
func (c *config) devSecretKey() error {
	if c.SecretKey != nil {
		return nil
	}
	path := filepath.Join(c.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := decodeKey(strings.TrimSpace(string(b)))
		if err != nil {
			return configErrorf("%s: %v; delete it to make a new one (sealed tokens will need reconnecting)", path, err)
		}
		c.SecretKey = key
		return nil
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
			return fmt.Errorf("create data dir: %w", err)
		}
		enc := newKey()
		if err := os.WriteFile(path, []byte(enc+"\n"), 0o600); err != nil {
			return fmt.Errorf("save dev secret key: %w", err)
		}
		c.SecretKey, _ = decodeKey(enc)
		return nil
	default:
		return fmt.Errorf("read %s: %w", path, err)
	}
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		if b, err2 := base64.RawURLEncoding.DecodeString(strings.TrimSpace(s)); err2 == nil {
			return check32(b)
		}
		return nil, errors.New("not valid base64")
	}
	return check32(b)
}

func check32(b []byte) ([]byte, error) {
	if len(b) != 32 {
		return nil, fmt.Errorf("want 32 bytes, got %d", len(b))
	}
	return b, nil
}

func splitKeys(s string) []string {
	var out []string
	for k := range strings.SplitSeq(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func newKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on Linux
	return base64.StdEncoding.EncodeToString(b)
}

func newLogger(w io.Writer, c config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// mailSender is the SMTP sender SMTP_URL names. Its From defaults to
// no-reply at the base URL's host.
func (c *config) mailSender() (*mail.SMTP, error) {
	from := "Tandem <no-reply@localhost>"
	if u, err := url.Parse(c.baseURL()); err == nil && u.Hostname() != "" {
		if a, err := netmail.ParseAddress("no-reply@" + u.Hostname()); err == nil {
			from = "Tandem <" + a.Address + ">"
		}
	}
	return mail.ParseURL(c.SMTPURL, from)
}
