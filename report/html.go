package report

import (
	_ "embed"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/casebridge/casebridge/reconcile"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"modeText":    modeText,
	"outcomeText": outcomeText,
	"sides":       func() []string { return []string{reconcile.SF.String(), reconcile.Local.String()} },
	"sideName":    sideName,
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"duration": func(a, b time.Time) string {
		if a.IsZero() || b.IsZero() {
			return ""
		}
		return b.Sub(a).Round(time.Millisecond).String()
	},
	"verb": func(r *Report) string {
		if r.Mode != ModeApply || r.Outcome == OutcomeAborted {
			return "to be "
		}
		return ""
	},
	"cell": func(object int, side, name string, n int) cell {
		return cell{Object: object, Side: side, Name: name, N: n}
	},
	"changesTo": func(cs []Change, side string) []Change {
		var out []Change
		for _, c := range cs {
			if c.Side == side {
				out = append(out, c)
			}
		}
		return out
	},
	"hasNotes": func(r *Report) bool {
		for _, o := range r.Objects {
			if len(o.Notes) > 0 {
				return true
			}
		}
		return false
	},
	"valuePolicy": valuePolicy,
	"mask":        func() string { return Mask },
}).Parse(htmlSource))

// cell is one count of the HTML count table.
type cell struct {
	Object int
	Side   string
	Name   string
	N      int
}

func sideName(s string) string {
	switch s {
	case "salesforce":
		return "Salesforce"
	case "local":
		return "Local"
	}
	return s
}

func valuePolicy(v ValuePolicy) string {
	switch {
	case !v.Shown:
		return "Values are not shown."
	case len(v.Classes) == 0:
		return "Values of unclassified fields are shown; values of classified fields are masked."
	}
	return "Values of unclassified fields and of fields classed " + strings.Join(v.Classes, ", ") +
		" are shown; values of other classified fields are masked."
}

// WriteHTML writes r as one self-contained HTML page: inline CSS, no
// scripts, no external assets, readable offline and printable. It shows a
// summary, the count table (each count also in data-object, data-side
// and data-count attributes), the changes by object and side, the
// conflicts, the errors and the notes.
func WriteHTML(w io.Writer, r *Report) error {
	return htmlTemplate.Execute(w, r)
}
