package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJSON writes r as indented JSON (format casebridge.report/v1).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// ReadJSON reads a report written by WriteJSON. It refuses another format.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if r.Format != Format {
		return nil, fmt.Errorf("report: format %q, want %q", r.Format, Format)
	}
	return &r, nil
}

// ErrorsCSVHeader is the header row of WriteErrorsCSV.
var ErrorsCSVHeader = []string{"key", "object", "side", "field", "code", "message"}

// WriteErrorsCSV writes the per-record errors of r, one row each, like Data
// Loader's error file but without values: key, object, side, field, code,
// message. A cell that a spreadsheet would take for a formula (starting
// with =, +, -, @, a tab or a carriage return) gets a leading apostrophe.
func WriteErrorsCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ErrorsCSVHeader); err != nil {
		return err
	}
	for _, o := range r.Objects {
		for _, e := range o.Errors {
			row := []string{e.Key, e.Object, e.Side, e.Field, e.Code, e.Message}
			for i := range row {
				row[i] = csvCell(row[i])
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell guards a cell against CSV (formula) injection.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteSummary writes the short plain-text summary the CLI closes a run
// with: one block of counts and the API calls used and left.
func WriteSummary(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "job %s", r.Job)
	if r.RunID != 0 {
		fmt.Fprintf(&b, ", run %d", r.RunID)
	}
	fmt.Fprintf(&b, ": %s, %s", modeText(r.Mode), outcomeText(r.Outcome))
	if !r.Start.IsZero() && !r.End.IsZero() {
		fmt.Fprintf(&b, " (%s)", r.End.Sub(r.Start).Round(time.Millisecond))
	}
	b.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "  %s\n", r.Error)
	}
	type line struct {
		label  string
		n      int
		detail string
	}
	var lines []line
	perSide := func(f func(SideCounts) int) string {
		var sf, lo int
		for _, o := range r.Objects {
			sf += f(o.Counts.Salesforce)
			lo += f(o.Counts.Local)
		}
		if sf+lo == 0 {
			return ""
		}
		return fmt.Sprintf("salesforce %d, local %d", sf, lo)
	}
	verb := ""
	if r.Mode != ModeApply || r.Outcome == OutcomeAborted {
		verb = "to be "
	}
	row := func(label string, n int, detail string) {
		lines = append(lines, line{label, n, detail})
	}
	row(verb+"created", r.Totals.Created, perSide(func(c SideCounts) int { return c.Created }))
	row(verb+"updated", r.Totals.Updated, perSide(func(c SideCounts) int { return c.Updated }))
	row(verb+"deleted", r.Totals.Deleted, perSide(func(c SideCounts) int { return c.Deleted }))
	if r.Totals.Flagged > 0 {
		row("flagged", r.Totals.Flagged, "deleted on one side, kept on the other")
	}
	row("unchanged", r.Totals.Unchanged, "")
	row("conflicts", r.Totals.Conflicts, "")
	row("failed", r.Totals.Failed, "")
	if r.Totals.Pending > 0 {
		row("pending", r.Totals.Pending, "retried next run")
	}
	if r.Totals.Unknown > 0 {
		row("unknown", r.Totals.Unknown, "skipped: unreadable or duplicate")
	}
	left := "left unknown"
	if r.APICalls.Left != nil {
		left = fmt.Sprintf("%d left", *r.APICalls.Left)
	}
	row("API calls", r.APICalls.Used, "used, "+left)
	lw, nw := 0, 0
	for _, l := range lines {
		lw = max(lw, len(l.label))
		nw = max(nw, len(fmt.Sprint(l.n)))
	}
	for _, l := range lines {
		s := fmt.Sprintf("  %-*s  %*d  %s", lw, l.label, nw, l.n, l.detail)
		b.WriteString(strings.TrimRight(s, " "))
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func modeText(m Mode) string {
	switch m {
	case ModeDryRun:
		return "dry run"
	case ModeCompare:
		return "comparison"
	}
	return string(m)
}

func outcomeText(o Outcome) string {
	switch o {
	case OutcomeDryRun:
		return "nothing written"
	case OutcomeAborted:
		return "aborted, nothing written"
	case OutcomePartial:
		return "partial"
	}
	return string(o)
}
