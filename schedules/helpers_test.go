package schedules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
)

// openRunner writes configText (FAKE_ORG_URL replaced by orgURL) as
// casebridge.yaml in dir, loads it and opens a Runner on it, closed when
// the test ends.
func openRunner(t testing.TB, dir, configText, orgURL string) *Runner {
	t.Helper()
	path := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(configText, "FAKE_ORG_URL", orgURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
