package salesforce

import (
	"context"
	"fmt"
)

// FindIDs returns the Ids of the records of object whose field equals
// value (compared as SOQL compares: case-insensitively for text), at most
// limit of them (a caller that wants "exactly one" asks for two). It costs
// one query call. The value is escaped as a SOQL literal and never appears
// in an error.
func (c *Connector) FindIDs(ctx context.Context, object, field, value string, limit int) ([]string, error) {
	o, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	f := o.Field(field)
	if f == nil {
		return nil, fmt.Errorf("find %s.%s: no such field", object, field)
	}
	if limit <= 0 {
		limit = 2
	}
	soql, err := selectSOQL([]string{"Id"}, o.Name, f.Name+" = "+Quote(value), "")
	if err != nil {
		return nil, err
	}
	soql += fmt.Sprintf(" LIMIT %d", limit)
	var ids []string
	err = c.query(ctx, "find", o.Name, soql, false, func(raw map[string]any) error {
		if id, ok := raw["Id"].(string); ok {
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}
