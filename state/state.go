package state

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Errors returned by stores. Compare with errors.Is.
var (
	// ErrKeyMismatch: the state was written under another fingerprint key.
	ErrKeyMismatch = errors.New("state: fingerprint key differs from the one this state was written with " +
		"(a lost or replaced key): put the old key back, or start the state over under this key with " +
		"'casebridge key reset CONFIG', which writes nothing to either side (the next run is a first sync: check it with sync --dry-run)")
	// ErrNotFound: no such conflict (or other row) to change.
	ErrNotFound = errors.New("state: not found")
	// ErrCorrupt: a stored row could not be decoded.
	ErrCorrupt = errors.New("state: corrupt record")
	// ErrLocked: another holder has a live lease on the job.
	ErrLocked = errors.New("state: job is locked")
	// ErrLeaseLost: the lease expired or was taken over; the holder must
	// stop without writing.
	ErrLeaseLost = errors.New("state: lease lost")
)

// Fingerprint is a 64-bit keyed MAC of a canonical value. Zero means
// "none": no value was ever seen or agreed on.
//
// A record state holds its field values' fingerprints bound to the record
// (RecordState.Salt): the engine (package reconcile) makes them from the
// job, the object, the field, the record's salt and the value, under a key
// derived from the fingerprint key, so equal values in two records or two
// fields are stored as different fingerprints, and a guessed value cannot
// be tested against a state without the key.
type Fingerprint uint64

// String prints the fingerprint as 16 hex digits ("-" for none).
func (f Fingerprint) String() string {
	if f == 0 {
		return "-"
	}
	return fmt.Sprintf("%016x", uint64(f))
}

// FieldState is what the state keeps about one field of one record: the
// baseline (the value both sides last agreed on), the value last seen on
// each side, and the hash of the field's rule the baseline was made under.
// Never a value.
type FieldState struct {
	Field string
	Base  Fingerprint
	SF    Fingerprint
	Local Fingerprint
	Rule  Fingerprint
}

// Flags are record-level markers.
type Flags uint8

// Record flags.
const (
	// FlagSFDeleted: the record was deleted on Salesforce and the delete
	// was flagged or ignored rather than propagated.
	FlagSFDeleted Flags = 1 << iota
	// FlagLocalDeleted: likewise for the local side.
	FlagLocalDeleted
	// FlagLeftScope: the Salesforce record left the job's where after
	// being in the job. It was reported once; the job writes nothing to
	// either side for it until it is read in the where again.
	FlagLeftScope
)

// RecordState is the state of one record of a job.
type RecordState struct {
	// Key is the record's identity: the Salesforce key in KeyID form.
	Key string
	// SFKey and LocalKey are the keys as each side last gave them
	// (NormalizeKey form). They differ in more than case only for records
	// paired by match_on.
	SFKey    string
	LocalKey string
	Flags    Flags
	// Salt is the random value the record's fingerprints are bound to
	// (SaltLen bytes; it moves with the record when its key changes).
	// Empty for a record written before fingerprints were bound (format
	// 1): its fingerprints depend on the value alone, and the engine
	// binds them the next time it commits the job.
	Salt []byte
	// Fields is sorted by Field.
	Fields []FieldState
}

// SaltLen is the length of a record's salt (RecordState.Salt).
const SaltLen = 16

// Field returns the state of the named field, or nil.
func (r *RecordState) Field(name string) *FieldState {
	i, ok := slices.BinarySearchFunc(r.Fields, name, func(f FieldState, n string) int { return strings.Compare(f.Field, n) })
	if !ok {
		return nil
	}
	return &r.Fields[i]
}

// SetField sets (adding or replacing) a field's state, keeping Fields sorted.
func (r *RecordState) SetField(fs FieldState) {
	i, ok := slices.BinarySearchFunc(r.Fields, fs.Field, func(f FieldState, n string) int { return strings.Compare(f.Field, n) })
	if ok {
		r.Fields[i] = fs
		return
	}
	r.Fields = slices.Insert(r.Fields, i, fs)
}

