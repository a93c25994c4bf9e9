package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// The decoder walks goccy/go-yaml's AST into the configuration structs,
// driven by their tags:
//
//	yaml:"key"        the option's key (yaml:"-" skips the field)
//	required:"true"   the key must be present and non-empty
//	default:"..."     the value when the key is absent (written as in YAML)
//	path:"true"       a file path, resolved against Options.BaseDir
//	doc:"..."         one line for the reference (see Reference)
//
// A Secret field "x" may also be written "x_file": the secret is then read
// from that file. Types with their own shape implement nodeDecoder; types
// written as one scalar implement scalarDecoder; string types listing
// their values implement enum.
type decoder struct {
	file    string
	opt     Options
	errs    Errors
	warns   Warnings
	anchors map[string]ast.Node

	literalSecrets []Pos
	// substituted holds the paths of values that came from ${...}: their
	// text is never quoted in a message. failed holds the paths of values
	// that did not decode (already reported), so that later checks skip
	// them.
	substituted map[string]bool
	failed      map[string]bool
	// positions holds where each list item was written, by path
	// ("jobs.j.match_on[1]"), for checks on single items.
	positions map[string]Pos
}

// posOf returns where the value at path was written, or fallback.
func (d *decoder) posOf(path string, fallback Pos) Pos {
	if p, ok := d.positions[path]; ok {
		return p
	}
	return fallback
}

// word quotes the value at path for a message, unless it came from the
// environment.
func (d *decoder) word(path, s string) string {
	if d.substituted[path] {
		return "the value (from ${...})"
	}
	return quoteWord(s)
}

// nodeDecoder is implemented (on the pointer) by types with a shape of
// their own, such as ValueMap.
type nodeDecoder interface {
	decodeNode(d *decoder, n ast.Node, path string, at Pos)
}

// scalarDecoder is implemented (on the pointer) by types written as one
// scalar, such as Limit and Schedule. The error's text becomes the
// finding's message, so it must not quote the value.
type scalarDecoder interface {
	parseScalar(s string) error
}

var (
	secretType = reflect.TypeFor[Secret]()
	metaType   = reflect.TypeFor[Meta]()
	enumIface  = reflect.TypeFor[enum]()
)

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

func (d *decoder) errorf(at Pos, path, format string, args ...any) {
	if at.Line < 1 { // a check on an option that was never written
		at.Line, at.Col = 1, 1
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: at.Line, Col: at.Col, Path: path, Msg: sprintf(format, args...)})
}

func (d *decoder) warnf(at Pos, path, format string, args ...any) {
	d.warns = append(d.warns, &Error{File: d.file, Line: at.Line, Col: at.Col, Path: path, Msg: sprintf(format, args...)})
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// tokPos is the position of a token.
func (d *decoder) tokPos(tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: tk.Position.Line, Col: tk.Position.Column}
}

// nodePos is where a value starts: the first key of a block mapping, the
// token of anything else, or fallback (the key's position) for an implicit
// null.
func (d *decoder) nodePos(n ast.Node, fallback Pos) Pos {
	switch m := n.(type) {
	case nil:
		return fallback
	case *ast.NullNode:
		if tk := m.GetToken(); tk == nil || tk.Type == token.ImplicitNullType {
			return fallback
		}
	case *ast.MappingNode:
		if !m.IsFlowStyle && len(m.Values) > 0 {
			return d.tokPos(m.Values[0].Key.GetToken())
		}
	case *ast.MappingValueNode:
		return d.tokPos(m.Key.GetToken())
	}
	return d.tokPos(n.GetToken())
}

// resolve strips tags and anchors and follows aliases.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for range 64 {
		switch m := n.(type) {
		case *ast.TagNode:
			n = m.Value
		case *ast.AnchorNode:
			n = m.Value
		case *ast.AliasNode:
			if m.Value == nil {
				return nil
			}
			n = d.anchors[m.Value.GetToken().Value]
		default:
			return n
		}
	}
	return nil
}

// collectAnchors records every anchor in the document, for aliases.
func (d *decoder) collectAnchors(n ast.Node) {
	ast.Walk(visitFunc(func(n ast.Node) {
		if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
			d.anchors[a.Name.GetToken().Value] = a.Value
		}
	}), n)
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	f(n)
	return f
}

// kindOf names a node's kind for type errors.
func kindOf(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	default:
		return "a string"
	}
}

