package sync

import (
	"context"
	stdsync "sync"
)

// tenantLocks serializes, per tenant, the part of a sales run that reads
// and writes what a tenant's stores share in Salesforce: products, their
// standard prices and the accounts of contacts. Each store is its own
// stream, and a worker runs a tenant's stores at once; without the lock
// two stores importing their histories look up the same contacts and
// upsert the same products, paying twice in API calls for one result. The
// second store to take the lock finds the first's results in the ledger.
//
// The lock is per process: stores of one tenant running in two worker
// processes can still overlap. That costs calls, never correctness: shared
// writes are upserts, a duplicate create is read back (duplicateRace), and
// the ledger's writes are idempotent.
type tenantLocks struct {
	mu    stdsync.Mutex
	locks map[string]*tenantLock
}

type tenantLock struct {
	ch    chan struct{} // holds a token while the lock is held
	users int           // holders and waiters; the entry goes at 0
}

// lock takes tenant's lock, waiting until it is free or ctx is done, and
// returns the function that releases it.
func (t *tenantLocks) lock(ctx context.Context, tenant string) (unlock func(), err error) {
	t.mu.Lock()
	if t.locks == nil {
		t.locks = map[string]*tenantLock{}
	}
	l := t.locks[tenant]
	if l == nil {
		l = &tenantLock{ch: make(chan struct{}, 1)}
		t.locks[tenant] = l
	}
	l.users++
	t.mu.Unlock()
	done := func() {
		t.mu.Lock()
		if l.users--; l.users == 0 {
			delete(t.locks, tenant)
		}
		t.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
	var once stdsync.Once
	return func() {
		once.Do(func() {
			<-l.ch
			done()
		})
	}, nil
}
