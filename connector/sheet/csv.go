package sheet

import (
	"bufio"
	"context"
	"io"
	"os"
)

// openCSV detects the format of a CSV stream and returns a scanner
// positioned after the byte order mark.
func openCSV(sc *sheetConf, r io.Reader, keepSpans bool) (*csvScanner, csvFormat, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, csvFormat{}, err
	}
	f, err := detectFormat(head, sc.Encoding, sc.Delimiter, sc.Key)
	if err != nil {
		return nil, f, err
	}
	br.Discard(len(f.bom))
	s := newCSVScanner(br, f, keepSpans)
	s.off = int64(len(f.bom))
	return s, f, nil
}

// csvRows streams the rows of a CSV file.
func csvRows(ctx context.Context, sc *sheetConf, fn func(*rawRow) error) error {
	file, err := os.Open(sc.Path)
	if err != nil {
		return err
	}
	defer file.Close()
	s, _, err := openCSV(sc, file, false)
	if err != nil {
		return err
	}
	var rec csvRecord
	var row rawRow
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := s.scan(&rec)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		row.num, row.bad, row.badCol = rec.num, rec.bad, rec.badCol
		row.line, row.lines, row.quoted, row.delim = rec.line, rec.lines, rec.quotedLines, s.f.delim
		row.cells = row.cells[:0]
		for _, f := range rec.fields {
			if sc.guard {
				f = unguard(f)
			}
			row.cells = append(row.cells, f)
		}
		row.unguarded(rec.fields)
		if err := fn(&row); err != nil {
			return err
		}
	}
}
