package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
)

// cursor is the position of an incremental read: the updated_at and key of
// the last row seen. Its text form is "v1|<RFC 3339 UTC>|<key>"; "v1||"
// means "from the beginning" (a tracked table that was empty).
type cursor struct {
	t   time.Time
	key string
}

func (cu cursor) String() string {
	ts := ""
	if !cu.t.IsZero() {
		ts = cu.t.UTC().Format(time.RFC3339Nano)
	}
	return "v1|" + ts + "|" + cu.key
}

func parseCursor(s string) (cursor, error) {
	rest, ok := strings.CutPrefix(s, "v1|")
	if !ok {
		return cursor{}, fmt.Errorf("malformed cursor")
	}
	ts, key, ok := strings.Cut(rest, "|")
	if !ok {
		return cursor{}, fmt.Errorf("malformed cursor")
	}
	var cu cursor
	if ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return cursor{}, fmt.Errorf("malformed cursor")
		}
		cu.t = t
	}
	cu.key = key
	return cu, nil
}

// liveCond returns the condition selecting rows not soft-deleted, or "".
func (c *Connector) liveCond(t *table) string {
	if t.soft == nil {
		return ""
	}
	q := c.d.quote(t.soft.field.Name)
	switch t.soft.kind {
	case kDateTime, kInstant:
		return q + " IS NULL"
	case kBool:
		if c.d.name() == "postgres" {
			return q + " IS NOT TRUE"
		}
	}
	return "(" + q + " IS NULL OR " + q + " = 0)"
}

// Read implements connector.Source. For a table with an updated_at column
// the returned cursor is the updated_at and key of the newest row read; a
// read since a cursor returns the rows whose updated_at is at or after the
// cursor's time less the look-back, soft-deleted ones as Deleted (rows
// deleted outright are not seen: a complete read or key listing finds
// them). Rows with a null updated_at are seen only by complete reads.
func (c *Connector) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	t, err := c.table(ctx, "read", object)
	if err != nil {
		return "", err
	}
	var (
		where []string
		args  []any
		order string
		cu    cursor
	)
	incremental := since != "" && t.updated != nil
	if incremental {
		if cu, err = parseCursor(string(since)); err != nil {
			return "", fmt.Errorf("read %s %s: %w", c.name, object, err)
		}
		uq := c.d.quote(t.updated.field.Name)
		if cu.t.IsZero() {
			where = append(where, uq+" IS NOT NULL")
		} else {
			from := cu.t.Add(-t.cfg.lookBack())
			if t.cfg.lookBack() == 0 {
				// ties on the timestamp are told apart by the key
				where = append(where, "("+uq+" > "+c.d.ph(1)+" OR ("+uq+" = "+c.d.ph(2)+" AND "+c.d.quote(t.key.field.Name)+" > "+c.d.ph(3)+"))")
				ts := c.bindTime(t.updated, from)
				args = append(args, ts, ts, c.keyArg(t, cu.key))
			} else {
				where = append(where, uq+" >= "+c.d.ph(1))
				args = append(args, c.bindTime(t.updated, from))
			}
		}
	} else if live := c.liveCond(t); live != "" {
		where = append(where, live)
	}
	if t.updated != nil {
		// In the database's order, so the last row read is the cursor's
		// row, ties on updated_at broken by the key as the next read's
		// WHERE breaks them.
		order = " ORDER BY " + c.d.quote(t.updated.field.Name) + ", " + c.d.quote(t.key.field.Name)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	last := cursor{}
	pass := func(r connector.Record) error {
		if t.updated != nil && !r.Modified.IsZero() && r.Err == nil {
			last = cursor{t: r.Modified, key: r.Key}
		}
		return fn(r)
	}
	if c.d.name() == "sqlite" {
		live := ""
		if !incremental {
			live = c.liveCond(t)
		}
		err = c.readSQLite(ctx, t, cond+order, args, live, pass)
	} else {
		var rows *sql.Rows
		rows, err = c.db.QueryContext(ctx, "SELECT "+t.selList+" FROM "+c.d.quoteTable(t.name)+cond+order, args...)
		if err != nil {
			return "", c.statementFailed("read", object, err)
		}
		err = c.scanRows(ctx, t, rows, pass)
		rows.Close()
	}
	if err != nil {
		return "", err
	}
	if t.updated == nil {
		return "", nil
	}
	if last.t.IsZero() && incremental {
		last = cu // nothing new: keep the position
	}
	return connector.Cursor(last.String()), nil
}

