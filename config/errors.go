package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a configuration file. Line and Col are 1-based and
// Col counts characters (runes), not bytes, so Thai and Khmer headers
// do not shift it; a zero Pos means "no position".
type Pos struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether p points into a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "file:line:col", or the file name alone when p has no
// line.
func (p Pos) String() string {
	if !p.IsValid() {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one finding about a configuration file: where it is (File,
// Line, Col), which option it is about (Path, such as
// "jobs.th_cases.conflict"), and what is wrong (Msg). Messages name keys,
// enum words, references, environment variables and file names; they never
// carry a secret or a record value.
type Error struct {
	File string
	Line int
	Col  int
	Path string
	Msg  string
}

// Pos returns where the finding is.
func (e *Error) Pos() Pos { return Pos{File: e.File, Line: e.Line, Col: e.Col} }

// Error prints "file:line:col: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos().String())
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every error found in one configuration file, in file order.
// Parse and Load return it (as an error) when there is at least one.
type Errors []*Error

// Error prints one finding per line.
func (es Errors) Error() string { return joinLines(es) }

// Warnings are findings that do not stop the configuration from loading,
// such as a file that holds secrets literally and is readable by others.
type Warnings []*Error

// String prints one warning per line.
func (ws Warnings) String() string { return joinLines(ws) }

func joinLines(es []*Error) string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortFindings orders findings by position, keeping the order in which
// findings at the same position were made.
func sortFindings(es []*Error) {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Col, b.Col)
	})
}
