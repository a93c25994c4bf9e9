package scaffold

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// render writes the configuration. It is written by hand, not marshalled,
// to carry the comments that tell a person what to check.
func (g *gen) render() []byte {
	var b strings.Builder
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat(" ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	for _, h := range g.o.Header {
		w(0, "# %s", h)
	}
	w(0, "#")
	w(0, "# Lines marked TODO need a person; the rest is a guess from the sheet's")
	w(0, "# header, a sample of its rows and the org's field names. Then:")
	w(0, "#   casebridge validate FILE            (and --online, against the org)")
	w(0, "#   casebridge sync FILE --dry-run      what a first sync would write")
	w(0, "version: 1")
	w(0, "")

	sf := g.o.Salesforce
	for _, c := range sf.Comment {
		w(0, "# %s", c)
	}
	w(0, "salesforce:")
	if sf.LoginURL != "" && sf.LoginURLTODO != "" {
		w(2, "login_url: %s   # TODO: %s", quote(sf.LoginURL), sf.LoginURLTODO)
	} else if sf.LoginURL != "" {
		w(2, "login_url: %s", quote(sf.LoginURL))
	}
	w(2, "auth:")
	for _, kv := range [][2]string{{"flow", sf.Flow}, {"client_id", sf.ClientID}, {"client_secret", sf.ClientSecret}, {"username", sf.Username},
		{"password", sf.Password}, {"security_token", sf.SecurityToken}, {"refresh_token", sf.RefreshToken}, {"private_key_file", sf.PrivateKeyFile}} {
		if kv[1] != "" {
			w(4, "%s: %s", kv[0], quote(kv[1]))
		}
	}
	w(0, "")

	src := g.sourceName()
	w(0, "sources:")
	w(2, "%s:", src)
	w(4, "kind: %s", g.sum.Format)
	w(4, "path: %s", quote(filepath.ToSlash(g.o.SheetPath)))
	if g.sum.Format == "xlsx" {
		w(4, "sheet: %s", quote(g.preview.Sheet))
		if len(g.preview.Sheets) > 1 {
			w(4, "# the workbook's other sheets (%d) are not read; a job per sheet reads them", len(g.preview.Sheets)-1)
		}
	} else {
		if enc := configEncoding(g.preview.Encoding); enc != "utf-8" {
			w(4, "encoding: %s", enc)
		}
		if d := g.preview.Delimiter; d != "," && d != "" {
			w(4, "delimiter: %s", quote(d))
		}
	}
	w(4, "header_row: %d", g.t.headerRow)
	w(0, "")

	w(0, "jobs:")
	w(2, "%s:", g.jobName())
	w(4, "direction: both       # to_salesforce: the sheet is only read")
	w(4, "conflict: manual      # a field changed on both sides waits for a person")
	w(4, "salesforce: { object: %s, key: %s }", quote(g.obj.Name), quote(g.keyField.Name))
	w(4, "local:")
	w(6, "source: %s", src)
	w(6, "key: %s", quote(g.key.header))
	w(6, "# The Salesforce key is key_prefix + the sheet's key: choose it before the first sync.")
	w(6, "key_prefix: %s", quote(g.keyPrefix()))
	if g.keyPattern != "" {
		w(6, "# Every key in the sample has this shape; a row whose key does not (a name")
		w(6, "# typed into the key cell) is that row's error and never leaves the sheet.")
		w(6, "key_pattern: %s", quote(g.keyPattern))
	}
	w(4, "fields:")
	for _, r := range g.rules {
		g.renderRule(w, r)
	}
	for _, f := range g.required {
		w(6, "# TODO: %s is required and nothing maps it: map a column to it, or give it a constant:", f)
	}
	if len(g.unmatched) > 0 {
		w(6, "# Columns no field matched by name (map them by hand, or leave them out):")
		for _, u := range g.unmatched {
			note := ""
			if len(u.notes) > 0 {
				note = "  (" + strings.Join(u.notes, "; ") + ")"
			}
			w(6, "#   %s%s", quote(u.header), note)
		}
	}
	return []byte(b.String())
}