// readSQLite reads like the streaming path but holds no statement open
// while fn runs: SQLite (outside WAL mode) blocks writers while a reader
// is open, and fn may write back into the connector. It lists the keys
// selected by tail (WHERE and ORDER BY) first, then reads the records in
// chunks by key and passes them in the listing's order. It holds the keys
// in memory, not the records. A row deleted between the listing and its
// chunk is skipped; live re-applies the soft-delete condition.
func (c *Connector) readSQLite(ctx context.Context, t *table, tail string, args []any, live string, fn func(connector.Record) error) error {
	kq := c.d.quote(t.key.field.Name)
	rows, err := c.db.QueryContext(ctx, "SELECT "+kq+" FROM "+c.d.quoteTable(t.name)+tail, args...)
	if err != nil {
		return c.statementFailed("read", t.object, err)
	}
	var keys []any
	for rows.Next() {
		var k any
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return c.statementFailed("read", t.object, err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c.statementFailed("read", t.object, err)
	}
	rawKey := func(v any) string {
		kv, err := c.readValue(t.key, v)
		if err != nil {
			return ""
		}
		return kv.Raw()
	}
	for len(keys) > 0 {
		part := keys[:min(rowsPerStatement, len(keys))]
		keys = keys[len(part):]
		var b strings.Builder
		b.WriteString("SELECT " + t.selList + " FROM " + c.d.quoteTable(t.name) + " WHERE " + kq + " IN (")
		for i := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.d.ph(i + 1))
		}
		b.WriteString(")")
		if live != "" {
			b.WriteString(" AND " + live)
		}
		rows, err := c.db.QueryContext(ctx, b.String(), part...)
		if err != nil {
			return c.statementFailed("read", t.object, err)
		}
		byKey := make(map[string]connector.Record, len(part))
		var odd []connector.Record // rows whose key cannot be read
		err = c.scanRows(ctx, t, rows, func(r connector.Record) error {
			if k, ok := r.Fields[t.key.field.Name]; ok {
				byKey[k.Raw()] = r
			} else {
				odd = append(odd, r)
			}
			return nil
		})
		rows.Close()
		if err != nil {
			return err
		}
		for _, k := range part {
			if r, ok := byKey[rawKey(k)]; ok {
				if err := fn(r); err != nil {
					return err
				}
			}
		}
		for _, r := range odd {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// statementFailed wraps a failed statement's error for the whole call,
// forgetting the table's description in case the table changed.
func (c *Connector) statementFailed(op, object string, err error) error {
	c.forget(object)
	return fmt.Errorf("%s %s %s: %w", op, c.name, object, c.sanitize(err))
}

// scanRows converts each row into a Record and passes it to fn.
func (c *Connector) scanRows(ctx context.Context, t *table, rows *sql.Rows, fn func(connector.Record) error) error {
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rows.Scan(ptrs...); err != nil {
			return c.statementFailed("read", t.object, err)
		}
		if err := fn(c.record(t, vals)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return c.statementFailed("read", t.object, err)
	}
	return nil
}

// record builds the Record of one row. A value that cannot be read sets
// Record.Err (naming the key and column, not the value); the record's key
// is then unknown to a sync, not absent.
func (c *Connector) record(t *table, vals []any) connector.Record {
	r := connector.Record{Fields: make(map[string]connector.Value, len(t.cols))}
	var firstErr error
	for i, col := range t.cols {
		v, err := c.readValue(col, vals[i])
		if err != nil {
			if firstErr == nil {
				firstErr = connector.NewRecordError("read", c.name, t.object, "", col.field.Name, "", connector.Permanent, err)
			}
			continue
		}
		r.Fields[col.field.Name] = v
		switch col {
		case t.key:
			r.Key = keyText(v)
		case t.updated:
			if tm, ok := v.DateTime(); ok {
				r.Modified = tm
			}
		case t.soft:
			r.Deleted = softDeleted(v)
		}
	}
	if r.Key != "" {
		if err := connector.CheckKey(r.Key, 0); err != nil {
			// A key that cannot be a key (a control character, too
			// long): the row is this error alone, and neither the record
			// nor the error holds the key's text.
			delete(r.Fields, t.key.field.Name)
			r.Key = ""
			r.Err = connector.NewRecordError("read", c.name, t.object, "", t.key.field.Name, connector.CodeInvalidKey, connector.Permanent, err)
			return r
		}
	}
	if t.keyGen {
		r.ID = r.Key
	}
	if r.Key == "" && firstErr == nil {
		firstErr = connector.NewRecordError("read", c.name, t.object, "", t.key.field.Name, connector.CodeInvalidKey, connector.Permanent,
			&connector.ValueError{Code: connector.CodeInvalidKey, Detail: "empty key"})
	}
	if firstErr != nil {
		if re, ok := firstErr.(*connector.RecordError); ok {
			re.Key = r.Key
			re.Code = connector.CodeRowUnreadable
		}
		r.Err = firstErr
	}
	return r
}

// keyText returns the text form of a key value, in NormalizeKey form.
func keyText(v connector.Value) string {
	if s, ok := v.Text(); ok {
		return connector.NormalizeKey(s)
	}
	if d, ok := v.Number(); ok {
		return d.String()
	}
	return ""
}

func softDeleted(v connector.Value) bool {
	switch v.Kind() {
	case connector.KindNull:
		return false
	case connector.KindBool:
		b, _ := v.Bool()
		return b
	case connector.KindNumber:
		d, _ := v.Number()
		return !d.IsZero()
	}
	return true // a date-time: set means deleted
}

// keyArg returns the argument for a key in a WHERE clause.
func (c *Connector) keyArg(t *table, key string) any {
	if t.key.kind == kInt {
		if n, err := strconv.ParseInt(key, 10, 64); err == nil {
			return n
		}
		if d, err := decimal.NewFromString(key); err == nil {
			return d.String()
		}
	}
	return key
}

// validKey reports whether key can be a value of the key column.
func validKey(t *table, key string) bool {
	if key == "" {
		return false
	}
	if t.key.kind == kInt {
		_, err := strconv.ParseInt(key, 10, 64)
		return err == nil
	}
	return true
}

// ListKeys implements connector.KeyLister.
func (c *Connector) ListKeys(ctx context.Context, object string, fn func(key string) error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	t, err := c.table(ctx, "list_keys", object)
	if err != nil {
		return err
	}
	q := "SELECT " + c.d.quote(t.key.field.Name) + " FROM " + c.d.quoteTable(t.name)
	if live := c.liveCond(t); live != "" {
		q += " WHERE " + live
	}
	rows, err := c.db.QueryContext(ctx, q)
	if err != nil {
		return c.statementFailed("list_keys", object, err)
	}
	defer rows.Close()
	// SQLite blocks writers while a reader is open, and fn may write: hold
	// the keys and pass them after the statement is closed.
	buffer := c.d.name() == "sqlite"
	var held []string
	var v any
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rows.Scan(&v); err != nil {
			return c.statementFailed("list_keys", object, err)
		}
		kv, err := c.readValue(t.key, v)
		if err != nil {
			continue // unreadable: unknown, not listed
		}
		k := keyText(kv)
		if connector.CheckKey(k, 0) != nil {
			continue // empty or not a key: unknown, not listed
		}
		if buffer {
			held = append(held, k)
		} else if err := fn(k); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return c.statementFailed("list_keys", object, err)
	}
	rows.Close()
	for _, k := range held {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// ReadKeys implements connector.KeyReader.
func (c *Connector) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	t, err := c.table(ctx, "read_keys", object)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var want []string
	for _, k := range keys {
		k = connector.NormalizeKey(k)
		id := connector.KeyID(k, t.keyCase)
		if seen[id] || !validKey(t, k) || connector.CheckKey(k, 0) != nil {
			continue
		}
		seen[id] = true
		want = append(want, k)
	}
	live := c.liveCond(t)
	done := map[string]bool{}
	const chunk = 500
	for len(want) > 0 {
		n := min(chunk, len(want))
		part := want[:n]
		want = want[n:]
		var b strings.Builder
		b.WriteString("SELECT " + t.selList + " FROM " + c.d.quoteTable(t.name) + " WHERE " + c.d.quote(t.key.field.Name) + " IN (")
		args := make([]any, len(part))
		for i, k := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.d.ph(i + 1))
			args[i] = c.keyArg(t, k)
		}
		b.WriteString(")")
		if live != "" {
			b.WriteString(" AND " + live)
		}
		rows, err := c.db.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return c.statementFailed("read_keys", object, err)
		}
		// Hold the chunk (at most 500 records) so no statement is open
		// while fn runs.
		var recs []connector.Record
		err = c.scanRows(ctx, t, rows, func(r connector.Record) error {
			recs = append(recs, r)
			return nil
		})
		rows.Close()
		if err != nil {
			return err
		}
		for _, r := range recs {
			id := connector.KeyID(r.Key, t.keyCase)
			if done[id] {
				continue
			}
			done[id] = true
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}
