package sftest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// snapshotFormat names the layout SaveRecords writes.
const snapshotFormat = "casebridge.fakeorg/v1"

type snapshot struct {
	Format      string           `json:"format"`
	Counters    map[string]int   `json:"id_counters"`
	AutoNumbers map[string]int   `json:"auto_numbers,omitempty"`
	Records     []snapshotRecord `json:"records"`
}

type snapshotRecord struct {
	Type   string                   `json:"type"`
	ID     string                   `json:"id"`
	Fields map[string]snapshotValue `json:"fields"`
}

// snapshotValue is a stored value with its kind, so that a number, a date
// and a datetime come back as they were stored, not as text.
type snapshotValue struct {
	Kind  string `json:"k"` // text, number, bool, date, datetime
	Value string `json:"v"`
}

// SaveRecords writes every record of the org as stored — deleted ones
// too, with their ids, owners, timestamps and SystemModstamp — and the id
// and auto-number counters, so that LoadRecords brings the org back as it
// was: `casebridge fakeorg --data` keeps a fake org's records across
// restarts, and a client's state (ids, cursors) stays true for it.
func (o *Org) SaveRecords(w io.Writer) error {
	o.mu.Lock()
	snap := snapshot{Format: snapshotFormat, Counters: map[string]int{}, AutoNumbers: map[string]int{}}
	for k, v := range o.counters {
		snap.Counters[k] = v
	}
	for _, s := range o.order {
		if s.autoNumber != 0 {
			snap.AutoNumbers[s.Name] = s.autoNumber
		}
		for _, r := range o.records[s] {
			sr := snapshotRecord{Type: s.Name, ID: r.id, Fields: map[string]snapshotValue{}}
			for name, v := range r.f {
				var sv snapshotValue
				switch x := v.(type) {
				case nil:
					continue
				case string:
					sv = snapshotValue{"text", x}
				case decimal.Decimal:
					sv = snapshotValue{"number", x.String()}
				case bool:
					sv = snapshotValue{"bool", fmt.Sprint(x)}
				case dateVal:
					sv = snapshotValue{"date", string(x)}
				case time.Time:
					sv = snapshotValue{"datetime", x.UTC().Format(time.RFC3339Nano)}
				default:
					o.mu.Unlock()
					return fmt.Errorf("sftest: %s %s.%s: a stored %T cannot be saved", s.Name, r.id, name, v)
				}
				sr.Fields[name] = sv
			}
			snap.Records = append(snap.Records, sr)
		}
	}
	o.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(snap)
}

// LoadRecords replaces every record of the org (users included) with
// those SaveRecords wrote. The org's schema must hold their objects and
// fields; its logins and connected apps stay as its Options set them.
func (o *Org) LoadRecords(r io.Reader) error {
	var snap snapshot
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&snap); err != nil {
		return fmt.Errorf("sftest: records file: %w", err)
	}
	if snap.Format != snapshotFormat {
		return fmt.Errorf("sftest: records file: format %q, want %q", snap.Format, snapshotFormat)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	records := map[*sobject][]*record{}
	byID := map[string]*record{}
	for i, sr := range snap.Records {
		s := o.object(sr.Type)
		if s == nil {
			return fmt.Errorf("sftest: records file: record %d (%s): the org has no object %s", i+1, sr.ID, sr.Type)
		}
		if sr.ID == "" || byID[sr.ID] != nil {
			return fmt.Errorf("sftest: records file: record %d (%s): missing or repeated id", i+1, sr.Type)
		}
		rec := &record{obj: s, id: sr.ID, f: map[string]any{}}
		names := make([]string, 0, len(sr.Fields))
		for name := range sr.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			f := s.field(name)
			if f == nil {
				return fmt.Errorf("sftest: records file: %s %s: the org has no field %s.%s", sr.Type, sr.ID, sr.Type, name)
			}
			v, err := sr.Fields[name].value()
			if err != nil {
				return fmt.Errorf("sftest: records file: %s %s.%s: %w", sr.Type, sr.ID, name, err)
			}
			rec.f[f.Name] = v
		}
		records[s] = append(records[s], rec)
		byID[rec.id] = rec
	}
	o.records, o.byID, o.uniq = records, byID, map[*fieldDef]map[string][]*record{}
	for _, s := range o.order {
		for _, rec := range o.records[s] {
			o.index(rec)
		}
		s.autoNumber = snap.AutoNumbers[s.Name]
	}
	o.counters = map[string]int{}
	for k, v := range snap.Counters {
		o.counters[k] = v
	}
	return nil
}

func (v snapshotValue) value() (any, error) {
	switch v.Kind {
	case "text":
		return v.Value, nil
	case "number":
		return decimal.NewFromString(v.Value)
	case "bool":
		switch v.Value {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case "date":
		if d, ok := parseDate(v.Value); ok {
			return d, nil
		}
	case "datetime":
		t, err := time.Parse(time.RFC3339Nano, v.Value)
		return t.UTC(), err
	default:
		return nil, fmt.Errorf("unknown kind %q (text, number, bool, date, datetime)", v.Kind)
	}
	return nil, fmt.Errorf("not a %s", v.Kind)
}
