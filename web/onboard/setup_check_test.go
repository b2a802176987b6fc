package onboard_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tandemsync/tandem/integrations/salesforce"
	sfsandbox "github.com/tandemsync/tandem/integrations/salesforce/sandbox"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants/setup"
	"github.com/tandemsync/tandem/web/onboard"
)

var checkTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// org is a Salesforce sandbox served over HTTP with a client for its admin.
type org struct {
	sb     *sfsandbox.Server
	srv    *httptest.Server
	client *salesforce.Client
}

func newOrg(t *testing.T, opts sfsandbox.Options) *org {
	t.Helper()
	sb := sfsandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	return &org{sb: sb, srv: srv, client: newClient(t, sb, srv)}
}

// newClient returns a fresh client (with an empty describe cache).
func newClient(t *testing.T, sb *sfsandbox.Server, srv *httptest.Server) *salesforce.Client {
	t.Helper()
	tr := sb.MintToken(srv.URL)
	c, err := salesforce.NewClient(srv.Client(), salesforce.Token{
		AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, InstanceURL: tr.InstanceURL, ID: tr.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// calls counts the sandbox's calls to resources with the given prefix.
func (o *org) calls(prefix string) int {
	n := 0
	for _, c := range o.sb.Stats().Calls {
		if strings.HasPrefix(c.Resource, prefix) {
			n += c.Count
		}
	}
	return n
}

func keys(model setup.DataModel) []string {
	var out []string
	for _, r := range mapping.RequiredFor(model) {
		out = append(out, r.Key())
	}
	return out
}

func statuses(r setup.CheckResult) map[string]setup.ItemStatus {
	out := map[string]setup.ItemStatus{}
	for _, it := range r.Items {
		out[it.Key] = it.Status
	}
	return out
}

func allWith(model setup.DataModel, s setup.ItemStatus) map[string]setup.ItemStatus {
	out := map[string]setup.ItemStatus{}
	for _, k := range keys(model) {
		out[k] = s
	}
	return out
}

func TestCheckCreateRecheck(t *testing.T) {
	t.Parallel()
	for _, model := range []setup.DataModel{setup.ModelClassic, setup.ModelCustom} {
		t.Run(string(model), func(t *testing.T) {
			t.Parallel()
			o := newOrg(t, sfsandbox.Options{})
			ctx := t.Context()

			got, err := onboard.Check(ctx, o.client, model, checkTime)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(allWith(model, setup.StatusMissing), statuses(got)); diff != "" {
				t.Errorf("bare org (-want +got):\n%s", diff)
			}
			if got.Complete() || got.PersonAccounts || got.Model != model || !got.CheckedAt.Equal(checkTime) {
				t.Errorf("bare org: complete=%v person=%v model=%s at=%s", got.Complete(), got.PersonAccounts, got.Model, got.CheckedAt)
			}

			out := onboard.Create(ctx, o.client, got, checkTime)
			if out.PermissionDenied {
				t.Fatalf("create: permission denied: %+v", out.Results)
			}
			var created []string
			for _, r := range out.Results {
				if !r.OK {
					t.Errorf("create %s: %s", r.Key, r.Error)
				}
				created = append(created, r.Key)
			}
			if diff := cmp.Diff(keys(model), created); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}

			// A fresh client, as the next request would have: the org itself
			// must now hold everything.
			again, err := onboard.Check(ctx, newClient(t, o.sb, o.srv), model, checkTime)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(allWith(model, setup.StatusPresent), statuses(again)); diff != "" {
				t.Errorf("after create (-want +got):\n%s", diff)
			}
			if !again.Complete() {
				t.Error("after create: not complete")
			}
		})
	}
}

// TestCheckDescribeCalls: one global describe and one describe per object
// that exists, however many fields are checked on it.
func TestCheckDescribeCalls(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsandbox.Options{})
	if _, err := onboard.Check(t.Context(), o.client, setup.ModelClassic, checkTime); err != nil {
		t.Fatal(err)
	}
	// Account (person-account detection), Contact, Product2, Opportunity,
	// OpportunityLineItem; Lightspeed_Payment__c does not exist yet.
	if got := o.calls("sobjects/"); got != 5 {
		t.Errorf("object describes = %d, want 5; calls: %+v", got, o.sb.Stats().Calls)
	}
	if got := o.calls("sobjects") - o.calls("sobjects/"); got != 1 {
		t.Errorf("global describes = %d, want 1", got)
	}
}

func TestCheckPersonAccountsAndMismatch(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsandbox.Options{PersonAccounts: true})
	// The merchant made the key field by hand, without External ID.
	if err := o.sb.AddCustomField("Contact", sfsandbox.FieldSpec{Name: "Lightspeed_Customer_ID__c", Type: "Text", Length: 40}); err != nil {
		t.Fatal(err)
	}
	if err := o.sb.AddCustomField("Contact", sfsandbox.FieldSpec{Name: "Lightspeed_Created_Date__c", Type: "DateTime"}); err != nil {
		t.Fatal(err)
	}
	got, err := onboard.Check(t.Context(), o.client, setup.ModelClassic, checkTime)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PersonAccounts {
		t.Error("person accounts not detected")
	}
	id, _ := got.Item("Contact.Lightspeed_Customer_ID__c")
	if id.Status != setup.StatusMismatch || !strings.Contains(id.Problem, "not marked External ID") || !strings.Contains(id.Problem, "not marked Unique") {
		t.Errorf("hand-made key field: %+v", id)
	}
	if it, _ := got.Item("Contact.Lightspeed_Created_Date__c"); it.Status != setup.StatusPresent {
		t.Errorf("created date: %+v", it)
	}
	if slices.Contains(got.Missing(), "Contact.Lightspeed_Customer_ID__c") {
		t.Error("a mismatched field is listed as missing (it cannot be created)")
	}
	// Creating the rest leaves the mismatch, so the check stays incomplete.
	out := onboard.Create(t.Context(), o.client, got, checkTime)
	for _, r := range out.Results {
		if !r.OK {
			t.Errorf("create %s: %s", r.Key, r.Error)
		}
	}
	again, err := onboard.Check(t.Context(), o.client, setup.ModelClassic, checkTime)
	if err != nil {
		t.Fatal(err)
	}
	if again.Complete() || len(again.Missing()) != 0 {
		t.Errorf("after create: complete=%v missing=%v", again.Complete(), again.Missing())
	}
}

