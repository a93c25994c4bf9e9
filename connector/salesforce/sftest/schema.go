package sftest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/casebridge/casebridge/fixtures"
)

// seedFile is the shape of fixtures/org/seed.json.
type seedFile struct {
	OrganizationID string       `json:"organizationId"`
	Objects        []seedObject `json:"objects"`
	SeedTime       string       `json:"seedTime"`
	Records        []seedRecord `json:"records"`
}

type seedObject struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	LabelPlural string `json:"labelPlural"`
	KeyPrefix   string `json:"keyPrefix"`
	Custom      bool   `json:"custom"`
	NoOwner     bool   `json:"noOwner"`
	NoIsDeleted bool   `json:"noIsDeleted"`
	NameField   struct {
		Label      string `json:"label"`
		Length     int    `json:"length"`
		AutoNumber string `json:"autoNumber"`
		Calculated bool   `json:"calculated"`
	} `json:"nameField"`
	RecordTypes []string    `json:"recordTypes"`
	Fields      []seedField `json:"fields"`
}

type seedField struct {
	Name                  string   `json:"name"`
	Label                 string   `json:"label"`
	Type                  string   `json:"type"`
	Length                int      `json:"length"`
	Precision             int      `json:"precision"`
	Scale                 int      `json:"scale"`
	Values                []string `json:"values"`
	Default               string   `json:"default"`
	Required              bool     `json:"required"`
	ExternalID            bool     `json:"externalId"`
	Unique                bool     `json:"unique"`
	IDLookup              bool     `json:"idLookup"`
	ReferenceTo           string   `json:"referenceTo"`
	RelationshipName      string   `json:"relationshipName"`
	ChildRelationshipName string   `json:"childRelationshipName"`
	MasterDetail          bool     `json:"masterDetail"`
	Calculated            bool     `json:"calculated"`
	Formula               string   `json:"formula"`
	Long                  bool     `json:"long"`
	Standard              bool     `json:"standard"`
}

type seedRecord struct {
	Type       string          `json:"type"`
	RecordType string          `json:"recordType"`
	Fields     json.RawMessage `json:"fields"`
}

// fieldDef is one field of an sObject, in the terms of describe.
type fieldDef struct {
	obj                   *sobject
	Name                  string
	Label                 string
	Type                  string // describe type: id, string, textarea, picklist, ...
	Length                int
	Precision             int
	Scale                 int
	Values                []string
	Unrestricted          bool // a picklist that takes values beyond Values
	Default               string
	Nillable              bool
	Createable            bool
	Updateable            bool
	DefaultedOnCreate     bool
	ExternalID            bool
	Unique                bool
	IDLookup              bool
	ReferenceTo           []string
	RelationshipName      string
	ChildRelationshipName string
	MasterDetail          bool
	Calculated            bool
	Formula               string
	AutoNumber            string
	NameField             bool
	Custom                bool
	Long                  bool
	Polymorphic           bool
}

type recordType struct {
	ID, DeveloperName, Name string
	Master, Default         bool
}

type childRel struct {
	child *sobject
	field *fieldDef
}

// sobject is one object of the org's schema.
type sobject struct {
	Name, Label, LabelPlural, KeyPrefix string
	Custom                              bool
	Fields                              []*fieldDef
	RecordTypes                         []recordType
	byName                              map[string]*fieldDef // lower-case name
	byRel                               map[string]*fieldDef // lower-case relationship name
	children                            []childRel
	autoNumber                          int
}

func (s *sobject) field(name string) *fieldDef { return s.byName[strings.ToLower(name)] }

func (s *sobject) defaultRecordType() string {
	for _, rt := range s.RecordTypes {
		if rt.Default {
			return rt.ID
		}
	}
	return ""
}

// loadSeed reads and expands the embedded seed.
func loadSeed() (*seedFile, error) {
	b, err := fixtures.Org.ReadFile(fixtures.OrgSeedPath)
	if err != nil {
		return nil, err
	}
	var s seedFile
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("sftest: seed: %w", err)
	}
	return &s, nil
}

func defaultLabel(api string) string {
	s := strings.TrimPrefix(api, "vcms__")
	s = strings.TrimSuffix(s, "__c")
	return strings.ReplaceAll(s, "_", " ")
}

func picklistLabel(v string) string { return strings.ReplaceAll(v, "_", " ") }

