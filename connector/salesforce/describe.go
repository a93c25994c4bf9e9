package salesforce

import (
	"context"
	"fmt"
	"slices"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// fieldType maps a describe type to a connector.FieldType. ok is false for
// types a sync does not carry (compound address/location, base64, anyType,
// complexvalue, ...); those fields are left out of the Object.
func fieldType(t string) (connector.FieldType, bool) {
	switch t {
	case "string", "encryptedstring", "time":
		return connector.TypeString, true
	case "textarea":
		return connector.TypeTextArea, true
	case "picklist", "combobox":
		return connector.TypePicklist, true
	case "multipicklist":
		return connector.TypeMultiPicklist, true
	case "boolean":
		return connector.TypeBoolean, true
	case "int", "long":
		return connector.TypeInt, true
	case "double":
		return connector.TypeDouble, true
	case "currency":
		return connector.TypeCurrency, true
	case "percent":
		return connector.TypePercent, true
	case "date":
		return connector.TypeDate, true
	case "datetime":
		return connector.TypeDateTime, true
	case "id":
		return connector.TypeID, true
	case "reference":
		return connector.TypeReference, true
	case "email":
		return connector.TypeEmail, true
	case "phone":
		return connector.TypePhone, true
	case "url":
		return connector.TypeURL, true
	}
	return "", false
}

// toObject converts a describe result. key names the key field (it falls
// back to Id when the object lacks it).
func toObject(d *api.SObjectDescribe, key string) *connector.Object {
	o := &connector.Object{Name: d.Name, Label: d.Label}
	for i := range d.Fields {
		df := &d.Fields[i]
		t, ok := fieldType(df.Type)
		if !ok {
			continue
		}
		f := connector.Field{
			Name:          df.Name,
			Label:         df.Label,
			Type:          t,
			Nillable:      df.Nillable,
			Defaulted:     df.DefaultedOnCreate,
			Createable:    df.Createable,
			Updateable:    df.Updateable,
			ExternalID:    df.ExternalID,
			Unique:        df.Unique,
			CaseSensitive: df.CaseSensitive,
			Calculated:    df.Calculated || df.AutoNumber,
			ReferenceTo:   slices.Clone(df.ReferenceTo),
			Relationship:  df.RelationshipName,
		}
		switch t.ValueKind() {
		case connector.KindNumber:
			f.Precision, f.Scale = df.Precision, df.Scale
			if t == connector.TypeInt {
				f.Precision, f.Scale = df.Digits, 0
			}
		case connector.KindText, connector.KindMulti:
			if t != connector.TypeID && t != connector.TypeReference {
				f.Length = df.Length
			}
		}
		if t == connector.TypePicklist || t == connector.TypeMultiPicklist {
			for _, p := range df.PicklistValues {
				if p.Active {
					f.Picklist = append(f.Picklist, p.Value)
				}
			}
			f.Restricted = df.RestrictedPicklist
		}
		if df.Type == "id" {
			// Salesforce Ids compare case-sensitively (15-character form).
			f.CaseSensitive = true
		}
		o.Fields = append(o.Fields, f)
	}
	o.Key = "Id"
	if f := o.Field(key); f != nil {
		o.Key = f.Name
	}
	if o.Field("SystemModstamp") != nil {
		o.Modified = "SystemModstamp"
	}
	return o
}

// describe returns the cached description of object, fetching it once per
// connector. The returned Object is shared: callers must not modify it.
func (c *Connector) describe(ctx context.Context, object string) (*connector.Object, error) {
	if err := checkName(object); err != nil {
		return nil, fmt.Errorf("describe %s %s: %w", c.name, "object", connector.ErrObjectNotFound)
	}
	c.mu.Lock()
	o, ok := c.objects[object]
	c.mu.Unlock()
	if ok {
		return o, nil
	}
	var d api.SObjectDescribe
	err := c.cl.do(ctx, request{op: "describe", object: object, method: "GET", path: c.cl.dataPath("sobjects", object, "describe"), retrySafe: true}, &d)
	if err != nil {
		if ae, ok := err.(*APIError); ok && ae.Status == 404 {
			return nil, fmt.Errorf("describe %s %s: %w (%w)", c.name, object, connector.ErrObjectNotFound, ae)
		}
		return nil, err
	}
	if d.Name == "" || len(d.Fields) == 0 {
		return nil, &APIError{Op: "describe", Object: object, Status: 200, Malformed: true, Message: "describe result without name or fields"}
	}
	o = toObject(&d, c.keyField(d.Name))
	c.mu.Lock()
	c.objects[object] = o
	c.mu.Unlock()
	return o, nil
}

// Describe implements connector.Describer. The result is the connector's
// Object for the sObject (cached per connector), copied.
func (c *Connector) Describe(ctx context.Context, object string) (*connector.Object, error) {
	o, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	d := *o
	d.Fields = slices.Clone(o.Fields)
	for i := range d.Fields {
		d.Fields[i].Picklist = slices.Clone(d.Fields[i].Picklist)
		d.Fields[i].ReferenceTo = slices.Clone(d.Fields[i].ReferenceTo)
	}
	return &d, nil
}

// ForgetDescribes drops the describe cache, so that the next call describes
// each object again (a daemon calls it at the start of each run, to see
// fields added to the org since), and the record of where conditions
// checked (a condition on a field removed since is reported as such).
func (c *Connector) ForgetDescribes() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects = map[string]*connector.Object{}
	c.validWhere = nil
}
