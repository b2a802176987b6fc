package sync

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// A tenant's lock is held by one run at a time, a waiter gives up with its
// context, other tenants are not held up, and no entry outlives its users
// (a worker serves thousands of tenants).
func TestTenantLocks(t *testing.T) {
	var l tenantLocks
	ctx := t.Context()
	unlock, err := l.lock(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.lock(ctx, "t2")
	if err != nil {
		t.Fatal(err)
	}
	other()

	waiting, cancel := context.WithCancel(ctx)
	got := make(chan error, 1)
	go func() {
		_, err := l.lock(waiting, "t1")
		got <- err
	}()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiter whose context ended got %v", err)
	}

	acquired := make(chan func(), 1)
	go func() {
		u, err := l.lock(ctx, "t1")
		if err != nil {
			t.Error(err)
		}
		acquired <- u
	}()
	// Once the second user is waiting, it must still be waiting.
	for waiters := 0; waiters < 2; runtime.Gosched() {
		l.mu.Lock()
		waiters = l.locks["t1"].users
		l.mu.Unlock()
	}
	select {
	case <-acquired:
		t.Fatal("t1's lock was taken twice")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	unlock() // a second call is harmless
	(<-acquired)()
	if n := len(l.locks); n != 0 {
		t.Errorf("%d lock entries left after every user is gone", n)
	}
}
