package erase

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/state"
)

// A job is locked out (state.Store.LockOut) from before erase's first
// write until the keys' state is forgotten. Between the two, the local
// cells are blank beside the state of the values they held: a run would
// read the blanks as the person's values deleted on one side, and a key
// whose Salesforce write failed, forgotten, would be paired as a first
// sync pairs it and get Salesforce's values written back into the blank
// cells. The lockout's cause names the keys (case codes, never values):
// an erase that completes them all lifts it; one that does not leaves it
// naming those still incomplete.
const (
	causePrefix = "erase incomplete for keys "
	causeSuffix = ": run casebridge erase again for them (not a resync, which would write their values back)"
)

// eraseLock is the lockout an erase holds. nil: a dry run.
type eraseLock struct {
	job string
	// ours: the job's lockout is erase's (set now or by an earlier erase
	// that did not complete); false when another cause locked the job out
	// first (a run's), which erase leaves for a person.
	ours bool
	// earlier are the keys an earlier erase left incomplete.
	earlier []string
}

// cause is the lockout cause naming keys.
func cause(keys []string) string {
	b, _ := json.Marshal(keys)
	return causePrefix + string(b) + causeSuffix
}

// causeKeys returns the keys of an erase's lockout cause; ok is false for
// another cause.
func causeKeys(c string) (keys []string, ok bool) {
	rest, ok := strings.CutPrefix(c, causePrefix)
	if !ok {
		return nil, false
	}
	if err := json.NewDecoder(strings.NewReader(rest)).Decode(&keys); err != nil {
		return nil, false
	}
	return keys, true
}

// lockOut locks the job out before erase's first write.
func (e *Eraser) lockOut(ctx context.Context, job string, rep *Report) (*eraseLock, error) {
	l := &eraseLock{job: job}
	lo, locked, err := e.Store.Lockout(ctx, job)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job, err)
	}
	if locked {
		l.earlier, l.ours = causeKeys(lo.Cause)
		return l, nil
	}
	keys := make([]string, len(rep.Keys))
	for i, k := range rep.Keys {
		keys[i] = k.Key
	}
	if err := e.Store.LockOut(ctx, state.Lockout{Job: job, Cause: cause(keys), Since: e.now()}); err != nil {
		return nil, fmt.Errorf("job %s: locking it out while erasing: %w", job, err)
	}
	l.ours = true
	return l, nil
}

// wrap says, of an erase that failed after locking the job out, that the
// job stays locked out.
func (l *eraseLock) wrap(err error) error {
	if l == nil || !l.ours {
		return err
	}
	return fmt.Errorf("%w (job %s stays locked out until an erase of these keys completes)", err, l.job)
}

// unlock lifts erase's lockout once the keys' state is forgotten, or
// narrows it to the keys still incomplete (this erase's whose Salesforce
// write failed, and an earlier erase's not given again).
func (e *Eraser) unlock(ctx context.Context, l *eraseLock, rep *Report) error {
	var left []string
	done := map[string]bool{}
	for _, k := range rep.Keys {
		if k.Erased() {
			done[connector.KeyID(k.Key, false)] = true
		} else {
			left = append(left, k.Key)
		}
	}
	for _, k := range l.earlier {
		if id := connector.KeyID(k, false); !done[id] && !slices.ContainsFunc(left, func(o string) bool { return connector.KeyID(o, false) == id }) {
			left = append(left, k)
		}
	}
	rep.Incomplete = left
	if !l.ours {
		return nil
	}
	// The lease is held: no run locks the job out between the two calls.
	if err := e.Store.ClearLockout(ctx, l.job); err != nil {
		return fmt.Errorf("job %s: erased, but the lockout was not lifted: %w", l.job, err)
	}
	if len(left) == 0 {
		return nil
	}
	rep.LockedOut = true
	if err := e.Store.LockOut(ctx, state.Lockout{Job: l.job, Cause: cause(left), Since: e.now()}); err != nil {
		return fmt.Errorf("job %s: keys %s not erased, and the job could not be locked out until they are: %w", l.job, strings.Join(left, ", "), err)
	}
	return nil
}
