package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// Objects keyed by their parent. Some child objects have no External ID
// field at all (a case note, a visit log: an org's admin never added one),
// so nothing in the record can hold casebridge's key and nothing can be
// upserted by it. Such an object is keyed by its parent
// (Options.ParentKeys, from a child's key: by_parent): a record's key is
// derived from Salesforce data, the parent's key read through the parent
// relationship (vcms__Case__r.vcms__External_Key__c), the child's key
// suffix and, for a family of records, ":" and the each field's value. The
// connector describes the object with a key field of its own making,
// ByParent (an External ID no write sets), so the rest of casebridge
// keys, compares and routes these records like any other.
//
// Reading needs nothing stored: a read selects the relationship path and
// derives each record's key; a read by keys filters on the parents' keys
// (WHERE vcms__Case__r.vcms__External_Key__c IN (...)). Writing goes by
// Id: the Id of a key is taken from the run's IDPairs (the state's
// pairing, by keyed hash: Ids, never values), else found with one query
// per batch of keys; known records are updated by Id (Collections PATCH),
// the others created (Collections POST, the parent set by reference), and
// each created Id is remembered. A create is never sent twice for one
// key: a run killed after Salesforce created a record and before its Id
// was remembered finds it next time by its derived key and updates it.
// A second record deriving a key the pairs give another Id (a second note
// a person added by hand under a synced case) is left alone: the paired
// record stays the key's and syncs on, and the other is reported once
// (WithNotes). Only records deriving a key nobody paired are ambiguous:
// neither is written, the key fails with DUPLICATE_VALUE naming their
// Ids, and the rest of the call goes on.

// ByParent is the key field of an object keyed by its parent, as the
// connector describes it: not a field of the org, it holds each record's
// derived key. It is the value config gives (children[].key: by_parent).
const ByParent = "by_parent"

// ParentKey is how the records of an object keyed by its parent derive
// their keys (config.ParentKey).
type ParentKey struct {
	// ParentField is the child's reference field to its parent.
	ParentField string
	// ParentKey is the parent object's External ID key field.
	ParentKey string
	// Suffix follows the parent's key (":note").
	Suffix string
	// Each, when set, is the field whose value ends the key after ":".
	Each string
}

// IDPairs remembers the Salesforce Id of each key of the objects keyed by
// their parent, across runs. Keys are given in their comparison form
// (connector.Object.KeyID); an implementation stores them hashed, never as
// text. Errors are reported and otherwise ignored: the Ids are found again
// by query.
type IDPairs interface {
	// Lookup returns the Ids known for keys, by key.
	Lookup(ctx context.Context, object string, keys []string) (map[string]string, error)
	// Remember stores key -> Id pairs.
	Remember(ctx context.Context, object string, pairs map[string]string) error
	// Forget drops the pairs of these Ids (deleted records).
	Forget(ctx context.Context, object string, ids []string) error
	// Unpair drops the pairs of each Id of keep with any key but those
	// keep lists for it. A record has one key: one read, or found,
	// deriving another key than the one it was paired with was moved
	// under another parent, and its old key must not write it (an edit
	// of the old parent's row would overwrite, and its delete delete,
	// the new parent's record).
	Unpair(ctx context.Context, object string, keep map[string][]string) error
}

type idPairsKey struct{}

// WithIDPairs returns a context whose writes of objects keyed by their
// parent find and remember Ids in p.
func WithIDPairs(ctx context.Context, p IDPairs) context.Context {
	return context.WithValue(ctx, idPairsKey{}, p)
}

// idPairsOf returns the context's IDPairs, or one that knows nothing.
func idPairsOf(ctx context.Context) IDPairs {
	if p, ok := ctx.Value(idPairsKey{}).(IDPairs); ok && p != nil {
		return p
	}
	return noPairs{}
}

type noPairs struct{}

func (noPairs) Lookup(context.Context, string, []string) (map[string]string, error) { return nil, nil }
func (noPairs) Remember(context.Context, string, map[string]string) error           { return nil }
func (noPairs) Forget(context.Context, string, []string) error                      { return nil }
func (noPairs) Unpair(context.Context, string, map[string][]string) error           { return nil }

// pair remembers key -> Id pairs (by KeyID) found in Salesforce: each Id
// first loses any other key it was paired with (the record moved under
// another parent), but not its left-alone marker.
func pair(ctx context.Context, pairs IDPairs, object string, learned map[string]string) error {
	keep := make(map[string][]string, len(learned))
	for kid, id := range learned {
		keep[id] = append(keep[id], kid, leftAloneMarker(id))
	}
	if err := pairs.Unpair(ctx, object, keep); err != nil {
		return err
	}
	return pairs.Remember(ctx, object, learned)
}

