// Package alert tells people that a job needs them: a run failed (at any
// stage, the Salesforce login included), a job was locked out, a safety
// brake stopped a run, a job holds conflicts for a person, or a run left
// findings. It sends to the targets of the configuration's alerts: a
// webhook (casebridge's own JSON, Slack's incoming-webhook body, or a Teams
// Adaptive Card message) and e-mail over SMTP with STARTTLS.
//
// An alert carries the job, the run id, the stage, the outcome, counts and
// error codes: never a record's value, never an error's text (which names
// files, keys and fields, and would travel to a chat service), never a
// secret. The history (casebridge history CONFIG JOB) holds the reason.
//
// Alerts are de-duplicated: an alert like the last one sent to a target
// (same job, kind and signature: stage and codes, not counts) is repeated at
// most once per the target's every, with the number of runs it stood for;
// a change is sent at once, and a job whose failure, lockout or brake was
// alerted is reported resolved when it next runs well. The marks of what
// was sent are kept per job by a MarkStore: the schedules package keeps
// them in the state store, so that cron runs of casebridge sync (one
// process each) and the daemon's replicas and reloads share them. Each
// target is also rate-limited within a process (max_per_hour), against a
// storm of failing jobs.
package alert

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/casebridge/casebridge/config"
)

// Kind is what an alert is about: one of config's AlertKinds, or resolved.
type Kind string

// The kinds of alert.
const (
	KindFailure   = Kind(config.AlertFailure)
	KindLockout   = Kind(config.AlertLockout)
	KindBrake     = Kind(config.AlertBrake)
	KindConflicts = Kind(config.AlertConflicts)
	KindFindings  = Kind(config.AlertFindings)
	// KindResolved: a job whose failure, lockout or brake was alerted ran
	// well again (Event.Resolves says which).
	KindResolved Kind = "resolved"
	// KindTest: a message an operator asked for (Notifier.Test).
	KindTest Kind = "test"
)

// resolvable are the kinds that a good run ends with a message; the
// others' marks are dropped silently once they no longer hold.
var resolvable = []Kind{KindFailure, KindLockout, KindBrake}

// Event is something about one run of a job that a target may hear of.
// Every field is a name, a code or a number: an Event cannot hold a value.
type Event struct {
	Kind Kind `json:"kind"`
	// Job is the job's name; "" for an event about every job (the
	// Salesforce login or the state store failing before any run).
	Job   string `json:"job,omitempty"`
	RunID int64  `json:"run_id,omitempty"`
	// Stage is where a failed run stopped: start (the fingerprint key,
	// the lease, the budget's first look at the org), login, salesforce
	// (a Salesforce request), state (the state store), source (the local
	// sheet or database), mapping (the field rules against the org), plan
	// (a safety brake) or sync (the engine's read, plan and writes).
	Stage string `json:"stage,omitempty"`
	// Outcome is the run's outcome as the history records it (failed,
	// aborted, ok, stopped).
	Outcome string `json:"outcome,omitempty"`
	// Code says why, as a code: a Salesforce or connector error code, or
	// casebridge's own (AUTH_FAILED, LOCKED_OUT, SAFETY_ABORT, ...).
	Code   string      `json:"code,omitempty"`
	Counts Counts      `json:"counts"`
	Codes  []CodeCount `json:"codes,omitempty"`
	// Resolves is the kind a resolved event ends.
	Resolves Kind      `json:"resolves,omitempty"`
	At       time.Time `json:"at"`
}

// Counts are a run's figures, children included.
type Counts struct {
	Read      int `json:"read,omitempty"`
	Created   int `json:"created,omitempty"`
	Updated   int `json:"updated,omitempty"`
	Deleted   int `json:"deleted,omitempty"`
	Conflicts int `json:"conflicts,omitempty"` // open conflicts held for a person
	Failed    int `json:"failed,omitempty"`    // records whose write failed
	// Unmapped, Unreadable, Unknown and Ambiguous are the other findings:
	// cells that did not map, rows read without a usable key, records
	// left unknown on a side, records match_on paired with several.
	Unmapped   int `json:"unmapped,omitempty"`
	Unreadable int `json:"unreadable,omitempty"`
	Unknown    int `json:"unknown,omitempty"`
	Ambiguous  int `json:"ambiguous,omitempty"`
}

// Findings is the number of findings: records a person should look at.
func (c Counts) Findings() int {
	return c.Failed + c.Unmapped + c.Unreadable + c.Unknown + c.Ambiguous
}

// CodeCount is how many findings of a run had one error code.
type CodeCount struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
}

var codeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// Code returns c if it is a code (an UPPER_SNAKE word, as Salesforce's and
// the connectors' are), else "OTHER": anything else might carry text from
// a message. "" stays "".
func Code(c string) string {
	if c == "" || codeRE.MatchString(c) {
		return c
	}
	return "OTHER"
}

