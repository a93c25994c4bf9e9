package reconcile_test

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/reconcile"
)

// A plan's lines come one at a time from All, as Lines gives them, and
// writes that set the same fields share their Changes without mixing them
// up with writes that set others: each update lists its own fields and
// reasons, each create the fields it sets.
func TestPlanLinesOneAtATime(t *testing.T) {
	w := newWorld(t)
	seedBoth(t, w, map[string]map[string]string{
		"TH-0001": {"Name__c": "A", "Stage__c": "Active"},
		"TH-0002": {"Name__c": "B", "Stage__c": "Active"},
		"TH-0003": {"Name__c": "C", "Stage__c": "Active"},
		"TH-0004": {"Name__c": "D", "Stage__c": "Active"},
		"TH-0008": {"Name__c": "H", "Stage__c": "Active"},
		"TH-0009": {"Name__c": "I", "Stage__c": "Active"},
	})
	w.job.Conflict = reconcile.SalesforceWins
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	edits := []struct {
		s   *side
		key string
		kv  map[string]string
	}{
		{w.local, "TH-0001", map[string]string{"Name__c": "A2", "Stage__c": "Active"}},
		{w.local, "TH-0002", map[string]string{"Name__c": "B", "Stage__c": "Closed"}},
		{w.local, "TH-0003", map[string]string{"Name__c": "C2", "Stage__c": "Active"}},
		{w.sf, "TH-0004", map[string]string{"Name__c": "D2", "Stage__c": "Closed"}},
		{w.local, "TH-0005", map[string]string{"Name__c": "E", "Stage__c": "Active", "Amount__c": "1.50"}},
		{w.local, "TH-0006", map[string]string{"Name__c": "F"}},
		{w.local, "TH-0007", map[string]string{"Name__c": "G", "Stage__c": "Active", "Amount__c": "2.50"}},
		{w.sf, "TH-0008", map[string]string{"Name__c": "H2", "Stage__c": "Active"}},
		{w.sf, "TH-0009", map[string]string{"Name__c": "I2", "Stage__c": "Active"}},
		{w.local, "TH-0009", map[string]string{"Name__c": "I3", "Stage__c": "Active"}},
	}
	for _, e := range edits {
		if err := e.s.set(e.key, e.kv); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.sync(reconcile.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"update salesforce TH-0001: Name__c (changed on local)",
		"update salesforce TH-0002: Stage__c (changed on local)",
		"update salesforce TH-0003: Name__c (changed on local)",
		"create salesforce TH-0005: new on local [Name__c Stage__c Amount__c]",
		"create salesforce TH-0006: new on local [Name__c Stage__c Amount__c]",
		"create salesforce TH-0007: new on local [Name__c Stage__c Amount__c]",
		"update local TH-0004: Name__c (changed on salesforce), Stage__c (changed on salesforce)",
		"update local TH-0008: Name__c (changed on salesforce)",
		"update local TH-0009: Name__c (conflict: salesforce_wins)",
	}
	p := res.Plan
	if got := p.Lines(); !slices.Equal(got, want) {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var got []string
	for l := range p.All() {
		got = append(got, l)
	}
	if !slices.Equal(got, want) || p.Len() != len(want) {
		t.Fatalf("All yields (Len %d):\n%s\nwant:\n%s", p.Len(), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for l := range p.All() {
		if l != want[0] {
			t.Fatalf("first line %q, want %q", l, want[0])
		}
		break // a consumer may stop early
	}
}

// planWrites returns p's writes as a slice, for a test to print or
// compare.
func planWrites(p *reconcile.Plan) []reconcile.Write {
	ws := make([]reconcile.Write, 0, p.NumWrites())
	for _, w := range p.AllWrites() {
		ws = append(ws, w)
	}
	return ws
}

// A plan keeps its writes compact, added in parts (as a large run plans
// them) and given back as they were added: side, op, key (any bytes, up to
// and past a Salesforce key's 255), reason and changes. Lists of changes
// equal in content are kept once, across parts; the writes handed in are
// not kept.
func TestPlanWritesAddedInParts(t *testing.T) {
	byLocal := []reconcile.Change{{Field: "Name__c", Reason: "changed on local"}, {Field: "Stage__c", Reason: "changed on local"}}
	created := []reconcile.Change{{Field: "Name__c"}, {Field: "Stage__c"}}
	long := strings.Repeat("k", 255)
	huge := strings.Repeat("ข", 30_000) // 90,000 bytes: past a compact key's length
	first := []reconcile.Write{
		{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "TH-0001", Changes: byLocal},
		{Side: reconcile.Local, Op: reconcile.OpCreate, Key: "ศรีสุข-0002", Reason: "new on salesforce", Changes: created},
		{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "TH-0003", Changes: byLocal},
		{Side: reconcile.SF, Op: reconcile.OpDelete, Key: long, Reason: "deleted on local"},
	}
	second := []reconcile.Write{
		{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "TH-0005", Changes: slices.Clone(byLocal)},
		{Side: reconcile.Local, Op: reconcile.OpUpdate, Key: "TH-0006", Changes: []reconcile.Change{{Field: "Stage__c", Reason: "conflict: salesforce_wins"}}},
		{Side: reconcile.Local, Op: reconcile.OpDelete, Key: huge, Reason: "deleted on salesforce"},
		{Side: reconcile.SF, Op: reconcile.OpCreate, Key: "TH-0008", Reason: "new on local", Changes: created[:1]},
	}
	want := slices.Concat(first, second)
	p := &reconcile.Plan{Job: "j", Notes: []reconcile.Note{{Kind: reconcile.NoteConflict, Key: "TH-0006", Field: "Stage__c", Detail: "salesforce_wins"}}}
	p.AddWrites(first...)
	p.AddWrites()
	p.AddWrites(second...)
	for i := range first {
		first[i] = reconcile.Write{} // the plan holds its own copy
	}

	if p.NumWrites() != len(want) {
		t.Fatalf("NumWrites %d, want %d", p.NumWrites(), len(want))
	}
	for i, w := range want {
		if got := p.WriteAt(i); !reflect.DeepEqual(got, w) {
			t.Errorf("WriteAt(%d) = %s (key %d bytes), want %s (key %d bytes)", i, got, len(got.Key), w, len(w.Key))
		}
	}
	if got := planWrites(p); !reflect.DeepEqual(got, want) {
		t.Errorf("AllWrites yields %v, want %v", got, want)
	}
	for i := range p.AllWrites() {
		if i != 0 {
			t.Fatalf("first index %d", i)
		}
		break // a consumer may stop early
	}
	a, b := p.WriteAt(0).Changes, p.WriteAt(4).Changes
	if &a[0] != &b[0] || &a[0] != &p.WriteAt(2).Changes[0] {
		t.Errorf("equal lists of changes are kept apart")
	}

	counts := map[reconcile.Op]int{}
	var lines []string
	for _, w := range want {
		counts[w.Op]++
		lines = append(lines, w.String())
	}
	lines = append(lines, p.Notes[0].String())
	for _, op := range []reconcile.Op{reconcile.OpCreate, reconcile.OpUpdate, reconcile.OpDelete} {
		if p.Count(op) != counts[op] {
			t.Errorf("Count(%s) = %d, want %d", op, p.Count(op), counts[op])
		}
	}
	if p.Len() != len(lines) || !slices.Equal(p.Lines(), lines) || !slices.Equal(slices.Collect(p.All()), lines) {
		t.Errorf("Len %d, Lines:\n%s\nwant:\n%s", p.Len(), strings.Join(p.Lines(), "\n"), strings.Join(lines, "\n"))
	}
	if p.String() != strings.Join(lines, "\n") {
		t.Errorf("String:\n%s", p)
	}
}

// BenchmarkPlanWrites adds a million writes to a plan in parts of 100,000
// (a large run's) and reports what the plan holds per write (B/write,
// keys of key-B/write included), measured on the heap.
func BenchmarkPlanWrites(b *testing.B) {
	const n, part = 1_000_000, 100_000
	keys := make([]string, n)
	keyBytes := 0
	for i := range keys {
		keys[i] = fmt.Sprintf("ngo-th-cm:TH-%07d", i)
		keyBytes += len(keys[i])
	}
	lists := [][]reconcile.Change{
		{{Field: "Name__c"}, {Field: "Stage__c"}, {Field: "Amount__c"}},
		{{Field: "Stage__c", Reason: "changed on local"}},
		{{Field: "Name__c", Reason: "changed on salesforce"}, {Field: "Stage__c", Reason: "changed on salesforce"}},
	}
	fill := func() *reconcile.Plan {
		p := &reconcile.Plan{Job: "bench"}
		ws := make([]reconcile.Write, 0, part)
		for i, k := range keys {
			w := reconcile.Write{Side: reconcile.Side(i % 2), Op: reconcile.OpUpdate, Key: k, Changes: lists[1+i%2]}
			if i%3 == 0 {
				w.Op, w.Reason, w.Changes = reconcile.OpCreate, "new on local", lists[0]
			}
			if ws = append(ws, w); len(ws) == part {
				p.AddWrites(ws...)
				ws = ws[:0]
			}
		}
		p.AddWrites(ws...)
		return p
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	p := fill()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if p.NumWrites() != n {
		b.Fatalf("%d writes", p.NumWrites())
	}
	held := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
	runtime.KeepAlive(p)
	for b.Loop() {
		fill()
	}
	b.ReportMetric(held/n, "B/write")
	b.ReportMetric(float64(keyBytes)/n, "key-B/write")
}