// rawScalar returns a scalar node's text. null is true for a YAML null;
// ok is false when n is not a scalar.
func rawScalar(n ast.Node) (s string, tk *token.Token, null, ok bool) {
	switch m := n.(type) {
	case nil:
		return "", nil, true, true
	case *ast.NullNode:
		return "", m.GetToken(), true, true
	case *ast.StringNode:
		return m.Value, m.GetToken(), false, true
	case *ast.LiteralNode:
		if m.Value == nil {
			return "", m.GetToken(), false, true
		}
		return m.Value.Value, m.GetToken(), false, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return m.GetToken().Value, m.GetToken(), false, true
	}
	return "", nil, false, false
}

// scalar returns n's text with ${ENV} references replaced. literal reports
// that the text came from the file as written (no reference in it); set is
// false for a null or a failed lookup.
func (d *decoder) scalar(n ast.Node, path string, at Pos, want string) (s string, literal, set bool) {
	r := d.resolve(n)
	raw, tk, null, ok := rawScalar(r)
	if !ok {
		d.errorf(at, path, "want %s, got %s", want, kindOf(r))
		return "", false, false
	}
	if null {
		return "", false, false
	}
	out, lit, err := interpolate(raw, d.getenv)
	if err != nil {
		d.errorf(offsetPos(at, tk, raw, err.offset), path, "%s", err.msg)
		return "", false, false
	}
	if !lit {
		d.substituted[path] = true
	}
	return out, lit, true
}

func (d *decoder) getenv(name string) (string, bool) { return d.opt.Getenv(name) }

// offsetPos moves at (the position of token tk, whose text is raw) to
// byte offset off of raw, so that an error about a ${VAR} points at the
// reference itself. It gives up (returns at) where escapes or line breaks
// make the column uncertain.
func offsetPos(at Pos, tk *token.Token, raw string, off int) Pos {
	if off < 0 || off > len(raw) || tk == nil || tk.Position == nil || tk.Value != raw ||
		at.Line != tk.Position.Line || at.Col != tk.Position.Column ||
		strings.ContainsAny(raw[:off], "\n\\'") {
		return at
	}
	switch tk.Type {
	case token.StringType:
	case token.DoubleQuoteType, token.SingleQuoteType:
		at.Col++ // the opening quote
	default:
		return at
	}
	at.Col += utf8.RuneCountInString(raw[:off])
	return at
}

// pair is one key of a mapping.
type pair struct {
	key    string
	keyPos Pos
	value  ast.Node
}

// pairs lists a mapping's keys in order, with merge keys (<<) expanded and
// duplicates reported. ok is false when n is not a mapping.
func (d *decoder) pairs(n ast.Node, path string, depth int) (out []pair, ok bool) {
	var vals []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		vals = m.Values
	case *ast.MappingValueNode:
		vals = []*ast.MappingValueNode{m}
	default:
		return nil, false
	}
	seen := make(map[string]Pos)
	var merged []pair
	for _, mv := range vals {
		if mv == nil || mv.Key == nil {
			continue
		}
		kp := d.tokPos(mv.Key.GetToken())
		if _, isMerge := mv.Key.(*ast.MergeKeyNode); isMerge {
			if depth >= 8 {
				d.errorf(kp, path, "merge keys (<<) nested too deeply")
				continue
			}
			src := d.resolve(mv.Value)
			srcs := []ast.Node{src}
			if seq, isSeq := src.(*ast.SequenceNode); isSeq {
				srcs = srcs[:0]
				for _, v := range seq.Values {
					srcs = append(srcs, d.resolve(v))
				}
			}
			for _, s := range srcs {
				ps, isMap := d.pairs(s, path, depth+1)
				if !isMap {
					d.errorf(kp, path, "<< must merge a mapping, got %s", kindOf(s))
					continue
				}
				merged = append(merged, ps...)
			}
			continue
		}
		var kn ast.Node = mv.Key
		if mk, isKey := kn.(*ast.MappingKeyNode); isKey {
			kn = mk.Value
		}
		key, _, null, isScalar := rawScalar(d.resolve(kn))
		if !isScalar || null {
			d.errorf(kp, path, "a key must be a string, got %s", kindOf(d.resolve(kn)))
			continue
		}
		if first, dup := seen[key]; dup {
			d.errorf(kp, joinPath(path, key), "duplicate key (first set at %d:%d)", first.Line, first.Col)
			continue
		}
		seen[key] = kp
		out = append(out, pair{key: key, keyPos: kp, value: mv.Value})
	}
	for _, p := range merged {
		if _, dup := seen[p.key]; !dup {
			seen[p.key] = p.keyPos
			out = append(out, p)
		}
	}
	return out, true
}

