package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/conformance"
	"github.com/casebridge/casebridge/connector/memory"
)

// Each broken connector wraps the memory connector and breaks one clause
// of the contract. TestBroken checks that the suite catches each: the
// clause it breaks fails, and the other clauses that fail are exactly the
// ones listed (those that observe the same bug along the way).

// --- schema ---

type unknownObjectUnwrapped struct{ *memory.Connector }

func (c unknownObjectUnwrapped) Describe(ctx context.Context, object string) (*connector.Object, error) {
	d, err := c.Connector.Describe(ctx, object)
	if err != nil {
		return nil, fmt.Errorf("no object %s: %v", object, err) // %v: the sentinel is lost
	}
	return d, nil
}

type readUnknownObjectUnwrapped struct{ *memory.Connector }

func (c readUnknownObjectUnwrapped) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	cur, err := c.Connector.Read(ctx, object, since, fn)
	if errors.Is(err, connector.ErrObjectNotFound) {
		return "", errors.New("table does not exist")
	}
	return cur, err
}

// describeWrongCase describes the key as case-sensitive while matching
// keys case-insensitively.
type describeWrongCase struct{ *memory.Connector }

func (c describeWrongCase) Describe(ctx context.Context, object string) (*connector.Object, error) {
	d, err := c.Connector.Describe(ctx, object)
	if err == nil {
		d.Fields = slices.Clone(d.Fields)
		d.KeyField().CaseSensitive = true
	}
	return d, err
}

// describeNoPicklist describes Tags as unrestricted while rejecting
// values outside the list.
type describeNoPicklist struct{ *memory.Connector }

func (c describeNoPicklist) Describe(ctx context.Context, object string) (*connector.Object, error) {
	d, err := c.Connector.Describe(ctx, object)
	if err == nil {
		d.Fields = slices.Clone(d.Fields)
		d.Field(conformance.FieldTags).Restricted = false
	}
	return d, err
}

// --- read_all ---

type readDropsOne struct{ *memory.Connector }

func (c readDropsOne) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	first := true
	return c.Connector.Read(ctx, object, since, func(r connector.Record) error {
		if first {
			first = false
			return nil
		}
		return fn(r)
	})
}

// readDropsNulls leaves null fields out of the records it reads, as the
// contract once allowed: a missing field now means unknown.
type readDropsNulls struct{ *memory.Connector }

func (c readDropsNulls) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.Connector.Read(ctx, object, since, func(r connector.Record) error {
		r = r.Clone()
		for k, v := range r.Fields {
			if v.IsNull() {
				delete(r.Fields, k)
			}
		}
		return fn(r)
	})
}

type readIgnoresFnError struct{ *memory.Connector }

func (c readIgnoresFnError) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.Connector.Read(ctx, object, since, func(r connector.Record) error {
		_ = fn(r)
		return nil
	})
}

// --- read_since ---

type ignoresCursor struct{ *memory.Connector }

func (c ignoresCursor) Read(ctx context.Context, object string, _ connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.Connector.Read(ctx, object, "", fn)
}

type sinceDropsDeletes struct{ *memory.Connector }

func (c sinceDropsDeletes) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.Connector.Read(ctx, object, since, func(r connector.Record) error {
		if r.Deleted {
			return nil
		}
		return fn(r)
	})
}

// trackerUndeclared tracks changes in Read but does not say so
// (no ChangeTracker), while the harness declares TracksChanges.
type trackerUndeclared struct{ noTracker }

func (c trackerUndeclared) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.m.Read(ctx, object, since, fn)
}

// nonTrackerCursor does not track changes but returns a cursor anyway.
type nonTrackerCursor struct{ noTracker }

func (c nonTrackerCursor) Read(ctx context.Context, object string, _ connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.m.Read(ctx, object, "", fn)
}

// readsDeleted passes deleted records (flagged) in a complete read.
type readsDeleted struct{ *memory.Connector }

func (c readsDeleted) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	if since == "" {
		since = "0" // the memory connector's cursor before the first change
	}
	return c.Connector.Read(ctx, object, since, fn)
}

// --- list_keys ---

