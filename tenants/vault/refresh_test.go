package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tandemsync/tandem/sql/dbtest"
)

// rotatingProvider is an OAuth server that rotates refresh tokens: each
// refresh token works once, and using an old one is invalid_grant (as
// Lightspeed does once the new access token has been used).
type rotatingProvider struct {
	calls atomic.Int32

	mu    sync.Mutex
	gen   int
	valid string // the one refresh token that works now
}

func (p *rotatingProvider) refresh(_ context.Context, cur Tokens) (Tokens, error) {
	p.calls.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur.RefreshToken != p.valid {
		return Tokens{}, fmt.Errorf("%w: refresh token %s was rotated away", ErrInvalidGrant, cur.RefreshToken)
	}
	p.gen++
	p.valid = fmt.Sprintf("refresh-%d-Hk2s9", p.gen)
	return Tokens{AccessToken: fmt.Sprintf("access-%d-Ue8r1", p.gen), RefreshToken: p.valid, Expiry: time.Now().Add(time.Hour).Truncate(time.Microsecond)}, nil
}

// lockMonitor is a connection of its own for watching pg_stat_activity.
type lockMonitor struct {
	mu   sync.Mutex
	conn *pgx.Conn
}

// waitForLockWaiters blocks until n backends of the test database are
// waiting for a lock (the other refreshers queued on the row), or fails
// the test after a generous deadline. It is what makes the race test
// deterministic: the one refresh in flight does not finish until every
// other caller has reached the lock.
//
// It also returns when concurrent reports another refresh running at the
// same time: the lock is broken, and the test fails on the call count
// instead of waiting out the deadline.
func waitForLockWaiters(t *testing.T, monitor *lockMonitor, n int, concurrent func() bool) {
	t.Helper()
	monitor.mu.Lock() // a pgx.Conn is not for concurrent use
	defer monitor.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		err := monitor.conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Errorf("count lock waiters: %v", err)
			return
		}
		if waiting >= n || concurrent() {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("only %d of %d callers are waiting on the row lock", waiting, n)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRefreshRace has several goroutines in each of two pools (as two
// processes would) find the same expired access token and refresh at once.
func TestRefreshRace(t *testing.T) {
	t.Parallel()
	pool1, url := dbtest.NewWithURL(t)
	ctx := t.Context()
	pool2, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool2.Close)
	mconn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mconn.Close(context.Background()) })
	monitor := &lockMonitor{conn: mconn}

	ring := mustRing(t, randomKey(t))
	vaults := []*Vault{New(pool1, ring), New(pool2, ring)}
	tenant := newTenant(t, pool1)
	prov := &rotatingProvider{valid: "refresh-0-Hk2s9"}
	if err := vaults[0].Save(ctx, tenant, Lightspeed, Connection{ExternalAccount: "200001",
		Tokens: Tokens{AccessToken: "access-0-Ue8r1", RefreshToken: prov.valid}}); err != nil {
		t.Fatal(err)
	}

	const perPool = 3 // below pgxpool's minimum default size of 4
	callers := perPool * len(vaults)
	for round := 1; round <= 2; round++ {
		rejected := fmt.Sprintf("access-%d-Ue8r1", round-1)
		var inFlight atomic.Int32
		refresh := func(ctx context.Context, cur Tokens) (Tokens, error) {
			inFlight.Add(1)
			defer inFlight.Add(-1)
			waitForLockWaiters(t, monitor, callers-1, func() bool { return inFlight.Load() > 1 })
			return prov.refresh(ctx, cur)
		}
		start := make(chan struct{})
		results := make([]Tokens, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			v := vaults[i%len(vaults)]
			wg.Go(func() {
				<-start
				results[i], errs[i] = v.Refresh(ctx, tenant, Lightspeed,
					func(c Connection) bool { return c.Tokens.AccessToken == rejected }, refresh)
			})
		}
		before := prov.calls.Load()
		close(start)
		wg.Wait()

		if got := prov.calls.Load() - before; got != 1 {
			t.Errorf("round %d: refresh called %d times, want 1", round, got)
		}
		want := Tokens{AccessToken: fmt.Sprintf("access-%d-Ue8r1", round), RefreshToken: fmt.Sprintf("refresh-%d-Hk2s9", round)}
		for i := range callers {
			if errs[i] != nil {
				t.Errorf("round %d caller %d: %v", round, i, errs[i])
				continue
			}
			if results[i].AccessToken != want.AccessToken || results[i].RefreshToken != want.RefreshToken {
				t.Errorf("round %d caller %d got %s/%s, want %s/%s", round, i,
					results[i].AccessToken, results[i].RefreshToken, want.AccessToken, want.RefreshToken)
			}
		}
		stored, err := vaults[1].Get(ctx, tenant, Lightspeed)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Tokens.RefreshToken != prov.valid || stored.Tokens.AccessToken != want.AccessToken || stored.Status != StatusConnected {
			t.Fatalf("round %d: stored %s/%s (%s), provider's valid refresh token %s: a rotation was lost",
				round, stored.Tokens.AccessToken, stored.Tokens.RefreshToken, stored.Status, prov.valid)
		}
	}
}

