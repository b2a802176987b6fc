package lightspeed

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Lightspeed meters each (account, OAuth client) pair with a leaky bucket:
// every request adds its cost in "drips", the level drains at the drip rate,
// and once the level is above the bucket size requests get 429. A separate
// burst limiter allows a fixed number of requests per one-second window.
//
// Limits is the registry of that state. cmd/tandem creates one with
// NewLimits and passes it to every Client, so all clients (one per job) of
// an account share one Bucket; a Client constructed without Limits gets a
// private bucket.
//
// Where the state lives is the BucketStore's business: by default a map in
// this process; with a store over shared storage (Tandem keeps one row per
// account in Postgres, updated under SELECT ... FOR UPDATE), every process
// reserves from the same level and burst window, and a 429 seen by one
// process holds back all of them until its Retry-After passes.
type Limits struct {
	mu      sync.Mutex
	buckets map[BucketKey]*Bucket
	opts    LimitsOptions
}

// LimitsOptions configures a Limits registry.
type LimitsOptions struct {
	// DefaultSize and DefaultDripRate describe a bucket before its first
	// response headers are seen. Zero means the 2026 base plan: 90 drips,
	// 1 drip per second.
	DefaultSize     float64
	DefaultDripRate float64
	// DefaultBurst is the assumed per-second request limit before the
	// X-LS-API-Burst-Level header is seen. Zero means size/90*20 (20 for the
	// base plan), the documented example.
	DefaultBurst int
	// Store keeps every bucket's state; nil keeps it in this process.
	Store BucketStore
}

// BucketKey names a bucket: Lightspeed meters each account and OAuth
// client apart.
type BucketKey struct {
	AccountID int64
	ClientID  string
}

// BucketStore keeps bucket records where every client sharing a bucket can
// reach them. The rate-limit arithmetic stays in this package; a store only
// has to make each update atomic.
type BucketStore interface {
	// Update calls fn with key's record (the zero record when none is
	// stored) and stores what fn leaves, atomically with respect to every
	// other Update of key in any process sharing the store. fn does no I/O
	// and is called at most once; when Update returns an error, fn's changes
	// may not have been stored. Implementations must be safe for concurrent
	// use.
	Update(ctx context.Context, key BucketKey, fn func(*BucketRecord)) error
}

// BucketRecord is the stored state of one bucket: the client's estimate of
// the API's level, which includes requests reserved but not yet answered.
type BucketRecord struct {
	// Level is in drips as of At.
	Level float64
	At    time.Time
	// Size, DripRate and BurstLimit are the bucket's parameters as the API
	// last reported them; a zero Size means none was seen or assumed yet.
	Size       float64
	DripRate   float64
	BurstLimit int
	// Sent holds the times of the requests admitted within the last second,
	// oldest first: the burst window.
	Sent []time.Time
	// BlockedUntil is when the last 429's Retry-After ends; no request is
	// admitted before it.
	BlockedUntil time.Time
}

// BucketState is what the API last reported for a bucket.
type BucketState struct {
	Level      float64 // drips in the bucket
	Size       float64 // bucket capacity
	DripRate   float64 // drips drained per second
	BurstLevel int     // requests in the current second
	BurstLimit int     // requests allowed per second
	LastCost   float64 // X-LS-API-Request-Cost of the last response
}

// NewLimits returns an empty registry.
func NewLimits(opts LimitsOptions) *Limits {
	if opts.DefaultSize <= 0 {
		opts.DefaultSize = 90
	}
	if opts.DefaultDripRate <= 0 {
		opts.DefaultDripRate = 1
	}
	if opts.DefaultBurst <= 0 {
		opts.DefaultBurst = int(opts.DefaultSize / 90 * 20)
		if opts.DefaultBurst < 1 {
			opts.DefaultBurst = 1
		}
	}
	if opts.Store == nil {
		opts.Store = &memoryStore{records: make(map[BucketKey]*BucketRecord)}
	}
	return &Limits{buckets: make(map[BucketKey]*Bucket), opts: opts}
}

// Bucket returns the shared bucket of (accountID, clientID), creating it on
// first use.
func (l *Limits) Bucket(accountID int64, clientID string) *Bucket {
	k := BucketKey{accountID, clientID}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[k]
	if !ok {
		b = &Bucket{key: k, store: l.opts.Store, defaults: BucketRecord{
			Size: l.opts.DefaultSize, DripRate: l.opts.DefaultDripRate, BurstLimit: l.opts.DefaultBurst,
		}}
		l.buckets[k] = b
	}
	return b
}