// parentKeyOf returns the ParentKey configured for object.
func (c *Connector) parentKeyOf(object string) (ParentKey, bool) {
	if pk, ok := c.opts.ParentKeys[object]; ok {
		return pk, true
	}
	for name, pk := range c.opts.ParentKeys {
		if strings.EqualFold(name, object) {
			return pk, true
		}
	}
	return ParentKey{}, false
}

// CreatesIdempotent reports whether a create of object sent twice leaves
// one record (reconcile.CreateIdempotence): true for an object upserted by
// its External ID, false for one keyed by its parent, whose creates are
// POSTs (Collections create): a create sent by a replica that lost the
// job's lease may duplicate the new holder's, so the engine locks the job
// out rather than hand it over.
func (c *Connector) CreatesIdempotent(object string) bool {
	_, byParent := c.parentKeyOf(object)
	return !byParent
}

// addParentKey gives the description of an object keyed by its parent its
// key field, ByParent.
func addParentKey(o *connector.Object) {
	o.Fields = append(o.Fields, connector.Field{
		Name: ByParent, Label: "Key (by parent)", Type: connector.TypeString,
		Nillable: true, ExternalID: true, Unique: true, Calculated: true,
	})
	o.Key = ByParent
}

// keyPath is how an object keyed by its parent derives its keys, as the
// org names the fields.
type keyPath struct {
	ref    string // the reference field (vcms__Case__c)
	parent string // the parent relationship's path to its key: vcms__Case__r.vcms__External_Key__c
	rel    string // the relationship (vcms__Case__r)
	pkey   string // the parent's key field
	suffix string
	each   string // the each field, or ""
}

// pathEntry is a cached keyPath, or why it cannot be had.
type pathEntry struct {
	kp  *keyPath
	err error
}

// ensurePath works out, once per description, the key path of an object
// keyed by its parent (describing the parent object). A failure is kept
// and returned by every read or write of the object (pathOf), not by
// describe, so that validation reports the configuration's own errors.
func (c *Connector) ensurePath(ctx context.Context, o *connector.Object) {
	if o.Key != ByParent {
		return
	}
	c.mu.Lock()
	_, ok := c.paths[o]
	c.mu.Unlock()
	if ok {
		return
	}
	kp, err := c.makePath(ctx, o)
	if err != nil && mustStop(ctx, err) {
		return // not kept: asked again
	}
	c.mu.Lock()
	if c.paths == nil {
		c.paths = map[*connector.Object]pathEntry{}
	}
	c.paths[o] = pathEntry{kp, err}
	c.mu.Unlock()
}

func (c *Connector) makePath(ctx context.Context, o *connector.Object) (*keyPath, error) {
	pk, _ := c.parentKeyOf(o.Name)
	ref := o.Field(pk.ParentField)
	if ref == nil || ref.Type != connector.TypeReference || ref.Relationship == "" || len(ref.ReferenceTo) != 1 {
		return nil, fmt.Errorf("%s %s is keyed by its parent through %s, which is not a reference field to one object", c.name, o.Name, pk.ParentField)
	}
	parent, err := c.describe(ctx, ref.ReferenceTo[0])
	if err != nil {
		return nil, err
	}
	pf := parent.Field(pk.ParentKey)
	if pf == nil || !pf.ExternalID {
		return nil, fmt.Errorf("%s %s is keyed by its parent's key %s, which is not an External ID field of %s", c.name, o.Name, pk.ParentKey, parent.Name)
	}
	kp := &keyPath{ref: ref.Name, rel: ref.Relationship, pkey: pf.Name, suffix: pk.Suffix}
	kp.parent = kp.rel + "." + kp.pkey
	if pk.Each != "" {
		f := o.Field(pk.Each)
		if f == nil {
			return nil, fmt.Errorf("%s %s has no field %s (the each field of its key)", c.name, o.Name, pk.Each)
		}
		kp.each = f.Name
	}
	return kp, nil
}

// pathOf returns the key path of o: nil for an object keyed by a field of
// its own.
func (c *Connector) pathOf(o *connector.Object) (*keyPath, error) {
	if o.Key != ByParent {
		return nil, nil
	}
	c.mu.Lock()
	e, ok := c.paths[o]
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s %s: the key path of an object keyed by its parent is not known (describe failed)", c.name, o.Name)
	}
	return e.kp, e.err
}

