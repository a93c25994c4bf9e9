// Package erase erases people from a job's records: a person's right to
// erasure, carried out on every copy casebridge keeps or writes.
//
// For each key, Erase
//
//   - blanks, in the local source, every column a classified rule of the
//     job (or of its children, carried by the same row) reads, and the
//     column of a classified each: cells of
//     a sheet's row, live or marked deleted, and the same cells in every
//     backup of the sheet (connector/sheet's Erase; an encrypted backup is
//     opened with Eraser.BackupIdentities, or removed whole without one);
//     a database row's columns, a soft-deleted row's too, are set to NULL
//     (a NOT NULL text column to the empty text: connector/sqldb's Erase);
//   - anonymises the Salesforce record and its children's records (by
//     their keys; children keyed by_parent are left, named in the report)
//     as their rules' classes say: direct and sensitive fields are cleared
//     (null); quasi-identifiers are coarsened where a coarser value still
//     serves aggregate reporting, a date or date-time to the first of
//     January of its year, and cleared otherwise (an age, a district, a gender has no coarser form that
//     names fewer people in a small caseload). Fields Salesforce does not
//     let the integration user write (formulas) are named in the report,
//     not written. The records of a classified each are deleted: their
//     existence is the value (a service), and one left, cleared, would
//     write its value back into the blanked cell at the next sync;
//   - forgets the record's state (its fingerprints, pending entries and
//     queued conflicts: pseudonymous copies of the erased values) and
//     leaves a tombstone (a keyed hash of the key), so that a row or a
//     record of the key that disappears from one side is never created on
//     it again. The next sync pairs the two sides' records again by key,
//     as a first sync does: what erase left on both sides is all there is
//     to pair. A key whose Salesforce write failed is not forgotten (that
//     pairing would write Salesforce's values back into the blanked
//     cells), and a key no side holds leaves no tombstone.
//
// The job is locked out (state.Store.LockOut) from before the first write
// until the keys' state is forgotten, so no run reads blanked cells beside
// the old state; a key left incomplete keeps it locked out until an erase
// of it completes.
//
// The key itself stays: it is a case code, never a name (pii key columns
// are refused), and it is what the tombstone holds. Erase takes the job's
// lease as a run does, so it never runs beside a run of the job, and it
// reports what it did by key and field or column name only.
package erase

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sheet"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

// Eraser erases records of a configuration's jobs.
type Eraser struct {
	Config     *config.Config
	Store      state.Store
	Salesforce connector.Connector
	// FP is the installation's fingerprinter (for the tombstones); nil in
	// a dry run before any key exists.
	FP *reconcile.Fingerprinter
	// Holder names this process in the job's lease (host:pid by default).
	Holder string
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// BackupIdentities open a sheet's encrypted backups (backup_encrypt_to)
	// to blank them; without one, an encrypted backup cannot be searched
	// and is removed whole.
	BackupIdentities []age.Identity
}

// Action is what was done to one Salesforce field.
type Action string

// The actions on a Salesforce field.
const (
	Cleared    Action = "cleared"
	Coarsened  Action = "coarsened" // a date to its year's 1 January
	NotWritten Action = "not writable"
	// Deleted: the record of a classified each's value, whose existence
	// is the value (which service a person receives), is deleted; cleared,
	// its key would bring the value back into the sheet at the next run.
	Deleted Action = "deleted"
)

// FieldDone is one Salesforce field erase changed (or would change).
type FieldDone struct {
	// Object is the field's object; Child the job's child it belongs to
	// ("" for the parent).
	Object string
	Child  string
	Field  string
	Class  config.PII
	Action Action
}

// KeyReport is what Erase did for one key. It names fields and columns,
// never values.
type KeyReport struct {
	// Key is the local key; SFKey the Salesforce key.
	Key, SFKey string
	// Local are the local columns that held something and were blanked;
	// LocalFound is false when no row of the key was found.
	Local      []string
	LocalFound bool
	// Backups is how many backups of the sheet held the key (their
	// classified cells blanked).
	Backups int
	// Salesforce are the fields written; SFFound is false when the org
	// has no record of the key.
	Salesforce []FieldDone
	SFFound    bool
	// SFRecords is how many Salesforce records of the key (the parent's
	// and its children's) were found.
	SFRecords int
	// SFError is the Salesforce write's failure, if any (a code and field
	// names, never a value). The key is then not erased: its state is
	// kept (forgotten, a first sync would write Salesforce's values back
	// into the blanked cells) and the job stays locked out until an erase
	// of the key completes.
	SFError error
	// NotFound: no side holds the key (no row, no record): no tombstone is
	// left, which would keep a real case of a mistyped key from ever being
	// created.
	NotFound bool
	// StateForgotten: the record's state was removed; Tombstone: a
	// tombstone was left.
	StateForgotten bool
	Tombstone      bool
}

