package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// FieldRule is one compiled field rule: a Salesforce field, the local
// column it comes from (or a constant), the configured transform, and what
// the rule may do.
type FieldRule struct {
	// SF is the Salesforce field's API name as described; Local the local
	// column ("" for a constant).
	SF    string
	Local string
	// Direction is the effective direction: the rule's, narrowed by the
	// job's. A constant is always to_salesforce.
	Direction config.Direction
	// Class is the sensitivity class ("" for none): the strictest of the
	// classes of every rule of the job that reads the same local column
	// (a column read by a pii: direct rule is direct data for every rule
	// that reads it), the rule's own pii when no other is stricter.
	Class config.PII
	// classes are the classes of every rule reading the column (the
	// rule's own included, none left out): the consent gate holds the
	// rule back when any of them is gated.
	classes []config.PII
	// Transform reads and writes the local cell; nil for a constant.
	Transform Transform
	// Lookup, when set, resolves the cleaned cell to a record Id through
	// a Resolver.
	Lookup *config.LookupRule
	// Default is read (through Transform) when the cell is blank.
	Default    string
	HasDefault bool
	// Constant is the canonical value of a constant rule.
	Constant   connector.Value
	IsConstant bool
	// Required makes a blank value a per-field error instead of a null.
	Required bool
	// Field is the Salesforce field's description.
	Field *connector.Field
	// Hash is the rule hash (see RuleHash).
	Hash string
	// Rule is the configuration the rule was compiled from (positions).
	Rule *config.Rule

	merger Merger         // Transform as a Merger, or nil
	loc    *time.Location // the source's zone, for datetimes read into dates

	// A flag rule (see config.RuleFlags) sets a checkbox from what the
	// rule flagOf's transform learned reading the cell: flag, configured
	// as flags.<flagKey>.
	flagOf  *FieldRule
	flag    Flags
	flagKey string
}

// errorf reports a finding about the rule's option key, or, for a flag
// rule, about its flags.<flag> option.
func (r *FieldRule) errorf(key, format string, args ...any) *config.Error {
	if r.flagOf != nil && r.Rule.Flags != nil {
		return r.Rule.Flags.Errorf(r.flagKey, format, args...)
	}
	return r.Rule.Errorf(key, format, args...)
}

// FlagOf returns, for a field set from a rule's flags (flags.estimated:
// vcms__Birthdate_Estimated__c), the rule whose cell it is read from and
// the flag's key; nil for an ordinary rule.
func (r *FieldRule) FlagOf() (*FieldRule, string) { return r.flagOf, r.flagKey }

// WritesSalesforce reports whether the rule writes Salesforce.
func (r *FieldRule) WritesSalesforce() bool { return r.Direction.WritesSalesforce() }

// WritesLocal reports whether the rule writes the local cell: it has a
// column, is not a constant or a lookup, and its direction says so.
func (r *FieldRule) WritesLocal() bool {
	return r.Direction.WritesLocal() && !r.IsConstant && r.Lookup == nil && r.Local != ""
}

// Lossy reports whether the local cell holds more than the value (see
// Transform.Lossy): the engine writes such a field locally only when the
// Salesforce value changed.
func (r *FieldRule) Lossy() bool { return r.flagOf == nil && r.Transform != nil && r.Transform.Lossy() }

// where names the rule for an error: its option path and position.
func (r *FieldRule) where() string {
	if r.flagOf != nil && r.Rule.Flags != nil {
		fl := r.Rule.Flags
		return "rule " + fl.PathOf(r.flagKey) + " at " + fl.At(r.flagKey).String()
	}
	p := r.Rule.Pos
	return "rule " + r.Rule.KeyPath + " at " + p.String()
}

// Member is one record a local row carries: the parent (Name "") or a
// named child.
type Member struct {
	// Name is "" for the parent, else the child's name.
	Name string
	// Object is the Salesforce object; Desc its description.
	Object string
	Desc   *connector.Object
	// KeySuffix is appended to the parent's key ("" for the parent).
	KeySuffix string
	// ParentField is a child's lookup or master-detail field to the
	// parent. It is not mapped as a field: see JobMapping.ParentKey.
	ParentField string
	// ParentRef is the name that sets ParentField by reference to the
	// parent's external id, <Relationship>.<parent key field>
	// (vcms__Case__r.vcms__External_Key__c); "" when the field has no
	// relationship name. See JobMapping.ByReference.
	ParentRef string
	Rules     []*FieldRule

	cfg  *config.Child
	each *eachInfo // set for one value's record of a child with each
}

