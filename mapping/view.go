package mapping

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/connector"
)

// View presents a local source in Salesforce terms, as the reconcile
// engine needs it: its objects are the Salesforce objects of a job (the
// parent's and each child's), records carry Salesforce keys (key_prefix +
// local key, + a child's key suffix), field names are Salesforce field API
// names and values are canonical for the Salesforce field.
//
// Reads map every local row through JobMapping.ToSalesforce: rows the
// local connector could not read, and rows whose key cannot be used, pass
// through as records with Err set (unknown keys, never deletes); a field
// that does not map is left out of its record (unknown, not null) and its
// error goes to OnError. A mapped column missing from the local object (a
// renamed header) fails the whole call with a connector.Fatal error naming
// the column and the rule's position.
//
// Writes map Salesforce-shaped records back to local cells through
// JobMapping.ToLocal, reading the current rows first (cells that hold
// several fields merge into them; a cell that already reads as the value
// is left alone). A child's upsert and delete update and clear its cells
// on the parent's row. Every write returns one Result per input record,
// with the Salesforce key.
//
// View implements Sink, KeyLister and KeyReader whatever the local
// connector offers: without a local Sink, writes fail with
// connector.ErrReadOnly; without a KeyLister or KeyReader, ListKeys and
// ReadKeys fall back to a complete Read. A View is safe for concurrent use
// if the local connector, Resolver and OnError are.
type View struct {
	local connector.Connector
	feat  connector.Features
	m     *JobMapping
	sf    map[string]*connector.Object

	// Resolver resolves lookup rules and children's parent references;
	// set it before the first call (a NewCachedResolver or a
	// NewStoredResolver per run). A BatchResolver is asked for the values
	// of a chunk of rows at once (Prefetch) before they are mapped.
	// Without it, lookup fields are per-field errors.
	Resolver Resolver
	// OnError receives the per-field and per-key mapping errors of reads,
	// so that the caller can collect them per run; nil drops them (the
	// records still leave the fields out).
	OnError func(*connector.RecordError)
	// StrictFields makes a record with a field that does not map unknown
	// as a whole (Record.Err set to the field's error) instead of passing
	// it without the field. Set it for an engine that reads a field
	// missing from Record.Fields as null rather than as unknown.
	StrictFields bool
	// Link is the local column holding each row's Salesforce Id (a
	// source's link_column), for a table whose key the database generates
	// (sqldb's Table.Link); "" for none. With it, the parent's records
	// read carry the row's link in Record.ID (the View Links its objects),
	// and an upsert of a parent record whose row does not exist creates
	// the row through its link: with an empty key and the record's
	// Record.ID (its Salesforce Id) in the link column; the result's Key
	// is then the Salesforce key of the generated local key. A create
	// without Record.ID fails with CodeInvalidKey. SetLinks writes links.
	Link string
	// ByReference is set when the Salesforce side writes children's parent
	// fields by reference to the parent's key (JobMapping.ByReference, as
	// the runner's Salesforce side does): a child whose parent Salesforce
	// does not hold yet (not found by the Resolver, such as a case created
	// earlier in the same run) then carries its parent's key in the parent
	// field, a pending reference, instead of being unknown this run.
	ByReference bool

	only   *Member // set by Only: the one member the view shows
	scoped bool
}

// Interface guards.
var (
	_ connector.Connector     = (*View)(nil)
	_ connector.Sink          = (*View)(nil)
	_ connector.KeyLister     = (*View)(nil)
	_ connector.KeyReader     = (*View)(nil)
	_ connector.ChangeTracker = (*View)(nil)
)

// NewView returns the Salesforce-shaped view of local under m. sfObjects
// are the Salesforce descriptions (by object name) that Describe restricts
// to the mapped fields; m's own descriptions are used for objects missing
// from it.
func NewView(local connector.Connector, m *JobMapping, sfObjects map[string]*connector.Object) *View {
	return &View{local: local, feat: connector.FeaturesOf(local), m: m, sf: sfObjects}
}

// Only returns a view of one member of each row: the parent (child "")
// or the named child. Reads, key listings and writes of the returned view
// see only that member's records, so that a job per child can sync one
// child of an object that several children share (a stipend and a school
// enrolment are both Assistance records); other keys are out of scope.
// It returns nil for an unknown child.
func (v *View) Only(child string) *View {
	var mem *Member
	for _, m := range v.m.Members() {
		if m.Name == child {
			mem = m
		}
	}
	if mem == nil {
		return nil
	}
	return &View{local: v.local, feat: v.feat, m: v.m, sf: v.sf, Resolver: v.Resolver, OnError: v.OnError, StrictFields: v.StrictFields, Link: v.Link, ByReference: v.ByReference, only: mem, scoped: true}
}

