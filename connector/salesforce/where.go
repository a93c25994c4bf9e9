package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// Scoped is a view of a Connector limited, per object, by a SOQL condition
// (a job's `where`). It shares the Connector's client, token, describe
// cache and API budget; objects without a condition read as the Connector
// reads them. Records that exist but do not match an object's condition are
// unknown to the view, never absent (doc/architecture.md §5.6, "absent is not
// deleted"):
//
//   - a complete Read passes the matching records, then, from a key-only
//     query with NOT (<where>), every other record as an unknown one: Key,
//     ID and Modified set, no Fields, Err an OUT_OF_SCOPE
//     *connector.RecordError;
//   - an incremental Read does the same among the records changed since the
//     cursor, so a record that left the condition is reported unknown, not
//     skipped;
//   - ListKeys lists every existing key, matching or not: a key listing
//     tells absent (deleted) from existing, and the reads tell matching
//     from unknown. A key that only left the condition is never taken for
//     a deleted one;
//   - ReadKeys passes the matching records and the other existing keys as
//     unknown;
//   - Upsert and Delete refuse, per record with OUT_OF_SCOPE, keys that
//     exist and do not match (one key-only query per 1,000 keys): a job
//     never writes or deletes a record outside its condition. Keys that do
//     not exist are created as usual (a job should set the fields its
//     condition tests, e.g. a constant vcms__Source_System__c).
//
// A record that leaves the condition while a read is running may be passed
// twice, first matching, then unknown; the later one wins. A condition on
// a parent's field (Account.Name) changes a record's scope without moving
// its SystemModstamp: incremental reads miss that, the periodic complete
// read catches it.
type Scoped struct {
	*Connector
	where map[string]string // lower-case object name -> condition
}

// Where returns a view of c whose reads of each object named in conditions
// are limited to the records matching its SOQL condition (the text after
// WHERE, as an administrator writes it in a job's `where`). Empty conditions
// are ignored. A condition is checked once, at its first use, by a
// one-row query; a malformed one fails that call with a *WhereError naming
// the object and the condition.
func (c *Connector) Where(conditions map[string]string) connector.Connector {
	s := &Scoped{Connector: c, where: map[string]string{}}
	for obj, cond := range conditions {
		if cond = strings.TrimSpace(cond); cond != "" {
			s.where[strings.ToLower(obj)] = cond
		}
	}
	return s
}

// WhereError is a condition given to Where that Salesforce (or the local
// check) refuses. The condition comes from the configuration, not from
// data, so it is shown.
type WhereError struct {
	Connector string
	Object    string
	Where     string
	Err       error
}

func (e *WhereError) Error() string {
	return fmt.Sprintf("salesforce %s: the where condition on %s is not valid SOQL: %q: %v", e.Connector, e.Object, e.Where, e.Err)
}

func (e *WhereError) Unwrap() error { return e.Err }

// scope describes object and returns its validated condition ("" when the
// view has none for it).
func (s *Scoped) scope(ctx context.Context, object string) (*connector.Object, string, error) {
	o, err := s.describe(ctx, object)
	if err != nil {
		return nil, "", err
	}
	cond := s.where[strings.ToLower(o.Name)]
	if cond == "" {
		cond = s.where[strings.ToLower(object)]
	}
	if cond == "" {
		return o, "", nil
	}
	if err := s.validate(ctx, o, cond); err != nil {
		return nil, "", err
	}
	return o, cond, nil
}

// validate checks cond locally (balanced parentheses and quotes, so that
// wrapping it in parentheses cannot change how it combines with the view's
// own conditions), then once per connector by "SELECT Id FROM object WHERE
// (cond) LIMIT 1". Only successes are remembered.
func (s *Scoped) validate(ctx context.Context, o *connector.Object, cond string) error {
	id := o.Name + "\x00" + cond
	s.mu.Lock()
	ok := s.validWhere[id]
	s.mu.Unlock()
	if ok {
		return nil
	}
	werr := func(err error) error {
		return &WhereError{Connector: s.name, Object: o.Name, Where: cond, Err: err}
	}
	if err := balanced(cond); err != nil {
		return werr(err)
	}
	soql, err := selectSOQL([]string{"Id"}, o.Name, paren(cond), "")
	if err != nil {
		return werr(err)
	}
	var page api.QueryResult
	err = s.cl.do(ctx, request{op: "where", object: o.Name, method: http.MethodGet, path: s.cl.dataPath("query"),
		query: url.Values{"q": {soql + " LIMIT 1"}}, retrySafe: true}, &page)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			return werr(err)
		}
		return err
	}
	s.mu.Lock()
	if s.validWhere == nil {
		s.validWhere = map[string]bool{}
	}
	s.validWhere[id] = true
	s.mu.Unlock()
	return nil
}

