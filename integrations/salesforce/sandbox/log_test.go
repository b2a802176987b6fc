package sandbox

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestLogHasNoSecrets(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := setup(t, Options{Logger: logger})
	b.do(t, "GET", "/limits", nil)
	res, err := http.Get(b.tok.ID + "?oauth_token=" + url.QueryEscape(b.tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	b.form(t, "/services/oauth2/token", url.Values{"grant_type": {"password"}, "client_id": {DefaultClientID},
		"client_secret": {DefaultClientSecret}, "username": {DefaultUsername}, "password": {DefaultPassword}})
	out := buf.String()
	if n := strings.Count(out, "salesforce sandbox request"); n != 3 {
		t.Errorf("%d request log lines, want 3:\n%s", n, out)
	}
	for _, secret := range []string{b.tok.AccessToken, b.tok.RefreshToken, DefaultClientSecret, DefaultPassword} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains a secret:\n%s", out)
		}
	}
}
