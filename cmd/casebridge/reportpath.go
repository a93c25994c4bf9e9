package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// check refuses --report paths that writeReport could not write, before
// a run starts: a report is written after the run, and a run that wrote
// to Salesforce and then found its report's folder missing has left the
// one record of what it did unwritten. The folder must exist and take a
// new file (one is created and removed), an existing report must be a
// file that opens for writing, and the extension must name a format.
// Nothing is left behind.
func (v *reportFlags) check() error {
	for _, path := range v.paths {
		if err := checkReportPath(path); err != nil {
			return usageErrorf("--report %s: %v", path, err)
		}
	}
	return nil
}

// checkReportPath is check for one path.
func checkReportPath(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm", ".json", ".csv":
	default:
		return errors.New("name the format with the extension: .html, .json or .csv")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("folder %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("folder %s: %w", dir, unwrapPath(err))
	case !st.IsDir():
		return fmt.Errorf("%s is not a folder", dir)
	}
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return errors.New("is a folder; name a file in it")
		}
		// Opened without O_TRUNC: the earlier report stays until the
		// run writes the new one.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("cannot be written: %w", unwrapPath(err))
		}
		return f.Close()
	}
	f, err := os.CreateTemp(dir, ".casebridge-report-check-*")
	if err != nil {
		return fmt.Errorf("folder %s does not take new files: %w", dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// unwrapPath drops the operation and path of a *fs.PathError, which the
// message names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
