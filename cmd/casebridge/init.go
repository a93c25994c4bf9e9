package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/internal/scaffold"
)

// initFlags are casebridge init's options.
type initFlags struct {
	sheet, tab, key, object, output string
	headerRow, sample               int
	job, keyPrefix                  string
	force                           bool

	schema  string
	fakeOrg bool
	// Online: the org to log in to. Secrets come from the environment
	// (initSecretEnv), never from the command line, which other users of
	// the machine can read.
	loginURL, flow, clientID, username, privateKeyFile string
}

// initSecretEnv names the environment variables init reads secrets from;
// the configuration it writes refers to them as ${NAME}.
var initSecretEnv = struct{ clientSecret, password, securityToken, refreshToken string }{
	"CASEBRIDGE_CLIENT_SECRET", "CASEBRIDGE_PASSWORD", "CASEBRIDGE_SECURITY_TOKEN", "CASEBRIDGE_REFRESH_TOKEN",
}

// initMaxObjects bounds the objects init describes to choose one itself
// (one describe call each); with more, --object names it.
const initMaxObjects = 50

func (a *app) initCommand() *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init --sheet FILE (--schema FILE | --fake-org | --login-url URL)",
		Short: "Write a first configuration from a sheet and the org's fields",
		Long: `Write a starter configuration for one sheet (CSV or Excel) and one object of
the org, to finish by hand and check with validate.

init reads the sheet's header and a sample of its rows (--sample, 500) and
the org's description, then writes:
  - the source: kind, path, the header row it found (a title row above the
    header is fine), a CSV's encoding and delimiter, a workbook's sheet;
  - the job: the key column (unique, never empty, an id-like header such as
    "Case ID", "Case No" or "รหัสเคส"; --key names it), the object's
    external id field as salesforce.key, and key_pattern when every key has
    one shape, so that a name typed into a key cell never leaves the sheet;
  - a rule for each column whose header names a field: by the field's API
    name or label (case, spaces, underscores, vcms__ and __c aside), or by
    a table of headers field offices use (เพศ, ភេទ, Sexo: gender), marked
    "check";
  - for a picklist field, a value map from the sample's words to the
    picklist's values, by name or known translation; a word that matches
    none is written as a comment marked "TODO: map this word";
  - for a date field, the layouts the cells use as Go layouts (02/01/2006
    is day/month/year), day or month first as the cells show (a number
    above 12), a Buddhist Era (years from 2400, era: buddhist), Excel
    serial numbers; for a checkbox, the yes_no preset of the sheet's
    language; numbers, ages, phone numbers with a country code;
  - pii classes suggested from the field names: direct (name, birth date,
    phone, address, passport), quasi (gender, age, nationality), sensitive
    (health, trafficking, notes);
  - the columns no field matched, as comments.
The object is --object, or the described object most headers match.

Cells are read, never printed: the summary on stderr names columns, fields
and counts. Only the words of picklist columns are written, into the file
(a column with many different words is free text and gets no value map).
The file is written with mode 0600 and is never overwritten without
--force.

Where the fields come from (one of):
  --schema FILE   a file saved by 'casebridge describe --json CONFIG OBJECT...'
  --fake-org      the built-in fake org's schema (try it with the fixtures)
  --login-url URL log in to the org: --auth-flow (jwt, client_credentials,
                  refresh_token, password, soap), --client-id, --username,
                  --private-key-file; secrets from the environment variables
                  ` + initSecretEnv.clientSecret + `, ` + initSecretEnv.password + `,
                  ` + initSecretEnv.securityToken + ` and ` + initSecretEnv.refreshToken + `, which the
                  file refers to as ${NAME}, never holding a secret.
Only describe calls are made; no record is read.`,
		Example: `  casebridge init --sheet fixtures/sheets/th_tracker.csv --fake-org -o th.yaml
  casebridge validate th.yaml
  casebridge describe --json casebridge.yaml vcms__Survivor_Case__c > org.json
  casebridge init --sheet register.xlsx --tab Register --schema org.json
  CASEBRIDGE_CLIENT_SECRET=... casebridge init --sheet cases.csv \
      --login-url https://ngo.my.salesforce.com --auth-flow client_credentials \
      --client-id 3MVG9... --object vcms__Survivor_Case__c`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runInit(cmd.Context(), &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.sheet, "sheet", "", "the CSV or XLSX file to read (required)")
	fl.StringVar(&f.tab, "tab", "", "the workbook's sheet (default the first)")
	fl.IntVar(&f.headerRow, "header-row", 0, "the header's row number (default: found)")
	fl.StringVar(&f.key, "key", "", "the key column's header (default: found)")
	fl.IntVar(&f.sample, "sample", scaffold.DefaultSampleRows, "rows read from the top of the sheet")
	fl.StringVarP(&f.output, "output", "o", "casebridge.yaml", "the configuration file to write")
	fl.BoolVar(&f.force, "force", false, "overwrite the output file if it exists")
	fl.StringVar(&f.object, "object", "", "the Salesforce object the rows are (default: the one most headers match)")
	fl.StringVar(&f.job, "job", "", "the job's and source's name (default from the file name)")
	fl.StringVar(&f.keyPrefix, "key-prefix", "", `key_prefix of the Salesforce keys (default the job's name and ":")`)
	fl.StringVar(&f.schema, "schema", "", "read the fields from a file saved by describe --json")
	fl.BoolVar(&f.fakeOrg, "fake-org", false, "read the fields of the built-in fake org (casebridge fakeorg)")
	fl.StringVar(&f.loginURL, "login-url", "", "log in to this org to read its fields (login.salesforce.com, test.salesforce.com or a My Domain)")
	fl.StringVar(&f.flow, "auth-flow", "jwt", "with --login-url: the login flow")
	fl.StringVar(&f.clientID, "client-id", "", "with --login-url: the connected app's consumer key")
	fl.StringVar(&f.username, "username", "", "with --login-url: the integration user")
	fl.StringVar(&f.privateKeyFile, "private-key-file", "", "with --login-url and jwt: the PEM private key")
	return cmd
}

