package connector

import "strings"

// FieldType is a field's type, named as Salesforce's describe names it
// (soap types collapsed to what a sync needs). Local stores map their column
// types onto the same set.
type FieldType string

// Field types.
const (
	TypeString        FieldType = "string"        // text with a maximum Length
	TypeTextArea      FieldType = "textarea"      // long text
	TypePicklist      FieldType = "picklist"      // one of Picklist
	TypeMultiPicklist FieldType = "multipicklist" // a set of Picklist values
	TypeBoolean       FieldType = "boolean"       // checkbox: never null
	TypeInt           FieldType = "int"           // whole number
	TypeDouble        FieldType = "double"        // decimal with Precision and Scale
	TypeCurrency      FieldType = "currency"      // decimal with Precision and Scale
	TypePercent       FieldType = "percent"       // decimal with Precision and Scale
	TypeDate          FieldType = "date"          // civil date
	TypeDateTime      FieldType = "datetime"      // UTC instant, whole seconds
	TypeID            FieldType = "id"            // a record Id
	TypeReference     FieldType = "reference"     // an Id of a record of ReferenceTo
	TypeEmail         FieldType = "email"
	TypePhone         FieldType = "phone"
	TypeURL           FieldType = "url"
)

// ValueKind returns the kind of Value a field of type t holds.
func (t FieldType) ValueKind() Kind {
	switch t {
	case TypeBoolean:
		return KindBool
	case TypeInt, TypeDouble, TypeCurrency, TypePercent:
		return KindNumber
	case TypeDate:
		return KindDate
	case TypeDateTime:
		return KindDateTime
	case TypeMultiPicklist:
		return KindMulti
	}
	return KindText
}

// Known reports whether t is one of the declared field types.
func (t FieldType) Known() bool {
	switch t {
	case TypeString, TypeTextArea, TypePicklist, TypeMultiPicklist, TypeBoolean,
		TypeInt, TypeDouble, TypeCurrency, TypePercent, TypeDate, TypeDateTime,
		TypeID, TypeReference, TypeEmail, TypePhone, TypeURL:
		return true
	}
	return false
}

// Field describes one field (column) of an object.
type Field struct {
	Name  string
	Label string
	Type  FieldType
	// Length is the maximum length in characters of a text field; 0 means
	// no limit is known.
	Length int
	// Precision and Scale bound a number: Scale digits after the point.
	Precision int
	Scale     int
	Nillable  bool
	// Defaulted means the store fills the field on create when a write
	// leaves it out (Salesforce's defaultedOnCreate: OwnerId, a column
	// DEFAULT): a required field that need not be written.
	Defaulted bool
	// Createable and Updateable say whether a write may set the field.
	Createable bool
	Updateable bool
	// ExternalID marks a field that identifies records across systems;
	// Unique that no two records share a value. CaseSensitive applies to
	// unique and external id fields: Salesforce compares them
	// case-insensitively unless the field is marked case-sensitive.
	ExternalID    bool
	Unique        bool
	CaseSensitive bool
	// Picklist lists the allowed values of a picklist or multi-select
	// field (for Salesforce, the object's master list: record types may
	// allow fewer). Restricted means other values are rejected.
	Picklist   []string
	Restricted bool
	// ReferenceTo names the objects a reference field points at, and
	// Relationship its relationship name (vcms__Case__r).
	ReferenceTo  []string
	Relationship string
	// Calculated marks formula and roll-up fields: read-only, and they can
	// change without the record's modification time moving.
	Calculated bool
}

// Writable reports whether a write may set the field, on create or update.
func (f *Field) Writable(create bool) bool {
	if create {
		return f.Createable
	}
	return f.Updateable
}

// HasPicklistValue reports whether v is one of f's picklist values
// (compared exactly, as Salesforce stores API names).
func (f *Field) HasPicklistValue(v string) bool {
	for _, p := range f.Picklist {
		if p == v {
			return true
		}
	}
	return false
}

// Object describes one object: a Salesforce sObject, a sheet, a table.
type Object struct {
	Name  string
	Label string
	// Key is the name of the field whose value is a record's Key.
	Key string
	// Modified names the field holding a record's modification time, if
	// the object has one ("" otherwise).
	Modified string
	Fields   []Field
}

// Field returns the named field, matched exactly first and then
// case-insensitively (Salesforce field names are case-insensitive), or nil.
func (o *Object) Field(name string) *Field {
	for i := range o.Fields {
		if o.Fields[i].Name == name {
			return &o.Fields[i]
		}
	}
	for i := range o.Fields {
		if strings.EqualFold(o.Fields[i].Name, name) {
			return &o.Fields[i]
		}
	}
	return nil
}

// KeyField returns the description of the key field, or nil if the object
// declares none.
func (o *Object) KeyField() *Field {
	if o.Key == "" {
		return nil
	}
	return o.Field(o.Key)
}

// KeyID returns the comparison form of key under this object's key field:
// case-folded unless the key field is case-sensitive.
func (o *Object) KeyID(key string) string {
	kf := o.KeyField()
	return KeyID(key, kf != nil && kf.CaseSensitive)
}

// FieldNames returns the names of o's fields in order.
func (o *Object) FieldNames() []string {
	names := make([]string, len(o.Fields))
	for i := range o.Fields {
		names[i] = o.Fields[i].Name
	}
	return names
}

// Schema is a set of object descriptions.
type Schema struct {
	Objects []*Object
}

// Object returns the named object (matched case-insensitively), or nil.
func (s *Schema) Object(name string) *Object {
	for _, o := range s.Objects {
		if o.Name == name {
			return o
		}
	}
	for _, o := range s.Objects {
		if strings.EqualFold(o.Name, name) {
			return o
		}
	}
	return nil
}
