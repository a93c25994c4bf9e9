package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// missingObject is an object name no connector has.
const missingObject = "CasebridgeConformanceNoSuchObject"

// schema tests Describe and unknown objects:
//
//	Describe returns the description of the named object. An object the
//	connector does not have returns an error wrapping ErrObjectNotFound.
//
// and, of Read, "An object the connector does not have returns an error
// wrapping ErrObjectNotFound." The description names the key field, has
// every field of TestObject with the kind of Value it holds (text for a
// TextOnly connector), and agrees with Opt.KeyCaseSensitive.
func (s *suite) schema() {
	t := s.t
	d := s.desc
	if !strings.EqualFold(d.Name, s.obj) {
		t.Errorf("Describe(%s).Name = %q", s.obj, d.Name)
	}
	if !strings.EqualFold(d.Key, s.opt.fieldName(FieldKey)) {
		t.Errorf("Describe(%s).Key = %q, want %q", s.obj, d.Key, s.opt.fieldName(FieldKey))
	}
	if kf := d.KeyField(); kf == nil {
		t.Errorf("Describe(%s): the key field %q is not among the fields", s.obj, d.Key)
	} else if kf.CaseSensitive != s.opt.KeyCaseSensitive {
		t.Errorf("Describe(%s): key field CaseSensitive = %v, but Opt.KeyCaseSensitive = %v", s.obj, kf.CaseSensitive, s.opt.KeyCaseSensitive)
	}
	want := TestObject(s.obj)
	for _, wf := range want.Fields {
		f := d.Field(s.opt.fieldName(wf.Name))
		if f == nil {
			t.Errorf("Describe(%s) has no field %s (logical %s)", s.obj, s.opt.fieldName(wf.Name), wf.Name)
			continue
		}
		kind := wf.Type.ValueKind()
		if s.opt.TextOnly {
			kind = connector.KindText
		}
		if got := f.Type.ValueKind(); got != kind {
			t.Errorf("Describe(%s): field %s has type %s (%s values), want %s values", s.obj, f.Name, f.Type, got, kind)
		}
		if s.opt.TextOnly {
			continue
		}
		switch wf.Name {
		case FieldAmount:
			if f.Scale != wf.Scale {
				t.Errorf("Describe(%s): field %s has scale %d, want %d", s.obj, f.Name, f.Scale, wf.Scale)
			}
		case FieldTags:
			for _, v := range TagValues {
				if !f.HasPicklistValue(v) {
					t.Errorf("Describe(%s): field %s lacks picklist value %q", s.obj, f.Name, v)
				}
			}
			if !f.Restricted {
				t.Errorf("Describe(%s): field %s is not a restricted picklist", s.obj, f.Name)
			}
		}
	}

	if _, err := s.c.Describe(s.ctx, missingObject); !errors.Is(err, connector.ErrObjectNotFound) {
		t.Errorf("Describe of an unknown object: error %v, want one wrapping ErrObjectNotFound", err)
	}
	calls := 0
	_, err := s.c.Read(s.ctx, missingObject, "", func(connector.Record) error { calls++; return nil })
	if !errors.Is(err, connector.ErrObjectNotFound) {
		t.Errorf("Read of an unknown object: error %v, want one wrapping ErrObjectNotFound", err)
	}
	if calls > 0 {
		t.Errorf("Read of an unknown object passed %d records", calls)
	}
	// The contract names the sentinel for Describe and Read only; the
	// other calls must at least not succeed.
	if s.f.Sink != nil {
		if res, err := s.f.Sink.Upsert(s.ctx, missingObject, []connector.Record{s.rec("SC-1", sample(1))}); err == nil {
			t.Errorf("Upsert into an unknown object succeeded (results %d)", len(res))
		} else if res != nil {
			t.Errorf("Upsert into an unknown object returned an error and results; results must be nil")
		}
		if _, err := s.f.Sink.Delete(s.ctx, missingObject, []string{"SC-1"}); err == nil {
			t.Errorf("Delete from an unknown object succeeded")
		}
	}
	if s.f.KeyLister != nil {
		if err := s.f.KeyLister.ListKeys(s.ctx, missingObject, func(string) error { return nil }); err == nil {
			t.Errorf("ListKeys of an unknown object succeeded")
		}
	}
	if s.f.KeyReader != nil {
		if err := s.f.KeyReader.ReadKeys(s.ctx, missingObject, []string{"SC-1"}, func(connector.Record) error { return nil }); err == nil {
			t.Errorf("ReadKeys of an unknown object succeeded")
		}
	}
}