// Bucket is one leaky bucket as seen through the registry's store. It is
// safe for concurrent use.
type Bucket struct {
	key      BucketKey
	store    BucketStore
	defaults BucketRecord // the parameters assumed before the API reports any
}

// State returns the bucket's current estimate, drained to now.
func (b *Bucket) State(ctx context.Context, now time.Time) (BucketState, error) {
	var st BucketState
	err := b.update(ctx, func(r *BucketRecord) {
		r.drain(now)
		r.pruneBurst(now)
		st = BucketState{Level: r.Level, Size: r.Size, DripRate: r.DripRate, BurstLevel: len(r.Sent), BurstLimit: r.BurstLimit}
	})
	return st, err
}

func (b *Bucket) update(ctx context.Context, fn func(*BucketRecord)) error {
	return b.store.Update(ctx, b.key, func(r *BucketRecord) {
		if r.Size <= 0 {
			r.Size, r.DripRate, r.BurstLimit = b.defaults.Size, b.defaults.DripRate, b.defaults.BurstLimit
		}
		if r.DripRate <= 0 {
			r.DripRate = b.defaults.DripRate
		}
		fn(r)
	})
}

// reserve asks to send a request of the given cost at now. It returns zero
// and records the reservation when the request fits, or the time to wait
// before asking again.
func (b *Bucket) reserve(ctx context.Context, cost float64, now time.Time) (time.Duration, error) {
	var wait time.Duration
	err := b.update(ctx, func(r *BucketRecord) { wait = r.reserve(cost, now) })
	return wait, err
}

// observe records a response's rate headers. A store that fails here does
// not fail the call: the API's headers and 429s stay authoritative.
func (b *Bucket) observe(ctx context.Context, h http.Header, reserved float64, now time.Time) {
	st, ok := ParseBucketHeaders(h)
	if !ok {
		return
	}
	_ = b.update(ctx, func(r *BucketRecord) { r.observe(st, reserved, now) })
}

// throttled records a 429 for every client of the bucket.
func (b *Bucket) throttled(ctx context.Context, retryAfter time.Duration, limitType string, now time.Time) {
	_ = b.update(ctx, func(r *BucketRecord) { r.throttled(retryAfter, limitType, now) })
}

// drain lowers the level by what dripped out since At. A now before At
// (another process's clock running ahead) drains nothing and keeps At.
func (r *BucketRecord) drain(now time.Time) {
	if r.At.IsZero() || now.After(r.At) {
		if !r.At.IsZero() {
			r.Level = max(0, r.Level-now.Sub(r.At).Seconds()*r.DripRate)
		}
		r.At = now
	}
}

// pruneBurst drops the sends that left the one-second window.
func (r *BucketRecord) pruneBurst(now time.Time) {
	cut := 0
	for cut < len(r.Sent) && now.Sub(r.Sent[cut]) >= time.Second {
		cut++
	}
	r.Sent = r.Sent[cut:]
}

// reserve admits a request of the given cost at now, returning zero, or
// returns how long to wait before asking again (always positive, rounded up
// to the microsecond: the precision of a Postgres timestamp, so a stored
// window never reopens early).
//
// The client is stricter than the API on purpose: the API admits a request
// while its level is below the size and lets that request overflow once,
// while the client admits one only when it fits, except into an empty
// bucket (so a request costing more than the size still goes). Its burst
// window slides, where the API's is a fixed second; a sliding window that
// never holds more than the limit cannot exceed it in any fixed second, on
// any process's clock.
func (r *BucketRecord) reserve(cost float64, now time.Time) time.Duration {
	r.drain(now)
	if now.Before(r.BlockedUntil) {
		return ceilMicro(r.BlockedUntil.Sub(now))
	}
	r.pruneBurst(now)
	if r.BurstLimit > 0 && len(r.Sent) >= r.BurstLimit {
		return ceilMicro(min(r.Sent[len(r.Sent)-r.BurstLimit].Add(time.Second).Sub(now), time.Second))
	}
	if r.Level > 0 && r.Level+cost > r.Size {
		over := r.Level + cost - r.Size
		return ceilMicro(time.Duration(over / r.DripRate * float64(time.Second)))
	}
	r.Level += cost
	r.Sent = append(r.Sent, now)
	if n := len(r.Sent); r.BurstLimit > 0 && n > r.BurstLimit {
		// The limit shrank (a header reported a smaller one): keep the window
		// bounded.
		r.Sent = r.Sent[n-r.BurstLimit:]
	}
	return 0
}

