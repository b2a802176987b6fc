package lightspeed

import (
	"bytes"
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
// Limits is the process-wide registry of that state. cmd/tandem creates one
// with NewLimits and passes it to every Client, so all clients (one per job)
// of an account share one Bucket; a Client constructed without Limits gets a
// private bucket.
//
// Several worker processes: each process has its own Limits, and the API's
// headers (read on every response) and 429s remain the authority, so
// processes converge on the real level after one response each. To share
// the bucket across processes, implement BucketStore over shared storage and
// pass it in LimitsOptions.Store: for example a Postgres row per
// (account, client) holding (level, size, drip_rate, updated_at), updated in
// Reserve with `SELECT ... FOR UPDATE` (or under
// pg_advisory_xact_lock(hashtext(key))) so that the drain-then-add step is
// atomic across processes. The in-memory store below is the default.
type Limits struct {
	mu      sync.Mutex
	buckets map[bucketKey]*Bucket
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
	// Store, when set, replaces the in-process state of every bucket; see
	// the type comment. Nil keeps state in memory.
	Store BucketStore
}

// BucketStore is the seam for sharing bucket state across processes.
// Reserve must atomically drain the stored level to now, then, when
// level+cost would exceed size, return how long to wait without changing
// the level; otherwise add cost and return zero. Observe records what the
// API reported. Implementations must be safe for concurrent use.
type BucketStore interface {
	Reserve(key string, cost float64, now time.Time) (wait time.Duration, err error)
	Observe(key string, state BucketState, now time.Time) error
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

type bucketKey struct {
	account  int64
	clientID string
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
	return &Limits{buckets: make(map[bucketKey]*Bucket), opts: opts}
}

// Bucket returns the shared bucket of (accountID, clientID), creating it on
// first use.
func (l *Limits) Bucket(accountID int64, clientID string) *Bucket {
	k := bucketKey{accountID, clientID}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[k]
	if !ok {
		b = &Bucket{
			key:   strconv.FormatInt(accountID, 10) + "/" + clientID,
			store: l.opts.Store,
			state: BucketState{Size: l.opts.DefaultSize, DripRate: l.opts.DefaultDripRate, BurstLimit: l.opts.DefaultBurst},
		}
		l.buckets[k] = b
	}
	return b
}

// Bucket is the client-side model of one leaky bucket. It is safe for
// concurrent use.
type Bucket struct {
	key   string
	store BucketStore

	mu       sync.Mutex
	state    BucketState
	at       time.Time   // when state.Level was last set
	inflight float64     // cost reserved by requests not yet answered
	sent     []time.Time // send times within the last second (burst window)
}

// State returns the bucket's current estimate, drained to now.
func (b *Bucket) State(now time.Time) BucketState {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drain(now)
	return b.state
}

func (b *Bucket) drain(now time.Time) {
	if !b.at.IsZero() && now.After(b.at) {
		b.state.Level -= now.Sub(b.at).Seconds() * b.state.DripRate
		if b.state.Level < 0 {
			b.state.Level = 0
		}
	}
	b.at = now
}

// reserve asks to send a request of the given cost at now. It returns zero
// and records the reservation when the request fits, or the time to wait
// before asking again.
func (b *Bucket) reserve(cost float64, now time.Time) (time.Duration, error) {
	if b.store != nil {
		return b.store.Reserve(b.key, cost, now)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drain(now)

	// Burst window: requests sent in the last second.
	cut := 0
	for cut < len(b.sent) && now.Sub(b.sent[cut]) >= time.Second {
		cut++
	}
	b.sent = b.sent[cut:]
	if b.state.BurstLimit > 0 && len(b.sent) >= b.state.BurstLimit {
		return b.sent[0].Add(time.Second).Sub(now), nil
	}

	// An empty bucket always admits one request, even one costing more
	// than the size, as the API's overflow-once rule does.
	if b.state.Level > 0 && b.state.Level+cost > b.state.Size {
		over := b.state.Level + cost - b.state.Size
		return time.Duration(over / b.state.DripRate * float64(time.Second)), nil
	}
	b.state.Level += cost
	b.inflight += cost
	b.sent = append(b.sent, now)
	return 0, nil
}

// observe records a response's rate headers. With no other request in
// flight the API's level is taken as is; otherwise the higher of the local
// estimate and the API's level plus the requests still in flight.
func (b *Bucket) observe(h http.Header, reserved float64, now time.Time) {
	st, ok := parseBucketHeaders(h)
	b.mu.Lock()
	b.inflight -= reserved
	if b.inflight < 1e-9 {
		b.inflight = 0
	}
	if !ok {
		b.mu.Unlock()
		return
	}
	b.drain(now)
	if st.Size > 0 {
		b.state.Size = st.Size
	}
	if st.DripRate > 0 {
		b.state.DripRate = st.DripRate
	}
	if st.BurstLimit > 0 {
		b.state.BurstLimit = st.BurstLimit
	}
	b.state.BurstLevel = st.BurstLevel
	b.state.LastCost = st.LastCost
	// The API's level may not yet include requests still in flight, so
	// those are added back; when that exceeds the local estimate (another
	// process, or a client outside this registry, spent drips), it wins.
	if b.inflight == 0 {
		b.state.Level = st.Level
	} else if lv := st.Level + b.inflight; lv > b.state.Level {
		b.state.Level = lv
	}
	snapshot := b.state
	b.mu.Unlock()
	if b.store != nil {
		// A failing shared store must not fail the call: the API's headers
		// and 429s stay authoritative.
		_ = b.store.Observe(b.key, snapshot, now)
	}
}

// throttled records a 429: the bucket is full until retryAfter passes.
func (b *Bucket) throttled(retryAfter time.Duration, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drain(now)
	full := b.state.Size + retryAfter.Seconds()*b.state.DripRate
	if full > b.state.Level {
		b.state.Level = full
	}
}

// parseBucketHeaders reads the X-LS-API-* headers. "Bucket-Level: 1/90"
// carries level and size; "Burst-Level: 1/20" the burst window.
func parseBucketHeaders(h http.Header) (BucketState, bool) {
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