// selects returns the fields a query selects to derive a record's key.
func (kp *keyPath) selects() []string {
	if kp.each != "" {
		return []string{kp.parent, kp.each}
	}
	return []string{kp.parent}
}

// keyOf derives the key of a query record: "" when its parent has no key
// (or, with each, its each field no value). A Bulk API CSV names the path
// as a column; a REST query nests the parent's fields under the
// relationship.
func (kp *keyPath) keyOf(raw map[string]any) string {
	var pk string
	switch p := raw[kp.rel].(type) {
	case map[string]any:
		pk, _ = p[kp.pkey].(string)
	default:
		pk, _ = raw[kp.parent].(string)
	}
	if pk = connector.NormalizeKey(pk); pk == "" {
		return ""
	}
	key := pk + kp.suffix
	if kp.each != "" {
		v, _ := raw[kp.each].(string)
		if v == "" {
			return ""
		}
		key += ":" + v
	}
	return key
}

// parentKeys returns every parent key that key may derive from: the text
// before the suffix (with each, before any occurrence of suffix+":", as a
// parent's key or a value may hold the suffix too). A query for all of
// them, whose records are then matched by their derived keys, finds the
// key's records whatever the split.
func (kp *keyPath) parentKeys(key string) []string {
	if kp.each == "" {
		if p, ok := strings.CutSuffix(key, kp.suffix); ok && p != "" {
			return []string{p}
		}
		return nil
	}
	var out []string
	sep := kp.suffix + ":"
	for i := 0; ; {
		j := strings.Index(key[i:], sep)
		if j < 0 {
			return out
		}
		if p := key[:i+j]; p != "" {
			out = append(out, p)
		}
		i += j + 1
	}
}

// rawKey returns the key of a query record of o: its key field's value,
// or for an object keyed by its parent the derived key.
func (c *Connector) rawKey(o *connector.Object, raw map[string]any) string {
	if kp, _ := c.pathOf(o); kp != nil {
		return kp.keyOf(raw)
	}
	k, _ := raw[o.Key].(string)
	return k
}

// keySelects returns the fields a key-only query of o selects after Id.
func (c *Connector) keySelects(o *connector.Object) []string {
	if kp, _ := c.pathOf(o); kp != nil {
		return kp.selects()
	}
	if o.Key == "Id" {
		return nil
	}
	return []string{o.Key}
}

// findByParent returns the Ids of the records of o deriving each of keys
// (by KeyID), with one query per chunk of parent keys.
func (c *Connector) findByParent(ctx context.Context, op string, o *connector.Object, kp *keyPath, keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(keys) == 0 {
		return out, nil
	}
	fields := append([]string{"Id"}, kp.selects()...)
	err := c.byKeys(ctx, op, o, fields, keys, "", func(raw map[string]any) error {
		id, _ := raw["Id"].(string)
		if id != "" {
			kid := o.KeyID(kp.keyOf(raw))
			out[kid] = append(out[kid], id)
		}
		return nil
	})
	return out, err
}

// goneCodes are Salesforce's answers to a write by an Id whose record is
// no longer there: its pairing is forgotten and the key found again.
var goneCodes = map[string]bool{"ENTITY_IS_DELETED": true, "INVALID_CROSS_REFERENCE_KEY": true, "NOT_FOUND": true}

// idsOf resolves keys of o to Ids: the run's pairs first, then one query
// per chunk for the rest (what it finds is remembered). A key with two
// records gets an ambiguity error in errs; a key with none is absent from
// both maps.
func (c *Connector) idsOf(ctx context.Context, op string, o *connector.Object, kp *keyPath, keys []string, usePairs bool) (ids map[string]string, errs map[string]*connector.RecordError, err error) {
	pairs := idPairsOf(ctx)
	ids, errs = map[string]string{}, map[string]*connector.RecordError{}
	kids := make([]string, len(keys))
	for i, k := range keys {
		kids[i] = o.KeyID(k)
	}
	if usePairs {
		known, perr := pairs.Lookup(ctx, o.Name, kids)
		if perr != nil && mustStop(ctx, perr) {
			return nil, nil, perr
		}
		for _, kid := range kids {
			if id := known[kid]; isSalesforceID(id) {
				ids[kid] = id
			}
		}
	}
	var todo []string
	for i, k := range keys {
		if _, ok := ids[kids[i]]; !ok {
			todo = append(todo, k)
		}
	}
	found, err := c.findByParent(ctx, op, o, kp, todo)
	if err != nil {
		return nil, nil, err
	}
	learned := map[string]string{}
	for _, k := range todo {
		kid := o.KeyID(k)
		switch got := found[kid]; len(got) {
		case 0:
		case 1:
			ids[kid], learned[kid] = got[0], got[0]
		default:
			errs[kid] = c.ambiguous(op, o, k, got)
		}
	}
	if len(learned) > 0 {
		if perr := pair(ctx, pairs, o.Name, learned); perr != nil && mustStop(ctx, perr) {
			return nil, nil, perr
		}
	}
	return ids, errs, nil
}

