package state_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// peerEnv names the state file a peer process (this test binary run again,
// TestSQLitePeer) opens.
const peerEnv = "CASEBRIDGE_TEST_SQLITE_PEER"

// TestSQLitePeer is the other process of TestSQLiteReopenKeepsLocks, as a
// casebridge sync or lease show beside the daemon: it opens the store,
// prints how many runs job j has, and closes it.
func TestSQLitePeer(t *testing.T) {
	path := os.Getenv(peerEnv)
	if path == "" {
		t.Skip("run by TestSQLiteReopenKeepsLocks as another process")
	}
	s := openSQLite(t, path)
	runs, err := s.Runs(context.Background(), "j", 100)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("runs=%d\n", len(runs))
	s.Close()
}

// peerRuns runs TestSQLitePeer on path in another process and returns the
// runs it saw.
func peerRuns(t *testing.T, path string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLitePeer$", "-test.v")
	cmd.Env = append(os.Environ(), peerEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("peer: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "runs=") {
			return l
		}
	}
	t.Fatalf("peer said nothing:\n%s", out)
	return ""
}

// TestSQLiteReopenKeepsLocks: the daemon's reload opens the state store
// again while the previous one is still open, then closes the previous
// one. Opening must not drop the locks SQLite holds in this process
// (POSIX locks are the process's: closing any descriptor of the file
// releases them all), or the next other process to close the database
// (a casebridge sync, lease show) takes itself for the last one and
// deletes the write-ahead log the daemon still writes to: from then on
// the daemon's writes (its runs, leases and baselines) are invisible to
// every other process and lost when it stops.
func TestSQLiteReopenKeepsLocks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	old := openSQLite(t, path)
	start := time.Unix(1_700_000_000, 0)
	if _, err := old.StartRun(ctx, "j", start); err != nil {
		t.Fatal(err)
	}
	reloaded := openSQLite(t, path) // SIGHUP: the new configuration's store
	defer reloaded.Close()
	old.Close() // the previous configuration's runs are done
	if got := peerRuns(t, path); got != "runs=1" {
		t.Fatalf("another process sees %s, want runs=1", got)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("the write-ahead log the store has open is gone: %v", err)
	}
	if _, err := reloaded.StartRun(ctx, "j", start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := peerRuns(t, path); got != "runs=2" {
		t.Errorf("another process sees %s after the reloaded store's write, want runs=2", got)
	}
}
