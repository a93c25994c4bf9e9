package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"

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
	f.StringVar(&p.mem, "memprofile", "", "write a heap profile taken near the run's peak heap to this file (go tool pprof reads it)")
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
	var peak *peakProfile
	if p.mem != "" {
		peak = startPeakProfile()
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if peak != nil {
			snap := peak.stop()
			f, err := os.Create(p.mem)
			if err != nil {
				return errors.Join(append(errs, fmt.Errorf("--memprofile: %w", err))...)
			}
			if snap == nil {
				runtime.GC() // the heap as it is, not as it was at the last GC
				errs = append(errs, pprof.WriteHeapProfile(f))
			} else {
				_, err = f.Write(snap)
				errs = append(errs, err)
			}
			errs = append(errs, f.Close())
		}
		return errors.Join(errs...)
	}, nil
}

// peakProfile keeps a heap profile of the run taken when its heap was
// largest: the heap is sampled every 20 ms, and a profile is taken each
// time it has grown by a tenth since the last one. A profile at the end of
// a run shows what it still holds, not what made its peak.
type peakProfile struct {
	done chan struct{}
	quit chan struct{}
	snap []byte
}

func startPeakProfile() *peakProfile {
	p := &peakProfile{done: make(chan struct{}), quit: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(p.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var last uint64
		var buf bytes.Buffer
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			v := sample[0].Value.Uint64()
			if v < 32<<20 || v < last+last/10 {
				continue // small, or not much above the last profile
			}
			buf.Reset()
			if pprof.Lookup("heap").WriteTo(&buf, 0) == nil {
				p.snap, last = bytes.Clone(buf.Bytes()), v
			}
		}
	}()
	return p
}

// stop ends the sampling and returns the profile taken at the largest
// heap, or nil if the heap never grew past 32 MiB.
func (p *peakProfile) stop() []byte {
	close(p.quit)
	<-p.done
	return p.snap
}
