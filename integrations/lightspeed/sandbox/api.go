package sandbox

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// call is one authenticated API request being served.
type call struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	params  []queryParam
	body    []byte
	base    string
	account int
	legacy  bool // V2 path (/API/Account/...)
}

// endpoint is the read side of a resource, independent of its row type.
type endpoint interface {
	list(c *call, parent int)
	get(c *call, parent, id int)
	relCost(names []string, list bool) float64
	canSort(field string) bool
}

// route is a resolved API path.
type route struct {
	name    string // resource path for stats, e.g. "Customer/CustomField"
	legacy  bool   // V2 path
	account int    // account id in the path; 0 for account-less routes
	ep      endpoint
	parent  int
	id      int
	hasID   bool
	// writes maps POST/PUT/DELETE to their handlers.
	writes map[string]func(c *call)
	// saleWrite marks Sale and SaleLine writes, which cost more.
	saleWrite bool
	refund    bool
	// special serves routes outside the generic resources (Account, Session).
	special func(c *call)
}

const maxBody = 1 << 20

// serveAPI serves one resource-API request: fault injection, auth, rate
// limiting, then the resource handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if acc := r.Header.Get("Accept"); acc != "" && !strings.Contains(acc, "json") && !strings.Contains(acc, "*/*") &&
		(strings.Contains(acc, "xml") || !strings.HasSuffix(r.URL.Path, ".json")) {
		writeAPIError(w, &apiError{http.StatusNotAcceptable, "This sandbox serves JSON only; request application/json or use the .json extension.", "Exception"})
		return
	}
	rt, aerr := s.resolve(r)
	name := "unknown"
	if rt != nil {
		name = rt.name
	}
	s.stats.request(r.Method, name)
	if s.injectFault(w, r) {
		return
	}
	tok, hint := s.auth.authenticate(r.Header.Get("Authorization"))
	if hint != "" {
		writeUnauthorized(w, hint)
		return
	}
	if aerr != nil {
		writeAPIError(w, aerr)
		return
	}
	c := &call{s: s, w: w, r: r, base: s.baseURL(r), account: tok.acct, legacy: rt.legacy}
	if err := c.readRequest(); err != nil {
		writeAPIError(w, err)
		return
	}
	if !s.admit(w, tok, s.requestCost(r.Method, rt, c.params, c.body)) {
		return
	}
	if rt.account != 0 && rt.account != tok.acct {
		writeAPIError(w, &apiError{http.StatusForbidden, "This access token is not authorized for account " + itoa(rt.account) + ".", "Exception"})
		return
	}
	switch {
	case rt.special != nil:
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		rt.special(c)
	case r.Method == http.MethodGet:
		if rt.ep == nil {
			methodNotAllowed(w, allowList(rt))
			return
		}
		if rt.hasID {
			rt.ep.get(c, rt.parent, rt.id)
		} else {
			rt.ep.list(c, rt.parent)
		}
	default:
		h := rt.writes[r.Method]
		if h == nil {
			methodNotAllowed(w, allowList(rt))
			return
		}
		h(c)
	}
}

// injectFault applies the configured latency and failure; it reports
// whether it answered the request.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request) bool {
	f := s.faults.next()
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-t.C:
		}
	}
	if f.status == 0 {
		return false
	}
	s.stats.fault()
	if f.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-LS-API-RateLimit-Type", limitBucket)
		s.stats.rateLimited()
	}
	writeAPIError(w, &apiError{f.status, "Injected fault: the sandbox was told to fail this request.", faultClass(f.status)})
	return true
}

// readRequest parses the query string and, for POST and PUT, reads the body.
func (c *call) readRequest() *apiError {
	params, err := parseOrderedQuery(c.r.URL.RawQuery)
	if err != nil {
		return err
	}
	c.params = params
	if c.r.Method != http.MethodPost && c.r.Method != http.MethodPut {
		return nil
	}
	body, rerr := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	if rerr != nil {
		return badRequest("Could not read the request body.")
	}
	if len(body) > maxBody {
		return &apiError{http.StatusRequestEntityTooLarge, "Request body too large.", "Exception"}
	}
	c.body = body
	return nil
}