// memberOfKey is JobMapping.memberOfKey within the view's scope.
func (v *View) memberOfKey(object, key string) (*Member, string, bool) {
	if !v.scoped {
		return v.m.memberOfKey(object, key)
	}
	mem := v.only
	if !strings.EqualFold(mem.Object, object) {
		return nil, "", false
	}
	rest, ok := cutPrefixFold(connector.NormalizeKey(key), v.m.KeyPrefix)
	if !ok {
		return nil, "", false
	}
	if !mem.IsParent() {
		if !hasSuffixFold(rest, mem.KeySuffix) || len(rest) == len(mem.KeySuffix) {
			return nil, "", false
		}
		return mem, rest[:len(rest)-len(mem.KeySuffix)], true
	}
	// A parent key must not be a child's of the same object.
	if m2, _, ok := v.m.memberOfKey(object, key); !ok || m2 != mem {
		return nil, "", false
	}
	return mem, rest, true
}

// Mapping returns the view's compiled mapping.
func (v *View) Mapping() *JobMapping { return v.m }

// Name returns the local connector's name.
func (v *View) Name() string { return v.local.Name() }

// TracksChanges implements connector.ChangeTracker: the view's reads honour
// a cursor when the local connector's do.
func (v *View) TracksChanges(string) bool {
	return v.feat.Tracker != nil && v.feat.Tracker.TracksChanges(v.m.LocalObject)
}

func (v *View) members(op, object string) ([]*Member, error) {
	mems := v.m.membersOf(object)
	if v.scoped {
		mems = slices.DeleteFunc(mems, func(m *Member) bool { return m != v.only })
	}
	if len(mems) == 0 {
		return nil, fmt.Errorf("%s %s %s: job %s maps no such object: %w", op, v.Name(), object, v.m.Name, connector.ErrObjectNotFound)
	}
	return mems, nil
}

// Describe returns the Salesforce description of object restricted to the
// key field and the fields the job maps for it. Modified is the local
// object's: the name of the local column holding a row's modification
// time ("" when the source keeps none), which records carry in Modified.
// (The engine's newest_wins needs it set on both sides.)
func (v *View) Describe(ctx context.Context, object string) (*connector.Object, error) {
	mems, err := v.members("describe", object)
	if err != nil {
		return nil, err
	}
	src := v.sf[mems[0].Object]
	if src == nil {
		src = mems[0].Desc
	}
	local, err := v.local.Describe(ctx, v.m.LocalObject)
	if err != nil {
		return nil, err
	}
	// Every member of one object has one key field (config checks it).
	key := mems[0].Desc.Key
	out := &connector.Object{Name: mems[0].Object, Label: src.Label, Key: key, Modified: local.Modified}
	want := map[string]bool{strings.ToLower(key): true}
	for _, mem := range mems {
		for _, r := range mem.Rules {
			want[strings.ToLower(r.SF)] = true
		}
		if mem.ParentField != "" {
			want[strings.ToLower(mem.ParentField)] = true
		}
	}
	for _, f := range src.Fields {
		if want[strings.ToLower(f.Name)] {
			f.Picklist = slices.Clone(f.Picklist)
			f.ReferenceTo = slices.Clone(f.ReferenceTo)
			out.Fields = append(out.Fields, f)
		}
	}
	return out, nil
}

// localSchema is the local object's description and the local names of
// the configured columns that differ only in case.
type localSchema struct {
	desc  *connector.Object
	alias map[string]string // configured column -> local name
}

