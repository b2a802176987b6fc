package sync_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tandemsync/tandem/integrations/lightspeed"
	"github.com/tandemsync/tandem/jobs/ledger"
	"github.com/tandemsync/tandem/jobs/sync"
)

func (w *world) setEmail(id int64, email string) {
	w.t.Helper()
	if _, _, err := w.ls.Customers.Update(w.ctx, id, lightspeed.CustomerWrite{Contact: &lightspeed.ContactWrite{
		Emails: []lightspeed.ContactEmail{{Address: email, UseType: "Primary"}}}}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) cursor(stream string) string {
	w.t.Helper()
	pos, _, err := w.ledger.Cursor(w.ctx, ledger.StreamKey{TenantID: w.tenant, Stream: stream})
	if err != nil {
		w.t.Fatal(err)
	}
	return pos
}

func (w *world) retry(stream string, ids ...string) sync.Result {
	w.t.Helper()
	res, err := w.engine.Retry(w.ctx, ledger.StreamKey{TenantID: w.tenant, Stream: stream}, ids, ledger.TriggerRetry)
	if err != nil {
		w.t.Fatalf("resend %v: %v", ids, err)
	}
	return res
}

// A customer Salesforce refused is retried after it is fixed in Lightspeed:
// the retry is a run of its own (trigger "retry") that sends only that
// customer and leaves the stream's cursor alone.
func TestRetryRefusedCustomer(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 20})
	var bad lightspeed.Customer
	for _, c := range w.lsCustomers() {
		if !c.Archived {
			bad = c
			break
		}
	}
	w.setEmail(bad.CustomerID, "frontdesk@localhost")
	w.runUntilDone(ledger.CustomersToSalesforce)
	id := strconv.FormatInt(bad.CustomerID, 10)
	if _, ok := w.link(id); ok {
		t.Fatal("the refused customer is linked")
	}
	cursor := w.cursor(ledger.CustomersToSalesforce)

	// Retried unchanged: refused again, with Salesforce's own reason.
	res := w.retry(ledger.CustomersToSalesforce, id)
	ev := w.events(res.Run.ID)
	if len(ev) != 1 || ev[0].Action != ledger.ActionFailed || ev[0].Code != "INVALID_EMAIL_ADDRESS" || ev[0].LSID != id {
		t.Fatalf("retry of the unfixed customer: events %+v", ev)
	}
	if res.Run.Trigger != ledger.TriggerRetry || res.Run.Status != ledger.RunPartial {
		t.Errorf("run trigger %q status %q", res.Run.Trigger, res.Run.Status)
	}

	w.setEmail(bad.CustomerID, "frontdesk@harbour.example")
	res = w.retry(ledger.CustomersToSalesforce, id)
	ev = w.events(res.Run.ID)
	if len(ev) != 1 || ev[0].Action != ledger.ActionCreated || ev[0].SFID == "" {
		t.Fatalf("retry of the fixed customer: events %+v", ev)
	}
	if l, ok := w.link(id); !ok || l.SFID != ev[0].SFID {
		t.Errorf("link after retry = %+v, %v", l, ok)
	}
	if got := w.cursor(ledger.CustomersToSalesforce); got != cursor {
		t.Errorf("the retry moved the cursor from %s to %s", cursor, got)
	}
	if res.Run.APICalls[sync.ProviderLightspeed] != 1 {
		t.Errorf("API calls = %v, want one Lightspeed read", res.Run.APICalls)
	}
}

// A resync sends a linked customer even though nothing changed, which an
// ordinary run does not.
func TestRetryForcesUnchangedCustomer(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 20})
	w.runUntilDone(ledger.CustomersToSalesforce)
	c, link := w.firstLinked()
	id := strconv.FormatInt(c.CustomerID, 10)
	if res := w.run(ledger.CustomersToSalesforce); res.Run.Records() != 0 {
		t.Fatalf("an ordinary run wrote %v", res.Run.Counts)
	}
	// Someone edits the Salesforce record's last name; a resync puts
	// Lightspeed's back.
	if _, err := w.sf.UpdateRecords(w.ctx, "Contact", []map[string]any{{"Id": link.SFID, "LastName": "Overwritten"}}, nil); err != nil {
		t.Fatal(err)
	}
	res := w.retry(ledger.CustomersToSalesforce, id)
	if res.Run.Counts[ledger.ActionUpdated] != 1 {
		t.Fatalf("resync counts = %v, want one update", res.Run.Counts)
	}
	if got := w.contact(link.SFID, "LastName").String("LastName"); got != c.LastName {
		t.Errorf("last name after resync = %q, want %q", got, c.LastName)
	}
}

func TestRetryRefusesBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 5})
	for _, tc := range []struct {
		stream string
		ids    []string
		want   error
	}{
		{ledger.CustomersToSalesforce, nil, sync.ErrNothingToResend},
		{ledger.CustomersToSalesforce, []string{"12; DROP"}, sync.ErrNothingToResend},
		{ledger.CustomersToLightspeed, []string{"not-an-id"}, sync.ErrNothingToResend},
		{ledger.SalesToSalesforce, []string{"-1"}, sync.ErrNothingToResend},
		{"nonsense", []string{"1"}, sync.ErrUnknownStream},
	} {
		_, err := w.engine.Retry(w.ctx, ledger.StreamKey{TenantID: w.tenant, Stream: tc.stream}, tc.ids, ledger.TriggerRetry)
		if !errors.Is(err, tc.want) {
			t.Errorf("Retry(%s, %v) = %v, want %v", tc.stream, tc.ids, err, tc.want)
		}
	}
}

// customers:sf→ls resends by Salesforce id: a change made in Salesforce is
// brought to Lightspeed by the resend, and the cursor stays.
func TestRetrySalesforceCustomer(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 20})
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.run(ledger.CustomersToLightspeed)
	c, link := w.firstLinked()
	cursor := w.cursor(ledger.CustomersToLightspeed)
	tick()
	if _, err := w.sf.UpdateRecords(w.ctx, "Contact", []map[string]any{{"Id": link.SFID, "MobilePhone": "555 0199"}}, nil); err != nil {
		t.Fatal(err)
	}
	res := w.retry(ledger.CustomersToLightspeed, link.SFID)
	if res.Run.Counts[ledger.ActionUpdated] != 1 {
		t.Fatalf("resend counts = %v, want one update", res.Run.Counts)
	}
	got, _, err := w.ls.Customers.Get(w.ctx, c.CustomerID, lightspeed.NewQuery().LoadRelations("Contact"))
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Contact.Phone("Mobile"); p != "555 0199" {
		t.Errorf("Lightspeed mobile after resend = %q", p)
	}
	if now := w.cursor(ledger.CustomersToLightspeed); now != cursor {
		t.Errorf("cursor moved from %s to %s", cursor, now)
	}
}

// A customer stream reset to a date reads again every customer changed
// since then.
func TestCursorAtReadsAgain(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{customers: 20})
	w.runUntilDone(ledger.CustomersToSalesforce)
	w.run(ledger.CustomersToLightspeed)
	for _, stream := range []string{ledger.CustomersToSalesforce, ledger.CustomersToLightspeed} {
		k := ledger.StreamKey{TenantID: w.tenant, Stream: stream}
		pos, err := sync.CursorAt(stream, w.cursor(stream), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if err := pgx.BeginFunc(w.ctx, w.pool, func(tx pgx.Tx) error { return w.ledger.ResetCursorTx(w.ctx, tx, k, pos) }); err != nil {
			t.Fatal(err)
		}
		res := w.run(stream)
		if res.Run.Counts[ledger.ActionSkipped] == 0 {
			t.Errorf("%s after reset read nothing again: %v", stream, res.Run.Counts)
		}
	}
	at := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	pos, err := sync.CursorAt(ledger.SalesToSalesforce, `{"updated_at":"2026-03-01T00:00:00Z","bulk":{},"import":{"done":5,"total":5,"finished":true}}`, at)
	if err != nil || pos != `{"updated_at":"2026-01-15T00:00:00Z","import":{"done":5,"total":5,"finished":true}}` {
		t.Errorf("sales cursor reset to %s: %s, %v", at, pos, err)
	}
	if _, err := sync.CursorAt("nonsense", "", time.Now()); !errors.Is(err, sync.ErrUnknownStream) {
		t.Errorf("unknown stream: %v", err)
	}
}
