//go:build !unix && !windows

package proc

// Gone cannot tell on this platform: it reports false (the process
// counts as running).
func Gone(pid int) bool { return false }
