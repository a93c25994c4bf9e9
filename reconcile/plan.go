package reconcile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"unsafe"
)

// Op is a write operation.
type Op uint8

// Write operations. Creates and updates are both upserts by key.
const (
	OpCreate Op = iota + 1
	OpUpdate
	OpDelete
)

func (o Op) String() string {
	switch o {
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return "none"
}

// Change is one field a write sets, and why.
type Change struct {
	Field  string
	Reason string
}

// Write is one intended write of one record to one side.
type Write struct {
	Side Side
	Op   Op
	// Key is the record's key as the target side knows it (or will).
	Key string
	// Reason says why the record is created or deleted ("" for updates,
	// whose reasons are per field).
	Reason string
	// Changes lists the fields written: for an update each with its
	// reason, for a create every field set. A plan's writes that set the
	// same fields for the same reasons share one list: read it, never
	// modify it.
	Changes []Change

	e *entry
}

// String prints the write without any value:
//
//	update salesforce TH-0001: Stage__c (changed on local)
func (w Write) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", w.Op, w.Side, w.Key)
	switch w.Op {
	case OpUpdate:
		b.WriteString(":")
		for i, c := range w.Changes {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s (%s)", c.Field, c.Reason)
		}
	case OpCreate:
		fmt.Fprintf(&b, ": %s [", w.Reason)
		for i, c := range w.Changes {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(c.Field)
		}
		b.WriteString("]")
	default:
		fmt.Fprintf(&b, ": %s", w.Reason)
	}
	return b.String()
}

// NoteKind classifies a decision that writes nothing to either side.
type NoteKind string

// Note kinds.
const (
	NoteBaseline NoteKind = "baseline" // both sides changed alike: a new baseline only
	NoteConflict NoteKind = "conflict" // queued for manual resolution (key pending)
	NoteFlag     NoteKind = "flag"     // deleted on one side, kept on the other (deletes: flag)
	NoteUnknown  NoteKind = "unknown"  // unreadable, duplicate or unfingerprintable on a side: skipped
	NoteBlocked  NoteKind = "blocked"  // a tombstone stops re-creation
	NoteMatched  NoteKind = "matched"  // paired by match_on at first sync
	NoteGated    NoteKind = "gated"    // consent withdrawn: the field does not flow
	NoteLinked   NoteKind = "linked"   // a new local row links to this Salesforce record (its Id in the link column)
	NoteRekey    NoteKind = "rekey"    // the Salesforce record takes the key the local database generated
	NoteAdopted  NoteKind = "adopted"  // a Salesforce record without a key takes one and is created on local (Job.Adopt)
	NoteKeyless  NoteKind = "keyless"  // a Salesforce record without a key, not in the job (reported once)
	// NoteLeftScope: the Salesforce record left the job's where; kept on
	// both sides, no longer synced (reported once).
	NoteLeftScope NoteKind = "left_scope"
	// NoteAmbiguous: match_on pairs the record with several others: no
	// pair, no create, held for a person.
	NoteAmbiguous NoteKind = "ambiguous"
)

// Note is a decision that writes nothing to either side.
type Note struct {
	Kind   NoteKind
	Key    string
	Field  string // "" for record-level notes
	Detail string
}

func (n Note) String() string {
	s := string(n.Kind) + " " + n.Key
	if n.Field != "" {
		s += "." + n.Field
	}
	if n.Detail != "" {
		s += ": " + n.Detail
	}
	return s
}

