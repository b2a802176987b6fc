package sandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// apiError is one Salesforce error: errorCode (statusCode inside collection
// results), message, fields, and for duplicate rules the duplicateResult.
type apiError struct {
	Code    string
	Message string
	Fields  []string
	Dup     *duplicateResult
}

func errf(code string, fields []string, format string, args ...any) apiError {
	if fields == nil {
		fields = []string{}
	}
	return apiError{Code: code, Message: fmt.Sprintf(format, args...), Fields: fields}
}

// restError is the REST body form: {"message","errorCode","fields"}.
type restError struct {
	DuplicateResult *duplicateResult `json:"duplicateResult,omitempty"`
	Message         string           `json:"message"`
	ErrorCode       string           `json:"errorCode"`
	Fields          []string         `json:"fields"`
}

// itemError is the collections form: {"statusCode","message","fields"}.
type itemError struct {
	DuplicateResult *duplicateResult `json:"duplicateResult,omitempty"`
	StatusCode      string           `json:"statusCode"`
	Message         string           `json:"message"`
	Fields          []string         `json:"fields"`
}

func restErrors(errs []apiError) []restError {
	out := make([]restError, len(errs))
	for i, e := range errs {
		f := e.Fields
		if f == nil {
			f = []string{}
		}
		out[i] = restError{DuplicateResult: e.Dup, Message: e.Message, ErrorCode: e.Code, Fields: f}
	}
	return out
}

func itemErrors(errs []apiError) []itemError {
	out := make([]itemError, len(errs))
	for i, e := range errs {
		f := e.Fields
		if f == nil {
			f = []string{}
		}
		out[i] = itemError{DuplicateResult: e.Dup, StatusCode: e.Code, Message: e.Message, Fields: f}
	}
	return out
}

// duplicateResult is the extra object a DUPLICATES_DETECTED error carries.
type duplicateResult struct {
	AllowSave               bool          `json:"allowSave"`
	DuplicateRule           string        `json:"duplicateRule"`
	DuplicateRuleEntityType string        `json:"duplicateRuleEntityType"`
	ErrorMessage            string        `json:"errorMessage"`
	MatchResults            []matchResult `json:"matchResults"`
}

type matchResult struct {
	EntityType   string        `json:"entityType"`
	Errors       []any         `json:"errors"`
	MatchEngine  string        `json:"matchEngine"`
	MatchRecords []matchRecord `json:"matchRecords"`
	Rule         string        `json:"rule"`
	Size         int           `json:"size"`
	Success      bool          `json:"success"`
}

type matchRecord struct {
	AdditionalInformation []any          `json:"additionalInformation"`
	FieldDiffs            []any          `json:"fieldDiffs"`
	MatchConfidence       float64        `json:"matchConfidence"`
	Record                map[string]any `json:"record"`
}

// writeOpts carries the request-level switches of a write.
type writeOpts struct {
	allowDupSave bool   // Sforce-Duplicate-Rule-Header: allowSave=true
	version      string // API version for record URLs
	csv          bool   // values come from a Bulk CSV: "" means "leave unchanged", "#N/A" means null
}

// sfDateTime formats a datetime the way the REST API does.
func sfDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000+0000") }

// parseDateTime accepts the ISO 8601 shapes Salesforce accepts on input.
func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range []string{
		"2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.000Z", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), true
		}
	}
	return time.Time{}, false
}

