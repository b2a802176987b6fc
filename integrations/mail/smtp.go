package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// SMTP sends mail through a mail server with STARTTLS. Create it with
// ParseURL.
type SMTP struct {
	addr      string // host:port
	host      string
	user      string
	password  string
	from      string // the From header and envelope sender
	tlsConfig *tls.Config
	// insecure skips STARTTLS when the server offers none: only for
	// smtp+insecure:// URLs (a local relay or a test server).
	insecure bool
	timeout  time.Duration
	now      func() time.Time
}

// ParseURL returns the sender an SMTP_URL describes:
//
//	smtp://USER:PASSWORD@HOST:587?from=Tandem%20%3Cno-reply%40example.com%3E
//
// The connection is upgraded with STARTTLS before anything, credentials
// included, is sent; a server that does not offer it is refused. The
// scheme smtp+insecure:// sends without TLS, for a relay on the same host.
// from is the From address; without it, defaultFrom is used. The port
// defaults to 587.
func ParseURL(raw, defaultFrom string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("mail: SMTP_URL is not a URL")
	}
	s := &SMTP{timeout: 30 * time.Second, now: time.Now}
	switch u.Scheme {
	case "smtp":
	case "smtp+insecure":
		s.insecure = true
	default:
		return nil, fmt.Errorf("mail: SMTP_URL: want smtp://user:password@host:587, got scheme %q", u.Scheme)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("mail: SMTP_URL has no host")
	}
	port := u.Port()
	if port == "" {
		port = "587"
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}
	s.from = defaultFrom
	if f := u.Query().Get("from"); f != "" {
		s.from = f
	}
	if _, err := mail.ParseAddress(s.from); err != nil {
		return nil, fmt.Errorf("mail: SMTP_URL: from %q is not an address", s.from)
	}
	s.tlsConfig = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	return s, nil
}

// String describes the sender without its password, for logs.
func (s *SMTP) String() string { return "smtp://" + s.addr }

// Send delivers m through the server.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	from, err := mail.ParseAddress(s.from)
	if err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	d := net.Dialer{Timeout: s.timeout}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("mail: connect to %s: %w", s.addr, err)
	}
	// One deadline for the whole conversation, and an early end if ctx is
	// cancelled.
	deadline := time.Now().Add(s.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: %s: %w", s.addr, err)
	}
	defer c.Close()
	if err := s.send(c, from.Address, m); err != nil {
		return fmt.Errorf("mail: send to %s via %s: %w", m.To, s.addr, err)
	}
	return nil
}

func (s *SMTP) send(c *smtp.Client, from string, m Message) error {
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(s.tlsConfig); err != nil {
			return err
		}
	} else if !s.insecure {
		return errors.New("the server does not offer STARTTLS (use smtp+insecure:// for a local relay)")
	}
	if s.user != "" {
		// PlainAuth itself refuses to send the password over a connection
		// that is neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.user, s.password, s.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(s.format(m)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// format returns m as an RFC 5322 message with CRLF line ends.
func (s *SMTP) format(m Message) []byte {
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", s.from)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", s.now().Format(time.RFC1123Z))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return b.Bytes()
}
