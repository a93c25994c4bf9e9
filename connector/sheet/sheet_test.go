package sheet_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/conformance"
	"github.com/casebridge/casebridge/connector/sheet"
)

// header is the test object's columns, in the order of TestObject.
func header() []string {
	return conformance.TestObject(conformance.DefaultObject).FieldNames()
}

func newSheet(tb testing.TB, path, tab string) connector.Connector {
	c, err := sheet.New(sheet.Config{Name: "sheet", Sheets: []sheet.SheetConfig{{
		Object: conformance.DefaultObject, Path: path, Sheet: tab, Key: conformance.FieldKey,
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Declared differences from the reference connector: a sheet stores text
// only (typed conversion is the mapping layer's job) and does not track
// changes (every read is complete).
func TestConformanceCSV(t *testing.T) {
	conformance.Run(t, conformance.Opt{
		New: func(tb testing.TB) connector.Connector {
			p := filepath.Join(tb.TempDir(), "cases.csv")
			if err := os.WriteFile(p, []byte(strings.Join(header(), ",")+"\r\n"), 0o644); err != nil {
				tb.Fatal(err)
			}
			return newSheet(tb, p, "")
		},
		TextOnly: true,
		Invalid: func(key string) connector.Record {
			// Bytes that are not UTF-8 cannot be written to a UTF-8 file.
			return connector.Record{Key: key, Fields: map[string]connector.Value{
				conformance.FieldName: connector.Text("ความลับ\xff"),
			}}
		},
	})
}

func TestConformanceXLSX(t *testing.T) {
	conformance.Run(t, conformance.Opt{
		New: func(tb testing.TB) connector.Connector {
			p := filepath.Join(tb.TempDir(), "cases.xlsx")
			f := excelize.NewFile()
			defer f.Close()
			if err := f.SetSheetName("Sheet1", "Cases"); err != nil {
				tb.Fatal(err)
			}
			for i, h := range header() {
				cell, _ := excelize.CoordinatesToCellName(i+1, 1)
				f.SetCellStr("Cases", cell, h)
			}
			if err := f.SaveAs(p); err != nil {
				tb.Fatal(err)
			}
			return newSheet(tb, p, "Cases")
		},
		TextOnly: true,
		Invalid: func(key string) connector.Record {
			// A control character a workbook cannot hold.
			return connector.Record{Key: key, Fields: map[string]connector.Value{
				conformance.FieldName: connector.Text("ความลับ\x01"),
			}}
		},
	})
}