// fieldInfo is one option of a configuration struct.
type fieldInfo struct {
	key      string
	index    int
	def      string
	required bool
	path     bool
	doc      string
	secret   bool
}

type structInfo struct {
	fields []*fieldInfo
	byKey  map[string]*fieldInfo
	meta   int // index of the embedded Meta, or -1
}

var structInfos sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byKey: make(map[string]*fieldInfo), meta: -1}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Type == metaType && sf.Anonymous {
			si.meta = i
			continue
		}
		key := sf.Tag.Get("yaml")
		if key == "" || key == "-" || !sf.IsExported() {
			continue
		}
		f := &fieldInfo{
			key:      key,
			index:    i,
			def:      sf.Tag.Get("default"),
			required: sf.Tag.Get("required") == "true",
			path:     sf.Tag.Get("path") == "true",
			doc:      sf.Tag.Get("doc"),
			secret:   sf.Type == secretType,
		}
		si.fields = append(si.fields, f)
		si.byKey[key] = f
	}
	structInfos.Store(t, si)
	return si
}

// lookup finds the field for key; file is true for "x_file" naming the
// Secret field "x".
func (si *structInfo) lookup(key string) (f *fieldInfo, file bool) {
	if f := si.byKey[key]; f != nil {
		return f, false
	}
	if name, ok := strings.CutSuffix(key, "_file"); ok {
		if f := si.byKey[name]; f != nil && f.secret {
			return f, true
		}
	}
	return nil, false
}

// keys lists every key the struct accepts, for suggestions.
func (si *structInfo) keys() []string {
	var ks []string
	for _, f := range si.fields {
		ks = append(ks, f.key)
		if f.secret {
			if _, taken := si.byKey[f.key+"_file"]; !taken {
				ks = append(ks, f.key+"_file")
			}
		}
	}
	return ks
}

// decodeStruct decodes mapping n into the struct v.
func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string, at Pos) {
	si := infoOf(v.Type())
	meta := &Meta{}
	if si.meta >= 0 {
		meta = v.Field(si.meta).Addr().Interface().(*Meta)
	}
	meta.Pos, meta.KeyPath = at, path
	r := d.resolve(n)
	ps, ok := d.pairs(r, path, 0)
	if !ok {
		if !isNull(r) {
			d.errorf(at, path, "want a mapping, got %s", kindOf(r))
			return
		}
	}
	nulls := make(map[string]Pos)
	failed := make(map[string]bool)
	for _, p := range ps {
		f, file := si.lookup(p.key)
		if f == nil && path == "" && strings.HasPrefix(p.key, "x-") {
			continue // a top-level x- key holds anchors for the rest of the file
		}
		if f == nil {
			d.errorf(p.keyPos, joinPath(path, p.key), "unknown key%s", suggest(p.key, si.keys()))
			continue
		}
		if prev, dup := meta.keys[f.key]; dup {
			d.errorf(p.keyPos, joinPath(path, p.key), "%s is already set at line %d; set %s or %s_file, not both", f.key, prev.Line, f.key, f.key)
			continue
		}
		vp := d.nodePos(p.value, p.keyPos)
		fv := v.Field(f.index)
		fpath := joinPath(path, f.key)
		var set bool
		if file {
			set = d.decodeSecretFile(p.value, fv, joinPath(path, p.key), vp)
		} else {
			set = d.decodeValue(p.value, fv, fpath, vp, f)
		}
		meta.set(f.key, vp)
		switch {
		case set:
		case isNull(d.resolve(p.value)):
			nulls[f.key] = vp
		default:
			failed[f.key] = true // already reported
			d.failed[fpath] = true
		}
	}
	for _, f := range si.fields {
		fv := v.Field(f.index)
		if failed[f.key] {
			continue
		}
		if np, wasNull := nulls[f.key]; wasNull {
			if f.required {
				d.errorf(np, joinPath(path, f.key), "needs a value")
			} else if f.def != "" {
				setDefault(fv, f.def)
			}
			continue
		}
		if meta.Has(f.key) {
			if f.required && isEmptyScalar(fv) {
				d.errorf(meta.At(f.key), joinPath(path, f.key), "must not be empty")
			}
			continue
		}
		switch {
		case f.required:
			d.errorf(at, path, "missing required key %q", f.key)
		case f.def != "":
			setDefault(fv, f.def)
		case isPlainStruct(fv):
			d.decodeStruct(nil, fv, joinPath(path, f.key), at) // its own defaults
		}
	}
}

