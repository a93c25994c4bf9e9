package reconcile

import (
	"errors"
	"fmt"
	"iter"
	"strings"
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
	// Writes in apply order: upserts to Salesforce, upserts to local,
	// deletes on Salesforce, deletes on local; by key within each.
	Writes []Write
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
	for _, w := range p.Writes {
		if w.Op == op {
			n++
		}
	}
	return n
}

// Lines returns one line per write and note, in plan order.
func (p *Plan) Lines() []string {
	out := make([]string, 0, p.Len())
	for l := range p.All() {
		out = append(out, l)
	}
	return out
}

// Len returns how many lines Lines would return.
func (p *Plan) Len() int { return len(p.Writes) + len(p.Notes) }

// All yields the lines of Lines one at a time, each made as it is
// yielded: a plan of a million writes prints without holding a million
// lines.
func (p *Plan) All() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, w := range p.Writes {
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

// ErrSafetyAbort is wrapped by every safety abort (max_delete, the
// match-rate brake). Nothing was written; --force (RunOptions.Force)
// overrides.
var ErrSafetyAbort = errors.New("safety abort")

// AbortError is a safety abort with its reason.
type AbortError struct{ Reason string }

func (e *AbortError) Error() string        { return "safety abort: " + e.Reason }
func (e *AbortError) Is(target error) bool { return target == ErrSafetyAbort }