// encodeFields encodes field states as stored: a version byte, the salt
// (version 2 only), a count and, per field, its name and four
// fingerprints. Version 1 (no salt) is a record whose fingerprints are not
// bound; it is written only for a RecordState without a salt.
func encodeFields(salt []byte, fs []FieldState) []byte {
	b := make([]byte, 0, 2+len(salt)+len(fs)*48)
	if len(salt) > 0 {
		b = append(b, 2)
		b = append(b, salt...)
	} else {
		b = append(b, 1)
	}
	b = binary.AppendUvarint(b, uint64(len(fs)))
	for _, f := range fs {
		b = binary.AppendUvarint(b, uint64(len(f.Field)))
		b = append(b, f.Field...)
		b = binary.BigEndian.AppendUint64(b, uint64(f.Base))
		b = binary.BigEndian.AppendUint64(b, uint64(f.SF))
		b = binary.BigEndian.AppendUint64(b, uint64(f.Local))
		b = binary.BigEndian.AppendUint64(b, uint64(f.Rule))
	}
	return b
}

// decodeFields decodes encodeFields' output: the salt (nil for version 1)
// and the field states. intern, when not nil, returns a shared copy of a
// field name so that 100,000 records do not each hold their own copy of
// every name; salts, when not nil, returns room for a salt (salts of many
// records share one allocation).
func decodeFields(b []byte, intern func([]byte) string, salts func() []byte) (salt []byte, fs []FieldState, err error) {
	if len(b) == 0 || b[0] != 1 && b[0] != 2 {
		return nil, nil, ErrCorrupt
	}
	if b[0] == 2 {
		if len(b) < 1+SaltLen {
			return nil, nil, ErrCorrupt
		}
		if salts != nil {
			salt = salts()
		} else {
			salt = make([]byte, SaltLen)
		}
		copy(salt, b[1:1+SaltLen])
		b = b[SaltLen:]
	}
	b = b[1:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return nil, nil, ErrCorrupt
	}
	b = b[w:]
	out := make([]FieldState, 0, n)
	for range n {
		l, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < l+32 {
			return nil, nil, ErrCorrupt
		}
		b = b[w:]
		var name string
		if intern != nil {
			name = intern(b[:l])
		} else {
			name = string(b[:l])
		}
		b = b[l:]
		out = append(out, FieldState{
			Field: name,
			Base:  Fingerprint(binary.BigEndian.Uint64(b)),
			SF:    Fingerprint(binary.BigEndian.Uint64(b[8:])),
			Local: Fingerprint(binary.BigEndian.Uint64(b[16:])),
			Rule:  Fingerprint(binary.BigEndian.Uint64(b[24:])),
		})
		b = b[32:]
	}
	if len(b) != 0 {
		return nil, nil, ErrCorrupt
	}
	return salt, out, nil
}

// Reason says why a key is pending: why it must be re-fetched by key and
// looked at again next run.
type Reason string

// Pending reasons.
const (
	ReasonFailedWrite   Reason = "failed_write"   // a write to one side failed
	ReasonConflict      Reason = "conflict"       // a manual conflict is open
	ReasonPendingCreate Reason = "pending_create" // a create has not happened yet
	ReasonBudget        Reason = "budget"         // a write held back by a budget
	ReasonUnknown       Reason = "unknown"        // unreadable on one side this run
)

// Pending is one pending entry of a job. A key may have several reasons.
type Pending struct {
	Key    string // KeyID
	Reason Reason
	Code   string // error code for failed writes; never a value
	Since  time.Time
}

// Side names a side of a sync in conflict resolutions.
type Side string

// Sides.
const (
	SideSalesforce Side = "salesforce"
	SideLocal      Side = "local"
)

// Conflict is an entry of the manual conflict queue: one field of one
// record changed differently on both sides.
type Conflict struct {
	Key    string // KeyID
	Field  string
	SF     Fingerprint // the fingerprints when last seen, to show it moved
	Local  Fingerprint // (bound as the record's are: RecordState.Salt)
	Opened time.Time
	// Resolution is set by an admin (ResolveConflict): the side whose
	// current value wins at the next run. Empty while open.
	Resolution Side
	Resolved   time.Time
}

