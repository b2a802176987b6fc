package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// newToolingSchema is the small slice of the Tooling API's objects the
// sandbox serves: the custom fields and objects of the org.
func newToolingSchema(now time.Time) *schema {
	s := &schema{objects: map[string]*objectDef{}, byPrefix: map[string]*objectDef{}}
	add := func(o *objectDef) {
		addAudit(o)
		o.modified = now
		o.Createable, o.Updateable, o.Deletable = true, false, false
		s.objects[strings.ToLower(o.Name)] = o
		s.byPrefix[o.KeyPrefix] = o
	}
	cf := newObject("CustomField", "Custom Field Definition", "Custom Field Definitions", "00N", false)
	for _, f := range []*fieldDef{
		readOnly(text("DeveloperName", "Field Name", 40)),
		readOnly(text("TableEnumOrId", "Table Enum or ID", 40)),
		readOnly(text("NamespacePrefix", "Namespace Prefix", 15)),
		readOnly(text("FullName", "Full Name", 255)),
		readOnly(typed("textarea", "Description", "Description", 1000)),
		readOnly(typed("textarea", "InlineHelpText", "Help Text", 510)),
		readOnly(text("ManageableState", "Manageable State", 40)),
	} {
		cf.addField(f)
	}
	add(cf)
	co := newObject("CustomObject", "Custom Object", "Custom Objects", "01I", false)
	for _, f := range []*fieldDef{
		readOnly(text("DeveloperName", "Object Name", 40)),
		readOnly(text("NamespacePrefix", "Namespace Prefix", 15)),
		readOnly(text("FullName", "Full Name", 255)),
		readOnly(typed("textarea", "Description", "Description", 1000)),
		readOnly(text("ExternalName", "External Name", 255)),
		readOnly(text("ManageableState", "Manageable State", 40)),
	} {
		co.addField(f)
	}
	add(co)
	return s
}

// systemInsert stores a record built by the sandbox itself, without the
// validation client writes go through.
func (t *txn) systemInsert(o *objectDef, fields map[string]any) soql.Record {
	rec := soql.Record{}
	for _, f := range o.Fields {
		rec[f.Name] = f.Default
	}
	rec["Id"] = t.db.nextID(o.KeyPrefix)
	rec["IsDeleted"] = false
	if o.field("OwnerId") != nil {
		rec["OwnerId"] = t.user
	}
	rec["CreatedDate"], rec["LastModifiedDate"], rec["SystemModstamp"] = t.now, t.now, t.now
	rec["CreatedById"], rec["LastModifiedById"] = t.user, t.user
	for k, v := range fields {
		rec[k] = v
	}
	t.insert(t.db.table(o), rec)
	return rec
}

// ErrDuplicateName is returned (wrapped) when a custom field or object of
// that name already exists.
var ErrDuplicateName = errors.New("sandbox: duplicate developer name")

// AddCustomField adds a custom field to object, the way a merchant would in
// Setup or a client through the Tooling API. The field is in describe and
// usable in writes and queries at once. In a person-account org a Contact
// field also appears on Account with the __pc suffix.
func (s *Server) AddCustomField(object string, f FieldSpec) error {
	_, err := s.addCustomField(object, f)
	return err
}

func (s *Server) addCustomField(object string, spec FieldSpec) (string, error) {
	s.data.mu.Lock()
	defer s.data.mu.Unlock()
	s.tooling.mu.Lock()
	defer s.tooling.mu.Unlock()
	return addCustomFieldLocked(s.data, s.tooling, object, spec, s.clk.Now())
}

