package sandbox

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/tandemsync/tandem/integrations/salesforce/sandbox/soql"
)

// kv and orderedObject write JSON objects with keys in a chosen order, the
// way Salesforce orders record fields.
type kv struct {
	K string
	V any
}

type orderedObject []kv

// MarshalJSON implements json.Marshaler.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.K)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(p.V)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonValue renders a stored value for a REST body.
func jsonValue(f *fieldDef, v any) any {
	switch x := v.(type) {
	case time.Time:
		if f != nil && f.Type == "date" {
			return x.Format("2006-01-02")
		}
		return sfDateTime(x)
	case float64:
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64))
	}
	return v
}

// recordJSON renders a record with the given fields (all when nil).
func recordJSON(o *objectDef, rec soql.Record, fields []*fieldDef, version string) orderedObject {
	if fields == nil {
		fields = o.Fields
	}
	out := make(orderedObject, 0, len(fields)+1)
	out = append(out, kv{"attributes", orderedObject{{"type", o.Name}, {"url", recordURL(version, o.Name, rec["Id"].(string))}}})
	for _, f := range fields {
		out = append(out, kv{f.Name, jsonValue(f, rec[f.Name])})
	}
	return out
}

type sobjectURLs struct {
	SObject     string `json:"sobject"`
	Describe    string `json:"describe"`
	RowTemplate string `json:"rowTemplate"`
}

// globalEntry is one object in describe global.
type globalEntry struct {
	Activateable        bool        `json:"activateable"`
	Createable          bool        `json:"createable"`
	Custom              bool        `json:"custom"`
	CustomSetting       bool        `json:"customSetting"`
	DeepCloneable       bool        `json:"deepCloneable"`
	Deletable           bool        `json:"deletable"`
	DeprecatedAndHidden bool        `json:"deprecatedAndHidden"`
	FeedEnabled         bool        `json:"feedEnabled"`
	HasSubtypes         bool        `json:"hasSubtypes"`
	IsInterface         bool        `json:"isInterface"`
	IsSubtype           bool        `json:"isSubtype"`
	KeyPrefix           string      `json:"keyPrefix"`
	Label               string      `json:"label"`
	LabelPlural         string      `json:"labelPlural"`
	Layoutable          bool        `json:"layoutable"`
	Mergeable           bool        `json:"mergeable"`
	MruEnabled          bool        `json:"mruEnabled"`
	Name                string      `json:"name"`
	Queryable           bool        `json:"queryable"`
	Replicateable       bool        `json:"replicateable"`
	Retrieveable        bool        `json:"retrieveable"`
	Searchable          bool        `json:"searchable"`
	Triggerable         bool        `json:"triggerable"`
	Undeletable         bool        `json:"undeletable"`
	Updateable          bool        `json:"updateable"`
	URLs                sobjectURLs `json:"urls"`
}

func globalDescribe(o *objectDef, version string) globalEntry {
	p := "/services/data/v" + version + "/sobjects/" + o.Name
	return globalEntry{Createable: o.Createable, Custom: o.Custom, Deletable: o.Deletable, KeyPrefix: o.KeyPrefix,
		Label: o.Label, LabelPlural: o.LabelPlural, Layoutable: true, Mergeable: o.Name == "Account" || o.Name == "Contact",
		MruEnabled: true, Name: o.Name, Queryable: true, Replicateable: true, Retrieveable: true, Searchable: true,
		Triggerable: true, Undeletable: o.Deletable, Updateable: o.Updateable, FeedEnabled: !o.Custom,
		URLs: sobjectURLs{SObject: p, Describe: p + "/describe", RowTemplate: p + "/{ID}"}}
}

type picklistEntry struct {
	Active       bool    `json:"active"`
	DefaultValue bool    `json:"defaultValue"`
	Label        string  `json:"label"`
	ValidFor     *string `json:"validFor"`
	Value        string  `json:"value"`
}