// listKeysStale lists every key it ever wrote, deleted or not.
type listKeysStale struct {
	*memory.Connector
	seen map[string]string
}

func (c listKeysStale) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	for _, r := range res {
		if r.Err == nil {
			c.seen[connector.KeyID(r.Key, false)] = r.Key
		}
	}
	return res, err
}

func (c listKeysStale) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	if err := c.Connector.ListKeys(ctx, object, func(string) error { return nil }); err != nil {
		return err
	}
	for _, k := range c.seen {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// --- read_keys ---

type readKeysNoDedup struct{ *memory.Connector }

func (c readKeysNoDedup) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	for _, k := range keys {
		if err := c.Connector.ReadKeys(ctx, object, []string{k}, fn); err != nil {
			return err
		}
	}
	return nil
}

// readKeysExact matches keys byte for byte after trimming: case-sensitive
// for a case-insensitive key.
type readKeysExact struct{ *memory.Connector }

func (c readKeysExact) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	seen := map[string]bool{}
	for _, k := range keys {
		err := c.Connector.ReadKeys(ctx, object, []string{k}, func(r connector.Record) error {
			if r.Key != connector.NormalizeKey(k) || seen[r.Key] {
				return nil
			}
			seen[r.Key] = true
			return fn(r)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// readKeysNoNFC does not normalise the keys it is asked for: NFD keys
// match nothing.
type readKeysNoNFC struct{ *memory.Connector }

func (c readKeysNoNFC) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	var nfc []string
	for _, k := range keys {
		if norm.NFC.IsNormalString(k) {
			nfc = append(nfc, k)
		}
	}
	return c.Connector.ReadKeys(ctx, object, nfc, fn)
}

type readKeysPanics struct{ *memory.Connector }

func (c readKeysPanics) ReadKeys(context.Context, string, []string, func(connector.Record) error) error {
	panic("read_keys: nil map")
}

// --- upsert ---

type createdAlwaysTrue struct{ *memory.Connector }

func (c createdAlwaysTrue) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	for i := range res {
		if res[i].Err == nil {
			res[i].Created = true
		}
	}
	return res, err
}

type resultsReversed struct{ *memory.Connector }

func (c resultsReversed) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	slices.Reverse(res)
	return res, err
}

type keyNotEchoed struct{ *memory.Connector }

func (c keyNotEchoed) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	for i := range res {
		if res[i].Err == nil {
			res[i].Key = ""
		}
	}
	return res, err
}

// --- partial_update ---

// absentCleared replaces a record on update: fields left out become null.
type absentCleared struct{ *memory.Connector }

func (c absentCleared) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	d, err := c.Describe(ctx, object)
	if err != nil {
		return nil, err
	}
	full := make([]connector.Record, len(recs))
	for i, r := range recs {
		full[i] = r.Clone()
		for _, f := range d.Fields {
			if _, ok := full[i].Fields[f.Name]; !ok && f.Name != d.Key {
				full[i].Set(f.Name, connector.Null())
			}
		}
	}
	return c.Connector.Upsert(ctx, object, full)
}

// nullIgnored treats Null as "leave unchanged".
type nullIgnored struct{ *memory.Connector }

func (c nullIgnored) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	out := make([]connector.Record, len(recs))
	for i, r := range recs {
		out[i] = r.Clone()
		for name, v := range r.Fields {
			if v.IsNull() {
				delete(out[i].Fields, name)
			}
		}
	}
	return c.Connector.Upsert(ctx, object, out)
}

// --- idempotent ---

// amountAccumulates adds an update's Amount to the stored one.
type amountAccumulates struct{ *memory.Connector }

func (c amountAccumulates) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	out := make([]connector.Record, len(recs))
	for i, r := range recs {
		out[i] = r.Clone()
		add, ok := r.Get(conformance.FieldAmount).Number()
		if !ok {
			continue
		}
		_ = c.Connector.ReadKeys(ctx, object, []string{r.Key}, func(old connector.Record) error {
			if have, ok := old.Get(conformance.FieldAmount).Number(); ok {
				out[i].Set(conformance.FieldAmount, connector.Number(have.Add(add)))
			}
			return nil
		})
	}
	return c.Connector.Upsert(ctx, object, out)
}

