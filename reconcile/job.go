package reconcile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// Side is one side of a sync.
type Side uint8

// The two sides.
const (
	SF    Side = 0 // Salesforce
	Local Side = 1 // the local source, already in Salesforce terms
)

// String names the side as config and reports do: "salesforce", "local".
func (s Side) String() string {
	if s == SF {
		return "salesforce"
	}
	return "local"
}

// Other returns the other side.
func (s Side) Other() Side { return 1 - s }

// Direction says which way a job or field syncs.
type Direction string

// Directions.
const (
	Both           Direction = "both"
	ToSalesforce   Direction = "to_salesforce"
	FromSalesforce Direction = "from_salesforce"
)

// writes reports whether direction d lets the engine write side s.
func (d Direction) writes(s Side) bool {
	switch d {
	case ToSalesforce:
		return s == SF
	case FromSalesforce:
		return s == Local
	}
	return true
}

// source returns the side a one-way direction copies from.
func (d Direction) source() (Side, bool) {
	switch d {
	case ToSalesforce:
		return Local, true
	case FromSalesforce:
		return SF, true
	}
	return 0, false
}

// Policy decides a conflict (or, as Job.Initial, a first-sync difference).
type Policy string

// Policies.
const (
	SalesforceWins Policy = "salesforce_wins"
	LocalWins      Policy = "local_wins"
	// NewestWins takes the value of the record modified last; it needs a
	// modification time on both sides (Object.Modified) and is rejected
	// otherwise. A record without one, or a tie, goes to Manual.
	NewestWins Policy = "newest_wins"
	// Manual queues the conflict in the state store and keeps the key
	// pending until `casebridge conflicts` resolves it or both sides agree.
	Manual Policy = "manual"
)

// DeletePolicy says what a delete seen on one side does to the other.
type DeletePolicy string

// Delete policies.
const (
	Propagate DeletePolicy = "propagate" // delete on the other side too
	Flag      DeletePolicy = "flag"      // keep the other side; report it every run
	Ignore    DeletePolicy = "ignore"    // keep the other side; say nothing
)

// Limit is a count or a percentage ("25", "5%"). The zero Limit is no
// limit.
type Limit struct {
	Count   int
	Percent float64
}

// ParseLimit parses "25" or "5%".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
			return Limit{}, fmt.Errorf("limit %q: want a percentage between 0%% and 100%%", s)
		}
		return Limit{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Limit{}, fmt.Errorf("limit %q: want a count or a percentage like 5%%", s)
	}
	return Limit{Count: n}, nil
}

// IsZero reports whether l sets no limit.
func (l Limit) IsZero() bool { return l.Count == 0 && l.Percent == 0 }

// exceeded reports whether n out of total goes over the limit.
func (l Limit) exceeded(n, total int) bool {
	switch {
	case l.Count > 0:
		return n > l.Count
	case l.Percent > 0:
		return float64(n) > l.Percent/100*float64(total)
	}
	return false
}