// isPlainStruct reports whether v is a configuration struct (decoded key
// by key) rather than a type with its own decoding.
func isPlainStruct(v reflect.Value) bool {
	if v.Kind() != reflect.Struct || v.Type() == secretType {
		return false
	}
	switch v.Addr().Interface().(type) {
	case nodeDecoder, scalarDecoder:
		return false
	}
	return true
}

// isNull reports whether n is a YAML null (or missing).
func isNull(n ast.Node) bool {
	_, _, null, ok := rawScalar(n)
	return null && ok
}

func isEmptyScalar(v reflect.Value) bool {
	switch {
	case v.Type() == secretType:
		return v.Interface().(Secret).IsZero()
	case v.Kind() == reflect.String:
		return v.Len() == 0
	case v.Kind() == reflect.Slice, v.Kind() == reflect.Map:
		return v.Len() == 0
	}
	return false
}

// decodeValue decodes n into v. It reports false when nothing was set (a
// null, or an error already reported).
func (d *decoder) decodeValue(n ast.Node, v reflect.Value, path string, at Pos, f *fieldInfo) bool {
	if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
		if isNull(d.resolve(n)) {
			return false
		}
		nd.decodeNode(d, n, path, at)
		return true
	}
	if sd, ok := v.Addr().Interface().(scalarDecoder); ok {
		s, literal, set := d.scalar(n, path, at, "a string")
		if !set {
			return false
		}
		if err := sd.parseScalar(s); err != nil {
			if !literal {
				d.errorf(at, path, "the value after ${...} substitution is not valid (not shown)")
				return false
			}
			d.errorf(at, path, "%s", err.Error())
			return false
		}
		return true
	}
	switch {
	case v.Type() == secretType:
		s, literal, set := d.scalar(n, path, at, "a string")
		if !set {
			return false
		}
		v.Set(reflect.ValueOf(NewSecret(s)))
		if literal && s != "" {
			d.literalSecrets = append(d.literalSecrets, at)
		}
		return true
	case v.Kind() == reflect.String:
		want := "a string"
		if e, ok := v.Interface().(enum); ok {
			want = "a word (one of " + strings.Join(e.enumValues(), ", ") + ")" // not a word at all: say which
		}
		s, literal, set := d.scalar(n, path, at, want)
		if !set {
			return false
		}
		if v.Type().Implements(enumIface) {
			allowed := v.Interface().(enum).enumValues()
			if !slices.Contains(allowed, s) {
				if !literal {
					d.errorf(at, path, "the value after ${...} substitution is not one of %s", strings.Join(allowed, ", "))
					return false
				}
				d.errorf(at, path, "%s is not one of %s%s", quoteWord(s), strings.Join(allowed, ", "), suggest(s, allowed))
				return false
			}
		}
		if f != nil && f.path {
			s = d.resolvePath(s)
		}
		v.SetString(s)
		return true
	case v.Kind() == reflect.Bool:
		s, _, set := d.scalar(n, path, at, "true or false")
		if !set {
			return false
		}
		b, ok := parseBool(s)
		if !ok {
			d.errorf(at, path, "want true or false")
			return false
		}
		v.SetBool(b)
		return true
	case v.Kind() == reflect.Int:
		s, _, set := d.scalar(n, path, at, "a whole number")
		if !set {
			return false
		}
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			d.errorf(at, path, "want a whole number")
			return false
		}
		v.SetInt(int64(i))
		return true
	case v.Kind() == reflect.Slice:
		return d.decodeSlice(n, v, path, at)
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct:
		r := d.resolve(n)
		if isNull(r) {
			return false
		}
		p := reflect.New(v.Type().Elem())
		if nd, ok := p.Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n, path, at)
		} else {
			d.decodeStruct(r, p.Elem(), path, at)
		}
		v.Set(p)
		return true
	case v.Kind() == reflect.Struct:
		r := d.resolve(n)
		if isNull(r) {
			d.decodeStruct(r, v, path, at) // defaults and required keys
			return true
		}
		d.decodeStruct(r, v, path, at)
		return true
	case v.Kind() == reflect.Map:
		return d.decodeNamed(n, v, path, at)
	}
	panic("config: no decoder for " + v.Type().String())
}