// ceilMicro rounds d up to a whole, positive number of microseconds.
func ceilMicro(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Microsecond
	}
	return (d + time.Microsecond - 1).Truncate(time.Microsecond)
}

// observe takes in a response's rate headers. The API's cost replaces the
// estimate reserved for this request, then the API's level wins when it is
// higher than the estimate (another client, outside this registry, spent
// drips). A lower API level is not taken: it does not yet count requests
// still in flight, from this process or others.
func (r *BucketRecord) observe(st BucketState, reserved float64, now time.Time) {
	r.drain(now)
	if st.Size > 0 {
		r.Size = st.Size
	}
	if st.DripRate > 0 {
		r.DripRate = st.DripRate
	}
	if st.BurstLimit > 0 {
		r.BurstLimit = st.BurstLimit
	}
	if st.LastCost > 0 && reserved > st.LastCost {
		r.Level = max(0, r.Level-(reserved-st.LastCost))
	}
	r.Level = max(r.Level, st.Level)
}

// throttled records a 429: nobody sends before retryAfter has passed, and a
// bucket 429 means the level is at least the size, whatever was estimated.
func (r *BucketRecord) throttled(retryAfter time.Duration, limitType string, now time.Time) {
	r.drain(now)
	if until := now.Add(retryAfter); until.After(r.BlockedUntil) {
		r.BlockedUntil = until
	}
	if limitType != limitTypeBurst {
		r.Level = max(r.Level, r.Size)
	}
}

// limitTypeBurst is the X-LS-API-RateLimit-Type of a burst-window 429.
const limitTypeBurst = "api-burst-limiter"

// memoryStore keeps records in this process.
type memoryStore struct {
	mu      sync.Mutex
	records map[BucketKey]*BucketRecord
}

func (s *memoryStore) Update(_ context.Context, key BucketKey, fn func(*BucketRecord)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[key]
	if !ok {
		r = &BucketRecord{}
		s.records[key] = r
	}
	fn(r)
	return nil
}

// ParseBucketHeaders reads the X-LS-API-* headers of a response.
// "Bucket-Level: 1/90" carries level and size; "Burst-Level: 1/20" the burst
// window. It reports false when the bucket level is absent or unreadable.
func ParseBucketHeaders(h http.Header) (BucketState, bool) {
	var st BucketState
	lv := h.Get("X-LS-API-Bucket-Level")
	if lv == "" {
		return st, false
	}
	level, size, ok := parseFraction(lv)
	if !ok {
		return st, false
	}
	st.Level, st.Size = level, size
	if v, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-LS-API-Drip-Rate")), 64); err == nil && v > 0 {
		st.DripRate = v
	}
	if bl, bs, ok := parseFraction(h.Get("X-LS-API-Burst-Level")); ok {
		st.BurstLevel, st.BurstLimit = int(bl), int(bs)
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-LS-API-Request-Cost")), 64); err == nil {
		st.LastCost = v
	}
	return st, true
}

func parseFraction(s string) (num, den float64, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(s), "/")
	if !found {
		return 0, 0, false
	}
	n, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	d, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil || n < 0 || d <= 0 {
		return 0, 0, false
	}
	return n, d, true
}

// isToMany reports whether a relation is a collection; the 2026 cost table
// charges 0.2 drips for those and 0.1 for a to-one relation. Names not
// listed count as to-one.
func isToMany(name string) bool {
	switch name {
	case "SaleLines", "SalePayments", "SaleNotes", "CustomFieldValues", "Tags", "Images", "ItemShops",
		"ItemVendorNums", "ItemComponents", "TagRelations", "ItemPrices", "Registers", "ShelfLocations",
		"EmployeeRights", "TaxCategoryClasses", "SaleAccounts", "Signatures", "ProcessingFees",
		"InventorySales", "Addresses", "Phones", "Emails":
		return true
	}
	return false
}

// allRelationsCost is the assumed cost of load_relations=all, which the API
// prices as the sum of every relation of the entity. It errs high: the API's
// X-LS-API-Bucket-Level corrects the estimate after each response.
const allRelationsCost = 3.0

