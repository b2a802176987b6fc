package salesforce_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tandemsync/tandem/integrations/salesforce"
)

// lockedStore stands in for a connection row behind a RefreshLockFunc: it
// hands out the stored token, records every outcome unlock is given, and
// stores what the save hook writes. finish, if set, decides what unlock
// returns; the default returns the outcome.
type lockedStore struct {
	mu       sync.Mutex // held from lock to unlock
	stored   salesforce.Token
	outcomes []error
	locks    int
	lockErr  error
	finish   func(outcome error) error
}

func (s *lockedStore) lock(context.Context) (salesforce.Token, func(error) error, error) {
	if s.lockErr != nil {
		return salesforce.Token{}, nil, s.lockErr
	}
	s.mu.Lock()
	s.locks++
	var once sync.Once
	return s.stored, func(outcome error) error {
		err := outcome
		once.Do(func() {
			s.outcomes = append(s.outcomes, outcome)
			if s.finish != nil {
				err = s.finish(outcome)
			}
			s.mu.Unlock()
		})
		return err
	}, nil
}

func (s *lockedStore) save(_ context.Context, tok salesforce.Token) error {
	s.stored = tok // under s.mu: the client saves inside the lock
	return nil
}

func (s *lockedStore) state() (locks int, outcomes []error, stored salesforce.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.locks, append([]error(nil), s.outcomes...), s.stored
}

// lockedClient returns a client refreshing through ts with store's lock and
// save hooks. Its org's GET limits accepts only the access token accepted
// (none if empty) and counts its calls.
func lockedClient(t *testing.T, ts *tokenServer, store *lockedStore, accepted string) (*salesforce.Client, *atomic.Int32) {
	t.Helper()
	login := httptest.NewServer(ts)
	t.Cleanup(login.Close)
	cfg := &salesforce.OAuthConfig{ClientID: "cid", LoginURL: login.URL}
	mux, c, srv := setup(t, salesforce.WithRefresh(cfg, store.save), salesforce.WithRefreshLock(store.lock))
	ts.instance = srv.URL
	var calls atomic.Int32
	mux.HandleFunc("GET "+apiRoot+"/limits", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if accepted == "" || r.Header.Get("Authorization") != "Bearer "+accepted {
			writeJSON(w, 401, sessionExpiredBody)
			return
		}
		writeJSON(w, 200, `{}`)
	})
	return c, &calls
}

// TestRefreshLockAdoptedTokenExpiredToo is the stale-takeover case: the
// token another process stored has expired as well, so the replay with it
// is refused. The client takes the lock again and refreshes once; a token
// the API refuses even after that is returned as a session error, without
// a loop.
func TestRefreshLockAdoptedTokenExpiredToo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		accepted string // what the API accepts
		wantErr  bool
	}{
		{name: "refresh after the adopted token is refused", accepted: "fresh"},
		{name: "the refreshed token is refused too", accepted: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{next: "fresh", rotate: true}
			store := &lockedStore{stored: salesforce.Token{AccessToken: "stored-and-expired", RefreshToken: "stored-refresh"}}
			c, calls := lockedClient(t, ts, store, tt.accepted)
			_, err := c.Limits(t.Context())
			if tt.wantErr {
				if !salesforce.IsSessionError(err) {
					t.Fatalf("Limits = %v, want a session error", err)
				}
			} else if err != nil {
				t.Fatalf("Limits: %v", err)
			}
			locks, outcomes, stored := store.state()
			// The stale call, the replay with the adopted token, the
			// replay with the refreshed one.
			if n := calls.Load(); n != 3 {
				t.Errorf("API calls = %d, want 3", n)
			}
			if n := ts.count(); n != 1 {
				t.Errorf("refreshes = %d, want exactly 1", n)
			}
			if locks != 2 || len(outcomes) != 2 || outcomes[0] != nil || outcomes[1] != nil {
				t.Errorf("locks = %d, unlock outcomes = %v; want 2 locks, both unlocked with nil", locks, outcomes)
			}
			if stored.AccessToken != "fresh" || stored.RefreshToken != "rotated-stored-refresh" {
				t.Errorf("stored = %v, want the refresh made with the stored refresh token", stored)
			}
			if c.Token().AccessToken != "fresh" {
				t.Errorf("client token = %v, want the refreshed one", c.Token())
			}
		})
	}
}

// reauthError stands in for the error a lock hook substitutes for a
// refused refresh (Tandem's *vault.ReauthError).
type reauthError struct{ err error }

func (e *reauthError) Error() string { return "reconnect needed: " + e.err.Error() }
func (e *reauthError) Unwrap() error { return e.err }

