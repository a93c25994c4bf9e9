package proc

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

func TestGone(t *testing.T) {
	if Gone(os.Getpid()) {
		t.Error("Gone says this process is gone")
	}
	for _, pid := range []int{0, -1} {
		if Gone(pid) {
			t.Errorf("Gone(%d) = true: not a process ID", pid)
		}
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		t.Skip("no check on this platform")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if !Gone(cmd.Process.Pid) {
		t.Errorf("a process that exited (and was waited for) is not gone")
	}
}