func parseDate(s string) (time.Time, bool) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if t, ok := parseDateTime(s); ok {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

func validEmail(s string) bool {
	if strings.ContainsAny(s, " <>\"(),;:") || strings.Count(s, "@") != 1 {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	domain := s[strings.IndexByte(s, '@')+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// rawString renders a decoded JSON scalar the way it appeared.
func rawString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// coerce converts a raw input value to the stored form for the field, or
// explains why it cannot.
func coerce(f *fieldDef, v any) (any, *apiError) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, *apiError) {
		s, _ := rawString(v)
		if s == "" {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		e := errf("INVALID_TYPE_ON_FIELD_IN_RECORD", []string{f.Name}, "%s: value not of required type: %s", f.Label, s)
		return nil, &e
	}
	s, scalar := rawString(v)
	if !scalar {
		return bad()
	}
	switch {
	case f.isText():
		if s == "" {
			return nil, nil
		}
		if _, isBool := v.(bool); isBool {
			return bad()
		}
		if n := utf8.RuneCountInString(s); f.Length > 0 && n > f.Length {
			shown := s
			if len(shown) > 40 {
				shown = shown[:37] + "..."
			}
			e := errf("STRING_TOO_LONG", []string{f.Name}, "%s: data value too large: %s (max length=%d)", f.Label, shown, f.Length)
			return nil, &e
		}
		if f.Type == "email" && !validEmail(s) {
			e := errf("INVALID_EMAIL_ADDRESS", []string{f.Name}, "%s: invalid email address: %s", f.Label, s)
			return nil, &e
		}
		if f.Restricted && !slices.Contains(f.Picklist, s) {
			e := errf("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{f.Name}, "%s: bad value for restricted picklist field: %s", f.Label, s)
			return nil, &e
		}
		return s, nil
	case f.Type == "boolean":
		switch strings.ToLower(s) {
		case "true", "1":
			return true, nil
		case "false", "0", "":
			return false, nil
		}
		return bad()
	case f.Type == "int":
		if s == "" {
			return nil, nil
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n != math.Trunc(n) || math.Abs(n) > 2147483647 {
			return bad()
		}
		return int64(n), nil
	case f.Type == "double" || f.Type == "currency" || f.Type == "percent":
		if s == "" {
			return nil, nil
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return bad()
		}
		if f.Precision > 0 && math.Abs(n) >= math.Pow10(f.Precision-f.Scale) {
			e := errf("NUMBER_OUTSIDE_VALID_RANGE", []string{f.Name}, "%s: value outside of valid range on numeric field: %s", f.Label, s)
			return nil, &e
		}
		if f.Scale >= 0 && f.Precision > 0 {
			p := math.Pow10(f.Scale)
			n = math.Round(n*p) / p
		}
		return n, nil
	case f.Type == "date":
		if s == "" {
			return nil, nil
		}
		if t, ok := parseDate(s); ok {
			return t, nil
		}
		return bad()
	case f.Type == "datetime":
		if s == "" {
			return nil, nil
		}
		if t, ok := parseDateTime(s); ok {
			return t, nil
		}
		if t, ok := parseDate(s); ok {
			return t, nil
		}
		return bad()
	case f.Type == "reference" || f.Type == "id":
		if s == "" {
			return nil, nil
		}
		return s, nil // checked against the store by checkReference
	}
	return bad()
}

// fieldChange is one validated assignment of a write.
type fieldChange struct {
	f *fieldDef
	v any
}

// prepare validates the raw fields of a create (old == nil) or update and
// returns the assignments. Relationship references by external id are
// resolved here.
func (t *txn) prepare(o *objectDef, raw map[string]any, old soql.Record, opts writeOpts) ([]fieldChange, []apiError) {
	creating := old == nil
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var changes []fieldChange
	for _, k := range keys {
		v := raw[k]
		if k == "attributes" {
			continue
		}
		if opts.csv {
			if s, ok := v.(string); ok {
				if s == "" {
					continue
				}
				if s == "#N/A" {
					v = nil
				}
			}
		}
		if strings.EqualFold(k, "Id") {
			if creating {
				if v == nil || v == "" {
					continue
				}
				return nil, []apiError{errf("INVALID_FIELD_FOR_INSERT_UPDATE", []string{"Id"}, "cannot specify Id in an insert call")}
			}
			s, _ := v.(string)
			if id, ok := normalizeID(s); ok && id == old["Id"] {
				continue
			}
			return nil, []apiError{errf("INVALID_FIELD_FOR_INSERT_UPDATE", []string{"Id"}, "Id in the body does not match the record being updated: %v", v)}
		}
		f := o.field(k)
		if f == nil {
			if rf := o.relationship(k); rf != nil {
				if m, ok := v.(map[string]any); ok {
					id, err := t.resolveExternal(rf, m)
					if err != nil {
						return nil, []apiError{*err}
					}
					f, v = rf, id
				}
			}
		}
		if f == nil {
			return nil, []apiError{errf("INVALID_FIELD", []string{}, "No such column '%s' on sobject of type %s", k, o.Name)}
		}
		if (creating && !f.Createable) || (!creating && !f.Updateable) {
			verb := "create"
			if !creating {
				verb = "update"
			}
			return nil, []apiError{errf("INVALID_FIELD_FOR_INSERT_UPDATE", []string{f.Name},
				"Unable to %s fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", verb, f.Name)}
		}
		if _, isMap := v.(map[string]any); isMap {
			return nil, []apiError{errf("JSON_PARSER_ERROR", []string{}, "Cannot deserialize instance of %s from START_OBJECT value { or request may be missing a required field", f.Type)}
		}
		cv, err := coerce(f, v)
		if err != nil {
			return nil, []apiError{*err}
		}
		if f.Type == "reference" && cv != nil {
			id, err := t.checkReference(f, cv.(string))
			if err != nil {
				return nil, []apiError{*err}
			}
			cv = id
		}
		if f.Type == "boolean" && cv == nil {
			cv = false
		}
		changes = append(changes, fieldChange{f, cv})
	}
	return changes, nil
}

// checkReference validates an id assigned to a lookup field.
func (t *txn) checkReference(f *fieldDef, s string) (string, *apiError) {
	id, ok := normalizeID(s)
	if !ok {
		e := errf("MALFORMED_ID", []string{f.Name}, "%s: id value of incorrect type: %s", f.Label, s)
		return "", &e
	}
	target := t.db.sch.byPrefix[id[:3]]
	if target == nil || !slices.Contains(f.ReferenceTo, target.Name) {
		e := errf("MALFORMED_ID", []string{f.Name}, "%s: id value of incorrect type: %s", f.Label, s)
		return "", &e
	}
	r, ok := t.db.table(target).get(id)
	if !ok || r["IsDeleted"] == true {
		e := errf("INVALID_CROSS_REFERENCE_KEY", []string{f.Name}, "invalid cross reference id")
		return "", &e
	}
	return id, nil
}

// resolveExternal turns {"Ext__c":"v"} under a relationship name into the
// parent's id.
func (t *txn) resolveExternal(rf *fieldDef, m map[string]any) (string, *apiError) {
	target := t.db.sch.object(rf.ReferenceTo[0])
	var key string
	var val any
	n := 0
	for k, v := range m {
		if k == "attributes" {
			continue
		}
		key, val = k, v
		n++
	}
	if n != 1 {
		e := errf("INVALID_FIELD", []string{}, "A relationship reference for %s must name exactly one external ID field", rf.RelationshipName)
		return "", &e
	}
	ef := target.field(key)
	if ef == nil {
		e := errf("INVALID_FIELD", []string{}, "No such column '%s' on sobject of type %s", key, target.Name)
		return "", &e
	}
	s, _ := rawString(val)
	if ef.Name == "Id" {
		return t.checkReference(rf, s)
	}
	if !ef.ExternalID && !ef.IDLookup {
		e := errf("INVALID_FIELD", []string{}, "Field name provided, %s is not an External ID or indexed field for %s", ef.Name, target.Name)
		return "", &e
	}
	cv, err := coerce(ef, val)
	if err != nil {
		return "", err
	}
	ids := t.db.table(target).lookup(ef, cv)
	switch len(ids) {
	case 0:
		e := errf("INVALID_FIELD", []string{}, "Foreign key external ID: %s not found for field %s in entity %s", s, ef.Name, target.Name)
		return "", &e
	case 1:
		return ids[0], nil
	}
	e := errf("INVALID_FIELD", []string{}, "Foreign key external ID: %s found more than once for field %s in entity %s", s, ef.Name, target.Name)
	return "", &e
}

// refuseType is the error for a write the object type does not allow at all
// (describe says it is not createable, updateable or deletable), whoever
// asks: 400 CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY with "entity type cannot be
// inserted: <label>". That code and text are what real orgs answer to POST
// /sobjects/{T} for such a type, as captured in public integration notes
// (Contact for a user without create, Flow, Case History, Scratch Org Info);
// the "updated" and "deleted" wordings follow the same pattern and are
// UNCONFIRMED against a real org.
func refuseType(o *objectDef, verb string) apiError {
	return errf("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", nil, "entity type cannot be %s: %s", verb, o.Label)
}

// create validates and inserts a record, returning its id.
func (t *txn) create(o *objectDef, raw map[string]any, opts writeOpts) (string, []apiError) {
	if !o.Createable {
		return "", []apiError{refuseType(o, "inserted")}
	}
	changes, errs := t.prepare(o, raw, nil, opts)
	if errs != nil {
		return "", errs
	}
	tb := t.db.table(o)
	rec := soql.Record{}
	for _, f := range o.Fields {
		rec[f.Name] = f.Default
	}
	id := t.db.nextID(o.KeyPrefix)
	rec["Id"] = id
	rec["IsDeleted"] = false
	if o.field("OwnerId") != nil {
		rec["OwnerId"] = t.user
	}
	rec["CreatedDate"], rec["LastModifiedDate"], rec["SystemModstamp"] = t.now, t.now, t.now
	rec["CreatedById"], rec["LastModifiedById"] = t.user, t.user
	for _, c := range changes {
		rec[c.f.Name] = c.v
	}
	if f := o.field("Name"); f != nil && o.Custom && rec["Name"] == nil {
		rec["Name"] = id
	}
	if errs := checkRequired(o, rec); errs != nil {
		return "", errs
	}
	if errs := t.beforeWrite(o, nil, rec, changes); errs != nil {
		return "", errs
	}
	if errs := t.checkRecord(o, nil, rec, opts); errs != nil {
		return "", errs
	}
	t.insert(tb, rec)
	if errs := t.afterWrite(o, nil, rec); errs != nil {
		return "", errs
	}
	return id, nil
}

// update validates and applies changes to a live record.
func (t *txn) update(o *objectDef, id string, raw map[string]any, opts writeOpts) []apiError {
	tb := t.db.table(o)
	old, ok := tb.get(id)
	if !ok {
		return []apiError{errf("INVALID_CROSS_REFERENCE_KEY", []string{"Id"}, "invalid cross reference id")}
	}
	if old["IsDeleted"] == true {
		return []apiError{errf("ENTITY_IS_DELETED", []string{}, "entity is deleted")}
	}
	if !o.Updateable {
		return []apiError{refuseType(o, "updated")}
	}
	changes, errs := t.prepare(o, raw, old, opts)
	if errs != nil {
		return errs
	}
	rec := clone(old)
	for _, c := range changes {
		rec[c.f.Name] = c.v
	}
	rec["LastModifiedDate"], rec["SystemModstamp"], rec["LastModifiedById"] = t.now, t.now, t.user
	if errs := checkRequired(o, rec); errs != nil {
		return errs
	}
	if errs := t.beforeWrite(o, old, rec, changes); errs != nil {
		return errs
	}
	if errs := t.checkRecord(o, old, rec, opts); errs != nil {
		return errs
	}
	t.replace(tb, rec)
	return t.afterWrite(o, old, rec)
}

// checkRequired reports the required fields the record lacks.
func checkRequired(o *objectDef, rec soql.Record) []apiError {
	var missing []string
	for _, f := range o.Fields {
		if f.Type == "boolean" || f.Nillable || !(f.Createable || f.Updateable) {
			continue
		}
		if rec[f.Name] == nil {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return []apiError{errf("REQUIRED_FIELD_MISSING", missing, "Required fields are missing: [%s]", strings.Join(missing, ", "))}
	}
	return nil
}

// checkRecord enforces uniqueness and the duplicate rule on the record
// about to be stored.
func (t *txn) checkRecord(o *objectDef, old, rec soql.Record, opts writeOpts) []apiError {
	tb := t.db.table(o)
	id := rec["Id"].(string)
	for _, f := range o.Fields {
		if !f.Unique || rec[f.Name] == nil {
			continue
		}
		for _, other := range tb.lookup(f, rec[f.Name]) {
			if other != id {
				return []apiError{errf("DUPLICATE_VALUE", []string{f.Name}, "duplicate value found: %s duplicates value on record with id: %s", f.Name, other)}
			}
		}
	}
	if t.db.dupRule && !opts.allowDupSave && o.Name == "Contact" && rec["Email"] != nil && rec["IsPersonAccount"] != true &&
		(old == nil || !strings.EqualFold(fmt.Sprint(old["Email"]), fmt.Sprint(rec["Email"]))) {
		var matches []string
		for _, other := range tb.lookup(o.field("Email"), rec["Email"]) {
			if other != id {
				matches = append(matches, other)
			}
		}
		if len(matches) > 0 {
			return []apiError{t.duplicateError(o, matches, opts.version)}
		}
	}
	return nil
}

const dupMessage = "Use one of these records?"

func (t *txn) duplicateError(o *objectDef, ids []string, version string) apiError {
	recs := make([]matchRecord, len(ids))
	for i, id := range ids {
		recs[i] = matchRecord{AdditionalInformation: []any{}, FieldDiffs: []any{}, MatchConfidence: 100,
			Record: map[string]any{"attributes": map[string]string{"type": o.Name, "url": recordURL(version, o.Name, id)}, "Id": id}}
	}
	e := errf("DUPLICATES_DETECTED", []string{}, dupMessage)
	e.Dup = &duplicateResult{AllowSave: true, DuplicateRule: "Standard_Contact_Duplicate_Rule", DuplicateRuleEntityType: o.Name,
		ErrorMessage: dupMessage, MatchResults: []matchResult{{EntityType: o.Name, Errors: []any{}, MatchEngine: "ExactMatchEngine",
			MatchRecords: recs, Rule: "Contact_Email_Exact_Match", Size: len(recs), Success: true}}}
	return e
}

func recordURL(version, object, id string) string {
	return "/services/data/v" + version + "/sobjects/" + object + "/" + id
}

// remove soft-deletes a record (to the recycle bin) and cascades to
// master-detail children.
func (t *txn) remove(o *objectDef, id string) []apiError {
	tb := t.db.table(o)
	old, ok := tb.get(id)
	if !ok {
		return []apiError{errf("INVALID_CROSS_REFERENCE_KEY", []string{}, "invalid cross reference id")}
	}
	if old["IsDeleted"] == true {
		return []apiError{errf("ENTITY_IS_DELETED", []string{}, "entity is deleted")}
	}
	if !o.Deletable {
		return []apiError{refuseType(o, "deleted")}
	}
	if o.Name == "Pricebook2" && old["IsStandard"] == true {
		return []apiError{errf("DELETE_FAILED", []string{}, "Your attempt to delete %s could not be completed because the standard price book cannot be deleted", old["Name"])}
	}
	if o.Name == "Contact" && old["IsPersonAccount"] == true {
		return []apiError{errf("INVALID_PERSON_ACCOUNT_OPERATION", []string{}, "You can't delete a person contact; delete the person account instead.")}
	}
	rec := clone(old)
	rec["IsDeleted"], rec["SystemModstamp"], rec["LastModifiedDate"], rec["LastModifiedById"] = true, t.now, t.now, t.user
	t.replace(tb, rec)
	// Cascade: master-detail children, plus the standard cascades of
	// Account (contacts, opportunities) and Opportunity (line items).
	for _, child := range t.db.sch.childRelationships(o.Name) {
		co := t.db.sch.object(child.Child)
		cascade := child.Cascade || (o.Name == "Account" && (co.Name == "Contact" || co.Name == "Opportunity") && child.Field == "AccountId")
		if !cascade {
			continue
		}
		ctb := t.db.table(co)
		for _, cid := range ctb.lookup(co.field(child.Field), id) {
			cr, _ := ctb.get(cid)
			if co.Name == "Contact" && cr["IsPersonAccount"] == true {
				c := clone(cr)
				c["IsDeleted"], c["SystemModstamp"] = true, t.now
				t.replace(ctb, c)
				continue
			}
			if errs := t.remove(co, cid); errs != nil {
				return errs
			}
		}
	}
	if o.Name == "OpportunityLineItem" {
		return t.rollupOpportunity(old["OpportunityId"].(string))
	}
	return nil
}

// beforeWrite derives computed fields and enforces object-specific rules.
func (t *txn) beforeWrite(o *objectDef, old, rec soql.Record, changes []fieldChange) []apiError {
	switch o.Name {
	case "Contact", "User":
		rec["Name"] = strings.TrimSpace(strOr(rec["FirstName"]) + " " + strOr(rec["LastName"]))
	case "Account":
		return t.beforeAccount(o, old, rec, changes)
	case "Opportunity":
		stage := strOr(rec["StageName"])
		rec["IsClosed"] = stage == "Closed Won" || stage == "Closed Lost"
		rec["IsWon"] = stage == "Closed Won"
		if rec["Probability"] == nil || (old != nil && old["StageName"] != rec["StageName"] && !changed(changes, "Probability")) {
			rec["Probability"] = stageProbability(stage)
		}
	case "Pricebook2":
		if old != nil && old["IsStandard"] == true && changed(changes, "Name") {
			return []apiError{errf("INVALID_FIELD_FOR_INSERT_UPDATE", []string{"Name"}, "Unable to update fields: Name. The standard price book's name cannot be changed.")}
		}
	case "PricebookEntry":
		return t.beforePricebookEntry(old, rec)
	case "OpportunityLineItem":
		return t.beforeLineItem(old, rec, changes)
	}
	return nil
}

func changed(changes []fieldChange, name string) bool {
	for _, c := range changes {
		if c.f.Name == name {
			return true
		}
	}
	return false
}

func strOr(v any) string {
	s, _ := v.(string)
	return s
}

func stageProbability(stage string) float64 {
	switch stage {
	case "Prospecting":
		return 10
	case "Qualification":
		return 10
	case "Needs Analysis":
		return 20
	case "Value Proposition":
		return 50
	case "Id. Decision Makers":
		return 60
	case "Perception Analysis":
		return 70
	case "Proposal/Price Quote":
		return 75
	case "Negotiation/Review":
		return 90
	case "Closed Won":
		return 100
	}
	return 0
}

// personRecordType reports whether id is a person-account record type.
func (t *txn) personRecordType(id any) bool {
	s, ok := id.(string)
	if !ok {
		return false
	}
	r, ok := t.db.table(t.db.sch.object("RecordType")).get(s)
	return ok && r["IsPersonType"] == true
}

func (t *txn) beforeAccount(o *objectDef, old, rec soql.Record, changes []fieldChange) []apiError {
	if !t.db.sch.personAccts {
		return nil
	}
	person := t.personRecordType(rec["RecordTypeId"])
	if old != nil && old["IsPersonAccount"] != person {
		return []apiError{errf("INVALID_PERSON_ACCOUNT_OPERATION", []string{"RecordTypeId"}, "You can't change an account between person and business record types through the API in this sandbox.")}
	}
	rec["IsPersonAccount"] = person
	if !person {
		for _, c := range changes {
			if strings.HasPrefix(c.f.Name, "Person") || strings.HasSuffix(c.f.Name, "__pc") || c.f.Name == "FirstName" || c.f.Name == "LastName" || c.f.Name == "Salutation" {
				if c.v != nil {
					return []apiError{errf("INVALID_FIELD", []string{c.f.Name}, "%s: this field is only available on person accounts", c.f.Label)}
				}
			}
		}
		if rec["Name"] == nil {
			return []apiError{errf("REQUIRED_FIELD_MISSING", []string{"Name"}, "Required fields are missing: [Name]")}
		}
		return nil
	}
	if changed(changes, "Name") {
		return []apiError{errf("INVALID_FIELD_FOR_INSERT_UPDATE", []string{"Name"}, "Unable to create/update fields: Name. Person accounts take FirstName and LastName instead.")}
	}
	if rec["LastName"] == nil {
		return []apiError{errf("REQUIRED_FIELD_MISSING", []string{"LastName"}, "Required fields are missing: [LastName]")}
	}
	rec["Name"] = strings.TrimSpace(strOr(rec["FirstName"]) + " " + strOr(rec["LastName"]))
	return nil
}

// personContactFields maps Account person fields to their Contact fields.
var personContactFields = [][2]string{
	{"FirstName", "FirstName"}, {"LastName", "LastName"}, {"Salutation", "Salutation"},
	{"PersonEmail", "Email"}, {"PersonMobilePhone", "MobilePhone"}, {"PersonHomePhone", "HomePhone"},
	{"PersonOtherPhone", "OtherPhone"}, {"PersonBirthdate", "Birthdate"}, {"PersonMailingStreet", "MailingStreet"},
	{"PersonMailingCity", "MailingCity"}, {"PersonMailingState", "MailingState"}, {"PersonMailingPostalCode", "MailingPostalCode"},
	{"PersonMailingCountry", "MailingCountry"}, {"Phone", "Phone"},
}

// syncPersonContact creates or refreshes the hidden contact of a person
// account.
func (t *txn) syncPersonContact(acct soql.Record) {
	co := t.db.sch.object("Contact")
	tb := t.db.table(co)
	var c soql.Record
	if id, ok := acct["PersonContactId"].(string); ok {
		old, _ := tb.get(id)
		c = clone(old)
	} else {
		c = soql.Record{}
		for _, f := range co.Fields {
			c[f.Name] = f.Default
		}
		c["Id"] = t.db.nextID(co.KeyPrefix)
		c["IsDeleted"], c["IsPersonAccount"] = false, true
		c["CreatedDate"], c["CreatedById"], c["OwnerId"] = t.now, t.user, acct["OwnerId"]
	}
	for _, m := range personContactFields {
		c[m[1]] = acct[m[0]]
	}
	for _, f := range t.db.sch.object("Account").Fields {
		if strings.HasSuffix(f.Name, "__pc") {
			c[strings.TrimSuffix(f.Name, "__pc")+"__c"] = acct[f.Name]
		}
	}
	c["AccountId"], c["Name"] = acct["Id"], acct["Name"]
	c["LastModifiedDate"], c["SystemModstamp"], c["LastModifiedById"] = t.now, t.now, t.user
	if _, ok := acct["PersonContactId"].(string); ok {
		t.replace(tb, c)
		return
	}
	t.insert(tb, c)
	a := clone(acct)
	a["PersonContactId"] = c["Id"]
	t.replace(t.db.table(t.db.sch.object("Account")), a)
}

func (t *txn) beforePricebookEntry(old, rec soql.Record) []apiError {
	prod, _ := t.db.table(t.db.sch.object("Product2")).get(rec["Product2Id"].(string))
	book, _ := t.db.table(t.db.sch.object("Pricebook2")).get(rec["Pricebook2Id"].(string))
	rec["Name"], rec["ProductCode"] = prod["Name"], prod["ProductCode"]
	if old != nil {
		return nil
	}
	tb := t.db.table(t.db.sch.object("PricebookEntry"))
	for _, id := range tb.lookup(t.db.sch.object("PricebookEntry").field("Product2Id"), rec["Product2Id"]) {
		e, _ := tb.get(id)
		if e["Pricebook2Id"] == rec["Pricebook2Id"] {
			return []apiError{errf("DUPLICATE_VALUE", []string{}, "This price definition already exists in this price book")}
		}
	}
	if book["IsStandard"] == true {
		if rec["UseStandardPrice"] == true {
			return []apiError{errf("FIELD_INTEGRITY_EXCEPTION", []string{"UseStandardPrice"}, "field integrity exception: UseStandardPrice (a standard price book entry cannot use the standard price)")}
		}
		return nil
	}
	std := t.standardEntry(rec["Product2Id"].(string))
	if std == nil || std["IsActive"] != true {
		return []apiError{errf("STANDARD_PRICE_NOT_DEFINED", []string{}, "No standard price defined for this product")}
	}
	if rec["UseStandardPrice"] == true {
		rec["UnitPrice"] = std["UnitPrice"]
	}
	return nil
}

// standardEntry returns the product's entry in the standard price book.
func (t *txn) standardEntry(productID string) soql.Record {
	pbe := t.db.sch.object("PricebookEntry")
	tb := t.db.table(pbe)
	books := t.db.table(t.db.sch.object("Pricebook2"))
	for _, id := range tb.lookup(pbe.field("Product2Id"), productID) {
		e, _ := tb.get(id)
		if b, ok := books.get(e["Pricebook2Id"].(string)); ok && b["IsStandard"] == true {
			return e
		}
	}
	return nil
}

func (t *txn) beforeLineItem(old, rec soql.Record, changes []fieldChange) []apiError {
	opps := t.db.table(t.db.sch.object("Opportunity"))
	entries := t.db.table(t.db.sch.object("PricebookEntry"))
	opp, _ := opps.get(rec["OpportunityId"].(string))
	if old == nil {
		if rec["PricebookEntryId"] == nil {
			pid, ok := rec["Product2Id"].(string)
			if !ok {
				return []apiError{errf("REQUIRED_FIELD_MISSING", []string{"PricebookEntryId"}, "Required fields are missing: [PricebookEntryId]")}
			}
			book, _ := opp["Pricebook2Id"].(string)
			for _, id := range entries.lookup(entries.obj.field("Product2Id"), pid) {
				e, _ := entries.get(id)
				if book == "" {
					if b, _ := t.db.table(t.db.sch.object("Pricebook2")).get(e["Pricebook2Id"].(string)); b["IsStandard"] == true {
						rec["PricebookEntryId"] = id
					}
				} else if e["Pricebook2Id"] == book {
					rec["PricebookEntryId"] = id
				}
			}
			if rec["PricebookEntryId"] == nil {
				return []apiError{errf("FIELD_INTEGRITY_EXCEPTION", []string{"Product2Id"}, "field integrity exception: Product2Id (no price book entry for this product in the opportunity's price book)")}
			}
		}
		entry, _ := entries.get(rec["PricebookEntryId"].(string))
		if rec["Product2Id"] != nil && rec["Product2Id"] != entry["Product2Id"] {
			return []apiError{errf("FIELD_INTEGRITY_EXCEPTION", []string{"Product2Id"}, "field integrity exception: Product2Id (does not match the product of the price book entry)")}
		}
		prod, _ := t.db.table(t.db.sch.object("Product2")).get(entry["Product2Id"].(string))
		if entry["IsActive"] != true || prod["IsActive"] != true {
			return []apiError{errf("FIELD_INTEGRITY_EXCEPTION", []string{"PricebookEntryId"}, "field integrity exception: PricebookEntryId (pricebook entry is inactive)")}
		}
		switch book := opp["Pricebook2Id"]; {
		case book == nil:
			o := clone(opp)
			o["Pricebook2Id"] = entry["Pricebook2Id"]
			t.replace(opps, o)
		case book != entry["Pricebook2Id"]:
			return []apiError{errf("FIELD_INTEGRITY_EXCEPTION", []string{"PricebookEntryId"}, "field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the opportunity)")}
		}
		rec["Product2Id"], rec["ProductCode"], rec["ListPrice"] = entry["Product2Id"], prod["ProductCode"], entry["UnitPrice"]
		rec["Name"] = strings.TrimSpace(strOr(opp["Name"]) + " " + strOr(prod["Name"]))
	}
	unit, total := changed(changes, "UnitPrice"), changed(changes, "TotalPrice")
	if unit && total && rec["UnitPrice"] != nil && rec["TotalPrice"] != nil {
		return []apiError{errf("FIELD_INTEGRITY_EXCEPTION", []string{"TotalPrice"}, "field integrity exception: TotalPrice (only one of unit price or total price may be specified)")}
	}
	qty, _ := rec["Quantity"].(float64)
	if qty == 0 {
		return []apiError{errf("FIELD_INTEGRITY_EXCEPTION", []string{"Quantity"}, "field integrity exception: Quantity (quantity must be nonzero)")}
	}
	disc, _ := rec["Discount"].(float64)
	switch {
	case total && rec["TotalPrice"] != nil:
		tp := rec["TotalPrice"].(float64)
		rec["UnitPrice"] = math.Round(tp/qty/(1-disc/100)*100) / 100
	case rec["UnitPrice"] == nil:
		return []apiError{errf("FIELD_INTEGRITY_EXCEPTION", []string{}, "field integrity exception: unknown (must specify either TotalPrice or UnitPrice)")}
	default:
		up := rec["UnitPrice"].(float64)
		rec["TotalPrice"] = math.Round(qty*up*(1-disc/100)*100) / 100
	}
	return nil
}

// afterWrite runs the side effects of a stored write.
func (t *txn) afterWrite(o *objectDef, old, rec soql.Record) []apiError {
	switch o.Name {
	case "OpportunityLineItem":
		return t.rollupOpportunity(rec["OpportunityId"].(string))
	case "Account":
		if rec["IsPersonAccount"] == true {
			cur, _ := t.db.table(o).get(rec["Id"].(string))
			t.syncPersonContact(cur)
		}
	}
	return nil
}

// rollupOpportunity recomputes Amount and HasOpportunityLineItem from the
// opportunity's live line items.
func (t *txn) rollupOpportunity(oppID string) []apiError {
	li := t.db.sch.object("OpportunityLineItem")
	ltb := t.db.table(li)
	ids := ltb.lookup(li.field("OpportunityId"), oppID)
	opps := t.db.table(t.db.sch.object("Opportunity"))
	opp, ok := opps.get(oppID)
	if !ok {
		return nil
	}
	o := clone(opp)
	if len(ids) == 0 {
		o["HasOpportunityLineItem"] = false
	} else {
		sum := 0.0
		for _, id := range ids {
			r, _ := ltb.get(id)
			tp, _ := r["TotalPrice"].(float64)
			sum += tp
		}
		o["Amount"], o["HasOpportunityLineItem"] = math.Round(sum*100)/100, true
	}
	o["SystemModstamp"] = t.now
	t.replace(opps, o)
	return nil
}

// upsertResult is the outcome of an upsert by external id.
type upsertResult struct {
	id      string
	created bool
	matches []string // more than one record matched: nothing was written
	errs    []apiError
}

// upsert creates or updates the record whose external id field ef equals
// value. A body that repeats the key with the same value is accepted.
func (t *txn) upsert(o *objectDef, ef *fieldDef, value string, raw map[string]any, opts writeOpts) upsertResult {
	body := make(map[string]any, len(raw))
	for k, v := range raw {
		if strings.EqualFold(k, ef.Name) {
			s, _ := rawString(v)
			if v != nil && !strings.EqualFold(s, value) {
				return upsertResult{errs: []apiError{errf("INVALID_FIELD", []string{ef.Name},
					"The external ID field %s in the body (%s) does not match the value in the URL (%s)", ef.Name, s, value)}}
			}
			continue
		}
		body[k] = v
	}
	if ef.Name == "Id" {
		if value == "" {
			id, errs := t.create(o, body, opts)
			return upsertResult{id: id, created: errs == nil, errs: errs}
		}
		id, ok := normalizeID(value)
		if !ok || id[:3] != o.KeyPrefix {
			return upsertResult{errs: []apiError{errf("MALFORMED_ID", []string{"Id"}, "%s ID: id value of incorrect type: %s", o.Label, value)}}
		}
		return upsertResult{id: id, errs: t.update(o, id, body, opts)}
	}
	cv, err := coerce(ef, value)
	if err != nil {
		return upsertResult{errs: []apiError{*err}}
	}
	ids := t.db.table(o).lookup(ef, cv)
	switch len(ids) {
	case 0:
		body[ef.Name] = value
		id, errs := t.create(o, body, opts)
		return upsertResult{id: id, created: errs == nil, errs: errs}
	case 1:
		return upsertResult{id: ids[0], errs: t.update(o, ids[0], body, opts)}
	}
	return upsertResult{matches: ids}
}
