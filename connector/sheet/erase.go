package sheet

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/casebridge/casebridge/connector"
)

// Erased is what Erase blanked in one file for one key: the columns that
// held something (names only, never what they held).
type Erased struct {
	// File is the sheet's file or one of its backups.
	File string
	// Backup is true for a backup.
	Backup  bool
	Key     string
	Columns []string
	// Rows is how many rows of the key were blanked (a key may have a
	// live row and rows marked deleted).
	Rows int
	// Removed: an encrypted backup that could not be opened (no identity)
	// was removed whole; Key and Columns are empty then.
	Removed bool
}

// Erase blanks the named columns in every row of the given keys, the rows
// marked deleted included (a propagated delete keeps a row's values), in
// object's file and in each of its backups: a person's erasure must reach
// every copy casebridge keeps. A file is rewritten only if a cell
// changed, atomically as every write is (a temporary file, 0600, removed
// on every way out), and no backup is made of a file erase rewrites: that
// backup would be a new copy of what is erased. A column the sheet lacks
// is skipped; a key no row holds is simply not reported.
//
// With dryRun nothing is written; the result says what would be blanked.
// A file that cannot be read or written stops Erase with an error naming
// it: files done before are erased (erasing again is harmless).
func (c *Connector) Erase(ctx context.Context, object string, keys, columns []string, dryRun bool) ([]Erased, error) {
	sc, err := c.lookup("erase", object)
	if err != nil {
		return nil, err
	}
	if sc.ro && !dryRun {
		return nil, fmt.Errorf("erase %s %s: %s is declared read-only: %w", c.name, object, sc.Path, connector.ErrReadOnly)
	}
	path := sc.Path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	backups, err := c.Backups(object)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.sweep(path) // interrupted writes' temporary files are copies too
	var out []Erased
	for i, f := range append([]string{path}, backups...) {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		done, err := c.eraseFile(sc, f, i > 0, keys, columns, dryRun)
		if err != nil {
			return out, fmt.Errorf("erase %s %s: %w", c.name, object, err)
		}
		out = append(out, done...)
	}
	return out, nil
}

// Backups returns the backup files of object's file (backupLayout names
// in the backup folder), oldest first.
func (c *Connector) Backups(object string) ([]string, error) {
	sc, err := c.lookup("backups", object)
	if err != nil {
		return nil, err
	}
	path := sc.Path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir, base := c.w.backupFolder(path), filepath.Base(path)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: backups: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); e.Type().IsRegular() && isBackupName(base, n) {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(backupStamp(base, a), backupStamp(base, b)) })
	for i, n := range names {
		names[i] = filepath.Join(dir, n)
	}
	return names, nil
}

// EncryptBackups makes every backup written from now on encrypted to
// recipients (age, such as "age1..." public keys): a copy of a sheet
// holds everyone's personal data, and an encrypted one is unreadable to
// whoever copies the folder. The backup is encrypted as it is written (no
// plain copy touches the disk) and named <name>.<timestamp>.bak.age; only
// the holder of an identity (the private key, kept elsewhere) can read it:
//
//	age -d -i key.txt cases.csv.20260403T100000.000000000Z.bak.age > cases.csv
func (c *Connector) EncryptBackups(recipients ...age.Recipient) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.recipients = slices.Clone(recipients)
}

// SetBackupIdentities gives Erase the identities that open encrypted
// backups. Without one, Erase cannot look into an encrypted backup and
// removes it instead (it cannot vouch for what it holds).
func (c *Connector) SetBackupIdentities(ids ...age.Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.identities = slices.Clone(ids)
}

// ageExt ends the name of an encrypted backup (after .bak).
const ageExt = ".age"

// isBackupName reports whether name is a backup of the file named base:
// base.<backupLayout>.bak, or .bak.age encrypted.
func isBackupName(base, name string) bool {
	_, err := time.Parse(backupLayout, backupStamp(base, name))
	return err == nil
}

