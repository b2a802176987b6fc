package lightspeed

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed/sandbox"
)

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestRequestCost(t *testing.T) {
	t.Parallel()
	saleRels := `["SaleLines","SaleLines.Item","SalePayments","SalePayments.PaymentType","Customer","Customer.Contact"]`
	tests := []struct {
		name   string
		method string
		path   string
		query  url.Values
		body   string
		list   bool
		want   float64
	}{
		{"plain get", "GET", "/API/V3/Account/1/Customer/7.json", nil, "", false, 1},
		{"count", "GET", "/API/V3/Account/1/Customer.json", url.Values{"count": {"1"}}, "", true, 10},
		{"customer post", "POST", "/API/V3/Account/1/Customer.json", nil, `{"firstName":"A"}`, false, 1},
		{"customer post with contact", "POST", "/API/V3/Account/1/Customer.json", nil,
			`{"firstName":"A","Contact":{"Phones":{"ContactPhone":[{"number":"1"},{"number":"2"}]}}}`, false, 1.5},
		{"sale post with lines", "POST", "/API/V3/Account/1/Sale.json", nil,
			`{"completed":false,"SaleLines":{"SaleLine":[{"itemID":"1"},{"itemID":"2"}]},"SalePayments":{"SalePayment":{"amount":"1"}}}`, false, 3.5},
		{"completed sale", "POST", "/API/V3/Account/1/Sale.json", nil, `{"completed":"true"}`, false, 5},
		{"refund", "POST", "/API/V3/Account/1/Sale/5/Refund.json", nil, `{}`, false, 10},
		{"email receipt", "POST", "/API/V3/Account/1/Sale/5/EmailReceipt.json", nil, ``, false, 5},
		{"category put", "PUT", "/API/V3/Account/1/Category/3.json", nil, `{"name":"x"}`, false, 10},
		{"one to-one relation single", "GET", "/API/V3/Account/1/Customer/7.json", url.Values{"load_relations": {`["Contact"]`}}, "", false, 1.1},
		{"to-many on list doubled", "GET", "/API/V3/Account/1/Customer.json", url.Values{"load_relations": {`["CustomFieldValues"]`}}, "", true, 1.4},
		// list: SaleLines .4 + SaleLines.Item (one under many) .4 + SalePayments .4 +
		// SalePayments.PaymentType .4 + Customer .2 + Customer.Contact .2
		{"sale sync relations", "GET", "/API/V3/Account/1/Sale.json", url.Values{"load_relations": {saleRels}}, "", true, 3},
		{"or same field", "GET", "/API/V3/Account/1/Item.json", url.Values{"or": {"description=~,a%|description=~,b%"}}, "", true, 1},
		{"or two fields", "GET", "/API/V3/Account/1/Item.json", url.Values{"or": {"description=a|upc=b"}}, "", true, 3},
		{"or two entities", "GET", "/API/V3/Account/1/Customer.json", url.Values{"or": {"firstName=a|Contact.email=b"}}, "", true, 22},
		{"all", "GET", "/API/V3/Account/1/Sale.json", url.Values{"load_relations": {"all"}}, "", true, 1 + allRelationsCost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := &url.URL{Path: tt.path, RawQuery: tt.query.Encode()}
			if got := requestCost(tt.method, u, []byte(tt.body), tt.list); !approx(got, tt.want) {
				t.Errorf("cost = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseBucketHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("X-Ls-Api-Bucket-Level", "92.57/90") // header names are case-insensitive; overflow allowed
	h.Set("X-LS-API-Drip-Rate", "1.5")
	h.Set("X-LS-API-Burst-Level", "3/20")
	h.Set("X-LS-API-Request-Cost", "2.2")
	st, ok := ParseBucketHeaders(h)
	if !ok || !approx(st.Level, 92.57) || st.Size != 90 || st.DripRate != 1.5 || st.BurstLevel != 3 || st.BurstLimit != 20 || !approx(st.LastCost, 2.2) {
		t.Errorf("state = %+v, ok = %v", st, ok)
	}
	for _, bad := range []string{"", "90", "a/b", "1/0", "-1/90"} {
		h := http.Header{}
		h.Set("X-LS-API-Bucket-Level", bad)
		if _, ok := ParseBucketHeaders(h); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestBucketWaitsBeforeOverflow(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewLimits(LimitsOptions{DefaultSize: 10, DefaultDripRate: 2, DefaultBurst: 100}).Bucket(1, "c")
	for i := range 10 {
		if w, _ := b.reserve(ctx, 1, now); w != 0 {
			t.Fatalf("request %d waited %s", i, w)
		}
	}
	w, _ := b.reserve(ctx, 1, now)
	if w != 500*time.Millisecond {
		t.Errorf("wait = %s, want 500ms (1 drip at 2/s)", w)
	}
	if w, _ := b.reserve(ctx, 1, now.Add(500*time.Millisecond)); w != 0 {
		t.Errorf("after draining: wait = %s", w)
	}
}

func TestBucketObserve(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hdr := func(level, cost string) http.Header {
		h := http.Header{}
		h.Set("X-LS-API-Bucket-Level", level)
		h.Set("X-LS-API-Drip-Rate", "1")
		h.Set("X-LS-API-Burst-Level", "1/15")
		if cost != "" {
			h.Set("X-LS-API-Request-Cost", cost)
		}
		return h
	}
	tests := []struct {
		name      string
		estimate  float64 // level reserved before the response
		reserved  float64
		h         http.Header
		wantLevel float64
	}{
		// Another client spent drips the estimate does not know of.
		{"higher api level wins", 3, 1, hdr("20/60", "1"), 20},
		// The API's level lags requests still in flight: keep the estimate.
		{"lower api level ignored", 9, 1, hdr("2/60", "1"), 9},
		// The estimate reserved 3 drips for load_relations=all; it cost 1.2.
		{"actual cost corrects the estimate", 9, 3, hdr("2/60", "1.2"), 7.2},
		{"no cost header", 9, 3, hdr("2/60", ""), 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := NewLimits(LimitsOptions{DefaultSize: 10, DefaultDripRate: 2, DefaultBurst: 100}).Bucket(1, "c")
			if w, _ := b.reserve(ctx, tt.estimate, now); w != 0 {
				t.Fatalf("reserve waited %s", w)
			}
			b.observe(ctx, tt.h, tt.reserved, now)
			st, err := b.State(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if !approx(st.Level, tt.wantLevel) || st.Size != 60 || st.DripRate != 1 || st.BurstLimit != 15 {
				t.Errorf("state = %+v, want level %v of 60 at 1/s, burst 15", st, tt.wantLevel)
			}
		})
	}
}

func TestBucketBurstWindow(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewLimits(LimitsOptions{DefaultSize: 1000, DefaultDripRate: 100, DefaultBurst: 3}).Bucket(1, "c")
	for range 3 {
		if w, _ := b.reserve(ctx, 1, now); w != 0 {
			t.Fatal("burst refused early")
		}
	}
	if w, _ := b.reserve(ctx, 1, now.Add(200*time.Millisecond)); w != 800*time.Millisecond {
		t.Errorf("burst wait = %s, want 800ms", w)
	}
	if w, _ := b.reserve(ctx, 1, now.Add(time.Second)); w != 0 {
		t.Errorf("next window refused: %s", w)
	}
}

// A 429 holds back every client of the bucket until its Retry-After ends;
// a bucket 429 also marks the bucket full, a burst 429 does not.
func TestBucketThrottled(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		limitType string
		level     float64
	}{
		{"api-leaky-bucket", 10},
		{"", 10}, // no type: assume the bucket
		{"api-burst-limiter", 0},
	} {
		t.Run(tt.limitType, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := NewLimits(LimitsOptions{DefaultSize: 10, DefaultDripRate: 2, DefaultBurst: 100}).Bucket(1, "c")
			b.throttled(ctx, 3*time.Second, tt.limitType, now)
			if st, _ := b.State(ctx, now); st.Level != tt.level {
				t.Errorf("level after the 429 = %v, want %v", st.Level, tt.level)
			}
			if w, _ := b.reserve(ctx, 1, now.Add(time.Second)); w != 2*time.Second {
				t.Errorf("wait inside Retry-After = %s, want 2s", w)
			}
			if w, _ := b.reserve(ctx, 1, now.Add(3*time.Second)); w != 0 {
				t.Errorf("wait after Retry-After = %s", w)
			}
		})
	}
}

func TestLimitsShareBucketPerAccountAndClient(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimits(LimitsOptions{DefaultSize: 2, DefaultBurst: 100})
	if l.Bucket(1, "a") != l.Bucket(1, "a") {
		t.Error("same key, different buckets")
	}
	if w, _ := l.Bucket(1, "a").reserve(ctx, 2, now); w != 0 {
		t.Fatalf("first reserve waited %s", w)
	}
	for _, k := range []BucketKey{{2, "a"}, {1, "b"}} {
		if w, _ := l.Bucket(k.AccountID, k.ClientID).reserve(ctx, 2, now); w != 0 {
			t.Errorf("%+v shares the bucket of {1 a}: waited %s", k, w)
		}
	}
	st, err := NewLimits(LimitsOptions{}).Bucket(9, "x").State(ctx, now)
	if err != nil || st.Size != 90 || st.DripRate != 1 || st.BurstLimit != 20 {
		t.Errorf("defaults = %+v, %v", st, err)
	}
}

// Two clients of one account share the bucket: the second waits for the
// drips the first spent.
func TestClientsShareLimits(t *testing.T) {
	t.Parallel()
	limits := NewLimits(LimitsOptions{DefaultSize: 3, DefaultDripRate: 1, DefaultBurst: 100})
	c1, mux, clock := setup(t, nil, func(o *Options) { o.Limits = limits })
	c2, err := NewClient(nil, Options{BaseURL: c1.base.String(), AccountID: testAccount, ClientID: "tandem-dev",
		Tokens: StaticToken{AccessToken: "t"}, Limits: limits, Now: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET "+acctPath("Shop/1.json"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"Shop":{"shopID":"1"}}`)
	})
	for _, c := range []*Client{c1, c2, c1} {
		if _, _, err := c.Shops.Get(t.Context(), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	if clock.Slept() != 0 {
		t.Fatalf("slept %s within the bucket", clock.Slept())
	}
	if _, _, err := c2.Shops.Get(t.Context(), 1, nil); err != nil {
		t.Fatal(err)
	}
	if clock.Slept() != time.Second {
		t.Errorf("slept %s, want 1s for the fourth drip of a 3-drip bucket", clock.Slept())
	}
}

// flakyStore is a memoryStore that counts updates and fails those after the
// first failAfter.
type flakyStore struct {
	memoryStore
	mu        sync.Mutex
	updates   int
	failAfter int
}

func (s *flakyStore) Update(ctx context.Context, key BucketKey, fn func(*BucketRecord)) error {
	s.mu.Lock()
	s.updates++
	fail := s.updates > s.failAfter
	s.mu.Unlock()
	if fail {
		return errors.New("store down")
	}
	return s.memoryStore.Update(ctx, key, fn)
}

// Limits in two processes over one store: a 429 one of them gets holds the
// other back for its Retry-After, and a store failing after the request was
// sent does not fail the call.
func TestBucketStoreSharesThrottling(t *testing.T) {
	t.Parallel()
	store := &flakyStore{memoryStore: memoryStore{records: map[BucketKey]*BucketRecord{}}, failAfter: 1 << 30}
	var throttle atomic.Bool
	throttle.Store(true)
	c1, mux, clock := setup(t, nil, func(o *Options) { o.Limits = NewLimits(LimitsOptions{Store: store}); o.MaxRetries = -1 })
	c2, err := NewClient(nil, Options{BaseURL: c1.base.String(), AccountID: testAccount, ClientID: "tandem-dev",
		Tokens: StaticToken{AccessToken: "t"}, Limits: NewLimits(LimitsOptions{Store: store}), Now: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET "+acctPath("Shop/1.json"), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-LS-API-Bucket-Level", "5/90")
		if throttle.Swap(false) {
			w.Header().Set("Retry-After", "3")
			w.Header().Set("X-LS-API-RateLimit-Type", "api-burst-limiter")
			writeJSON(w, 429, `{"httpCode":"429"}`)
			return
		}
		writeJSON(w, 200, `{"Shop":{"shopID":"1"}}`)
	})
	var rle *RateLimitError
	if _, _, err := c1.Shops.Get(t.Context(), 1, nil); !errors.As(err, &rle) {
		t.Fatalf("first call: %v, want *RateLimitError", err)
	}
	store.mu.Lock()
	// Two reservations succeed (wait out the Retry-After, then go); the
	// observation of the response fails.
	store.failAfter = store.updates + 2
	store.mu.Unlock()
	if _, _, err := c2.Shops.Get(t.Context(), 1, nil); err != nil {
		t.Fatal(err)
	}
	if clock.Slept() != 3*time.Second {
		t.Errorf("the other process slept %s, want the 3s Retry-After", clock.Slept())
	}
	if _, _, err := c2.Shops.Get(t.Context(), 1, nil); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Errorf("reserve through a failed store: %v", err)
	}
}

// Many goroutines on a small bucket of the sandbox never get a 429: the
// limiter waits before the bucket overflows. A Lockstep clock stands in for
// time (it moves only when every caller sleeps), so the run is exact and
// fast; the goroutines start together at a barrier.
func TestConcurrentCallsOnSmallBucket(t *testing.T) {
	t.Parallel()
	clock := sandbox.NewLockstep(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := newSandbox(t, sandbox.Options{BucketSize: 5, DripRate: 2, Burst: 3, Now: clock.Now}, func(o *Options) {
		o.Limits = NewLimits(LimitsOptions{DefaultSize: 5, DefaultDripRate: 2, DefaultBurst: 3})
		o.Now, o.Sleep, o.MaxWait = clock.Now, clock.Sleep, time.Hour
	})
	const goroutines, calls = 8, 10
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range goroutines {
		done := clock.Join()
		wg.Go(func() {
			defer done()
			<-start
			for range calls {
				if _, _, err := env.client.Shops.Get(t.Context(), 1, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	begin := clock.Now()
	close(start)
	wg.Wait()
	st := env.sb.Stats()
	if st.RateLimited != 0 {
		t.Errorf("sandbox sent %d 429s; the limiter must wait before the bucket overflows", st.RateLimited)
	}
	// 80 drips through a 5-drip bucket draining 2/s take at least 37.5s.
	if took := clock.Now().Sub(begin); took < 37*time.Second {
		t.Errorf("%d calls took %s of sandbox time; the bucket allows no less than 37.5s", goroutines*calls, took)
	}
}
