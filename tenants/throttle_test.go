package tenants_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandemsync/tandem/tenants"
)

// TestAuthenticateBurstIsThrottledBeforeHashing: five guesses are being
// hashed (held at a barrier, none yet answered) when a sixth arrives for
// the same email from the same address. The sixth is refused without its
// password being checked: attempts are counted before hashing, not after.
func TestAuthenticateBurstIsThrottledBeforeHashing(t *testing.T) {
	t.Parallel()
	var checks atomic.Int32
	arrived := make(chan struct{})
	release := make(chan struct{})
	f := setup(t, tenants.WithBeforeCheck(func() {
		if checks.Add(1) <= 5 {
			arrived <- struct{}{}
			<-release
		}
	}))
	f.signUp(t, "Shop", "me@shop.example")
	ctx := t.Context()

	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range 5 {
		wg.Go(func() { _, errs[i] = f.store.Authenticate(ctx, "me@shop.example", "wrong password", "203.0.113.7") })
	}
	for range 5 {
		<-arrived // all five are now between reservation and answer
	}
	_, err := f.store.Authenticate(ctx, "me@shop.example", "a good password", "203.0.113.7")
	var te *tenants.ThrottledError
	if !errors.As(err, &te) {
		t.Errorf("sixth concurrent attempt: %v; want *ThrottledError", err)
	}
	if n := checks.Load(); n != 5 {
		t.Errorf("passwords checked = %d; want 5 (the sixth must not be hashed)", n)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, tenants.ErrInvalidCredentials) {
			t.Errorf("guess %d: %v; want ErrInvalidCredentials", i+1, err)
		}
	}
}

// TestAuthenticateStrangerCannotLockOwnerOut: failures from other addresses,
// however many up to the per-email threshold, do not stop the owner logging
// in from an address that has not failed; the guessing address itself is
// stopped after five.
func TestAuthenticateStrangerCannotLockOwnerOut(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.signUp(t, "Shop", "me@shop.example")
	ctx := t.Context()
	// Five failures from each of nine addresses: 45, under the threshold.
	for a := range 9 {
		ip := fmt.Sprintf("192.0.2.%d", a)
		for i := range 5 {
			if _, err := f.store.Authenticate(ctx, "me@shop.example", "wrong password", ip); !errors.Is(err, tenants.ErrInvalidCredentials) {
				t.Fatalf("%s failure %d: %v; want ErrInvalidCredentials", ip, i+1, err)
			}
		}
	}
	var te *tenants.ThrottledError
	_, err := f.store.Authenticate(ctx, "me@shop.example", "a good password", "192.0.2.0")
	if !errors.As(err, &te) || te.RetryAfter != 15*time.Minute {
		t.Errorf("from a guessing address: %v; want *ThrottledError for 15m, even with the right password", err)
	}
	if _, err := f.store.Authenticate(ctx, "me@shop.example", "a good password", "198.51.100.9"); err != nil {
		t.Fatalf("owner from a clean address: %v; want to log in", err)
	}
	// The same again, a window later, and again: never a lock.
	for range 3 {
		f.clock.Advance(16 * time.Minute)
		for i := range 5 {
			f.store.Authenticate(ctx, "me@shop.example", "wrong password", fmt.Sprintf("192.0.2.%d", i))
		}
		if _, err := f.store.Authenticate(ctx, "me@shop.example", "a good password", "198.51.100.9"); err != nil {
			t.Fatalf("owner after another round of guesses: %v", err)
		}
	}
}

// TestAuthenticateOwnTyposThenSuccess: a success clears the address's own
// failures, so five more are checked before the next pause.
func TestAuthenticateOwnTyposThenSuccess(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.signUp(t, "Shop", "me@shop.example")
	ctx := t.Context()
	for range 4 {
		f.store.Authenticate(ctx, "me@shop.example", "wrong", "198.51.100.9")
	}
	if _, err := f.store.Authenticate(ctx, "me@shop.example", "a good password", "198.51.100.9"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := f.store.Authenticate(ctx, "me@shop.example", "wrong", "198.51.100.9"); !errors.Is(err, tenants.ErrInvalidCredentials) {
			t.Errorf("failure %d after a success: %v; want ErrInvalidCredentials", i+1, err)
		}
	}
	var te *tenants.ThrottledError
	if _, err := f.store.Authenticate(ctx, "me@shop.example", "wrong", "198.51.100.9"); !errors.As(err, &te) {
		t.Errorf("sixth failure after a success: %v; want *ThrottledError", err)
	}
	// Another email from the same address is not affected.
	if _, err := f.store.Authenticate(ctx, "other@shop.example", "x", "198.51.100.9"); !errors.Is(err, tenants.ErrInvalidCredentials) {
		t.Errorf("other email: %v; want ErrInvalidCredentials", err)
	}
}