// schema describes the local object and checks that every column the
// members (and the consent gate) map is there.
func (v *View) schema(ctx context.Context, op, object string, mems []*Member) (*localSchema, error) {
	desc, err := v.local.Describe(ctx, v.m.LocalObject)
	if err != nil {
		return nil, err
	}
	ls := &localSchema{desc: desc}
	check := func(obj, sfField, col, where string) error {
		lf := desc.Field(col)
		if lf == nil {
			return connector.NewRecordError(op, v.Name(), obj, "", sfField, connector.CodeUnknownField, connector.Fatal,
				&FieldError{Column: col, Rule: where, Err: fmt.Errorf("the mapped column is missing from %s (renamed or deleted header?): %w", v.m.LocalObject, connector.ErrFieldNotFound)})
		}
		if lf.Name != col {
			if ls.alias == nil {
				ls.alias = map[string]string{}
			}
			ls.alias[col] = lf.Name
		}
		return nil
	}
	if err := check(object, v.m.Key, v.m.LocalKey, "local.key at "+v.m.Job.Local.At("key").String()); err != nil {
		return nil, err
	}
	rules := []*FieldRule{}
	if g := v.m.gate; g != nil {
		rules = append(rules, g.rule)
	}
	for _, mem := range mems {
		rules = append(rules, mem.Rules...)
	}
	for _, r := range rules {
		if r.IsConstant || r.Local == "" {
			continue
		}
		if err := check(object, r.SF, r.Local, r.where()); err != nil {
			return nil, err
		}
	}
	for _, mem := range mems {
		if e := mem.each; e != nil {
			if err := check(object, e.field, e.column, e.where()); err != nil {
				return nil, err
			}
		}
	}
	return ls, nil
}

// fromLocal renames aliased columns of a local row to the configured
// names.
func (ls *localSchema) fromLocal(row connector.Record) connector.Record {
	if len(ls.alias) == 0 {
		return row
	}
	row = row.Clone()
	for cfg, local := range ls.alias {
		if val, ok := row.Fields[local]; ok {
			row.Fields[cfg] = val
		}
	}
	return row
}

// toLocal renames configured columns to the local names.
func (ls *localSchema) toLocal(fields map[string]connector.Value) map[string]connector.Value {
	if len(ls.alias) == 0 {
		return fields
	}
	out := make(map[string]connector.Value, len(fields))
	for k, val := range fields {
		if a, ok := ls.alias[k]; ok {
			k = a
		}
		out[k] = val
	}
	return out
}

// report passes mapping errors about object to OnError and returns the
// first fatal one.
func (v *View) report(object string, errs []*connector.RecordError) error {
	var fatal error
	for _, e := range errs {
		if !strings.EqualFold(e.Object, object) {
			continue
		}
		if e.Class == connector.Fatal && fatal == nil {
			fatal = e
		}
		if v.OnError != nil {
			v.OnError(e)
		}
	}
	return fatal
}

// strict, with StrictFields, marks each record that has a field error
// unknown (Err set to its first field error).
func (v *View) strict(fam *Family, errs []*connector.RecordError) {
	if !v.StrictFields || len(errs) == 0 {
		return
	}
	mark := func(r *connector.Record) {
		if r.Err != nil {
			return
		}
		for _, e := range errs {
			if e.Key == r.Key {
				r.Err = e
				return
			}
		}
	}
	mark(&fam.Parent)
	for i := range fam.Children {
		mark(&fam.Children[i].Record)
	}
}

// emit passes the records of object that a family holds to fn. With
// incremental set, a child missing from a live row is passed as deleted
// (its cells were cleared since the cursor).
func (v *View) emit(ctx context.Context, object string, mems []*Member, fam *Family, incremental bool, fn func(connector.Record) error) error {
	for _, mem := range mems {
		if mem.IsParent() {
			if err := fn(fam.Parent); err != nil {
				return err
			}
			continue
		}
		found := false
		for i := range fam.Children {
			if fam.Children[i].Name == mem.Name {
				found = true
				rec := fam.Children[i].Record
				if err := v.parentRef(ctx, mem, fam.Parent.Key, &rec); err != nil {
					return err
				}
				if err := fn(rec); err != nil {
					return err
				}
			}
		}
		if !found && incremental && fam.Parent.Err == nil && !fam.Parent.Deleted && fam.Parent.Key != "" {
			if err := fn(connector.Record{Key: fam.Parent.Key + mem.KeySuffix, Modified: fam.Parent.Modified, Deleted: true}); err != nil {
				return err
			}
		}
	}
	return nil
}

