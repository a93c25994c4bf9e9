//go:build windows

package proc

import (
	"errors"
	"math"
	"syscall"
)

// Gone reports whether no process with this ID runs on this
// machine: OpenProcess fails with ERROR_INVALID_PARAMETER for an ID no
// process has, and a process that exited but whose handle someone still
// holds has an exit code other than STILL_ACTIVE. Anything else (access
// denied) counts as running.
func Gone(pid int) bool {
	if pid <= 0 || pid > math.MaxUint32 {
		return false
	}
	const queryLimitedInformation = 0x1000 // PROCESS_QUERY_LIMITED_INFORMATION
	h, err := syscall.OpenProcess(queryLimitedInformation, false, uint32(pid))
	if err != nil {
		return errors.Is(err, syscall.Errno(87)) // ERROR_INVALID_PARAMETER
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	const stillActive = 259 // STILL_ACTIVE
	return code != stillActive
}
