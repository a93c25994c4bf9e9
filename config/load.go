package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Options are what Parse needs from its surroundings. The zero value uses
// the process environment, the real file system, and the directory of the
// file name given to Parse.
type Options struct {
	// Getenv looks up ${NAME} references. Default os.LookupEnv.
	Getenv func(name string) (string, bool)
	// ReadFile reads *_file secrets. Default os.ReadFile.
	ReadFile func(name string) ([]byte, error)
	// BaseDir is the directory relative paths are resolved against.
	// Default the directory of the configuration file.
	BaseDir string
	// Perm is the configuration file's permission bits, when known (Load
	// fills it in on Unix). A file that holds secrets literally and is
	// readable by group or others draws a warning. Zero skips the check.
	Perm fs.FileMode
}

// Load reads, decodes and validates the configuration file at path. On
// any finding it returns a nil Config and an Errors holding every
// finding; warnings are in Config.Warnings.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, Errors{{File: path, Msg: "cannot read configuration: " + errorText(err)}}
	}
	opt := Options{}
	if abs, err := filepath.Abs(path); err == nil {
		opt.BaseDir = filepath.Dir(abs)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err == nil {
			opt.Perm = fi.Mode().Perm()
		}
	}
	return Parse(path, data, opt)
}

// Parse decodes and validates a configuration held in data; filename is
// used in positions and, unless opt.BaseDir is set, to resolve relative
// paths. Like Load, it returns every finding in an Errors.
func Parse(filename string, data []byte, opt Options) (*Config, error) {
	if opt.Getenv == nil {
		opt.Getenv = os.LookupEnv
	}
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	if opt.BaseDir == "" {
		opt.BaseDir = filepath.Dir(filename)
	}
	d := &decoder{
		file: filename, opt: opt,
		anchors:     make(map[string]ast.Node),
		substituted: make(map[string]bool),
		failed:      make(map[string]bool),
		positions:   make(map[string]Pos),
	}
	cfg := d.parse(data)
	sortFindings(d.errs)
	sortFindings(d.warns)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	cfg.Warnings = d.warns
	return cfg, nil
}

func (d *decoder) parse(data []byte) *Config {
	top := Pos{File: d.file, Line: 1, Col: 1}
	f, err := parseYAML(data)
	if err != nil {
		var ye interface {
			GetToken() *token.Token
			GetMessage() string
		}
		at := top
		msg := "not valid YAML"
		if errors.As(err, &ye) {
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				at = d.tokPos(tk)
			}
			msg = "not valid YAML: " + ye.GetMessage()
		}
		d.errorf(at, "", "%s", msg)
		return nil
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		d.errorf(top, "", "the configuration is empty; it needs at least version, salesforce, sources and jobs")
		return nil
	}
	if len(docs) > 1 {
		d.errorf(d.nodePos(docs[1].Body, top), "", "a configuration is one YAML document; found %d", len(docs))
	}
	body := docs[0].Body
	d.collectAnchors(body)
	cfg := &Config{File: d.file, Dir: d.opt.BaseDir}
	d.decodeStruct(body, reflectValue(cfg), "", d.nodePos(body, top))
	d.validate(cfg)
	cfg.sourceOrder = namesInOrder(cfg.Sources, func(s *Source) Pos { return s.Pos })
	cfg.jobOrder = namesInOrder(cfg.Jobs, func(j *Job) Pos { return j.Pos })
	d.checkPermissions(cfg)
	return cfg
}

// parseYAML parses data, turning a panic in the parser into an error.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("parser failure")
		}
	}()
	return parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
}

func namesInOrder[T any](m map[string]*T, pos func(*T) Pos) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		pa, pb := pos(m[a]), pos(m[b])
		if pa.Line != pb.Line {
			return pa.Line - pb.Line
		}
		if pa.Col != pb.Col {
			return pa.Col - pb.Col
		}
		return strings.Compare(a, b)
	})
	return names
}

// checkPermissions warns when the file holds secrets literally and others
// can read it.
func (d *decoder) checkPermissions(cfg *Config) {
	if d.opt.Perm&0o077 == 0 {
		return
	}
	// A SQLite "dsn" is a file path, not a secret.
	paths := map[Pos]bool{}
	if cfg.State.Driver == "" || cfg.State.Driver == StateSQLite {
		paths[cfg.State.At("dsn")] = true
	}
	for _, src := range cfg.Sources {
		if src.Kind == KindSQLite {
			paths[src.At("dsn")] = true
		}
	}
	var secrets []Pos
	for _, p := range d.literalSecrets {
		if !paths[p] {
			secrets = append(secrets, p)
		}
	}
	if len(secrets) == 0 {
		return
	}
	d.warnf(secrets[0], "", "this file holds %d secret(s) literally and is readable by group or others (mode %04o); use ${ENV} or *_file, or chmod 600 %s",
		len(secrets), uint32(d.opt.Perm), d.file)
}