// admit charges the request to its bucket and writes the rate-limit
// headers; on refusal it writes the 429 and returns false.
func (s *Server) admit(w http.ResponseWriter, tok tokenOwner, cost float64) bool {
	d := s.limiter.take(tok.acct, tok.client, cost, s.clock.now())
	h := w.Header()
	h.Set("X-LS-Acct-Id", itoa(tok.acct))
	h.Set("X-LS-OAuth-Client-Id", tok.client)
	h.Set("X-LS-API-Bucket-Level", fmtFloat(d.level)+"/"+fmtFloat(d.size))
	h.Set("X-LS-API-Burst-Level", itoa(d.burst)+"/"+itoa(d.burstMax))
	h.Set("X-LS-API-Drip-Rate", fmtFloat(d.drip))
	h.Set("X-LS-API-Request-Cost", fmtFloat(cost))
	h.Set("Cf-Ray", s.stats.ray())
	if d.limited == "" {
		s.stats.drips(cost)
		return true
	}
	s.stats.rateLimited()
	h.Set("X-LS-API-RateLimit-Type", d.limited)
	h.Set("Retry-After", strconv.Itoa(d.retryAfter))
	msg := "Rate limit exceeded: the leaky bucket is full. Retry after " + strconv.Itoa(d.retryAfter) + " seconds."
	if d.limited == limitBurst {
		msg = "Burst rate limit exceeded. Back off for at least one second."
	}
	writeAPIError(w, &apiError{http.StatusTooManyRequests, msg, "RateLimitExceeded"})
	return false
}

func faultClass(status int) string {
	if status == http.StatusTooManyRequests {
		return "RateLimitExceeded"
	}
	return "Exception"
}

func allowList(rt *route) string {
	var m []string
	if rt.ep != nil {
		m = append(m, "GET")
	}
	for _, k := range []string{"POST", "PUT", "DELETE"} {
		if rt.writes[k] != nil {
			m = append(m, k)
		}
	}
	return strings.Join(m, ", ")
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeAPIError(w, &apiError{http.StatusMethodNotAllowed, "Method not allowed. Allowed: " + allow + ".", "Exception"})
}

func fmtFloat(f float64) string {
	return strconv.FormatFloat(math.Round(f*1e6)/1e6, 'f', -1, 64)
}

// resolve maps a path to a route. Unknown paths and ids that are not
// numbers yield a 404 body; auth still runs first (see serveAPI).
func (s *Server) resolve(r *http.Request) (*route, *apiError) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	p = strings.TrimSuffix(p, ".json")
	notFound := &apiError{http.StatusNotFound, "Not found: " + r.URL.Path, "Exception"}
	switch p {
	case "/API/V3/Account", "/API/Account":
		return &route{name: "Account", special: s.accountList}, nil
	case "/API/Session":
		return &route{name: "Session", special: s.session}, nil
	}
	rest, ok := strings.CutPrefix(p, "/API/V3/Account/")
	legacy := false
	if !ok {
		rest, ok = strings.CutPrefix(p, "/API/Account/")
		legacy = true
	}
	if !ok {
		return nil, notFound
	}
	segs := strings.Split(rest, "/")
	acct, err := strconv.Atoi(segs[0])
	if err != nil || acct <= 0 {
		return nil, notFound
	}
	segs = segs[1:]
	if len(segs) == 0 {
		return &route{name: "Account", account: acct, special: s.accountDetail}, nil
	}
	rt := s.resolveResource(segs)
	if rt == nil {
		return nil, notFound
	}
	rt.account, rt.legacy = acct, legacy
	return rt, nil
}