// Erased reports whether the key's erasure completed: both sides done and
// its state forgotten.
func (k *KeyReport) Erased() bool { return k.SFError == nil && k.StateForgotten }

// Report is the outcome of erasing keys of a job.
type Report struct {
	Job    string
	DryRun bool
	Keys   []KeyReport
	// BackupsRemoved are the encrypted backups removed whole, for want of
	// an identity to open them.
	BackupsRemoved int
	// ChildrenLeft are the job's children keyed by_parent: their
	// Salesforce records are not reached by key, and are left to a person
	// (their columns are blanked locally with the row).
	ChildrenLeft []string
	// Incomplete are the keys, of this erase or an earlier one, whose
	// erasure has not completed: the job stays locked out until an erase
	// of them does. LockedOut says the job is locked out by erase.
	Incomplete []string
	LockedOut  bool
}

func (e *Eraser) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// holder names this process in the job's lease as a run does (host:pid),
// so that the lease of an erase that was killed is taken over at once on
// this host (state.HolderGone reads that form only).
func (e *Eraser) holder() string {
	if e.Holder != "" {
		return e.Holder
	}
	return state.HolderName()
}

// classified reports whether a rule's class asks erase to act: the
// mapping's class, the strictest of every rule reading the same column.
func classified(r *mapping.FieldRule) bool {
	return r.Class != "" && r.Class != config.PIINone
}

// anyClassified reports whether a job classifies any field.
func anyClassified(job *config.Job) bool {
	for _, r := range job.Fields {
		if r != nil && r.PII != "" && r.PII != config.PIINone {
			return true
		}
	}
	for _, c := range job.Children {
		for _, r := range c.Fields {
			if r != nil && r.PII != "" && r.PII != config.PIINone {
				return true
			}
		}
	}
	return false
}

