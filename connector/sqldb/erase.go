package sqldb

import (
	"context"
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/connector"
)

// Erase sets the named columns to NULL (a NOT NULL text column to the
// empty text) in the rows of the given keys,
// soft-deleted rows included: a soft delete keeps a row's values, and a
// person's erasure must reach them too (an Upsert would revive such a row;
// Erase leaves it deleted). The key column, the soft-delete column and
// columns the table lacks are skipped; updated_at is stamped, so that
// incremental reads see the change. It returns, by key (as given), the
// columns that held a value (names only). With dryRun it only reads.
func (c *Connector) Erase(ctx context.Context, object string, keys, columns []string, dryRun bool) (map[string][]string, error) {
	t, err := c.table(ctx, "erase", object)
	if err != nil {
		return nil, err
	}
	d := c.d
	var cols []*column
	for _, name := range columns {
		col := t.byName[name]
		if col == nil {
			for _, cc := range t.cols {
				if strings.EqualFold(cc.field.Name, name) {
					col = cc
				}
			}
		}
		if col == nil || col == t.key || col == t.soft || col == t.updated || col.computed {
			continue
		}
		cols = append(cols, col)
	}
	out := map[string][]string{}
	if len(cols) == 0 {
		return out, nil
	}
	sel := make([]string, len(cols))
	set := make([]string, len(cols))
	for i, col := range cols {
		sel[i] = d.quote(col.field.Name)
		set[i] = d.quote(col.field.Name) + " = NULL"
		if !col.field.Nillable && (col.kind == kText || col.kind == kSet) {
			set[i] = d.quote(col.field.Name) + " = ''" // NOT NULL: emptied
		}
	}
	var fixed []any
	if t.updated != nil {
		set = append(set, d.quote(t.updated.field.Name)+" = "+d.ph(1))
		fixed = append(fixed, c.touch(t.updated))
	}
	kq := d.quote(t.key.field.Name)
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("erase %s %s: %w", c.name, object, c.sanitize(err))
	}
	defer tx.Rollback()
	for _, k := range keys {
		key := connector.NormalizeKey(k)
		if !validKey(t, key) {
			continue
		}
		q := "SELECT " + strings.Join(sel, ", ") + " FROM " + d.quoteTable(t.name) + " WHERE " + kq + " = " + d.ph(1)
		rows, err := tx.QueryContext(ctx, q, c.keyArg(t, key))
		if err != nil {
			return nil, fmt.Errorf("erase %s %s: %w", c.name, object, c.sanitize(err))
		}
		found := false
		held := map[string]bool{}
		for rows.Next() {
			found = true
			dest := make([]any, len(cols))
			for i := range dest {
				dest[i] = new(any)
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("erase %s %s: %w", c.name, object, c.sanitize(err))
			}
			for i, col := range cols {
				switch v := (*dest[i].(*any)).(type) {
				case nil:
				case string:
					held[col.field.Name] = held[col.field.Name] || v != ""
				case []byte:
					held[col.field.Name] = held[col.field.Name] || len(v) > 0
				default:
					held[col.field.Name] = true
				}
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("erase %s %s: %w", c.name, object, c.sanitize(err))
		}
		if !found {
			continue
		}
		var names []string
		for _, col := range cols {
			if held[col.field.Name] {
				names = append(names, col.field.Name)
			}
		}
		out[k] = names
		if dryRun || len(names) == 0 {
			continue
		}
		u := "UPDATE " + d.quoteTable(t.name) + " SET " + strings.Join(set, ", ") + " WHERE " + kq + " = " + d.ph(len(fixed)+1)
		if _, err := tx.ExecContext(ctx, u, append(fixed, c.keyArg(t, key))...); err != nil {
			return nil, fmt.Errorf("erase %s %s: key %s: %w", c.name, object, key, c.sanitize(err))
		}
	}
	if dryRun {
		return out, nil
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("erase %s %s: %w", c.name, object, c.sanitize(err))
	}
	return out, nil
}
