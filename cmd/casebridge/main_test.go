package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(configHome{m}, map[string]func(){
		"casebridge": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// configHome runs the tests with the user's configuration folder, where a
// run makes its fingerprint key file by default, in a temporary folder:
// tests never leave key files in the home of whoever runs them. (The
// processes the tests start inherit it.)
type configHome struct{ m *testing.M }

func (c configHome) Run() int {
	dir, err := os.MkdirTemp("", "casebridge-test-config-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Unsetenv("CASEBRIDGE_FINGERPRINT_KEY")
	return c.m.Run()
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: each
// runs the real binary entry point against real files.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("REPO", wd+"/../..")
			// Default key files in the script's folder, not in $HOME.
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/.config")
			return nil
		},
	})
}

func TestExitCodes(t *testing.T) {
	bad := t.TempDir() + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("version: 1\nsalesforce: {}\nsources: {}\njobs: {}\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"version"}, exitOK},
		{[]string{"no-such-command"}, exitUsage},
		{[]string{"version", "--no-such-flag"}, exitUsage},
		{[]string{"version", "extra"}, exitUsage},
		{[]string{"validate"}, exitUsage},
		{[]string{"validate", "../../fixtures/configs/minimal.yaml"}, exitOK},
		{[]string{"validate", bad}, exitFindings},
		{[]string{"validate", "no-such-file.yaml"}, exitFindings},
		{[]string{"--log-level", "loud", "version"}, exitUsage},
		{[]string{"--log-format", "xml", "version"}, exitUsage},
	} {
		var out, errb bytes.Buffer
		if got := run(tc.args, strings.NewReader(""), &out, &errb); got != tc.want {
			t.Errorf("casebridge %s: exit %d, want %d (stderr %q)", strings.Join(tc.args, " "), got, tc.want, errb.String())
		}
	}
}