func numeric(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func (s *Server) resolveResource(segs []string) *route {
	res := s.res
	withID := func(rt *route, id string) *route {
		n, ok := numeric(id)
		if !ok {
			return nil
		}
		rt.id, rt.hasID = n, true
		return rt
	}
	simple := func(name string, ep endpoint) *route {
		switch len(segs) {
		case 1:
			return &route{name: name, ep: ep}
		case 2:
			return withID(&route{name: name, ep: ep}, segs[1])
		}
		return nil
	}
	switch segs[0] {
	case "Shop":
		return simple("Shop", res.shop)
	case "Register":
		rt := simple("Register", res.register)
		if rt != nil && rt.hasID {
			rt.writes = map[string]func(*call){"PUT": s.updateRegister(rt)}
		}
		return rt
	case "Employee":
		return simple("Employee", res.employee)
	case "PaymentType":
		return simple("PaymentType", res.paymentType)
	case "Item":
		rt := simple("Item", res.item)
		if rt == nil {
			return nil
		}
		if rt.hasID {
			rt.writes = map[string]func(*call){"PUT": s.updateItem(rt), "DELETE": s.deleteItem(rt)}
		} else {
			rt.writes = map[string]func(*call){"POST": s.createItem}
		}
		return rt
	case "SalePayment":
		return simple("SalePayment", res.salePayment)
	case "SaleLine":
		rt := simple("SaleLine", res.saleLine)
		if rt != nil && rt.hasID {
			rt.writes = map[string]func(*call){"DELETE": s.deleteSaleLine(rt)}
			rt.saleWrite = true
		}
		return rt
	case "CustomerType":
		rt := simple("CustomerType", res.customerType)
		if rt == nil {
			return nil
		}
		if rt.hasID {
			rt.writes = map[string]func(*call){"PUT": s.updateCustomerType(rt), "DELETE": s.deleteCustomerType(rt)}
		} else {
			rt.writes = map[string]func(*call){"POST": s.createCustomerType}
		}
		return rt
	case "Sale":
		if len(segs) >= 3 {
			saleID, ok := numeric(segs[1])
			if !ok {
				return nil
			}
			switch {
			case segs[2] == "SaleLine" && len(segs) == 3:
				rt := &route{name: "Sale/SaleLine", ep: res.saleLine, parent: saleID, saleWrite: true}
				rt.writes = map[string]func(*call){"POST": s.addSaleLine(rt)}
				return rt
			case segs[2] == "SaleLine" && len(segs) == 4:
				return withID(&route{name: "Sale/SaleLine", ep: res.saleLine, parent: saleID}, segs[3])
			case strings.EqualFold(segs[2], "refund") && len(segs) == 3:
				rt := &route{name: "Sale/refund", refund: true, id: saleID, hasID: true}
				rt.writes = map[string]func(*call){"POST": s.refundSale(rt)}
				return rt
			}
			return nil
		}
		rt := simple("Sale", res.sale)
		if rt == nil {
			return nil
		}
		rt.saleWrite = true
		if rt.hasID {
			rt.writes = map[string]func(*call){"PUT": s.updateSale(rt), "DELETE": s.deleteSale(rt)}
		} else {
			rt.writes = map[string]func(*call){"POST": s.createSale}
		}
		return rt
	case "Customer":
		if len(segs) >= 2 && segs[1] == "CustomField" {
			return s.resolveCustomField(segs[2:])
		}
		if len(segs) == 3 && segs[2] == "Anonymize" {
			rt := withID(&route{name: "Customer/Anonymize"}, segs[1])
			if rt != nil {
				rt.writes = map[string]func(*call){"DELETE": s.anonymizeCustomer(rt)}
			}
			return rt
		}
		rt := simple("Customer", res.customer)
		if rt == nil {
			return nil
		}
		if rt.hasID {
			rt.writes = map[string]func(*call){"PUT": s.updateCustomer(rt), "DELETE": s.deleteCustomer(rt)}
		} else {
			rt.writes = map[string]func(*call){"POST": s.createCustomer}
		}
		return rt
	}
	return nil
}

func (s *Server) resolveCustomField(segs []string) *route {
	res := s.res
	switch len(segs) {
	case 0:
		return &route{name: "Customer/CustomField", ep: res.customField,
			writes: map[string]func(*call){"POST": s.createCustomField}}
	case 1:
		id, ok := numeric(segs[0])
		if !ok {
			return nil
		}
		rt := &route{name: "Customer/CustomField", ep: res.customField, id: id, hasID: true}
		rt.writes = map[string]func(*call){"PUT": s.updateCustomField(rt), "DELETE": s.deleteCustomField(rt)}
		return rt
	}
	fieldID, ok := numeric(segs[0])
	if !ok || segs[1] != "CustomFieldChoice" || len(segs) > 3 {
		return nil
	}
	rt := &route{name: "Customer/CustomField/CustomFieldChoice", ep: res.choice, parent: fieldID}
	if len(segs) == 2 {
		rt.writes = map[string]func(*call){"POST": s.createChoice(rt)}
		return rt
	}
	id, ok := numeric(segs[2])
	if !ok {
		return nil
	}
	rt.id, rt.hasID = id, true
	rt.writes = map[string]func(*call){"PUT": s.updateChoice(rt), "DELETE": s.deleteChoice(rt)}
	return rt
}

// respondErr writes err as an API error body.
func (c *call) fail(err error) {
	if ae, ok := err.(*apiError); ok {
		writeAPIError(c.w, ae)
		return
	}
	writeAPIError(c.w, &apiError{http.StatusInternalServerError, "Internal error.", "Exception"})
}

func (c *call) loadRelationsParam() []string {
	for _, p := range c.params {
		if p.key == "load_relations" {
			names, err := parseLoadRelations(p.value)
			if err == nil {
				return names
			}
		}
	}
	return nil
}

func (r *resource[T]) list(c *call, parent int) {
	q, err := parseListQuery(c.params, c.legacy)
	if err != nil {
		c.fail(err)
		return
	}
	if q.legacy && !q.count {
		r.listLegacy(c, parent, q)
		return
	}
	loaded, err := resolveRelations(r, q.relNames)
	if err != nil {
		c.fail(err)
		return
	}
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	st := c.s.st
	p, err := runQuery(st, r, r.rows(st, parent), q, loaded, &c.s.sorts, c.s.version, r.name+"/"+itoa(parent))
	if err != nil {
		c.fail(err)
		return
	}
	w := c.s.getBuf()
	defer c.s.putBuf(w)
	w.beginObj()
	w.key("@attributes")
	w.beginObj()
	if q.count {
		w.kv("count", itoa(p.count))
		w.endObj()
		w.endObj()
		writeJSON(c.w, http.StatusOK, w.b)
		return
	}
	w.kv("next", pageURL(c.base, c.r.URL.Path, q, r.idField, "after", p.nextKey))
	w.kv("previous", pageURL(c.base, c.r.URL.Path, q, r.idField, "before", p.prevKey))
	w.endObj()
	if len(p.rows) > 0 {
		w.key(r.name)
		w.collection(len(p.rows), func(i int) { r.write(st, p.rows[i], loaded, w) })
	}
	w.endObj()
	writeJSON(c.w, http.StatusOK, w.b)
}

// listLegacy serves a V2 list: offset pagination with
// {"count","offset","limit"} attributes and no cursors.
func (r *resource[T]) listLegacy(c *call, parent int, q *listQuery) {
	loaded, err := resolveRelations(r, q.relNames)
	if err != nil {
		c.fail(err)
		return
	}
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	st := c.s.st
	rows := r.rows(st, parent)
	all := *q
	all.limit = len(rows) + 1
	p, err := runQuery(st, r, rows, &all, loaded, &c.s.sorts, c.s.version, r.name+"/"+itoa(parent))
	if err != nil {
		c.fail(err)
		return
	}
	total := len(p.rows)
	page := p.rows[min(q.offset, total):min(q.offset+q.limit, total)]
	w := c.s.getBuf()
	defer c.s.putBuf(w)
	w.beginObj()
	w.key("@attributes")
	w.beginObj()
	w.kv("count", itoa(total))
	w.kv("offset", itoa(q.offset))
	w.kv("limit", itoa(q.limit))
	w.endObj()
	if len(page) > 0 {
		w.key(r.name)
		w.collection(len(page), func(i int) { r.write(st, page[i], loaded, w) })
	}
	w.endObj()
	writeJSON(c.w, http.StatusOK, w.b)
}

func (r *resource[T]) get(c *call, parent, id int) {
	var names []string
	for _, p := range c.params {
		if p.key == "load_relations" {
			n, err := parseLoadRelations(p.value)
			if err != nil {
				c.fail(err)
				return
			}
			names = n
		}
	}
	loaded, err := resolveRelations(r, names)
	if err != nil {
		c.fail(err)
		return
	}
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	r.respondOne(c, http.StatusOK, parent, id, loaded)
}

// respondOne writes {"@attributes":{"count":"1"},"<Entity>":{...}} or 404.
// The caller holds the store lock.
func (r *resource[T]) respondOne(c *call, status, parent, id int, loaded relSet) {
	st := c.s.st
	t := r.find(st, parent, id)
	if t == nil {
		writeAPIError(c.w, notFound(r.name, id))
		return
	}
	w := &jw{b: make([]byte, 0, 1024)}
	w.beginObj()
	w.key("@attributes")
	w.beginObj()
	w.kv("count", "1")
	w.endObj()
	w.key(r.name)
	r.write(st, t, loaded, w)
	w.endObj()
	writeJSON(c.w, status, w.b)
}

func notFound(entity string, id int) *apiError {
	return &apiError{http.StatusNotFound, entity + " " + itoa(id) + " not found.", "Exception"}
}

func (r *resource[T]) canSort(field string) bool {
	return field == r.idField || r.sortableField(field)
}

// relCost prices load_relations per the 2026 model: 0.1 per to-one and
// 0.2 per to-many relation, doubled when nested under a to-many relation
// and doubled again on query (list) endpoints.
func (r *resource[T]) relCost(names []string, list bool) float64 {
	if len(names) == 0 {
		return 0
	}
	set, err := resolveRelations(r, names)
	if err != nil {
		return 0
	}
	total := 0.0
	for _, name := range set.paths() {
		top, sub, nested := strings.Cut(name, ".")
		rel := r.relation(top)
		c := 0.1
		switch {
		case rel == nil:
		case !nested && rel.many:
			c = 0.2
		case nested:
			if rel.nestedMany[sub] {
				c = 0.2
			}
			if rel.many {
				c *= 2
			}
		}
		if list {
			c *= 2
		}
		total += c
	}
	return total
}

func (s *Server) accountList(c *call) {
	w := &jw{}
	w.beginObj()
	w.key("@attributes")
	w.beginObj()
	w.kv("count", "1")
	w.endObj()
	w.key("Account")
	w.beginObj()
	w.kv("accountID", itoa(s.opts.AccountID))
	w.kv("name", s.opts.AccountName)
	w.key("link")
	w.beginObj()
	w.key("@attributes")
	w.beginObj()
	w.kv("href", "/API/V3/Account/"+itoa(s.opts.AccountID))
	w.endObj()
	w.endObj()
	w.endObj()
	w.endObj()
	writeJSON(c.w, http.StatusOK, w.b)
}

// accountDetail serves GET /Account/{id}.json, which the API returns
// without an "Account" wrapper.
func (s *Server) accountDetail(c *call) {
	s.mu.RLock()
	employees := len(s.st.employees.rows)
	s.mu.RUnlock()
	w := &jw{}
	w.beginObj()
	w.key("@attributes")
	w.beginObj()
	w.kv("systemCustomerID", itoa(s.opts.AccountID))
	w.endObj()
	w.kv("status", "customer")
	w.kv("name", s.opts.AccountName)
	w.kv("employeeCount", itoa(employees))
	w.kv("employeeLimit", "0")
	w.kv("uniqueSubscriptionIdentifier", "sandbox-"+itoa(s.opts.AccountID))
	w.key("defaultCurrency")
	w.beginObj()
	w.kv("code", "USD")
	w.kv("symbol", "$")
	w.endObj()
	w.endObj()
	writeJSON(c.w, http.StatusOK, w.b)
}

func (s *Server) session(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	w := &jw{}
	w.beginObj()
	w.kv("sessionID", "sandbox")
	w.kv("sessionCookie", "")
	w.kv("employeeID", "1")
	w.kv("systemCustomerID", itoa(s.opts.AccountID))
	w.kv("systemUserID", "1")
	w.kv("systemAPIClientID", s.opts.ClientID)
	w.kv("systemAPIKeyID", "0")
	w.kv("ecomUrl", "")
	w.kv("shopCount", itoa(len(st.shops.rows)))
	if e := st.employees.byID[1]; e != nil {
		w.key("Employee")
		s.res.employee.write(st, e, nil, w)
	}
	w.endObj()
	writeJSON(c.w, http.StatusOK, w.b)
}