// Erase erases keys (local keys, or Salesforce keys with the job's
// key_prefix) from the named job. It takes the job's lease first: a job
// being run is refused (state.ErrLocked). With dryRun it only reads and
// reports what it would do.
//
// The job's children are anonymised in Salesforce as the parent is, by
// their keys (the parent's and the child's suffix); children keyed
// by_parent are not (Report.ChildrenLeft).
func (e *Eraser) Erase(ctx context.Context, jobName string, keys []string, dryRun bool) (*Report, error) {
	cfg := e.Config
	job, ok := cfg.Jobs[jobName]
	if !ok {
		return nil, fmt.Errorf("no job %q in %s", jobName, cfg.File)
	}
	if !anyClassified(job) {
		return nil, fmt.Errorf("job %s classifies no field (pii): nothing to erase", jobName)
	}
	ttl := cmp(cfg.State.Lease.Duration, 5*time.Minute)
	token, err := e.Store.Acquire(ctx, jobName, e.holder(), ttl, e.now())
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", jobName, err)
	}
	defer e.Store.Release(context.WithoutCancel(ctx), jobName, token)

	objects := map[string]*connector.Object{}
	for _, n := range append([]string{job.Salesforce.Object}, childObjects(job)...) {
		if objects[n] != nil {
			continue
		}
		o, err := e.Salesforce.Describe(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("job %s: describe %s: %w", jobName, n, err)
		}
		objects[n] = o
	}
	// A classified each keys its records by a keyed hash of the value: the
	// same parts as the runs derived, or its records are not reached.
	m, err := mapping.CompileWith(job, objects, mapping.CompileOptions{EachKey: schedules.EachKey(e.FP, jobName)})
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", jobName, err)
	}
	local, err := schedules.OpenSource(job, m)
	if err != nil {
		return nil, fmt.Errorf("job %s: source %s: %w", jobName, job.Source.Name, err)
	}
	if c, ok := local.(interface{ Close() error }); ok {
		defer c.Close()
	}
	if !dryRun {
		if e.FP == nil {
			return nil, errors.New("erase: no fingerprint key")
		}
		if err := e.Store.CheckKeyID(ctx, e.FP.KeyID()); err != nil {
			return nil, err
		}
	}

	rep := &Report{Job: jobName, DryRun: dryRun}
	parent := objects[job.Salesforce.Object]
	keyRE, err := keyPattern(job)
	if err != nil {
		return nil, fmt.Errorf("job %s: local.key_pattern: %w", jobName, err)
	}
	seen := map[string]bool{}
	for i, k := range keys {
		k = connector.NormalizeKey(k)
		if mem, ok := m.MemberOf(m.Parent.Object, k); ok && mem.IsParent() && m.KeyPrefix != "" {
			// A Salesforce key: its prefix cut as a sync cuts it
			// (case-insensitively, like the external ids it is part of).
			k, _ = m.LocalKeyOf(m.Parent.Object, k)
		}
		if keyRE != nil && k != "" && !keyRE.MatchString(k) {
			// Refused before anything is read or written: the key would
			// be printed, and named in the lockout cause kept in the state.
			return nil, fmt.Errorf("job %s: key %d of %d (not shown) %w %s: nothing erased; give the case code", jobName, i+1, len(keys), ErrKeyPattern, strings.TrimSpace(job.Local.KeyPattern))
		}
		// One report per record: keys that a sync pairs with one record
		// (TH-1, th-1) are one key.
		id := parent.KeyID(m.SalesforceKey(k))
		if k == "" || seen[id] {
			continue
		}
		seen[id] = true
		rep.Keys = append(rep.Keys, KeyReport{Key: k, SFKey: m.SalesforceKey(k)})
	}
	if len(rep.Keys) == 0 {
		return nil, errors.New("erase: no key given")
	}
	var lock *eraseLock
	if !dryRun {
		// Before the first write: a crash between blanking and forgetting
		// would leave blanked cells beside the old state, which the next
		// run reads as the person's values deleted on one side.
		if lock, err = e.lockOut(ctx, jobName, rep); err != nil {
			return rep, err
		}
	}
	if err := e.eraseLocal(ctx, job, m, local, rep, dryRun); err != nil {
		return rep, lock.wrap(err)
	}
	for _, mem := range m.Members() {
		if !mem.IsParent() && strings.EqualFold(mem.Desc.Key, config.KeyByParent) {
			// Keyed by its parent's Id, not by a key of its own: not
			// reached by key here.
			if !slices.Contains(rep.ChildrenLeft, mem.Name) {
				rep.ChildrenLeft = append(rep.ChildrenLeft, mem.Name)
			}
			continue
		}
		if err := e.eraseSalesforce(ctx, mem, rep, dryRun); err != nil {
			return rep, lock.wrap(err)
		}
	}
	for i := range rep.Keys {
		k := &rep.Keys[i]
		k.NotFound = !k.LocalFound && k.SFRecords == 0
	}
	if dryRun {
		return rep, nil
	}
	if err := e.forget(ctx, jobName, token, m, rep); err != nil {
		return rep, lock.wrap(err)
	}
	return rep, e.unlock(ctx, lock, rep)
}

// ErrKeyPattern refuses a key that does not match the job's key_pattern:
// most likely a name typed where a case code belongs. The key is never
// shown, and nothing is erased: erase would print it, name it in its
// lockout cause in the state, and remove every encrypted backup it cannot
// open for a key no row can have.
var ErrKeyPattern = errors.New("does not match the job's key_pattern")

// keyPattern compiles the job's key_pattern, nil when there is none. It
// matches case-insensitively, as erase pairs keys (TH-1 and th-1 are one
// record, as in a sync).
func keyPattern(job *config.Job) (*regexp.Regexp, error) {
	p := strings.TrimSpace(job.Local.KeyPattern)
	if p == "" {
		return nil, nil
	}
	return regexp.Compile("(?i:" + p + ")")
}

func cmp(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func childObjects(job *config.Job) []string {
	var out []string
	for _, c := range job.Children {
		out = append(out, c.Object)
	}
	return out
}

// columns lists the local columns the job's classified rules read (the
// parent's and the children's: a row carries them all), and the column of
// a classified each (its values say what happened to the person), each
// once.
func columns(m *mapping.JobMapping) []string {
	var out []string
	add := func(c string) {
		if c = strings.TrimSpace(c); c != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, c) }) {
			out = append(out, c)
		}
	}
	for _, mem := range m.Members() {
		for _, r := range mem.Rules {
			if classified(r) {
				add(r.Local)
			}
		}
		if c, _, class, ok := mem.EachColumn(); ok && class != "" && class != config.PIINone {
			add(c)
		}
	}
	return out
}