// --- delete ---

type missingDeleteSucceeds struct{ *memory.Connector }

func (c missingDeleteSucceeds) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	res, err := c.Connector.Delete(ctx, object, keys)
	for i := range res {
		if errors.Is(res[i].Err, connector.ErrNotFound) {
			res[i].Err = nil
		}
	}
	return res, err
}

type notFoundWithoutSentinel struct{ *memory.Connector }

func (c notFoundWithoutSentinel) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	res, err := c.Connector.Delete(ctx, object, keys)
	for i := range res {
		if errors.Is(res[i].Err, connector.ErrNotFound) {
			res[i].Err = recordErr(res[i].Err, func(re *connector.RecordError) {
				re.Code, re.Err = "", errors.New("no such record")
			})
		}
	}
	return res, err
}

// --- batch_failure ---

type batchFailsWhole struct{ *memory.Connector }

func (c batchFailsWhole) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	for _, r := range res {
		if r.Err != nil {
			return nil, fmt.Errorf("batch rejected: %w", r.Err)
		}
	}
	return res, err
}

// errorLeaksValue puts the offending value in the error message, as a
// server message echoing the value would.
type errorLeaksValue struct{ *memory.Connector }

func (c errorLeaksValue) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	for i := range res {
		res[i].Err = recordErr(res[i].Err, func(re *connector.RecordError) {
			re.Err = fmt.Errorf("%w: bad value %s", re.Err, recs[i].Get(re.Field).Raw())
		})
	}
	return res, err
}

type errorWithoutKey struct{ *memory.Connector }

func (c errorWithoutKey) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	for i := range res {
		res[i].Err = recordErr(res[i].Err, func(re *connector.RecordError) { re.Key = "" })
	}
	return res, err
}

// plainError fails records with an error that is not a *RecordError.
type plainError struct{ *memory.Connector }

func (c plainError) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	for i := range res {
		if res[i].Err != nil {
			res[i].Err = errors.New(string(connector.CodeOf(res[i].Err)))
		}
	}
	return res, err
}

// --- atomic_record ---

// partialWrite writes the fields of a failing record that are valid.
type partialWrite struct{ *memory.Connector }

func (c partialWrite) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	res, err := c.Connector.Upsert(ctx, object, recs)
	for i := range res {
		var re *connector.RecordError
		if errors.As(res[i].Err, &re) && re.Field != "" {
			part := recs[i].Clone()
			delete(part.Fields, re.Field)
			_, _ = c.Connector.Upsert(ctx, object, []connector.Record{part})
		}
	}
	return res, err
}

// --- unicode ---

// bytesNotCharacters checks text length in bytes.
type bytesNotCharacters struct{ *memory.Connector }

func (c bytesNotCharacters) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	return rejectSome(ctx, c.Connector, object, recs, func(r connector.Record) bool {
		for _, v := range r.Fields {
			if s, ok := v.Text(); ok && len(s) > 80 {
				return true
			}
		}
		return false
	}, connector.CodeTooLong)
}

// readsNFD hands text values back decomposed.
type readsNFD struct{ *memory.Connector }

func (c readsNFD) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.Connector.Read(ctx, object, since, func(r connector.Record) error {
		for name, v := range r.Fields {
			if s, ok := v.Text(); ok && name != conformance.FieldKey {
				r.Fields[name] = connector.Text(norm.NFD.String(s))
			}
		}
		return fn(r)
	})
}

// --- key_variants ---

// matchesCase matches keys case-sensitively while describing the key as
// case-insensitive.
type matchesCase struct{ *memory.Connector }

func (c matchesCase) Describe(ctx context.Context, object string) (*connector.Object, error) {
	d, err := c.Connector.Describe(ctx, object)
	if err == nil {
		d.Fields = slices.Clone(d.Fields)
		d.KeyField().CaseSensitive = false
	}
	return d, err
}

// nfdDistinct keeps keys as given, byte for byte: an NFD key is another
// record than its NFC form. (It hides combining marks from the memory
// connector's NFC by moving them to the private use area.)
type nfdDistinct struct{ *memory.Connector }