// fieldDescribe is one entry of describe's fields[].
type fieldDescribe struct {
	Aggregatable             bool            `json:"aggregatable"`
	AIPredictionField        bool            `json:"aiPredictionField"`
	AutoNumber               bool            `json:"autoNumber"`
	ByteLength               int             `json:"byteLength"`
	Calculated               bool            `json:"calculated"`
	CalculatedFormula        *string         `json:"calculatedFormula"`
	CascadeDelete            bool            `json:"cascadeDelete"`
	CaseSensitive            bool            `json:"caseSensitive"`
	CompoundFieldName        *string         `json:"compoundFieldName"`
	ControllerName           *string         `json:"controllerName"`
	Createable               bool            `json:"createable"`
	Custom                   bool            `json:"custom"`
	DefaultValue             any             `json:"defaultValue"`
	DefaultValueFormula      *string         `json:"defaultValueFormula"`
	DefaultedOnCreate        bool            `json:"defaultedOnCreate"`
	DependentPicklist        bool            `json:"dependentPicklist"`
	DeprecatedAndHidden      bool            `json:"deprecatedAndHidden"`
	Digits                   int             `json:"digits"`
	DisplayLocationInDecimal bool            `json:"displayLocationInDecimal"`
	Encrypted                bool            `json:"encrypted"`
	ExternalID               bool            `json:"externalId"`
	ExtraTypeInfo            *string         `json:"extraTypeInfo"`
	Filterable               bool            `json:"filterable"`
	FilteredLookupInfo       any             `json:"filteredLookupInfo"`
	Groupable                bool            `json:"groupable"`
	HighScaleNumber          bool            `json:"highScaleNumber"`
	HTMLFormatted            bool            `json:"htmlFormatted"`
	IDLookup                 bool            `json:"idLookup"`
	InlineHelpText           *string         `json:"inlineHelpText"`
	Label                    string          `json:"label"`
	Length                   int             `json:"length"`
	Mask                     *string         `json:"mask"`
	MaskType                 *string         `json:"maskType"`
	Name                     string          `json:"name"`
	NameField                bool            `json:"nameField"`
	NamePointing             bool            `json:"namePointing"`
	Nillable                 bool            `json:"nillable"`
	Permissionable           bool            `json:"permissionable"`
	PicklistValues           []picklistEntry `json:"picklistValues"`
	PolymorphicForeignKey    bool            `json:"polymorphicForeignKey"`
	Precision                int             `json:"precision"`
	QueryByDistance          bool            `json:"queryByDistance"`
	ReferenceTargetField     *string         `json:"referenceTargetField"`
	ReferenceTo              []string        `json:"referenceTo"`
	RelationshipName         *string         `json:"relationshipName"`
	RelationshipOrder        *int            `json:"relationshipOrder"`
	RestrictedDelete         bool            `json:"restrictedDelete"`
	RestrictedPicklist       bool            `json:"restrictedPicklist"`
	Scale                    int             `json:"scale"`
	SearchPrefilterable      bool            `json:"searchPrefilterable"`
	SoapType                 string          `json:"soapType"`
	Sortable                 bool            `json:"sortable"`
	Type                     string          `json:"type"`
	Unique                   bool            `json:"unique"`
	Updateable               bool            `json:"updateable"`
	WriteRequiresMasterRead  bool            `json:"writeRequiresMasterRead"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func describeField(f *fieldDef) fieldDescribe {
	d := fieldDescribe{
		AutoNumber: f.AutoNumber, Calculated: f.Calculated, CascadeDelete: f.CascadeDelete, CaseSensitive: f.CaseSensitive,
		CompoundFieldName: strPtr(f.CompoundFieldName), Createable: f.Createable, Custom: f.Custom,
		DefaultedOnCreate: f.DefaultedOnCreate, ExternalID: f.ExternalID, ExtraTypeInfo: strPtr(f.ExtraTypeInfo),
		Filterable: f.Type != "textarea" || f.Length <= 255, IDLookup: f.IDLookup, InlineHelpText: strPtr(f.Description),
		Label: f.Label, Name: f.Name, NameField: f.NameField, Nillable: f.Nillable, Permissionable: f.Nillable && f.Custom,
		PicklistValues: []picklistEntry{}, Precision: f.Precision, ReferenceTo: []string{}, RelationshipName: strPtr(f.RelationshipName),
		RestrictedPicklist: f.Restricted, Scale: f.Scale, SoapType: f.soapType(), Type: f.Type, Unique: f.Unique,
		Updateable: f.Updateable, Groupable: f.Type != "textarea" && f.Type != "double" && f.Type != "currency" && f.Type != "percent" && f.Type != "datetime",
		Sortable: f.Type != "textarea" || f.Length <= 255, Aggregatable: f.Type != "textarea" || f.Length <= 255,
	}
	if f.isText() || f.Type == "id" || f.Type == "reference" {
		d.Length = f.Length
		d.ByteLength = 3 * f.Length
	}
	if f.Type == "int" {
		d.Digits = f.Digits
	}
	if f.Type == "boolean" {
		d.DefaultValue = f.Default
		if d.DefaultValue == nil {
			d.DefaultValue = false
		}
	}
	for _, v := range f.Picklist {
		d.PicklistValues = append(d.PicklistValues, picklistEntry{Active: true, DefaultValue: v == f.DefaultPicklist, Label: v, Value: v})
	}
	if f.ReferenceTo != nil {
		d.ReferenceTo = f.ReferenceTo
	}
	if f.Name == "OwnerId" {
		d.NamePointing = false
	}
	return d
}

type childRelationship struct {
	CascadeDelete       bool     `json:"cascadeDelete"`
	ChildSObject        string   `json:"childSObject"`
	DeprecatedAndHidden bool     `json:"deprecatedAndHidden"`
	Field               string   `json:"field"`
	JunctionIDListNames []string `json:"junctionIdListNames"`
	JunctionReferenceTo []string `json:"junctionReferenceTo"`
	RelationshipName    *string  `json:"relationshipName"`
	RestrictedDelete    bool     `json:"restrictedDelete"`
}

type recordTypeInfo struct {
	Active                   bool              `json:"active"`
	Available                bool              `json:"available"`
	DefaultRecordTypeMapping bool              `json:"defaultRecordTypeMapping"`
	DeveloperName            string            `json:"developerName"`
	Master                   bool              `json:"master"`
	Name                     string            `json:"name"`
	RecordTypeID             string            `json:"recordTypeId"`
	URLs                     map[string]string `json:"urls"`
}

// fullDescribe is the body of /sobjects/{T}/describe.
type fullDescribe struct {
	ActionOverrides     []any               `json:"actionOverrides"`
	Activateable        bool                `json:"activateable"`
	ChildRelationships  []childRelationship `json:"childRelationships"`
	CompactLayoutable   bool                `json:"compactLayoutable"`
	Createable          bool                `json:"createable"`
	Custom              bool                `json:"custom"`
	CustomSetting       bool                `json:"customSetting"`
	DeepCloneable       bool                `json:"deepCloneable"`
	DefaultImplement    *string             `json:"defaultImplementation"`
	Deletable           bool                `json:"deletable"`
	DeprecatedAndHidden bool                `json:"deprecatedAndHidden"`
	FeedEnabled         bool                `json:"feedEnabled"`
	Fields              []fieldDescribe     `json:"fields"`
	HasSubtypes         bool                `json:"hasSubtypes"`
	IsInterface         bool                `json:"isInterface"`
	IsSubtype           bool                `json:"isSubtype"`
	KeyPrefix           string              `json:"keyPrefix"`
	Label               string              `json:"label"`
	LabelPlural         string              `json:"labelPlural"`
	Layoutable          bool                `json:"layoutable"`
	Listviewable        *bool               `json:"listviewable"`
	LookupLayoutable    *bool               `json:"lookupLayoutable"`
	Mergeable           bool                `json:"mergeable"`
	MruEnabled          bool                `json:"mruEnabled"`
	Name                string              `json:"name"`
	NamedLayoutInfos    []any               `json:"namedLayoutInfos"`
	NetworkScopeField   *string             `json:"networkScopeFieldName"`
	Queryable           bool                `json:"queryable"`
	RecordTypeInfos     []recordTypeInfo    `json:"recordTypeInfos"`
	Replicateable       bool                `json:"replicateable"`
	Retrieveable        bool                `json:"retrieveable"`
	SearchLayoutable    bool                `json:"searchLayoutable"`
	Searchable          bool                `json:"searchable"`
	SupportedScopes     []map[string]string `json:"supportedScopes"`
	Triggerable         bool                `json:"triggerable"`
	Undeletable         bool                `json:"undeletable"`
	Updateable          bool                `json:"updateable"`
	URLs                map[string]string   `json:"urls"`
}

// describe builds the full describe of o; d.mu must be held.
func (d *db) describe(o *objectDef, version string) fullDescribe {
	g := globalDescribe(o, version)
	out := fullDescribe{ActionOverrides: []any{}, Createable: o.Createable, Custom: o.Custom, Deletable: o.Deletable,
		FeedEnabled: g.FeedEnabled, KeyPrefix: o.KeyPrefix, Label: o.Label, LabelPlural: o.LabelPlural, Layoutable: true,
		Mergeable: g.Mergeable, MruEnabled: true, Name: o.Name, NamedLayoutInfos: []any{}, Queryable: true,
		Replicateable: true, Retrieveable: true, SearchLayoutable: true, Searchable: true, Triggerable: true,
		Undeletable: o.Deletable, Updateable: o.Updateable, CompactLayoutable: true,
		SupportedScopes: []map[string]string{{"label": "All " + o.LabelPlural, "name": "everything"}},
		URLs: map[string]string{"sobject": g.URLs.SObject, "describe": g.URLs.Describe, "rowTemplate": g.URLs.RowTemplate,
			"compactLayouts": g.URLs.SObject + "/describe/compactLayouts", "layouts": g.URLs.SObject + "/describe/layouts"},
		ChildRelationships: []childRelationship{}, RecordTypeInfos: []recordTypeInfo{}}
	for _, f := range o.Fields {
		out.Fields = append(out.Fields, describeField(f))
	}
	for _, c := range d.sch.childRelationships(o.Name) {
		name := c.Name
		out.ChildRelationships = append(out.ChildRelationships, childRelationship{CascadeDelete: c.Cascade, ChildSObject: c.Child,
			Field: c.Field, JunctionIDListNames: []string{}, JunctionReferenceTo: []string{}, RelationshipName: &name})
	}
	master := recordTypeInfo{Active: true, Available: true, DefaultRecordTypeMapping: true, DeveloperName: "Master", Master: true,
		Name: "Master", RecordTypeID: "012000000000000AAA"}
	rts := d.tables["RecordType"]
	if rts != nil {
		for _, r := range rts.rows {
			if r["SobjectType"] != o.Name || r["IsDeleted"] == true {
				continue
			}
			id := r["Id"].(string)
			out.RecordTypeInfos = append(out.RecordTypeInfos, recordTypeInfo{Active: r["IsActive"] == true, Available: true,
				DeveloperName: strOr(r["DeveloperName"]), Name: strOr(r["Name"]), RecordTypeID: id,
				URLs: map[string]string{"layout": g.URLs.SObject + "/describe/layouts/" + id}})
		}
	}
	if len(out.RecordTypeInfos) > 0 {
		master.DefaultRecordTypeMapping = false
	}
	master.URLs = map[string]string{"layout": g.URLs.SObject + "/describe/layouts/012000000000000AAA"}
	out.RecordTypeInfos = append(out.RecordTypeInfos, master)
	return out
}
