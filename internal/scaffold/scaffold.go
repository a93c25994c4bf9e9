// Package scaffold writes a first casebridge configuration from a sheet
// and an org's description: the work of casebridge init.
//
// It reads the sheet's header and a sample of its rows, finds the key
// column, matches columns to the fields of a Salesforce object by name,
// builds value maps for picklist columns, detects date layouts and eras
// and yes/no columns, and suggests each field's pii class from its name.
// What it cannot decide is written into the file as a "# TODO:" comment
// for a person, and the file loads as it is.
//
// The sample's cells are personal data. They decide what is written, and
// only the words of columns matched to picklist or checkbox fields that
// read as a picklist's spellings (few distinct values, a gender or a
// status; see picklistLike) are written, into the configuration, as
// value-map entries or as a yes/no column's words to map. Of a column
// that reads as free text, only counts are written. Nothing else of the
// sample leaves the package: Summary carries headers, field names and
// counts.
package scaffold

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sheet"
)

// DefaultSampleRows is how many rows are read when Options.SampleRows is 0.
const DefaultSampleRows = 500

// Options say what to read and what to write.
type Options struct {
	// Sheet is the file read; SheetPath is the path written into the
	// configuration (relative to the configuration's folder), default
	// Sheet.
	Sheet, SheetPath string
	// Tab is the workbook sheet; "" reads the first.
	Tab string
	// HeaderRow is the header's row number; 0 finds it.
	HeaderRow int
	// Key is the key column's header; "" finds it.
	Key string
	// SampleRows bounds the rows read (header and rows above it included).
	SampleRows int

	// Objects are the org's objects as described; Object names the one
	// to map ("" chooses the object most columns match).
	Objects []*connector.Object
	Object  string

	// Job and Source name the job and source; default from the file name.
	Job, Source string
	// KeyPrefix is the job's key_prefix; default the source's name and a
	// colon.
	KeyPrefix string
	// Salesforce is the configuration's salesforce section.
	Salesforce Salesforce
	// Header is written as comment lines at the top of the file.
	Header []string
	// ThisYear tells two-digit Buddhist Era years from Gregorian ones.
	ThisYear int
}

// Salesforce is the salesforce section written. Secrets are written as
// given: callers pass ${ENV} references, never a secret's value.
type Salesforce struct {
	LoginURL string
	// LoginURLTODO, when set, marks LoginURL as a stand-in a person must
	// replace, saying with what (a comment "# TODO: ..." after it).
	LoginURLTODO   string
	Flow           string
	ClientID       string
	ClientSecret   string
	Username       string
	Password       string
	SecurityToken  string
	RefreshToken   string
	PrivateKeyFile string
	// Comment lines are written above the section.
	Comment []string
}

// Summary says what Generate found, in words that name no value: headers,
// field names and counts.
type Summary struct {
	Object     string
	ObjectNote string // why that object, when it was chosen
	Format     string // csv or xlsx
	Tab        string
	HeaderRow  int
	Rows       int // data rows sampled
	Key        string
	KeyField   string
	KeyPattern bool
	Columns    int
	Matched    []Match
	Unmatched  []string
	// ValueMaps counts the value maps written, Words the words they map,
	// ToMap the words left for a person.
	ValueMaps, Words, ToMap int
	Dates                   int
	YesNo                   int
	TODOs                   int
}

// Match is one column matched to a field.
type Match struct {
	Column, Field string
	// How is what the rule does: "text", "values", "date", "yes_no",
	// "number", "phone", "age", "name" (a name split by a transform).
	How string
	PII string
	// Check marks a match made through a table of known headers rather
	// than by the field's own name.
	Check bool
}

// ErrNoKey is returned when no column can be the key.
var ErrNoKey = errors.New("no column looks like a key (unique, never empty, an id-like header such as Case ID): name it with --key")

// Generate reads the sheet and returns the configuration's text.
func Generate(ctx context.Context, o Options) ([]byte, *Summary, error) {
	if o.SampleRows <= 0 {
		o.SampleRows = DefaultSampleRows
	}
	if o.SheetPath == "" {
		o.SheetPath = o.Sheet
	}
	p, err := sheet.ReadPreview(ctx, sheet.SheetConfig{Path: o.Sheet, Sheet: o.Tab}, o.SampleRows)
	if err != nil {
		return nil, nil, err
	}
	t, ok := readTable(p, o.HeaderRow)
	if !ok {
		if o.HeaderRow > 0 {
			return nil, nil, fmt.Errorf("%s: row %d is not among the first %d rows", o.Sheet, o.HeaderRow, o.SampleRows)
		}
		return nil, nil, fmt.Errorf("%s: no header row found in the first 50 rows (a row of two or more distinct names); give it with --header-row", o.Sheet)
	}
	if t.rows == 0 {
		return nil, nil, fmt.Errorf("%s: no data row under the header (row %d)", o.Sheet, t.headerRow)
	}
	key, err := findKey(t, o.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.Sheet, err)
	}
	obj, note, err := chooseObject(o.Objects, o.Object, t)
	if err != nil {
		return nil, nil, err
	}
	keyField := externalID(obj)
	if keyField == nil {
		return nil, nil, fmt.Errorf("%s has no external id field: a job's key needs one (Setup, Object Manager, a text field marked External ID)", obj.Name)
	}
	g := &gen{o: o, t: t, obj: obj, key: key, keyField: keyField, preview: p,
		sum: &Summary{Object: obj.Name, ObjectNote: note, Format: p.Format, Tab: p.Sheet, HeaderRow: t.headerRow, Rows: t.rows,
			Key: key.header, KeyField: keyField.Name, Columns: len(t.columns)}}
	g.plan()
	return g.render(), g.sum, nil
}