// Outcome is how a run ended.
type Outcome string

// Run outcomes.
const (
	OutcomeRunning Outcome = "running"
	OutcomeOK      Outcome = "ok"      // applied; some records may be pending
	OutcomeDryRun  Outcome = "dry_run" // planned, nothing written
	OutcomeAborted Outcome = "aborted" // a safety abort before any write
	OutcomeFailed  Outcome = "failed"  // a fatal error
	OutcomeStopped Outcome = "stopped" // the API budget or limit reached: the rest is pending for the next run
)

// Counts are a run's totals.
type Counts struct {
	Read      int // records read on both sides
	Creates   int
	Updates   int
	Deletes   int
	Conflicts int
	Failures  int
	// Unreadable counts the rows or records read without a usable key
	// (a row an unclosed quote swallowed others into, an emptied key
	// cell, a key that cannot be a key). Records not seen on that side
	// are unknown, never deleted; a row that could not be read whole
	// (ROW_UNREADABLE) holds deletes on both sides.
	Unreadable int
	// Unmapped counts the cells that did not map (an impossible date, a
	// value no rule knows): the field is unknown for the run.
	Unmapped int
}

// Run is one entry of a job's run history.
type Run struct {
	ID       int64
	Job      string
	Start    time.Time
	End      time.Time
	Outcome  Outcome
	Counts   Counts
	APICalls int
	// Error is the run's error message (no values), if it failed.
	Error string
	// Stage is where a failed run stopped: start, login, salesforce,
	// state, source, mapping, plan or sync (the stage its failure alert
	// and the metrics name). Empty for a run that did not fail, and for
	// one whose stage is not known (a run a killed process left open, a
	// run recorded before stages were).
	Stage string
}

// RecordErr is one entry of the per-record error log: which record and
// field failed and with which code, never a value.
type RecordErr struct {
	RunID   int64
	Key     string
	Field   string
	Code    string
	Message string
	At      time.Time
}

// BulkJob is a Salesforce Bulk API 2.0 ingest job a run started, recorded
// before any data was uploaded (doc/architecture.md §5.11) and forgotten once it is known
// to have ended, so that a run that crashed while the job was open or still
// processing leaves it behind for the next run to drain.
type BulkJob struct {
	Job       string // the casebridge job
	Object    string // the Salesforce object
	Operation string // upsert, delete, ...
	ID        string // the Bulk API job id
	Created   time.Time
}

// Lockout marks a job that a run left with a state it cannot vouch for
// (reconcile's critical errors): runs of the job refuse to start until a
// resync run clears it.
type Lockout struct {
	Job   string
	Cause string // the run's error; no values
	RunID int64  // the run that failed, 0 if unknown
	Since time.Time
}

