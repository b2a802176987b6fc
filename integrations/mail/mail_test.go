package mail

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		raw                    string
		addr, user, pass, from string
		insecure               bool
		wantErr                bool
	}{
		{raw: "smtp://u:p%40ss@mail.example:2525", addr: "mail.example:2525", user: "u", pass: "p@ss", from: "Tandem <no-reply@tandem.example>"},
		{raw: "smtp://mail.example", addr: "mail.example:587", from: "Tandem <no-reply@tandem.example>"},
		{raw: "smtp://mail.example?from=ops%40shop.example", addr: "mail.example:587", from: "ops@shop.example"},
		{raw: "smtp+insecure://127.0.0.1:25", addr: "127.0.0.1:25", from: "Tandem <no-reply@tandem.example>", insecure: true},
		{raw: "http://mail.example", wantErr: true},
		{raw: "smtp://", wantErr: true},
		{raw: "smtp://mail.example?from=not%20an%20address", wantErr: true},
		{raw: "::", wantErr: true},
	} {
		s, err := ParseURL(tt.raw, "Tandem <no-reply@tandem.example>")
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseURL(%q) = %+v; want an error", tt.raw, s)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.raw, err)
			continue
		}
		if s.addr != tt.addr || s.user != tt.user || s.password != tt.pass || s.from != tt.from || s.insecure != tt.insecure {
			t.Errorf("ParseURL(%q) = %s %s %s %s %v; want %s %s %s %s %v", tt.raw,
				s.addr, s.user, s.password, s.from, s.insecure, tt.addr, tt.user, tt.pass, tt.from, tt.insecure)
		}
		if strings.Contains(s.String(), tt.pass) && tt.pass != "" {
			t.Errorf("String() = %q shows the password", s.String())
		}
	}
}

func TestMessageValidate(t *testing.T) {
	t.Parallel()
	for _, m := range []Message{
		{To: "a@b.example", Subject: "hi\r\nBcc: victim@x.example"},
		{To: "a@b.example\r\nBcc: victim@x.example", Subject: "hi"},
		{To: "Someone <a@b.example>", Subject: "hi"},
		{To: "", Subject: "hi"},
	} {
		if err := NewMailbox().Send(t.Context(), m); err == nil {
			t.Errorf("Send(%q, %q) accepted", m.To, m.Subject)
		}
	}
}

func TestMailboxNewestFirstAndBounded(t *testing.T) {
	t.Parallel()
	b := NewMailbox()
	b.limit = 3
	for _, s := range []string{"one", "two", "three", "four"} {
		if err := b.Send(t.Context(), Message{To: "a@b.example", Subject: s, Body: s}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, m := range b.Messages() {
		got = append(got, m.Subject)
	}
	if strings.Join(got, ",") != "four,three,two" {
		t.Errorf("Messages() = %v; want four,three,two", got)
	}
	if b.Messages()[0].ID != 4 {
		t.Errorf("newest ID = %d; want 4", b.Messages()[0].ID)
	}
}

// fakeServer is a small SMTP server: enough of RFC 5321 for net/smtp, with
// STARTTLS when given a certificate.
type fakeServer struct {
	ln   net.Listener
	cert *tls.Certificate

	mu     sync.Mutex
	auth   []string // AUTH lines received
	from   string
	rcpt   []string
	data   string
	tlsUp  bool
	closed chan struct{}
}

func newFakeServer(t *testing.T, cert *tls.Certificate) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, cert: cert, closed: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go f.serve()
	return f
}

func (f *fakeServer) serve() {
	defer close(f.closed)
	conn, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	tp := textproto.NewConn(conn)
	_ = tp.PrintfLine("220 fake ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			f.mu.Lock()
			up := f.tlsUp
			f.mu.Unlock()
			if f.cert != nil && !up {
				_ = tp.PrintfLine("250-fake\r\n250-STARTTLS\r\n250 AUTH PLAIN")
			} else {
				_ = tp.PrintfLine("250-fake\r\n250 AUTH PLAIN")
			}
		case "STARTTLS":
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*f.cert}})
			if err := tc.Handshake(); err != nil {
				return
			}
			conn = tc
			tp = textproto.NewConn(tc)
			f.mu.Lock()
			f.tlsUp = true
			f.mu.Unlock()
		case "AUTH":
			f.mu.Lock()
			f.auth = append(f.auth, line)
			f.mu.Unlock()
			_ = tp.PrintfLine("235 ok")
		case "MAIL":
			f.mu.Lock()
			f.from = line
			f.mu.Unlock()
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			f.mu.Lock()
			f.rcpt = append(f.rcpt, line)
			f.mu.Unlock()
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			r := bufio.NewReader(tp.DotReader())
			var sb strings.Builder
			_, _ = r.WriteTo(&sb)
			f.mu.Lock()
			f.data = sb.String()
			f.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unknown")
		}
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestSMTPSendOverSTARTTLS(t *testing.T) {
	t.Parallel()
	cert, roots := selfSigned(t)
	f := newFakeServer(t, cert)
	s, err := ParseURL("smtp://mailer:s3cret@"+f.ln.Addr().String(), "Tandem <no-reply@tandem.example>")
	if err != nil {
		t.Fatal(err)
	}
	s.tlsConfig.RootCAs = roots
	s.now = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	err = s.Send(t.Context(), Message{To: "owner@shop.example", Subject: "Reset your password", Body: "Line one\nLine two\n"})
	if err != nil {
		t.Fatal(err)
	}
	<-f.closed
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.tlsUp || len(f.auth) != 1 {
		t.Errorf("tls %v, auth %v; want TLS then one AUTH", f.tlsUp, f.auth)
	}
	if f.from != "MAIL FROM:<no-reply@tandem.example>" || len(f.rcpt) != 1 || f.rcpt[0] != "RCPT TO:<owner@shop.example>" {
		t.Errorf("envelope %q %q", f.from, f.rcpt)
	}
	for _, want := range []string{
		"From: Tandem <no-reply@tandem.example>\n", "To: owner@shop.example\n", "Subject: Reset your password\n",
		"Date: Sun, 01 Mar 2026 12:00:00 +0000\n", "Content-Type: text/plain; charset=utf-8\n", "\nLine one\nLine two\n",
	} {
		if !strings.Contains(f.data, want) {
			t.Errorf("message lacks %q:\n%s", want, f.data)
		}
	}
}

// A server that offers no STARTTLS never sees the credentials.
func TestSMTPRefusesPlaintext(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, nil)
	s, err := ParseURL("smtp://mailer:s3cret@"+f.ln.Addr().String(), "no-reply@tandem.example")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), Message{To: "owner@shop.example", Subject: "x", Body: "y"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send = %v; want a STARTTLS refusal", err)
	}
	<-f.closed
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.auth) != 0 || f.data != "" {
		t.Errorf("server got auth %v, data %q", f.auth, f.data)
	}
}

func TestSMTPInsecureRelay(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t, nil)
	s, err := ParseURL("smtp+insecure://"+f.ln.Addr().String(), "no-reply@tandem.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), Message{To: "owner@shop.example", Subject: "x", Body: "y"}); err != nil {
		t.Fatal(err)
	}
	<-f.closed
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.Contains(f.data, "\ny") {
		t.Errorf("data = %q", f.data)
	}
}
