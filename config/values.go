package config

import (
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// ValueMap maps local values to Salesforce values, in the order written.
// Several local values may map to one Salesforce value; the first of them
// is the form written back to the local side.
type ValueMap struct {
	Entries []ValueEntry
}

// ValueEntry is one local -> Salesforce pair of a ValueMap.
type ValueEntry struct {
	Local string
	SF    string
	// Pos is where the entry's key is written.
	Pos Pos
}

// Len returns the number of entries.
func (m ValueMap) Len() int { return len(m.Entries) }

// ToSF returns the Salesforce value for a local value, compared exactly.
func (m ValueMap) ToSF(local string) (string, bool) {
	for _, e := range m.Entries {
		if e.Local == local {
			return e.SF, true
		}
	}
	return "", false
}

// WriteForm returns the local form written for a Salesforce value: the
// first entry that maps to it.
func (m ValueMap) WriteForm(sf string) (string, bool) {
	for _, e := range m.Entries {
		if e.SF == sf {
			return e.Local, true
		}
	}
	return "", false
}

func (m *ValueMap) decodeNode(d *decoder, n ast.Node, path string, at Pos) {
	ps, ok := d.pairs(d.resolve(n), path, 0)
	if !ok {
		d.errorf(at, path, "want a mapping of local value: Salesforce value, got %s", kindOf(d.resolve(n)))
		return
	}
	for _, p := range ps {
		ep := joinPath(path, p.key)
		sf, _, _ := d.scalar(p.value, ep, d.nodePos(p.value, p.keyPos), "a Salesforce value")
		m.Entries = append(m.Entries, ValueEntry{Local: p.key, SF: sf, Pos: p.keyPos})
	}
}

// YesNo reads a local yes/no column: a preset word list, or lists of its
// own.
type YesNo struct {
	Meta
	// Preset is the preset named, if one was.
	Preset YesNoPreset
	// Yes, No and Unknown are the words read as true, false and null
	// (compared case-insensitively after trimming). A preset fills them.
	Yes, No, Unknown []string
}

// yesNoLists is the mapping form of yes_no.
type yesNoLists struct {
	Meta
	Yes     []string `yaml:"yes" required:"true" doc:"words read as yes; the first is written"`
	No      []string `yaml:"no" required:"true" doc:"words read as no; the first is written"`
	Unknown []string `yaml:"unknown" doc:"words read as unknown (null)"`
}

func (y *YesNo) decodeNode(d *decoder, n ast.Node, path string, at Pos) {
	r := d.resolve(n)
	if _, _, _, scalar := rawScalar(r); scalar {
		var p YesNoPreset
		if d.decodeValue(n, reflectValue(&p), path, at, nil) {
			*y = presetYesNo(p)
			y.Pos, y.KeyPath = at, path
		}
		return
	}
	switch r.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
	default:
		if !isNull(r) {
			d.errorf(at, path, "want a preset (%s) or a mapping of yes, no and unknown words, got %s", strings.Join(YesNoPreset("").enumValues(), ", "), kindOf(r))
			return
		}
	}
	var l yesNoLists
	d.decodeStruct(r, reflectValue(&l), path, at)
	y.Meta, y.Yes, y.No, y.Unknown = l.Meta, l.Yes, l.No, l.Unknown
	seen := make(map[string]string)
	for _, list := range []struct {
		key   string
		words []string
	}{{"yes", l.Yes}, {"no", l.No}, {"unknown", l.Unknown}} {
		for i, w := range list.words {
			k := strings.ToLower(strings.TrimSpace(w))
			if prev, dup := seen[k]; dup && prev != list.key {
				wp := joinPath(path, list.key) + "[" + strconv.Itoa(i) + "]"
				d.errorf(d.posOf(wp, l.At(list.key)), wp, "%s is also listed under %s", d.word(wp, w), prev)
			}
			seen[k] = list.key
		}
	}
}

// yesNoWords are the built-in word lists (doc/architecture.md §11.6 rule 3). Every
// language preset includes the English words, which partner sheets mix in.
var yesNoWords = map[YesNoPreset][3][]string{
	YesNoEnglish: {{"yes", "y", "true", "1", "✓"}, {"no", "n", "false", "0"}, {"", "-", "—", "?", "n/a"}},
	YesNoThai:    {{"ใช่", "มี"}, {"ไม่", "ไม่ใช่"}, {"รอ"}},
	YesNoKhmer:   {{"បាទ", "ចាស"}, {"ទេ"}, nil},
	YesNoBengali: {{"হ্যাঁ"}, {"না"}, nil},
	YesNoSpanish: {{"sí", "si"}, {"no"}, nil},
}

func presetYesNo(p YesNoPreset) YesNo {
	y := YesNo{Preset: p}
	add := func(q YesNoPreset) {
		w := yesNoWords[q]
		y.Yes = appendNew(y.Yes, w[0]...)
		y.No = appendNew(y.No, w[1]...)
		y.Unknown = appendNew(y.Unknown, w[2]...)
	}
	switch p {
	case YesNoAll:
		for _, q := range []YesNoPreset{YesNoEnglish, YesNoThai, YesNoKhmer, YesNoBengali, YesNoSpanish} {
			add(q)
		}
	case YesNoEnglish:
		add(p)
	default:
		add(p)
		add(YesNoEnglish)
	}
	return y
}

func appendNew(list []string, words ...string) []string {
	for _, w := range words {
		found := false
		for _, x := range list {
			if x == w {
				found = true
				break
			}
		}
		if !found {
			list = append(list, w)
		}
	}
	return list
}
