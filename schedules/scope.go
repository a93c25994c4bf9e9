package schedules

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/reconcile"
)

// memberSF returns the Salesforce connector a member of the job reads and
// writes through. For the parent of a job with a `where`, it is a view of
// sf scoped by the condition (salesforce.Connector.Where): records outside
// it are unknown to the job, never deleted, and never written. Children
// inherit nothing: the configuration has no per-child where, and a child's
// records are in the job through their parent's key (a child whose parent
// is unknown is skipped by the engine). A connector that cannot scope its
// reads fails the job rather than ignoring the condition.
func memberSF(sf connector.Connector, m *mapping.JobMapping, mem *mapping.Member) connector.Connector {
	if !mem.IsParent() || m.Job == nil {
		return sf
	}
	where := strings.TrimSpace(m.Job.Salesforce.Where)
	if where == "" {
		return sf
	}
	if w, ok := sf.(interface {
		Where(map[string]string) connector.Connector
	}); ok {
		return w.Where(map[string]string{mem.Object: where})
	}
	return unscoped{name: sf.Name(), err: fmt.Errorf("%s cannot limit its reads to the job's where (%q)", sf.Name(), where)}
}

// unscoped stands in for a connector that cannot apply a job's where: every
// call fails with err.
type unscoped struct {
	name string
	err  error
}

func (u unscoped) Name() string { return u.name }

func (u unscoped) Describe(context.Context, string) (*connector.Object, error) { return nil, u.err }

func (u unscoped) Read(context.Context, string, connector.Cursor, func(connector.Record) error) (connector.Cursor, error) {
	return "", u.err
}

// route sends one of a routed connector's objects to an object of another
// connector, keeping only the keys accept takes.
type route struct {
	conn   connector.Connector
	object string
	accept func(key string) bool
	// keyless passes the object's Salesforce records without a key
	// (NO_KEY): the parent's route, whose job may pair them by match_on
	// or adopt them. A child's route never sees them.
	keyless bool
}

// routed presents several (connector, object, key filter) routes as the
// objects of one connector. The runner uses it to give each member of a
// job (the parent, each child) an object of its own on both sides: a
// stipend and a school enrolment are both Assistance records, and a
// Salesforce object holds other sources' records too. Records whose keys a
// route does not accept are out of the job's scope: never read, listed or
// deleted by it.
type routed struct {
	name   string
	routes map[string]route
	// side ("salesforce" or "local") and progress, when set, report
	// records read and written as they pass.
	side     string
	progress func(side, op string, n int)
	// unreadable, when set, hears of each record read with Err and no
	// key (a row whose key cell is empty or unusable): such rows name no
	// record, so the engine can only count them; their errors (file, row,
	// column; never a value) are reported by the caller.
	unreadable func(error)
}

func (r *routed) count(op string, n int) {
	if r.progress != nil && n > 0 {
		r.progress(r.side, op, n)
	}
}

func (r *routed) Name() string { return r.name }

func (r *routed) route(object string) (route, error) {
	rt, ok := r.routes[object]
	if !ok {
		return route{}, fmt.Errorf("%s %s: %w", r.name, object, connector.ErrObjectNotFound)
	}
	return rt, nil
}

func (r *routed) Describe(ctx context.Context, object string) (*connector.Object, error) {
	rt, err := r.route(object)
	if err != nil {
		return nil, err
	}
	return rt.conn.Describe(ctx, rt.object)
}

