package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	if !ok {
		var d api.SObjectDescribe
		err := c.cl.do(ctx, request{op: "describe", object: object, method: "GET", path: c.describePath(object), retrySafe: true}, &d)
		if err != nil {
			return nil, c.describeError(object, err)
		}
		if o, err = c.keepDescribe(object, &d); err != nil {
			return nil, err
		}
	}
	c.ensurePath(ctx, o)
	return o, nil
}

func (c *Connector) describePath(object string) string {
	return c.cl.dataPath("sobjects", object, "describe")
}

// describeError is how a failed describe of object is reported: a 404 is
// connector.ErrObjectNotFound (the APIError kept for its code).
func (c *Connector) describeError(object string, err error) error {
	if ae, ok := err.(*APIError); ok && ae.Status == 404 {
		return fmt.Errorf("describe %s %s: %w (%w)", c.name, object, connector.ErrObjectNotFound, ae)
	}
	return err
}

// keepDescribe checks a describe result of object and caches it.
func (c *Connector) keepDescribe(object string, d *api.SObjectDescribe) (*connector.Object, error) {
	if d.Name == "" || len(d.Fields) == 0 {
		return nil, &APIError{Op: "describe", Object: object, Status: 200, Malformed: true, Message: "describe result without name or fields"}
	}
	o := toObject(d, c.keyField(d.Name))
	if _, ok := c.parentKeyOf(d.Name); ok {
		addParentKey(o)
	}
	c.mu.Lock()
	c.objects[object] = o
	c.mu.Unlock()
	return o, nil
}

// maxSubrequests is the Composite API's limit of subrequests per call.
const maxSubrequests = 25

// DescribeAll fills the describe cache with the objects it lacks in one
// API call per 25 objects: POST /composite (allOrNone false) of GET
// sobjects/{Object}/describe subrequests, which Salesforce counts as one
// request. A runner calls it at the start of a run with every object the
// run may describe, so that the describes that follow cost nothing. A
// single object is described by itself (one call either way). The error
// joins each object's failure as Describe reports it (an unknown object
// wraps connector.ErrObjectNotFound), or is the failure of the whole
// call; failures are not cached, a later Describe asks again.
func (c *Connector) DescribeAll(ctx context.Context, objects []string) error {
	var todo []string
	var errs []error
	c.mu.Lock()
	for _, n := range objects {
		if _, ok := c.objects[n]; ok || slices.Contains(todo, n) {
			continue
		}
		if checkName(n) != nil {
			continue // describe refuses it without a call, below
		}
		todo = append(todo, n)
	}
	c.mu.Unlock()
	for _, n := range objects {
		if checkName(n) != nil {
			_, err := c.describe(ctx, n)
			errs = append(errs, err)
		}
	}
	if len(todo) == 1 {
		_, err := c.describe(ctx, todo[0])
		return errors.Join(append(errs, err)...)
	}
	for chunk := range slices.Chunk(todo, maxSubrequests) {
		errs = append(errs, c.describeComposite(ctx, chunk)...)
	}
	return errors.Join(errs...)
}

type compositeSubrequest struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	ReferenceID string `json:"referenceId"`
}

type compositeResult struct {
	Body           json.RawMessage `json:"body"`
	HTTPStatusCode int             `json:"httpStatusCode"`
	ReferenceID    string          `json:"referenceId"`
}

// describeComposite describes objects (at most 25) in one Composite call
// and returns their failures.
func (c *Connector) describeComposite(ctx context.Context, objects []string) []error {
	subs := make([]compositeSubrequest, len(objects))
	for i, n := range objects {
		// Reference ids are letters, digits and underscores only.
		subs[i] = compositeSubrequest{Method: "GET", URL: c.describePath(n), ReferenceID: "describe" + strconv.Itoa(i)}
	}
	body := map[string]any{"allOrNone": false, "compositeRequest": subs}
	var resp struct {
		CompositeResponse []compositeResult `json:"compositeResponse"`
	}
	// GET subrequests change nothing: the call is safe to re-send.
	err := c.cl.do(ctx, request{op: "composite describe", object: strings.Join(objects, ","), method: "POST", path: c.cl.dataPath("composite"), body: body, retrySafe: true}, &resp)
	if err != nil {
		return []error{err}
	}
	results := map[string]compositeResult{}
	for _, r := range resp.CompositeResponse {
		results[r.ReferenceID] = r
	}
	var errs []error
	for i, n := range objects {
		r, ok := results[subs[i].ReferenceID]
		switch {
		case !ok:
			errs = append(errs, &APIError{Op: "describe", Object: n, Status: 200, Malformed: true, Message: "composite response without this subrequest's result"})
		case r.HTTPStatusCode < 200 || r.HTTPStatusCode > 299:
			errs = append(errs, c.describeError(n, apiError("describe", n, r.HTTPStatusCode, r.Body, nil)))
		default:
			var d api.SObjectDescribe
			if err := api.Decode(r.Body, &d); err != nil {
				errs = append(errs, &APIError{Op: "describe", Object: n, Status: r.HTTPStatusCode, Malformed: true, Message: "response body: " + err.Error()})
			} else if _, err := c.keepDescribe(n, &d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
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
	c.paths = nil
}

// Objects lists the org's sObjects, as describeGlobal (GET /sobjects)
// gives them: names, labels and what the session may do with each, in the
// org's order (alphabetical). One API call; nothing is cached. It reads
// metadata only, never a record.
func (c *Connector) Objects(ctx context.Context) ([]api.SObjectSummary, error) {
	var d api.DescribeGlobal
	if err := c.cl.do(ctx, request{op: "describeGlobal", method: "GET", path: c.cl.dataPath("sobjects"), retrySafe: true}, &d); err != nil {
		return nil, err
	}
	return d.SObjects, nil
}
