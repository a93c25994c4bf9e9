package sheet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadPreview: the rows before any header or key is known, with what
// a configuration must say to read the file as it was read (a CSV's
// delimiter, a workbook's sheet).
func TestReadPreview(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cases.csv")
	if err := os.WriteFile(p, []byte("Report 2024;;\nCase ID;Sex;Note\nC-1;F;'=cmd\nC-2;M;\nC-3;F;x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pv, err := ReadPreview(ctx, SheetConfig{Path: p}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Format != "csv" || pv.Delimiter != ";" || pv.Encoding != "utf-8" || len(pv.Rows) != 4 {
		t.Fatalf("format %s, delimiter %q, encoding %s, %d rows (want 4 of 5)", pv.Format, pv.Delimiter, pv.Encoding, len(pv.Rows))
	}
	if got := strings.Join(pv.Rows[1].Cells, "|"); pv.Rows[1].Num != 2 || got != "Case ID|Sex|Note" {
		t.Errorf("row %d: %q", pv.Rows[1].Num, got)
	}
	if got := pv.Rows[2].Cells[2]; got != "=cmd" {
		t.Errorf("a guarded cell reads %q, want its text as Read gives it", got)
	}

	pv, err = ReadPreview(ctx, SheetConfig{Path: filepath.Join("..", "..", "fixtures", "sheets", "kh_register.xlsx"), Sheet: "OLD 2023"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Format != "xlsx" || pv.Sheet != "old 2023" || strings.Join(pv.Sheets, "|") != "Register|old 2023" || len(pv.Rows) == 0 {
		t.Errorf("format %s, sheet %q of %q, %d rows", pv.Format, pv.Sheet, pv.Sheets, len(pv.Rows))
	}
	if _, err := ReadPreview(ctx, SheetConfig{Path: filepath.Join(dir, "missing.csv")}, 10); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
}