func parseBool(s string) (bool, bool) {
	switch strings.TrimSpace(s) {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// quoteWord quotes a configuration word (an enum value, a key) for a
// message. Long or multi-line text is not echoed: it is more likely a value
// put in the wrong place than a mistyped word.
func quoteWord(s string) string {
	if len([]rune(s)) > 40 || strings.ContainsAny(s, "\n\r") {
		return "the value"
	}
	return strconv.Quote(s)
}

func (d *decoder) decodeSlice(n ast.Node, v reflect.Value, path string, at Pos) bool {
	r := d.resolve(n)
	if isNull(r) {
		return false
	}
	seq, ok := r.(*ast.SequenceNode)
	if !ok {
		d.errorf(at, path, "want a list, got %s", kindOf(r))
		return false
	}
	out := reflect.MakeSlice(v.Type(), 0, len(seq.Values))
	for i, item := range seq.Values {
		ip := fmt.Sprintf("%s[%d]", path, i)
		ipos := d.nodePos(item, at)
		d.positions[ip] = ipos
		ev := reflect.New(v.Type().Elem()).Elem()
		if isNull(d.resolve(item)) {
			d.errorf(ipos, ip, "empty list item")
			continue
		}
		if d.decodeValue(item, ev, ip, ipos, nil) {
			out = reflect.Append(out, ev)
		}
	}
	v.Set(out)
	return true
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// decodeNamed decodes a mapping of names to structs (sources, jobs).
func (d *decoder) decodeNamed(n ast.Node, v reflect.Value, path string, at Pos) bool {
	r := d.resolve(n)
	if isNull(r) {
		return false
	}
	ps, ok := d.pairs(r, path, 0)
	if !ok {
		d.errorf(at, path, "want a mapping of names, got %s", kindOf(r))
		return false
	}
	m := reflect.MakeMapWithSize(v.Type(), len(ps))
	for _, p := range ps {
		ip := joinPath(path, p.key)
		if !nameRE.MatchString(p.key) {
			d.errorf(p.keyPos, ip, "a name must start with a letter and hold only letters, digits, _ and - (at most 64)")
			continue
		}
		elem := reflect.New(v.Type().Elem().Elem())
		if nf := elem.Elem().FieldByName("Name"); nf.IsValid() && nf.Kind() == reflect.String {
			nf.SetString(p.key)
		}
		d.decodeStruct(p.value, elem.Elem(), ip, d.nodePos(p.value, p.keyPos))
		m.SetMapIndex(reflect.ValueOf(p.key), elem)
	}
	v.Set(m)
	return true
}

// decodeSecretFile reads the Secret v from the file named by n.
func (d *decoder) decodeSecretFile(n ast.Node, v reflect.Value, path string, at Pos) bool {
	name, _, set := d.scalar(n, path, at, "a file name")
	if !set {
		return false
	}
	if name == "" {
		d.errorf(at, path, "must not be empty")
		return false
	}
	name = d.resolvePath(name)
	b, err := d.opt.ReadFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		d.errorf(at, path, "cannot read secret file %s: %s", name, errorText(err))
		return false
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		d.errorf(at, path, "secret file %s is empty", name)
		return false
	}
	v.Set(reflect.ValueOf(NewSecret(s)))
	return true
}

// errorText is err's message, for an error from reading a file; it is the
// operating system's text, which names no content.
func errorText(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

func (d *decoder) resolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.opt.BaseDir, p)
}

// setDefault sets v from a default tag. Defaults are checked by the tests;
// a bad one is a programming error.
func setDefault(v reflect.Value, def string) {
	if sd, ok := v.Addr().Interface().(scalarDecoder); ok {
		if err := sd.parseScalar(def); err != nil {
			panic("config: bad default " + def + ": " + err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(def)
	case reflect.Int:
		i, err := strconv.Atoi(def)
		if err != nil {
			panic("config: bad default " + def)
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		v.SetBool(def == "true")
	case reflect.Slice:
		parts := strings.Split(def, ",")
		out := reflect.MakeSlice(v.Type(), len(parts), len(parts))
		for i, p := range parts {
			out.Index(i).SetString(p)
		}
		v.Set(out)
	default:
		panic("config: no default for " + v.Type().String())
	}
}

func reflectValue[T any](p *T) reflect.Value { return reflect.ValueOf(p).Elem() }
