package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/casebridge/casebridge/connector"
)

// Transform is one configured conversion between the text of a local cell
// and a canonical connector.Value. A field rule holds exactly one.
//
// Parse reads a cell. It never returns the cell's content in an error: a
// failure is a *connector.ValueError with CodeInvalidValue whose Detail
// names the expected form.
//
// Format is the declared write form: it returns the text to write into a
// local cell for v. For every value v that Parse can return,
// Parse(Format(v)).Value equals v; where a value cannot be written so that
// it reads back the same, Format returns a *connector.ValueError instead
// of a cell that would read back differently. Format(connector.Null())
// returns "".
//
// Transforms are immutable and safe for concurrent use.
type Transform interface {
	// Kind is the registered kind of transform ("date", "name", ...).
	Kind() string
	Parse(cell string) (Result, error)
	Format(v connector.Value) (string, error)
	// Lossy reports whether Parse drops information the cell held (an
	// honorific, a name's token order, a range's upper bound), so that
	// writing Format's output over an existing cell could destroy it. The
	// engine writes a lossy field only when the Salesforce value changed.
	Lossy() bool
	// Hash identifies the transform's behaviour: a hex SHA-256 over its
	// kind and a canonical encoding of its effective options (defaults
	// filled in). Equal hashes mean equal behaviour; a changed hash means
	// the rule changed.
	Hash() string
}

// Merger is implemented by transforms that write one part of a cell that
// holds several (a first name inside a full-name cell). Merge returns the
// cell with the part replaced by v and the rest of current kept.
type Merger interface {
	Merge(current string, v connector.Value) (string, error)
}

// PartMerger is a Merger that writes one named part of a cell (a first
// name) which other transforms of the same Group write the other parts
// of. Several two-way rules may write one local column only when each has
// a PartMerger of one group, with distinct parts: each then merges its
// part into the cell and keeps the rest (the honorific, the other part).
type PartMerger interface {
	Merger
	// Group identifies how the cell is split: equal for transforms that
	// read the same cell the same way and differ only in the part.
	Group() string
	// Part is the part written, such as "first" or "last".
	Part() string
}

// Result is what Parse returns: the value and what the reading says about
// it.
type Result struct {
	Value connector.Value
	Flags Flags
	// Honorific is the honorific a name transform stripped, as spelled in
	// its configuration (e.g. "ด.ญ."), or "".
	Honorific string
}

// Flags qualify a parsed value.
type Flags uint8

// The flags a Parse can set.
const (
	// FlagEstimated: the value is an estimate (a bare year, "about 14",
	// the lower bound of a range); e.g. Birthdate_Estimated.
	FlagEstimated Flags = 1 << iota
	// FlagLowConfidence: the reading is a guess a person should check
	// (a three-token Spanish name, a Latin name without an uppercase
	// family name).
	FlagLowConfidence
	// FlagLossy: the cell held more than the value keeps (a range's upper
	// bound, digits beyond the scale).
	FlagLossy
	// FlagChild: the honorific says the person is a child under 15
	// (ด.ญ., ด.ช.).
	FlagChild
)

var flagNames = [...]string{"estimated", "low_confidence", "lossy", "child"}

// String lists the set flags, comma-separated, e.g. "estimated,lossy".
func (f Flags) String() string {
	var b strings.Builder
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// Has reports whether all of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// invalid returns the error for a cell that does not parse. detail names
// the expected form and must never contain the cell.
func invalid(detail string) error {
	return &connector.ValueError{Code: connector.CodeInvalidValue, Detail: detail}
}

// wrongKind is Format's error for a value of a kind the transform does not
// write.
func wrongKind(v connector.Value, want string) error {
	return invalid("a " + v.Kind().String() + " value cannot be written by a " + want + " transform")
}

// hashOptions returns the hex SHA-256 over kind and the JSON encoding of
// the effective options. encoding/json writes struct fields in declaration
// order and map keys sorted, so the encoding is canonical for a given
// options type; the version prefix is bumped if that ever changes.
func hashOptions(kind string, opts any) string {
	b, err := json.Marshal(opts)
	if err != nil {
		panic("mapping: options of " + kind + " do not encode: " + err.Error())
	}
	h := sha256.New()
	h.Write([]byte("casebridge/mapping/v1\x00"))
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
