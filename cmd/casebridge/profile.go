package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/pflag"
)

// profileFlags are --cpuprofile and --memprofile: Go profiles of one run,
// for `go tool pprof`. They hold function names and sizes, never values
// from the records.
type profileFlags struct {
	cpu, mem string
}

func (p *profileFlags) register(f *pflag.FlagSet) {
	f.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	f.StringVar(&p.mem, "memprofile", "", "write a heap profile at the end of the run to this file (go tool pprof reads it)")
}

// start begins the CPU profile, if asked; the returned function ends it
// and writes the heap profile, if asked.
func (p *profileFlags) start() (func() error, error) {
	var cpu *os.File
	if p.cpu != "" {
		f, err := os.Create(p.cpu)
		if err != nil {
			return nil, usageErrorf("--cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpu = f
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if p.mem != "" {
			f, err := os.Create(p.mem)
			if err != nil {
				return errors.Join(append(errs, fmt.Errorf("--memprofile: %w", err))...)
			}
			runtime.GC() // the heap as it is, not as it was at the last GC
			errs = append(errs, pprof.WriteHeapProfile(f), f.Close())
		}
		return errors.Join(errs...)
	}, nil
}