// Each returns, for one value's record of a child declared with each
// (config.ChildEach), the configured child's name and the Salesforce value
// the member stands for; ok is false for other members.
func (m *Member) Each() (child, value string, ok bool) {
	if m.each == nil {
		return "", "", false
	}
	return m.each.child, m.each.value, true
}

// EachColumn returns, for one value's record of a child declared with
// each, the local column its values are read from, the Salesforce field
// the value is written to and the each's class (config.PIINone or "" when
// unclassified); ok is false for other members. Erasure needs them: the
// column holds a classified value no FieldRule reads.
func (m *Member) EachColumn() (column, field string, class config.PII, ok bool) {
	if m.each == nil {
		return "", "", "", false
	}
	return m.each.column, m.each.field, m.each.cfg.PII, true
}

// IsParent reports whether m is the parent record.
func (m *Member) IsParent() bool { return m.Name == "" }

// FieldInfo is what the reconcile engine needs of one mapped field of an
// object (its FieldSpec, without importing reconcile): the wiring layer
// converts, e.g. reconcile.FieldSpec{Name: f.Name, Direction:
// reconcile.Direction(f.Direction), RuleHash: f.RuleHash, Class:
// string(f.Class)}.
type FieldInfo struct {
	Name      string
	Direction config.Direction
	// RuleHash changes exactly when the rule's effective configuration
	// does; the engine then re-initialises the field.
	RuleHash string
	// Class is "" (none), "direct", "quasi" or "sensitive": the
	// strictest class of the field's rules, each rule's class being the
	// strictest of its local column's (see FieldRule.Class).
	Class config.PII
	// Gated: the job's consent gate holds the field back while consent
	// is not allowed (a rule of it reads a column of a gated class). The
	// consent field itself is never gated.
	Gated bool
	// Lossy: write the field locally only when the Salesforce value
	// changed (a name cell with an honorific, an age range).
	Lossy bool
}

// classRank orders sensitivity classes, for fields mapped by several
// children of one object.
func classRank(c config.PII) int {
	switch c {
	case config.PIIQuasi:
		return 1
	case config.PIIDirect:
		return 2
	case config.PIISensitive:
		return 3
	}
	return 0
}

// ruleHashInput is the effective configuration a rule hash covers.
type ruleHashInput struct {
	Object    string   `json:"object"`
	Field     string   `json:"field"`
	Local     string   `json:"local"`
	Direction string   `json:"direction"`
	Class     string   `json:"class"`
	Transform string   `json:"transform"` // the transform's Hash
	Lookup    []string `json:"lookup,omitempty"`
	Default   *string  `json:"default,omitempty"`
	Constant  *string  `json:"constant,omitempty"`
	Required  bool     `json:"required"`
	// Flag is the flag a field is set from (flags.<flag>), read from
	// Local through Transform.
	Flag string `json:"flag,omitempty"`
	// Gate is the consent gate applying to the field, if any.
	Gate []string `json:"gate,omitempty"`
}

// ruleHash returns the hex SHA-256 of the rule's effective configuration.
func ruleHash(in ruleHashInput) string {
	b, err := json.Marshal(in)
	if err != nil {
		panic("mapping: rule hash input does not encode: " + err.Error())
	}
	h := sha256.New()
	h.Write([]byte("casebridge/mapping/rule/v1\x00"))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// combineHashes hashes the rules of several children that map one field
// of a shared object.
func combineHashes(hs []string) string {
	if len(hs) == 1 {
		return hs[0]
	}
	h := sha256.New()
	h.Write([]byte("casebridge/mapping/rules/v1\x00"))
	for _, s := range hs {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FieldError is the cause inside a per-field mapping error: which column
// and rule, and what was expected. It never holds the cell's content.
type FieldError struct {
	Column string // local column, "" for constants
	Rule   string // "rule jobs.x.fields[3] at file:line:col"
	Err    error  // a *connector.ValueError naming the expected form
}

func (e *FieldError) Error() string {
	msg := "error"
	if e.Err != nil {
		msg = e.Err.Error()
		var ve *connector.ValueError
		if errors.As(e.Err, &ve) && ve.Detail != "" {
			msg = ve.Detail
		}
	}
	var b strings.Builder
	b.WriteString(msg)
	b.WriteString(" (")
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q, ", e.Column)
	}
	b.WriteString(e.Rule)
	b.WriteString(")")
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// sortedUnique returns the sorted distinct strings of s.
func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