// TestCreatePermissionDenied: Salesforce refuses the first change for lack
// of permission, with its real error body; nothing else is attempted and
// nothing is created.
func TestCreatePermissionDenied(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsandbox.Options{})
	check, err := onboard.Check(t.Context(), o.client, setup.ModelClassic, checkTime)
	if err != nil {
		t.Fatal(err)
	}
	o.sb.SetFaults(sfsandbox.Faults{FailNext: 1, Status: http.StatusForbidden, ErrorCode: "INSUFFICIENT_ACCESS_OR_READONLY",
		Message: "insufficient access rights on object id"})
	out := onboard.Create(t.Context(), o.client, check, checkTime)
	if !out.PermissionDenied {
		t.Fatalf("not marked permission denied: %+v", out.Results)
	}
	if len(out.Results) != len(check.Missing()) {
		t.Fatalf("%d results for %d missing", len(out.Results), len(check.Missing()))
	}
	first := out.Results[0]
	if first.OK || first.Skipped || first.Error != "INSUFFICIENT_ACCESS_OR_READONLY: insufficient access rights on object id" {
		t.Errorf("first result: %+v", first)
	}
	for _, r := range out.Results[1:] {
		if r.OK || !r.Skipped {
			t.Errorf("after the refusal %s was %+v, want skipped", r.Key, r)
		}
	}
	again, err := onboard.Check(t.Context(), o.client, setup.ModelClassic, checkTime)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(check.Missing(), again.Missing()); diff != "" {
		t.Errorf("something was created (-before +after):\n%s", diff)
	}
}

// TestCreateObjectFailureSkipsItsFields: a custom object Salesforce refuses
// (not for permission) fails alone with the API's message; its fields are
// skipped and the rest is created.
func TestCreateObjectFailureSkipsItsFields(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsandbox.Options{})
	check, err := onboard.Check(t.Context(), o.client, setup.ModelClassic, checkTime)
	if err != nil {
		t.Fatal(err)
	}
	o.sb.SetFaults(sfsandbox.Faults{FailNext: 1, Status: http.StatusBadRequest, ErrorCode: "FIELD_INTEGRITY_EXCEPTION", Message: "object limit reached"})
	out := onboard.Create(t.Context(), o.client, check, checkTime)
	if out.PermissionDenied {
		t.Error("a validation error counted as permission denied")
	}
	for _, r := range out.Results {
		onPayment := strings.HasPrefix(r.Key, "Lightspeed_Payment__c")
		switch {
		case r.Key == "Lightspeed_Payment__c":
			if r.OK || r.Error != "FIELD_INTEGRITY_EXCEPTION: object limit reached" {
				t.Errorf("object: %+v", r)
			}
		case onPayment:
			if !r.Skipped {
				t.Errorf("%s not skipped: %+v", r.Key, r)
			}
		case !r.OK:
			t.Errorf("%s: %+v", r.Key, r)
		}
	}
}