// parentRef sets a child record's parent field to its parent's Salesforce
// Id, found through the Resolver by the parent's key (object and key field
// of the job), so that the engine compares the reference as Salesforce
// stores it (a lookup cache makes this free run after run). A parent that
// is not in Salesforce yet makes the child unknown this run
// (NOT_PROCESSED), unless the view writes parents ByReference: the field
// then holds the parent's key, which the write turns into a reference
// Salesforce resolves on save, so that the child is created in the run
// that creates its parent. Without a Resolver the field is left out.
func (v *View) parentRef(ctx context.Context, mem *Member, parentKey string, rec *connector.Record) error {
	if v.Resolver == nil || mem.ParentField == "" || rec.Err != nil || rec.Deleted || parentKey == "" {
		return nil
	}
	id, err := v.Resolver.Resolve(ctx, v.m.Object, v.m.Key, parentKey)
	switch {
	case err == nil && id != "":
		rec.Set(mem.ParentField, connector.Text(id))
		return nil
	case (err == nil || errors.Is(err, ErrNoMatch)) && v.ByReference && mem.ParentRef != "":
		rec.Set(mem.ParentField, connector.Text(connector.NormalizeKey(parentKey)))
		return nil
	case err == nil, errors.Is(err, ErrNoMatch):
		rec.Err = connector.NewRecordError("map", v.Name(), mem.Object, rec.Key, mem.ParentField, connector.CodeNotProcessed, connector.Permanent,
			&connector.ValueError{Code: connector.CodeNotProcessed, Detail: "the parent " + v.m.Object + " is not in Salesforce yet"})
		return nil
	}
	if connector.IsFatal(err) {
		return err
	}
	rec.Err = connector.NewRecordError("map", v.Name(), mem.Object, rec.Key, mem.ParentField, "", connector.ClassOf(err),
		&connector.ValueError{Code: cmpCode(connector.CodeOf(err), connector.CodeUnavailable), Detail: "looking up the parent " + v.m.Object + " failed"})
	return nil
}

func cmpCode(c, def connector.Code) connector.Code {
	if c == "" {
		return def
	}
	return c
}

// Read implements connector.Source: it reads the local object and passes
// the records of object that its rows carry.
func (v *View) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	mems, err := v.members("read", object)
	if err != nil {
		return "", err
	}
	ls, err := v.schema(ctx, "read", object, mems)
	if err != nil {
		return "", err
	}
	incremental := since != "" && v.TracksChanges(object)
	// With a BatchResolver, rows are held back a chunk at a time and their
	// lookup values resolved together before they are mapped.
	add, flush := v.prefetch(ctx, mems, func(row connector.Record) error {
		fam, errs := v.m.ToSalesforce(ctx, row, v.Resolver)
		if err := v.report(object, errs); err != nil {
			return err
		}
		v.strict(&fam, errs)
		v.linkOf(&fam, &row)
		return v.emit(ctx, object, mems, &fam, incremental, fn)
	})
	// A run planned in parts reads once per part: the rows of the other
	// parts are not mapped (their cells are checked, and reported, in
	// their own part's read).
	keep := connector.KeyFilterOf(ctx)
	if len(mems) != 1 || !mems[0].IsParent() {
		keep = nil
	}
	lctx := ctx
	if keep != nil {
		// The local side's keys, as the filter's Salesforce keys.
		lctx = connector.WithKeyFilter(ctx, func(k string) bool {
			sfKey := v.m.SalesforceKey(k)
			return sfKey == "" || keep(sfKey)
		})
	}
	cur, err := v.local.Read(lctx, v.m.LocalObject, since, func(row connector.Record) error {
		row = ls.fromLocal(row)
		if keep != nil && row.Err == nil {
			if k := v.m.SalesforceKey(v.m.rowKey(row)); k != "" && !keep(k) {
				return nil
			}
		}
		return add(row)
	})
	if err == nil {
		err = flush()
	}
	return cur, err
}

// ListKeys implements connector.KeyLister. For the parent's object it
// lists the local keys (a key that cannot be a Salesforce key is not
// listed: it is unknown); a child's existence depends on its cells, so
// child objects are listed by a complete Read.
func (v *View) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	mems, err := v.members("list_keys", object)
	if err != nil {
		return err
	}
	if v.feat.KeyLister != nil && len(mems) == 1 && mems[0].IsParent() {
		if _, err := v.schema(ctx, "list_keys", object, nil); err != nil {
			return err
		}
		kf := v.m.Parent.Desc.KeyField()
		return v.feat.KeyLister.ListKeys(ctx, v.m.LocalObject, func(k string) error {
			sfKey := v.m.SalesforceKey(k)
			if sfKey == "" || (kf != nil && connector.Check(connector.Text(sfKey), kf) != nil) {
				return nil
			}
			return fn(sfKey)
		})
	}
	_, err = v.Read(ctx, object, "", func(r connector.Record) error {
		if r.Err != nil || r.Deleted || r.Key == "" {
			return nil
		}
		return fn(r.Key)
	})
	return err
}

