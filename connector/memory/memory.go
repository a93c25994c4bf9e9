// Package memory is the reference connector: it keeps objects in memory,
// validates writes against its object descriptions exactly as the contract
// in package connector says, and passes connector/conformance. The
// reconcile engine's tests use it as both sides of a sync, so it also offers
// hooks to inject per-record failures and counts its calls.
package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// Connector is an in-memory store of objects. It is safe for concurrent use.
type Connector struct {
	name string

	mu      sync.Mutex
	objects map[string]*table // by object name
	seq     uint64            // change sequence, the cursor
	nextID  uint64
	calls   map[string]int

	// Now returns the modification time stamped on writes; time.Now by
	// default. Tests set it for determinism.
	Now func() time.Time
	// Fail, when set, is asked before each record is written ("upsert" or
	// "delete"); a non-nil error fails that record (wrapped in a
	// RecordError unless it is one) and leaves it unwritten. Fail is
	// called with the connector locked: it must not call the connector.
	Fail func(op, object, key string) error
}

type table struct {
	desc *connector.Object
	rows map[string]*row // by KeyID
}

type row struct {
	rec     connector.Record
	seq     uint64
	deleted bool
}

// New returns a memory connector named name holding the given (empty)
// objects. Each object must name its Key field.
func New(name string, objects ...*connector.Object) *Connector {
	c := &Connector{name: name, objects: map[string]*table{}, calls: map[string]int{}, Now: time.Now}
	for _, o := range objects {
		c.AddObject(o)
	}
	return c
}

// AddObject adds (or replaces, emptying it) an object.
func (c *Connector) AddObject(o *connector.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects[o.Name] = &table{desc: cloneObject(o), rows: map[string]*row{}}
}

// cloneObject copies o deeply, so that neither the caller of AddObject nor
// of Describe can change the description the connector validates against.
func cloneObject(o *connector.Object) *connector.Object {
	d := *o
	d.Fields = slices.Clone(o.Fields)
	for i := range d.Fields {
		d.Fields[i].Picklist = slices.Clone(d.Fields[i].Picklist)
		d.Fields[i].ReferenceTo = slices.Clone(d.Fields[i].ReferenceTo)
	}
	return &d
}

// Name implements connector.Connector.
func (c *Connector) Name() string { return c.name }

// Calls returns how many times each operation (describe, read, list_keys,
// read_keys, upsert, delete) was called, and with upsert_records /
// delete_records how many records were written.
func (c *Connector) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

// ResetCalls zeroes the call counts.
func (c *Connector) ResetCalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = map[string]int{}
}

func (c *Connector) table(op, object string) (*table, error) {
	c.calls[op]++
	t, ok := c.objects[object]
	if !ok {
		return nil, fmt.Errorf("%s %s %s: %w", op, c.name, object, connector.ErrObjectNotFound)
	}
	return t, nil
}

// Describe implements connector.Describer.
func (c *Connector) Describe(_ context.Context, object string) (*connector.Object, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.table("describe", object)
	if err != nil {
		return nil, err
	}
	return cloneObject(t.desc), nil
}

// snapshot copies the rows selected by keep under the lock, so callbacks run
// without it (a callback may write back into the connector).
func (c *Connector) snapshot(t *table, keep func(*row) bool) []connector.Record {
	var out []connector.Record
	for _, r := range t.rows {
		if keep(r) {
			rec := full(t.desc, r.rec)
			rec.Deleted = r.deleted
			out = append(out, rec)
		}
	}
	return out
}

// full returns a copy of rec with every described field, Null where it was
// never written: a field missing from a record read means unknown, never
// null (connector.Source).
func full(desc *connector.Object, rec connector.Record) connector.Record {
	rec = rec.Clone()
	if rec.Fields == nil {
		rec.Fields = make(map[string]connector.Value, len(desc.Fields))
	}
	for i := range desc.Fields {
		if _, ok := rec.Fields[desc.Fields[i].Name]; !ok {
			rec.Fields[desc.Fields[i].Name] = connector.Null()
		}
	}
	return rec
}

// Read implements connector.Source. The cursor is the change sequence.
func (c *Connector) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c.mu.Lock()
	t, err := c.table("read", object)
	if err != nil {
		c.mu.Unlock()
		return "", err
	}
	var after uint64
	if since != "" {
		if after, err = strconv.ParseUint(string(since), 10, 64); err != nil {
			c.mu.Unlock()
			return "", fmt.Errorf("read %s %s: malformed cursor", c.name, object)
		}
	}
	recs := c.snapshot(t, func(r *row) bool {
		if since == "" {
			return !r.deleted
		}
		return r.seq > after
	})
	cur := connector.Cursor(strconv.FormatUint(c.seq, 10))
	c.mu.Unlock()
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := fn(r); err != nil {
			return "", err
		}
	}
	return cur, nil
}

// TracksChanges implements connector.ChangeTracker.
func (c *Connector) TracksChanges(string) bool { return true }