// upsertByParent is Upsert for an object keyed by its parent: update by
// Id where the key's record is known or found, create otherwise.
func (c *Connector) upsertByParent(ctx context.Context, o *connector.Object, kp *keyPath, records []connector.Record) ([]connector.Result, error) {
	results := make([]connector.Result, len(records))
	type pending struct {
		idx  int
		key  string
		body map[string]any
	}
	// A key given twice waits for a later round, as in Upsert: the second
	// write then finds the first's record.
	var rounds [][]pending
	roundOf := map[string]int{}
	suffixed := func(key string) error {
		if len(kp.parentKeys(key)) == 0 {
			return connector.NewRecordError("upsert", c.name, o.Name, key, o.Key, connector.CodeInvalidKey, connector.Permanent,
				&connector.ValueError{Code: connector.CodeInvalidKey, Detail: "the key does not end with the child's suffix " + kp.suffix})
		}
		return nil
	}
	for i, r := range records {
		key, body, recErr, stop := c.upsertPrep(ctx, o, r, suffixed)
		results[i].Key, results[i].Err = key, recErr
		if stop != nil {
			return nil, stop
		}
		if recErr != nil {
			continue
		}
		rounds = inRound(rounds, roundOf, o.KeyID(key), pending{idx: i, key: key, body: body})
	}
	var stop error
	for _, round := range rounds {
		if stop != nil {
			items := make([]writeItem, len(round))
			for j, p := range round {
				items[j] = writeItem{idx: p.idx, key: p.key}
			}
			c.notSent("upsert", o, items, results, stop)
			continue
		}
		keys := make([]string, len(round))
		for j, p := range round {
			keys[j] = p.key
		}
		ids, amb, err := c.idsOf(ctx, "upsert", o, kp, keys, true)
		if err != nil {
			if !stops(ctx, err) {
				return nil, err
			}
			stop = err
			items := make([]writeItem, len(round))
			for j, p := range round {
				items[j] = writeItem{idx: p.idx, key: p.key}
			}
			c.notSent("upsert", o, items, results, stop)
			continue
		}
		var updates, creates []writeItem
		bodies := map[int]map[string]any{} // the create bodies, by index
		for _, p := range round {
			bodies[p.idx] = p.body
			kid := o.KeyID(p.key)
			if e := amb[kid]; e != nil {
				results[p.idx].Err = e
				continue
			}
			if id, ok := ids[kid]; ok {
				updates = append(updates, writeItem{idx: p.idx, key: p.key, id: id, body: updateBody(p.body, kp, id)})
			} else {
				creates = append(creates, writeItem{idx: p.idx, key: p.key, body: p.body})
			}
		}
		// Records whose Id Salesforce no longer has: their pairing is
		// forgotten and their key found again, once.
		gone, err := c.updateByID(ctx, o, updates, results)
		if err == nil && len(gone) > 0 {
			var again []writeItem
			again, err = c.refind(ctx, o, kp, gone, results, bodies)
			creates = append(creates, again...)
		}
		if err == nil {
			err = c.createByParent(ctx, o, creates, results)
		}
		if err != nil {
			if !stops(ctx, err) {
				return nil, err
			}
			stop = err
		}
	}
	if stop != nil {
		return results, stop
	}
	return results, nil
}

// refind handles records whose update found their Id gone: it forgets
// the Ids, looks their keys up again by query (not in the pairs), updates
// those found under another Id and returns the rest to be created.
func (c *Connector) refind(ctx context.Context, o *connector.Object, kp *keyPath, gone []writeItem, results []connector.Result, bodies map[int]map[string]any) ([]writeItem, error) {
	var goneIDs, keys []string
	for _, g := range gone {
		goneIDs = append(goneIDs, g.id)
		keys = append(keys, g.key)
	}
	if err := idPairsOf(ctx).Forget(ctx, o.Name, goneIDs); err != nil && mustStop(ctx, err) {
		return nil, err
	}
	ids, amb, err := c.idsOf(ctx, "upsert", o, kp, keys, false)
	if err != nil {
		return nil, err
	}
	var updates, creates []writeItem
	for _, g := range gone {
		kid := o.KeyID(g.key)
		switch id, ok := ids[kid]; {
		case amb[kid] != nil:
			results[g.idx].Err = amb[kid]
		case ok && id != g.id:
			updates = append(updates, writeItem{idx: g.idx, key: g.key, id: id, body: updateBody(bodies[g.idx], kp, id)})
		case ok: // the same Id again: its error stands
		default:
			results[g.idx].Err = nil
			creates = append(creates, writeItem{idx: g.idx, key: g.key, body: bodies[g.idx]})
		}
	}
	if _, err := c.updateByID(ctx, o, updates, results); err != nil {
		return nil, err
	}
	return creates, nil
}