// ReadKeys implements connector.KeyReader: it reads the rows of the
// keys' local keys and passes the records of object among the keys.
// Keys that are not this job's are skipped, as keys with no record are.
func (v *View) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	mems, err := v.members("read_keys", object)
	if err != nil {
		return err
	}
	ls, err := v.schema(ctx, "read_keys", object, mems)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	var localKeys []string
	for _, k := range keys {
		_, lk, ok := v.memberOfKey(object, k)
		if !ok {
			continue
		}
		want[keyID(k)] = true
		localKeys = append(localKeys, lk)
	}
	if len(localKeys) == 0 {
		return nil
	}
	sent := map[string]bool{}
	add, flush := v.prefetch(ctx, mems, func(row connector.Record) error {
		fam, errs := v.m.ToSalesforce(ctx, row, v.Resolver)
		if err := v.report(object, errs); err != nil {
			return err
		}
		v.strict(&fam, errs)
		v.linkOf(&fam, &row)
		return v.emit(ctx, object, mems, &fam, false, func(r connector.Record) error {
			id := keyID(r.Key)
			if r.Err != nil || r.Deleted || !want[id] || sent[id] {
				return nil
			}
			sent[id] = true
			return fn(r)
		})
	})
	each := func(row connector.Record) error { return add(ls.fromLocal(row)) }
	if v.feat.KeyReader != nil {
		err = v.feat.KeyReader.ReadKeys(ctx, v.m.LocalObject, localKeys, each)
	} else {
		_, err = v.local.Read(ctx, v.m.LocalObject, "", each)
	}
	if err == nil {
		err = flush()
	}
	return err
}

// Links reports whether the parent's records carry their row's link in
// Record.ID: the View has a Link column and shows the parent.
func (v *View) Links(string) bool { return v.Link != "" && (!v.scoped || v.only.IsParent()) }

// linkOf sets the parent record's ID to the row's link value.
func (v *View) linkOf(fam *Family, row *connector.Record) {
	if v.Link == "" || fam.Parent.Err != nil || fam.Parent.Deleted {
		return
	}
	if s, ok := row.Fields[v.Link].Text(); ok {
		fam.Parent.ID = strings.TrimSpace(s)
	}
}

// SetLinks writes, for each parent record, its Salesforce Id (Record.ID)
// into the link column of its row (Record.Key is the Salesforce key). A
// View without a Link writes nothing and returns nil results.
func (v *View) SetLinks(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	if !v.Links(object) {
		return nil, nil
	}
	if _, err := v.members("set_links", object); err != nil {
		return nil, err
	}
	if v.feat.Sink == nil {
		return nil, fmt.Errorf("set_links %s %s: %w", v.Name(), object, connector.ErrReadOnly)
	}
	results := make([]connector.Result, len(records))
	var batch []connector.Record
	var at []int
	for i, r := range records {
		results[i].Key = connector.NormalizeKey(r.Key)
		mem, lk, ok := v.memberOfKey(object, r.Key)
		if !ok || !mem.IsParent() || r.ID == "" {
			results[i].Err = v.outOfScope("set_links", object, r.Key)
			continue
		}
		batch = append(batch, connector.Record{Key: lk, Fields: map[string]connector.Value{v.Link: connector.Text(r.ID)}})
		at = append(at, i)
	}
	if len(batch) == 0 {
		return results, nil
	}
	lres, err := v.feat.Sink.Upsert(ctx, v.m.LocalObject, batch)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		if j < len(lres) && lres[j].Err != nil {
			results[i].Err = v.translate("set_links", object, results[i].Key, nil, lres[j].Err)
		}
	}
	return results, nil
}

// keyID compares Salesforce keys (external ids: case-insensitive).
func keyID(k string) string { return connector.KeyID(k, false) }

// currentRows reads the local rows of the given local keys, by their
// local KeyID.
func (v *View) currentRows(ctx context.Context, ls *localSchema, localKeys []string) (map[string]*connector.Record, error) {
	out := map[string]*connector.Record{}
	if len(localKeys) == 0 {
		return out, nil
	}
	want := map[string]bool{}
	for _, k := range localKeys {
		want[ls.desc.KeyID(k)] = true
	}
	keep := func(row connector.Record) error {
		if row.Err != nil || row.Deleted {
			return nil
		}
		id := ls.desc.KeyID(row.Key)
		if want[id] {
			r := ls.fromLocal(row)
			out[id] = &r
		}
		return nil
	}
	if v.feat.KeyReader != nil {
		return out, v.feat.KeyReader.ReadKeys(ctx, v.m.LocalObject, localKeys, keep)
	}
	_, err := v.local.Read(ctx, v.m.LocalObject, "", keep)
	return out, err
}

