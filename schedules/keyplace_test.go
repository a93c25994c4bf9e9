package schedules

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// TestMain keeps this package's runs from making key files in the user's
// real configuration folder: every test gets XDG_CONFIG_HOME in a
// temporary folder (tests that look at it set their own).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "casebridge-schedules-config-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Unsetenv(KeyEnv)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// userConfig points os.UserConfigDir at a new temporary folder.
func userConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	return dir
}

func keyIDRecorded(t *testing.T, r *Runner) string {
	t.Helper()
	id, err := r.Store.(interface {
		KeyIDRecorded(ctx context.Context) (string, error)
	}).KeyIDRecorded(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestKeyDefaultKeptApartFromState(t *testing.T) {
	home := userConfig(t)
	r, _, dir := newTestRunner(t, thConfig)
	if _, err := r.Run(context.Background(), "th_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "fingerprint.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was made beside the configuration and the state (stat: %v)", err)
	}
	want, err := DefaultKeyFile(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(want, filepath.Join(home, "casebridge")+string(filepath.Separator)) || !strings.HasSuffix(want, ".key") {
		t.Fatalf("default key file %s, want one in %s", want, filepath.Join(home, "casebridge"))
	}
	st, err := os.Stat(want)
	if err != nil {
		t.Fatalf("no key file at the default place: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if ds, err := os.Stat(filepath.Dir(want)); err != nil || ds.Mode().Perm() != 0o700 {
		t.Errorf("key folder: %v %v, want mode 0700", ds.Mode().Perm(), err)
	}
	key, err := reconcile.LoadKeyFile(want)
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := reconcile.NewFingerprinter(key)
	if got := keyIDRecorded(t, r); got != fp.KeyID() {
		t.Errorf("state written with key %s, the default key file holds %s", got, fp.KeyID())
	}
	if ws := KeyWarnings(r.Config); len(ws) != 0 {
		t.Errorf("warnings for a key kept apart: %q", ws)
	}
}

func TestKeyOldPlaceStillUsedWithWarning(t *testing.T) {
	home := userConfig(t)
	r, _, dir := newTestRunner(t, thConfig)
	// An installation made by an older casebridge: the key beside the
	// configuration, where the default SQLite state is too.
	key := bytes.Repeat([]byte{0x5a}, reconcile.MinKeyLen)
	old := filepath.Join(dir, "fingerprint.key")
	if err := os.WriteFile(old, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	r.Log = zerolog.New(&log)
	for range 2 {
		if _, err := r.Run(context.Background(), "th_cases", RunOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	fp, _ := reconcile.NewFingerprinter(key)
	if got := keyIDRecorded(t, r); got != fp.KeyID() {
		t.Errorf("state written with key %s, want the old key file's %s", got, fp.KeyID())
	}
	if ents, _ := os.ReadDir(filepath.Join(home, "casebridge")); len(ents) != 0 {
		t.Errorf("a new key file was made while the old one exists: %v", ents)
	}
	ws := KeyWarnings(r.Config)
	if len(ws) != 1 || !strings.Contains(ws[0], "same folder as the state store") || !strings.Contains(ws[0], old) {
		t.Fatalf("warnings %q, want one naming %s in the state's folder", ws, old)
	}
	if n := strings.Count(log.String(), "same folder as the state store"); n != 1 {
		t.Errorf("the run log warns %d times in two runs, want once:\n%s", n, log.String())
	}
	if strings.Contains(log.String(), hex.EncodeToString(key)) {
		t.Error("the log shows the key")
	}
}

func TestKeyFromEnvironment(t *testing.T) {
	home := userConfig(t)
	key := bytes.Repeat([]byte{0x3c}, reconcile.MinKeyLen)
	t.Setenv(KeyEnv, hex.EncodeToString(key))
	r, _, dir := newTestRunner(t, thConfig)
	if _, err := r.Run(context.Background(), "th_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	fp, _ := reconcile.NewFingerprinter(key)
	if got := keyIDRecorded(t, r); got != fp.KeyID() {
		t.Errorf("state written with key %s, want %s's %s", got, KeyEnv, fp.KeyID())
	}
	for _, d := range []string{dir, filepath.Join(home, "casebridge")} {
		if m, _ := filepath.Glob(filepath.Join(d, "*.key")); len(m) != 0 {
			t.Errorf("key files made with the key in %s: %v", KeyEnv, m)
		}
	}
	t.Setenv(KeyEnv, "correct horse battery staple")
	if _, err := Fingerprinter(r.Config); err == nil || !strings.Contains(err.Error(), KeyEnv) {
		t.Errorf("a passphrase in %s: %v, want it refused", KeyEnv, err)
	}
}

func TestKeyWarningWhenBesideState(t *testing.T) {
	userConfig(t)
	elsewhere := t.TempDir()
	for _, tc := range []struct {
		keyFile string
		warn    bool
	}{
		{"fingerprint_key_file: state.key", true}, // beside casebridge.db
		{"fingerprint_key_file: " + filepath.Join(elsewhere, "k.key"), false},
		{"", false}, // the default place
	} {
		r, _, _ := newTestRunner(t, thConfig+tc.keyFile+"\n")
		ws := KeyWarnings(r.Config)
		if got := len(ws) == 1 && strings.Contains(ws[0], "same folder as the state store"); got != tc.warn || (!tc.warn && len(ws) > 0) {
			t.Errorf("%q: warnings %q, want a warning: %v", tc.keyFile, ws, tc.warn)
		}
	}
}

func TestKeyLostRefusedWithWayBack(t *testing.T) {
	userConfig(t)
	r, _, dir := newTestRunner(t, thConfig)
	ctx := context.Background()
	if _, err := r.Run(ctx, "th_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	path, _ := KeyFile(r.Config)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r2 := openRunner(t, dir, readFile(t, filepath.Join(dir, "casebridge.yaml")), "")
	for _, dry := range []bool{true, false} {
		_, err := r2.Run(ctx, "th_cases", RunOptions{DryRun: dry})
		if !errors.Is(err, state.ErrKeyMismatch) || !strings.Contains(err.Error(), "casebridge key reset") || !strings.Contains(err.Error(), path) {
			t.Errorf("dry run %v with the key lost: %v, want the loss explained with key reset", dry, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dry run %v made a new key file in place of the lost one", dry)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestKeyFollowsTheStateStore: the default key file is named after the
// state store, whose one key id it records, not after the configuration
// file: a configuration copied or renamed in its folder, or a second one
// beside it, uses the same store and finds the same key (each found the
// key lost, exit 7, while the key followed the configuration's path). A
// PostgreSQL store's key does not depend on the DSN's password.
func TestKeyFollowsTheStateStore(t *testing.T) {
	userConfig(t)
	r, _, dir := newTestRunner(t, thConfig)
	if _, err := r.Run(context.Background(), "th_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(r.Config.File)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "office-2.yaml")
	if err := os.WriteFile(copyPath, text, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := r2.Run(context.Background(), "th_cases", RunOptions{}); err != nil {
		t.Fatalf("a second configuration on the same state store: %v", err)
	}
	a, _ := KeyFile(r.Config)
	b, _ := KeyFile(cfg)
	if a != b {
		t.Errorf("two configurations on one state store have two key files: %s, %s", a, b)
	}

	pg := func(dsn string) string {
		t.Helper()
		c := &config.Config{File: filepath.Join(dir, "pg.yaml"), Dir: dir}
		c.State.Driver = config.StatePostgres
		c.State.DSN = config.NewSecret(dsn)
		p, err := DefaultKeyFile(c)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if pg("postgres://cb:one@db.example:5432/cases") != pg("postgres://cb:two@db.example:5432/cases") {
		t.Error("the key file of a PostgreSQL store changes with the DSN's password")
	}
	if pg("postgres://cb@db.example:5432/cases") == pg("postgres://cb@db.example:5432/other") {
		t.Error("two PostgreSQL databases share a key file")
	}
	if strings.Contains(pg("postgres://cb:s3cret@db.example:5432/cases"), "s3cret") {
		t.Error("the DSN's password is in the key file's name")
	}
}

// TestKeyNamedAfterTheConfigurationMoves: a key file made when the default
// was named after the configuration file takes the state store's name at
// the next run, so that a second configuration on the store finds it too.
func TestKeyNamedAfterTheConfigurationMoves(t *testing.T) {
	userConfig(t)
	r, _, _ := newTestRunner(t, thConfig)
	prev, err := configKeyFile(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{0x3c}, reconcile.MinKeyLen)
	if err := os.MkdirAll(filepath.Dir(prev), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prev, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background(), "th_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	now, _ := DefaultKeyFile(r.Config)
	if now == prev {
		t.Fatal("the test needs the two names to differ")
	}
	got, err := reconcile.LoadKeyFile(now)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("key at the store's name: %x, %v; want the older file's key", got, err)
	}
	if _, err := os.Stat(prev); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the older file is still there: %v", err)
	}
	fp, _ := reconcile.NewFingerprinter(key)
	if id := keyIDRecorded(t, r); id != fp.KeyID() {
		t.Errorf("state written under %s, want the older file's key %s", id, fp.KeyID())
	}
}
