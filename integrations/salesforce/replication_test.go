package salesforce_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/integrations/salesforce/sandbox"
)

// TestGetUpdatedAndDeleted feeds the replication calls the answers of
// reference §5.2.
func TestGetUpdatedAndDeleted(t *testing.T) {
	t.Parallel()
	mux, c, _ := setup(t)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/updated/", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("start"); got != "2026-03-01T00:00:00Z" {
			t.Errorf("start = %q", got)
		}
		writeJSON(w, 200, `{"ids":["003RM0000068xVCYAY","003RM0000068xUAYAY"],"latestDateCovered":"2026-03-01T23:50:00.000+0000"}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Contact/deleted/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"deletedRecords":[{"id":"003RM0000068og4YAA","deletedDate":"2026-03-01T10:15:02.000+0000"}],
			"earliestDateAvailable":"2026-03-01T06:00:00.000+0000","latestDateCovered":"2026-03-02T00:00:00.000+0000"}`)
	})
	mux.HandleFunc("GET "+apiRoot+"/sobjects/Account/updated/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `[{"errorCode":"EXCEEDED_ID_LIMIT","message":"too many ids"}]`)
	})

	up, err := c.GetUpdated(t.Context(), "Contact", start, end)
	if err != nil {
		t.Fatal(err)
	}
	want := &salesforce.UpdatedResult{IDs: []string{"003RM0000068xVCYAY", "003RM0000068xUAYAY"},
		LatestDateCovered: time.Date(2026, 3, 1, 23, 50, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, up); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}

	del, err := c.GetDeleted(t.Context(), "Contact", start, end)
	if err != nil {
		t.Fatal(err)
	}
	wantDel := &salesforce.DeletedResult{
		Records:               []salesforce.DeletedRecord{{ID: "003RM0000068og4YAA", DeletedDate: time.Date(2026, 3, 1, 10, 15, 2, 0, time.UTC)}},
		EarliestDateAvailable: time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC),
		LatestDateCovered:     end,
	}
	if diff := cmp.Diff(wantDel, del); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if !del.Lost(start) || del.Lost(start.Add(7*time.Hour)) {
		t.Error("Lost does not compare earliestDateAvailable with start")
	}

	var ae *salesforce.APIError
	if _, err := c.GetUpdated(t.Context(), "Account", start, end); !errors.As(err, &ae) || ae.ErrorCode != salesforce.CodeExceededIDLimit || salesforce.IsValidation(err) {
		t.Errorf("EXCEEDED_ID_LIMIT: %v", err)
	}
	if _, err := c.GetDeleted(t.Context(), "Contact", end, start); err == nil {
		t.Error("start after end accepted")
	}
	if _, err := c.GetUpdated(t.Context(), "Contact/../x", start, end); err == nil {
		t.Error("bad sobject name accepted")
	}
}

func TestSandboxGetUpdatedAndDeleted(t *testing.T) {
	t.Parallel()
	env := newSandbox(t, sandbox.Options{})
	start := env.sb.Now().Add(-time.Hour)
	id, err := env.c.Create(t.Context(), "Contact", map[string]any{"LastName": "Smith"})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := env.c.Create(t.Context(), "Contact", map[string]any{"LastName": "Jones"})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.c.Delete(t.Context(), "Contact", id); err != nil {
		t.Fatal(err)
	}
	// The API covers whole minutes up to now: let the minute of the
	// writes pass.
	env.sb.Advance(2 * time.Minute)
	end := env.sb.Now()
	up, err := env.c.GetUpdated(t.Context(), "Contact", start, end)
	if err != nil {
		t.Fatal(err)
	}
	if !slicesContain(up.IDs, kept) || up.LatestDateCovered.IsZero() {
		t.Errorf("updated = %+v, want %s in it", up, kept)
	}
	del, err := env.c.GetDeleted(t.Context(), "Contact", start, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Records) != 1 || !salesforce.SameID(del.Records[0].ID, id) || del.Records[0].DeletedDate.IsZero() {
		t.Errorf("deleted = %+v, want %s", del, id)
	}
}

// TestParseDateTime covers the date and time forms of reference §2.1.
func TestParseDateTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 3, 1, 10, 15, 2, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-03-01T10:15:02.000+0000", want: want},
		{in: "2026-03-01T11:15:02.000+0100", want: want},
		{in: "2026-03-01T10:15:02+0000", want: want},
		{in: "2026-03-01T10:15:02Z", want: want},
		{in: "2026-03-01T10:15:02.000Z", want: want},
		{in: "2026-03-01", want: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{in: ""},
		{in: "yesterday", wantErr: true},
		{in: "2026-13-01T10:15:02.000+0000", wantErr: true},
	}
	for _, tt := range tests {
		got, err := salesforce.ParseDateTime(tt.in)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseDateTime(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}

	var rec salesforce.Record
	if err := json.Unmarshal([]byte(`{"attributes":{"type":"Contact"},"SystemModstamp":"2026-03-01T10:15:02.000+0000","Birthdate":null,"Amount__c":12.5,"Account":{"attributes":{"type":"Account"},"CreatedDate":"2026-03-01T10:15:02.000+0000"}}`), &rec); err != nil {
		t.Fatal(err)
	}
	if got, err := rec.Time("SystemModstamp"); err != nil || !got.Equal(want) {
		t.Errorf("Time(SystemModstamp) = %v, %v", got, err)
	}
	if got, err := rec.Time("Account.CreatedDate"); err != nil || !got.Equal(want) {
		t.Errorf("Time(Account.CreatedDate) = %v, %v", got, err)
	}
	if got, err := rec.Time("Birthdate"); err != nil || !got.IsZero() {
		t.Errorf("Time(null) = %v, %v", got, err)
	}
	if _, err := rec.Time("Amount__c"); err == nil {
		t.Error("a number read as a dateTime")
	}
}
