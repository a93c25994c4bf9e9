//go:build !unix && !windows

package sheet

// processGone cannot tell on this platform: temporary files wait for
// maxTempAge.
func processGone(pid int) bool { return false }