// Plan is the complete list of what a run intends to write, with the reason
// for each write, and the decisions that write nothing. It holds no value
// that String or its exported fields would reveal.
type Plan struct {
	Job string
	// First is true for a first sync (no state yet).
	First bool
	// Incremental is true when Salesforce was read from a cursor.
	Incremental bool
	// writes, in apply order (upserts to Salesforce, upserts to local,
	// deletes on Salesforce, deletes on local; by key within each), kept
	// compact: read them with NumWrites, WriteAt and AllWrites.
	writes writeList
	Notes  []Note
	// Seen counts the records present on each side; Matched those present
	// on both.
	Seen    [2]int
	Matched int
	// Unreadable counts records with no usable key.
	Unreadable [2]int
	// Deferred is true when the run wrote the records an earlier run held
	// back for the API budget before reading Salesforce's changes, which
	// wait for the next run.
	Deferred bool
	// Keyless counts the Salesforce records without a key that the run
	// left alone (neither paired nor adopted); KeylessNew those of them
	// no earlier run reported (each has a NoteKeyless).
	Keyless, KeylessNew int
}

// Count returns how many writes of op the plan holds.
func (p *Plan) Count(op Op) int {
	n := 0
	for _, r := range p.writes.recs {
		if r.op == op {
			n++
		}
	}
	return n
}

// NumWrites returns how many writes the plan holds.
func (p *Plan) NumWrites() int { return len(p.writes.recs) }

// WriteAt returns the plan's write i (0 <= i < NumWrites), in the order
// the writes were added. It allocates nothing: the Key shares the plan's
// storage and Changes is the plan's one copy of the list (read it, never
// modify it). A write with no changes has nil Changes.
func (p *Plan) WriteAt(i int) Write { return p.writes.at(i) }

// AllWrites yields the plan's writes with their index (as WriteAt's), in
// order, one at a time: a plan of a million writes is read without a
// million Write values at once.
func (p *Plan) AllWrites() iter.Seq2[int, Write] {
	return func(yield func(int, Write) bool) {
		for i := range p.writes.recs {
			if !yield(i, p.writes.at(i)) {
				return
			}
		}
	}
}

// AddWrites appends ws to the plan's writes, after those it holds: for a
// plan made by hand (a tool's or a test's); a run's engine makes its own.
// The plan keeps no reference to ws; it keeps each Changes list as is,
// shared with ws (do not modify it after).
func (p *Plan) AddWrites(ws ...Write) { p.addWrites(ws) }

// addWrites appends ws to the plan's writes; a large run adds its writes
// in parts, in apply order. The entries ws link to are not kept.
func (p *Plan) addWrites(ws []Write) { p.writes.add(ws) }

// Lines returns one line per write and note, in plan order.
func (p *Plan) Lines() []string {
	out := make([]string, 0, p.Len())
	for l := range p.All() {
		out = append(out, l)
	}
	return out
}

// Len returns how many lines Lines would return.
func (p *Plan) Len() int { return p.NumWrites() + len(p.Notes) }

// All yields the lines of Lines one at a time, each made as it is
// yielded: a plan of a million writes prints without holding a million
// lines.
func (p *Plan) All() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, w := range p.AllWrites() {
			if !yield(w.String()) {
				return
			}
		}
		for _, n := range p.Notes {
			if !yield(n.String()) {
				return
			}
		}
	}
}

// String returns Lines joined by newlines.
func (p *Plan) String() string { return strings.Join(p.Lines(), "\n") }

// writeList holds a plan's writes in about 16 bytes each plus the key's
// bytes, where a Write takes some 80 plus the key's string: a dry run of a
// million rows plans a million writes. Reasons and change lists, few and
// shared by many writes, are kept once each.
type writeList struct {
	recs []writeRec
	// keys holds every key's bytes, one after another. It is only ever
	// appended to, so a key read from it (unsafe.String) never changes.
	keys    []byte
	reasons []string          // reasons[0] is ""
	reason  map[string]uint16 // index in reasons
	changes [][]Change        // changes[0] is nil
	change  map[string]uint32 // index in changes, by changeSig
	// Keys and reasons too long or too many for a writeRec's fields: by
	// write index (none in practice, but a key has no fixed limit).
	longKeys    map[int]string
	moreReasons map[int]string
}

// writeRec is one write of a writeList: 16 bytes.
type writeRec struct {
	keyOff  uint32 // in keys
	keyLen  uint16 // noIndex16: in longKeys
	side    Side
	op      Op
	reason  uint16 // in reasons; noIndex16: in moreReasons
	changes uint32 // in changes
}