// updateBody is the body of an update by Id: the create body without the
// parent (the key names it: the record keeps the parent it has, and a
// master-detail field is not updateable unless reparenting is allowed).
func updateBody(create map[string]any, kp *keyPath, id string) map[string]any {
	body := make(map[string]any, len(create))
	for k, v := range create {
		if strings.EqualFold(k, kp.rel) || strings.EqualFold(k, kp.ref) {
			continue
		}
		body[k] = v
	}
	body["Id"] = id
	return body
}

// updateByID sends Collections updates (PATCH /composite/sobjects) and
// returns the items whose Id Salesforce no longer has.
func (c *Connector) updateByID(ctx context.Context, o *connector.Object, items []writeItem, results []connector.Result) ([]writeItem, error) {
	if len(items) == 0 {
		return nil, nil
	}
	path := c.cl.dataPath("composite", "sobjects")
	err := c.runBatches(ctx, "update", o, results, chunk(items, c.opts.BatchSize), func(ctx context.Context, batch []writeItem) error {
		return c.sendBatch(ctx, "update", o, batch, results,
			func(pending []writeItem, res *[]api.SaveResult) error {
				req := api.CollectionRequest{AllOrNone: false, Records: make([]map[string]any, len(pending))}
				for i, it := range pending {
					req.Records[i] = it.body
				}
				// Setting fields by Id is idempotent: safe to re-send.
				return c.cl.do(ctx, request{op: "update", object: o.Name, method: http.MethodPatch, path: path, body: req, retrySafe: true}, res)
			},
			func(it writeItem, _ api.SaveResult) connector.Result {
				return connector.Result{Key: it.key, ID: it.id}
			})
	})
	var gone []writeItem
	for _, it := range items {
		if r := results[it.idx]; r.Err != nil && goneCodes[string(connector.CodeOf(r.Err))] {
			gone = append(gone, it)
		}
	}
	if err != nil && !stops(ctx, err) {
		return nil, err
	}
	return gone, err
}

// createByParent sends Collections creates (POST /composite/sobjects),
// never re-sent by the client (a create is not idempotent), and remembers
// each created Id as soon as its batch answers.
func (c *Connector) createByParent(ctx context.Context, o *connector.Object, items []writeItem, results []connector.Result) error {
	if len(items) == 0 {
		return nil
	}
	path := c.cl.dataPath("composite", "sobjects")
	pairs := idPairsOf(ctx)
	return c.runBatches(ctx, "create", o, results, chunk(items, c.opts.BatchSize), func(ctx context.Context, batch []writeItem) error {
		err := c.sendBatch(ctx, "create", o, batch, results,
			func(pending []writeItem, res *[]api.SaveResult) error {
				req := api.CollectionRequest{AllOrNone: false, Records: make([]map[string]any, len(pending))}
				for i, it := range pending {
					req.Records[i] = it.body
				}
				// Not retrySafe: a create whose answer was lost may have
				// happened; the next run finds it by its key.
				return c.cl.do(ctx, request{op: "create", object: o.Name, method: http.MethodPost, path: path, body: req}, res)
			},
			func(it writeItem, sr api.SaveResult) connector.Result {
				return connector.Result{Key: it.key, ID: sr.ID, Created: sr.Success}
			})
		created := map[string]string{}
		for _, it := range batch {
			if r := results[it.idx]; r.Err == nil && r.Created && isSalesforceID(r.ID) {
				created[o.KeyID(it.key)] = r.ID
			}
		}
		if len(created) > 0 {
			// Remembered even when the run is stopping: the records exist.
			if perr := pairs.Remember(context.WithoutCancel(ctx), o.Name, created); perr != nil && err == nil && mustStop(ctx, perr) {
				err = perr
			}
		}
		return err
	})
}