func addCustomFieldLocked(d, tool *db, object string, spec FieldSpec, now time.Time) (string, error) {
	o := d.sch.object(object)
	if o == nil {
		return "", fmt.Errorf("sandbox: add field: object %q does not exist", object)
	}
	f, err := d.sch.buildField(o, spec)
	if err != nil {
		if strings.Contains(err.Error(), "already") {
			return "", fmt.Errorf("sandbox: add field %s.%s: %w: %v", o.Name, spec.Name, ErrDuplicateName, err)
		}
		return "", fmt.Errorf("sandbox: add field %s.%s: %w", o.Name, spec.Name, err)
	}
	if f.Type == "picklist" {
		f.Restricted = true
	}
	o.addField(f)
	o.modified = now
	tb := d.table(o)
	for i, r := range tb.rows {
		if _, ok := r[f.Name]; !ok {
			nr := clone(r)
			nr[f.Name] = f.Default
			tb.rows[i] = nr
		}
	}
	if d.sch.personAccts && o.Name == "Contact" {
		acct := d.sch.object("Account")
		pc := *f
		pc.Name = strings.TrimSuffix(f.Name, "__c") + "__pc"
		if pc.RelationshipName != "" {
			pc.RelationshipName = strings.TrimSuffix(pc.RelationshipName, "__r") + "__pr"
		}
		acct.addField(&pc)
		acct.modified = now
	}
	// Record the definition for tooling queries.
	t := tool.begin(now)
	t.user = d.userID
	table := o.Name
	if o.Custom {
		table = toolingObjectID(tool, o.Name)
	}
	rec := t.systemInsert(tool.sch.object("CustomField"), map[string]any{
		"DeveloperName": strings.TrimSuffix(f.Name, "__c"), "TableEnumOrId": table, "FullName": o.Name + "." + f.Name,
		"Description": nilIfEmpty(spec.Description), "ManageableState": "unmanaged",
	})
	return rec["Id"].(string), nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// toolingObjectID is the CustomObject id of a custom object, which is what
// CustomField.TableEnumOrId holds for fields of custom objects.
func toolingObjectID(tool *db, name string) string {
	for _, r := range tool.tables["CustomObject"].rows {
		if r["FullName"] == name {
			return r["Id"].(string)
		}
	}
	return name
}

// AddCustomObject creates a custom object (name gets "__c" when missing)
// with a text Name field; label and plural default from the name.
func (s *Server) AddCustomObject(name, label, plural string) error {
	_, err := s.addCustomObject(name, label, plural)
	return err
}

func (s *Server) addCustomObject(name, label, plural string) (string, error) {
	s.data.mu.Lock()
	defer s.data.mu.Unlock()
	s.tooling.mu.Lock()
	defer s.tooling.mu.Unlock()
	now := s.clk.Now()
	o, err := s.data.sch.addCustomObject(name, label, plural, now)
	if err != nil {
		if strings.Contains(err.Error(), "already") {
			return "", fmt.Errorf("sandbox: add object %s: %w: %v", name, ErrDuplicateName, err)
		}
		return "", fmt.Errorf("sandbox: add object %s: %w", name, err)
	}
	s.data.addTable(o)
	t := s.tooling.begin(now)
	t.user = s.data.userID
	rec := t.systemInsert(s.tooling.sch.object("CustomObject"), map[string]any{
		"DeveloperName": strings.TrimSuffix(o.Name, "__c"), "FullName": o.Name, "ManageableState": "unmanaged",
	})
	return rec["Id"].(string), nil
}

func (s *Server) routeTooling(c *call) result {
	segs := c.segs[1:]
	if len(segs) == 0 {
		p := "/services/data/v" + c.version + "/tooling/"
		return jsonResult(http.StatusOK, map[string]string{"sobjects": p + "sobjects", "query": p + "query", "search": p + "search"})
	}
	switch segs[0] {
	case "query":
		c.resource = "tooling/query"
		return s.routeQuery(c, s.tooling, false, segs[1:])
	case "sobjects":
	default:
		return notFound()
	}
	d := s.tooling
	if len(segs) == 1 {
		return c.read(d, func() result {
			var entries []globalEntry
			for _, o := range d.sch.sorted() {
				g := globalDescribe(o, c.version)
				g.URLs.SObject = strings.Replace(g.URLs.SObject, "/sobjects/", "/tooling/sobjects/", 1)
				g.URLs.Describe = strings.Replace(g.URLs.Describe, "/sobjects/", "/tooling/sobjects/", 1)
				g.URLs.RowTemplate = strings.Replace(g.URLs.RowTemplate, "/sobjects/", "/tooling/sobjects/", 1)
				entries = append(entries, g)
			}
			return jsonResult(http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": entries})
		})
	}
	var o *objectDef
	c.read(d, func() result { o = d.sch.object(segs[1]); return result{} })
	if o == nil {
		return errResult(http.StatusNotFound, invalidType(segs[1]))
	}
	c.resource = "tooling/sobjects/" + o.Name
	switch len(segs) {
	case 2:
		if c.method != http.MethodPost {
			return methodNotAllowed(c.method, "POST")
		}
		return s.toolingCreate(c, o)
	case 3:
		if segs[2] == "describe" {
			return c.read(d, func() result { return jsonResult(http.StatusOK, d.describe(o, c.version)) })
		}
		c.resource += "/{id}"
		if c.method != http.MethodGet {
			return methodNotAllowed(c.method, "GET")
		}
		id, ok := normalizeID(segs[2])
		if !ok {
			return notFound()
		}
		return c.read(d, func() result {
			rec, ok := d.table(o).get(id)
			if !ok {
				return notFound()
			}
			out := recordJSON(o, rec, nil, c.version)
			out[0].V = orderedObject{{"type", o.Name}, {"url", "/services/data/v" + c.version + "/tooling/sobjects/" + o.Name + "/" + id}}
			return jsonResult(http.StatusOK, out)
		})
	}
	return notFound()
}

// toolingMetadata is the Metadata part of a Tooling CustomField/CustomObject
// create body.
type toolingMetadata struct {
	Label            string `json:"label"`
	PluralLabel      string `json:"pluralLabel"`
	Type             string `json:"type"`
	Length           int    `json:"length"`
	Precision        int    `json:"precision"`
	Scale            int    `json:"scale"`
	Required         bool   `json:"required"`
	ExternalID       bool   `json:"externalId"`
	Unique           bool   `json:"unique"`
	Description      string `json:"description"`
	InlineHelpText   string `json:"inlineHelpText"`
	ReferenceTo      string `json:"referenceTo"`
	RelationshipName string `json:"relationshipName"`
	ValueSet         *struct {
		ValueSetDefinition struct {
			Value []struct {
				FullName string `json:"fullName"`
				Label    string `json:"label"`
			} `json:"value"`
		} `json:"valueSetDefinition"`
	} `json:"valueSet"`
}

func (s *Server) toolingCreate(c *call, o *objectDef) result {
	var body struct {
		FullName string          `json:"FullName"`
		Metadata toolingMetadata `json:"Metadata"`
	}
	if e := decodeBody(c.body, &body); e != nil {
		return errResult(http.StatusBadRequest, *e)
	}
	md := body.Metadata
	var id string
	var err error
	switch o.Name {
	case "CustomField":
		object, field, ok := strings.Cut(body.FullName, ".")
		if !ok || field == "" {
			return errResult(http.StatusBadRequest, errf("FIELD_INTEGRITY_EXCEPTION", []string{"FullName"}, "FullName must be Object.Field__c, got %q", body.FullName))
		}
		spec := FieldSpec{Name: field, Label: md.Label, Type: md.Type, Length: md.Length, Precision: md.Precision, Scale: md.Scale,
			Required: md.Required, ExternalID: md.ExternalID, Unique: md.Unique, ReferenceTo: md.ReferenceTo,
			RelationshipName: md.RelationshipName, Description: md.Description}
		if md.ValueSet != nil {
			for _, v := range md.ValueSet.ValueSetDefinition.Value {
				spec.PicklistValues = append(spec.PicklistValues, v.FullName)
			}
		}
		if !strings.HasSuffix(field, "__c") {
			return errResult(http.StatusBadRequest, errf("FIELD_INTEGRITY_EXCEPTION", []string{"FullName"}, "The custom field name %s must end with __c", field))
		}
		if md.Label == "" {
			return errResult(http.StatusBadRequest, errf("REQUIRED_FIELD_MISSING", []string{"label"}, "Required fields are missing: [label]"))
		}
		id, err = s.addCustomField(object, spec)
	case "CustomObject":
		if md.Label == "" {
			return errResult(http.StatusBadRequest, errf("REQUIRED_FIELD_MISSING", []string{"label"}, "Required fields are missing: [label]"))
		}
		id, err = s.addCustomObject(body.FullName, md.Label, md.PluralLabel)
	default:
		return methodNotAllowed(c.method, "GET")
	}
	if err != nil {
		code := "FIELD_INTEGRITY_EXCEPTION"
		if errors.Is(err, ErrDuplicateName) {
			code = "DUPLICATE_DEVELOPER_NAME"
		}
		msg := strings.TrimPrefix(err.Error(), "sandbox: ")
		return errResult(http.StatusBadRequest, errf(code, []string{}, "%s", msg))
	}
	return jsonResult(http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}, "warnings": []any{}, "infos": []any{}})
}