func TestRefreshOutcomes(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	stored := Tokens{AccessToken: "access-stored-Qa1", RefreshToken: "refresh-stored-Qb2", Expiry: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	errTransient := errors.New("token endpoint: 503")
	tests := []struct {
		name         string
		stored       Tokens
		needsRefresh bool
		refresh      func(cur Tokens) (Tokens, error)
		wantCalls    int32
		wantTokens   Tokens // returned and stored
		wantErr      error  // errors.Is target; *ReauthError is checked by wantReauth
		wantReauth   bool
		wantStatus   Status
	}{
		{
			name: "not needed", stored: stored, needsRefresh: false,
			wantCalls: 0, wantTokens: stored, wantStatus: StatusConnected,
		},
		{
			name: "rotated", stored: stored, needsRefresh: true,
			refresh: func(Tokens) (Tokens, error) {
				return Tokens{AccessToken: "access-new", RefreshToken: "refresh-new", Expiry: stored.Expiry.Add(time.Hour)}, nil
			},
			wantCalls: 1, wantTokens: Tokens{AccessToken: "access-new", RefreshToken: "refresh-new", Expiry: stored.Expiry.Add(time.Hour)}, wantStatus: StatusConnected,
		},
		{
			name: "provider keeps the refresh token", stored: stored, needsRefresh: true,
			refresh:   func(Tokens) (Tokens, error) { return Tokens{AccessToken: "access-new"}, nil },
			wantCalls: 1, wantTokens: Tokens{AccessToken: "access-new", RefreshToken: stored.RefreshToken}, wantStatus: StatusConnected,
		},
		{
			name: "transient failure stores nothing", stored: stored, needsRefresh: true,
			refresh: func(cur Tokens) (Tokens, error) {
				return Tokens{}, fmt.Errorf("refresh with %s: %w", cur.RefreshToken, errTransient)
			},
			wantCalls: 1, wantTokens: stored, wantErr: errTransient, wantStatus: StatusConnected,
		},
		{
			name: "no access token returned", stored: stored, needsRefresh: true,
			refresh:   func(Tokens) (Tokens, error) { return Tokens{RefreshToken: "refresh-new"}, nil },
			wantCalls: 1, wantTokens: stored, wantStatus: StatusConnected,
		},
		{
			name: "invalid grant", stored: stored, needsRefresh: true,
			refresh: func(cur Tokens) (Tokens, error) {
				return Tokens{}, fmt.Errorf("%w: the server refused %s", ErrInvalidGrant, cur.RefreshToken)
			},
			wantCalls: 1, wantTokens: stored, wantErr: ErrInvalidGrant, wantReauth: true, wantStatus: StatusNeedsReauth,
		},
		{
			name: "no refresh token stored", stored: Tokens{AccessToken: "access-only"}, needsRefresh: true,
			wantCalls: 0, wantTokens: Tokens{AccessToken: "access-only"}, wantReauth: true, wantStatus: StatusNeedsReauth,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			tenant := newTenant(t, pool)
			if err := v.Save(ctx, tenant, Salesforce, Connection{ExternalAccount: "00D000000000001AAA", Tokens: tt.stored}); err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			got, err := v.Refresh(ctx, tenant, Salesforce,
				func(c Connection) bool {
					if !cmp.Equal(c.Tokens, tt.stored) {
						t.Errorf("needsRefresh saw %v, want the stored %v", c.Tokens, tt.stored)
					}
					return tt.needsRefresh
				},
				func(_ context.Context, cur Tokens) (Tokens, error) {
					calls.Add(1)
					if !cmp.Equal(cur, tt.stored) {
						t.Errorf("refresh got %v, want the stored %v", cur, tt.stored)
					}
					return tt.refresh(cur)
				})
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("refresh called %d times, want %d", n, tt.wantCalls)
			}
			var re *ReauthError
			failed := tt.wantErr != nil || tt.wantReauth || tt.name == "no access token returned"
			switch {
			case !failed && err != nil:
				t.Fatalf("Refresh: %v", err)
			case failed && err == nil:
				t.Fatalf("Refresh succeeded with %v, want an error", got)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Refresh error = %v, want %v in its chain", err, tt.wantErr)
			case tt.wantReauth != errors.As(err, &re):
				t.Errorf("Refresh error = %v (%T), want *ReauthError: %v", err, err, tt.wantReauth)
			}
			if err != nil {
				for _, s := range []string{tt.stored.AccessToken, tt.stored.RefreshToken} {
					if s != "" && strings.Contains(err.Error(), s) {
						t.Errorf("error %q contains a token", err)
					}
				}
				if got != (Tokens{}) {
					t.Errorf("Refresh returned tokens with its error: %v", got)
				}
			} else if !cmp.Equal(got, tt.wantTokens) {
				t.Errorf("Refresh = %v, want %v", got, tt.wantTokens)
			}
			c, err := v.Get(ctx, tenant, Salesforce)
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(c.Tokens, tt.wantTokens) || c.Status != tt.wantStatus {
				t.Errorf("stored %v (%s), want %v (%s)", c.Tokens, c.Status, tt.wantTokens, tt.wantStatus)
			}
			if tt.wantReauth {
				if c.StatusReason == "" || strings.Contains(c.StatusReason, tt.stored.RefreshToken) && tt.stored.RefreshToken != "" {
					t.Errorf("status reason %q: want words without the token", c.StatusReason)
				}
				// Once marked, no refresh is attempted until the merchant reconnects.
				_, err := v.Refresh(ctx, tenant, Salesforce, func(Connection) bool { return true },
					func(context.Context, Tokens) (Tokens, error) {
						t.Error("refresh called on a needs_reauth connection")
						return Tokens{}, nil
					})
				if !errors.As(err, &re) || re.Reason != c.StatusReason {
					t.Errorf("Refresh of a needs_reauth connection = %v, want *ReauthError with the stored reason", err)
				}
			}
		})
	}
}

