package sandbox

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate-limit types reported in X-LS-API-RateLimit-Type.
const (
	limitBucket = "api-leaky-bucket"
	limitBurst  = "api-burst-limiter"
)

// limiter is the 2026 rate limiter: one leaky bucket per (account, OAuth
// client) plus a fixed one-second burst window.
type limiter struct {
	size, drip float64
	burst      int

	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct {
	acct   int
	client string
}

type bucket struct {
	level       float64
	updated     time.Time
	window      int64 // unix second of the burst window
	windowCount int
}

// decision is the limiter's answer for one request, with the header values.
type decision struct {
	level, size, drip float64
	burst, burstMax   int
	limited           string // "" admitted, else limitBucket or limitBurst
	retryAfter        int    // seconds, when limited
}

func newLimiter(size, drip float64, burst int) *limiter {
	return &limiter{size: size, drip: drip, burst: burst, buckets: map[bucketKey]*bucket{}}
}

// take admits or refuses a request of the given cost at time now.
//
// The bucket drains at drip per second. A request is admitted while the
// level is below the size, even if its cost pushes the level over (the
// "overflow once" rule); later requests are refused until the level has
// drained below the size again. Independently, at most burst requests are
// admitted per wall-clock second.
func (l *limiter) take(acct int, client string, cost float64, now time.Time) decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := bucketKey{acct, client}
	b := l.buckets[k]
	if b == nil {
		b = &bucket{updated: now}
		l.buckets[k] = b
	}
	if el := now.Sub(b.updated).Seconds(); el > 0 {
		b.level = math.Max(0, b.level-el*l.drip)
		b.updated = now
	}
	sec := now.Unix()
	if sec != b.window {
		b.window, b.windowCount = sec, 0
	}
	d := decision{size: l.size, drip: l.drip, burstMax: l.burst}
	switch {
	case b.level >= l.size:
		d.limited = limitBucket
		d.retryAfter = max(1, int(math.Ceil((b.level-l.size)/l.drip+1e-9)))
	case b.windowCount >= l.burst:
		d.limited = limitBurst
		d.retryAfter = 1
	default:
		b.level += cost
		b.windowCount++
	}
	d.level = b.level
	d.burst = b.windowCount
	return d
}

func (l *limiter) reset() {
	l.mu.Lock()
	l.buckets = map[bucketKey]*bucket{}
	l.mu.Unlock()
}

// requestCost prices a request from the request alone, as the 2026 model
// does (section 2.1 of the reference):
//   - 1 drip base; Sale and SaleLine writes 2, plus 3 when the payload
//     completes the sale; refunds 10; count=1 costs 10 in total;
//   - load_relations per endpoint (see relCost);
//   - or= groups: free on one field, +1 per operand within one entity with
//     at most one range operator, else +10 per entity and +1 per extra operand;
//   - +0.5 per nested relation entity in a POST/PUT body.
func (s *Server) requestCost(method string, rt *route, params []queryParam, body []byte) float64 {
	cost := 1.0
	write := method == http.MethodPost || method == http.MethodPut || method == http.MethodDelete
	if rt != nil && write && rt.saleWrite {
		cost = 2
		if method != http.MethodDelete && completesSale(body) {
			cost += 3
		}
	}
	if rt != nil && rt.refund && method == http.MethodPost {
		cost = 10
	}
	for _, p := range params {
		switch p.key {
		case "count":
			if p.value == "1" || p.value == "true" {
				return 10
			}
		case "load_relations":
			if rt != nil && rt.ep != nil {
				if names, err := parseLoadRelations(p.value); err == nil {
					cost += rt.ep.relCost(names, !rt.hasID && method == http.MethodGet)
				}
			}
		case "or":
			cost += orCost(p.value)
		case "offset":
			// Legacy V2 offset pagination is priced per record skipped.
			if n, err := strconv.Atoi(p.value); err == nil && n > 0 && rt != nil && rt.legacy {
				cost += 0.0005 * float64(n)
			}
		case "orderby":
			if rt != nil && rt.legacy && rt.ep != nil && !rt.ep.canSort(p.value) {
				cost += 4
			}
		}
	}
	if write && len(body) > 0 {
		cost += 0.5 * float64(nestedEntities(body))
	}
	return math.Round(cost*1e4) / 1e4
}

func orCost(v string) float64 {
	operands := strings.Split(v, "|")
	fields := map[string]bool{}
	entities := map[string]bool{}
	ranges := 0
	for _, o := range operands {
		f, val, _ := strings.Cut(o, "=")
		fields[f] = true
		ent := ""
		if rel, _, ok := strings.Cut(f, "."); ok {
			ent = rel
		}
		entities[ent] = true
		op := parseFilterValue(f, val).op
		if op != "=" && op != "!=" && op != "~" && op != "!~" && op != "IN" {
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

// completesSale reports whether a Sale payload sets "completed" true.
func completesSale(body []byte) bool {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	v, ok := m["completed"]
	if !ok {
		return false
	}
	b, err := asBool(v)
	return err == nil && b
}

// nestedEntities counts the related entities in a write body: every object
// below the top level that is an entity rather than a plural container
// (for a Sale: each SaleLine and SalePayment; for a Customer: the Contact,
// each phone and email, ...).
func nestedEntities(body []byte) int {
	d := json.NewDecoder(bytes.NewReader(body))
	var v any
	if d.Decode(&v) != nil {
		return 0
	}
	top, ok := v.(map[string]any)
	if !ok {
		return 0
	}
	n := 0
	var walk func(v any, container bool)
	walk = func(v any, container bool) {
		switch t := v.(type) {
		case map[string]any:
			if !container {
				n++
			}
			for k, child := range t {
				walk(child, isContainer(k))
			}
		case []any:
			for _, child := range t {
				walk(child, false)
			}
		}
	}
	for k, child := range top {
		walk(child, isContainer(k))
	}
	return n
}

// isContainer tells plural wrappers ("SaleLines", "Phones") from entities.
func isContainer(key string) bool {
	switch key {
	case "SaleLines", "SalePayments", "Phones", "Emails", "Addresses", "Websites", "CustomFieldValues":
		return true
	}
	return false
}
