package onboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce"
	"github.com/tandemsync/tandem/jobs/mapping"
	"github.com/tandemsync/tandem/tenants/setup"
)

// SalesforceAPI is what the setup check needs from a Salesforce client;
// *salesforce.Client has it. Describes are cached by the client, so one
// check costs one global describe and one describe per object.
type SalesforceAPI interface {
	DescribeGlobal(ctx context.Context) (*salesforce.GlobalDescribe, error)
	Describe(ctx context.Context, sobject string) (*salesforce.SObjectDescribe, error)
	CreateCustomField(ctx context.Context, f salesforce.CustomField) (string, error)
	NewRequest(ctx context.Context, method, path string, body any) (*http.Request, error)
	Do(req *http.Request, v any) (*salesforce.Response, error)
	InvalidateDescribes(sobjects ...string)
}

// Check describes the org and reports, for every requirement of model,
// whether it exists. It spends one global describe and one describe per
// object that exists (the client caches them; missing custom objects cost
// nothing). An error means the check could not run (the connection failed),
// not that something is missing.
func Check(ctx context.Context, api SalesforceAPI, model setup.DataModel, now time.Time) (setup.CheckResult, error) {
	if !model.Valid() {
		return setup.CheckResult{}, fmt.Errorf("onboard: check: unknown data model %q", model)
	}
	global, err := api.DescribeGlobal(ctx)
	if err != nil {
		return setup.CheckResult{}, fmt.Errorf("onboard: check: %w", err)
	}
	exists := make(map[string]bool, len(global.SObjects))
	for _, o := range global.SObjects {
		exists[strings.ToLower(o.Name)] = true
	}
	res := setup.CheckResult{Model: model, CheckedAt: now.UTC()}
	describes := map[string]*salesforce.SObjectDescribe{}
	describe := func(obj string) (*salesforce.SObjectDescribe, error) {
		if d, ok := describes[obj]; ok {
			return d, nil
		}
		d, err := api.Describe(ctx, obj)
		if err != nil {
			return nil, fmt.Errorf("onboard: check: %w", err)
		}
		describes[obj] = d
		return d, nil
	}
	if exists["account"] {
		acct, err := describe("Account")
		if err != nil {
			return setup.CheckResult{}, err
		}
		res.PersonAccounts = acct.Field("IsPersonAccount") != nil
	}
	for _, r := range mapping.RequiredFor(model) {
		objectExists := exists[strings.ToLower(r.Object)]
		var field *mapping.FieldFacts
		if objectExists && !r.IsObject() {
			d, err := describe(r.Object)
			if err != nil {
				return setup.CheckResult{}, err
			}
			if f := d.Field(r.Field); f != nil {
				field = &mapping.FieldFacts{Type: f.Type, Length: f.Length, ExternalID: f.ExternalID, Unique: f.Unique}
			}
		}
		res.Items = append(res.Items, r.Judge(objectExists, field))
	}
	return res, nil
}

// Create creates the requirements the check found missing through the
// Tooling API: custom objects first, one at a time, then the fields, one
// object at a time but several objects at once (metadata changes to one
// object are serialised by Salesforce anyway, and a Custom-model setup is
// some twenty calls). Each item gets its own result with Salesforce's message
// on failure, in requirement order. The first refusal for lack of permission
// stops the run (every other item would be refused the same way) and marks
// the outcome PermissionDenied; items not started when ctx ends are skipped
// with a note to try again. Run Check again afterwards.
func Create(ctx context.Context, api SalesforceAPI, check setup.CheckResult, now time.Time) setup.CreateOutcome {
	missing := check.Missing()
	var reqs []mapping.Requirement
	for _, r := range mapping.RequiredFor(check.Model) {
		if slices.Contains(missing, r.Key()) {
			reqs = append(reqs, r)
		}
	}
	results := make([]setup.CreateResult, len(reqs))
	var denied atomic.Bool
	failedObjects := map[string]bool{} // written in the objects phase only
	attempt := func(i int) {
		r := reqs[i]
		key := r.Key()
		switch {
		case denied.Load():
			results[i] = setup.CreateResult{Key: key, Skipped: true, Error: "Not attempted: Salesforce refused the first change for lack of permission."}
			return
		case ctx.Err() != nil:
			results[i] = setup.CreateResult{Key: key, Skipped: true, Error: "Not attempted: Salesforce was slow and time ran out. Press Create them for me again to continue."}
			return
		case failedObjects[r.Object] || (r.ReferenceTo != "" && failedObjects[r.ReferenceTo]):
			results[i] = setup.CreateResult{Key: key, Skipped: true, Error: "Not attempted: the object it needs could not be created."}
			return
		}
		err := createOne(ctx, api, r)
		switch {
		case err == nil, isDuplicateName(err):
			// A duplicate means someone created it since the check:
			// what the merchant wanted.
			results[i] = setup.CreateResult{Key: key, OK: true}
		default:
			if IsPermissionDenied(err) {
				denied.Store(true)
			}
			results[i] = setup.CreateResult{Key: key, Error: apiMessage(err)}
		}
	}

	byObject := map[string][]int{}
	var order []string
	for i, r := range reqs {
		if r.IsObject() {
			attempt(i)
			if !results[i].OK {
				failedObjects[r.Object] = true
			}
			continue
		}
		if _, ok := byObject[r.Object]; !ok {
			order = append(order, r.Object)
		}
		byObject[r.Object] = append(byObject[r.Object], i)
	}
	var wg sync.WaitGroup
	for _, obj := range order {
		wg.Go(func() {
			for _, i := range byObject[obj] {
				attempt(i)
			}
		})
	}
	wg.Wait()
	api.InvalidateDescribes()
	return setup.CreateOutcome{At: now.UTC(), Results: results, PermissionDenied: denied.Load()}
}