const noIndex16 = math.MaxUint16

func (l *writeList) at(i int) Write {
	r := l.recs[i]
	w := Write{Side: r.side, Op: r.op, Changes: l.changes[r.changes]}
	switch {
	case r.keyLen == noIndex16:
		w.Key = l.longKeys[i]
	case r.keyLen > 0:
		w.Key = unsafe.String(&l.keys[r.keyOff], int(r.keyLen))
	}
	if r.reason == noIndex16 {
		w.Reason = l.moreReasons[i]
	} else {
		w.Reason = l.reasons[r.reason]
	}
	return w
}

func (l *writeList) add(ws []Write) {
	if len(ws) == 0 {
		return
	}
	if l.reasons == nil {
		l.reasons, l.reason = []string{""}, map[string]uint16{"": 0}
		l.changes, l.change = [][]Change{nil}, map[string]uint32{}
	}
	n := 0
	for _, w := range ws {
		if len(w.Key) < noIndex16 {
			n += len(w.Key)
		}
	}
	l.recs = slices.Grow(l.recs, len(ws))
	l.keys = slices.Grow(l.keys, n)
	// The engine shares one Changes list among its writes that set the
	// same fields for the same reasons: it is looked up by content once
	// per list and call, then by where it starts.
	type listID struct {
		first *Change
		n     int
	}
	seen := map[listID]uint32{}
	var sig []byte
	for _, w := range ws {
		i := len(l.recs)
		r := writeRec{side: w.Side, op: w.Op, keyOff: uint32(len(l.keys)), keyLen: uint16(len(w.Key))}
		if len(w.Key) >= noIndex16 || uint64(len(l.keys))+uint64(len(w.Key)) > math.MaxUint32 {
			r.keyOff, r.keyLen = 0, noIndex16
			if l.longKeys == nil {
				l.longKeys = map[int]string{}
			}
			l.longKeys[i] = w.Key
		} else {
			l.keys = append(l.keys, w.Key...)
		}
		r.reason = l.reasonIndex(i, w.Reason)
		if len(w.Changes) > 0 {
			id := listID{&w.Changes[0], len(w.Changes)}
			c, ok := seen[id]
			if !ok {
				sig = changeSig(sig[:0], w.Changes)
				if c, ok = l.change[string(sig)]; !ok {
					c = uint32(len(l.changes))
					l.changes = append(l.changes, slices.Clip(w.Changes))
					l.change[string(sig)] = c
				}
				seen[id] = c
			}
			r.changes = c
		}
		l.recs = append(l.recs, r)
	}
}

func (l *writeList) reasonIndex(i int, reason string) uint16 {
	if k, ok := l.reason[reason]; ok {
		return k
	}
	if len(l.reasons) < noIndex16 {
		k := uint16(len(l.reasons))
		l.reasons = append(l.reasons, reason)
		l.reason[reason] = k
		return k
	}
	if l.moreReasons == nil {
		l.moreReasons = map[int]string{}
	}
	l.moreReasons[i] = reason
	return noIndex16
}

// changeSig appends to b what identifies cs by content: each field and
// reason, length first.
func changeSig(b []byte, cs []Change) []byte {
	for _, c := range cs {
		b = binary.AppendUvarint(b, uint64(len(c.Field)))
		b = append(b, c.Field...)
		b = binary.AppendUvarint(b, uint64(len(c.Reason)))
		b = append(b, c.Reason...)
	}
	return b
}

// ErrSafetyAbort is wrapped by every safety abort (max_delete, the
// match-rate brake). Nothing was written; --force (RunOptions.Force)
// overrides.
var ErrSafetyAbort = errors.New("safety abort")

// AbortError is a safety abort with its reason.
type AbortError struct{ Reason string }

func (e *AbortError) Error() string        { return "safety abort: " + e.Reason }
func (e *AbortError) Is(target error) bool { return target == ErrSafetyAbort }
