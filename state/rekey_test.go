package state_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/casebridge/casebridge/state"
)

// TestRekey: a store started over under a new key forgets every
// fingerprint (records, tombstones, lookups, cursors) and the old key id,
// and keeps the run history.
func TestRekey(t *testing.T) {
	ctx := context.Background()
	st, err := state.OpenSQLite(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := st.CheckKeyID(ctx, "fpk1:old"); err != nil {
		t.Fatal(err)
	}
	id, err := st.StartRun(ctx, "j", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishRun(ctx, state.Run{ID: id, Job: "j", Start: t0, End: t0, Outcome: state.OutcomeOK}); err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, "j", func(tx state.Tx) error {
		if err := tx.PutRecord(state.RecordState{Key: "k", SFKey: "k", LocalKey: "k", Fields: []state.FieldState{{Field: "F", Base: 1, SF: 1, Local: 1, Rule: 1}}}); err != nil {
			return err
		}
		if err := tx.AddTombstone("Obj", "h", t0); err != nil {
			return err
		}
		return tx.SetCursor("salesforce", "c")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutLookupIDs(ctx, "account/code", map[string]string{"vh": "001"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.Rekey(ctx, "fpk1:new"); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = st.Records(ctx, "j", func(state.RecordState) error { n++; return nil })
	tombs, _ := st.Tombstones(ctx, "Obj")
	ids, _ := st.LookupIDs(ctx, "account/code")
	cur, _ := st.Cursor(ctx, "j", "salesforce")
	if n != 0 || len(tombs) != 0 || len(ids) != 0 || cur != "" {
		t.Errorf("after rekey: %d records, %d tombstones, %d lookups, cursor %q", n, len(tombs), len(ids), cur)
	}
	if err := st.CheckKeyID(ctx, "fpk1:old"); !errors.Is(err, state.ErrKeyMismatch) {
		t.Errorf("old key after rekey: %v", err)
	}
	if err := st.CheckKeyID(ctx, "fpk1:new"); err != nil {
		t.Errorf("new key after rekey: %v", err)
	}
	if runs, _ := st.Runs(ctx, "j", 10); len(runs) != 1 {
		t.Errorf("history after rekey: %d runs", len(runs))
	}
}
