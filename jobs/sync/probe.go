package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	stdsync "sync"
	"time"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/tenants/vault"
)

// An idle stream is probed rather than run: a whole run reads its
// configuration, mapping and cursor, takes a lease, records a run and makes
// its reads, about fifteen database transactions and a few milliseconds of
// CPU to learn that nothing changed. Its last idle run leaves a probe
// instead (ledger.Schedule.Probe): the one read, newest record first and
// one record long, that tells whether anything changed past the cursor.
// The scheduler makes that read (Engine.Probe) and either backs the stream
// off again or hands it to a whole run.
//
// The probe reads only past the cursor, not the overlap before it that a
// whole run reads again, so it is offered only for a stream idle twice in a
// row (ledger.ClaimDue): by its second idle run every record up to the
// cursor had long been visible, and a record changed since moved past it.

// probe is a stream's probe, as the ledger keeps it (encode): space-
// separated key=value pairs, "ls=Sale shop=1 since=… after=…", read for
// every probe, so cheaper to parse than JSON (whose reflection and time
// decoding were a twentieth of a probing worker's CPU).
type probe struct {
	// Lightspeed customers or a shop's completed sales changed after
	// After (their timeStamp or updatetime).
	LS   string // "Customer" or "Sale"
	Shop string
	// Since is the sales stream's history window (completeTime), if any.
	Since time.Time
	// Salesforce records of Object (deleted ones too) changed after After
	// (their SystemModstamp).
	Object string
	After  time.Time
}

// encode is p as the ledger keeps it.
func (p probe) encode() string {
	var b strings.Builder
	add := func(k, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + v)
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	add("ls", p.LS)
	add("shop", p.Shop)
	add("object", p.Object)
	add("since", stamp(p.Since))
	add("after", stamp(p.After))
	return b.String()
}

// parseProbe reads a probe encode wrote.
func parseProbe(s string) (probe, error) {
	var p probe
	for f := range strings.FieldsSeq(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || v == "" {
			return probe{}, fmt.Errorf("%w %q", errBadProbe, s)
		}
		var err error
		switch k {
		case "ls":
			p.LS = v
		case "shop":
			p.Shop = v
		case "object":
			p.Object = v
		case "since":
			p.Since, err = time.Parse(time.RFC3339Nano, v)
		case "after":
			p.After, err = time.Parse(time.RFC3339Nano, v)
		default:
			err = fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return probe{}, fmt.Errorf("%w %q: %v", errBadProbe, s, err)
		}
	}
	if (p.LS == "") == (p.Object == "") {
		return probe{}, fmt.Errorf("%w %q", errBadProbe, s)
	}
	return p, nil
}

// probeOf is the probe an idle run of rc's stream leaves, or "" when the
// stream is not one a probe can stand for (a history import not finished).
// It reads the cursor as it is now, not as the run last wrote it: a reset
// of the stream while the run was going (Reset on the history page) must
// not be left behind by a probe past it.
func (rc *runContext) probeOf(ctx context.Context) (string, error) {
	pos, ok, err := rc.ledger.Cursor(ctx, rc.key)
	if err != nil {
		return "", err
	}
	var p probe
	switch rc.key.Stream {
	case ledger.CustomersToSalesforce:
		p.LS = "Customer"
		if ok {
			if p.After, err = time.Parse(time.RFC3339Nano, pos); err != nil {
				return "", nil
			}
		}
	case ledger.CustomersToLightspeed:
		var cur sfCursor
		if !ok || json.Unmarshal([]byte(pos), &cur) != nil {
			return "", nil
		}
		p.Object, p.After = rc.mapping.Preset.CustomerObject(), cur.Since
	case ledger.SalesToSalesforce:
		cur, ok := parseSalesCursor(pos)
		if !ok || cur.Bulk != nil || (cur.Import != nil && !cur.Import.Finished) {
			return "", nil
		}
		p.LS, p.Shop, p.Since, p.After = "Sale", rc.key.Location, cur.Since, cur.UpdatedAt
	default:
		return "", nil
	}
	return p.encode(), nil
}

// errBadProbe is a probe the engine cannot read: a whole run replaces it.
var errBadProbe = errors.New("sync: unreadable probe")

// ProbeResult is what probing a stream found: a change past its cursor,
// or an error. Either way the stream needs a whole run.
type ProbeResult struct {
	Changed bool
	Err     error
}

// preloader is Clients that can read a batch of connections at once
// (connect.Clients).
type preloader interface {
	Preload(ctx context.Context, keys []vault.ConnectionKey) (*connect.Clients, error)
}