// eraseLocal blanks the classified columns of the keys' rows: in a
// sheet and its backups, or (a database) by setting them to NULL.
func (e *Eraser) eraseLocal(ctx context.Context, job *config.Job, m *mapping.JobMapping, local connector.Connector, rep *Report, dryRun bool) error {
	cols := columns(m)
	keys := make([]string, len(rep.Keys))
	for i, k := range rep.Keys {
		keys[i] = k.Key
	}
	byKey := func(k string) *KeyReport {
		for i := range rep.Keys {
			if connector.KeyID(rep.Keys[i].Key, false) == connector.KeyID(k, false) {
				return &rep.Keys[i]
			}
		}
		return nil
	}
	if sh, ok := local.(*sheet.Connector); ok {
		sh.SetBackupIdentities(e.BackupIdentities...)
		done, err := sh.Erase(ctx, m.LocalObject, keys, cols, dryRun)
		if err != nil {
			return err
		}
		for _, d := range done {
			if d.Removed {
				rep.BackupsRemoved++
				continue
			}
			kr := byKey(d.Key)
			if kr == nil {
				continue
			}
			if d.Backup {
				if len(d.Columns) > 0 {
					kr.Backups++
				}
				continue
			}
			kr.LocalFound = true
			kr.Local = d.Columns
		}
		return nil
	}
	// A database: the columns of the keys' rows, soft-deleted ones too,
	// set to NULL (connector/sqldb's Erase).
	db, ok := local.(interface {
		Erase(ctx context.Context, object string, keys, columns []string, dryRun bool) (map[string][]string, error)
	})
	if !ok {
		return fmt.Errorf("source %s cannot be erased by casebridge: erase its rows by hand", job.Source.Name)
	}
	done, err := db.Erase(ctx, m.LocalObject, keys, cols, dryRun)
	if err != nil {
		return fmt.Errorf("source %s: %w", job.Source.Name, err)
	}
	for k, names := range done {
		if r := byKey(k); r != nil {
			r.LocalFound, r.Local = true, names
		}
	}
	return nil
}

