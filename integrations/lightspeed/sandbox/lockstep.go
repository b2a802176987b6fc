package sandbox

import (
	"context"
	"sync"
	"time"
)

// Lockstep is a virtual clock for a sandbox and the callers it serves in a
// test: time stands still while any joined caller is working (sending a
// request, waiting for a database) and moves only when every one of them is
// asleep in Sleep, jumping straight to the earliest wake-up. A rate-limit
// test then runs as fast as the machine allows, and a request can never
// arrive later, in sandbox time, than its caller thought it sent it.
//
// Pass Now to Options.Now and to the client, Sleep to the client, and have
// every calling goroutine Join before its first call and call the returned
// done when it finishes.
type Lockstep struct {
	mu       sync.Mutex
	now      time.Time
	active   int
	sleepers map[*sleeper]struct{}
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

// NewLockstep returns a clock reading start.
func NewLockstep(start time.Time) *Lockstep {
	return &Lockstep{now: start, sleepers: map[*sleeper]struct{}{}}
}

// Now returns the virtual time.
func (c *Lockstep) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Join registers a caller; time waits for it until it sleeps or calls done.
func (c *Lockstep) Join() (done func()) {
	c.mu.Lock()
	c.active++
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.active--
			c.advance()
			c.mu.Unlock()
		})
	}
}

// Sleep blocks until the clock reaches now+d or ctx ends.
func (c *Lockstep) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	c.mu.Lock()
	s := &sleeper{until: c.now.Add(d), wake: make(chan struct{})}
	c.sleepers[s] = struct{}{}
	c.advance()
	c.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		_, asleep := c.sleepers[s]
		delete(c.sleepers, s)
		c.advance()
		c.mu.Unlock()
		if !asleep {
			return nil // woken as ctx ended: the sleep is over either way
		}
		return ctx.Err()
	}
}

// advance moves time to the earliest wake-up once every joined caller
// sleeps, and wakes whoever is due. c.mu is held.
func (c *Lockstep) advance() {
	if len(c.sleepers) == 0 || len(c.sleepers) < c.active {
		return
	}
	var next time.Time
	for s := range c.sleepers {
		if next.IsZero() || s.until.Before(next) {
			next = s.until
		}
	}
	if next.After(c.now) {
		c.now = next
	}
	for s := range c.sleepers {
		if !s.until.After(c.now) {
			delete(c.sleepers, s)
			close(s.wake)
		}
	}
}