func (l Limit) String() string {
	if l.Percent > 0 {
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(l.Count)
}

// FieldSpec is one synced field, named as on Salesforce.
type FieldSpec struct {
	Name string
	// Direction overrides the job's; "" means the job's.
	Direction Direction
	// RuleHash identifies the mapping rule that produces the local value
	// (a hash of its config). When it changes, the field is synced again
	// under Job.Initial instead of looking like an edit of every record.
	RuleHash string
	// Class is the field's sensitivity (direct, quasi, sensitive, or "").
	Class string
}

// Job is one sync job as the engine sees it.
type Job struct {
	Name string
	// Object is the object on both sides (the local side is presented in
	// Salesforce terms). Keys are compared by the Salesforce object's key
	// field (KeyID).
	Object string
	Fields []FieldSpec
	// Direction is the job's direction; "" means Both.
	Direction Direction
	// Conflict decides fields changed differently on both sides;
	// "" means SalesforceWins.
	Conflict Policy
	// Initial decides fields that differ at first sync (or after a rule
	// change); "" means SalesforceWins. A null never overwrites a value.
	Initial Policy
	// Deletes is the delete policy; "" means Flag.
	Deletes DeletePolicy
	// MaxDelete aborts the run, before any write, when more deletes than
	// this are planned (a percentage is of the records in the state).
	MaxDelete Limit
	// MaxUpdate is the "everything changed" brake: more updates than this
	// planned for one side (a percentage is of the records in the state)
	// abort the run before any write, as when a changed date format or
	// locale makes every value differ without a rule change.
	MaxUpdate Limit
	// MatchOn names fields whose values pair records with different keys
	// that have no state yet (an org that predates casebridge), and
	// Salesforce records without a key with local rows (keyless.go).
	MatchOn []string
	// Adopt, when set, gives the Salesforce records without a key that
	// match_on does not pair a key of their own and creates them on the
	// local side (a case opened in Salesforce). Without it they are
	// reported once and left alone.
	Adopt *Adopt
	// MinMatchRate is the match-rate brake: at first sync, with both sides
	// non-empty, fewer matches than this share of the smaller side abort
	// the run. 0 means 0.1; a negative value turns the brake off.
	MinMatchRate float64
	// MinMatchSample is the smallest sample the match-rate brake judges:
	// it applies only when the smaller side holds at least this many of
	// the job's records (a first sync of 1 record against 4 others is not
	// a key_prefix typo). 0 means 10; a negative value means 1.
	MinMatchSample int
	// BatchSize is the number of records handed to a connector per write
	// call, the state committed after each; 0 means 50,000. A connector
	// splits a call into its own requests (Salesforce: Collections of 200,
	// several in flight, or one Bulk API 2.0 job above its threshold), so
	// a small batch here would keep those from working.
	BatchSize int
	// MaxWrites holds back record writes beyond this many in one run
	// (they stay pending, reason budget); 0 means no limit.
	MaxWrites int
	// KeyListEvery is how often an incremental run also lists every
	// Salesforce key (the complete listing that finds deletes the change
	// feed missed); 0 means every run. It is capped at 15 days, the
	// Recycle Bin's life.
	KeyListEvery time.Duration
	// PartSize splits a run that meets more records than this into parts
	// of about half as many, by a hash of the key, each planned and applied
	// holding only its records (parts.go). 0 means 100,000; a negative
	// value never splits. A job that pairs records across keys (match_on,
	// adopt, a local side that links rows to Salesforce Ids, children)
	// and a run that meets Salesforce records without a key are not split.
	PartSize int
	// Consent, when set, gates fields on a consent field.
	Consent *Consent
	// Children are jobs on child objects of this one (a row's stipend, its
	// school enrolment), run after it: parents first.
	Children []Child
}

// Child is a child job. A child record's key is its parent's key, a colon
// and Suffix ("ngo-th-cm:TH-0001:stipend"), never derived from an
// editable cell. A child whose parent record failed (or was held back, or
// was unreadable) this run is skipped with NOT_PROCESSED and stays
// pending; deleting a parent that has children needs --force.
type Child struct {
	Job    *Job
	Suffix string
}

// Consent gates fields on a consent field (doc/architecture.md §5.10): while either
// side's consent value is not one of Allowed (or is blank, or unknown),
// the gated fields do not flow in either direction, and records are
// created without them. A withdrawal (a side changing into a value that is
// not null and not allowed) propagates to the other side whatever the
// field's direction or the conflict policy; it beats any edit of the gated
// fields.
type Consent struct {
	Field string
	// Allowed are the values (as for the Salesforce field, canonicalised
	// against it) that let the gated fields flow. Empty means a checkbox:
	// Allowed = [true].
	Allowed []string
	Gated   []string
}

// allowed returns the allowed values.
func (c *Consent) allowed() []connector.Value {
	if len(c.Allowed) == 0 {
		return []connector.Value{connector.Bool(true)}
	}
	out := make([]connector.Value, len(c.Allowed))
	for i, a := range c.Allowed {
		out[i] = connector.Text(a)
	}
	return out
}

func (j *Job) direction() Direction {
	if j.Direction == "" {
		return Both
	}
	return j.Direction
}

func (j *Job) fieldDirection(f *FieldSpec) Direction {
	d := j.direction()
	if f.Direction == "" || f.Direction == d {
		return d
	}
	if d == Both {
		return f.Direction
	}
	// A one-way job narrows a field the other way to nothing; Validate
	// rejects that, so this is the job's direction.
	return d
}

func (j *Job) conflict() Policy { return orPolicy(j.Conflict) }
func (j *Job) initial() Policy  { return orPolicy(j.Initial) }

func orPolicy(p Policy) Policy {
	if p == "" {
		return SalesforceWins
	}
	return p
}

func (j *Job) deletes() DeletePolicy {
	if j.Deletes == "" {
		return Flag
	}
	return j.Deletes
}

func (j *Job) partSize() int {
	switch {
	case j.PartSize == 0:
		return defaultPartSize
	case j.PartSize < 0:
		return 0
	}
	return j.PartSize
}

func (j *Job) batchSize() int {
	if j.BatchSize <= 0 {
		return 50000
	}
	return j.BatchSize
}

func (j *Job) minMatchSample() int {
	switch {
	case j.MinMatchSample == 0:
		return 10
	case j.MinMatchSample < 0:
		return 1
	}
	return j.MinMatchSample
}

func (j *Job) minMatchRate() float64 {
	if j.MinMatchRate == 0 {
		return 0.1
	}
	return j.MinMatchRate
}

// ErrInvalidJob wraps every problem Validate finds.
var ErrInvalidJob = errors.New("invalid job")

// Validate checks the job against the two sides' descriptions: every field
// exists on both (a vanished field or column is fatal, never a column of
// nulls), enums are known, and newest_wins has modification times on both
// sides. sfObj and localObj may be nil to check the job alone.
func (j *Job) Validate(sfObj, localObj *connector.Object) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("job %s: "+format, append([]any{j.Name}, args...)...))
	}
	if j.Name == "" {
		bad("no name")
	}
	if j.Object == "" {
		bad("no object")
	}
	dirOK := func(d Direction) bool { return d == "" || d == Both || d == ToSalesforce || d == FromSalesforce }
	polOK := func(p Policy) bool {
		return p == "" || p == SalesforceWins || p == LocalWins || p == NewestWins || p == Manual
	}
	if !dirOK(j.Direction) {
		bad("direction %q: want both, to_salesforce or from_salesforce", j.Direction)
	}
	if !polOK(j.Conflict) {
		bad("conflict %q: want salesforce_wins, local_wins, newest_wins or manual", j.Conflict)
	}
	if !polOK(j.Initial) {
		bad("initial %q: want salesforce_wins, local_wins, newest_wins or manual", j.Initial)
	}
	switch j.Deletes {
	case "", Propagate, Flag, Ignore:
	default:
		bad("deletes %q: want propagate, flag or ignore", j.Deletes)
	}
	if len(j.Fields) == 0 {
		bad("no fields")
	}
	seen := map[string]bool{}
	for _, f := range j.Fields {
		if seen[strings.ToLower(f.Name)] {
			bad("field %s listed twice", f.Name)
		}
		seen[strings.ToLower(f.Name)] = true
		if !dirOK(f.Direction) {
			bad("field %s: direction %q: want both, to_salesforce or from_salesforce", f.Name, f.Direction)
		} else if f.Direction != "" && f.Direction != Both && j.direction() != Both && f.Direction != j.direction() {
			bad("field %s: direction %s contradicts the job's %s", f.Name, f.Direction, j.direction())
		}
	}
	for _, m := range j.MatchOn {
		if !seen[strings.ToLower(m)] {
			bad("match_on field %s is not one of the job's fields", m)
		}
	}
	if c := j.Consent; c != nil {
		if !seen[strings.ToLower(c.Field)] {
			bad("consent field %s is not one of the job's fields", c.Field)
		}
		for _, g := range c.Gated {
			if !seen[strings.ToLower(g)] {
				bad("consent gates %s, which is not one of the job's fields", g)
			}
			if strings.EqualFold(g, c.Field) {
				bad("consent field %s cannot gate itself", g)
			}
		}
		if sfObj != nil {
			if f := sfObj.Field(c.Field); f != nil {
				if len(c.Allowed) == 0 && f.Type != connector.TypeBoolean {
					bad("consent field %s is not a checkbox: list its allowed values", c.Field)
				}
				for _, v := range c.allowed() {
					cv, err := connector.Canonicalize(v, f)
					if err == nil {
						err = connector.Check(cv, f)
					}
					if err == nil && cv.IsNull() {
						err = errors.New("null")
					}
					if err != nil {
						bad("consent field %s: allowed value %q: %v", c.Field, v.Raw(), err)
					}
				}
			}
		}
	}
	for side, o := range []*connector.Object{sfObj, localObj} {
		if o == nil {
			continue
		}
		if o.KeyField() == nil {
			bad("%s object %s has no key field", Side(side), o.Name)
		}
		for _, f := range j.Fields {
			if o.Field(f.Name) == nil {
				errs = append(errs, fmt.Errorf("job %s: %s object %s: field %s: %w", j.Name, Side(side), o.Name, f.Name, connector.ErrFieldNotFound))
			}
		}
		if (j.conflict() == NewestWins || j.initial() == NewestWins) && o.Modified == "" {
			bad("newest_wins needs a modification time on both sides; %s object %s has none", Side(side), o.Name)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidJob, errors.Join(errs...))
	}
	return nil
}