// rowWrite is one local row's write, gathering the records that target it.
type rowWrite struct {
	localKey string
	cur      *connector.Record
	cells    map[string]connector.Value
	idx      []int // the input records written through this row
	created  []bool
	link     string // the Salesforce Id of a row created through the link column
}

// Upsert implements connector.Sink. Each record is mapped to the cells of
// its row (a child's to its parent's row, which must exist); records of
// one row are written together, one local record per row. A record whose
// fields cannot all be written locally fails whole (no cell of it is
// written), with the first field's error.
func (v *View) Upsert(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	mems, err := v.members("upsert", object)
	if err != nil {
		return nil, err
	}
	if v.feat.Sink == nil {
		return nil, fmt.Errorf("upsert %s %s: %w", v.Name(), object, connector.ErrReadOnly)
	}
	ls, err := v.schema(ctx, "upsert", object, mems)
	if err != nil {
		return nil, err
	}
	results := make([]connector.Result, len(records))
	type target struct {
		mem      *Member
		localKey string
	}
	targets := make([]target, len(records))
	var localKeys []string
	for i, r := range records {
		results[i].Key = connector.NormalizeKey(r.Key)
		mem, lk, ok := v.memberOfKey(object, r.Key)
		if !ok {
			results[i].Err = v.outOfScope("upsert", object, r.Key)
			continue
		}
		targets[i] = target{mem, lk}
		localKeys = append(localKeys, lk)
	}
	cur, err := v.currentRows(ctx, ls, localKeys)
	if err != nil {
		return nil, err
	}
	if err := v.prefetchValues(ctx, object, records); err != nil {
		return nil, err
	}
	var rows []*rowWrite
	byID := map[string]*rowWrite{}
	for i, r := range records {
		t := targets[i]
		if t.mem == nil {
			continue
		}
		id := ls.desc.KeyID(t.localKey)
		rw := byID[id]
		if rw == nil {
			rw = &rowWrite{localKey: t.localKey, cur: cur[id], cells: map[string]connector.Value{}}
			byID[id] = rw
			rows = append(rows, rw)
		}
		if !t.mem.IsParent() && rw.cur == nil {
			results[i].Err = connector.NewRecordError("upsert", v.Name(), object, results[i].Key, "", connector.CodeNotProcessed, connector.Permanent,
				&connector.ValueError{Code: connector.CodeNotProcessed, Detail: "the parent's row does not exist locally; write the parent first"})
			continue
		}
		// The row as the earlier records of this call leave it.
		var base *connector.Record
		if rw.cur != nil || len(rw.cells) > 0 {
			b := connector.Record{Key: t.localKey, Fields: map[string]connector.Value{}}
			if rw.cur != nil {
				b = rw.cur.Clone()
			}
			maps.Copy(b.Fields, rw.cells)
			base = &b
		}
		created := rw.cur == nil
		if !t.mem.IsParent() {
			created = !t.mem.existsOn(base)
		} else if created && v.Link != "" {
			// The database generates the key: create through the link.
			if r.ID == "" {
				results[i].Err = connector.NewRecordError("upsert", v.Name(), object, results[i].Key, "", connector.CodeInvalidKey, connector.Permanent,
					&connector.ValueError{Code: connector.CodeInvalidKey, Detail: "the local database generates keys; a create needs the record's Salesforce Id for the link column " + v.Link})
				continue
			}
			if rw.link != "" && rw.link != r.ID {
				results[i].Err = connector.NewRecordError("upsert", v.Name(), object, results[i].Key, "", connector.CodeDuplicateKey, connector.Permanent,
					&connector.ValueError{Code: connector.CodeDuplicateKey, Detail: "two records for one new row"})
				continue
			}
			rw.link = r.ID
		}
		out, errs := v.m.toLocal(object, r, base, ls.desc)
		if len(errs) == 0 { // two-way lookups: Ids back into the referenced values
			if cells, lerr := v.m.lookupCells(ctx, v.Resolver, t.mem, r, base, v.m.reverseGateOpen(t.mem, r, base)); lerr != nil {
				errs = append(errs, lerr)
			} else {
				maps.Copy(out.Fields, cells)
			}
		}
		if len(errs) > 0 {
			e := *errs[0]
			e.Op = "upsert"
			results[i].Err = &e
			continue
		}
		maps.Copy(rw.cells, out.Fields)
		rw.idx = append(rw.idx, i)
		rw.created = append(rw.created, created)
	}
	var batch []connector.Record
	var batchRows []*rowWrite
	for _, rw := range rows {
		if len(rw.idx) == 0 {
			continue
		}
		if rw.cur != nil && len(rw.cells) == 0 {
			for _, i := range rw.idx { // nothing to change
				results[i].ID = rw.cur.ID
			}
			continue
		}
		rec := connector.Record{Key: rw.localKey, Fields: ls.toLocal(rw.cells)}
		if rw.link != "" {
			rec.Key = ""
			rec.Fields[v.Link] = connector.Text(rw.link)
		}
		batch = append(batch, rec)
		batchRows = append(batchRows, rw)
	}
	if len(batch) == 0 {
		return results, nil
	}
	lres, err := v.feat.Sink.Upsert(ctx, v.m.LocalObject, batch)
	if err != nil {
		return nil, err
	}
	if len(lres) != len(batch) {
		return nil, fmt.Errorf("upsert %s %s: the local connector returned %d results for %d records", v.Name(), object, len(lres), len(batch))
	}
	for j, rw := range batchRows {
		for n, i := range rw.idx {
			results[i].ID = lres[j].ID
			results[i].Created = rw.created[n] && lres[j].Err == nil
			if rw.link != "" && lres[j].Err == nil {
				// The generated key, in Salesforce terms; Created as the
				// store says (the row linked to the record may exist).
				results[i].Key = v.m.SalesforceKey(lres[j].Key)
				results[i].Created = lres[j].Created
			}
			if lres[j].Err != nil {
				results[i].Err = v.translate("upsert", object, results[i].Key, targets[i].mem, lres[j].Err)
			}
		}
	}
	return results, nil
}