func hide(k string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0x300 && r <= 0x36f {
			return 0xe000 + r - 0x300
		}
		return r
	}, k)
}

func unhide(k string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0xe000 && r <= 0xe06f {
			return 0x300 + r - 0xe000
		}
		return r
	}, k)
}

func unhideRec(r connector.Record) connector.Record {
	r.Key = unhide(r.Key)
	r.Fields[conformance.FieldKey] = connector.Text(r.Key)
	return r
}

func (c nfdDistinct) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	in := make([]connector.Record, len(recs))
	for i, r := range recs {
		in[i] = r
		in[i].Key = hide(r.Key)
	}
	res, err := c.Connector.Upsert(ctx, object, in)
	for i := range res {
		res[i].Key = unhide(res[i].Key)
	}
	return res, err
}

func (c nfdDistinct) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	in := make([]string, len(keys))
	for i, k := range keys {
		in[i] = hide(k)
	}
	res, err := c.Connector.Delete(ctx, object, in)
	for i := range res {
		res[i].Key = unhide(res[i].Key)
	}
	return res, err
}

func (c nfdDistinct) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.Connector.Read(ctx, object, since, func(r connector.Record) error { return fn(unhideRec(r)) })
}

func (c nfdDistinct) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	in := make([]string, len(keys))
	for i, k := range keys {
		in[i] = hide(k)
	}
	return c.Connector.ReadKeys(ctx, object, in, func(r connector.Record) error { return fn(unhideRec(r)) })
}

func (c nfdDistinct) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	return c.Connector.ListKeys(ctx, object, func(k string) error { return fn(unhide(k)) })
}

// --- empty_key ---

// emptyKeyAccepted stores records with an empty key under a placeholder.
type emptyKeyAccepted struct{ *memory.Connector }

func (c emptyKeyAccepted) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	in := make([]connector.Record, len(recs))
	for i, r := range recs {
		in[i] = r
		if connector.NormalizeKey(r.Key) == "" {
			in[i].Key = "(blank)"
		}
	}
	return c.Connector.Upsert(ctx, object, in)
}

// --- large_batch ---

// largeBatchTruncated writes the first 500 records of a batch and reports
// success for all of them.
type largeBatchTruncated struct{ *memory.Connector }

func (c largeBatchTruncated) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	if len(recs) <= 500 {
		return c.Connector.Upsert(ctx, object, recs)
	}
	res, err := c.Connector.Upsert(ctx, object, recs[:500])
	if err != nil {
		return nil, err
	}
	for _, r := range recs[500:] {
		res = append(res, connector.Result{Key: connector.NormalizeKey(r.Key), Created: true})
	}
	return res, nil
}

// --- cancel ---

type ignoresContext struct{ *memory.Connector }

func (c ignoresContext) Read(_ context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return c.Connector.Read(context.Background(), object, since, fn)
}
func (c ignoresContext) Upsert(_ context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	return c.Connector.Upsert(context.Background(), object, recs)
}
func (c ignoresContext) Delete(_ context.Context, object string, keys []string) ([]connector.Result, error) {
	return c.Connector.Delete(context.Background(), object, keys)
}
func (c ignoresContext) ListKeys(_ context.Context, object string, fn func(string) error) error {
	return c.Connector.ListKeys(context.Background(), object, fn)
}
func (c ignoresContext) ReadKeys(_ context.Context, object string, keys []string, fn func(connector.Record) error) error {
	return c.Connector.ReadKeys(context.Background(), object, keys, fn)
}

// cancelledWithResults returns results beside the error of a cancelled
// call.
type cancelledWithResults struct{ *memory.Connector }

func (c cancelledWithResults) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	if err := ctx.Err(); err != nil {
		return make([]connector.Result, len(recs)), err
	}
	return c.Connector.Upsert(ctx, object, recs)
}

// cancelledUnwrapped loses context.Canceled from a Read's error.
type cancelledUnwrapped struct{ *memory.Connector }

