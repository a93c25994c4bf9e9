package mapping

import (
	"context"
	"errors"
	"sync"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// Resolver finds the record a lookup rule references: the Id of the record
// of object whose field equals value (a caseworker's email -> User Id, a
// factory alias -> Account Id). It never creates a record.
//
// Resolve returns an error wrapping ErrNoMatch when no record matches and
// ErrAmbiguous when several do; other errors are the resolver's own
// (classified as connector errors are: retryable, fatal). Errors must not
// contain value; mapping never shows them, it reports the lookup by
// object and field.
type Resolver interface {
	Resolve(ctx context.Context, object, field, value string) (id string, err error)
}

// Lookup outcomes.
var (
	// ErrNoMatch: no record has the value; the field is a per-record
	// error, never an auto-created record.
	ErrNoMatch = errors.New("no record matches")
	// ErrAmbiguous: several records have the value.
	ErrAmbiguous = errors.New("several records match")
)

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, object, field, value string) (string, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, object, field, value string) (string, error) {
	return f(ctx, object, field, value)
}

// CachedResolver remembers a Resolver's answers (matches and ErrNoMatch /
// ErrAmbiguous; not other errors) for one run. Values are compared after
// Clean and case folding, as value maps compare. Make a new one per run,
// so that a record created in Salesforce since is found next time. It is
// safe for concurrent use.
type CachedResolver struct {
	r     Resolver
	mu    sync.Mutex
	cache map[lookupKey]lookupResult
}

type lookupKey struct{ object, field, value string }

type lookupResult struct {
	id  string
	err error
}

// NewCachedResolver returns a per-run cache in front of r.
func NewCachedResolver(r Resolver) *CachedResolver {
	return &CachedResolver{r: r, cache: map[lookupKey]lookupResult{}}
}

// Resolve implements Resolver.
func (c *CachedResolver) Resolve(ctx context.Context, object, field, value string) (string, error) {
	k := lookupKey{object, field, matchKey(value, false)}
	c.mu.Lock()
	res, ok := c.cache[k]
	c.mu.Unlock()
	if ok {
		return res.id, res.err
	}
	id, err := c.r.Resolve(ctx, object, field, value)
	if err == nil || errors.Is(err, ErrNoMatch) || errors.Is(err, ErrAmbiguous) {
		c.mu.Lock()
		c.cache[k] = lookupResult{id, err}
		c.mu.Unlock()
	}
	return id, err
}

// Len returns the number of answers cached.
func (c *CachedResolver) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cache)
}

// lookup resolves one cleaned cell. Its errors name the lookup's object
// and field, never the value.
func lookup(ctx context.Context, res Resolver, l *config.LookupRule, value string) (connector.Value, error) {
	if res == nil {
		return connector.Value{}, &connector.ValueError{Code: connector.CodeInvalidValue, Detail: "no lookup resolver for " + l.Object + "." + l.Field}
	}
	id, err := res.Resolve(ctx, l.Object, l.Field, value)
	switch {
	case err == nil && id != "":
		return connector.Text(id), nil
	case err == nil, errors.Is(err, ErrNoMatch):
		return connector.Value{}, &connector.ValueError{Code: connector.CodeInvalidValue,
			Detail: "expected the " + l.Field + " of an existing " + l.Object + " record (lookups never create records)"}
	case errors.Is(err, ErrAmbiguous):
		return connector.Value{}, &connector.ValueError{Code: connector.CodeInvalidValue,
			Detail: "several " + l.Object + " records have this " + l.Field + "; expected exactly one"}
	}
	code := connector.CodeOf(err)
	if code == "" {
		code = connector.CodeUnavailable
	}
	return connector.Value{}, &lookupError{class: connector.ClassOf(err), ve: connector.ValueError{Code: code, Detail: "lookup of " + l.Object + " by " + l.Field + " failed"}}
}

// lookupError is a resolver failure without the resolver's message (which
// may hold the value), keeping its class.
type lookupError struct {
	class connector.Class
	ve    connector.ValueError
}

func (e *lookupError) Error() string { return e.ve.Error() }

