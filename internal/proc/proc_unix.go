//go:build unix

package proc

import (
	"errors"
	"math"
	"syscall"
)

// Gone reports whether no process with this ID runs on this
// machine. Signal 0 checks without sending anything: ESRCH means there is
// none; success or EPERM (another user's) means there is one. A zombie
// counts as running, and so does an unrelated process that reuses the ID:
// what the process left waits as if it were alive.
func Gone(pid int) bool {
	if pid <= 0 || pid > math.MaxInt32 { // 0 and -1 would address groups
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