// balanced reports a condition whose parentheses do not balance outside
// string literals, or with an unterminated string literal.
func balanced(cond string) error {
	depth := 0
	inStr := false
	for i := 0; i < len(cond); i++ {
		switch ch := cond[i]; {
		case inStr && ch == '\\':
			i++
		case ch == '\'':
			inStr = !inStr
		case inStr:
		case ch == '(':
			depth++
		case ch == ')':
			if depth--; depth < 0 {
				return errors.New("a closing parenthesis without an opening one")
			}
		}
	}
	switch {
	case inStr:
		return errors.New("an unterminated string literal")
	case depth > 0:
		return errors.New("an opening parenthesis without a closing one")
	}
	return nil
}

// Read implements connector.Source, limited to the records matching the
// object's condition; the others are passed as unknown (see Scoped).
func (s *Scoped) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	o, cond, err := s.scope(ctx, object)
	if err != nil {
		return "", err
	}
	return s.read(ctx, o, since, cond, fn)
}

// ListKeys implements connector.KeyLister: every existing key of object,
// matching its condition or not (see Scoped): a key left out is deleted.
func (s *Scoped) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	return s.Connector.ListKeys(ctx, object, fn)
}

// ReadKeys implements connector.KeyReader: the matching records, and the
// other existing keys as unknown.
func (s *Scoped) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	o, cond, err := s.scope(ctx, object)
	if err != nil {
		return err
	}
	return s.readKeys(ctx, o, keys, cond, fn)
}

// Upsert implements connector.Sink; records whose keys exist outside the
// object's condition fail with OUT_OF_SCOPE and are not written.
func (s *Scoped) Upsert(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	return guard(ctx, s, "upsert", object, records, func(r connector.Record) string { return r.Key },
		func(in []connector.Record) ([]connector.Result, error) { return s.Connector.Upsert(ctx, object, in) })
}

// Delete implements connector.Sink; keys that exist outside the object's
// condition fail with OUT_OF_SCOPE and are not deleted.
func (s *Scoped) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	return guard(ctx, s, "delete", object, keys, func(k string) string { return k },
		func(in []string) ([]connector.Result, error) { return s.Connector.Delete(ctx, object, in) })
}

// guard writes the items whose keys are not outside object's condition
// and fails the others with OUT_OF_SCOPE, one result per item, in order.
func guard[T any](ctx context.Context, s *Scoped, op, object string, items []T, key func(T) string, write func([]T) ([]connector.Result, error)) ([]connector.Result, error) {
	o, cond, err := s.scope(ctx, object)
	if err != nil {
		return nil, err
	}
	if cond == "" || len(items) == 0 || o.Key == "Id" {
		return write(items)
	}
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = key(it)
	}
	keys = uniqueKeys(o, keys)
	out := map[string]bool{} // KeyIDs outside the condition
	if len(keys) > 0 {
		err = s.byKeys(ctx, op, o, []string{"Id", o.Key}, keys, "NOT "+paren(cond), func(raw map[string]any) error {
			if k, _ := raw[o.Key].(string); k != "" {
				out[o.KeyID(k)] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return write(items)
	}
	results := make([]connector.Result, len(items))
	var in []T
	var at []int
	for i, it := range items {
		k := connector.NormalizeKey(key(it))
		if k != "" && out[o.KeyID(k)] {
			results[i] = connector.Result{Key: k, Err: s.outOfScope(op, o, k)}
			continue
		}
		in = append(in, it)
		at = append(at, i)
	}
	if len(in) == 0 {
		return results, nil
	}
	res, err := write(in)
	if err != nil && !(errors.Is(err, connector.ErrStop) && len(res) == len(in)) {
		return nil, err
	}
	if len(res) != len(in) {
		return nil, fmt.Errorf("salesforce %s %s: %d results for %d records", op, o.Name, len(res), len(in))
	}
	for j, r := range res {
		results[at[j]] = r
	}
	return results, err // err: a stop, with a result per record
}

// Interface guards.
var (
	_ connector.Connector     = (*Scoped)(nil)
	_ connector.Sink          = (*Scoped)(nil)
	_ connector.KeyLister     = (*Scoped)(nil)
	_ connector.KeyReader     = (*Scoped)(nil)
	_ connector.ChangeTracker = (*Scoped)(nil)
)
