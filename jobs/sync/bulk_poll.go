package sync

import (
	stdsync "sync"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce"
)

// Each status poll of a Bulk API job is a Salesforce API call counted
// against the merchant's daily allocation, so a run times its polls to land
// when the job should be done: from the job's rows and the tenant's
// processing rate before the first poll, then from the progress each poll
// reports.

const (
	// bulkPollMargin stretches a prediction so that the poll usually finds
	// the job done: a poll a little late costs the run a moment, one a
	// little early costs the merchant a call.
	bulkPollMargin = 1.25
	// bulkPollFloor is the shortest wait between polls (BulkPoll, when
	// shorter, wins).
	bulkPollFloor = 50 * time.Millisecond
	// bulkPriorPerRow is the processing time per row assumed for a tenant
	// none of whose jobs this Engine has seen finish: 20,000 rows a second,
	// faster than Salesforce is known to go, so that a first job is polled
	// early rather than late (its progress then times the next poll), and
	// never later than the fixed schedule did.
	bulkPriorPerRow = 50 * time.Microsecond
	// bulkRatesMax bounds the rates the Engine keeps (see bulkRates).
	bulkRatesMax = 8192
)

// pollPlan is what the next status poll of a Bulk job is timed by.
type pollPlan struct {
	// rows is how many rows the job holds; 0 when not known (a cursor
	// written before they were kept), which polls every max as before.
	rows int
	// perRow is the expected processing time per row.
	perRow time.Duration
	// elapsed is the time since the job was closed.
	elapsed time.Duration
	// polled is set when a poll has just found the job unfinished, with
	// processed of its rows done.
	polled    bool
	processed int
	// before is the run's previous poll of the job, if it found it
	// unfinished too (zero otherwise).
	before pollSample
	// floor and max bound the wait.
	floor, max time.Duration
}

// pollSample is what a poll saw of an unfinished job: rows processed at a
// time since the job was closed.
type pollSample struct {
	job       string
	processed int
	at        time.Duration
}

// next is how long to wait before polling the job (again).
//
// Before any poll, the job should be done rows × perRow after it was
// closed. After a poll that saw k of n rows processed at elapsed t, the
// rest should take (n−k) times the time a row takes, t/k. That errs late
// when the job waited in Salesforce's queue or started slowly (t counts
// that time), which costs the run a moment; a rate learned from other jobs
// errs early when this one runs slower (Salesforce runs an org's jobs side
// by side), which costs the merchant a call, so the progress rules. Once
// the run has polled the job twice, the rate between the two polls is the
// best guess. When k is 0
// (the job still queued) or n (finishing), the elapsed time grows by half,
// as a geometric schedule would. Every wait after a poll is at least a
// tenth of the elapsed time, so a job whose progress stalls near its end
// is polled ever less often.
func (p pollPlan) next() time.Duration {
	if p.rows <= 0 {
		return p.max
	}
	var d time.Duration
	switch {
	case !p.polled:
		d = time.Duration(float64(p.rows)*float64(p.perRow)*bulkPollMargin) - p.elapsed
	case p.processed > 0 && p.processed < p.rows:
		perRow := float64(p.elapsed) / float64(p.processed)
		if b := p.before; b.at > 0 && b.at < p.elapsed && b.processed < p.processed {
			perRow = float64(p.elapsed-b.at) / float64(p.processed-b.processed)
		}
		d = time.Duration(float64(p.rows-p.processed) * perRow * bulkPollMargin)
		d = max(d, p.elapsed/10)
	default:
		d = p.elapsed / 2
	}
	return min(max(d, p.floor), p.max)
}

