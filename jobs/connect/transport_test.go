package connect_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandemsync/tandem/jobs/connect"
)

// Calls made 32 at once, again and again, reuse their connections: the
// worker's probes would otherwise each pay a new TLS handshake.
func TestTransportKeepsConnectionsForConcurrentCalls(t *testing.T) {
	t.Parallel()
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // the calls overlap
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tr := connect.NewTransport()
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	hc := &http.Client{Transport: tr}
	const calls, rounds = 32, 3
	for range rounds {
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() {
				resp, err := hc.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	if n := opened.Load(); n > calls {
		t.Errorf("%d rounds of %d calls at once opened %d connections, want at most %d", rounds, calls, n, calls)
	}
}
