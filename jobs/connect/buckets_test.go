package connect_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/sql/dbtest"
)

// Two processes (two pools, each with its own Limits over the Postgres
// store) hammer one small bucket: the sandbox sends no 429, and the run
// takes as long as the bucket's drip rate demands. The control case gives
// each process an in-memory bucket, as before the store existed: the
// sandbox refuses requests.
func TestBucketsShareAcrossProcesses(t *testing.T) {
	t.Parallel()
	const (
		size, drip, burst     = 10.0, 1.0, 5
		processes, goroutines = 2, 4
		calls                 = 8
		total                 = processes * goroutines * calls
	)
	tests := []struct {
		name   string
		shared bool
	}{
		{"postgres store", true},
		{"in-memory per process", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool, url := dbtest.NewWithURL(t)
			clock := sandbox.NewLockstep(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			sb := sandbox.New(sandbox.Options{BucketSize: size, DripRate: drip, Burst: burst, Now: clock.Now})
			srv := httptest.NewServer(sb)
			t.Cleanup(srv.Close)
			tok := sb.MintToken()

			var clients []*lightspeed.Client
			for p := range processes {
				opts := lightspeed.LimitsOptions{DefaultSize: size, DefaultDripRate: drip, DefaultBurst: burst}
				if tt.shared {
					procPool := pool
					if p > 0 {
						var err error
						if procPool, err = pgxpool.New(t.Context(), url); err != nil {
							t.Fatal(err)
						}
						t.Cleanup(procPool.Close)
					}
					opts.Store = connect.NewBuckets(procPool)
				}
				limits := lightspeed.NewLimits(opts)
				for range goroutines {
					c, err := lightspeed.NewClient(srv.Client(), lightspeed.Options{
						BaseURL: srv.URL, AccountID: int64(tok.AccountID), ClientID: "tandem-dev",
						Tokens: lightspeed.StaticToken{AccessToken: tok.AccessToken}, Limits: limits,
						Now: clock.Now, Sleep: clock.Sleep, MaxWait: time.Hour,
					})
					if err != nil {
						t.Fatal(err)
					}
					clients = append(clients, c)
				}
			}

			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make([]error, len(clients))
			for i, c := range clients {
				done := clock.Join()
				wg.Go(func() {
					defer done()
					<-start
					for range calls {
						if _, _, err := c.Shops.List(context.Background(), nil); err != nil {
							errs[i] = err
							return
						}
					}
				})
			}
			begin := clock.Now()
			close(start)
			wg.Wait()
			took := clock.Now().Sub(begin)
			st := sb.Stats()
			t.Logf("%d calls, %d 429s, %s of sandbox time", total, st.RateLimited, took)

			if !tt.shared {
				if st.RateLimited == 0 {
					t.Fatal("per-process buckets saw no 429: the test cannot tell shared from unshared")
				}
				return
			}
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if st.RateLimited != 0 {
				t.Errorf("sandbox sent %d 429s; processes sharing the bucket must never overflow it", st.RateLimited)
			}
			// total drips through a bucket of size drips draining drip/s.
			if minimum := time.Duration((total - size) / drip * float64(time.Second)); took < minimum {
				t.Errorf("took %s, want at least %s", took, minimum)
			}
		})
	}
}

// The stored record survives between updates and is per account and client.
func TestBucketsUpdate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := connect.NewBuckets(dbtest.New(t))
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	a := lightspeed.BucketKey{AccountID: 1, ClientID: "c"}
	if err := store.Update(ctx, a, func(r *lightspeed.BucketRecord) {
		if r.Size != 0 || len(r.Sent) != 0 || !r.At.IsZero() {
			t.Errorf("new record = %+v, want zero", r)
		}
		*r = lightspeed.BucketRecord{Level: 3.5, At: at, Size: 90, DripRate: 1.5, BurstLimit: 20,
			Sent: []time.Time{at, at.Add(time.Millisecond)}, BlockedUntil: at.Add(2 * time.Second)}
	}); err != nil {
		t.Fatal(err)
	}
	var got lightspeed.BucketRecord
	if err := store.Update(ctx, a, func(r *lightspeed.BucketRecord) { got = *r }); err != nil {
		t.Fatal(err)
	}
	if got.Level != 3.5 || !got.At.Equal(at) || got.Size != 90 || got.DripRate != 1.5 || got.BurstLimit != 20 ||
		len(got.Sent) != 2 || !got.Sent[1].Equal(at.Add(time.Millisecond)) || !got.BlockedUntil.Equal(at.Add(2*time.Second)) {
		t.Errorf("stored record = %+v", got)
	}
	for _, k := range []lightspeed.BucketKey{{AccountID: 2, ClientID: "c"}, {AccountID: 1, ClientID: "d"}} {
		if err := store.Update(ctx, k, func(r *lightspeed.BucketRecord) {
			if r.Size != 0 {
				t.Errorf("%+v sees the record of %+v", k, a)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
}
