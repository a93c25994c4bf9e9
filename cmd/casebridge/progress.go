package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a run's progress: on a terminal a live line per job
// (records read and written on each side, with the rate), otherwise one
// plain line per job when it ends. It shows counts only, never records.
type progress struct {
	w   io.Writer
	tty bool

	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	job    string
	counts map[string]int // "salesforce read", "local write", ...
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, tty: isTerminal(w), counts: map[string]int{}}
}

// add is schedules.Runner.Progress.
func (p *progress) add(job, side, op string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if job != p.job {
		p.job = job
		p.counts = map[string]int{}
		p.bar = nil
	}
	p.counts[side+" "+op] += n
	if !p.tty {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("records"),
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

// clear removes the live line, before other output is printed.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
		_ = p.bar.Exit()
		p.bar = nil
	}
}

// done ends a job's progress display and prints its plain line.
func (p *progress) done(job string) {
	p.clear()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.job != job {
		return
	}
	fmt.Fprintf(p.w, "  records %s\n", p.describe()[len(job)+2:])
	p.job = ""
}