func createOne(ctx context.Context, api SalesforceAPI, r mapping.Requirement) error {
	if r.IsObject() {
		return createObject(ctx, api, r)
	}
	md := salesforce.CustomFieldMetadata{
		Label: r.Label, Type: r.Type, Length: r.Length, Precision: r.Precision,
		ExternalID: r.ExternalID, Unique: r.Unique, Description: "Created by Tandem. " + r.Why,
	}
	if r.Type == "Number" || r.Type == "Currency" {
		md.Scale = &r.Scale
	}
	if r.Type == "Checkbox" {
		md.DefaultValue = "false" // Salesforce requires a checkbox's default
	}
	if r.Type == "Lookup" {
		md.ReferenceTo = r.ReferenceTo
		md.RelationshipName = strings.TrimSuffix(r.Field, "__c")
		md.RelationshipLabel = r.Label
		md.DeleteConstraint = "SetNull"
	}
	_, err := api.CreateCustomField(ctx, salesforce.CustomField{FullName: r.Key(), Metadata: md})
	return err
}

// customObject is the body of a Tooling CustomObject create.
type customObject struct {
	FullName string `json:"FullName"`
	Metadata struct {
		Label       string `json:"label"`
		PluralLabel string `json:"pluralLabel"`
		NameField   struct {
			Label string `json:"label"`
			Type  string `json:"type"`
		} `json:"nameField"`
		DeploymentStatus string `json:"deploymentStatus"`
		SharingModel     string `json:"sharingModel"`
		Description      string `json:"description"`
	} `json:"Metadata"`
}

func createObject(ctx context.Context, api SalesforceAPI, r mapping.Requirement) error {
	var body customObject
	body.FullName = r.Object
	body.Metadata.Label = r.Label
	body.Metadata.PluralLabel = r.PluralLabel
	body.Metadata.NameField.Label = r.Label + " Name"
	body.Metadata.NameField.Type = "Text"
	body.Metadata.DeploymentStatus = "Deployed"
	body.Metadata.SharingModel = "ReadWrite"
	body.Metadata.Description = "Created by Tandem. " + r.Why
	req, err := api.NewRequest(ctx, http.MethodPost, "tooling/sobjects/CustomObject", body)
	if err != nil {
		return fmt.Errorf("onboard: create custom object %s: %w", r.Object, err)
	}
	var res salesforce.SaveResult
	if _, err := api.Do(req, &res); err != nil {
		return fmt.Errorf("onboard: create custom object %s: %w", r.Object, err)
	}
	if !res.Success {
		return fmt.Errorf("onboard: create custom object %s: %w", r.Object, res.Err())
	}
	return nil
}

// permissionCodes are the error codes Salesforce answers with when the user
// may not change the org's metadata.
var permissionCodes = []string{"INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_PRIVILEGES", "NO_ACCESS"}

// IsPermissionDenied reports whether err is Salesforce refusing a change
// because the connected user lacks the permission ("Customize Application"
// for the Tooling API): a 403 that is not the daily API limit, or one of
// the insufficient-access codes.
func IsPermissionDenied(err error) bool {
	var ae *salesforce.APIError
	if !errors.As(err, &ae) {
		return false
	}
	if slices.ContainsFunc(permissionCodes, ae.HasCode) {
		return true
	}
	return ae.StatusCode == http.StatusForbidden && !salesforce.IsRateLimit(err)
}

func isDuplicateName(err error) bool {
	var ae *salesforce.APIError
	return errors.As(err, &ae) && ae.HasCode("DUPLICATE_DEVELOPER_NAME")
}

// apiMessage is what the merchant sees for a failed creation: Salesforce's
// own code and message when it answered, else a generic line (the error
// itself is logged by the caller, never shown: it may name internal URLs).
func apiMessage(err error) string {
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		if ae.ErrorCode != "" {
			return ae.ErrorCode + ": " + ae.Message
		}
		return fmt.Sprintf("Salesforce answered %d: %s", ae.StatusCode, ae.Message)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Salesforce did not answer in time. Try again."
	}
	return "Tandem could not reach Salesforce. Try again."
}
