package mapping

import (
	"fmt"
	"slices"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// CompileOptions are what a compile needs beyond the configuration and the org's
// descriptions.
type CompileOptions struct {
	// EachKey derives the key part that stands for value in the records
	// of the child named child, for a child whose each is classified
	// (config.ChildEach.PII): the key is parent key, key suffix, ":" and
	// this part, and the child's member is named child:part. It must be
	// keyed by a secret that neither keys nor the state carry (the runner
	// derives it from the fingerprint key, scoped to the job and the
	// child), deterministic for as long as that secret is kept (the keys
	// of records already in Salesforce depend on it), and give a distinct
	// part to each value, using only characters a key holds. Nil: a job
	// with a classified each does not compile.
	EachKey func(child, value string) string
}

// CompileWith is Compile with opts.
func CompileWith(job *config.Job, objects map[string]*connector.Object, opts CompileOptions) (*JobMapping, error) {
	c := compiler{job: job, objects: objects, opts: opts}
	m := c.compile()
	if len(c.errs) > 0 {
		sortErrors(c.errs)
		return nil, c.errs
	}
	return m, nil
}

// eachPart is the key part of value in the records of the child with each
// e: the value itself, or for a classified each the keyed part
// CompileOptions.EachKey derives. ok is false (and an error reported) when a
// classified each cannot be keyed: no EachKey, or two values given one
// part.
func (c *compiler) eachPart(ch *config.Child, value string, seen map[string]string) (string, bool) {
	e := ch.Each
	if !e.Classified() {
		return value, true
	}
	if c.opts.EachKey == nil {
		if c.placeholderEach {
			// Checking the configuration against the org: the keys
			// are not made, any distinct part does.
			part := fmt.Sprintf("v%d", len(seen))
			seen[part] = value
			return part, true
		}
		c.errorf(&e.Meta, "pii", "a classified each keys its records by a keyed hash of the value, made with the fingerprint key, which this command does not load (casebridge sync, validate --online and dry runs do)")
		return "", false
	}
	part := c.opts.EachKey(ch.Name, value)
	if prev, dup := seen[part]; dup && prev != value {
		c.errorf(&e.Meta, "pii", "two values of the each have the same key part; this is a fault of the key derivation")
		return "", false
	}
	seen[part] = value
	return part, true
}

// eachGated reports whether the consent gate holds back the records of a
// classified each while consent is not allowed: its class is one the gate
// holds. The records' existence says which service a person receives,
// so they are neither created, deleted, nor written back to the cell
// while the gate is closed.
func (g *consentGate) eachGated(e *eachInfo) bool {
	return g != nil && e != nil && e.cfg.Classified() && g.classes[e.cfg.PII]
}

// errEachGated is the error of a record of a classified each held back by
// the consent gate: it names the child's member and field, never the
// value.
func errEachGated(m *JobMapping, mem *Member, key string) *connector.RecordError {
	return connector.NewRecordError("map", m.Connector, mem.Object, key, mem.each.field, connector.CodeNotProcessed, connector.Permanent,
		&connector.ValueError{Code: connector.CodeNotProcessed, Detail: "consent not given: a classified each value's record is held back"})
}

// eachColumnClasses adds the class of every classified each to its
// column's classes (columnClasses): a rule that reads the services column
// too is then of the each's class, masked and gated alike.
func eachColumnClasses(m *JobMapping, classes map[string][]config.PII) {
	for _, mem := range m.Children {
		if e := mem.each; e != nil && e.cfg.Classified() {
			col := columnID(e.column)
			if !slices.Contains(classes[col], e.cfg.PII) {
				classes[col] = append(classes[col], e.cfg.PII)
			}
		}
	}
}

// LegacyEachKey reports whether key (a Salesforce key of mem's object) is
// the key mem's record had before its each was classified: the parent's
// key, the key suffix, ":" and the value in clear. Such records stay
// behind when an each already synced is classified (its keys change);
// the runner refuses to go on while there are any (schedules).
func (m *JobMapping) LegacyEachKey(mem *Member, key string) bool {
	e := mem.each
	if e == nil || !e.cfg.Classified() || mem.cfg == nil {
		return false
	}
	rest, ok := cutPrefixFold(connector.NormalizeKey(key), m.KeyPrefix)
	if !ok {
		return false
	}
	old := mem.cfg.KeySuffix
	if old == "" {
		old = ":" + mem.cfg.Name
	}
	old += ":" + e.value
	return hasSuffixFold(rest, old) && len(rest) > len(old)
}

// ForeignEachKey reports whether key (a Salesforce key of mem's object)
// is shaped like the key of a value's record of mem's child - the job's
// key prefix, a parent's key, the child's key suffix, ":" and a part of
// lowercase hexadecimal digits as long as mem's - while no member of the
// job claims it: the part is none of the current values' parts, so it was
// derived under another fingerprint key (before a key reset). Such records
// stay behind when the key changes, as no row reaches them again; the
// runner refuses to go on while there are any (schedules). The parts are
// the runner's (CompileOptions.EachKey: hexadecimal digits); a key of the
// parent's own object that ends like one is taken for such a record too.
func (m *JobMapping) ForeignEachKey(mem *Member, key string) bool {
	e := mem.each
	if e == nil || !e.cfg.Classified() || mem.cfg == nil {
		return false
	}
	key = connector.NormalizeKey(key)
	rest, ok := cutPrefixFold(key, m.KeyPrefix)
	if !ok {
		return false
	}
	base := mem.cfg.KeySuffix
	if base == "" {
		base = ":" + mem.cfg.Name
	}
	n := len(mem.KeySuffix) - len(base) - 1 // the length of mem's part
	if n <= 0 || len(rest) <= len(base)+1+n {
		return false
	}
	part := rest[len(rest)-n:]
	if !isLowerHex(part) || !hasSuffixFold(rest[:len(rest)-n], base+":") {
		return false
	}
	if owner, _, ok := m.memberOfKey(mem.Object, key); ok && !owner.IsParent() {
		return false // a current value's record, or another child's
	}
	return true
}

// isLowerHex reports whether s is made of lowercase hexadecimal digits only.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// ClassifiedEach reports, for one value's record of a child whose each is
// classified, the configured child's name and the name the member had
// before (child:value, which named the child's job in the state); ok is
// false for other members.
func (mem *Member) ClassifiedEach() (child, legacyName string, ok bool) {
	if mem.each == nil || !mem.each.cfg.Classified() {
		return "", "", false
	}
	return mem.each.child, mem.each.child + ":" + mem.each.value, true
}