// TestRefreshWaitIsBounded: a refresher waiting for a lock that is never
// released gives up when its context ends, and calls nothing.
func TestRefreshWaitIsBounded(t *testing.T) {
	t.Parallel()
	v, pool := setup(t)
	ctx := t.Context()
	tenant := newTenant(t, pool)
	if err := v.Save(ctx, tenant, Lightspeed, sample("held")); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT 1 FROM connections WHERE tenant_id = $1 FOR UPDATE`, tenant); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = v.Refresh(short, tenant, Lightspeed, func(Connection) bool { return true },
		func(context.Context, Tokens) (Tokens, error) {
			t.Error("refresh ran without the lock")
			return Tokens{}, nil
		})
	if err == nil {
		t.Fatal("Refresh succeeded while another transaction held the row")
	}
	if short.Err() == nil {
		t.Errorf("Refresh gave up before its context ended: %v", err)
	}
}

func TestRefreshRejectsBadInput(t *testing.T) {
	t.Parallel()
	v, _ := setup(t)
	ok := func(Connection) bool { return true }
	rf := func(context.Context, Tokens) (Tokens, error) { return Tokens{}, nil }
	tests := []struct {
		name, tenant, provider string
		needs                  func(Connection) bool
		refresh                func(context.Context, Tokens) (Tokens, error)
		want                   string
	}{
		{"bad tenant", "x", Lightspeed, ok, rf, "not a UUID"},
		{"bad provider", "00000000-0000-4000-8000-000000000000", "x", ok, rf, "unknown provider"},
		{"nil funcs", "00000000-0000-4000-8000-000000000000", Lightspeed, nil, nil, "required"},
		{"no connection", "00000000-0000-4000-8000-000000000000", Lightspeed, ok, rf, ErrNotConnected.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Refresh(t.Context(), tt.tenant, tt.provider, tt.needs, tt.refresh)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Refresh = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// BenchmarkRefresh measures the vault's side of one refresh: lock the
// row, open, seal both new tokens, update, commit (the provider call is
// instant here).
func BenchmarkRefresh(b *testing.B) {
	v, pool := setup(b)
	ctx := context.Background()
	tenant := newTenant(b, pool)
	if err := v.Save(ctx, tenant, Lightspeed, sample("bench")); err != nil {
		b.Fatal(err)
	}
	next := Tokens{AccessToken: strings.Repeat("a", 900), RefreshToken: strings.Repeat("r", 64)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Refresh(ctx, tenant, Lightspeed, func(Connection) bool { return true },
			func(context.Context, Tokens) (Tokens, error) { return next, nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshNotNeeded is the path of a caller that finds the tokens
// already refreshed by another: lock, open, roll back.
func BenchmarkRefreshNotNeeded(b *testing.B) {
	v, pool := setup(b)
	ctx := context.Background()
	tenant := newTenant(b, pool)
	if err := v.Save(ctx, tenant, Lightspeed, sample("bench")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Refresh(ctx, tenant, Lightspeed, func(Connection) bool { return false },
			func(context.Context, Tokens) (Tokens, error) { b.Fatal("refresh called"); return Tokens{}, nil }); err != nil {
			b.Fatal(err)
		}
	}
}
