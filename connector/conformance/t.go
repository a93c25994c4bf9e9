package conformance

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// T is the part of *testing.T the suite uses. Run drives the suite through
// an adapter for *testing.T; Check drives it through a recorder, so that
// the suite itself can be tested against deliberately broken connectors.
//
// Fatalf and Skipf end the calling clause (as testing.T's do, by
// runtime.Goexit), so they must be called from the goroutine running it.
type T interface {
	Helper()
	// Run runs f as a subtest named name and reports whether it passed.
	Run(name string, f func(T)) bool
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
	// Context is cancelled when the test (clause) ends.
	Context() context.Context
	// TB is what Opt.New receives.
	TB() testing.TB
}

// Testing adapts a *testing.T to T.
func Testing(t *testing.T) T { return testingT{t} }

type testingT struct{ *testing.T }

func (a testingT) Run(name string, f func(T)) bool {
	return a.T.Run(name, func(t *testing.T) { f(testingT{t}) })
}

func (a testingT) TB() testing.TB { return a.T }

// Status is the outcome of one clause under Check.
type Status int

// Clause outcomes.
const (
	Passed Status = iota
	Failed
	Skipped
)

func (s Status) String() string {
	switch s {
	case Failed:
		return "FAIL"
	case Skipped:
		return "SKIP"
	}
	return "PASS"
}

// Outcome is what happened in one clause under Check.
type Outcome struct {
	Clause string
	Status Status
	// Log holds the clause's messages in order: errors, skips and logs,
	// prefixed with the subtest path below the clause when there is one.
	Log []string
}

// Report is the result of Check: one Outcome per clause run, in order.
type Report struct {
	mu       sync.Mutex
	Outcomes []*Outcome
}

// Outcome returns the outcome of the named clause, or nil if it did not
// run.
func (r *Report) Outcome(clause string) *Outcome {
	for _, o := range r.Outcomes {
		if o.Clause == clause {
			return o
		}
	}
	return nil
}

// Failed returns the names of the clauses that failed, in order.
func (r *Report) Failed() []string {
	var out []string
	for _, o := range r.Outcomes {
		if o.Status == Failed {
			out = append(out, o.Clause)
		}
	}
	return out
}

// String lists every clause with its status and messages.
func (r *Report) String() string {
	var b strings.Builder
	for _, o := range r.Outcomes {
		fmt.Fprintf(&b, "--- %s: %s\n", o.Status, o.Clause)
		for _, l := range o.Log {
			fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(l, "\n", "\n    "))
		}
	}
	return b.String()
}

// Check runs the suite against opt.New's connector with a recording T
// instead of failing tb, and returns what each clause did. It is how the
// suite's own tests check that a broken connector fails the clause it
// breaks. tb is handed to Opt.New (through a shim that records its
// failures in the clause that called New).
func Check(tb testing.TB, opt Opt) *Report {
	rep := &Report{}
	root := &recorder{tb: tb, rep: rep, ctx: context.Background(), out: &Outcome{Clause: "(root)"}}
	RunT(root, opt)
	if root.out.Status == Failed || len(root.out.Log) > 0 {
		rep.Outcomes = append([]*Outcome{root.out}, rep.Outcomes...)
	}
	return rep
}

// recorder is a T that records instead of failing. Each subtest runs in a
// goroutine of its own so that Fatalf and Skipf can end it with
// runtime.Goexit, as testing does.
type recorder struct {
	tb     testing.TB
	rep    *Report
	parent *recorder
	path   string // subtest path below the clause
	ctx    context.Context
	out    *Outcome // the clause this recorder belongs to

	mu      sync.Mutex
	failed  bool
	skipped bool
}

func (r *recorder) Helper() {}

func (r *recorder) Run(name string, f func(T)) bool {
	child := &recorder{tb: r.tb, rep: r.rep, parent: r}
	if r.parent == nil {
		child.out = &Outcome{Clause: name}
		r.rep.mu.Lock()
		r.rep.Outcomes = append(r.rep.Outcomes, child.out)
		r.rep.mu.Unlock()
	} else {
		child.out = r.out
		child.path = strings.TrimPrefix(r.path+"/"+name, "/")
	}
	ctx, cancel := context.WithCancel(r.ctx)
	child.ctx = ctx
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				child.fail(fmt.Sprintf("panic: %v\n%s", p, debug.Stack()))
			}
		}()
		f(child)
	}()
	<-done
	child.mu.Lock()
	failed, skipped := child.failed, child.skipped
	child.mu.Unlock()
	if failed {
		for p := r; p != nil; p = p.parent {
			p.mu.Lock()
			p.failed = true
			p.mu.Unlock()
		}
	}
	if r.parent == nil && skipped && !failed {
		child.out.Status = Skipped
	}
	return !failed
}

func (r *recorder) log(msg string) {
	if r.path != "" {
		msg = r.path + ": " + msg
	}
	r.rep.mu.Lock()
	r.out.Log = append(r.out.Log, msg)
	r.rep.mu.Unlock()
}

func (r *recorder) fail(msg string) {
	r.log(msg)
	for p := r; p != nil; p = p.parent {
		p.mu.Lock()
		p.failed = true
		p.mu.Unlock()
	}
	r.rep.mu.Lock()
	r.out.Status = Failed
	r.rep.mu.Unlock()
}

func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.log("skip: " + fmt.Sprintf(format, args...))
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Logf(format string, args ...any) { r.log(fmt.Sprintf(format, args...)) }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Context() context.Context { return r.ctx }

func (r *recorder) TB() testing.TB { return recordingTB{TB: r.tb, r: r} }

// recordingTB is the testing.TB that Opt.New receives under Check: failures
// and skips go to the recorder; everything else (TempDir, Setenv, Cleanup,
// ...) to the test that called Check.
type recordingTB struct {
	testing.TB
	r *recorder
}

func (s recordingTB) Helper()                           {}
func (s recordingTB) Error(args ...any)                 { s.r.fail(fmt.Sprint(args...)) }
func (s recordingTB) Errorf(format string, args ...any) { s.r.Errorf(format, args...) }
func (s recordingTB) Fail()                             { s.r.fail("Fail called") }
func (s recordingTB) FailNow()                          { s.r.Fatalf("FailNow called") }
func (s recordingTB) Failed() bool                      { return s.r.Failed() }
func (s recordingTB) Fatal(args ...any)                 { s.r.Fatalf("%s", fmt.Sprint(args...)) }
func (s recordingTB) Fatalf(format string, args ...any) { s.r.Fatalf(format, args...) }
func (s recordingTB) Log(args ...any)                   { s.r.log(fmt.Sprint(args...)) }
func (s recordingTB) Logf(format string, args ...any)   { s.r.Logf(format, args...) }
func (s recordingTB) Skip(args ...any)                  { s.r.Skipf("%s", fmt.Sprint(args...)) }
func (s recordingTB) Skipf(format string, args ...any)  { s.r.Skipf(format, args...) }
func (s recordingTB) SkipNow()                          { s.r.Skipf("SkipNow called") }
func (s recordingTB) Skipped() bool                     { s.r.mu.Lock(); defer s.r.mu.Unlock(); return s.r.skipped }
func (s recordingTB) Context() context.Context          { return s.r.ctx }