// requestCost estimates the drips a request will cost under the 2026 cost
// table: 1 per request; 2 for writes to Sale/SaleLine (+3 when the body
// completes the sale); 5 for EmailReceipt; 10 for Category writes,
// Reconcile, Refund and count=1; +0.1/+0.2 per to-one/to-many relation in
// load_relations (doubled on list endpoints and under a to-many parent);
// +0.5 per nested entity in a write body.
func requestCost(method string, u *url.URL, body []byte, list bool) float64 {
	path := strings.TrimSuffix(u.Path, ".json")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	last := ""
	if len(segs) > 0 {
		last = segs[len(segs)-1]
	}
	q := u.Query()
	if q.Get("count") == "1" {
		return 10
	}
	write := method == http.MethodPost || method == http.MethodPut || method == http.MethodDelete
	cost := 1.0
	switch {
	case strings.EqualFold(last, "Refund") && method == http.MethodPost,
		strings.EqualFold(last, "Reconcile") && method == http.MethodPost:
		cost = 10
	case strings.EqualFold(last, "EmailReceipt") && method == http.MethodPost:
		cost = 5
	case write && (method != http.MethodDelete) && hasSeg(segs, "Category"):
		cost = 10
	case write && (hasSeg(segs, "Sale") || hasSeg(segs, "SaleLine")):
		cost = 2
		if bytes.Contains(body, []byte(`"completed"`)) && completes(body) {
			cost += 3
		}
	}
	if rel := q.Get("load_relations"); rel != "" {
		cost += relationsCost(rel, list)
	}
	if or := q.Get("or"); or != "" {
		cost += orCost(or)
	}
	if write && len(body) > 0 {
		cost += 0.5 * float64(nestedEntities(body))
	}
	return cost
}

// orCost prices an or= group: free when every operand filters the same
// field; +1 per operand within one entity with at most one range operator;
// otherwise +10 per entity and +1 per extra operand.
func orCost(v string) float64 {
	operands := strings.Split(v, "|")
	fields := map[string]bool{}
	entities := map[string]bool{}
	ranges := 0
	for _, o := range operands {
		f, val, _ := strings.Cut(o, "=")
		fields[f] = true
		ent, _, _ := strings.Cut(f, ".")
		if !strings.Contains(f, ".") {
			ent = ""
		}
		entities[ent] = true
		op, _, found := strings.Cut(val, ",")
		if found && (op == ">" || op == ">=" || op == "<" || op == "<=" || op == "><") {
			ranges++
		}
	}
	switch {
	case len(fields) == 1:
		return 0
	case len(entities) == 1 && ranges <= 1:
		return float64(len(operands))
	}
	return 10*float64(len(entities)) + float64(len(operands)-1)
}

func hasSeg(segs []string, name string) bool {
	for _, s := range segs {
		if s == name {
			return true
		}
	}
	return false
}

// completes reports whether a Sale body sets "completed" to true.
func completes(body []byte) bool {
	var v struct {
		Completed flexBool `json:"completed"`
	}
	return json.Unmarshal(body, &v) == nil && bool(v.Completed)
}

func relationsCost(rel string, list bool) float64 {
	if rel == "all" {
		return allRelationsCost
	}
	var names []string
	if err := json.Unmarshal([]byte(rel), &names); err != nil {
		return 0
	}
	total := 0.0
	for _, n := range names {
		parts := strings.Split(n, ".")
		c := 0.1
		if isToMany(parts[len(parts)-1]) {
			c = 0.2
		}
		for _, p := range parts[:len(parts)-1] {
			if isToMany(p) {
				c *= 2
				break
			}
		}
		if list {
			c *= 2
		}
		total += c
	}
	return total
}

// nestedEntities counts the entities in a write body's top-level relations
// (keys starting with an upper-case letter): a plural key ("SaleLines") is a
// container whose rows count, a singular one ("Contact") is one entity.
func nestedEntities(body []byte) int {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return 0
	}
	n := 0
	for k, v := range top {
		if k == "" || k[0] < 'A' || k[0] > 'Z' || isNull(v) {
			continue
		}
		if !strings.HasSuffix(k, "s") {
			n++
			continue
		}
		var rows nested[json.RawMessage]
		if rows.UnmarshalJSON(v) == nil {
			n += len(rows)
		}
	}
	return n
}