// readAllClause tests the complete read:
//
//	With an empty since, Read is a complete read: every live record
//	(Deleted false) of the object is passed to fn exactly once, so a key
//	that was not seen does not exist.
//
//	Records carry every field the connector reads, null ones as Null; a
//	field missing from Record.Fields is unknown.
//
// A record created with only its Name must read back with every field,
// the ones never written as Null (the checkbox as the store keeps it).
//
//	If fn returns an error, Read stops and returns that error.
func (s *suite) readAllClause() {
	t := s.t
	if got := s.readAll(); len(got) != 0 {
		t.Fatalf("Opt.New must return an empty test object; Read found %d records (%q)", len(got), keys(got))
	}
	want := map[string]vals{}
	var recs []connector.Record
	for i := 1; i <= 5; i++ {
		k := fmt.Sprintf("RA-%d", i)
		want[k] = sample(i)
		recs = append(recs, s.rec(k, want[k]))
	}
	sparse := vals{FieldName: connector.Text("RA sparse")}
	recs = append(recs, s.rec("RA-Sparse", sparse))
	s.mustUpsert(recs...)
	got := s.readAll()
	s.expectKeys("complete Read", got, append(slices.Sorted(mapKeys(want)), "RA-Sparse")...)
	for k, w := range want {
		if r, ok := got[s.keyID(k)]; ok {
			s.expectFields("complete Read", r, w)
			s.expectComplete("complete Read", r)
		}
	}
	if r, ok := got[s.keyID("RA-Sparse")]; ok {
		s.expectComplete("complete Read of a record created with only its Name", r)
		s.expectFields("complete Read of a record created with only its Name", r, sparse.with(
			FieldAmount, connector.Null(), FieldBorn, connector.Null(), FieldSeen, connector.Null(), FieldTags, connector.Null()))
	}

	stop := errors.New("conformance: stop reading")
	calls := 0
	_, err := s.c.Read(s.ctx, s.obj, "", func(connector.Record) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("Read whose fn returns an error returned %v, want that error", err)
	}
	if calls != 1 {
		t.Errorf("Read went on after fn returned an error: fn called %d times, want 1", calls)
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// readSince tests incremental reads:
//
//	With a non-empty since, a connector that tracks changes passes only
//	the records changed after the cursor was taken, including deleted
//	ones (Deleted true); a connector that does not track changes reads
//	everything as if since were empty and returns an empty cursor.
//
// and ChangeTracker: "TracksChanges reports whether Read with a non-empty
// cursor returns only changes for object", which must agree with
// Opt.TracksChanges. A DeleteTracker that says it does not see deletions
// need not pass the deleted record (if it does, with Deleted set).
func (s *suite) readSince() {
	t := s.t
	tracks := s.f.Tracker != nil && s.f.Tracker.TracksChanges(s.obj)
	if tracks != s.opt.TracksChanges {
		t.Errorf("TracksChanges(%s) = %v (ChangeTracker implemented: %v), but Opt.TracksChanges = %v",
			s.obj, tracks, s.f.Tracker != nil, s.opt.TracksChanges)
	}
	a, b, c := sample(1), sample(2), sample(3)
	s.mustUpsert(s.rec("RS-A", a), s.rec("RS-B", b), s.rec("RS-C", c))
	_, cur := s.read("")
	if s.opt.TracksChanges && cur == "" {
		t.Fatalf("a connector that tracks changes returned an empty cursor from a complete Read")
	}
	s.cursorWait()

	b2 := b.with(FieldName, connector.Text("RS-B changed"))
	d := sample(4)
	s.mustUpsert(s.rec("RS-B", b2), s.rec("RS-D", d))
	if res := s.del("RS-C"); res[0].Err != nil {
		t.Fatalf("Delete(RS-C): %v", res[0].Err)
	}

	since := cur
	if since == "" {
		since = "conformance-cursor"
	}
	recs, cur2 := s.read(since)
	if !s.opt.TracksChanges {
		got := s.byKey("Read with a cursor (no change tracking)", recs)
		s.expectKeys("Read with a cursor, connector without change tracking", got, "RS-A", "RS-B", "RS-D")
		if r, ok := got[s.keyID("RS-B")]; ok {
			s.expectFields("Read with a cursor", r, b2)
			s.expectComplete("Read with a cursor", r)
		}
		if cur2 != "" {
			t.Errorf("a connector that does not track changes returned cursor %q from Read with a cursor; want empty", cur2)
		}
		return
	}

	byKey := map[string]connector.Record{}
	for _, r := range recs {
		id := s.keyID(r.Key)
		if _, dup := byKey[id]; dup {
			t.Errorf("Read since the cursor passed key %q more than once", r.Key)
		}
		byKey[id] = r
	}
	if s.f.DeleteTracker != nil && !s.f.DeleteTracker.TracksDeletes(s.obj) {
		if _, ok := byKey[s.keyID("RS-C")]; !ok {
			byKey[s.keyID("RS-C")] = connector.Record{Key: "RS-C", Deleted: true} // not seen: allowed
		}
	}
	s.expectKeys("Read since the cursor (changed after it: RS-B updated, RS-D created, RS-C deleted)", byKey, "RS-B", "RS-C", "RS-D")
	if r, ok := byKey[s.keyID("RS-C")]; ok && !r.Deleted {
		t.Errorf("Read since the cursor passed the deleted record RS-C without Deleted set")
	}
	for k, w := range map[string]vals{"RS-B": b2, "RS-D": d} {
		if r, ok := byKey[s.keyID(k)]; ok {
			if r.Deleted {
				t.Errorf("Read since the cursor passed live record %s with Deleted set", k)
			}
			s.expectFields("Read since the cursor", r, w)
			s.expectComplete("Read since the cursor", r)
		}
	}
	if cur2 == "" {
		t.Fatalf("Read since a cursor returned an empty cursor")
	}
	if again, _ := s.read(cur2); len(again) != 0 {
		t.Errorf("Read since the latest cursor, with nothing changed, passed %d records", len(again))
	}
}

// listKeys tests KeyLister:
//
//	ListKeys calls fn with the key of every live record of object: a
//	complete listing, as a complete Read would give.
func (s *suite) listKeys() {
	t := s.t
	if s.f.KeyLister == nil {
		t.Skipf("the connector has no KeyLister")
	}
	s.mustUpsert(s.rec("LK-A", sample(1)), s.rec("LK-B", sample(2)), s.rec("LK-C", sample(3)))
	if res := s.del("LK-B"); res[0].Err != nil {
		t.Fatalf("Delete(LK-B): %v", res[0].Err)
	}
	got := s.listAll()
	s.expectKeys("ListKeys after deleting LK-B", got, "LK-A", "LK-C")
}

func (s *suite) listAll() map[string]connector.Record {
	s.t.Helper()
	out := map[string]connector.Record{}
	err := s.f.KeyLister.ListKeys(s.ctx, s.obj, func(k string) error {
		if _, dup := out[s.keyID(k)]; dup {
			s.t.Errorf("ListKeys listed %q more than once", k)
		}
		out[s.keyID(k)] = connector.Record{Key: k}
		return nil
	})
	if err != nil {
		s.t.Fatalf("ListKeys: %v", err)
	}
	return out
}

// readKeys tests KeyReader:
//
//	ReadKeys calls fn for the record of each key that exists, matching
//	keys as the object's key field does. Keys with no record are
//	skipped; a key given twice is read once.
//
// "Matching keys as the key field does" is KeyID: NFC, trimmed, and
// case-folded unless the key is case-sensitive.
func (s *suite) readKeys() {
	t := s.t
	if s.f.KeyReader == nil {
		t.Skipf("the connector has no KeyReader")
	}
	want := map[string]vals{"RK-Alpha": sample(1), "RK-Beta": sample(2), "RK-Caf\u00e9": sample(3)}
	s.mustUpsert(s.rec("RK-Alpha", want["RK-Alpha"]), s.rec("RK-Beta", want["RK-Beta"]),
		s.rec("RK-Caf\u00e9", want["RK-Caf\u00e9"]), s.rec("RK-Gone", sample(4)))
	if res := s.del("RK-Gone"); res[0].Err != nil {
		t.Fatalf("Delete(RK-Gone): %v", res[0].Err)
	}
	ask := []string{"RK-Alpha", "RK-Missing", "RK-Alpha", "\u00a0RK-Alpha\u200b ", "rk-BETA", "RK-Cafe\u0301", "RK-Gone"}
	wantKeys := []string{"RK-Alpha", "RK-Caf\u00e9"}
	if !s.opt.KeyCaseSensitive {
		ask = append(ask, "RK-ALPHA")
		wantKeys = append(wantKeys, "RK-Beta")
	}
	var recs []connector.Record
	err := s.f.KeyReader.ReadKeys(s.ctx, s.obj, ask, func(r connector.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadKeys: %v", err)
	}
	got := s.byKey(fmt.Sprintf("ReadKeys(%q)", ask), recs)
	s.expectKeys(fmt.Sprintf("ReadKeys(%q) (case-sensitive key: %v)", ask, s.opt.KeyCaseSensitive), got, wantKeys...)
	for _, k := range wantKeys {
		if r, ok := got[s.keyID(k)]; ok {
			s.expectFields("ReadKeys", r, want[k])
			s.expectComplete("ReadKeys", r)
		}
	}
}

// upsertClause tests creating and updating:
//
//	Upsert creates or updates each record by its Key, comparing keys as
//	the object's key field does (KeyID).
//
//	Upsert returns one Result per record, in order.
//
// with Result.Created true exactly for the records the call created and
// Result.Key echoing each record's key. Values read back are in the
// canonical form of the connector's own Describe (Canonicalize):
// milliseconds dropped, currency rounded to its scale, text NFC,
// multi-select sorted and de-duplicated.
func (s *suite) upsertClause() {
	t := s.t
	amount, _ := connector.NumberString("2.345")
	k1 := sample(1).with(FieldAmount, amount,
		FieldSeen, connector.DateTime(time.Date(2024, 1, 15, 10, 30, 0, 789_000_000, time.UTC)),
		FieldName, connector.Text("Zoe\u0308 Up"),
		FieldTags, connector.Multi("shelter", "legal", "shelter"))
	k2 := sample(2)
	res := s.upsert(s.rec("UP-1", k1), s.rec("UP-2", k2))
	s.expectResult("first Upsert, record 0", res[0], "UP-1", true)
	s.expectResult("first Upsert, record 1", res[1], "UP-2", true)

	k2b := k2.with(FieldName, connector.Text("UP-2 renamed"), FieldActive, connector.Bool(true))
	k3 := sample(3)
	res = s.upsert(s.rec("UP-2", k2b), s.rec("UP-3", k3), s.rec("UP-1", k1))
	s.expectResult("second Upsert, record 0 (update)", res[0], "UP-2", false)
	s.expectResult("second Upsert, record 1 (create)", res[1], "UP-3", true)
	s.expectResult("second Upsert, record 2 (unchanged)", res[2], "UP-1", false)

	got := s.readAll()
	s.expectKeys("Read after upserts", got, "UP-1", "UP-2", "UP-3")
	for k, w := range map[string]vals{"UP-1": k1, "UP-2": k2b, "UP-3": k3} {
		if r, ok := got[s.keyID(k)]; ok {
			s.expectFields("Read after upserts", r, w)
			if r.Key != k {
				t.Errorf("Read after upserts: Record.Key = %q, want %q", r.Key, k)
			}
		}
	}
}

// partialUpdate tests:
//
//	Fields missing from a record's Fields are left as they are; Null
//	clears a field.
func (s *suite) partialUpdate() {
	t := s.t
	full := sample(1)
	s.mustUpsert(s.rec("PU-1", full))

	s.mustUpsert(s.rec("PU-1", vals{FieldName: connector.Text("PU-1 renamed")}))
	want := full.with(FieldName, connector.Text("PU-1 renamed"))
	r, ok := s.readAll()[s.keyID("PU-1")]
	if !ok {
		t.Fatalf("PU-1 is gone after a partial update")
	}
	s.expectFields("after updating only Name", r, want)

	s.mustUpsert(s.rec("PU-1", vals{FieldAmount: connector.Null(), FieldBorn: connector.Null(),
		FieldSeen: connector.Null(), FieldTags: connector.Null()}))
	want = want.with(FieldAmount, connector.Null(), FieldBorn, connector.Null(),
		FieldSeen, connector.Null(), FieldTags, connector.Null())
	r, ok = s.readAll()[s.keyID("PU-1")]
	if !ok {
		t.Fatalf("PU-1 is gone after clearing fields")
	}
	s.expectFields("after setting Amount, Born, Seen and Tags to Null", r, want)
}

// idempotent tests:
//
//	Upserting the same record twice leaves the store as one upsert does.
//
// and that the second upsert reports Created false.
func (s *suite) idempotent() {
	t := s.t
	recs := []connector.Record{s.rec("ID-1", sample(1)), s.rec("ID-2", sample(2))}
	s.mustUpsert(recs...)
	before := s.readAll()
	res := s.upsert(recs...)
	for i, k := range []string{"ID-1", "ID-2"} {
		s.expectResult("second identical Upsert", res[i], k, false)
	}
	after := s.readAll()
	s.expectKeys("Read after the second identical Upsert", after, "ID-1", "ID-2")
	for id, b := range before {
		a, ok := after[id]
		if !ok {
			continue
		}
		for _, l := range logicalFields[1:] {
			if bv, av := s.got(b, l), s.got(a, l); !bv.Equal(av) {
				t.Errorf("record %q field %s changed from %s %q to %s %q on an identical upsert", b.Key, l, bv.Kind(), bv.Raw(), av.Kind(), av.Raw())
			}
		}
	}
}

// deleteClause tests:
//
//	Delete deletes the records with the given keys and returns one
//	Result per key, in order. A key with no record gets a *RecordError
//	wrapping ErrNotFound (code CodeNotFound); deleting is otherwise
//	idempotent.
//
// A deleted record is gone from a complete Read and from ListKeys, and an
// upsert of its key creates a new record that holds none of the old values.
func (s *suite) deleteClause() {
	t := s.t
	s.mustUpsert(s.rec("DE-A", sample(1)), s.rec("DE-B", sample(2)), s.rec("DE-C", sample(3)))
	res := s.del("DE-B", "DE-Missing")
	if res[0].Err != nil {
		t.Errorf("Delete(DE-B): %v", res[0].Err)
	} else if s.keyID(res[0].Key) != s.keyID("DE-B") {
		t.Errorf("Delete result 0: Key = %q, want DE-B", res[0].Key)
	}
	s.expectNotFound("Delete of a key with no record", res[1], "DE-Missing")

	s.expectKeys("Read after deleting DE-B", s.readAll(), "DE-A", "DE-C")
	if s.f.KeyLister != nil {
		s.expectKeys("ListKeys after deleting DE-B", s.listAll(), "DE-A", "DE-C")
	}
	if s.f.KeyReader != nil {
		n := 0
		if err := s.f.KeyReader.ReadKeys(s.ctx, s.obj, []string{"DE-B"}, func(connector.Record) error { n++; return nil }); err != nil {
			t.Errorf("ReadKeys(DE-B): %v", err)
		} else if n != 0 {
			t.Errorf("ReadKeys found the deleted record DE-B")
		}
	}

	res = s.del("DE-B")
	s.expectNotFound("Delete of an already deleted key", res[0], "DE-B")

	res = s.upsert(s.rec("DE-B", vals{FieldName: connector.Text("DE-B again")}))
	s.expectResult("Upsert of a deleted key", res[0], "DE-B", true)
	if r, ok := s.readAll()[s.keyID("DE-B")]; !ok {
		t.Errorf("DE-B missing after re-creating it")
	} else {
		s.expectFields("re-created DE-B", r, vals{FieldName: connector.Text("DE-B again"),
			FieldAmount: connector.Null(), FieldBorn: connector.Null(), FieldSeen: connector.Null(), FieldTags: connector.Null()})
	}
}

func (s *suite) expectNotFound(what string, res connector.Result, key string) {
	s.t.Helper()
	re := s.expectRecordError(what, res, key)
	if re == nil {
		return
	}
	if !errors.Is(res.Err, connector.ErrNotFound) {
		s.t.Errorf("%s: error %v does not wrap ErrNotFound", what, res.Err)
	}
	if c := connector.CodeOf(res.Err); c != connector.CodeNotFound {
		s.t.Errorf("%s: CodeOf = %q, want %q", what, c, connector.CodeNotFound)
	}
}

// canaries are values the suite adds to an invalid record's free fields:
// valid on their own, so that a connector that writes part of a failed
// record, or prints values in errors, is caught.
func canaries() vals {
	amount, _ := connector.NumberString("4321.98")
	return vals{
		FieldName:   connector.Text("ค่าลับ canary 7391"),
		FieldAmount: amount,
		FieldBorn:   connector.DateValue(connector.Date{Year: 1979, Month: 4, Day: 3}),
		FieldSeen:   connector.DateTime(time.Date(2011, 11, 11, 11, 11, 11, 0, time.UTC)),
		FieldActive: connector.Bool(true),
	}
}

// invalid returns Opt.Invalid's record for key with canary values in the
// fields it leaves out, or skips the clause.
func (s *suite) invalid(key string) connector.Record {
	s.t.Helper()
	if s.opt.Invalid == nil {
		s.t.Skipf("Opt.Invalid is nil: the harness declares no record this connector rejects")
	}
	r := s.opt.Invalid(key)
	r = r.Clone()
	if r.Fields == nil {
		r.Fields = map[string]connector.Value{}
	}
	for l, v := range canaries() {
		if _, ok := r.Fields[s.opt.fieldName(l)]; !ok {
			r.Fields[s.opt.fieldName(l)] = v
		}
	}
	return r
}

// leaks reports which values of r appear in msg. Values of fewer than four
// bytes are not looked for (they would match by chance).
func leaks(msg string, r connector.Record) []string {
	var out []string
	for name, v := range r.Fields {
		forms := []string{v.Raw()}
		if m, ok := v.Multi(); ok {
			forms = append(forms, m...)
		}
		if tm, ok := v.DateTime(); ok {
			forms = append(forms, tm.Format("2006-01-02T15:04:05"), tm.Format(time.DateTime))
		}
		if d, ok := v.Number(); ok {
			forms = append(forms, d.String(), d.StringFixed(2))
		}
		for _, f := range forms {
			if len(f) >= 4 && strings.Contains(msg, f) && !strings.Contains(r.Key, f) {
				out = append(out, fmt.Sprintf("%s (%s)", name, v.Kind()))
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// batchFailure tests per-record failure:
//
//	A record that fails has a *RecordError in Result.Err and is not
//	written at all (no field of it is applied); the other records are
//	written.
//
// and, of RecordError, "Its message names the operation, connector,
// object, key and field, and never a field value."
func (s *suite) batchFailure() {
	t := s.t
	bad := s.invalid("BF-Bad")
	g1, g2 := sample(1), sample(2)
	res := s.upsert(s.rec("BF-1", g1), bad, s.rec("BF-2", g2))
	s.expectResult("batch with one invalid record, record 0", res[0], "BF-1", true)
	s.expectResult("batch with one invalid record, record 2", res[2], "BF-2", true)
	if re := s.expectRecordError("the invalid record", res[1], bad.Key); re != nil {
		msg := res[1].Err.Error()
		if !strings.Contains(msg, connector.NormalizeKey(bad.Key)) {
			t.Errorf("the invalid record's error does not name its key %q: %s", bad.Key, msg)
		}
		if l := leaks(msg, bad); len(l) > 0 {
			t.Errorf("the invalid record's error message contains the value of %s", strings.Join(l, ", "))
		}
		if l := leaks(fmt.Sprintf("%v %+v", res[1], res[1].Err), bad); len(l) > 0 {
			t.Errorf("the invalid record's Result printed with %%v contains the value of %s", strings.Join(l, ", "))
		}
	}
	got := s.readAll()
	s.expectKeys("Read after a batch with one invalid record", got, "BF-1", "BF-2")
	for k, w := range map[string]vals{"BF-1": g1, "BF-2": g2} {
		if r, ok := got[s.keyID(k)]; ok {
			s.expectFields("Read after a batch with one invalid record", r, w)
		}
	}
}

// atomicRecord tests, for a create and an update:
//
//	A record that fails has a *RecordError in Result.Err and is not
//	written at all (no field of it is applied)
//
// A failed create leaves no record; a failed update leaves every field as
// it was.
func (s *suite) atomicRecord() {
	t := s.t
	badNew := s.invalid("AT-New")
	res := s.upsert(badNew)
	s.expectRecordError("invalid create", res[0], badNew.Key)
	if _, ok := s.readAll()[s.keyID(badNew.Key)]; ok {
		t.Errorf("a failed create left a record behind")
	}

	old := sample(5)
	s.mustUpsert(s.rec("AT-Old", old))
	badOld := s.invalid("AT-Old")
	res = s.upsert(badOld)
	s.expectRecordError("invalid update", res[0], badOld.Key)
	r, ok := s.readAll()[s.keyID("AT-Old")]
	if !ok {
		t.Fatalf("a failed update removed the record")
	}
	s.expectFields("a record after a failed update", r, old)
}

// unicodeKeys are keys in the scripts and forms field offices use, and
// rclone's hostile name. They are also written as Name values.
var unicodeKeys = []string{
	"TH-สมชาย-๐๐๑",
	"KH-ខ្មែរ-០២",
	"BN-বাংলা-০৩",
	"AR-عَرَبِيّ-04",
	"EMOJI-😀👍🏽-05",
	"ZWJ-👩\u200d👩\u200d👧-06", // inner zero-width joiners are content, not white space
	"CM-Zoe\u0308-07",        // combining diaeresis: NFD, stored NFC
	"hello? sausage/êé/Hello, 世界",
	`Q-'quote' "double" \back%20;semi`,
}

// unicode tests keys and values beyond ASCII. Record.Key is "in
// NormalizeKey form" (NFC, trimmed), text values are NFC, and a text
// field's Length counts characters, not bytes: 80 Thai characters (240
// bytes) fit text(80).
func (s *suite) unicode() {
	t := s.t
	thai80 := strings.Repeat("สมชาย", 16)
	var recs []connector.Record
	want := map[string]vals{}
	for i, k := range unicodeKeys {
		v := sample(i).with(FieldName, connector.Text(k))
		if i == 0 {
			v = v.with(FieldName, connector.Text(thai80))
		}
		if i == 1 {
			v = v.with(FieldTags, connector.Multi("ที่พัก", "legal"))
		}
		want[k] = v
		recs = append(recs, s.rec(k, v))
	}
	res := s.upsert(recs...)
	for i, k := range unicodeKeys {
		s.expectResult("Upsert of unicode keys", res[i], k, true)
	}
	got := s.readAll()
	s.expectKeys("Read of unicode keys", got, unicodeKeys...)
	for _, k := range unicodeKeys {
		r, ok := got[s.keyID(k)]
		if !ok {
			continue
		}
		if r.Key != connector.NormalizeKey(k) {
			t.Errorf("Record.Key = %q (%+q), want %q in NormalizeKey form", r.Key, r.Key, connector.NormalizeKey(k))
		}
		s.expectFields("Read of unicode values", r, want[k])
	}
}

// keyVariants tests that keys name records as KeyID says: "Two keys name
// the same record exactly when their KeyIDs are equal" — NFC and NFD forms
// and surrounding white space always name one record; keys differing only
// in case name one record unless the key is case-sensitive.
func (s *suite) keyVariants() {
	t := s.t
	res := s.upsert(s.rec("KV-Case", vals{FieldName: connector.Text("first")}))
	s.expectResult("Upsert KV-Case", res[0], "KV-Case", true)
	res = s.upsert(s.rec("kv-CASE", vals{FieldName: connector.Text("second")}))
	s.expectResult("Upsert kv-CASE after KV-Case", res[0], "kv-CASE", s.opt.KeyCaseSensitive)

	res = s.upsert(s.rec("KV-Jos\u00e9", vals{FieldName: connector.Text("nfc")}))
	s.expectResult("Upsert KV-José (NFC)", res[0], "KV-Jos\u00e9", true)
	res = s.upsert(s.rec("KV-Jose\u0301", vals{FieldName: connector.Text("nfd")}))
	s.expectResult("Upsert KV-José (NFD) after NFC", res[0], "KV-Jose\u0301", false)
	res = s.upsert(s.rec("\u00a0KV-Jos\u00e9\u200b", vals{FieldName: connector.Text("padded")}))
	s.expectResult("Upsert KV-José padded with no-break and zero-width spaces", res[0], "KV-Jos\u00e9", false)

	got := s.readAll()
	jose, ok := got[s.keyID("KV-Jos\u00e9")]
	if !ok {
		t.Errorf("KV-José missing")
	} else {
		if jose.Key != "KV-Jos\u00e9" {
			t.Errorf("KV-José read back with key %+q, want the NFC, trimmed form", jose.Key)
		}
		s.expectFields("KV-José after three upserts of its variants", jose, vals{FieldName: connector.Text("padded")})
	}
	if s.opt.KeyCaseSensitive {
		if len(got) != 3 {
			t.Errorf("case-sensitive key: Read found %d records (%q), want 3 (KV-Case, kv-CASE, KV-José)", len(got), keys(got))
		}
		if r, ok := got[s.keyID("KV-Case")]; ok {
			s.expectFields("KV-Case", r, vals{FieldName: connector.Text("first")})
		}
		if r, ok := got[s.keyID("kv-CASE")]; ok {
			s.expectFields("kv-CASE", r, vals{FieldName: connector.Text("second")})
		}
		res = s.del("KV-CASE")
		s.expectNotFound("Delete(KV-CASE), a case variant of two case-sensitive keys", res[0], "KV-CASE")
	} else {
		if len(got) != 2 {
			t.Errorf("case-insensitive key: Read found %d records (%q), want 2 (KV-Case, KV-José)", len(got), keys(got))
		}
		if r, ok := got[s.keyID("KV-Case")]; ok {
			s.expectFields("KV-Case after upserting kv-CASE", r, vals{FieldName: connector.Text("second")})
		}
		if res = s.del("KV-CASE"); res[0].Err != nil {
			t.Errorf("Delete(KV-CASE) of the record KV-Case, case-insensitive: %v", res[0].Err)
		}
	}
	if res = s.del("KV-Jose\u0301"); res[0].Err != nil {
		t.Errorf("Delete of KV-José by its NFD form: %v", res[0].Err)
	}
	want := []string{}
	if s.opt.KeyCaseSensitive {
		want = []string{"KV-Case", "kv-CASE"}
	}
	s.expectKeys("Read after deleting key variants", s.readAll(), want...)
}

// emptyKey tests that a record whose key is empty after NormalizeKey is
// rejected per record with a *RecordError of code CodeInvalidKey ("empty
// or unusable key"), and the rest of the batch is written.
func (s *suite) emptyKey() {
	t := s.t
	res := s.upsert(s.rec("EK-1", sample(1)), s.rec("", sample(2)), s.rec(" \u00a0\u200b\t", sample(3)))
	s.expectResult("valid record beside empty keys", res[0], "EK-1", true)
	for i := 1; i <= 2; i++ {
		if res[i].Err == nil {
			t.Errorf("record %d with an empty key was accepted", i)
			continue
		}
		var re *connector.RecordError
		if !errors.As(res[i].Err, &re) {
			t.Errorf("record %d with an empty key: error is a %T, want *connector.RecordError", i, res[i].Err)
		}
		if c := connector.CodeOf(res[i].Err); c != connector.CodeInvalidKey {
			t.Errorf("record %d with an empty key: code %q, want %q", i, c, connector.CodeInvalidKey)
		}
	}
	s.expectKeys("Read after a batch with empty keys", s.readAll(), "EK-1")
}

// largeBatch writes Opt.LargeBatch records in one Upsert (a connector
// splits it as its store needs), reads them back exactly, updates them all
// in one call and deletes them all in one call.
func (s *suite) largeBatch() {
	t := s.t
	n := s.opt.LargeBatch
	recs := make([]connector.Record, n)
	want := map[string]vals{}
	keyList := make([]string, n)
	for i := range recs {
		k := fmt.Sprintf("LB-%05d", i)
		keyList[i] = k
		want[k] = sample(i)
		recs[i] = s.rec(k, want[k])
	}
	res := s.upsert(recs...)
	bad := 0
	for i, r := range res {
		if r.Err != nil || r.Created != true || s.keyID(r.Key) != s.keyID(keyList[i]) {
			if bad < 5 {
				t.Errorf("large batch result %d: key %q created %v err %v; want key %q created", i, r.Key, r.Created, r.Err, keyList[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d results of the large batch are wrong", bad, n)
	}
	got := s.readAll()
	if len(got) != n {
		t.Errorf("Read after a batch of %d found %d records", n, len(got))
	}
	mismatched := 0
	for k, w := range want {
		r, ok := got[s.keyID(k)]
		if !ok {
			if mismatched < 5 {
				t.Errorf("record %q of the large batch is missing", k)
			}
			mismatched++
			continue
		}
		for l, v := range w {
			if !s.got(r, l).Equal(s.canonical(l, v)) {
				if mismatched < 5 {
					t.Errorf("record %q field %s read back different", k, l)
				}
				mismatched++
				break
			}
		}
	}
	if mismatched > 0 {
		t.Errorf("%d of %d records of the large batch missing or different", mismatched, n)
	}

	for i := range recs {
		recs[i] = s.rec(keyList[i], vals{FieldName: connector.Text(fmt.Sprintf("updated %d", i))})
	}
	res = s.upsert(recs...)
	for i, r := range res {
		if r.Err != nil || r.Created || s.keyID(r.Key) != s.keyID(keyList[i]) {
			t.Fatalf("large batch update result %d: key %q created %v err %v; want key %q updated", i, r.Key, r.Created, r.Err, keyList[i])
		}
	}
	res = s.del(keyList...)
	for i, r := range res {
		if r.Err != nil || s.keyID(r.Key) != s.keyID(keyList[i]) {
			t.Fatalf("large batch delete result %d: key %q err %v; want key %q deleted", i, r.Key, r.Err, keyList[i])
		}
	}
	if got := s.readAll(); len(got) != 0 {
		t.Errorf("Read after deleting the large batch found %d records", len(got))
	}
}

// cancel tests that every call given a cancelled context returns an error
// wrapping context.Canceled within Opt.Timeout, and that a Read whose
// context is cancelled while it runs stops with such an error. (The
// contract in connector.go does not say this yet; see the README.) And, of
// Upsert, "A non-nil error means the call as a whole failed: results are
// nil".
func (s *suite) cancel() {
	sink := s.sink()
	s.mustUpsert(s.rec("CA-1", sample(1)), s.rec("CA-2", sample(2)), s.rec("CA-3", sample(3)))
	ctx, cancel := context.WithCancel(s.ctx)
	cancel()
	calls := map[string]func() error{
		"Read": func() error {
			_, err := s.c.Read(ctx, s.obj, "", func(connector.Record) error { return nil })
			return err
		},
		"Upsert": func() error {
			res, err := sink.Upsert(ctx, s.obj, []connector.Record{s.rec("CA-4", sample(4))})
			if err != nil && res != nil {
				return fmt.Errorf("returned %d results beside its error (%v); results must be nil", len(res), err)
			}
			return err
		},
		"Delete": func() error {
			_, err := sink.Delete(ctx, s.obj, []string{"CA-1"})
			return err
		},
	}
	if s.f.KeyLister != nil {
		calls["ListKeys"] = func() error {
			return s.f.KeyLister.ListKeys(ctx, s.obj, func(string) error { return nil })
		}
	}
	if s.f.KeyReader != nil {
		calls["ReadKeys"] = func() error {
			return s.f.KeyReader.ReadKeys(ctx, s.obj, []string{"CA-1"}, func(connector.Record) error { return nil })
		}
		// Nothing to pass: a connector that looks at ctx only between
		// records would not notice.
		calls["ReadKeys of a missing key"] = func() error {
			return s.f.KeyReader.ReadKeys(ctx, s.obj, []string{"CA-Missing"}, func(connector.Record) error { return nil })
		}
	}
	if s.opt.TracksChanges {
		_, cur := s.read("")
		calls["Read since the latest cursor (no changes to pass)"] = func() error {
			_, err := s.c.Read(ctx, s.obj, cur, func(connector.Record) error { return nil })
			return err
		}
	}
	for _, name := range sortedKeys(calls) {
		s.expectCancelled(name+" with a cancelled context", calls[name])
	}

	s.expectCancelled("Read cancelled after its first record", func() error {
		ctx, cancel := context.WithCancel(s.ctx)
		defer cancel()
		_, err := s.c.Read(ctx, s.obj, "", func(connector.Record) error {
			cancel()
			return nil
		})
		return err
	})
}

func (s *suite) expectCancelled(what string, call func() error) {
	s.t.Helper()
	done := make(chan error, 1)
	go func() {
		// The call runs in a goroutine of its own so that a hang is
		// reported; a panic there would kill the test binary.
		defer func() {
			if p := recover(); p != nil {
				done <- panicked{p}
			}
		}()
		done <- call()
	}()
	select {
	case err := <-done:
		if p, ok := err.(panicked); ok {
			s.t.Errorf("%s panicked: %v", what, p.v)
		} else if err == nil {
			s.t.Errorf("%s succeeded, want an error wrapping context.Canceled", what)
		} else if !errors.Is(err, context.Canceled) {
			s.t.Errorf("%s: error %v does not wrap context.Canceled", what, err)
		}
	case <-time.After(s.opt.Timeout):
		s.t.Errorf("%s did not return within %v", what, s.opt.Timeout)
	}
}

type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprint("panic: ", p.v) }
