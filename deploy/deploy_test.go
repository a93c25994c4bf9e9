// Tests of the deployment examples under deploy/: the systemd unit, the
// Dockerfile and the Kubernetes manifests are checked here so that they
// keep working as casebridge changes.
package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/schedules"
)

// unitFile parses a systemd unit into section -> key -> values (a key may
// repeat).
func unitFile(t *testing.T, data []byte) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("unit line %d: %q is not KEY=VALUE in a section", n, line)
			}
			out[section][k] = append(out[section][k], v)
		}
	}
	return out
}

// TestSystemdUnitHardened: the unit runs the daemon from the packaged path
// as an unprivileged user, with the hardening the README promises.
func TestSystemdUnitHardened(t *testing.T) {
	data, err := os.ReadFile("systemd/casebridge.service")
	if err != nil {
		t.Fatal(err)
	}
	svc := unitFile(t, data)["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	exec := strings.Fields(strings.Join(svc["ExecStart"], " "))
	if len(exec) < 3 || exec[0] != "/usr/bin/casebridge" || exec[1] != "daemon" {
		t.Errorf("ExecStart = %q, want /usr/bin/casebridge daemon CONFIG", svc["ExecStart"])
	}
	if u := strings.Join(svc["User"], ""); (u == "" || u == "root" || u == "0") && strings.Join(svc["DynamicUser"], "") != "yes" {
		t.Errorf("runs as root: User=%q", u)
	}
	for key, want := range map[string]string{
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"StateDirectory":          "casebridge",
		"CapabilityBoundingSet":   "",
		"RestrictSUIDSGID":        "yes",
		"SystemCallArchitectures": "native",
	} {
		if got, ok := svc[key]; !ok || got[len(got)-1] != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	if !slices.Contains(svc["SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter = %q, want @system-service", svc["SystemCallFilter"])
	}
}

// TestSystemdUnitConfiguration: the configuration lines the unit's comment
// tells an admin to write put the state where the service may write
// (its StateDirectory) and the fingerprint key elsewhere, so that casebridge
// draws no warning about the two sharing a folder.
func TestSystemdUnitConfiguration(t *testing.T) {
	data, err := os.ReadFile("systemd/casebridge.service")
	if err != nil {
		t.Fatal(err)
	}
	var snippet []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "#   ")
		if strings.HasPrefix(line, "state:") || strings.HasPrefix(line, "fingerprint_key_file:") {
			snippet = append(snippet, line)
		}
	}
	if len(snippet) != 2 {
		t.Fatalf("the unit's comment shows %d of the state: and fingerprint_key_file: lines, want both: %q", len(snippet), snippet)
	}
	text := "version: 1\n" +
		"salesforce: { auth: { flow: client_credentials, client_id: x, client_secret: x } }\n" +
		strings.Join(snippet, "\n") + "\n" +
		"sources: { s: { kind: sqlite, path: /srv/cases.db, table: cases } }\n" +
		"jobs:\n  j:\n    salesforce: { object: Case__c, key: Key__c }\n    local: { source: s, key: id }\n    fields: [ { sf: Name__c, local: name } ]\n"
	cfg, err := config.Parse("/etc/casebridge/casebridge.yaml", []byte(text), config.Options{BaseDir: "/etc/casebridge"})
	if err != nil {
		t.Fatalf("casebridge rejects the unit's configuration lines:\n%v", err)
	}
	stateDir := "/var/lib/" + strings.Join(unitFile(t, data)["Service"]["StateDirectory"], "")
	if filepath.Dir(cfg.State.DSN.Reveal()) != stateDir {
		t.Errorf("state.dsn %s is not in the service's StateDirectory %s, the one folder it may write", cfg.State.DSN.Reveal(), stateDir)
	}
	if ws := schedules.KeyWarnings(cfg); len(ws) > 0 {
		t.Errorf("the unit's configuration lines draw warnings:\n%s", strings.Join(ws, "\n"))
	}
}