// Probe makes the probe read of each claimed stream (ledger.Claim.Probe),
// up to workers at once, and reports what each found. The reads count
// against the tenants' API usage like a run's, but record no run. The
// tenants' connections are read once for the batch when the clients can
// (connect.Clients.Preload).
func (e *Engine) Probe(ctx context.Context, claims []ledger.Claim, workers int) []ProbeResult {
	var clients Clients = e.clients
	if e.opts.Probes != nil {
		clients = e.opts.Probes
	}
	out := make([]ProbeResult, len(claims))
	probes := make([]probe, len(claims))
	keys := make([]vault.ConnectionKey, 0, len(claims))
	for i, c := range claims {
		p, err := parseProbe(c.Probe)
		if err != nil {
			out[i] = ProbeResult{Err: err}
			continue
		}
		probes[i] = p
		keys = append(keys, vault.ConnectionKey{TenantID: c.TenantID, Provider: p.provider()})
	}
	if p, ok := clients.(preloader); ok && len(keys) > 0 {
		if pre, err := p.Preload(ctx, keys); err == nil {
			clients = pre
		} else {
			e.log.Warn("sync: preload connections for probes; reading each", "err", err)
		}
	}
	// A few goroutines take the probes in turn: one a probe paid for
	// growing its stack each time (HTTP, TLS, JSON are deep).
	next := make(chan int)
	var wg stdsync.WaitGroup
	for range min(max(workers, 1), len(claims)) {
		wg.Go(func() {
			for i := range next {
				ch, err := e.probe(ctx, clients, claims[i].StreamKey, probes[i])
				out[i] = ProbeResult{Changed: ch, Err: err}
			}
		})
	}
	for i := range claims {
		if out[i].Err == nil {
			next <- i
		}
	}
	close(next)
	wg.Wait()
	return out
}

// provider is the connection p reads through.
func (p probe) provider() string {
	if p.LS != "" {
		return vault.Lightspeed
	}
	return vault.Salesforce
}

// probe makes k's probe read, p, through clients.
func (e *Engine) probe(ctx context.Context, clients Clients, k ledger.StreamKey, p probe) (changed bool, err error) {
	switch {
	case p.LS == "Customer" || p.LS == "Sale":
		ls, err := clients.Lightspeed(ctx, k.TenantID)
		if err != nil {
			return true, fmt.Errorf("sync: probe %s: %w", k, err)
		}
		// Customers change by timeStamp; a completed sale by updatetime
		// (its timeStamp is its completion).
		field, what, stamps := "timeStamp", "customers", ls.Customers.Stamps
		q := lightspeed.NewQuery().Archived(lightspeed.ArchivedInclude).Limit(1)
		if p.LS == "Sale" {
			field, what, stamps = "updatetime", "sales", ls.Sales.Stamps
			q.Where("shopID", lightspeed.Eq, p.Shop).Where("completed", lightspeed.Eq, true)
			if !p.Since.IsZero() {
				q.Where("completeTime", lightspeed.GreaterEq, p.Since)
			}
		}
		q.Sort(field, true)
		if !p.After.IsZero() {
			q.Where(field, lightspeed.GreaterEq, p.After)
		}
		found, _, err := stamps(ctx, q)
		if err != nil {
			return true, fmt.Errorf("sync: probe %s: read Lightspeed %s: %w", k, what, err)
		}
		if len(found) == 0 {
			return false, nil
		}
		newest := found[0].TimeStamp
		if p.LS == "Sale" {
			newest = found[0].UpdateTime
		}
		return p.After.IsZero() || newest.After(p.After), nil
	case p.Object != "":
		sf, err := clients.Salesforce(ctx, k.TenantID)
		if err != nil {
			return true, fmt.Errorf("sync: probe %s: %w", k, err)
		}
		// Salesforce compares whole seconds in SOQL while SystemModstamp
		// has milliseconds: read from the cursor's second and compare here.
		soql := "SELECT Id, SystemModstamp FROM " + p.Object +
			" WHERE SystemModstamp >= " + p.After.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
		if p.Object == "Account" {
			soql += " AND IsPersonAccount = true"
		}
		soql += " ORDER BY SystemModstamp DESC LIMIT 1"
		for rec, err := range sf.QueryAll(ctx, soql, nil) {
			if err != nil {
				return true, fmt.Errorf("sync: probe %s: read Salesforce changes: %w", k, err)
			}
			t, err := rec.Time("SystemModstamp")
			if err != nil {
				return true, fmt.Errorf("sync: probe %s: %w", k, err)
			}
			return t.After(p.After), nil
		}
		return false, nil
	}
	return true, fmt.Errorf("%w %q", errBadProbe, p.encode())
}