func (g *gen) renderRule(w func(int, string, ...any), r *rule) {
	for _, t := range r.todo {
		w(6, "# %s", t)
	}
	if r.check {
		w(6, "# matched by a known header for %s: check", r.col.header)
	}
	p := ""
	if r.disabled {
		p = "# "
	}
	w(6, "%s- sf: %s", p, r.field.Name)
	w(6, "%s  local: %s", p, quote(r.col.header))
	if r.direction != "" {
		w(6, "%s  direction: %s", p, r.direction)
	}
	if r.pii != "" {
		w(6, "%s  pii: %s", p, r.pii)
	}
	if r.transform != "" {
		w(6, "%s  transform: %s", p, r.transform)
	}
	if len(r.values) > 0 {
		w(6, "%s  values:", p)
		for _, v := range r.values {
			switch {
			case v.sf == "":
				w(6, "  #   %s: ?   # TODO: map this word (one of %s)", quote(v.local), picklistHint(r.field.Picklist))
			case v.translated:
				w(6, "%s    %s: %s   # a translation: check", p, quote(v.local), quote(v.sf))
			default:
				w(6, "%s    %s: %s", p, quote(v.local), quote(v.sf))
			}
		}
	}
	if r.yesNo != "" {
		w(6, "%s  yes_no: %s", p, r.yesNo)
	}
	if d := r.date; d != nil {
		var fs []string
		for _, f := range d.formats {
			fs = append(fs, quote(f))
		}
		opts := []string{"formats: [" + strings.Join(fs, ", ") + "]"}
		if d.era != "" {
			opts = append(opts, "era: "+d.era)
		}
		if d.excelSerial {
			opts = append(opts, "excel_serial: true")
		}
		if d.bareYear {
			opts = append(opts, "bare_year: true")
		}
		if d.dayFirst {
			opts = append(opts, "day_first: true")
		}
		w(6, "%s  date: { %s }", p, strings.Join(opts, ", "))
	}
	if r.how == "number" {
		opts := []string{"scale: " + strconv.Itoa(r.scale)}
		if r.currency != "" {
			opts = append(opts, "currency: "+r.currency)
		}
		w(6, "%s  number: { %s }", p, strings.Join(opts, ", "))
	}
	if r.country != "" {
		w(6, "%s  phone: { country: %s }", p, quote(r.country))
	}
}

// picklistHint lists a picklist's values for a TODO comment, shortened.
func picklistHint(values []string) string {
	if len(values) > 8 {
		return strings.Join(values[:8], ", ") + ", ..."
	}
	return strings.Join(values, ", ")
}

func (g *gen) sourceName() string {
	if g.o.Source != "" {
		return g.o.Source
	}
	return slug(strings.TrimSuffix(filepath.Base(g.o.Sheet), filepath.Ext(g.o.Sheet)))
}

func (g *gen) jobName() string {
	if g.o.Job != "" {
		return g.o.Job
	}
	return g.sourceName()
}

func (g *gen) keyPrefix() string {
	if g.o.KeyPrefix != "" {
		return g.o.KeyPrefix
	}
	return strings.ReplaceAll(g.sourceName(), "_", "-") + ":"
}

// slug makes a name for a source or job from a file name: lower-case
// ASCII letters, digits and underscores.
func slug(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.TrimRight(b.String(), "_")
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "sheet_" + out
	}
	return strings.TrimRight(out, "_")
}

// configEncoding is the configuration's name for an encoding the sheet
// reader detected.
func configEncoding(enc string) string {
	switch enc {
	case "utf-16le", "utf-16be":
		return "utf-16"
	case "":
		return "utf-8"
	}
	return enc
}

var plainRE = regexp.MustCompile(`^[\p{L}\p{M}_][\p{L}\p{M}\p{N} _.()/-]*$`)

// yamlWords are the plain scalars YAML reads as something other than a
// string.
var yamlWords = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true, "true": true, "false": true, "null": true, "~": true}

// quote writes s as a YAML scalar: plain when it cannot be read as
// anything but that string, double-quoted otherwise (Go's escapes are
// YAML's).
func quote(s string) string {
	if plainRE.MatchString(s) && !yamlWords[strings.ToLower(s)] && !strings.HasSuffix(s, " ") && !strings.Contains(s, " #") {
		return s
	}
	return strconv.Quote(s)
}