// Delete implements connector.Sink. A parent's key deletes its local row;
// a child's clears the cells the child writes on its parent's row (a child
// that writes no cell cannot be deleted locally: connector.ErrReadOnly).
// A key with no record gets connector.ErrNotFound, as the contract says.
func (v *View) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	mems, err := v.members("delete", object)
	if err != nil {
		return nil, err
	}
	if v.feat.Sink == nil {
		return nil, fmt.Errorf("delete %s %s: %w", v.Name(), object, connector.ErrReadOnly)
	}
	ls, err := v.schema(ctx, "delete", object, mems)
	if err != nil {
		return nil, err
	}
	results := make([]connector.Result, len(keys))
	var parentKeys []string
	var parentIdx []int
	type clear struct {
		idx int
		mem *Member
		lk  string
	}
	var clears []clear
	var childLocal []string
	for i, k := range keys {
		results[i].Key = connector.NormalizeKey(k)
		mem, lk, ok := v.memberOfKey(object, k)
		switch {
		case !ok:
			results[i].Err = v.outOfScope("delete", object, k)
		case mem.IsParent():
			parentKeys = append(parentKeys, lk)
			parentIdx = append(parentIdx, i)
		default:
			clears = append(clears, clear{i, mem, lk})
			childLocal = append(childLocal, lk)
		}
	}
	if len(parentKeys) > 0 {
		lres, err := v.feat.Sink.Delete(ctx, v.m.LocalObject, parentKeys)
		if err != nil {
			return nil, err
		}
		for j, i := range parentIdx {
			if j < len(lres) {
				results[i].ID = lres[j].ID
				if lres[j].Err != nil {
					results[i].Err = v.translate("delete", object, results[i].Key, v.m.Parent, lres[j].Err)
				}
			}
		}
	}
	if len(clears) == 0 {
		return results, nil
	}
	cur, err := v.currentRows(ctx, ls, childLocal)
	if err != nil {
		return nil, err
	}
	var batch []connector.Record
	var batchIdx [][]int        // the results each batch record serves
	batchOf := map[string]int{} // a row's record in batch, by local KeyID
	for _, c := range clears {
		row := cur[ls.desc.KeyID(c.lk)]
		if row == nil || !c.mem.existsOn(row) {
			results[c.idx].Err = connector.NewRecordError("delete", v.Name(), object, results[c.idx].Key, "", connector.CodeNotFound, connector.Permanent, connector.ErrNotFound)
			continue
		}
		fields := map[string]connector.Value{}
		if e := c.mem.each; e != nil {
			// One value's record: its word leaves the list; the other
			// values' records share the row's other cells.
			if e.writesLocal {
				s, err := e.remove(row.Fields[e.column].Raw())
				if err != nil {
					results[c.idx].Err = connector.NewRecordError("delete", v.Name(), object, results[c.idx].Key, e.field, cmpCode(connector.CodeOf(err), connector.CodeInvalidValue), connector.Permanent,
						&FieldError{Column: e.column, Rule: e.where(), Err: err})
					continue
				}
				fields[e.column] = connector.Text(s)
				if s == "" {
					fields[e.column] = connector.Null()
				}
			}
		} else {
			for _, r := range c.mem.Rules {
				if r.WritesLocal() || r.TwoWay() {
					fields[r.Local] = connector.Null()
				}
			}
		}
		if len(fields) == 0 {
			results[c.idx].Err = connector.NewRecordError("delete", v.Name(), object, results[c.idx].Key, "", connector.CodeNotWritable, connector.Permanent,
				fmt.Errorf("child %s writes no local cell: %w", c.mem.Name, connector.ErrReadOnly))
			continue
		}
		// Later clears of the row (another value of a child with each)
		// start from this one's cells (on a copy of the row read); the row
		// is written once.
		id := ls.desc.KeyID(c.lk)
		if _, ok := batchOf[id]; !ok {
			cp := row.Clone()
			row = &cp
			cur[id] = row
		}
		for k, val := range fields {
			row.Fields[k] = val
		}
		if j, ok := batchOf[id]; ok {
			maps.Copy(batch[j].Fields, ls.toLocal(fields))
			batchIdx[j] = append(batchIdx[j], c.idx)
			continue
		}
		batchOf[id] = len(batch)
		batch = append(batch, connector.Record{Key: c.lk, Fields: ls.toLocal(fields)})
		batchIdx = append(batchIdx, []int{c.idx})
	}
	if len(batch) == 0 {
		return results, nil
	}
	lres, err := v.feat.Sink.Upsert(ctx, v.m.LocalObject, batch)
	if err != nil {
		return nil, err
	}
	for j, idx := range batchIdx {
		if j >= len(lres) {
			continue
		}
		for _, i := range idx {
			results[i].ID = lres[j].ID
			if lres[j].Err != nil {
				results[i].Err = v.translate("delete", object, results[i].Key, nil, lres[j].Err)
			}
		}
	}
	return results, nil
}