func (r *routed) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	rt, err := r.route(object)
	if err != nil {
		return "", err
	}
	// A run planned in parts reads again what it read (not counted twice),
	// and its first read leaves out, unmapped, rows it only counts (counted
	// all the same: each row once).
	count := r.count
	if connector.Reread(ctx) {
		count = func(string, int) {}
	} else if keep := connector.KeyFilterOf(ctx); keep != nil && r.progress != nil {
		ctx = connector.WithKeyFilter(ctx, func(k string) bool {
			if !keep(k) {
				r.count("read", 1)
				return false
			}
			return true
		})
	}
	return rt.conn.Read(ctx, rt.object, since, func(rec connector.Record) error {
		if rec.Key != "" && !rt.accept(rec.Key) {
			return nil
		}
		if rec.Key == "" && connector.CodeOf(rec.Err) == connector.CodeNoKey {
			if !rt.keyless {
				return nil
			}
			count("read", 1)
			return fn(rec)
		}
		if rec.Key == "" && rec.Err != nil && r.unreadable != nil {
			r.unreadable(rec.Err)
		}
		count("read", 1)
		return fn(rec)
	})
}

func (r *routed) TracksChanges(object string) bool {
	rt, err := r.route(object)
	if err != nil {
		return false
	}
	t, ok := rt.conn.(connector.ChangeTracker)
	return ok && t.TracksChanges(rt.object)
}

func (r *routed) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	rt, err := r.route(object)
	if err != nil {
		return err
	}
	if kl, ok := rt.conn.(connector.KeyLister); ok {
		return kl.ListKeys(ctx, rt.object, func(k string) error {
			if !rt.accept(k) {
				return nil
			}
			return fn(k)
		})
	}
	_, err = rt.conn.Read(ctx, rt.object, "", func(rec connector.Record) error {
		if rec.Err != nil || rec.Deleted || !rt.accept(rec.Key) {
			return nil
		}
		return fn(rec.Key)
	})
	return err
}

func (r *routed) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	rt, err := r.route(object)
	if err != nil {
		return err
	}
	in := keys[:0:0]
	for _, k := range keys {
		if rt.accept(k) {
			in = append(in, k)
		}
	}
	if len(in) == 0 {
		return nil
	}
	if kr, ok := rt.conn.(connector.KeyReader); ok {
		return kr.ReadKeys(ctx, rt.object, in, func(rec connector.Record) error {
			r.count("read", 1)
			return fn(rec)
		})
	}
	want := map[string]bool{}
	for _, k := range in {
		want[connector.NormalizeKey(k)] = true
	}
	_, err = rt.conn.Read(ctx, rt.object, "", func(rec connector.Record) error {
		if rec.Err == nil && !rec.Deleted && want[connector.NormalizeKey(rec.Key)] {
			return fn(rec)
		}
		return nil
	})
	return err
}

func (r *routed) sink(object string) (route, connector.Sink, error) {
	rt, err := r.route(object)
	if err != nil {
		return route{}, nil, err
	}
	s, ok := rt.conn.(connector.Sink)
	if !ok {
		return route{}, nil, fmt.Errorf("%s %s: %w", r.name, object, connector.ErrReadOnly)
	}
	return rt, s, nil
}

// outOfScope fails a record whose key the route does not take: the engine
// never writes another job's records.
func (r *routed) outOfScope(op, object, key string) *connector.RecordError {
	return connector.NewRecordError(op, r.name, object, key, "", connector.CodeInvalidKey, connector.Permanent,
		&connector.ValueError{Code: connector.CodeInvalidKey, Detail: "key is outside this job's scope"})
}

func (r *routed) Upsert(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	rt, s, err := r.sink(object)
	if err != nil {
		return nil, err
	}
	return writeInScope(rt, records, func(r connector.Record) string { return r.Key },
		func(in []connector.Record) ([]connector.Result, error) {
			res, err := s.Upsert(ctx, rt.object, in)
			r.count("write", written(res, err))
			return res, err
		},
		func(k string) *connector.RecordError { return r.outOfScope("upsert", object, k) })
}

func (r *routed) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	rt, s, err := r.sink(object)
	if err != nil {
		return nil, err
	}
	return writeInScope(rt, keys, func(k string) string { return k },
		func(in []string) ([]connector.Result, error) {
			res, err := s.Delete(ctx, rt.object, in)
			r.count("write", written(res, err))
			return res, err
		},
		func(k string) *connector.RecordError { return r.outOfScope("delete", object, k) })
}

