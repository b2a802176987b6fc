package sync

import (
	"fmt"
	"testing"
	"time"
)

func TestPollPlanNext(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	base := pollPlan{perRow: 50 * time.Microsecond, floor: 50 * ms, max: 5 * time.Second}
	with := func(f func(*pollPlan)) pollPlan {
		p := base
		f(&p)
		return p
	}
	tests := []struct {
		name string
		plan pollPlan
		want time.Duration
	}{
		{"rows unknown (a cursor from before they were kept): every max, as before",
			with(func(p *pollPlan) { p.polled, p.processed = true, 10 }), 5 * time.Second},
		{"rows unknown before the first poll",
			base, 5 * time.Second},
		{"first poll: rows × rate × margin after close",
			with(func(p *pollPlan) { p.rows = 6000 }), 375 * ms},
		{"first poll less the time since close",
			with(func(p *pollPlan) { p.rows, p.elapsed = 6000, 100*ms }), 275 * ms},
		{"first poll of a job that should be done already: the floor",
			with(func(p *pollPlan) { p.rows, p.elapsed = 6000, time.Second }), 50 * ms},
		{"first poll of a small job: the floor",
			with(func(p *pollPlan) { p.rows = 100 }), 50 * ms},
		{"first poll of a slow tenant's big job: max",
			with(func(p *pollPlan) { p.rows, p.perRow = 10000, 5*ms }), 5 * time.Second},
		{"half done at 400 ms: the other half, with the margin",
			with(func(p *pollPlan) { p.rows, p.elapsed, p.polled, p.processed = 6000, 400*ms, true, 3000 }), 500 * ms},
		{"a quarter done at 300 ms",
			with(func(p *pollPlan) { p.rows, p.elapsed, p.polled, p.processed = 8000, 300*ms, true, 2000 }), 1125 * ms},
		{"a quarter done at 300 ms, the expected rate slower: the progress rules",
			with(func(p *pollPlan) {
				p.rows, p.elapsed, p.polled, p.processed, p.perRow = 8000, 300*ms, true, 2000, 200*time.Microsecond
			}), 1125 * ms},
		{"a quarter done at 300 ms, the expected rate faster: the progress still rules (an early poll costs a call)",
			with(func(p *pollPlan) { p.rows, p.elapsed, p.polled, p.processed = 8000, 300*ms, true, 2000 }), 1125 * ms},
		{"polled twice: the rate between the polls (1000 rows in 100 ms)",
			with(func(p *pollPlan) {
				p.rows, p.elapsed, p.polled, p.processed, p.before = 8000, 400*ms, true, 3000, pollSample{processed: 2000, at: 300 * ms}
			}), 625 * ms},
		{"polled twice, no progress between: since close",
			with(func(p *pollPlan) {
				p.rows, p.elapsed, p.polled, p.processed, p.before = 8000, 400*ms, true, 2000, pollSample{processed: 2000, at: 300 * ms}
			}), 1500 * ms},
		{"nearly done: at least a tenth of the time since close",
			with(func(p *pollPlan) { p.rows, p.elapsed, p.polled, p.processed = 6000, time.Second, true, 5990 }), 100 * ms},
		{"progress says minutes: max",
			with(func(p *pollPlan) { p.rows, p.elapsed, p.polled, p.processed = 6000, 10*time.Second, true, 200 }), 5 * time.Second},
		{"nothing processed yet (queued): half the time since close",
			with(func(p *pollPlan) { p.rows, p.elapsed, p.polled = 6000, 800*ms, true }), 400 * ms},
		{"nothing processed, early: the floor",
			with(func(p *pollPlan) { p.rows, p.elapsed, p.polled = 6000, 60*ms, true }), 50 * ms},
		{"every row processed, not finished yet: half the time since close",
			with(func(p *pollPlan) { p.rows, p.elapsed, p.polled, p.processed = 6000, 600*ms, true, 6000 }), 300 * ms},
		{"a floor above max (BulkPoll shorter than the floor): max",
			with(func(p *pollPlan) { p.rows, p.floor, p.max = 6000, ms, ms }), ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.plan.next(); got != tt.want {
				t.Errorf("%+v.next() = %s, want %s", tt.plan, got, tt.want)
			}
		})
	}
}