// prefetchValues asks the Resolver, as a Reverser, for the values of
// the Ids the two-way lookup fields of records hold, many at once, before
// Upsert writes them locally (lookupCells). Only a fatal error (or a
// cancelled run) is returned; others come back per record.
func (v *View) prefetchValues(ctx context.Context, object string, records []connector.Record) error {
	rv, ok := v.Resolver.(Reverser)
	if !ok {
		return nil
	}
	type target struct{ object, field string }
	ids := map[target][]string{}
	var order []target
	for _, r := range records {
		mem, _, ok := v.memberOfKey(object, r.Key)
		if !ok {
			continue
		}
		twoWayIDs(mem, r, func(object, field, id string) {
			t := target{object, field}
			if _, seen := ids[t]; !seen {
				order = append(order, t)
			}
			ids[t] = append(ids[t], id)
		})
	}
	for _, t := range order {
		if err := rv.PrefetchValues(ctx, t.object, t.field, ids[t]); err != nil && (connector.IsFatal(err) || errors.Is(err, context.Canceled)) {
			return err
		}
	}
	return nil
}

func (v *View) outOfScope(op, object, key string) error {
	return connector.NewRecordError(op, v.Name(), object, connector.NormalizeKey(key), "", connector.CodeInvalidKey, connector.Permanent,
		fmt.Errorf("%w (key_prefix %s)", ErrOutOfScope, quoteOrNone(v.m.KeyPrefix)))
}

// translate restates a local write error in Salesforce terms: the
// Salesforce object, key and (where the local error names a column) field.
func (v *View) translate(op, object, key string, mem *Member, err error) error {
	var re *connector.RecordError
	if !errors.As(err, &re) {
		return connector.NewRecordError(op, v.Name(), object, key, "", "", connector.ClassOf(err), err)
	}
	out := *re
	out.Op, out.Connector, out.Object, out.Key = op, v.Name(), object, key
	out.Field = ""
	if mem != nil && re.Field != "" {
		if r := mem.ruleOfColumn(re.Field); r != nil {
			out.Field = r.SF
		}
	}
	return &out
}