// deleteByParent is Delete for an object keyed by its parent: keys to Ids
// (pairs, then a query), then a Collections delete by Id; the pairs of
// deleted records are forgotten.
func (c *Connector) deleteByParent(ctx context.Context, o *connector.Object, kp *keyPath, keys []string) ([]connector.Result, error) {
	results := make([]connector.Result, len(keys))
	var uniq []string
	seen := map[string]bool{}
	for i, k := range keys {
		key := connector.NormalizeKey(k)
		results[i].Key = key
		if key == "" || len(kp.parentKeys(key)) == 0 {
			results[i].Err = connector.NewRecordError("delete", c.name, o.Name, key, "", connector.CodeNotFound, connector.Permanent, connector.ErrNotFound)
			continue
		}
		if err := c.keyErr("delete", o, key, ""); err != nil {
			results[i].Err = err
			continue
		}
		if kid := o.KeyID(key); !seen[kid] {
			seen[kid] = true
			uniq = append(uniq, key)
		}
	}
	ids, amb, err := c.idsOf(ctx, "delete", o, kp, uniq, true)
	if err != nil {
		return nil, err
	}
	first := map[string]int{}
	var items []writeItem
	var dups []int
	for i := range keys {
		if results[i].Err != nil {
			continue
		}
		key := results[i].Key
		kid := o.KeyID(key)
		if e := amb[kid]; e != nil {
			results[i].Err = e
			continue
		}
		id, ok := ids[kid]
		if !ok {
			results[i].Err = connector.NewRecordError("delete", c.name, o.Name, key, "", connector.CodeNotFound, connector.Permanent, connector.ErrNotFound)
			continue
		}
		if _, dup := first[kid]; dup {
			dups = append(dups, i)
			continue
		}
		first[kid] = i
		items = append(items, writeItem{idx: i, key: key, id: id})
	}
	path := c.cl.dataPath("composite", "sobjects")
	err = c.runBatches(ctx, "delete", o, results, chunk(items, c.opts.BatchSize), func(ctx context.Context, batch []writeItem) error {
		return c.deleteBatch(ctx, o, path, batch, results)
	})
	if err != nil && !stops(ctx, err) {
		return nil, err
	}
	var forget []string
	for _, it := range items {
		if r := results[it.idx]; r.Err == nil || connector.CodeOf(r.Err) == connector.CodeNotFound || goneCodes[string(connector.CodeOf(r.Err))] {
			forget = append(forget, it.id)
		}
	}
	if len(forget) > 0 {
		if perr := idPairsOf(ctx).Forget(context.WithoutCancel(ctx), o.Name, forget); perr != nil && err == nil && mustStop(ctx, perr) {
			err = perr
		}
	}
	for _, i := range dups {
		r := results[first[o.KeyID(results[i].Key)]]
		r.Key = results[i].Key
		results[i] = r
	}
	return results, err
}