// Store keeps a job's sync state: fingerprints, cursors, pending keys,
// conflicts, tombstones, run history and the error log. Implementations are
// safe for concurrent use; callbacks must not call back into the Store.
type Store interface {
	// CheckKeyID records id as the fingerprint key's id on first use and
	// returns ErrKeyMismatch if another id was recorded before.
	CheckKeyID(ctx context.Context, id string) error

	// Records calls fn for each record state of job, in no particular order.
	Records(ctx context.Context, job string, fn func(RecordState) error) error
	// Record returns one record state; ok is false if there is none.
	Record(ctx context.Context, job, key string) (rs RecordState, ok bool, err error)
	// Cursor returns the job's named cursor, "" if none.
	Cursor(ctx context.Context, job, name string) (string, error)
	// Pending returns the job's pending entries, sorted by key and reason.
	Pending(ctx context.Context, job string) ([]Pending, error)
	// Conflicts returns the job's conflict queue (open and resolved but not
	// yet applied), sorted by key and field.
	Conflicts(ctx context.Context, job string) ([]Conflict, error)
	// ResolveConflict records the winning side of an open conflict; the
	// next run applies it. ErrNotFound if no such conflict is queued.
	ResolveConflict(ctx context.Context, job, key, field string, winner Side, at time.Time) error
	// Tombstones returns the tombstoned key hashes of scope with their time.
	Tombstones(ctx context.Context, scope string) (map[string]time.Time, error)
	// ForgetTombstone removes a tombstone, so the key may be created
	// again; false if there was none.
	ForgetTombstone(ctx context.Context, scope, keyHash string) (bool, error)

	// LookupIDs returns the lookup cache of scope (a lookup's object and
	// field, "account.vcms__partner_code__c"): the Salesforce Id each
	// value resolved to, by the value's keyed hash (never the value).
	LookupIDs(ctx context.Context, scope string) (map[string]string, error)
	// PutLookupIDs remembers the Ids of values of scope, by value hash,
	// replacing the Id an entry held.
	PutLookupIDs(ctx context.Context, scope string, ids map[string]string, at time.Time) error
	// ForgetLookupIDs forgets the entries of scope that resolve to any of
	// ids (a deleted record's), or every entry of scope when no id is
	// given, and returns how many it forgot. A forgotten value is resolved
	// again next time.
	ForgetLookupIDs(ctx context.Context, scope string, ids ...string) (int, error)

	// StartRun adds a run (outcome running) and returns its id.
	StartRun(ctx context.Context, job string, start time.Time) (int64, error)
	// FinishRun records a run's end, outcome, counts and error.
	FinishRun(ctx context.Context, r Run) error
	// SetRunStage records the stage a finished run failed at (Run.Stage):
	// the engine records its runs without knowing how the runner
	// classifies their errors. ErrNotFound if there is no such run.
	SetRunStage(ctx context.Context, id int64, stage string) error
	// InterruptRuns records the runs of job and of its child jobs
	// (job/...) still marked running as failed at end with reason: their
	// process ended without finishing them (killed, the machine stopped).
	// Call it holding the job's lease, when no run of it can be going on.
	// It returns the ids of the runs it closed.
	InterruptRuns(ctx context.Context, job string, end time.Time, reason string) ([]int64, error)
	// Runs returns the job's last limit runs, newest first.
	Runs(ctx context.Context, job string, limit int) ([]Run, error)
	// Errors returns the error log of a run (runID 0: of every run of job).
	Errors(ctx context.Context, job string, runID int64) ([]RecordErr, error)

	// Acquire takes the job's lease for holder until now+ttl and returns
	// its fencing token, which grows with every acquisition. A live lease
	// of another holder gives ErrLocked; an expired one is taken over, and
	// so is one whose holder is a process of this host that is gone
	// (HolderGone).
	Acquire(ctx context.Context, job, holder string, ttl time.Duration, now time.Time) (token int64, err error)
	// Renew extends a lease still held under token; ErrLeaseLost if it
	// expired or was taken over.
	Renew(ctx context.Context, job string, token int64, ttl time.Duration, now time.Time) error
	// Release gives the lease up (no error if it is already gone).
	Release(ctx context.Context, job string, token int64) error
	// Lease returns the job's lease as last taken (expired or not); ok
	// is false when it was never taken.
	Lease(ctx context.Context, job string) (l Lease, ok bool, err error)
	// BreakLease ends the job's lease whoever holds it, and returns it as
	// it was (ok false: never taken). A person's decision: the holder's
	// next renewal fails (ErrLeaseLost) and its fenced writes are refused.
	BreakLease(ctx context.Context, job string) (l Lease, ok bool, err error)

	// AddBulkJob records a bulk job of a run; called before its data is
	// uploaded. Recording the same id twice is not an error.
	AddBulkJob(ctx context.Context, b BulkJob) error
	// BulkJobs returns the job's recorded bulk jobs, oldest first.
	BulkJobs(ctx context.Context, job string) ([]BulkJob, error)
	// RemoveBulkJob forgets a bulk job once it has ended (no error if it
	// is not recorded).
	RemoveBulkJob(ctx context.Context, job, id string) error

	// LockOut locks job out. A job already locked out keeps its first
	// cause and time.
	LockOut(ctx context.Context, l Lockout) error
	// Lockout returns the job's lockout; ok is false when it has none.
	Lockout(ctx context.Context, job string) (l Lockout, ok bool, err error)
	// ClearLockout lifts the job's lockout (no error if it has none).
	ClearLockout(ctx context.Context, job string) error

	// ClaimRun claims the run of job scheduled at scheduledAt for holder:
	// true for the first claim, false for every later one, whoever makes
	// it (replicas sharing the store fire the same schedule; each runs
	// only what it claimed). A run is identified by job and scheduledAt's
	// wall-clock reading in its own location, to the second: pass it in
	// the schedule's zone, and a wall time that a daylight-saving change
	// repeats (two instants) is one run. Claims older than 31 days are
	// forgotten.
	ClaimRun(ctx context.Context, job string, scheduledAt time.Time, holder string) (claimed bool, err error)

	// Update runs fn in one transaction on job's state: all of fn's
	// changes are committed together, or none if fn (or the commit) fails.
	Update(ctx context.Context, job string, fn func(Tx) error) error

	Close() error
}