func (a *app) runInit(ctx context.Context, f *initFlags) error {
	if f.sheet == "" {
		return usageErrorf("init: --sheet FILE is required")
	}
	n := 0
	for _, set := range []bool{f.schema != "", f.fakeOrg, f.loginURL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usageErrorf("init: give one of --schema FILE, --fake-org or --login-url URL: where the org's fields come from")
	}
	if !f.force {
		if _, err := os.Stat(f.output); err == nil {
			return usageErrorf("init: %s exists; choose another with -o, or overwrite it with --force", f.output)
		}
	}
	if _, err := os.Stat(f.sheet); err != nil {
		return usageErrorf("init: --sheet: %v", err)
	}

	opts := scaffold.Options{Sheet: f.sheet, Tab: f.tab, HeaderRow: f.headerRow, Key: f.key, SampleRows: f.sample,
		Object: f.object, Job: f.job, Source: f.job, KeyPrefix: f.keyPrefix, ThisYear: time.Now().Year()}
	var from string
	switch {
	case f.schema != "":
		objects, err := readSchemaFile(f.schema)
		if err != nil {
			return usageErrorf("init --schema: %v", err)
		}
		opts.Objects, from = objects, f.schema
		opts.Salesforce = f.salesforceSection(false)
	case f.fakeOrg:
		objects, err := fakeOrgObjects(ctx, f.object)
		if err != nil {
			return withCode(exitError, fmt.Errorf("init --fake-org: %w", err))
		}
		opts.Objects, from = objects, "the built-in fake org"
		// casebridge fakeorg listens on a free port unless given --port:
		// the URL written is the one `fakeorg --port 8443` serves, marked
		// for the person to replace with the one their fakeorg printed.
		opts.Salesforce = scaffold.Salesforce{
			LoginURL: "http://127.0.0.1:8443", Flow: "client_credentials",
			LoginURLTODO: "the URL `casebridge fakeorg` prints when it starts (it picks a free port; `casebridge fakeorg --port 8443` serves this one)",
			ClientID:     sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret,
			Comment: []string{
				"The fake org: start it with 'casebridge fakeorg' and put the URL it prints",
				"in login_url. Its client secret is a published test value; for a real org",
				"write client_secret: ${" + initSecretEnv.clientSecret + "} and set the variable instead.",
			},
		}
	default:
		objects, err := f.onlineObjects(ctx)
		if err != nil {
			return err
		}
		opts.Objects, from = objects, f.loginURL
		opts.Salesforce = f.salesforceSection(true)
	}

	out, err := filepath.Abs(f.output)
	if err != nil {
		return withCode(exitError, err)
	}
	sheetAbs, err := filepath.Abs(f.sheet)
	if err != nil {
		return withCode(exitError, err)
	}
	opts.SheetPath = sheetAbs
	if rel, err := filepath.Rel(filepath.Dir(out), sheetAbs); err == nil {
		opts.SheetPath = rel // the configuration resolves paths against its own folder
	}
	opts.Header = []string{
		fmt.Sprintf("Written by casebridge init from %s and the fields of %s.", filepath.Base(f.sheet), from),
	}
	data, sum, err := scaffold.Generate(ctx, opts)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return usageErrorf("init: %v", err)
		}
		return withCode(exitError, fmt.Errorf("init: %w", err))
	}
	if err := writeNew(f.output, data, f.force); err != nil {
		return err
	}
	printInitSummary(a.stderr, f.output, f.sheet, sum)
	return nil
}