// written counts the records a write call wrote: its results without an
// error (none when the call failed as a whole), so that progress says
// what the other side received.
func written(res []connector.Result, err error) int {
	if err != nil && !errors.Is(err, connector.ErrStop) {
		return 0
	}
	n := 0
	for _, r := range res {
		if r.Err == nil {
			n++
		}
	}
	return n
}

// writeInScope writes the items whose keys rt accepts and fails the others,
// returning one result per item in order.
func writeInScope[T any](rt route, items []T, key func(T) string, write func([]T) ([]connector.Result, error), reject func(string) *connector.RecordError) ([]connector.Result, error) {
	results := make([]connector.Result, len(items))
	var in []T
	var at []int
	for i, it := range items {
		k := key(it)
		if !rt.accept(k) {
			results[i] = connector.Result{Key: connector.NormalizeKey(k), Err: reject(k)}
			continue
		}
		in = append(in, it)
		at = append(at, i)
	}
	if len(in) == 0 {
		return results, nil
	}
	out, err := write(in)
	if err != nil && !(errors.Is(err, connector.ErrStop) && len(out) == len(in)) {
		return nil, err
	}
	if len(out) != len(in) {
		return nil, fmt.Errorf("connector returned %d results for %d records", len(out), len(in))
	}
	for j, res := range out {
		results[at[j]] = res
	}
	return results, err // err: a stop, with a result per record (connector.Sink)
}

// Links implements reconcile.Linker: the route's connector says.
func (r *routed) Links(object string) bool {
	rt, err := r.route(object)
	if err != nil {
		return false
	}
	l, ok := rt.conn.(reconcile.Linker)
	return ok && l.Links(rt.object)
}

// SetLinks implements reconcile.Linker for the keys the route takes.
func (r *routed) SetLinks(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	rt, err := r.route(object)
	if err != nil {
		return nil, err
	}
	l, ok := rt.conn.(reconcile.Linker)
	if !ok {
		return nil, nil
	}
	return writeInScope(rt, records, func(r connector.Record) string { return r.Key },
		func(in []connector.Record) ([]connector.Result, error) {
			out, err := l.SetLinks(ctx, rt.object, in)
			if err == nil && out == nil {
				out = make([]connector.Result, len(in)) // a store that keeps no links
			}
			return out, err
		},
		func(k string) *connector.RecordError { return r.outOfScope("set_links", object, k) })
}

// SetKeys implements reconcile.KeySetter for the new keys the route takes.
func (r *routed) SetKeys(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	rt, err := r.route(object)
	if err != nil {
		return nil, err
	}
	ks, ok := rt.conn.(reconcile.KeySetter)
	if !ok {
		return nil, fmt.Errorf("%s %s: cannot set keys: %w", r.name, object, connector.ErrReadOnly)
	}
	return writeInScope(rt, records, func(r connector.Record) string { return r.Key },
		func(in []connector.Record) ([]connector.Result, error) {
			res, err := ks.SetKeys(ctx, rt.object, in)
			r.count("write", written(res, err))
			return res, err
		},
		func(k string) *connector.RecordError { return r.outOfScope("set_keys", object, k) })
}

// CreatesIdempotent implements reconcile.CreateIdempotence: the route's
// connector says (one that does not implement it upserts by key).
func (r *routed) CreatesIdempotent(object string) bool {
	rt, err := r.route(object)
	if err != nil {
		return true
	}
	c, ok := rt.conn.(reconcile.CreateIdempotence)
	return !ok || c.CreatesIdempotent(rt.object)
}

var (
	_ reconcile.CreateIdempotence = (*routed)(nil)
	_ reconcile.Linker            = (*routed)(nil)
	_ reconcile.KeySetter         = (*routed)(nil)
	_ connector.Connector         = (*routed)(nil)
	_ connector.Sink              = (*routed)(nil)
	_ connector.KeyLister         = (*routed)(nil)
	_ connector.KeyReader         = (*routed)(nil)
	_ connector.ChangeTracker     = (*routed)(nil)
)