// TestRefreshLockLearnsOutcome checks that unlock is told how the refresh
// ended, and that what it returns is what the call fails with.
func TestRefreshLockLearnsOutcome(t *testing.T) {
	t.Parallel()
	errCommit := errors.New("commit failed")
	tests := []struct {
		name string
		fail string // the login host's refusal code
		// finish is the hook's unlock result.
		finish      func(outcome error) error
		wantOutcome func(error) bool
		wantErr     func(error) bool
	}{
		{
			name:        "success",
			wantOutcome: func(err error) bool { return err == nil },
			wantErr:     func(err error) bool { return err == nil },
		},
		{
			name: "refusal replaced by the hook's error",
			fail: "invalid_grant",
			finish: func(outcome error) error {
				var oe *salesforce.OAuthError
				if errors.As(outcome, &oe) && oe.Terminal() {
					return &reauthError{err: outcome}
				}
				return outcome
			},
			wantOutcome: func(err error) bool {
				var oe *salesforce.OAuthError
				return errors.As(err, &oe) && oe.Terminal()
			},
			wantErr: func(err error) bool {
				var re *reauthError
				var oe *salesforce.OAuthError
				return errors.As(err, &re) && errors.As(err, &oe)
			},
		},
		{
			name:        "hook returns nil for a refusal",
			fail:        "invalid_grant",
			finish:      func(error) error { return nil },
			wantOutcome: func(err error) bool { return err != nil },
			wantErr: func(err error) bool {
				var oe *salesforce.OAuthError
				return errors.As(err, &oe) && salesforce.IsSessionError(err)
			},
		},
		{
			name:        "commit fails after a good refresh",
			finish:      func(outcome error) error { return errors.Join(outcome, errCommit) },
			wantOutcome: func(err error) bool { return err == nil },
			wantErr:     func(err error) bool { return errors.Is(err, errCommit) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{next: "fresh", rotate: true, fail: tt.fail}
			store := &lockedStore{stored: salesforce.Token{AccessToken: testAccess, RefreshToken: testRefresh}, finish: tt.finish}
			c, calls := lockedClient(t, ts, store, "fresh")
			_, err := c.Limits(t.Context())
			if !tt.wantErr(err) {
				t.Fatalf("Limits error = %v", err)
			}
			locks, outcomes, _ := store.state()
			if locks != 1 || len(outcomes) != 1 || !tt.wantOutcome(outcomes[0]) {
				t.Fatalf("locks = %d, unlock outcomes = %v", locks, outcomes)
			}
			if ts.count() != 1 {
				t.Errorf("refreshes = %d, want 1", ts.count())
			}
			used := c.Token().AccessToken == "fresh"
			if used != (err == nil) {
				t.Errorf("new token used = %v with call error %v; want it used only when unlock succeeded", used, err)
			}
			if err == nil && calls.Load() != 2 || err != nil && calls.Load() != 1 {
				t.Errorf("API calls = %d", calls.Load())
			}
			if err != nil && strings.Contains(err.Error(), testRefresh) {
				t.Errorf("error leaks the refresh token: %v", err)
			}
		})
	}
}

func TestRefreshLockFailures(t *testing.T) {
	t.Parallel()
	errDown := errors.New("database down")
	tests := []struct {
		name    string
		lock    salesforce.RefreshLockFunc
		wantErr string
	}{
		{
			name: "lock fails",
			lock: func(context.Context) (salesforce.Token, func(error) error, error) {
				return salesforce.Token{}, nil, errDown
			},
			wantErr: "refresh lock: database down",
		},
		{
			name: "no unlock function",
			lock: func(context.Context) (salesforce.Token, func(error) error, error) {
				return salesforce.Token{}, nil, nil
			},
			wantErr: "no unlock function",
		},
		{
			name: "stored token with a bad instance URL",
			lock: func(context.Context) (salesforce.Token, func(error) error, error) {
				return salesforce.Token{AccessToken: "other", InstanceURL: "https://acme.lightning.force.com"},
					func(err error) error { return err }, nil
			},
			wantErr: "stored token: instance URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{next: "fresh"}
			mux, c := refreshSetup(t, ts, &savedTokens{}, salesforce.WithRefreshLock(tt.lock))
			mux.HandleFunc("GET "+apiRoot+"/limits", requireToken("fresh", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) }))
			_, err := c.Limits(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Limits = %v, want an error containing %q", err, tt.wantErr)
			}
			if ts.count() != 0 || c.Token().AccessToken != testAccess {
				t.Errorf("refreshes = %d, token %v; want no refresh and the old token", ts.count(), c.Token())
			}
		})
	}
}