// salesforceSection is the salesforce section for --schema (placeholders
// to fill in where no flag gave a value) and --login-url (what logged in).
// Secrets are always ${NAME} references.
func (f *initFlags) salesforceSection(online bool) scaffold.Salesforce {
	s := scaffold.Salesforce{LoginURL: f.loginURL, Flow: f.flow, ClientID: f.clientID, Username: f.username, PrivateKeyFile: f.privateKeyFile}
	if s.LoginURL == "" {
		// No org was named (--schema alone): a stand-in, marked as such.
		s.LoginURL = "https://login.salesforce.com"
		s.LoginURLTODO = "your org's login URL: login.salesforce.com, test.salesforce.com for a sandbox, or its My Domain; to rehearse offline, the URL `casebridge fakeorg --schema " + filepath.Base(f.schema) + "` prints"
	}
	ref := func(name string) string { return "${" + name + "}" }
	switch salesforce.Flow(f.flow) {
	case salesforce.FlowClientCredentials:
		s.ClientSecret = ref(initSecretEnv.clientSecret)
	case salesforce.FlowPassword:
		s.ClientSecret, s.Password = ref(initSecretEnv.clientSecret), ref(initSecretEnv.password)
	case salesforce.FlowSOAP:
		s.Password = ref(initSecretEnv.password)
	case salesforce.FlowRefreshToken:
		s.RefreshToken = ref(initSecretEnv.refreshToken)
	}
	if _, ok := os.LookupEnv(initSecretEnv.securityToken); ok && (s.Password != "") {
		s.SecurityToken = ref(initSecretEnv.securityToken)
	}
	if online {
		s.Comment = []string{"The org init read the fields of; secrets come from the environment."}
		return s
	}
	var todo []string
	if s.ClientID == "" && salesforce.Flow(f.flow) != salesforce.FlowSOAP {
		s.ClientID = "TODO-connected-app-consumer-key"
		todo = append(todo, "client_id")
	}
	if s.Username == "" && (s.Flow == "jwt" || s.Flow == "password" || s.Flow == "soap") {
		s.Username = "TODO-integration-user@example.org"
		todo = append(todo, "username")
	}
	if s.PrivateKeyFile == "" && s.Flow == "jwt" {
		s.PrivateKeyFile = "salesforce.key"
		todo = append(todo, "private_key_file")
	}
	if len(todo) > 0 {
		s.Comment = []string{"TODO: how casebridge logs in to your org: " + strings.Join(todo, ", ") + " (see casebridge reference)."}
	}
	return s
}

// onlineObjects logs in with the flags and the environment's secrets and
// describes the object named, or the org's custom objects.
func (f *initFlags) onlineObjects(ctx context.Context) ([]*connector.Object, error) {
	env := func(name string) string { return os.Getenv(name) }
	auth := salesforce.Auth{Flow: salesforce.Flow(f.flow), ClientID: f.clientID, ClientSecret: env(initSecretEnv.clientSecret),
		Username: f.username, Password: env(initSecretEnv.password) + env(initSecretEnv.securityToken),
		RefreshToken: env(initSecretEnv.refreshToken), PrivateKeyFile: f.privateKeyFile}
	sf, err := salesforce.New(ctx, salesforce.Options{Name: "salesforce", LoginURL: f.loginURL, Auth: auth})
	if err != nil {
		return nil, withCode(exitError, fmt.Errorf("init --login-url: %w", err))
	}
	objects, err := describeForInit(ctx, sf, f.object)
	var ce *codedError
	if errors.As(err, &ce) {
		return nil, withCode(ce.code, fmt.Errorf("init --login-url: %w", err)) // too many objects: --object is a usage matter
	}
	if err != nil {
		return nil, withCode(exitError, fmt.Errorf("init --login-url: %w", err))
	}
	return objects, nil
}