// buildSchema expands the compact seed metadata into full sObject definitions.
func buildSchema(seed *seedFile) (map[string]*sobject, []*sobject, error) {
	objs := map[string]*sobject{}
	var order []*sobject
	for _, so := range seed.Objects {
		o := &sobject{Name: so.Name, Label: so.Label, LabelPlural: so.LabelPlural, KeyPrefix: so.KeyPrefix, Custom: so.Custom,
			byName: map[string]*fieldDef{}, byRel: map[string]*fieldDef{}}
		add := func(f *fieldDef) {
			f.obj = o
			o.Fields = append(o.Fields, f)
		}
		hasMaster := false
		for _, f := range so.Fields {
			if f.MasterDetail {
				hasMaster = true
			}
		}
		add(&fieldDef{Name: "Id", Label: "Record ID", Type: "id", Length: 18, DefaultedOnCreate: true, IDLookup: true})
		if !so.NoOwner && !hasMaster {
			add(&fieldDef{Name: "OwnerId", Label: "Owner ID", Type: "reference", Length: 18, Createable: true, Updateable: true,
				DefaultedOnCreate: true, ReferenceTo: []string{"Group", "User"}, RelationshipName: "Owner", Polymorphic: true})
		}
		if !so.NoIsDeleted {
			add(&fieldDef{Name: "IsDeleted", Label: "Deleted", Type: "boolean", DefaultedOnCreate: true})
		}
		nf := &fieldDef{Name: "Name", Label: so.NameField.Label, Type: "string", Length: 80, NameField: true, IDLookup: true}
		switch {
		case so.NameField.AutoNumber != "":
			nf.AutoNumber = so.NameField.AutoNumber
			nf.DefaultedOnCreate = true
		case so.NameField.Calculated:
			nf.Length = so.NameField.Length
		default:
			nf.Length = so.NameField.Length
			nf.Createable, nf.Updateable = true, true
		}
		add(nf)
		if len(so.RecordTypes) > 0 {
			add(&fieldDef{Name: "RecordTypeId", Label: "Record Type ID", Type: "reference", Length: 18, Nillable: true,
				Createable: true, Updateable: true, ReferenceTo: []string{"RecordType"}, RelationshipName: "RecordType"})
			o.RecordTypes = append(o.RecordTypes, recordType{ID: makeID("012", 1), DeveloperName: "Master", Name: "Master", Master: true})
			for i, rt := range so.RecordTypes {
				o.RecordTypes = append(o.RecordTypes, recordType{ID: makeID("012", len(objs)*20+i+2), DeveloperName: rt, Name: picklistLabel(rt), Default: i == 0})
			}
		}
		add(&fieldDef{Name: "CreatedDate", Label: "Created Date", Type: "datetime", DefaultedOnCreate: true})
		add(&fieldDef{Name: "CreatedById", Label: "Created By ID", Type: "reference", Length: 18, DefaultedOnCreate: true, ReferenceTo: []string{"User"}, RelationshipName: "CreatedBy"})
		add(&fieldDef{Name: "LastModifiedDate", Label: "Last Modified Date", Type: "datetime", DefaultedOnCreate: true})
		add(&fieldDef{Name: "LastModifiedById", Label: "Last Modified By ID", Type: "reference", Length: 18, DefaultedOnCreate: true, ReferenceTo: []string{"User"}, RelationshipName: "LastModifiedBy"})
		add(&fieldDef{Name: "SystemModstamp", Label: "System Modstamp", Type: "datetime", DefaultedOnCreate: true})
		for _, sf := range so.Fields {
			f := &fieldDef{Name: sf.Name, Label: sf.Label, Type: sf.Type, Length: sf.Length, Precision: sf.Precision, Scale: sf.Scale,
				Values: sf.Values, Default: sf.Default, ExternalID: sf.ExternalID, Unique: sf.Unique, IDLookup: sf.IDLookup || sf.ExternalID,
				RelationshipName: sf.RelationshipName, ChildRelationshipName: sf.ChildRelationshipName, MasterDetail: sf.MasterDetail,
				Calculated: sf.Calculated, Formula: sf.Formula, Long: sf.Long, Custom: !sf.Standard && strings.HasSuffix(sf.Name, "__c")}
			if f.Label == "" {
				f.Label = defaultLabel(sf.Name)
			}
			if sf.ReferenceTo != "" {
				f.ReferenceTo = []string{sf.ReferenceTo}
				f.Length = 18
			}
			switch f.Type {
			case "picklist":
				f.Length = 255
			case "multipicklist":
				f.Length = 4099
			case "phone":
				f.Length = 40
			case "email":
				if f.Length == 0 {
					f.Length = 80
				}
			}
			f.Nillable = !sf.Required && !sf.MasterDetail && f.Type != "boolean"
			if !f.Calculated {
				f.Createable, f.Updateable = true, true
			}
			if f.Type == "boolean" || f.Default != "" {
				f.DefaultedOnCreate = true
			}
			add(f)
		}
		for _, f := range o.Fields {
			o.byName[strings.ToLower(f.Name)] = f
			if f.RelationshipName != "" {
				o.byRel[strings.ToLower(f.RelationshipName)] = f
			}
		}
		objs[strings.ToLower(o.Name)] = o
		order = append(order, o)
	}
	// Child relationships, in the order the children were declared.
	for _, o := range order {
		for _, f := range o.Fields {
			if f.ChildRelationshipName == "" {
				continue
			}
			p := objs[strings.ToLower(f.ReferenceTo[0])]
			if p == nil {
				return nil, nil, fmt.Errorf("sftest: seed: %s.%s refers to unknown object %s", o.Name, f.Name, f.ReferenceTo[0])
			}
			p.children = append(p.children, childRel{child: o, field: f})
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].Name < order[j].Name })
	return objs, order, nil
}

