package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rivo/uniseg"
)

// screen is a fake terminal: it keeps the rows a person would see, applying
// carriage returns, newlines and the erase-line escapes (ESC[K, ESC[2K) as
// a terminal does, text overwriting what is under the cursor.
type screen struct {
	mu   sync.Mutex
	rows [][]rune
	col  int
	raw  strings.Builder
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw.Write(p)
	if len(s.rows) == 0 {
		s.rows = [][]rune{nil}
	}
	text := []rune(string(p))
	for i := 0; i < len(text); i++ {
		row := &s.rows[len(s.rows)-1]
		switch r := text[i]; r {
		case '\r':
			s.col = 0
		case '\n':
			s.rows = append(s.rows, nil)
			s.col = 0
		case 0x1b:
			j := i + 2 // ESC [ params letter
			for j < len(text) && (text[j] < '@' || text[j] > '~') {
				j++
			}
			if j < len(text) && text[j] == 'K' {
				switch string(text[i+2 : j]) {
				case "", "0":
					if s.col < len(*row) {
						*row = (*row)[:s.col]
					}
				case "2":
					*row = nil
				}
			}
			i = j
		default:
			for len(*row) <= s.col {
				*row = append(*row, ' ')
			}
			(*row)[s.col] = r
			s.col++
		}
	}
	return len(p), nil
}

// lines are the screen's rows as seen, trailing blanks dropped.
func (s *screen) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.rows {
		out = append(out, strings.TrimRight(string(r), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func fakeTerminal(cols int) (*terminal, *screen) {
	scr := &screen{}
	return &terminal{out: scr, tty: true, cols: func() int { return cols }}, scr
}

// TestProgressAndLogShareTheTerminal runs two runs' worth of progress and
// log lines on one terminal, as sync and the demo do: every log line must
// be a row of its own, whole, with no progress text before or after it; a
// run's summary never shares a row with a bar; and once a run's bar ended,
// nothing of it (a late frame from its spinner) appears in a later run.
func TestProgressAndLogShareTheTerminal(t *testing.T) {
	term, scr := fakeTerminal(80)
	log, err := newLogger(term, "info", "console")
	if err != nil {
		t.Fatal(err)
	}
	stdout := scr // stdout is the same terminal, written past the logger

	// Run 1.
	p := newProgress(term)
	log.Info().Str("job", "th_cases").Msg("run starting")
	p.add("th_cases", "salesforce", "read", 2)
	log.Info().Int("resolved", 4).Msg("lookups")
	p.add("th_cases", "local", "read", 9)
	p.add("th_cases", "salesforce", "write", 7)
	p.add("th_cases", "local", "write", 1)
	oldBar, oldLine := p.bar, p.line
	log.Info().Int("api_calls", 9).Msg("run done")
	p.clear()
	fmt.Fprintln(stdout, "th_cases synced: 4 created")
	p.done("th_cases")
	marker := len(scr.lines())

	// Run 2, in the same process: a new progress, as runJobs makes.
	p2 := newProgress(term)
	log.Info().Str("job", "th_cases").Msg("run starting")
	p2.add("th_cases", "salesforce", "read", 1)
	// Run 1's bar draws late, as its spinner goroutine would.
	late := func() {
		_ = oldBar.RenderBlank()
		_, _ = oldLine.Write([]byte("\r⠙ th_cases: read 2 salesforce, 9 local; wrote 7 salesforce, 1 local [0s] "))
	}
	late()
	log.Info().Int("api_calls", 4).Msg("run done")
	p2.clear()
	late()
	fmt.Fprintln(stdout, "th_cases synced: 0 created")
	p2.done("th_cases")

	lines := scr.lines()
	want := []string{"run starting", "lookups", "run done", "th_cases synced: 4 created",
		"  records read 2 salesforce, 9 local; wrote 7 salesforce, 1 local",
		"run starting", "run done", "th_cases synced: 0 created",
		"  records read 1 salesforce, 0 local; wrote 0 salesforce, 0 local"}
	if len(lines) != len(want) {
		t.Fatalf("screen has %d rows, want %d:\n%s\nbytes written: %q", len(lines), len(want), strings.Join(lines, "\n"), scr.raw.String())
	}
	for i, l := range lines {
		if strings.Contains(want[i], "synced") || strings.HasPrefix(want[i], "  records") {
			if l != want[i] {
				t.Errorf("row %d = %q, want %q", i, l, want[i])
			}
			continue
		}
		// A log row: the timestamp first, the message after the level.
		if _, err := strconv.Atoi(l[:4]); err != nil || !strings.Contains(l, " INF "+want[i]) {
			t.Errorf("row %d = %q, want a log line of its own (%q)", i, l, want[i])
		}
		if strings.Contains(l, "salesforce,") {
			t.Errorf("row %d = %q holds progress text", i, l)
		}
	}
	for i, l := range lines[marker:] {
		if strings.Contains(l, "wrote 7") {
			t.Errorf("run 2's row %d = %q shows run 1's counts", i, l)
		}
	}
}

// TestProgressLineFitsTheTerminal: a progress line wider than the terminal
// would wrap, and a carriage return then returns to its second row only,
// leaving the first on screen for good; it is cut to fit instead.
func TestProgressLineFitsTheTerminal(t *testing.T) {
	term, scr := fakeTerminal(40)
	p := newProgress(term)
	p.add("a_job_with_a_rather_long_name", "salesforce", "read", 1200)
	_ = p.bar.RenderBlank()
	if l := scr.lines(); len(l) != 1 || uniseg.StringWidth(l[0]) >= 40 || !strings.HasSuffix(l[0], "…") {
		t.Fatalf("progress line %q: want one row narrower than 40 cells, cut with an ellipsis", l)
	}
	fmt.Fprintln(term, "a log line")
	p.clear()
	if l := scr.lines(); len(l) != 1 || l[0] != "a log line" {
		t.Fatalf("screen after the run: %q, want the log line alone", l)
	}
}

// TestTerminalPassesThrough: output that is not a terminal gets no bar and
// no escapes, only the plain line at the end of a job.
func TestTerminalPassesThrough(t *testing.T) {
	scr := &screen{}
	term := newTerminal(scr)
	p := newProgress(term)
	p.add("th_cases", "local", "read", 3)
	fmt.Fprintln(term, "log")
	p.clear()
	p.done("th_cases")
	if got, want := scr.raw.String(), "log\n  records read 0 salesforce, 3 local; wrote 0 salesforce, 0 local\n"; got != want {
		t.Fatalf("wrote %q, want %q", got, want)
	}
}
