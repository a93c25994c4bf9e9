package erase_test

import (
	"os"
	"testing"
)

// TestMain runs the tests with the user's configuration folder, where a
// run makes its fingerprint key file by default, in a temporary folder:
// tests never leave key files in the home of whoever runs them.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "casebridge-erase-config-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Unsetenv("CASEBRIDGE_FINGERPRINT_KEY")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