// TestAuthenticateEmailDelaysGrow: past the per-email threshold, attempts
// from anywhere wait a delay after the last failure that doubles with each
// failure up to a cap: slowed, never locked.
func TestAuthenticateEmailDelaysGrow(t *testing.T) {
	t.Parallel()
	f := setup(t, tenants.WithThrottleLimits(tenants.ThrottleLimits{
		PerPair: 5, PerIP: 20, PerEmail: 3, EmailDelay: time.Second, MaxEmailDelay: 4 * time.Second, Window: 15 * time.Minute,
	}))
	f.signUp(t, "Shop", "me@shop.example")
	ctx := t.Context()
	ip := 0
	guess := func() error {
		ip++
		_, err := f.store.Authenticate(ctx, "me@shop.example", "wrong password", fmt.Sprintf("192.0.2.%d", ip))
		return err
	}
	for range 3 {
		if err := guess(); !errors.Is(err, tenants.ErrInvalidCredentials) {
			t.Fatal(err)
		}
	}
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		var te *tenants.ThrottledError
		if err := guess(); !errors.As(err, &te) || te.RetryAfter != want {
			t.Fatalf("attempt right after a failure: %v; want *ThrottledError for %v", err, want)
		}
		f.clock.Advance(want)
		if err := guess(); !errors.Is(err, tenants.ErrInvalidCredentials) {
			t.Fatalf("attempt after waiting %v: %v; want it checked", want, err)
		}
	}
	f.clock.Advance(4 * time.Second)
	if _, err := f.store.Authenticate(ctx, "me@shop.example", "a good password", "198.51.100.9"); err != nil {
		t.Errorf("owner after the delay: %v; want to log in", err)
	}
}

func TestSignUpLimitedPerAddress(t *testing.T) {
	t.Parallel()
	l := tenants.DefaultThrottleLimits()
	l.SignUpsPerIP = 2
	f := setup(t, tenants.WithThrottleLimits(l))
	ctx := t.Context()
	signUp := func(i int, ip string) error {
		_, _, err := f.store.SignUp(ctx, tenants.SignUpParams{
			BusinessName: "Shop", Email: fmt.Sprintf("me%d@shop.example", i), Password: "a good password", IP: ip,
		})
		return err
	}
	for i := range 2 {
		if err := signUp(i, "203.0.113.7"); err != nil {
			t.Fatal(err)
		}
	}
	var te *tenants.ThrottledError
	if err := signUp(2, "203.0.113.7"); !errors.As(err, &te) || te.RetryAfter <= 55*time.Minute {
		t.Fatalf("third sign-up from one address: %v; want *ThrottledError for about an hour", err)
	}
	if err := signUp(3, "203.0.113.8"); err != nil {
		t.Errorf("from another address: %v", err)
	}
	if err := signUp(4, ""); err != nil {
		t.Errorf("with no address (the command line): %v", err)
	}
	if n := f.count(t, "tenants"); n != 4 {
		t.Errorf("tenants = %d; want 4", n)
	}
}

// TestSignUpLimitHoldsUnderConcurrency: of a burst from one address, only
// the limit's worth are created.
func TestSignUpLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	l := tenants.DefaultThrottleLimits()
	l.SignUpsPerIP = 3
	f := setup(t, tenants.WithThrottleLimits(l))
	start := make(chan struct{})
	var wg sync.WaitGroup
	var created, throttled atomic.Int32
	for i := range 10 {
		wg.Go(func() {
			<-start
			_, _, err := f.store.SignUp(t.Context(), tenants.SignUpParams{
				BusinessName: "Shop", Email: fmt.Sprintf("me%d@shop.example", i), Password: "a good password", IP: "203.0.113.7",
			})
			var te *tenants.ThrottledError
			switch {
			case err == nil:
				created.Add(1)
			case errors.As(err, &te):
				throttled.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if created.Load() != 3 || throttled.Load() != 7 {
		t.Errorf("created %d, throttled %d; want 3 and 7", created.Load(), throttled.Load())
	}
}
