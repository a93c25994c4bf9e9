package reconcile_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
	_ "modernc.org/sqlite"
)

// bindWorld is a world whose job syncs a date (a birth date, say) and two
// text fields that may hold the same value.
func bindWorld(t *testing.T) *world {
	w := newWorld(t)
	w.job.Fields = []reconcile.FieldSpec{
		{Name: "Name__c", RuleHash: "r1"}, {Name: "Stage__c", RuleHash: "r1"}, {Name: "Amount__c", RuleHash: "r1"},
		{Name: "Visit__c", RuleHash: "r1"}, {Name: "Email__c", RuleHash: "r1"},
	}
	return w
}

// bindRows are two cases sharing a date, a null amount and a stage, one of
// them with the same text in two fields.
var bindRows = map[string]map[string]string{
	"TH-0001": {"Name__c": "dara@example.org", "Email__c": "dara@example.org", "Stage__c": "Active", "Visit__c": "1990-03-12"},
	"TH-0002": {"Name__c": "Sokha", "Email__c": "sokha@example.org", "Stage__c": "Active", "Visit__c": "1990-03-12"},
}

func seedBoth(t *testing.T, w *world, rows map[string]map[string]string) {
	t.Helper()
	for _, s := range []*side{w.sf, w.local} {
		for k, kv := range rows {
			if err := s.set(k, kv); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func storedRecords(t *testing.T, st state.Store, job string) map[string]state.RecordState {
	t.Helper()
	out := map[string]state.RecordState{}
	if err := st.Records(context.Background(), job, func(rs state.RecordState) error {
		out[rs.Key] = rs
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// distinctCells fails unless every record and field holds fingerprints no
// other record or field holds: equal values (a shared birth date, one text
// in two fields, two empty amounts) must not be visible in the state.
func distinctCells(t *testing.T, recs map[string]state.RecordState, confl []state.Conflict) {
	t.Helper()
	seen := map[state.Fingerprint]string{}
	add := func(cell string, fps ...state.Fingerprint) {
		for _, fp := range fps {
			if fp == 0 {
				continue
			}
			if other, ok := seen[fp]; ok && other != cell {
				t.Errorf("%s and %s hold the same fingerprint %s", other, cell, fp)
			}
			seen[fp] = cell
		}
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range recs {
			if !yield(k) {
				return
			}
		}
	}) {
		rs := recs[k]
		if len(rs.Salt) != state.SaltLen {
			t.Errorf("record %s: salt of %d bytes: its fingerprints are not bound", k, len(rs.Salt))
		}
		for _, f := range rs.Fields {
			add(k+"/"+f.Field, f.Base, f.SF, f.Local)
		}
	}
	for _, c := range confl {
		add(c.Key+"/"+c.Field, c.SF, c.Local)
	}
}

// Equal values in different records or fields are different fingerprints
// in the state: a shared birth date (a), one text in two fields (b), empty
// fields (c), and the fingerprints of open conflicts.
func TestStoredFingerprintsLinkNothing(t *testing.T) {
	ctx := context.Background()
	w := bindWorld(t)
	seedBoth(t, w, bindRows)
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	distinctCells(t, storedRecords(t, w.store, "cases"), nil)

	// Both sides change both names differently: two open conflicts
	// holding the same pair of values.
	w.job.Conflict = reconcile.Manual
	for k := range bindRows {
		if err := w.sf.set(k, map[string]string{"Name__c": "Srey"}); err != nil {
			t.Fatal(err)
		}
		if err := w.local.set(k, map[string]string{"Name__c": "Sreymom"}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	confl, err := w.store.Conflicts(ctx, "cases")
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Conflicts != 2 || len(confl) != 2 {
		t.Fatalf("conflicts: %d counted, %d queued; want 2", res.Counts.Conflicts, len(confl))
	}
	distinctCells(t, storedRecords(t, w.store, "cases"), confl)

	// The run after binds nothing differently: no write, the same state.
	before := storedRecords(t, w.store, "cases")
	res, err = w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.NumWrites() != 0 {
		t.Fatalf("a run with nothing changed plans %v", planWrites(res.Plan))
	}
	for k, rs := range storedRecords(t, w.store, "cases") {
		if string(rs.Salt) != string(before[k].Salt) || !slices.Equal(rs.Fields, before[k].Fields) {
			t.Errorf("record %s changed in a run that changed nothing", k)
		}
	}
}

// A guessed value cannot be confirmed from the state without the key: not
// by adding a row holding the guess to a synced sheet and looking for its
// fingerprint in other records, nor by fingerprinting the guess under
// another key. With the key, the bound fingerprint is found (the key is
// the secret, and it is kept apart from the state).
func TestStateConfirmsNoGuess(t *testing.T) {
	w := bindWorld(t)
	seedBoth(t, w, bindRows)
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	const guess = "1990-03-12" // TH-0001's and TH-0002's date
	if err := w.local.set("TH-0099", map[string]string{"Name__c": "probe", "Visit__c": guess}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	recs := storedRecords(t, w.store, "cases")
	probe, ok := recs[connector.KeyID("TH-0099", false)]
	if !ok {
		t.Fatal("the probe row has no state")
	}
	visit := func(rs state.RecordState) state.Fingerprint { return rs.Field("Visit__c").Base }
	field := testObject().Field("Visit__c")
	g, err := reconcile.Canonical(connector.Text(guess), field)
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := reconcile.NewFingerprinter([]byte(strings.Repeat("w", 32)))
	for _, k := range []string{"TH-0001", "TH-0002"} {
		rs := recs[connector.KeyID(k, false)]
		for what, fp := range map[string]state.Fingerprint{
			"the probe row's":                 visit(probe),
			"the unbound fingerprint":         w.fp.Value(g),
			"the bound one under another key": wrong.Bound("cases", "Case__c", "Visit__c", rs.Salt, g),
			"the unbound one under another":   wrong.Value(g),
		} {
			for _, f := range rs.Fields {
				if fp == f.Base || fp == f.SF || fp == f.Local {
					t.Errorf("%s: %s fingerprint of the guess is stored as %s", k, what, f.Field)
				}
			}
		}
		if got := w.fp.Bound("cases", "Case__c", "Visit__c", rs.Salt, g); got != visit(rs) {
			t.Errorf("%s: with the key the stored date is %s, the guess binds to %s", k, visit(rs), got)
		}
	}
}

// v1Fingerprint is a fingerprint as states of format 1 hold it: the
// HMAC-SHA256 of the value's comparison form under the key, 64 bits,
// never zero. Written out here, as that code computed it, so that the
// test does not depend on the code it checks.
func v1Fingerprint(t *testing.T, key []byte, f *connector.Field, v connector.Value) state.Fingerprint {
	t.Helper()
	c, err := reconcile.Canonical(v, f)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write(c.AppendComparable(nil))
	fp := state.Fingerprint(binary.BigEndian.Uint64(m.Sum(nil)))
	if fp == 0 {
		fp = 1
	}
	return fp
}

// v1Blob encodes a record's field states as format 1 does: version byte 1,
// a count, and per field (sorted by name) its name and four fingerprints.
func v1Blob(fs []state.FieldState) []byte {
	b := []byte{1}
	b = binary.AppendUvarint(b, uint64(len(fs)))
	for _, f := range fs {
		b = binary.AppendUvarint(b, uint64(len(f.Field)))
		b = append(b, f.Field...)
		for _, fp := range []state.Fingerprint{f.Base, f.SF, f.Local, f.Rule} {
			b = binary.BigEndian.AppendUint64(b, uint64(fp))
		}
	}
	return b
}

// A state written before fingerprints were bound (format 1, byte for
// byte) is converted by an ordinary run, with nothing changed: no write to
// either side, no new conflict, the open one kept; afterwards every record
// is bound and no two cells share a fingerprint.
func TestV1StateMigrates(t *testing.T) {
	ctx := context.Background()
	w := bindWorld(t)
	w.job.Conflict = reconcile.Manual
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	st, err := state.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.store, w.eng.Store = st, st
	if err := st.CheckKeyID(ctx, w.fp.KeyID()); err != nil {
		t.Fatal(err)
	}
	rows := map[string]map[string]string{
		"TH-0001": bindRows["TH-0001"], "TH-0002": bindRows["TH-0002"],
		"TH-0003": {"Name__c": "Sok", "Stage__c": "Closed", "Amount__c": "12.50"},
	}
	seedBoth(t, w, rows)
	// TH-0003 has an open manual conflict on its name: Salesforce and the
	// sheet were edited differently since the baseline "So".
	if err := w.local.set("TH-0003", map[string]string{"Name__c": "Sokha"}); err != nil {
		t.Fatal(err)
	}
	obj := testObject()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for key, kv := range rows {
		var fs []state.FieldState
		for _, spec := range w.job.Fields {
			f := obj.Field(spec.Name)
			v := connector.Null()
			if s := kv[spec.Name]; s != "" {
				v = connector.Text(s)
			}
			fp := v1Fingerprint(t, testKey, f, v)
			fs = append(fs, state.FieldState{Field: f.Name, Base: fp, SF: fp, Local: fp, Rule: w.fp.Rule(spec.RuleHash)})
		}
		if key == "TH-0001" {
			// A field the job no longer syncs: kept, bound.
			gone := v1Fingerprint(t, testKey, obj.Field("Name__c"), connector.Text("Dara"))
			fs = append(fs, state.FieldState{Field: "Gone__c", Base: gone, SF: gone, Local: gone, Rule: w.fp.Rule("r0")})
		}
		slices.SortFunc(fs, func(a, b state.FieldState) int { return strings.Compare(a.Field, b.Field) })
		if key == "TH-0003" {
			n := slices.IndexFunc(fs, func(f state.FieldState) bool { return f.Field == "Name__c" })
			fs[n].Base = v1Fingerprint(t, testKey, obj.Field("Name__c"), connector.Text("So"))
			fs[n].Local = v1Fingerprint(t, testKey, obj.Field("Name__c"), connector.Text("Sokha"))
			if _, err := db.ExecContext(ctx, `INSERT INTO conflicts (job, rkey, field, sf, local, opened, resolution, resolved) VALUES (?, ?, ?, ?, ?, ?, '', 0)`,
				"cases", connector.KeyID(key, false), "Name__c", int64(fs[n].SF), int64(fs[n].Local), int64(1767225600000000)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO pending (job, rkey, reason, code, since) VALUES (?, ?, 'conflict', '', ?)`,
				"cases", connector.KeyID(key, false), int64(1767225600000000)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO records (job, rkey, sf_key, local_key, flags, fields) VALUES (?, ?, ?, ?, 0, ?)`,
			"cases", connector.KeyID(key, false), connector.NormalizeKey(key), connector.NormalizeKey(key), v1Blob(fs)); err != nil {
			t.Fatal(err)
		}
	}
	sfBefore, localBefore := w.sf.dump(), w.local.dump()
	conflBefore, err := st.Conflicts(ctx, "cases")
	if err != nil {
		t.Fatal(err)
	}

	// A dry run converts nothing (it writes nothing to the state).
	if _, err := w.sync(reconcile.RunOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	for k, rs := range storedRecords(t, st, "cases") {
		if len(rs.Salt) != 0 {
			t.Fatalf("a dry run converted %s", k)
		}
	}

	for run := 1; run <= 2; run++ {
		w.sf.ResetCalls()
		w.local.ResetCalls()
		res, err := w.sync(reconcile.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Plan.NumWrites() != 0 || res.Counts.Conflicts != 1 {
			t.Fatalf("run %d over the old state: %d writes %v, %d conflicts; want none and TH-0003's", run, res.Plan.NumWrites(), planWrites(res.Plan), res.Counts.Conflicts)
		}
		for _, s := range []*side{w.sf, w.local} {
			if c := s.Calls(); c["upsert"]+c["delete"] != 0 {
				t.Errorf("run %d: %s calls %v", run, s.Name(), c)
			}
		}
		if got := w.sf.dump(); !slices.Equal(got, sfBefore) {
			t.Errorf("run %d: salesforce changed:\n%s", run, strings.Join(got, "\n"))
		}
		if got := w.local.dump(); !slices.Equal(got, localBefore) {
			t.Errorf("run %d: local changed:\n%s", run, strings.Join(got, "\n"))
		}
		confl, err := st.Conflicts(ctx, "cases")
		if err != nil {
			t.Fatal(err)
		}
		if len(confl) != 1 || confl[0].Key != conflBefore[0].Key || !confl[0].Opened.Equal(conflBefore[0].Opened) {
			t.Fatalf("run %d: conflicts %+v, want TH-0003's as it was opened", run, confl)
		}
		if confl[0].SF == conflBefore[0].SF || confl[0].Local == conflBefore[0].Local {
			t.Errorf("run %d: the conflict keeps its unbound fingerprints", run)
		}
		recs := storedRecords(t, st, "cases")
		if len(recs) != 3 {
			t.Fatalf("run %d: %d records in the state", run, len(recs))
		}
		distinctCells(t, recs, confl)
		var blob []byte
		if err := db.QueryRowContext(ctx, "SELECT fields FROM records WHERE rkey = ?", connector.KeyID("TH-0001", false)).Scan(&blob); err != nil {
			t.Fatal(err)
		}
		if blob[0] != 2 {
			t.Errorf("run %d: TH-0001 stored in format %d", run, blob[0])
		}
		th1 := recs[connector.KeyID("TH-0001", false)]
		if f := th1.Field("Gone__c"); f == nil || f.Base == v1Fingerprint(t, testKey, obj.Field("Name__c"), connector.Text("Dara")) {
			t.Errorf("run %d: TH-0001's field the job no longer syncs: %+v, want it kept, bound", run, f)
		}
	}
	// And it syncs on from there: an edit is an edit.
	if err := w.sf.set("TH-0002", map[string]string{"Stage__c": "Closed"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(planWrites(res.Plan)); res.Plan.NumWrites() != 1 || !strings.Contains(got, "TH-0002") {
		t.Fatalf("after conversion, an edit plans %s", got)
	}
}