// describeForInit describes the object named, or every custom object of
// the org (at most initMaxObjects) for init to choose among.
func describeForInit(ctx context.Context, sf *salesforce.Connector, object string) ([]*connector.Object, error) {
	names := []string{object}
	if object == "" {
		list, err := sf.Objects(ctx)
		if err != nil {
			return nil, err
		}
		names = names[:0]
		for _, s := range list {
			if s.Custom {
				names = append(names, s.Name)
			}
		}
		if len(names) > initMaxObjects {
			return nil, usageErrorf("the org has %d custom objects: name the one the sheet's rows are with --object", len(names))
		}
		if len(names) == 0 {
			return nil, usageErrorf("the org has no custom object: name the one the sheet's rows are with --object")
		}
	}
	if err := sf.DescribeAll(ctx, names); err != nil {
		return nil, err
	}
	var out []*connector.Object
	for _, n := range names {
		o, err := sf.Describe(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// fakeOrgObjects serves the built-in fake org on a loopback port for the
// time of a describe, and describes it as it would an org.
func fakeOrgObjects(ctx context.Context, object string) ([]*connector.Object, error) {
	org, err := sftest.Build(sftest.Options{Empty: true})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: org.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	sf, err := salesforce.New(ctx, salesforce.Options{Name: "salesforce", LoginURL: "http://" + ln.Addr().String(),
		Auth: salesforce.Auth{Flow: salesforce.FlowClientCredentials, ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret}})
	if err != nil {
		return nil, err
	}
	return describeForInit(ctx, sf, object)
}

// writeNew writes the configuration, mode 0600 (value maps hold words of
// the sheet): a new file, or with force over an existing one, atomically.
func writeNew(path string, data []byte, force bool) error {
	if !force {
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return usageErrorf("init: %s exists; choose another with -o, or overwrite it with --force", path)
		}
		if err != nil {
			return withCode(exitError, fmt.Errorf("init: %w", err))
		}
		_, err = fh.Write(data)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return withCode(exitError, fmt.Errorf("init: %w", err))
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".casebridge-init-*")
	if err != nil {
		return withCode(exitError, fmt.Errorf("init: %w", err))
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return withCode(exitError, fmt.Errorf("init: %w", err))
	}
	return nil
}

// printInitSummary tells what init wrote in columns, fields and counts:
// never a cell's value.
func printInitSummary(w io.Writer, out, sheet string, s *scaffold.Summary) {
	fmt.Fprintf(w, "casebridge init: wrote %s\n", out)
	where := s.Format
	if s.Tab != "" {
		where += fmt.Sprintf(", sheet %q", s.Tab)
	}
	fmt.Fprintf(w, "  sheet:    %s (%s, header row %d, %d %s sampled, %d columns)\n", sheet, where, s.HeaderRow, s.Rows, plural(s.Rows, "row", "rows"), s.Columns)
	obj := s.Object
	if s.ObjectNote != "" {
		obj += " (" + s.ObjectNote + ")"
	}
	fmt.Fprintf(w, "  object:   %s\n", obj)
	pattern := ""
	if s.KeyPattern {
		pattern = ", key_pattern from the keys' shape"
	}
	fmt.Fprintf(w, "  key:      column %q -> %s%s\n", s.Key, s.KeyField, pattern)
	fmt.Fprintf(w, "  matched:  %d %s\n", len(s.Matched), plural(len(s.Matched), "rule", "rules"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, m := range s.Matched {
		notes := []string{}
		if m.PII != "" {
			notes = append(notes, "pii "+m.PII)
		}
		if m.Check {
			notes = append(notes, "known header: check")
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", m.Column, m.Field, m.How, strings.Join(notes, ", "))
	}
	tw.Flush()
	if len(s.Unmatched) > 0 {
		fmt.Fprintf(w, "  no field: %d %s: %s\n", len(s.Unmatched), plural(len(s.Unmatched), "column", "columns"), strings.Join(s.Unmatched, ", "))
	}
	fmt.Fprintf(w, "  found:    %d value %s (%d %s mapped, %d left for a person), %d date %s, %d yes/no %s\n",
		s.ValueMaps, plural(s.ValueMaps, "map", "maps"), s.Words, plural(s.Words, "word", "words"), s.ToMap,
		s.Dates, plural(s.Dates, "column", "columns"), s.YesNo, plural(s.YesNo, "column", "columns"))
	if s.TODOs > 0 {
		fmt.Fprintf(w, "  TODO:     %d %s for a person: grep -n TODO %s\n", s.TODOs, plural(s.TODOs, "item", "items"), out)
	}
	fmt.Fprintf(w, "Next: casebridge validate %s\n", out)
}