// backupStamp returns the time stamp in a backup's name ("" if name is
// not base's backup): backups sort by it, plain and encrypted alike.
func backupStamp(base, name string) string {
	ts, ok := strings.CutPrefix(name, base+".")
	if !ok {
		return ""
	}
	ts = strings.TrimSuffix(ts, ageExt)
	if ts, ok = strings.CutSuffix(ts, ".bak"); !ok {
		return ""
	}
	return ts
}

// encryptTo writes data to w encrypted (age) to recipients.
func encryptTo(w io.Writer, data []byte, recipients []age.Recipient) error {
	enc, err := age.Encrypt(w, recipients...)
	if err != nil {
		return err
	}
	if _, err := enc.Write(data); err != nil {
		return err
	}
	return enc.Close()
}

// eraseFile blanks keys' columns in one file, read with sc's layout.
func (c *Connector) eraseFile(sc *sheetConf, path string, backup bool, keys, columns []string, dryRun bool) ([]Erased, error) {
	if err := checkLocks(path); err != nil {
		return nil, err
	}
	data, st, err := readFile(path)
	if err != nil {
		return nil, err
	}
	encrypted := backup && strings.HasSuffix(path, ageExt)
	raw := data
	if encrypted {
		if len(c.w.identities) == 0 {
			// Unreadable here, so unverifiable: it goes.
			if !dryRun {
				if err := os.Remove(path); err != nil {
					return nil, err
				}
			}
			return []Erased{{File: path, Backup: true, Removed: true}}, nil
		}
		r, err := age.Decrypt(bytes.NewReader(data), c.w.identities...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if data, err = readAllLimited(r); err != nil {
			return nil, fmt.Errorf("%s: decrypted: %w", path, err)
		}
	}
	var ed editor
	if sc.format == formatXLSX {
		ed, err = newXLSXEditor(sc, data)
	} else {
		ed, err = newCSVEditor(sc, data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cl, ok := ed.(io.Closer); ok {
		defer cl.Close()
	}
	m, err := c.newModel(sc, ed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Erased
	for _, k := range keys {
		id := connector.KeyID(k, false)
		refs := append(slices.Clone(m.live[id]), m.marked[id]...)
		if len(refs) == 0 {
			continue
		}
		e := Erased{File: path, Backup: backup, Key: k, Rows: len(refs)}
		for _, name := range columns {
			col, ok := m.l.index[fold(name)]
			if !ok || col == m.l.key {
				continue // the key is kept: it is what the tombstone holds
			}
			blanked := false
			for _, ref := range refs {
				if ed.cell(ref, col) != "" {
					m.set(ref, col, "")
					blanked = true
				}
			}
			if blanked {
				e.Columns = append(e.Columns, name)
			}
		}
		out = append(out, e)
	}
	if !m.changed || dryRun {
		return out, nil
	}
	b, err := ed.bytes()
	if err == nil && sc.format == formatXLSX {
		b, err = blankUnusedSharedStrings(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if encrypted {
		var buf bytes.Buffer
		if err := encryptTo(&buf, b, c.backupRecipients()); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		b = buf.Bytes()
	}
	w := writer{now: c.w.now} // no backups: one would be a copy of what is erased
	nst, err := w.replace(path, st, raw, b)
	if err != nil {
		return nil, err
	}
	if !backup {
		c.seen[sc.Path] = nst // as write keys it
	}
	return out, nil
}

// blankUnusedSharedStrings returns the workbook data with every entry of
// its shared string table that no worksheet cell refers to any more
// emptied. A workbook keeps each text once, in xl/sharedStrings.xml, and
// cells refer to it by index; blanking a cell drops the reference but
// neither Excel nor excelize drops the text, so an erased name would stay
// in the file. Entries keep their places (no cell is renumbered). A table
// this cannot read with certainty (a namespace prefix, an entry count that
// two readings do not agree on) is an error: an erasure is not claimed
// that did not happen.
func blankUnusedSharedStrings(data []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var sst *zip.File
	used := map[int]bool{}
	for _, f := range zr.File {
		switch {
		case strings.EqualFold(f.Name, "xl/sharedStrings.xml"):
			sst = f
		case strings.HasPrefix(f.Name, "xl/worksheets/") && strings.HasSuffix(f.Name, ".xml"):
			if err := sharedRefs(f, used); err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	}
	if sst == nil {
		return data, nil
	}
	raw, err := readZipFile(sst)
	if err != nil {
		return nil, err
	}
	n, err := countElements(raw, "si")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sst.Name, err)
	}
	var out bytes.Buffer
	idx, rest := 0, raw
	for {
		i := indexTag(rest, "si")
		if i < 0 {
			out.Write(rest)
			break
		}
		out.Write(rest[:i])
		rest = rest[i:]
		end := bytes.IndexByte(rest, '>')
		if end < 0 {
			return nil, fmt.Errorf("%s: unterminated entry", sst.Name)
		}
		var elem []byte
		if rest[end-1] == '/' { // <si/>
			elem, rest = rest[:end+1], rest[end+1:]
		} else {
			closeAt := bytes.Index(rest, []byte("</si>"))
			if closeAt < 0 {
				return nil, fmt.Errorf("%s: unterminated entry", sst.Name)
			}
			elem, rest = rest[:closeAt+len("</si>")], rest[closeAt+len("</si>"):]
		}
		if used[idx] {
			out.Write(elem)
		} else {
			out.WriteString("<si><t></t></si>")
		}
		idx++
	}
	if idx != n {
		return nil, fmt.Errorf("%s: %d entries found, %d read: not cleared", sst.Name, idx, n)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if f != sst {
			if err := zw.Copy(f); err != nil {
				return nil, err
			}
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(out.Bytes()); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// indexTag returns the index of the next start tag <name> or <name ...>
// in b, or -1.
func indexTag(b []byte, name string) int {
	off := 0
	for {
		i := bytes.Index(b[off:], []byte("<"+name))
		if i < 0 {
			return -1
		}
		j := off + i + 1 + len(name)
		if j < len(b) && (b[j] == '>' || b[j] == '/' || b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n') {
			return off + i
		}
		off = j
	}
}

// countElements counts the elements named local (any namespace) in an XML
// document, refusing prefixed ones (which indexTag would not see).
func countElements(doc []byte, local string) (int, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	n := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == local {
			if se.Name.Space != "" {
				return 0, fmt.Errorf("prefixed <%s:%s> elements are not supported", se.Name.Space, local)
			}
			n++
		}
	}
}

// sharedRefs adds the shared string indexes a worksheet's cells (t="s")
// refer to.
func sharedRefs(f *zip.File, used map[int]bool) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	shared, inV := false, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "c":
				shared = false
				for _, a := range t.Attr {
					if a.Name.Local == "t" && a.Value == "s" {
						shared = true
					}
				}
			case "v":
				inV = shared
			}
		case xml.EndElement:
			if t.Name.Local == "v" {
				inV = false
			}
		case xml.CharData:
			if inV {
				if i, err := strconv.Atoi(strings.TrimSpace(string(t))); err == nil {
					used[i] = true
				}
			}
		}
	}
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readAllLimited(rc)
}

// readAllLimited reads r whole, up to maxEditBytes: more is an error, never
// a truncated copy (an erased file written back cut off would lose rows,
// and an erasure would be claimed of a file erase never read to its end).
func readAllLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxEditBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > maxEditBytes {
		return nil, fmt.Errorf("it is larger than %s, the most casebridge edits; it was not erased (erase it by hand): %w", bytesText(maxEditBytes), ErrTooLarge)
	}
	return b, nil
}

// backupRecipients are the recipients an erased encrypted backup is
// encrypted to again: the configured ones, else those of the identities
// that opened it.
func (c *Connector) backupRecipients() []age.Recipient {
	if len(c.w.recipients) > 0 {
		return c.w.recipients
	}
	var out []age.Recipient
	for _, id := range c.w.identities {
		if x, ok := id.(*age.X25519Identity); ok {
			out = append(out, x.Recipient())
		}
	}
	return out
}
