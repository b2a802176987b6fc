package jobs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tandemsync/tandem/jobs/ledger"
)

// A sync run holds its stream by a lease on the stream's row (ledger
// AcquireRun), renewed every third of its length while the run goes on. The
// lease, not River's job state, is what keeps two runs of a stream apart: a
// worker that dies stops renewing, and the stream is free again when the
// lease runs out, rather than when River rescues the dead job
// (rescueStuckAfter, minutes later). A row lease rather than a session
// advisory lock: a lock would pin a connection for the whole run, and a
// worker's pool is small (pgxpool's default is four connections on two
// cores, for eight concurrent runs and River's own use), while a lease
// borrows one for a moment every few seconds.

const (
	// runLease is how long a stream stays held after its run's last
	// renewal: how soon a stream whose worker died runs again.
	runLease = 30 * time.Second
	// busySnooze is how long a Sync now waits for the stream's current run
	// before it looks again.
	busySnooze = 5 * time.Second
	// claimLease is how long a stream the scheduler claimed waits before it
	// is due again if its job never took the run lease (its worker died
	// between River handing it the job and the job starting). Claiming a
	// stream whose job is still waiting in the queue again is harmless: the
	// insert is skipped as a duplicate.
	claimLease = runLease
)

// errLeaseLost ends a run whose lease another run took over (this one could
// not renew it in time).
var errLeaseLost = errors.New("jobs: the stream's run lease was lost")

// streamLease is one run's hold on its stream.
type streamLease struct {
	ledger *ledger.Store
	key    ledger.StreamKey
	owner  string
	ttl    time.Duration
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
	// lostErr is why the run was stopped, if the lease was lost.
	lostErr atomic.Pointer[error]
}

// holdStream takes k's lease for a run (ledger.ErrStreamBusy when another
// run holds it) and keeps renewing it until release. The returned context
// is cancelled if the lease is lost, so the run stops.
func holdStream(ctx context.Context, l *ledger.Store, k ledger.StreamKey, ttl time.Duration) (*streamLease, context.Context, error) {
	owner := rand.Text()
	if err := l.AcquireRun(ctx, k, owner, ttl); err != nil {
		return nil, ctx, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	h := &streamLease{ledger: l, key: k, owner: owner, ttl: ttl, cancel: cancel,
		stop: make(chan struct{}), done: make(chan struct{})}
	go h.renew(ctx)
	return h, ctx, nil
}

// renew extends the lease every third of its length. A run that cannot
// renew stops before the lease runs out, since another run may then take
// the stream.
func (h *streamLease) renew(ctx context.Context) {
	defer close(h.done)
	every := h.ttl / 3
	t := time.NewTicker(every)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-h.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		held, err := h.ledger.RenewRun(ctx, h.key, h.owner, h.ttl)
		switch {
		case err == nil && held:
			last = time.Now()
		case err == nil:
			h.lose(errLeaseLost)
			return
		case time.Since(last)+every >= h.ttl:
			h.lose(fmt.Errorf("jobs: %s: cannot renew the run lease: %w", h.key, err))
			return
		}
	}
}

func (h *streamLease) lose(err error) {
	h.lostErr.Store(&err)
	h.cancel(err)
}

// lost is why the run was stopped, or nil while it holds the stream.
func (h *streamLease) lost() error {
	if p := h.lostErr.Load(); p != nil {
		return *p
	}
	return nil
}

// release stops renewing and frees the stream.
func (h *streamLease) release(ctx context.Context) error {
	close(h.stop)
	<-h.done
	h.cancel(nil)
	return h.ledger.ReleaseRun(ctx, h.key, h.owner)
}
