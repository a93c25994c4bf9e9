package mapping

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// LocalObject is the name a job's local side is read under: the job's
// table or sheet, else the source's table, else the source's name (a CSV
// file, or a workbook's default sheet).
func LocalObject(j *config.Job) string {
	switch {
	case j.Local.Table != "":
		return j.Local.Table
	case j.Local.Sheet != "":
		return j.Local.Sheet
	case j.Source != nil && j.Source.Table != "":
		return j.Source.Table
	}
	return j.Local.Source
}

// LocalDescribeFunc describes a job's sheet as its header row says, as a
// run reads it (the sheet connector's Describe): the file and the sheet
// must exist and the header row hold the job's key column. It is called
// with the job's local side only, not with the columns its rules map, so
// that every missing column is found, not the first.
type LocalDescribeFunc func(ctx context.Context, job *config.Job) (*connector.Object, error)

// CheckLocal checks what a run would read first of every job on a sheet
// (a CSV file or an XLSX workbook), as `casebridge validate` does without
// connecting to anything: the file exists, the workbook has the sheet,
// the header row holds the key column and every column the job's rules
// map (parent, children, a child's each). A run stops on any of these
// before it writes (exit 7); validate says it beforehand, at the option's
// file:line:col, with the header nearest to a column that is missing.
//
// Only the header row is read, and no cell is shown: the messages name
// files, sheets, rows and header texts. Jobs on databases are not
// checked here (reaching a database is validate --online's business).
// A source several jobs share is reported once.
func CheckLocal(ctx context.Context, cfg *config.Config, describe LocalDescribeFunc) config.Errors {
	var errs config.Errors
	reported := map[string]bool{} // source + sheet whose file or sheet failed
	for _, name := range cfg.JobNames() {
		j := cfg.Jobs[name]
		if j == nil || j.Source == nil || !j.Source.Kind.IsSheet() {
			continue
		}
		sheet := firstSet(j.Local.Sheet, j.Source.Sheet)
		desc, err := describe(ctx, j)
		if err != nil {
			id := j.Source.Name + "\x00" + sheet
			e := localError(j, sheet, err)
			if isColumnError(err) {
				// The key column is not in the header: find the header
				// by a mapped column, to suggest the key's nearest
				// header and check the other columns.
				if desc = headerByColumn(ctx, j, describe); desc != nil {
					e.Msg += suggestHeader(j.Local.Key, desc)
					errs = append(errs, e)
					errs = append(errs, missingColumns(j, sheet, desc)...)
					continue
				}
			}
			if e != nil && !(reported[id] && !isColumnError(err)) {
				errs = append(errs, e)
			}
			reported[id] = true
			continue
		}
		errs = append(errs, missingColumns(j, sheet, desc)...)
	}
	sortErrors(errs)
	return errs
}

func firstSet(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// headerByColumn describes a job's sheet finding its header row by one
// of the first columns its rules map instead of its key column; nil when
// none finds it.
func headerByColumn(ctx context.Context, j *config.Job, describe LocalDescribeFunc) *connector.Object {
	tried := 0
	for _, r := range j.Fields {
		if r.Local == "" || headerID(r.Local) == headerID(j.Local.Key) {
			continue
		}
		if tried++; tried > 3 {
			break
		}
		probe := *j
		probe.Local.Key = r.Local
		if desc, err := describe(ctx, &probe); err == nil {
			return desc
		}
	}
	return nil
}

// suggestHeader is " (did you mean "x"?)" for the header of desc nearest
// to col, or "".
func suggestHeader(col string, desc *connector.Object) string {
	headers := make([]string, 0, len(desc.Fields))
	for _, f := range desc.Fields {
		headers = append(headers, f.Name)
	}
	if best := config.Nearest(col, headers); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// isColumnError reports whether err is about the job's own key column,
// which differs between jobs sharing a file.
func isColumnError(err error) bool { return errors.Is(err, connector.ErrFieldNotFound) }

// localError places a describe failure at the option it is about: a
// missing file at the source's path, a missing sheet at the sheet named,
// a header row without the key column at the job's local.key. The
// message is the connector's, the one a run stops with.
func localError(j *config.Job, sheet string, err error) *config.Error {
	src := j.Source
	msg := connectorMessage(err)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return src.Errorf("path", "%s: file not found (a missing file is not an empty sheet)", src.Path)
	case errors.Is(err, connector.ErrObjectNotFound):
		if j.Local.Has("sheet") {
			return j.Local.Errorf("sheet", "%s", msg)
		}
		if src.Has("sheet") {
			return src.Errorf("sheet", "%s", msg)
		}
		return src.Errorf("path", "%s", msg)
	case errors.Is(err, connector.ErrFieldNotFound):
		return j.Local.Errorf("key", "%s", msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil
	}
	return src.Errorf("path", "%s", msg)
}

// connectorMessage is a connector error's own text, without the record
// error's operation and code and without the sentinel it wraps.
func connectorMessage(err error) string {
	var re *connector.RecordError
	if errors.As(err, &re) && re.Err != nil {
		err = re.Err
	}
	msg := err.Error()
	for _, s := range []error{connector.ErrFieldNotFound, connector.ErrObjectNotFound} {
		msg = strings.TrimSuffix(msg, ": "+s.Error())
	}
	return msg
}

// missingColumns reports each column a job's rules map that the header
// row of desc lacks, with the nearest header.
func missingColumns(j *config.Job, sheet string, desc *connector.Object) config.Errors {
	have := map[string]bool{}
	for _, f := range desc.Fields {
		have[headerID(f.Name)] = true
	}
	where := j.Source.Path
	if j.Source.Kind == config.KindXLSX && sheet != "" {
		where += fmt.Sprintf(" sheet %q", sheet)
	}
	var errs config.Errors
	seen := map[string]bool{}
	check := func(m *config.Meta, col string) {
		id := headerID(col)
		if col == "" || have[id] || seen[id] {
			return
		}
		seen[id] = true
		hint := suggestHeader(col, desc)
		if hint == "" {
			hint = " (renamed or removed?)"
		}
		errs = append(errs, m.Errorf("local", "%s: column %q not found in the header row%s", where, col, hint))
	}
	rules := func(rs []*config.Rule) {
		for _, r := range rs {
			check(&r.Meta, r.Local)
		}
	}
	rules(j.Fields)
	for _, ch := range j.Children {
		if ch.Each != nil {
			check(&ch.Each.Meta, ch.Each.Local)
		}
		rules(ch.Fields)
	}
	return errs
}

// headerID is the form in which the sheet connector matches a header
// cell with a configured column: NFC, white space (line breaks and
// zero-width spaces inside the cell included) collapsed, case folded.
func headerID(s string) string {
	return connector.KeyID(strings.Join(strings.FieldsFunc(connector.NormalizeKey(s), isHeaderSpace), " "), false)
}

func isHeaderSpace(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}