// required reports whether a create must carry the field.
func (f *fieldDef) required() bool {
	return !f.Nillable && f.Createable && !f.DefaultedOnCreate
}

func (f *fieldDef) isNumber() bool {
	return f.Type == "double" || f.Type == "currency" || f.Type == "percent" || f.Type == "int"
}

func (f *fieldDef) isText() bool {
	switch f.Type {
	case "string", "textarea", "picklist", "multipicklist", "phone", "email", "url", "combobox":
		return true
	}
	return false
}

func (f *fieldDef) soapType() string {
	switch f.Type {
	case "id", "reference":
		return "tns:ID"
	case "boolean":
		return "xsd:boolean"
	case "date":
		return "xsd:date"
	case "datetime":
		return "xsd:dateTime"
	case "double", "currency", "percent":
		return "xsd:double"
	case "int":
		return "xsd:int"
	}
	return "xsd:string"
}

func (f *fieldDef) byteLength() int {
	switch f.Type {
	case "id", "reference":
		return 18
	}
	if f.isText() {
		return f.Length * 3
	}
	return 0
}

// describeField renders the full describe Field result; encoding/json
// sorts the keys alphabetically, as Salesforce does.
func (f *fieldDef) describeField() map[string]any {
	var extra any
	if f.Type == "textarea" {
		extra = "plaintextarea"
	}
	picks := []any{}
	for _, v := range f.Values {
		picks = append(picks, map[string]any{"active": true, "defaultValue": f.Default == v,
			"label": picklistLabel(v), "validFor": nil, "value": v})
	}
	refs := f.ReferenceTo
	if refs == nil {
		refs = []string{}
	}
	var relName, relOrder any
	if f.RelationshipName != "" {
		relName = f.RelationshipName
	}
	if f.MasterDetail {
		relOrder = 0
	}
	var formula any
	if f.Formula != "" {
		formula = f.Formula
	}
	var dflt any
	if f.Type == "boolean" {
		dflt = false
	}
	filterable := !f.Long
	groupable := !f.Long && f.Type != "double" && f.Type != "currency" && f.Type != "percent" && f.Type != "datetime" && f.Type != "multipicklist"
	sortable := !f.Long && f.Type != "multipicklist"
	aggregatable := !f.Long && f.Type != "multipicklist" && f.Type != "boolean"
	return map[string]any{
		"aggregatable":                 aggregatable,
		"aiPredictionField":            false,
		"autoNumber":                   f.AutoNumber != "",
		"byteLength":                   f.byteLength(),
		"calculated":                   f.Calculated,
		"calculatedFormula":            formula,
		"cascadeDelete":                f.MasterDetail,
		"caseSensitive":                false,
		"compoundFieldName":            nil,
		"controllerName":               nil,
		"createable":                   f.Createable,
		"custom":                       f.Custom,
		"defaultValue":                 dflt,
		"defaultValueFormula":          nil,
		"defaultedOnCreate":            f.DefaultedOnCreate,
		"dependentPicklist":            false,
		"deprecatedAndHidden":          false,
		"digits":                       0,
		"displayLocationInDecimal":     false,
		"encrypted":                    false,
		"externalId":                   f.ExternalID,
		"extraTypeInfo":                extra,
		"filterable":                   filterable,
		"filteredLookupInfo":           nil,
		"formulaTreatNullNumberAsZero": false,
		"groupable":                    groupable,
		"highScaleNumber":              false,
		"htmlFormatted":                false,
		"idLookup":                     f.IDLookup,
		"inlineHelpText":               nil,
		"label":                        f.Label,
		"length":                       f.Length,
		"mask":                         nil,
		"maskType":                     nil,
		"name":                         f.Name,
		"nameField":                    f.NameField,
		"namePointing":                 f.Polymorphic,
		"nillable":                     f.Nillable,
		"permissionable":               f.Custom && f.Nillable,
		"picklistValues":               picks,
		"polymorphicForeignKey":        f.Polymorphic,
		"precision":                    f.Precision,
		"queryByDistance":              false,
		"referenceTargetField":         nil,
		"referenceTo":                  refs,
		"relationshipName":             relName,
		"relationshipOrder":            relOrder,
		"restrictedDelete":             false,
		"restrictedPicklist":           len(f.Values) > 0 && !f.Unrestricted,
		"scale":                        f.Scale,
		"searchPrefilterable":          f.Type == "reference",
		"soapType":                     f.soapType(),
		"sortable":                     sortable,
		"type":                         f.Type,
		"unique":                       f.Unique,
		"updateable":                   f.Updateable,
		"writeRequiresMasterRead":      false,
	}
}