// ListKeys implements connector.KeyLister.
func (c *Connector) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	t, err := c.table("list_keys", object)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	var keys []string
	for _, r := range t.rows {
		if !r.deleted {
			keys = append(keys, r.rec.Key)
		}
	}
	c.mu.Unlock()
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// ReadKeys implements connector.KeyReader.
func (c *Connector) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	t, err := c.table("read_keys", object)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	seen := map[string]bool{}
	var recs []connector.Record
	for _, k := range keys {
		id := t.desc.KeyID(k)
		if seen[id] {
			continue
		}
		seen[id] = true
		if r, ok := t.rows[id]; ok && !r.deleted {
			recs = append(recs, full(t.desc, r.rec))
		}
	}
	c.mu.Unlock()
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (c *Connector) recordError(op, object, key, field string, err error) *connector.RecordError {
	if re, ok := err.(*connector.RecordError); ok {
		return re
	}
	return connector.NewRecordError(op, c.name, object, key, field, "", connector.ClassOf(err), err)
}

// Upsert implements connector.Sink.
func (c *Connector) Upsert(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.table("upsert", object)
	if err != nil {
		return nil, err
	}
	c.calls["upsert_records"] += len(records)
	now := c.Now().UTC()
	results := make([]connector.Result, len(records))
	for i, in := range records {
		key := connector.NormalizeKey(in.Key)
		results[i].Key = key
		if key == "" {
			results[i].Err = c.recordError("upsert", object, "", t.desc.Key, &connector.ValueError{Code: connector.CodeInvalidKey, Detail: "empty key"})
			continue
		}
		if kf := t.desc.KeyField(); kf != nil {
			if err := connector.Check(connector.Text(key), kf); err != nil {
				results[i].Err = c.recordError("upsert", object, key, kf.Name, err)
				continue
			}
		}
		id := t.desc.KeyID(key)
		existing := t.rows[id]
		create := existing == nil || existing.deleted
		fields, err := c.prepare(t.desc, key, in.Fields, create)
		if err == nil && c.Fail != nil {
			if ferr := c.Fail("upsert", object, key); ferr != nil {
				err = c.recordError("upsert", object, key, "", ferr)
			}
		}
		if err != nil {
			results[i].Err = err
			continue
		}
		c.seq++
		if create {
			c.nextID++
			r := &row{rec: connector.Record{Key: key, ID: fmt.Sprintf("mem%06d", c.nextID), Fields: map[string]connector.Value{}}}
			t.rows[id] = r
			existing = r
		}
		maps.Copy(existing.rec.Fields, fields)
		existing.rec.Fields[t.desc.Key] = connector.Text(existing.rec.Key)
		existing.rec.Modified = now
		existing.seq = c.seq
		existing.deleted = false
		results[i].ID = existing.rec.ID
		results[i].Created = create
	}
	return results, nil
}

// prepare canonicalises and checks every field of one record. It returns
// the first field error; nothing is applied when it fails.
func (c *Connector) prepare(desc *connector.Object, key string, in map[string]connector.Value, create bool) (map[string]connector.Value, error) {
	out := make(map[string]connector.Value, len(in))
	names := slices.Sorted(maps.Keys(in)) // deterministic: the first bad field by name
	for _, name := range names {
		f := desc.Field(name)
		if f == nil {
			return nil, c.recordError("upsert", desc.Name, key, name, &connector.ValueError{Code: connector.CodeUnknownField, Detail: "no such field"})
		}
		if f.Name == desc.Key {
			continue // the key is the record's Key
		}
		if !f.Writable(create) {
			return nil, c.recordError("upsert", desc.Name, key, f.Name, &connector.ValueError{Code: connector.CodeNotWritable, Detail: "field is not writable"})
		}
		v, err := connector.Canonicalize(in[name], f)
		if err == nil {
			err = connector.Check(v, f)
		}
		if err == nil && v.IsNull() && !f.Nillable {
			err = &connector.ValueError{Code: connector.CodeRequired, Detail: "required field cannot be null"}
		}
		if err != nil {
			return nil, c.recordError("upsert", desc.Name, key, f.Name, err)
		}
		out[f.Name] = v
	}
	if create {
		for i := range desc.Fields {
			f := &desc.Fields[i]
			if f.Name == desc.Key || f.Nillable || f.Type == connector.TypeBoolean || !f.Createable {
				continue
			}
			if v, ok := out[f.Name]; !ok || v.IsNull() {
				return nil, c.recordError("upsert", desc.Name, key, f.Name, &connector.ValueError{Code: connector.CodeRequired, Detail: "required field is missing"})
			}
		}
	}
	return out, nil
}

// Delete implements connector.Sink.
func (c *Connector) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.table("delete", object)
	if err != nil {
		return nil, err
	}
	c.calls["delete_records"] += len(keys)
	now := c.Now().UTC()
	results := make([]connector.Result, len(keys))
	for i, k := range keys {
		key := connector.NormalizeKey(k)
		results[i].Key = key
		r, ok := t.rows[t.desc.KeyID(key)]
		if !ok || r.deleted {
			results[i].Err = c.recordError("delete", object, key, "", connector.ErrNotFound)
			continue
		}
		if c.Fail != nil {
			if ferr := c.Fail("delete", object, key); ferr != nil {
				results[i].Err = c.recordError("delete", object, key, "", ferr)
				continue
			}
		}
		c.seq++
		r.deleted = true
		r.seq = c.seq
		r.rec.Modified = now
		results[i].ID = r.rec.ID
	}
	return results, nil
}

// Interface guards.
var (
	_ connector.Connector     = (*Connector)(nil)
	_ connector.Sink          = (*Connector)(nil)
	_ connector.KeyLister     = (*Connector)(nil)
	_ connector.KeyReader     = (*Connector)(nil)
	_ connector.ChangeTracker = (*Connector)(nil)
)