// eraseSalesforce anonymises the keys' records of one member of the job
// (the parent, or a child keyed by the parent's key and its suffix) by
// the classes of its rules; the records of a classified each are deleted.
func (e *Eraser) eraseSalesforce(ctx context.Context, mem *mapping.Member, rep *Report, dryRun bool) error {
	kr, ok := e.Salesforce.(connector.KeyReader)
	sink, ok2 := e.Salesforce.(connector.Sink)
	if !ok || !ok2 {
		return errors.New("the Salesforce connector cannot read by key and write")
	}
	o := mem.Desc
	var fields []string
	class := map[string]config.PII{}
	_, eachField, eachClass, isEach := mem.EachColumn()
	deleteEach := isEach && eachClass != "" && eachClass != config.PIINone
	for _, r := range mem.Rules {
		// A classified each's value is written as a constant of its
		// record: it is erased like a field of the each's class.
		if !classified(r) || r.IsConstant && !(isEach && r.SF == eachField) || r.SF == "" {
			continue
		}
		f := o.Field(r.SF)
		if f == nil {
			continue
		}
		if prev, ok := class[f.Name]; !ok || stricter(r.Class, prev) {
			if !ok {
				fields = append(fields, f.Name)
			}
			class[f.Name] = r.Class
		}
	}
	if len(fields) == 0 {
		return nil
	}
	keys := make([]string, len(rep.Keys))
	for i, k := range rep.Keys {
		keys[i] = k.SFKey + mem.KeySuffix
	}
	var writes []connector.Record
	var reports []*KeyReport
	rctx := connector.WithFields(ctx, fields)
	err := kr.ReadKeys(rctx, mem.Object, keys, func(rec connector.Record) error {
		var r *KeyReport
		for i := range rep.Keys {
			if o.KeyID(keys[i]) == o.KeyID(rec.Key) {
				r = &rep.Keys[i]
			}
		}
		if r == nil {
			return nil
		}
		if mem.IsParent() {
			r.SFFound = true
		}
		r.SFRecords++
		if deleteEach {
			r.Salesforce = append(r.Salesforce, FieldDone{Object: mem.Object, Child: mem.Name, Field: eachField, Class: eachClass, Action: Deleted})
			writes = append(writes, connector.Record{Key: rec.Key})
			reports = append(reports, r)
			return nil
		}
		w := connector.Record{Key: rec.Key, Fields: map[string]connector.Value{}}
		for _, name := range fields {
			f := o.Field(name)
			nv, act := anonymise(class[name], f, rec.Fields[f.Name])
			if act == "" {
				continue // nothing there, or already as erase leaves it
			}
			if !f.Updateable {
				act = NotWritten
			} else {
				w.Fields[f.Name] = nv
			}
			r.Salesforce = append(r.Salesforce, FieldDone{Object: mem.Object, Child: mem.Name, Field: f.Name, Class: class[name], Action: act})
		}
		if len(w.Fields) > 0 {
			writes = append(writes, w)
			reports = append(reports, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("salesforce %s: %w", mem.Object, err)
	}
	if dryRun || len(writes) == 0 {
		return nil
	}
	var res []connector.Result
	if deleteEach {
		keys := make([]string, len(writes))
		for i, w := range writes {
			keys[i] = w.Key
		}
		res, err = sink.Delete(ctx, mem.Object, keys)
	} else {
		res, err = sink.Upsert(ctx, mem.Object, writes)
	}
	if err != nil {
		return fmt.Errorf("salesforce %s: %w", mem.Object, err)
	}
	for i, r := range res {
		if r.Err != nil && reports[i].SFError == nil {
			reports[i].SFError = r.Err
		}
	}
	return nil
}

// stricter reports whether class a is stricter than b for erasure: a
// field read by a direct or sensitive rule and a quasi one is cleared.
func stricter(a, b config.PII) bool {
	rank := func(p config.PII) int {
		switch p {
		case config.PIIDirect, config.PIISensitive:
			return 2
		case config.PIIQuasi:
			return 1
		}
		return 0
	}
	return rank(a) > rank(b)
}

// anonymise returns what erase writes in place of v in field f of class
// c, and the action; "" when v is already as erase leaves it.
func anonymise(c config.PII, f *connector.Field, v connector.Value) (connector.Value, Action) {
	if c == config.PIIQuasi {
		switch f.Type {
		case connector.TypeDate:
			if d, ok := v.Date(); ok {
				y := connector.Date{Year: d.Year, Month: time.January, Day: 1}
				if d == y {
					return v, ""
				}
				return connector.DateValue(y), Coarsened
			}
		case connector.TypeDateTime:
			if t, ok := v.DateTime(); ok {
				y := time.Date(t.Year(), time.January, 1, 0, 0, 0, 0, time.UTC)
				if t.Equal(y) {
					return v, ""
				}
				return connector.DateTime(y), Coarsened
			}
		}
	}
	if v.IsNull() {
		return v, ""
	}
	return connector.Null(), Cleared
}

// forget removes the keys' record state (the parent's and each child's:
// their fingerprints are pseudonymous copies of what was erased) and
// leaves the parent's tombstones, in one transaction per job fenced by
// the job's lease.
func (e *Eraser) forget(ctx context.Context, job string, token int64, m *mapping.JobMapping, rep *Report) error {
	now := e.now()
	for _, mem := range m.Members() {
		name, o := job, mem.Desc
		if !mem.IsParent() {
			name = job + "/" + mem.Name // as the runner names a child's job
		}
		conflicts, err := e.Store.Conflicts(ctx, name)
		if err != nil {
			return err
		}
		err = e.Store.Update(ctx, name, func(tx state.Tx) error {
			if err := tx.FenceOn(job, token, now); err != nil {
				return err
			}
			for i := range rep.Keys {
				if rep.Keys[i].SFError != nil {
					// Not erased in Salesforce: forgotten, the next sync
					// would take the record's values for a first sync's
					// and write them back into the blanked cells.
					continue
				}
				id := o.KeyID(rep.Keys[i].SFKey + mem.KeySuffix)
				for _, c := range conflicts {
					if c.Key == id {
						if err := tx.CloseConflict(c.Key, c.Field); err != nil {
							return err
						}
					}
				}
				if err := tx.ClearPending(id); err != nil {
					return err
				}
				if err := tx.DeleteRecord(id); err != nil {
					return err
				}
				if mem.IsParent() && !rep.Keys[i].NotFound {
					if err := tx.AddTombstone(mem.Object, e.FP.KeyHash(id), now); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i := range rep.Keys {
		k := &rep.Keys[i]
		if k.SFError == nil {
			k.StateForgotten, k.Tombstone = true, !k.NotFound
		}
	}
	return nil
}