// pairedReads wraps a read's fn for an object keyed by its parent, so
// that each key is one record:
//
//   - A record deriving a key the run's pairs give another Id (a second
//     note a person added by hand under a synced case) is left alone: not
//     passed, so the paired record stays the key's and syncs on. It is
//     reported once (Notes; the pairs keep a marker under the record's
//     Id, no key or value). Whether the paired record is still there is
//     known when the read passed it; otherwise it is asked by Id (one
//     query, only in a read that met such a record): a paired record gone
//     is unpaired, and the other record takes the key as an unpaired one.
//   - Two records deriving a key nobody paired are truly ambiguous: the
//     second is passed with DUPLICATE_VALUE naming both Ids and what to
//     do (the key is then unknown for the run, and the error is in the
//     run's error log), and neither is paired. A change read (changes)
//     sees only the records changed since its cursor, so the unpaired
//     records it reads are held until it ends, and their keys searched
//     (one query per chunk of keys, only in a read that met unpaired
//     records): a key with one record is passed and paired, one with
//     more is passed once, ambiguous.
//   - A deleted record's pairing is forgotten; a deleted record that is
//     not the key's paired one is skipped (its key's record is still
//     there).
//
// done, called once the read succeeded, settles the records held or left
// aside and remembers the Ids of the keys read unpaired (a record created by a
// run killed before it remembered the Id, or by hand) that had one
// record. For any other object fn is returned, and done does nothing.
func (c *Connector) pairedReads(ctx context.Context, o *connector.Object, changes bool, fn func(connector.Record) error) (wrapped func(connector.Record) error, done func() error) {
	kp, _ := c.pathOf(o)
	if kp == nil {
		return fn, func() error { return nil }
	}
	pairs := idPairsOf(ctx)
	unpaired := map[string][]string{} // KeyID -> the Ids read
	pairedSeen := map[string]bool{}   // KeyID -> its paired record was read
	var aside []connector.Record      // records deriving a key paired with another Id
	var held []connector.Record       // a change read's unpaired records
	wrapped = func(rec connector.Record) error {
		if rec.ID != "" && rec.Err == nil && !rec.Deleted {
			// A record paired with another key than the one it derives
			// now was moved under another parent: its old key is no
			// longer its own (nor is any, if its parent has no key).
			keep := []string{leftAloneMarker(rec.ID)}
			if rec.Key != "" {
				keep = append(keep, o.KeyID(rec.Key))
			}
			if err := pairs.Unpair(ctx, o.Name, map[string][]string{rec.ID: keep}); err != nil && mustStop(ctx, err) {
				return err
			}
		}
		if rec.Key == "" || rec.ID == "" || rec.Err != nil {
			return fn(rec)
		}
		kid := o.KeyID(rec.Key)
		known, err := pairs.Lookup(ctx, o.Name, []string{kid})
		if err != nil && mustStop(ctx, err) {
			return err
		}
		id := known[kid]
		switch {
		case id == "" && !rec.Deleted && changes:
			held = append(held, rec)
			return nil
		case id == "" && !rec.Deleted:
			if !slices.ContainsFunc(unpaired[kid], func(s string) bool { return sameID(s, rec.ID) }) {
				unpaired[kid] = append(unpaired[kid], rec.ID)
			}
			if ids := unpaired[kid]; len(ids) > 1 {
				rec.Err = c.ambiguous("read", o, rec.Key, ids)
				rec.Fields = nil
			}
		case rec.Deleted && sameID(id, rec.ID):
			if err := pairs.Forget(ctx, o.Name, []string{id}); err != nil && mustStop(ctx, err) {
				return err
			}
		case rec.Deleted && id != "":
			// Another record deriving a paired key, deleted (the second
			// note a person added by hand, then removed): the paired
			// record is not gone, so the key's record is not deleted.
			// Its report marker goes with it.
			if err := pairs.Forget(ctx, o.Name, []string{rec.ID}); err != nil && mustStop(ctx, err) {
				return err
			}
			return nil
		case rec.Deleted:
		case sameID(id, rec.ID):
			pairedSeen[kid] = true
		default:
			aside = append(aside, rec)
			return nil
		}
		return fn(rec)
	}
	done = func() error {
		if err := c.settleAside(ctx, o, pairs, aside, pairedSeen, wrapped); err != nil {
			return err
		}
		if len(held) > 0 {
			if err := c.settleHeld(ctx, o, kp, held, unpaired, fn); err != nil {
				return err
			}
		}
		learned := map[string]string{}
		for kid, ids := range unpaired {
			if len(ids) == 1 {
				learned[kid] = ids[0]
			}
		}
		if len(learned) == 0 {
			return nil
		}
		if err := pair(ctx, pairs, o.Name, learned); err != nil && mustStop(ctx, err) {
			return err
		}
		return nil
	}
	return wrapped, done
}

// settleAside decides the fate of the records a read left aside, each
// deriving a key paired with another record: while the paired record is
// there (read in this read, or found by Id), the record is left alone
// and reported once; a paired record gone is unpaired, and the record is
// passed again through pass as an unpaired one.
func (c *Connector) settleAside(ctx context.Context, o *connector.Object, pairs IDPairs, aside []connector.Record, pairedSeen map[string]bool, pass func(connector.Record) error) error {
	if len(aside) == 0 {
		return nil
	}
	kids := make([]string, len(aside))
	for i, rec := range aside {
		kids[i] = o.KeyID(rec.Key)
	}
	known, err := pairs.Lookup(ctx, o.Name, kids)
	if err != nil && mustStop(ctx, err) {
		return err
	}
	var ask []string
	for _, kid := range kids {
		if id := known[kid]; id != "" && !pairedSeen[kid] && !slices.Contains(ask, id) {
			ask = append(ask, id)
		}
	}
	there := map[string]bool{}
	if len(ask) > 0 {
		found, err := c.FindValuesIn(ctx, o.Name, "Id", ask)
		if err != nil {
			return err
		}
		for id := range found {
			there[id] = true
		}
	}
	var gone []string
	type left struct {
		rec    connector.Record
		paired string
	}
	var alone []left
	var again []connector.Record
	for i, rec := range aside {
		id := known[kids[i]]
		switch {
		case id != "" && (pairedSeen[kids[i]] || there[id]):
			alone = append(alone, left{rec, id})
		default:
			if id != "" && !slices.Contains(gone, id) {
				gone = append(gone, id)
			}
			again = append(again, rec)
		}
	}
	if len(gone) > 0 {
		if err := pairs.Forget(ctx, o.Name, gone); err != nil && mustStop(ctx, err) {
			return err
		}
	}
	for _, rec := range again {
		if err := pass(rec); err != nil {
			return err
		}
	}
	if len(alone) == 0 {
		return nil
	}
	// Each record left alone is reported once: the pairs keep a marker
	// under its Id (keys never hold control characters, so no key's
	// KeyID is a marker), forgotten with the record when it is deleted.
	markers := make([]string, len(alone))
	for i, a := range alone {
		markers[i] = leftAloneMarker(a.rec.ID)
	}
	reported, err := pairs.Lookup(ctx, o.Name, markers)
	if err != nil && mustStop(ctx, err) {
		return err
	}
	note := notesOf(ctx)
	remember := map[string]string{}
	for i, a := range alone {
		if reported[markers[i]] != "" || remember[markers[i]] != "" {
			continue
		}
		remember[markers[i]] = a.rec.ID
		note(o.Name, fmt.Sprintf("record %s of %s derives the key %s from its parent, which this job syncs as record %s (paired in the state): the other record is left alone, neither read nor written; delete it or move it under another parent if it should not be there (reported once)",
			a.rec.ID, o.Name, a.rec.Key, a.paired))
	}
	if len(remember) > 0 {
		if err := pairs.Remember(ctx, o.Name, remember); err != nil && mustStop(ctx, err) {
			return err
		}
	}
	return nil
}

