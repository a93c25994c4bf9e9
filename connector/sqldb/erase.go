package sqldb

import (
	"context"
	"database/sql"
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
			continue // cannot be a value of the key column: no such row
		}
		stored, held, err := c.eraseRows(ctx, tx, t, object, key, sel, cols)
		if err != nil {
			return nil, err
		}
		if len(stored) == 0 {
			continue // confirmed absent: matched as a sync pairs keys
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
		for _, sk := range stored {
			if _, err := tx.ExecContext(ctx, u, append(fixed, sk)...); err != nil {
				return nil, fmt.Errorf("erase %s %s: key %s: %w", c.name, object, key, c.sanitize(err))
			}
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

// eraseRows finds the rows of key as a sync pairs them: a key column that
// compares case-insensitively (t.keyCase false) is matched with lower() on
// both sides, whatever the database's collation does with "=" (PostgreSQL's
// is case-sensitive), so th-cl-0007 finds the row TH-CL-0007 that a sync
// pairs with the same Salesforce record. In a case-sensitive key column the
// key is matched exactly; failing that, the one row whose key differs only
// in case is taken (Salesforce pairs external ids case-insensitively, so it
// is the row that would write the erased values back), and two or more
// such rows are an error naming the key: which person is meant is a
// person's call. It returns the rows' keys as stored (for the UPDATE) and
// which columns held a value. No rows: the key is confirmed absent.
func (c *Connector) eraseRows(ctx context.Context, tx *sql.Tx, t *table, object, key string, sel []string, cols []*column) (stored []any, held map[string]bool, err error) {
	d := c.d
	kq := d.quote(t.key.field.Name)
	text := t.key.kind != kInt
	eq := kq + " = " + d.ph(1)
	folded := "lower(" + kq + ") = lower(" + d.ph(1) + ")"
	conds := []string{eq}
	switch {
	case text && !t.keyCase:
		conds = []string{folded}
	case text:
		conds = []string{eq, folded}
	}
	for i, cond := range conds {
		stored, held = nil, map[string]bool{}
		q := "SELECT " + kq + ", " + strings.Join(sel, ", ") + " FROM " + d.quoteTable(t.name) + " WHERE " + cond
		rows, err := tx.QueryContext(ctx, q, c.keyArg(t, key))
		if err != nil {
			return nil, nil, fmt.Errorf("erase %s %s: %w", c.name, object, c.sanitize(err))
		}
		for rows.Next() {
			dest := make([]any, len(cols)+1)
			for i := range dest {
				dest[i] = new(any)
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("erase %s %s: %w", c.name, object, c.sanitize(err))
			}
			sk := *dest[0].(*any)
			if b, ok := sk.([]byte); ok {
				sk = string(b)
			}
			stored = append(stored, sk)
			for i, col := range cols {
				switch v := (*dest[i+1].(*any)).(type) {
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
			return nil, nil, fmt.Errorf("erase %s %s: %w", c.name, object, c.sanitize(err))
		}
		if i == 1 && len(stored) > 1 {
			return nil, nil, fmt.Errorf("erase %s %s: key %s: %d rows have keys differing from it only in case, and the key column is case-sensitive: give the key as stored", c.name, object, key, len(stored))
		}
		if len(stored) > 0 {
			break
		}
	}
	return stored, held, nil
}
