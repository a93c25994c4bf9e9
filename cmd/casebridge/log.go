package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// newLogger sets up the one logger of the process: JSON lines by default,
// human-readable console lines when w is a terminal (or format is
// "console").
//
// Redaction is by construction, not by filtering: zerolog hooks cannot
// remove fields, so nothing that holds a personal value may be passed to
// the logger. connector.Value prints only its kind, errors name keys and
// fields and never values, and log calls take job, object, key and field
// names, counts and error codes.
func newLogger(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" || lvl == zerolog.NoLevel {
		return zerolog.Nop(), fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", level)
	}
	switch format {
	case "json":
	case "console":
		w = consoleWriter(w, !isTerminal(w))
	case "auto", "":
		if isTerminal(w) {
			w = consoleWriter(w, false)
		}
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format: %q is not one of json, console, auto", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// isTerminal reports whether w is a terminal (a terminal wrapper
// answers for the writer it wraps).
func isTerminal(w io.Writer) bool {
	if t, ok := w.(*terminal); ok {
		return t.tty
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// consoleWriter writes human-readable log lines. Messages and field values
// pass through escapeUnsafe: a record key from a spreadsheet must not drive
// the terminal (JSON lines escape control characters by themselves).
func consoleWriter(w io.Writer, noColor bool) zerolog.ConsoleWriter {
	esc := func(i any) string {
		switch v := i.(type) {
		case json.RawMessage: // a boolean, a number: as JSON wrote it
			return escapeUnsafe(string(v))
		case []byte:
			return escapeUnsafe(string(v))
		}
		return escapeUnsafe(fmt.Sprint(i))
	}
	return zerolog.ConsoleWriter{Out: w, TimeFormat: time.DateTime, NoColor: noColor,
		FormatMessage: esc, FormatFieldValue: esc, FormatErrFieldValue: esc}
}
