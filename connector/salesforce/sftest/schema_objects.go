package sftest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/connector"
)

// standardPrefixes are the key prefixes Salesforce gives its standard
// objects; an object of Options.Schema not listed here gets a custom
// object's prefix (a0A, a0B, ...).
var standardPrefixes = map[string]string{
	"account": "001", "contact": "003", "opportunity": "006", "lead": "00Q",
	"case": "500", "task": "00T", "event": "00U", "campaign": "701",
	"contract": "800", "user": "005", "group": "00G", "recordtype": "012",
}

// schemaObjects turns the objects of Options.Schema into the org's
// schema, beside the built-in User object (logins need it: a User of the
// given schema is left out). Each object's fields are taken as described,
// standard fields included; what a description does not say is filled in
// as Salesforce does: ids and relationship targets are the org's, a Name
// field that is calculated and not createable is an auto-number.
func schemaObjects(schema []*connector.Object, user *sobject) (map[string]*sobject, []*sobject, error) {
	objs := map[string]*sobject{"user": user}
	order := []*sobject{user}
	used := map[string]bool{user.KeyPrefix: true}
	for _, so := range schema {
		if so == nil || strings.EqualFold(so.Name, "User") {
			continue
		}
		if so.Name == "" || objs[strings.ToLower(so.Name)] != nil {
			return nil, nil, fmt.Errorf("sftest: schema: object %q is unnamed or given twice", so.Name)
		}
		if so.Field("Id") == nil {
			return nil, nil, fmt.Errorf("sftest: schema: object %s has no Id field", so.Name)
		}
		label := so.Label
		if label == "" {
			label = so.Name
		}
		o := &sobject{Name: so.Name, Label: label, LabelPlural: label, Custom: strings.HasSuffix(so.Name, "__c"),
			byName: map[string]*fieldDef{}, byRel: map[string]*fieldDef{}}
		o.KeyPrefix = standardPrefixes[strings.ToLower(so.Name)]
		for i := 10; o.KeyPrefix == "" || used[o.KeyPrefix]; i++ {
			o.KeyPrefix = "a" + string(idAlphabet[i/62%62]) + string(idAlphabet[i%62])
		}
		used[o.KeyPrefix] = true
		for _, sf := range so.Fields {
			if o.field(sf.Name) != nil {
				return nil, nil, fmt.Errorf("sftest: schema: %s.%s given twice", so.Name, sf.Name)
			}
			f := &fieldDef{obj: o, Name: sf.Name, Label: sf.Label, Type: string(sf.Type), Length: sf.Length,
				Precision: sf.Precision, Scale: sf.Scale, Values: slices.Clone(sf.Picklist), Unrestricted: !sf.Restricted,
				Nillable: sf.Nillable, Createable: sf.Createable, Updateable: sf.Updateable, DefaultedOnCreate: sf.Defaulted,
				ExternalID: sf.ExternalID, Unique: sf.Unique, IDLookup: sf.ExternalID || sf.Unique || sf.Name == "Id" || sf.Name == "Name",
				ReferenceTo: slices.Clone(sf.ReferenceTo), RelationshipName: sf.Relationship, Calculated: sf.Calculated,
				NameField: sf.Name == "Name", Custom: strings.HasSuffix(sf.Name, "__c"), Polymorphic: len(sf.ReferenceTo) > 1}
			if f.Label == "" {
				f.Label = f.Name
			}
			switch f.Type {
			case "id", "reference":
				f.Length = 18
			case "int":
				f.Precision, f.Scale = 0, 0
			}
			if f.NameField && f.Calculated && !f.Createable {
				f.Calculated, f.AutoNumber, f.DefaultedOnCreate = false, "{000000}", true
			}
			o.Fields = append(o.Fields, f)
			o.byName[strings.ToLower(f.Name)] = f
			if f.RelationshipName != "" {
				o.byRel[strings.ToLower(f.RelationshipName)] = f
			}
		}
		objs[strings.ToLower(o.Name)] = o
		order = append(order, o)
	}
	slices.SortStableFunc(order, func(a, b *sobject) int { return strings.Compare(a.Name, b.Name) })
	return objs, order, nil
}