// nextPoll is how long the run waits before polling bs's job: seen is the
// job as a poll just found it unfinished, nil before the job's first poll;
// before the run's previous poll of an unfinished job. It returns what the
// poll saw, for the next.
func (w *saleWriter) nextPoll(bs *bulkState, seen *salesforce.IngestJob, before pollSample) (time.Duration, pollSample) {
	p := pollPlan{floor: w.pollFloor(), max: w.opts.BulkPoll}
	if bs.timed() {
		object, _ := w.bulkObject(bs.Step)
		p.perRow = w.rates.perRow(w.key.TenantID, object)
		p.rows = bs.Rows
		// Another worker's clock may be a little behind the one that
		// closed the job.
		p.elapsed = max(w.opts.Now().Sub(bs.Closed), 0)
	}
	var saw pollSample
	if seen != nil {
		p.polled, p.processed = true, seen.NumberRecordsProcessed
		if before.job == bs.Job {
			p.before = before
		}
		saw = pollSample{job: bs.Job, processed: seen.NumberRecordsProcessed, at: p.elapsed}
	}
	return p.next(), saw
}

// pollFloor is the shortest wait between two polls of a Bulk job.
func (w *saleWriter) pollFloor() time.Duration {
	return min(bulkPollFloor, w.opts.BulkPoll)
}

// timed reports whether the cursor knows the job's rows and when it was
// closed (a cursor from before they were kept does not).
func (bs *bulkState) timed() bool {
	return bs.Rows > 0 && !bs.Closed.IsZero()
}

// bulkObject is the object and external id field of a Bulk step's job.
func (w *saleWriter) bulkObject(step string) (object, key string) {
	switch step {
	case bulkLines:
		return w.model.lineObject, lineIDField
	case bulkPayments:
		return paymentObject, paymentIDField
	}
	return w.model.saleObject, saleIDField
}

// bulkRates are the processing times per row of the Bulk jobs the Engine
// saw finish, by tenant and object, and by tenant over all objects (for an
// object none of its jobs has touched yet). A worker lives long and serves
// thousands of tenants, so the rates are bounded: two generations of at
// most bulkRatesMax/2 each, the older dropped when the newer fills, and a
// rate read from the older moved to the newer; a tenant not seen for a
// while falls back to the prior.
type bulkRates struct {
	mu       stdsync.Mutex
	cur, old map[rateKey]time.Duration
}

type rateKey struct {
	tenant, object string
}

func newBulkRates() *bulkRates {
	return &bulkRates{cur: map[rateKey]time.Duration{}, old: map[rateKey]time.Duration{}}
}

// perRow is the tenant's processing time per row of object: its own, else
// twice the tenant's on any object, else the prior. An object none of the
// tenant's jobs has finished yet may well be slower than the ones that did (lines resolve their sale and price book entry by
// lookup, and orgs put triggers on some objects and not others), and the
// stores of an import start their jobs of an object before any of them has
// finished: a guess from another object waits longer, and is not trusted
// over the progress a poll then sees.
func (r *bulkRates) perRow(tenant, object string) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d, ok := r.get(rateKey{tenant, object}); ok {
		return d
	}
	if d, ok := r.get(rateKey{tenant, ""}); ok {
		return 2 * d
	}
	return bulkPriorPerRow
}

// learn records a finished job of object that processed rows in ms
// milliseconds (Salesforce's totalProcessingTime) into the tenant's rates,
// each the mean of the new job and the rate before, so one slow job moves
// them halfway.
func (r *bulkRates) learn(tenant, object string, rows int, ms int64) {
	if rows <= 0 || ms < 0 {
		return
	}
	// totalProcessingTime is whole milliseconds: a small job may say 0.
	d := time.Duration(max(ms, 1)) * time.Millisecond / time.Duration(rows)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range []rateKey{{tenant, object}, {tenant, ""}} {
		if old, ok := r.get(k); ok {
			r.put(k, (old+d)/2)
		} else {
			r.put(k, d)
		}
	}
}

func (r *bulkRates) get(k rateKey) (time.Duration, bool) {
	if d, ok := r.cur[k]; ok {
		return d, true
	}
	d, ok := r.old[k]
	if ok {
		r.put(k, d)
	}
	return d, ok
}

func (r *bulkRates) put(k rateKey, d time.Duration) {
	if _, ok := r.cur[k]; !ok && len(r.cur) >= bulkRatesMax/2 {
		r.old, r.cur = r.cur, make(map[rateKey]time.Duration, len(r.cur))
	}
	r.cur[k] = d
}