// TestSystemdInstallSteps: the service reads the configuration's ${NAME}s
// from the environment file the README, the unit's comment and the
// packaged sample tell an admin to write; the README's install steps and
// the unit's are the same commands, in an order that works: the key and
// the environment file exist before validate runs as the service's user
// with that file, and validate runs before the service is enabled.
func TestSystemdInstallSteps(t *testing.T) {
	const envFile = "/etc/casebridge/casebridge.env"
	unit, err := os.ReadFile("systemd/casebridge.service")
	if err != nil {
		t.Fatal(err)
	}
	if got := unitFile(t, unit)["Service"]["EnvironmentFile"]; !slices.Equal(got, []string{"-" + envFile}) {
		t.Errorf("EnvironmentFile=%q, want -%s", got, envFile)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("../fixtures/configs/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}

	// The README's commands: the sh block after the packages' paragraph.
	_, install, ok := strings.Cut(string(readme), "**Debian, Ubuntu (.deb)")
	if !ok {
		t.Fatal("README has no package install paragraph")
	}
	_, install, _ = strings.Cut(install, "```sh\n")
	install, _, _ = strings.Cut(install, "```")
	var steps []string
	for _, line := range strings.Split(strings.TrimSpace(install), "\n") {
		cmd, _, _ := strings.Cut(line, "  #") // the comment after a command
		steps = append(steps, strings.TrimSpace(cmd))
	}
	at := func(prefix string) int {
		for i, s := range steps {
			if strings.HasPrefix(s, prefix) {
				return i
			}
		}
		t.Errorf("README's install steps have no %q:\n%s", prefix, strings.Join(steps, "\n"))
		return -1
	}
	validate := "sudo -u casebridge sh -c 'set -a; . " + envFile + "; exec casebridge validate"
	order := []int{
		at("sudo apt install"),
		at("sudo cp /usr/share/doc/casebridge/examples/sample.yaml"),
		at("casebridge key generate"),
		at("sudo install -m 0640 -o root -g casebridge /dev/null " + envFile),
		at("sudoedit " + envFile),
		at(validate),
		at("sudo systemctl enable --now casebridge"),
	}
	if !slices.IsSorted(order) {
		t.Errorf("README's install steps are out of order (positions %v):\n%s", order, strings.Join(steps, "\n"))
	}
	// The unit's comment shows the same commands after the package's.
	for _, s := range steps[1:] {
		if strings.HasPrefix(s, "journalctl") {
			continue
		}
		if !bytes.Contains(unit, []byte("#   "+s+"\n")) {
			t.Errorf("the unit's comment lacks the README's step %q", s)
		}
	}
	if !bytes.Contains(sample, []byte(validate)) {
		t.Errorf("the packaged sample does not say how the service gets its environment (%s)", envFile)
	}
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on the unit where
// the tool exists: a misspelt key or a bad value is a failure, not the
// warning systemd would log and ignore. The binary path is pointed at a
// stand-in executable, since verify checks that it exists.
func TestSystemdAnalyzeVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	data, err := os.ReadFile("systemd/casebridge.service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stand := filepath.Join(dir, "casebridge-bin")
	if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "casebridge.service")
	if err := os.WriteFile(unit, bytes.ReplaceAll(data, []byte("/usr/bin/casebridge "), []byte(stand+" ")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDockerfile: a static build, a minimal non-root final image, the
// release stamps, and no downloads other than Go modules.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms, users, runs []string
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
		case "USER":
			users = append(users, f[1])
		case "RUN":
			runs = append(runs, line)
		case "ADD":
			t.Errorf("ADD fetches or unpacks implicitly; use COPY: %q", line)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a build stage and a final stage, FROM lines %q", froms)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final image %s is not distroless static or scratch", final)
	}
	if len(users) == 0 {
		t.Fatal("no USER: the image would run as root")
	}
	if u, _, _ := strings.Cut(users[len(users)-1], ":"); u == "root" || u == "0" {
		t.Errorf("USER %s", users[len(users)-1])
	}
	if !strings.Contains(text, "CGO_ENABLED=0") {
		t.Error("the build is not static (CGO_ENABLED=0)")
	}
	for _, v := range []string{"main.version=", "main.commit=", "main.date="} {
		if !strings.Contains(text, "-X "+v) {
			t.Errorf("ldflags do not stamp %s", v)
		}
	}
	fetch := regexp.MustCompile(`\b(curl|wget|apt-get|apk|yum|dnf|git clone)\b|https?://`)
	for _, r := range runs {
		if fetch.MatchString(r) {
			t.Errorf("RUN fetches from the network beyond the Go module proxy: %q", r)
		}
	}
}

// manifest is a Kubernetes object, loosely.
type manifest map[string]any

func (m manifest) get(path ...string) any {
	var cur any = map[string]any(m)
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func readManifests(t *testing.T) map[string][]manifest {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	byKind := map[string][]manifest{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var m manifest
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if m == nil {
				continue
			}
			kind, _ := m["kind"].(string)
			if kind == "" || m.get("metadata", "name") == nil || m["apiVersion"] == nil {
				t.Errorf("%s: an object without kind, apiVersion or metadata.name", f)
			}
			byKind[kind] = append(byKind[kind], m)
		}
	}
	return byKind
}

// podSpec is the pod template of a Deployment or CronJob.
func podSpec(m manifest) map[string]any {
	var spec any
	switch m["kind"] {
	case "Deployment":
		spec = m.get("spec", "template", "spec")
	case "CronJob":
		spec = m.get("spec", "jobTemplate", "spec", "template", "spec")
	}
	s, _ := spec.(map[string]any)
	return s
}

// TestKubernetesManifests: a CronJob running sync and a Deployment running
// the daemon, both as non-root with a read-only root file system, reading
// every secret from Secrets that hold no values in the repository, and a
// ConfigMap whose configuration casebridge accepts with PostgreSQL state.
func TestKubernetesManifests(t *testing.T) {
	byKind := readManifests(t)
	for _, kind := range []string{"ConfigMap", "Secret", "Deployment", "CronJob"} {
		if len(byKind[kind]) == 0 {
			t.Errorf("no %s", kind)
		}
	}

	// Secrets: keys, never values.
	secretKeys := map[string][]string{}
	for _, s := range byKind["Secret"] {
		name := s.get("metadata", "name").(string)
		for _, field := range []string{"data", "stringData"} {
			vals, _ := s[field].(map[string]any)
			for k, v := range vals {
				secretKeys[name] = append(secretKeys[name], k)
				if v != nil && v != "" {
					t.Errorf("Secret %s: %s.%s holds a value; secrets are created with kubectl, never kept in the repository", name, field, k)
				}
			}
		}
	}
	if len(secretKeys) == 0 {
		t.Error("the Secrets list no keys")
	}

	envProvided := map[string]bool{}
	commands := map[string]string{}
	for _, kind := range []string{"Deployment", "CronJob"} {
		for _, m := range byKind[kind] {
			spec := podSpec(m)
			if spec == nil {
				t.Fatalf("%s has no pod template", kind)
			}
			if sc, _ := spec["securityContext"].(map[string]any); sc["runAsNonRoot"] != true {
				t.Errorf("%s: pod securityContext.runAsNonRoot is not true", kind)
			}
			containers, _ := spec["containers"].([]any)
			if len(containers) == 0 {
				t.Fatalf("%s: no containers", kind)
			}
			for _, c := range containers {
				c := manifest(c.(map[string]any))
				args, _ := c["args"].([]any)
				if len(args) > 0 {
					commands[kind], _ = args[0].(string)
				}
				if c.get("securityContext", "readOnlyRootFilesystem") != true || c.get("securityContext", "allowPrivilegeEscalation") != false {
					t.Errorf("%s: container without readOnlyRootFilesystem and allowPrivilegeEscalation false", kind)
				}
				env, _ := c["env"].([]any)
				for _, e := range env {
					e := manifest(e.(map[string]any))
					name, _ := e["name"].(string)
					envProvided[name] = true
					if _, literal := e["value"]; literal {
						t.Errorf("%s: env %s is a literal value; every variable here is a secret and comes from a Secret", kind, name)
						continue
					}
					ref, _ := e.get("valueFrom", "secretKeyRef").(map[string]any)
					sname, _ := ref["name"].(string)
					skey, _ := ref["key"].(string)
					if !slices.Contains(secretKeys[sname], skey) {
						t.Errorf("%s: env %s reads Secret %q key %q, which the Secrets do not declare", kind, name, sname, skey)
					}
				}
			}
		}
	}
	if commands["Deployment"] != "daemon" || commands["CronJob"] != "sync" {
		t.Errorf("commands %v: want the Deployment to run daemon and the CronJob sync", commands)
	}

	// The configuration: accepted by casebridge with exactly the
	// variables the pods set, secrets only through them, PostgreSQL state.
	if len(byKind["ConfigMap"]) != 1 {
		t.Fatalf("%d ConfigMaps, want 1", len(byKind["ConfigMap"]))
	}
	text, _ := byKind["ConfigMap"][0].get("data", "casebridge.yaml").(string)
	if text == "" {
		t.Fatal("the ConfigMap has no casebridge.yaml")
	}
	secretValue := regexp.MustCompile(`\b(client_secret|password|security_token|refresh_token|dsn|fingerprint_key)\s*:\s*([^\s,}]+)`)
	for _, m := range secretValue.FindAllStringSubmatch(text, -1) {
		if !strings.HasPrefix(m[2], "${") {
			t.Errorf("configuration: %s is written in, not taken from the environment", m[1])
		}
	}
	fake := map[string]string{
		"CASEBRIDGE_FINGERPRINT_KEY": strings.Repeat("ab", 32),
		"SF_CLIENT_ID":               "client-id",
		"SF_CLIENT_SECRET":           "client-secret",
		"STATE_DSN":                  "postgres://casebridge@127.0.0.1:5432/casebridge",
		"CASES_DSN":                  "postgres://casebridge@127.0.0.1:5432/cases",
	}
	cfg, err := config.Parse("casebridge.yaml", []byte(text), config.Options{
		BaseDir: t.TempDir(),
		Getenv: func(name string) (string, bool) {
			if !envProvided[name] {
				return "", false
			}
			v, ok := fake[name]
			if !ok {
				v = "x"
			}
			return v, true
		},
	})
	if err != nil {
		t.Fatalf("casebridge rejects the ConfigMap's configuration with the pods' environment:\n%v", err)
	}
	if cfg.State.Driver != "postgres" {
		t.Errorf("state driver %q, want postgres (pods keep no disk)", cfg.State.Driver)
	}

	// The jobs fit the org they are written for, as validate --online
	// checks them: the fake org's vcms__ schema (a constant its restricted
	// Source_System picklist lacks would fail every record).
	_, srv := sftest.NewServer(t, sftest.Options{})
	sf, err := salesforce.New(t.Context(), salesforce.Options{LoginURL: srv.URL,
		Auth: salesforce.Auth{Flow: salesforce.FlowClientCredentials, ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	if errs := mapping.CheckOnline(t.Context(), cfg, sf.Describe); len(errs) > 0 {
		t.Errorf("the ConfigMap's jobs do not fit the fake org's schema:\n%v", errs)
	}
}
