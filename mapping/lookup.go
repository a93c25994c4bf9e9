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
