package main

import (
	"io"
	"os"
	"strings"
	"sync"

	"github.com/rivo/uniseg"
	"golang.org/x/term"
)

// terminal is stderr as the process shares it between two writers that
// would garble each other on a terminal: log lines, written whole, and a
// progress line, drawn again and again in place after a carriage return.
// A log line written while the progress line is shown erases it first and
// draws it again below itself, so each ends up on a line of its own.
//
// A progress line is drawn through a progressLine writer; once that is
// closed nothing it is given reaches the terminal, so a progress bar that
// ended (and whatever goroutine of it still ticks) can never redraw an old
// count over a later run's output.
//
// When out is not a terminal every write passes straight through.
type terminal struct {
	out  io.Writer
	tty  bool
	cols func() int // the terminal's width in cells; 0 when unknown

	mu      sync.Mutex
	bar     *progressLine // the one progress line allowed to draw; nil when none
	line    string        // what the progress line shows now ("" when nothing)
	shown   bool          // line is on the screen
	midLine bool          // the last log write did not end its line
}

func newTerminal(w io.Writer) *terminal {
	t := &terminal{out: w, tty: isTerminal(w), cols: func() int { return 0 }}
	if f, ok := w.(*os.File); ok && t.tty {
		t.cols = func() int {
			c, _, err := term.GetSize(int(f.Fd()))
			if err != nil {
				return 0
			}
			return c
		}
	}
	return t
}

// Write writes log output: the progress line, when shown, is erased first
// and drawn again once the output ends its line.
func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shown {
		t.erase()
	}
	n, err := t.out.Write(p)
	if len(p) > 0 {
		t.midLine = p[len(p)-1] != '\n'
	}
	t.draw()
	return n, err
}

// progressLine starts a new progress line, ending any earlier one: only
// the newest may draw.
func (t *terminal) progressLine() *progressLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shown {
		t.erase()
	}
	t.bar = &progressLine{t: t}
	t.line = ""
	return t.bar
}

// erase removes the progress line from the screen. Spaces rather than an
// ANSI erase, so that consoles without escape sequences clear it as well.
func (t *terminal) erase() {
	w := uniseg.StringWidth(t.line)
	_, _ = io.WriteString(t.out, "\r"+strings.Repeat(" ", w)+"\r")
	t.shown = false
}

// draw shows the progress line unless a log line is half written.
func (t *terminal) draw() {
	if t.shown || t.midLine || t.line == "" {
		return
	}
	_, _ = io.WriteString(t.out, "\r"+t.line)
	t.shown = true
}

// fit shortens s to fit on one row (one cell kept free: a terminal that
// wraps at the last column would put the cursor on the next row, where a
// carriage return no longer reaches the progress line).
func (t *terminal) fit(s string) string {
	cols := t.cols()
	if cols <= 1 || uniseg.StringWidth(s) < cols {
		return s
	}
	var b strings.Builder
	w := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		if w+g.Width() > cols-2 {
			break
		}
		w += g.Width()
		b.WriteString(g.Str())
	}
	return b.String() + "…"
}

// progressLine is the writer a progress bar draws on. It takes what the
// bar writes (frames that each begin with a carriage return, and runs of
// spaces that clear the line) and keeps only the text the line should
// show now; the terminal draws it.
type progressLine struct {
	t      *terminal
	closed bool
}

func (b *progressLine) Write(p []byte) (int, error) {
	t := b.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if b.closed || t.bar != b {
		return len(p), nil
	}
	s := string(p)
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	} else {
		s = t.line + s
	}
	s = t.fit(strings.TrimRight(s, " "))
	if s == t.line {
		return len(p), nil
	}
	if t.shown {
		t.erase()
	}
	t.line = s
	t.draw()
	return len(p), nil
}

// Close erases the line; nothing written to it later is shown.
func (b *progressLine) Close() error {
	t := b.t
	t.mu.Lock()
	defer t.mu.Unlock()
	b.closed = true
	if t.bar != b {
		return nil
	}
	if t.shown {
		t.erase()
	}
	t.bar, t.line = nil, ""
	return nil
}