// TestCreateAlreadyThere: a field someone created between the check and
// the click counts as created.
func TestCreateAlreadyThere(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsandbox.Options{})
	check, err := onboard.Check(t.Context(), o.client, setup.ModelClassic, checkTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.sb.AddCustomField("Product2", sfsandbox.FieldSpec{Name: "Lightspeed_Item_ID__c", Type: "Text", Length: 40, ExternalID: true, Unique: true}); err != nil {
		t.Fatal(err)
	}
	out := onboard.Create(t.Context(), o.client, check, checkTime)
	for _, r := range out.Results {
		if !r.OK {
			t.Errorf("%s: %+v", r.Key, r)
		}
	}
}

func TestIsPermissionDenied(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"insufficient access", &salesforce.APIError{StatusCode: 400, ErrorCode: "INSUFFICIENT_ACCESS", Errors: []salesforce.ErrorDetail{{Code: "INSUFFICIENT_ACCESS"}}}, true},
		{"insufficient access or read-only", &salesforce.APIError{StatusCode: 403, ErrorCode: "INSUFFICIENT_ACCESS_OR_READONLY", Errors: []salesforce.ErrorDetail{{Code: "INSUFFICIENT_ACCESS_OR_READONLY"}}}, true},
		{"other 403", &salesforce.APIError{StatusCode: 403, ErrorCode: "FORBIDDEN", Errors: []salesforce.ErrorDetail{{Code: "FORBIDDEN"}}}, true},
		{"daily limit", &salesforce.APIError{StatusCode: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Errors: []salesforce.ErrorDetail{{Code: "REQUEST_LIMIT_EXCEEDED"}}}, false},
		{"validation", &salesforce.APIError{StatusCode: 400, ErrorCode: "FIELD_INTEGRITY_EXCEPTION", Errors: []salesforce.ErrorDetail{{Code: "FIELD_INTEGRITY_EXCEPTION"}}}, false},
		{"network", errors.New("connection refused"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := onboard.IsPermissionDenied(tt.err); got != tt.want {
				t.Errorf("IsPermissionDenied = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCreateOutOfTime: items not started before the context ends are
// skipped with a note to try again, and nothing is created.
func TestCreateOutOfTime(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsandbox.Options{})
	check, err := onboard.Check(t.Context(), o.client, setup.ModelCustom, checkTime)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	out := onboard.Create(ctx, o.client, check, checkTime)
	if len(out.Results) != len(check.Missing()) || out.PermissionDenied {
		t.Fatalf("outcome: %+v", out)
	}
	for _, r := range out.Results {
		if r.OK || !r.Skipped || !strings.Contains(r.Error, "time ran out") {
			t.Errorf("%s: %+v", r.Key, r)
		}
	}
	if n := o.calls("tooling/"); n != 0 {
		t.Errorf("%d Tooling calls after the deadline", n)
	}
}

// TestCreatePermissionDeniedOnFields: the refusal comes while fields of
// several objects are being created at once; the outcome says so and the
// refused item carries Salesforce's message.
func TestCreatePermissionDeniedOnFields(t *testing.T) {
	t.Parallel()
	o := newOrg(t, sfsandbox.Options{})
	if err := o.sb.AddCustomObject("Lightspeed_Payment__c", "Lightspeed Payment", "Lightspeed Payments"); err != nil {
		t.Fatal(err)
	}
	check, err := onboard.Check(t.Context(), o.client, setup.ModelClassic, checkTime)
	if err != nil {
		t.Fatal(err)
	}
	o.sb.SetFaults(sfsandbox.Faults{FailNext: 1, Status: http.StatusForbidden, ErrorCode: "INSUFFICIENT_ACCESS_OR_READONLY",
		Message: "insufficient access rights on object id"})
	out := onboard.Create(t.Context(), o.client, check, checkTime)
	if !out.PermissionDenied {
		t.Fatalf("not denied: %+v", out.Results)
	}
	refused := 0
	for _, r := range out.Results {
		if r.Error == "INSUFFICIENT_ACCESS_OR_READONLY: insufficient access rights on object id" {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d items carry the refusal, want 1: %+v", refused, out.Results)
	}
}

// BenchmarkCheck measures a setup check against the sandbox over loopback
// HTTP and reports the API calls it spends.
func BenchmarkCheck(b *testing.B) {
	sb := sfsandbox.New(sfsandbox.Options{DailyAPILimit: 1 << 30})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	tr := sb.MintToken(srv.URL)
	tok := salesforce.Token{AccessToken: tr.AccessToken, InstanceURL: tr.InstanceURL, ID: tr.ID}
	before := sb.Stats().APIUsage
	for b.Loop() {
		c, err := salesforce.NewClient(srv.Client(), tok) // a fresh describe cache, as per request
		if err != nil {
			b.Fatal(err)
		}
		if _, err := onboard.Check(b.Context(), c, setup.ModelCustom, checkTime); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sb.Stats().APIUsage-before)/float64(b.N), "calls/check")
}