// CountCodes tallies codes (each passed through Code; "" counts as
// UNKNOWN), most frequent first, then by code.
func CountCodes(codes []string) []CodeCount {
	n := map[string]int{}
	for _, c := range codes {
		if c = Code(c); c == "" {
			c = "UNKNOWN"
		}
		n[c]++
	}
	out := make([]CodeCount, 0, len(n))
	for c, k := range n {
		out = append(out, CodeCount{c, k})
	}
	slices.SortFunc(out, func(a, b CodeCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out
}

// signature is what makes two events of a kind the same alert: the stage
// and codes, not the counts (a failure that goes on with one more failed
// record is the same failure). It is stored hashed.
func (e *Event) signature() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s", e.Kind, e.Stage, e.Code, e.Resolves)
	if e.Kind == KindFindings {
		for _, c := range e.Codes {
			b.WriteString("|" + c.Code)
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

// Report is what one run (or one failed start) tells the notifier about a
// job: the events it raised, and the kinds it showed not to hold any more
// (a run that ended well clears failure, lockout and brake; a run that
// counted no open conflict clears conflicts). A kind neither raised nor
// cleared is unknown after the run (a run stopped by the budget says
// nothing of findings) and keeps its mark.
type Report struct {
	Job    string
	Events []Event
	Clear  []Kind
}

// Message is an alert as a target receives it: the event, and what the
// notifier adds.
type Message struct {
	Event
	// Host names the machine that sent it (replicas share a job).
	Host string
	// Repeats counts the runs with the same alert since it was last sent
	// (de-duplicated), Since when it was first sent.
	Repeats int
	Since   time.Time
	// Dropped counts the messages to this target the rate limit dropped
	// before this one.
	Dropped int
}

// Title is the message's one-line summary (a Slack text's first line, an
// e-mail's subject).
func (m *Message) Title() string {
	job := "job " + m.Job
	if m.Job == "" {
		job = "every job"
	}
	switch m.Kind {
	case KindFailure:
		s := fmt.Sprintf("casebridge: %s failed", job)
		if m.Stage != "" {
			s += " at " + m.Stage
		}
		if m.Code != "" {
			s += " (" + m.Code + ")"
		}
		if m.Repeats > 0 {
			s += ", still"
		}
		return s
	case KindLockout:
		return fmt.Sprintf("casebridge: %s is locked out until a resync run", job)
	case KindBrake:
		return fmt.Sprintf("casebridge: a safety brake stopped %s before any write", job)
	case KindConflicts:
		return fmt.Sprintf("casebridge: %s holds %d conflict(s) for a person", job, m.Counts.Conflicts)
	case KindFindings:
		return fmt.Sprintf("casebridge: %s left %d finding(s)", job, m.Counts.Findings())
	case KindResolved:
		return fmt.Sprintf("casebridge: %s runs well again (%s resolved)", job, m.Resolves)
	case KindTest:
		return "casebridge: a test alert (casebridge alerts test): this target is reached"
	}
	return "casebridge: " + job + ": " + string(m.Kind)
}

// Lines are the message's details, one per line, plain ASCII.
func (m *Message) Lines() []string {
	var out []string
	add := func(k, v string) {
		if v != "" {
			out = append(out, k+": "+v)
		}
	}
	if m.Kind != KindTest {
		add("job", cmp.Or(m.Job, "(every job)"))
	}
	if m.RunID != 0 {
		add("run", fmt.Sprint(m.RunID))
	}
	add("stage", m.Stage)
	add("outcome", m.Outcome)
	add("code", m.Code)
	if c := m.Counts.String(); c != "" {
		add("counts", c)
	}
	if len(m.Codes) > 0 {
		var cs []string
		for _, c := range m.Codes {
			cs = append(cs, fmt.Sprintf("%s x%d", c.Code, c.Count))
		}
		add("codes", strings.Join(cs, ", "))
	}
	add("at", m.At.UTC().Format(time.RFC3339))
	add("host", m.Host)
	if m.Repeats > 0 {
		add("repeats", fmt.Sprintf("%d run(s) with the same alert since %s, not sent again until 'every' passed", m.Repeats, m.Since.UTC().Format(time.RFC3339)))
	}
	if m.Dropped > 0 {
		add("dropped", fmt.Sprintf("%d earlier message(s) to this target dropped by max_per_hour", m.Dropped))
	}
	add("next", m.hint())
	return out
}

// hint says where to look.
func (m *Message) hint() string {
	job := m.Job
	if job == "" {
		job = "JOB"
	}
	switch m.Kind {
	case KindFailure:
		return "the reason is in the run history: casebridge history CONFIG " + job
	case KindLockout:
		return "check both sides, then: casebridge sync --resync --dry-run CONFIG " + job + ", and without --dry-run"
	case KindBrake:
		return "check the plan (casebridge sync --dry-run CONFIG " + job + "); --force overrides the brake"
	case KindConflicts:
		return "casebridge conflicts list CONFIG " + job + ", then resolve"
	case KindFindings:
		return "the records and fields are in the run's error log: casebridge history CONFIG " + job
	}
	return ""
}

// String writes the non-zero counts, "created 3, failed 2".
func (c Counts) String() string {
	var out []string
	for _, f := range []struct {
		name string
		n    int
	}{{"read", c.Read}, {"created", c.Created}, {"updated", c.Updated}, {"deleted", c.Deleted}, {"conflicts", c.Conflicts},
		{"failed", c.Failed}, {"unmapped", c.Unmapped}, {"unreadable", c.Unreadable}, {"unknown", c.Unknown}, {"ambiguous", c.Ambiguous}} {
		if f.n != 0 {
			out = append(out, fmt.Sprintf("%s %d", f.name, f.n))
		}
	}
	return strings.Join(out, ", ")
}

// Text is the message as plain text: the title, then the lines.
func (m *Message) Text() string {
	return m.Title() + "\n" + strings.Join(m.Lines(), "\n") + "\n"
}
