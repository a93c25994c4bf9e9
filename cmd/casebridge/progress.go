package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a run's progress: on a terminal a live line per job
// (records read and written on each side), otherwise one plain line per job
// when it ends. It shows counts only, never records.
//
// Each job of each run gets a bar of its own, ended (and its line erased)
// before the run's summary is printed: a bar is never reused by a later
// run, and an ended one cannot draw again (see terminal).
type progress struct {
	w    io.Writer
	term *terminal // nil when w is not a terminal

	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	line   *progressLine
	job    string
	counts map[string]int // "salesforce read", "local write", ...
}

// newProgress reports progress on w; a terminal is w itself when it is one
// (log lines then share it without breaking the progress line), or a new
// one around w.
func newProgress(w io.Writer) *progress {
	p := &progress{w: w, counts: map[string]int{}}
	if t, ok := w.(*terminal); ok && t.tty {
		p.term = t
	} else if !ok && isTerminal(w) {
		p.term = newTerminal(w)
		p.w = p.term
	}
	return p
}

// add is schedules.Runner.Progress.
func (p *progress) add(job, side, op string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if job != p.job {
		p.end()
		p.job = job
		p.counts = map[string]int{}
	}
	p.counts[side+" "+op] += n
	if p.term == nil {
		return
	}
	if p.bar == nil {
		p.line = p.term.progressLine()
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(p.line),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Describe(p.describe())
	_ = p.bar.Add(n)
}

func (p *progress) describe() string {
	return fmt.Sprintf("%s: read %d salesforce, %d local; wrote %d salesforce, %d local",
		p.job, p.counts["salesforce read"], p.counts["local read"], p.counts["salesforce write"], p.counts["local write"])
}

// end stops the bar's spinner and erases its line. Finish, not Exit: an
// exited bar's spinner goroutine goes on drawing, a finished one's stops.
func (p *progress) end() {
	if p.bar == nil {
		return
	}
	_ = p.bar.Finish()
	_ = p.line.Close()
	p.bar, p.line = nil, nil
}

// clear removes the live line, before other output is printed.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.end()
}

// done ends a job's progress display and prints its plain line.
func (p *progress) done(job string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.end()
	if p.job != job {
		return
	}
	fmt.Fprintf(p.w, "  records %s\n", p.describe()[len(job)+2:])
	p.job = ""
	p.counts = map[string]int{}
}