func TestBulkRates(t *testing.T) {
	t.Parallel()
	r := newBulkRates()
	if got := r.perRow("t1", "Opportunity"); got != bulkPriorPerRow {
		t.Errorf("a tenant never seen: %s, want the prior %s", got, bulkPriorPerRow)
	}
	r.learn("t1", "Opportunity", 5000, 500) // 100 µs a row
	tests := []struct {
		tenant, object string
		want           time.Duration
	}{
		{"t1", "Opportunity", 100 * time.Microsecond},
		{"t1", "OpportunityLineItem", 200 * time.Microsecond}, // twice the tenant's rate on any object
		{"t2", "Opportunity", bulkPriorPerRow},                // another tenant's is not its own
	}
	for _, tt := range tests {
		if got := r.perRow(tt.tenant, tt.object); got != tt.want {
			t.Errorf("perRow(%s, %s) = %s, want %s", tt.tenant, tt.object, got, tt.want)
		}
	}
	// A second job moves the rate halfway; a job the API says took 0 ms
	// counts as 1 ms.
	r.learn("t1", "Opportunity", 5000, 1500) // 300 µs a row
	if got := r.perRow("t1", "Opportunity"); got != 200*time.Microsecond {
		t.Errorf("after a second job: %s, want 200µs", got)
	}
	r.learn("t1", "Payment__c", 1000, 0)
	if got := r.perRow("t1", "Payment__c"); got != time.Microsecond {
		t.Errorf("a job of 0 ms: %s, want 1µs", got)
	}
	before := r.perRow("t1", "Refund__c")
	r.learn("t1", "Refund__c", 0, 10) // nothing processed: nothing learned
	if got := r.perRow("t1", "Refund__c"); got != before {
		t.Errorf("a job that processed nothing moved the rate from %s to %s", before, got)
	}
}

// The rates stay bounded however many tenants a worker serves, and a
// tenant in use keeps its rate while others come and go.
func TestBulkRatesBounded(t *testing.T) {
	t.Parallel()
	r := newBulkRates()
	r.learn("busy", "Opportunity", 1000, 1000)
	for i := range 10 * bulkRatesMax {
		r.learn(fmt.Sprintf("tenant-%d", i), "Opportunity", 1000, 100)
		if got := r.perRow("busy", "Opportunity"); i%100 == 0 && got != time.Millisecond {
			t.Fatalf("after %d other tenants the busy tenant lost its rate", i)
		}
	}
	if n := len(r.cur) + len(r.old); n > bulkRatesMax {
		t.Errorf("%d rates kept, want at most %d", n, bulkRatesMax)
	}
	if got := r.perRow("tenant-0", "Opportunity"); got != bulkPriorPerRow {
		t.Errorf("a tenant long gone: %s, want the prior", got)
	}
}

// Cursors written before a Bulk job's rows and closing time were kept
// still read, and poll as before; the new fields are left out when unset.
func TestBulkStateCursorCompatible(t *testing.T) {
	t.Parallel()
	old := `{"updated_at":"2024-05-01T10:00:00Z","bulk":{"step":"lines","job":"7500000000000AAA","to":"2024-05-02T10:00:00Z"},"import":{"done":5000,"total":20000,"finished":false}}`
	cur, ok := parseSalesCursor(old)
	if !ok || cur.Bulk == nil || cur.Bulk.Job != "7500000000000AAA" {
		t.Fatalf("an old cursor: %+v, %v", cur, ok)
	}
	if cur.Bulk.timed() {
		t.Errorf("an old cursor's job is timed: %+v", cur.Bulk)
	}
	if got := cur.encode(); got != old {
		t.Errorf("an old cursor written again:\n%s\nwant\n%s", got, old)
	}
	closed := time.Date(2024, 5, 2, 10, 0, 1, 250_000_000, time.UTC)
	cur.Bulk.Rows, cur.Bulk.Closed = 6000, closed
	again, ok := parseSalesCursor(cur.encode())
	if !ok || again.Bulk.Rows != 6000 || !again.Bulk.Closed.Equal(closed) || !again.Bulk.timed() {
		t.Errorf("a cursor with its job's rows and closing time read back as %+v", again.Bulk)
	}
}
