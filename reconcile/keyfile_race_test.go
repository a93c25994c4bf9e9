package reconcile_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/reconcile"
)

// TestKeyFileConcurrentFirstUse: processes starting together on a fresh
// installation (the daemon and a cron run, say) all get the one key; none
// reads the file between its creation and its content.
func TestKeyFileConcurrentFirstUse(t *testing.T) {
	for round := range 100 {
		dir := t.TempDir()
		path := filepath.Join(dir, "fingerprint.key")
		const n = 8
		keys := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				k, err := reconcile.LoadOrCreateKeyFile(path)
				keys[i], errs[i] = string(k), err
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d: %v", round, errs[i])
			}
			if keys[i] != keys[0] {
				t.Fatalf("round %d: two different keys were handed out", round)
			}
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("round %d: the folder holds %d files, want only the key file", round, len(ents))
		}
	}
}
