package sheet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Preview is the start of a sheet as casebridge init reads it to write a
// first configuration: rows as the reader sees them, before any header or
// key is known. Its cells hold personal data: callers derive shapes and
// counts from them and must not print them.
type Preview struct {
	// Format is "csv" or "xlsx".
	Format string
	// Sheet is the workbook sheet read (the first when none was asked
	// for), and Sheets every sheet of the workbook in order; empty for CSV.
	Sheet  string
	Sheets []string
	// Encoding and Delimiter are what a CSV file was read with: the
	// detected ones unless SheetConfig named them.
	Encoding  string
	Delimiter string
	// Rows are the physical rows read, blank ones included, in order.
	Rows []PreviewRow
}

// PreviewRow is one physical row of a sheet.
type PreviewRow struct {
	// Num is the 1-based row number a spreadsheet program shows.
	Num int
	// Cells are the cell texts as Read gives them: a CSV cell's injection
	// guard stripped, a date-formatted workbook cell as an ISO date.
	Cells []string
	// Bad is set when the row could not be read whole (an unclosed quote,
	// bytes invalid in the encoding): its cells may be shifted.
	Bad bool
}

// ReadPreview reads the first maxRows physical rows of the file cfg names
// (Path; Format, Sheet, Encoding and Delimiter as for a SheetConfig, ""
// detecting them). Object and Key are not needed: finding the header and
// the key column is the caller's work.
func ReadPreview(ctx context.Context, cfg SheetConfig, maxRows int) (*Preview, error) {
	if cfg.Path == "" {
		return nil, errors.New("sheet: preview: no path")
	}
	if cfg.Object == "" {
		cfg.Object = "preview"
	}
	sc := &sheetConf{SheetConfig: cfg, conn: "preview", guard: true, ro: true}
	switch strings.ToLower(cfg.Format) {
	case "":
		switch strings.ToLower(filepath.Ext(cfg.Path)) {
		case ".xlsx", ".xlsm":
			sc.format = formatXLSX
		}
	case "csv":
	case "xlsx":
		sc.format = formatXLSX
	default:
		return nil, fmt.Errorf("%s: format %q: want csv or xlsx", cfg.Path, cfg.Format)
	}
	p := &Preview{Format: "csv"}
	if sc.format == formatXLSX {
		p.Format = "xlsx"
		f, err := os.Open(cfg.Path)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		b, err := openBook(f, fi.Size())
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", cfg.Path, err)
		}
		for _, s := range b.sheets {
			p.Sheets = append(p.Sheets, s.name)
		}
		name, _, err := b.sheetPath(cfg.Path, cfg.Sheet)
		f.Close()
		if err != nil {
			return nil, err
		}
		p.Sheet, sc.Sheet = name, name
	} else {
		f, err := os.Open(cfg.Path)
		if err != nil {
			return nil, err
		}
		_, cf, err := openCSV(sc, f, false)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Path, err)
		}
		p.Encoding, p.Delimiter = cf.enc.String(), string(cf.delim)
		// Read the rows with what was detected, as a run configured so
		// would.
		sc.Encoding, sc.Delimiter = p.Encoding, p.Delimiter
	}
	errFull := errors.New("full")
	_, err := sc.rows(ctx, func(r *rawRow) error {
		if len(p.Rows) >= maxRows {
			return errFull
		}
		p.Rows = append(p.Rows, PreviewRow{Num: r.num, Cells: slices.Clone(r.cells), Bad: r.bad != ""})
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, fmt.Errorf("%s: %w", sc.where(), err)
	}
	return p, nil
}