// Tx changes one job's state inside Store.Update.
type Tx interface {
	// Fence returns ErrLeaseLost unless the job's lease is still held
	// under token at now; called first, it makes the transaction's writes
	// conditional on the lease (a paused-then-resumed holder cannot write
	// over its successor).
	Fence(token int64, now time.Time) error
	// FenceOn is Fence on another job's lease: a child job's transactions
	// are fenced by the lease of the job whose run includes it.
	FenceOn(job string, token int64, now time.Time) error
	PutRecord(rs RecordState) error
	DeleteRecord(key string) error
	SetCursor(name, value string) error
	// SetPending adds (or refreshes) one pending entry.
	SetPending(p Pending) error
	// ClearPending removes every pending entry of key.
	ClearPending(key string) error
	// OpenConflict queues a conflict or refreshes its fingerprints; an
	// existing entry keeps its Opened time and any resolution.
	OpenConflict(c Conflict) error
	// CloseConflict removes a conflict from the queue (no error if absent).
	CloseConflict(key, field string) error
	AddTombstone(scope, keyHash string, at time.Time) error
	// PutLookupIDs is Store.PutLookupIDs inside the transaction: after
	// Fence, a replica that lost the lease cannot replace the Ids its
	// successor paired (a child keyed by its parent, written by Id).
	PutLookupIDs(scope string, ids map[string]string, at time.Time) error
	// ForgetOtherLookupIDs forgets, for each Id of keep, the entries of
	// scope resolving to it but those whose hashes keep lists under it:
	// a scope pairing keys and records one to one (a child keyed by its
	// parent) drops the key a record moved under another parent derived
	// before, which would write it with the old parent's data.
	ForgetOtherLookupIDs(scope string, keep map[string][]string) error
	LogError(e RecordErr) error
}

// AppendRecord appends rs to dst in a compact binary form that
// RecordReader.Parse reads back: for a caller that keeps the records of a
// job outside the store for a while (a run planned in parts sorts them
// into one file per part). It holds what the store holds: keys, flags,
// salt and fingerprints, no value.
func AppendRecord(dst []byte, rs RecordState) []byte {
	for _, s := range []string{rs.Key, rs.SFKey, rs.LocalKey} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = append(dst, byte(rs.Flags))
	return append(dst, encodeFields(rs.Salt, rs.Fields)...)
}

// RecordReader reads what AppendRecord wrote. Field names are shared
// among the records it reads.
type RecordReader struct {
	names map[string]string
}

// Parse returns the record b holds.
func (rr *RecordReader) Parse(b []byte) (RecordState, error) {
	var rs RecordState
	var keys [3]string
	for i := range keys {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return rs, ErrCorrupt
		}
		keys[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) == 0 {
		return rs, ErrCorrupt
	}
	rs.Key, rs.SFKey, rs.LocalKey, rs.Flags = keys[0], keys[1], keys[2], Flags(b[0])
	if rr.names == nil {
		rr.names = map[string]string{}
	}
	intern := func(b []byte) string {
		if n, ok := rr.names[string(b)]; ok {
			return n
		}
		n := string(b)
		rr.names[n] = n
		return n
	}
	var err error
	rs.Salt, rs.Fields, err = decodeFields(b[1:], intern, nil)
	return rs, err
}