func (o *Org) objectURLs(s *sobject) map[string]any {
	base := o.dataPath() + "/sobjects/" + s.Name
	return map[string]any{
		"compactLayouts": base + "/describe/compactLayouts",
		"rowTemplate":    base + "/{ID}",
		"defaultValues":  base + "/defaultValues?recordTypeId&fields",
		"describe":       base + "/describe",
		"sobject":        base,
		"listviews":      base + "/listviews",
		"layouts":        base + "/describe/layouts",
		"quickActions":   base + "/quickActions",
	}
}

func (o *Org) globalEntry(s *sobject) map[string]any {
	return map[string]any{
		"activateable":          false,
		"associateEntityType":   nil,
		"associateParentEntity": nil,
		"createable":            true,
		"custom":                s.Custom,
		"customSetting":         false,
		"deepCloneable":         false,
		"deletable":             true,
		"deprecatedAndHidden":   false,
		"feedEnabled":           false,
		"hasSubtypes":           false,
		"isInterface":           false,
		"isSubtype":             false,
		"keyPrefix":             s.KeyPrefix,
		"label":                 s.Label,
		"labelPlural":           s.LabelPlural,
		"layoutable":            true,
		"mergeable":             s.Name == "Account",
		"mruEnabled":            true,
		"name":                  s.Name,
		"queryable":             true,
		"replicateable":         true,
		"retrieveable":          true,
		"searchable":            true,
		"triggerable":           true,
		"undeletable":           s.Name != "User",
		"updateable":            true,
		"urls":                  o.objectURLs(s),
	}
}

func (o *Org) describeObject(s *sobject) map[string]any {
	d := o.globalEntry(s)
	fields := make([]any, 0, len(s.Fields))
	for _, f := range s.Fields {
		fields = append(fields, f.describeField())
	}
	children := []any{}
	for _, c := range s.children {
		children = append(children, map[string]any{
			"cascadeDelete":       c.field.MasterDetail,
			"childSObject":        c.child.Name,
			"deprecatedAndHidden": false,
			"field":               c.field.Name,
			"junctionIdListNames": []any{},
			"junctionReferenceTo": []any{},
			"relationshipName":    c.field.ChildRelationshipName,
			"restrictedDelete":    false,
		})
	}
	rts := []any{}
	for _, rt := range s.RecordTypes {
		rts = append(rts, map[string]any{
			"active":                   true,
			"available":                true,
			"defaultRecordTypeMapping": rt.Default,
			"developerName":            rt.DeveloperName,
			"master":                   rt.Master,
			"name":                     rt.Name,
			"recordTypeId":             rt.ID,
			"urls":                     map[string]any{"layout": o.dataPath() + "/sobjects/" + s.Name + "/describe/layouts/" + rt.ID},
		})
	}
	if len(rts) == 0 {
		rt := makeID("012", 1)
		rts = append(rts, map[string]any{"active": true, "available": true, "defaultRecordTypeMapping": true,
			"developerName": "Master", "master": true, "name": "Master", "recordTypeId": rt,
			"urls": map[string]any{"layout": o.dataPath() + "/sobjects/" + s.Name + "/describe/layouts/" + rt}})
	}
	d["actionOverrides"] = []any{}
	d["childRelationships"] = children
	d["compactLayoutable"] = true
	d["defaultImplementation"] = nil
	d["extendedBy"] = nil
	d["extendsInterfaces"] = nil
	d["fields"] = fields
	d["implementedBy"] = nil
	d["implementsInterfaces"] = nil
	d["listviewable"] = nil
	d["lookupLayoutable"] = nil
	d["namedLayoutInfos"] = []any{}
	d["networkScopeFieldName"] = nil
	d["recordTypeInfos"] = rts
	d["searchLayoutable"] = true
	d["supportedScopes"] = []any{map[string]any{"label": "All " + strings.ToLower(s.LabelPlural), "name": "everything"}}
	return d
}