// Unwrap exposes the ValueError (its code and detail) and, through a
// RecordError, the class.
func (e *lookupError) Unwrap() []error {
	return []error{&e.ve, &connector.RecordError{Op: "lookup", Code: e.ve.Code, Class: e.class, Err: &e.ve}}
}

// TwoWay reports whether a lookup rule writes its local cell too (its
// direction is both or from_salesforce): the Id Salesforce holds is
// turned back into the referenced field's value, through the View's
// Resolver as a Reverser. ToLocal, which has no resolver, leaves lookups
// out; the View writes them (lookupCells).
func (r *FieldRule) TwoWay() bool {
	return r.Lookup != nil && r.Direction.WritesLocal() && !r.IsConstant && r.Local != "" && r.flagOf == nil
}

// twoWayIDs passes to fn the Ids a Salesforce record's two-way lookup
// fields hold, by lookup.
func twoWayIDs(mem *Member, sf connector.Record, fn func(object, field, id string)) {
	for _, r := range mem.Rules {
		if !r.TwoWay() {
			continue
		}
		v, ok := sf.Fields[r.SF]
		if !ok || v.IsNull() {
			continue
		}
		if id, _ := v.Text(); id != "" {
			fn(r.Lookup.Object, r.Lookup.Field, id)
		}
	}
}

// lookupCells returns the cells mem's two-way lookup rules write for a
// record from Salesforce: each Id turned back into the referenced field's
// value, in the rule's write form; a null Id blanks the cell. A cell that
// already resolves to the Id is left alone (the engine compares Ids, so
// the row keeps its spelling of the value). current is the row as it is
// (nil for a new row); open says whether the consent gate lets gated
// classes flow. The error names the lookup's object and field, never a
// value.
func (m *JobMapping) lookupCells(ctx context.Context, res Resolver, mem *Member, sf connector.Record, current *connector.Record, open bool) (map[string]connector.Value, *connector.RecordError) {
	var out map[string]connector.Value
	for _, r := range mem.Rules {
		if !r.TwoWay() || (!open && m.gate.gated(r)) {
			continue
		}
		v, present := sf.Fields[r.SF]
		if !present {
			continue
		}
		v, err := connector.Canonicalize(v, r.Field)
		if err != nil {
			return nil, m.fieldError(mem, sf.Key, r, err)
		}
		if current != nil {
			if cur, err := m.forward(ctx, r, current, res); err == nil && cur.Equal(v) {
				continue // the cell already says so
			}
		}
		var value connector.Value
		if !v.IsNull() {
			id, _ := v.Text()
			s, err := reverseLookup(ctx, res, r.Lookup, id)
			if err != nil {
				return nil, m.fieldError(mem, sf.Key, r, err)
			}
			value = connector.Text(s)
		}
		s, err := r.Transform.Format(value)
		if err != nil {
			return nil, m.fieldError(mem, sf.Key, r, err)
		}
		if out == nil {
			out = map[string]connector.Value{}
		}
		out[r.Local] = connector.Text(s)
	}
	return out, nil
}

// reverseLookup turns one Id back into the referenced field's value. Its
// errors name the lookup's object and field, never the value.
func reverseLookup(ctx context.Context, res Resolver, l *config.LookupRule, id string) (string, error) {
	rv, ok := res.(Reverser)
	if !ok {
		return "", &connector.ValueError{Code: connector.CodeInvalidValue, Detail: "no resolver turns " + l.Object + " Ids back into " + l.Field}
	}
	s, err := rv.Value(ctx, l.Object, l.Field, id)
	switch {
	case err == nil && s != "":
		return s, nil
	case err == nil, errors.Is(err, ErrNoMatch):
		return "", &connector.ValueError{Code: connector.CodeInvalidValue,
			Detail: "the referenced " + l.Object + " record is gone or has no " + l.Field + " to write back"}
	}
	code := connector.CodeOf(err)
	if code == "" {
		code = connector.CodeUnavailable
	}
	return "", &lookupError{class: connector.ClassOf(err), ve: connector.ValueError{Code: code, Detail: "turning a " + l.Object + " Id back into its " + l.Field + " failed"}}
}