// findKey returns the key column: the one named, or the best candidate
// among the columns whose sampled cells are all filled and unique.
func findKey(t *table, name string) (*column, error) {
	if name != "" {
		for _, c := range t.columns {
			if fold(c.header) == fold(name) {
				return c, nil
			}
		}
		return nil, fmt.Errorf("--key %q is not a header of row %d", name, t.headerRow)
	}
	var best *column
	bestScore := 0
	for _, c := range t.columns {
		if s := keyScore(c, t.rows); s > bestScore {
			best, bestScore = c, s
		}
	}
	if best == nil {
		return nil, ErrNoKey
	}
	return best, nil
}

var (
	keyHeaderRE    = regexp.MustCompile(`(?i)(^|[^a-z])(id|code|key|ref|no|number|nr|num)([^a-z]|$)|รหัส|เลขที่|លេខ|កូដ|কোড|নং|código|codigo|número|expediente`)
	serialHeaderRE = regexp.MustCompile(`(?i)^(sl|s/?n|sr|#|no\.?|ลำดับ|ល\.?រ|ক্রমিক|n°|nº)$`)
)

// keyScore rates a column as the key: 0 when it cannot be (an empty or a
// repeated cell), more for an id-like header and id-like cells (digits,
// no spaces), less for a row counter (1, 2, 3) and for cells with spaces
// (names).
func keyScore(c *column, rows int) int {
	if c.empty > 0 || len(c.words) != rows || rows == 0 {
		return 0
	}
	s := 1
	if keyHeaderRE.MatchString(c.header) {
		s += 4
	}
	if serialHeaderRE.MatchString(c.header) {
		s -= 4
	}
	digits, spaces, letters, counter := 0, 0, 0, true
	for i, w := range c.cells {
		if strings.ContainsFunc(w, unicode.IsDigit) {
			digits++
		}
		if strings.ContainsFunc(w, unicode.IsSpace) {
			spaces++
		}
		if strings.ContainsFunc(w, unicode.IsLetter) {
			letters++
		}
		if w != fmt.Sprint(i+1) {
			counter = false
		}
	}
	if digits == rows {
		s += 2
	}
	if letters > 0 && digits == rows {
		s++
	}
	if spaces*2 > rows {
		s -= 5
	}
	if counter {
		s -= 4
	}
	return max(s, 0)
}

// chooseObject returns the object named, or the described object with an
// external id whose fields most headers match.
func chooseObject(objs []*connector.Object, name string, t *table) (*connector.Object, string, error) {
	if len(objs) == 0 {
		return nil, "", errors.New("no object described")
	}
	if name != "" {
		for _, o := range objs {
			if strings.EqualFold(o.Name, name) {
				return o, "", nil
			}
		}
		var names []string
		for _, o := range objs {
			names = append(names, o.Name)
		}
		return nil, "", fmt.Errorf("object %q is not described (described: %s)", name, strings.Join(names, ", "))
	}
	if len(objs) == 1 {
		return objs[0], "", nil
	}
	var best *connector.Object
	bestN, tie := 0, false
	for _, o := range objs {
		if externalID(o) == nil {
			continue
		}
		taken := map[string]bool{}
		n := 0
		for _, c := range t.columns {
			if f, _ := matchField(o, c.header, taken); f != nil {
				taken[f.Name] = true
				n++
			}
		}
		switch {
		case n > bestN:
			best, bestN, tie = o, n, false
		case n == bestN && n > 0:
			tie = true
		}
	}
	if best == nil || tie {
		return nil, "", errors.New("cannot tell which object the sheet's rows are: name it with --object")
	}
	return best, fmt.Sprintf("chosen: %d of the sheet's columns match its fields", bestN), nil
}

// externalID returns the field a job's key goes into: an external id,
// one named like a key first.
func externalID(o *connector.Object) *connector.Field {
	var ids []*connector.Field
	for i := range o.Fields {
		f := &o.Fields[i]
		if f.ExternalID && f.Type != connector.TypeID && (f.Createable || f.Updateable) {
			ids = append(ids, f)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	for _, f := range ids {
		if slices.Contains(tokens(f.Name), "key") {
			return f
		}
	}
	return ids[0]
}