func (c cancelledUnwrapped) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	cur, err := c.Connector.Read(ctx, object, since, fn)
	if errors.Is(err, context.Canceled) {
		return "", errors.New("read aborted")
	}
	return cur, err
}

func mem() *memory.Connector { return newMem() }

type brokenCase struct {
	name string
	new  func() connector.Connector
	edit func(*conformance.Opt)
	// fail lists every clause that must fail; the first is the one the
	// connector breaks.
	fail []string
}

var brokenCases = []brokenCase{
	{"Describe of an unknown object loses ErrObjectNotFound", func() connector.Connector { return unknownObjectUnwrapped{mem()} }, nil,
		[]string{"schema"}},
	{"Read of an unknown object loses ErrObjectNotFound", func() connector.Connector { return readUnknownObjectUnwrapped{mem()} }, nil,
		[]string{"schema"}},
	{"Describe says case-sensitive key, Opt does not", func() connector.Connector { return describeWrongCase{mem()} }, nil,
		[]string{"schema"}},
	{"Describe drops the picklist restriction", func() connector.Connector { return describeNoPicklist{mem()} }, nil,
		[]string{"schema"}},
	{"stores everything as text without declaring TextOnly", func() connector.Connector { return newMem(allText) },
		func(o *conformance.Opt) { o.Invalid = nil },
		[]string{"schema"}},

	{"Read drops one record", func() connector.Connector { return readDropsOne{mem()} }, nil,
		[]string{"read_all", "read_since", "upsert", "partial_update", "idempotent", "delete", "batch_failure", "atomic_record", "unicode", "key_variants", "empty_key", "large_batch"}},
	{"Read leaves null fields out", func() connector.Connector { return readDropsNulls{mem()} }, nil,
		[]string{"read_all"}},
	{"Read goes on after fn fails", func() connector.Connector { return readIgnoresFnError{mem()} }, nil,
		[]string{"read_all"}},

	{"Read ignores the cursor", func() connector.Connector { return ignoresCursor{mem()} }, nil,
		[]string{"read_since"}},
	{"Read since a cursor leaves out deletes", func() connector.Connector { return sinceDropsDeletes{mem()} }, nil,
		[]string{"read_since"}},
	{"tracks changes without ChangeTracker", func() connector.Connector { return trackerUndeclared{noTracker{minimal{forward{mem()}}}} }, nil,
		[]string{"read_since"}},
	{"no change tracking but returns a cursor", func() connector.Connector { return nonTrackerCursor{noTracker{minimal{forward{mem()}}}} },
		func(o *conformance.Opt) { o.TracksChanges = false },
		[]string{"read_since"}},
	{"Opt declares change tracking the connector lacks", func() connector.Connector { return noTracker{minimal{forward{mem()}}} }, nil,
		[]string{"read_since"}},

	{"ListKeys lists deleted keys", func() connector.Connector { return listKeysStale{mem(), map[string]string{}} }, nil,
		[]string{"list_keys", "delete"}},

	{"ReadKeys does not de-duplicate", func() connector.Connector { return readKeysNoDedup{mem()} }, nil,
		[]string{"read_keys"}},
	{"ReadKeys matches case-sensitively", func() connector.Connector { return readKeysExact{mem()} }, nil,
		[]string{"read_keys"}},
	{"ReadKeys does not match NFD keys", func() connector.Connector { return readKeysNoNFC{mem()} }, nil,
		[]string{"read_keys"}},
	{"ReadKeys panics", func() connector.Connector { return readKeysPanics{mem()} }, nil,
		[]string{"read_keys", "schema", "delete", "cancel"}},

	{"Created always true", func() connector.Connector { return createdAlwaysTrue{mem()} }, nil,
		[]string{"upsert", "idempotent", "key_variants", "large_batch"}},
	{"results in reverse order", func() connector.Connector { return resultsReversed{mem()} }, nil,
		[]string{"upsert", "idempotent", "batch_failure", "empty_key", "unicode", "large_batch"}},
	{"Result.Key not echoed", func() connector.Connector { return keyNotEchoed{mem()} }, nil,
		[]string{"upsert", "idempotent", "delete", "batch_failure", "unicode", "key_variants", "empty_key", "large_batch"}},

	{"absent fields cleared on update", func() connector.Connector { return absentCleared{mem()} }, nil,
		[]string{"partial_update"}},
	{"Null leaves a field unchanged", func() connector.Connector { return nullIgnored{mem()} }, nil,
		[]string{"partial_update"}},

	{"an update adds to Amount", func() connector.Connector { return amountAccumulates{mem()} }, nil,
		[]string{"idempotent", "upsert", "read_since"}},

	{"complete Read passes deleted records", func() connector.Connector { return readsDeleted{mem()} }, nil,
		[]string{"delete", "key_variants", "large_batch"}},
	{"Delete of a missing key succeeds", func() connector.Connector { return missingDeleteSucceeds{mem()} }, nil,
		[]string{"delete"}},
	{"Delete of a missing key loses ErrNotFound", func() connector.Connector { return notFoundWithoutSentinel{mem()} }, nil,
		[]string{"delete"}},

	{"one bad record fails the batch", func() connector.Connector { return batchFailsWhole{mem()} }, nil,
		[]string{"batch_failure", "atomic_record", "empty_key"}},
	{"error message leaks the value", func() connector.Connector { return errorLeaksValue{mem()} }, nil,
		[]string{"batch_failure"}},
	{"RecordError without the key", func() connector.Connector { return errorWithoutKey{mem()} }, nil,
		[]string{"batch_failure", "atomic_record"}},
	{"per-record error is not a RecordError", func() connector.Connector { return plainError{mem()} }, nil,
		[]string{"batch_failure", "atomic_record", "empty_key"}},

	{"failed record written in part", func() connector.Connector { return partialWrite{mem()} }, nil,
		[]string{"atomic_record", "batch_failure"}},

	{"length counted in bytes", func() connector.Connector { return bytesNotCharacters{mem()} }, nil,
		[]string{"unicode"}},
	{"text read back as NFD", func() connector.Connector { return readsNFD{mem()} }, nil,
		[]string{"unicode", "upsert"}},

	{"keys matched case-sensitively, described case-insensitive", func() connector.Connector { return matchesCase{newMem(caseSensitiveKey)} }, nil,
		[]string{"key_variants", "read_keys"}},
	{"NFD keys are other records", func() connector.Connector { return nfdDistinct{mem()} }, nil,
		[]string{"key_variants", "read_keys", "unicode"}},

	{"empty key accepted", func() connector.Connector { return emptyKeyAccepted{mem()} }, nil,
		[]string{"empty_key"}},

	{"large batch truncated", func() connector.Connector { return largeBatchTruncated{mem()} }, nil,
		[]string{"large_batch"}},

	{"context ignored", func() connector.Connector { return ignoresContext{mem()} }, nil,
		[]string{"cancel"}},
	{"cancelled Upsert returns results", func() connector.Connector { return cancelledWithResults{mem()} }, nil,
		[]string{"cancel"}},
	{"cancelled Read loses context.Canceled", func() connector.Connector { return cancelledUnwrapped{mem()} }, nil,
		[]string{"cancel"}},
}

func TestBroken(t *testing.T) {
	for _, tc := range brokenCases {
		t.Run(tc.name, func(t *testing.T) {
			o := opt(tc.new)
			if tc.edit != nil {
				tc.edit(&o)
			}
			rep := conformance.Check(t, o)
			if s := outcomes(rep)[tc.fail[0]]; s != conformance.Failed {
				t.Errorf("clause %s: %s, want FAIL", tc.fail[0], s)
			}
			var skip []string
			if o.Invalid == nil {
				skip = []string{"batch_failure", "atomic_record"}
			}
			expectOnly(t, rep, tc.fail, skip)
		})
	}
}

// TestEveryClauseHasABrokenConnector checks that no clause is without a
// connector that breaks it.
func TestEveryClauseHasABrokenConnector(t *testing.T) {
	for _, c := range conformance.Clauses() {
		if !slices.ContainsFunc(brokenCases, func(b brokenCase) bool { return b.fail[0] == c }) {
			t.Errorf("clause %s has no broken connector in brokenCases", c)
		}
	}
}