// settleHeld passes the unpaired records a change read held, once their
// keys were searched: a key whose only record is the one read is passed
// and noted in unpaired (to be paired); a key with more records is
// passed once, with DUPLICATE_VALUE naming them all.
func (c *Connector) settleHeld(ctx context.Context, o *connector.Object, kp *keyPath, held []connector.Record, unpaired map[string][]string, fn func(connector.Record) error) error {
	last := map[string]int{} // Id -> its last copy in held (a record read twice)
	var keys []string
	seen := map[string]bool{}
	for i, rec := range held {
		last[rec.ID] = i
		if kid := o.KeyID(rec.Key); !seen[kid] {
			seen[kid] = true
			keys = append(keys, rec.Key)
		}
	}
	found, err := c.findByParent(ctx, "read", o, kp, keys)
	if err != nil {
		return err
	}
	done := map[string]bool{} // KeyIDs passed as ambiguous
	for i, rec := range held {
		kid := o.KeyID(rec.Key)
		if last[rec.ID] != i || done[kid] {
			continue
		}
		ids := found[kid]
		if !slices.ContainsFunc(ids, func(s string) bool { return sameID(s, rec.ID) }) {
			ids = append(ids, rec.ID) // deleted or moved since: as read
		}
		if len(ids) > 1 {
			done[kid] = true
			rec.Err, rec.Fields = c.ambiguous("read", o, rec.Key, ids), nil
		} else {
			unpaired[kid] = ids
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// leftAloneMarker is the pairs' entry that says record id was reported
// as left alone.
func leftAloneMarker(id string) string { return "\x00left alone\x00" + id }

// ambiguous is the error of a key that several unpaired records derive.
func (c *Connector) ambiguous(op string, o *connector.Object, key string, ids []string) *connector.RecordError {
	return connector.NewRecordError(op, c.name, o.Name, key, "", connector.CodeDuplicateKey, connector.Permanent,
		&connector.ValueError{Code: connector.CodeDuplicateKey, Detail: fmt.Sprintf(
			"%d records of %s derive this key from their parent (%s) and the state pairs none of them with it: neither is read or written; delete the extra record in Salesforce or move it under another parent, and the next run syncs the other",
			len(ids), o.Name, strings.Join(ids, ", "))})
}

// Noter hears what the connector left alone and why: one line each, for
// a person (it names objects, Ids and keys; never a value).
type Noter func(object, note string)

type notesKey struct{}

// WithNotes returns a context whose reads of objects keyed by their parent
// report to fn the records they leave alone.
func WithNotes(ctx context.Context, fn Noter) context.Context {
	return context.WithValue(ctx, notesKey{}, fn)
}

// notesOf returns the context's Noter, or one that drops the notes.
func notesOf(ctx context.Context) Noter {
	if fn, ok := ctx.Value(notesKey{}).(Noter); ok && fn != nil {
		return fn
	}
	return func(string, string) {}
}

// sameID compares Salesforce Ids in their 15- or 18-character forms.
func sameID(a, b string) bool {
	if len(a) >= 15 && len(b) >= 15 {
		return a[:15] == b[:15]
	}
	return a == b
}
