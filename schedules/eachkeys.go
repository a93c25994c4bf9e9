package schedules

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// Children declared with a classified each (children[].each.pii) key each
// value's record by a keyed hash of the value instead of the value: the
// service a person receives is in no key, plan, report, state entry,
// request URL or Salesforce external key, and in no child job's name.

// eachKeyLen is the length, in hexadecimal digits, of the key part that
// stands for a classified each value: 48 bits, far more than the values
// of one child need to differ.
const eachKeyLen = 12

// eachKey derives the key parts of a job's classified each values under
// fp (mapping.CompileOptions.EachKey): the first eachKeyLen hexadecimal
// digits of a keyed hash of the job, the child and the value, each
// length-prefixed (so that no two triples read alike), under a label of
// their own. The same key gives the same parts run after run; without the
// key a part cannot be tested against a guessed value. nil fp: nil.
func eachKey(fp *reconcile.Fingerprinter, job string) func(child, value string) string {
	if fp == nil {
		return nil
	}
	return func(child, value string) string {
		b := []byte("each key v1\x00")
		for _, p := range []string{job, child, value} {
			b = binary.AppendUvarint(b, uint64(len(p)))
			b = append(b, p...)
		}
		return fp.KeyHash(string(b))[:eachKeyLen]
	}
}

// EachKey is eachKey for the commands that reach a job's records by key
// outside a run (casebridge erase): they must derive the same key parts as
// the runs that created the records.
func EachKey(fp *reconcile.Fingerprinter, job string) func(child, value string) string {
	return eachKey(fp, job)
}

// errHasRecords stops a scan of the state at its first record.
var errHasRecords = errors.New("has records")

// checkEachKeys refuses a run of a job with a classified each whose
// records are in Salesforce under keys its rows no longer reach, where
// going on would create each record again beside the old one, which no
// row would update or delete (a person would still show as receiving the
// service):
//   - records synced before the each was classified, whose keys still
//     carry the values: classifying an each changes every key of its
//     records;
//   - records keyed by a hash under another fingerprint key (after a key
//     reset, or a key replaced): a new key changes every hash.
//
// The state is checked for the child's jobs under their old names;
// Salesforce, by a key listing of the child's object, only when none of
// the child's values' jobs has state yet (its first sync since it was
// classified or the state started over): runs after that list nothing.
// The error counts records and names the job, the child and the object,
// never a key or a value.
func (r *Runner) checkEachKeys(ctx context.Context, job *config.Job, m *mapping.JobMapping) error {
	type found struct {
		child, object, where string
		hashed               bool // keyed by a hash under another key, not by the value
		n                    int  // records counted (Salesforce); 0: some (the state)
	}
	var firsts []*mapping.Member
	synced := map[string]bool{} // children one of whose values' jobs has state
	var hit *found
	for _, mem := range m.Children {
		child, legacy, ok := mem.ClassifiedEach()
		if !ok {
			continue
		}
		n, err := r.stateRecords(ctx, job.Name+"/"+legacy)
		if err != nil {
			return fmt.Errorf("job %s: %w", job.Name, err)
		}
		if n > 0 && hit == nil {
			hit = &found{child: child, object: mem.Object, where: "the state holds"}
		}
		n, err = r.stateRecords(ctx, job.Name+"/"+mem.Name)
		if err != nil {
			return fmt.Errorf("job %s: %w", job.Name, err)
		}
		if n == 0 {
			firsts = append(firsts, mem)
		} else {
			synced[child] = true
		}
	}
	// Salesforce is listed only for a child none of whose values has
	// synced under its current keys yet (its first sync since it was
	// classified, or since the state started over): one key listing of
	// the object, not one every run.
	firsts = slices.DeleteFunc(firsts, func(mem *mapping.Member) bool {
		child, _, _ := mem.ClassifiedEach()
		return synced[child]
	})
	if hit == nil && len(firsts) > 0 {
		lister, ok := r.Salesforce.(connector.KeyLister)
		done := map[string]bool{}
		for _, mem := range firsts {
			if !ok || done[mem.Object] {
				continue
			}
			done[mem.Object] = true
			var mems []*mapping.Member
			for _, f := range firsts {
				if f.Object == mem.Object {
					mems = append(mems, f)
				}
			}
			err := lister.ListKeys(ctx, mem.Object, func(key string) error {
				for _, f := range mems {
					// A key under another fingerprint key is shaped
					// alike for every value of its child: the first
					// member that takes it counts it, once.
					hashed := false
					if !m.LegacyEachKey(f, key) {
						if hashed = m.ForeignEachKey(f, key); !hashed {
							continue
						}
					}
					child, _, _ := f.ClassifiedEach()
					if hit == nil {
						hit = &found{child: child, object: f.Object, where: "Salesforce holds", hashed: hashed}
					}
					if hit.child == child && hit.hashed == hashed {
						hit.n++
					}
					return nil
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("job %s: listing the keys of %s (a classified each's records under old keys): %w", job.Name, mem.Object, err)
			}
		}
	}
	if hit == nil {
		return nil
	}
	count := "records"
	if hit.n > 0 {
		count = fmt.Sprintf("%d record(s)", hit.n)
	}
	if hit.hashed {
		return fmt.Errorf("job %s: child %s: its each is classified (pii), and %s %s %s of it keyed by a hash under another fingerprint key (made before a key reset, or with a key since replaced): "+
			"no row reaches them under the current key, and this run would create them again beside the old ones. Delete those %s records in Salesforce and run again: "+
			"the records are created under the current key; or put the old key back (README, Privacy)",
			job.Name, hit.child, hit.where, hit.object, count, hit.object)
	}
	return fmt.Errorf("job %s: child %s: its each is classified (pii), and %s %s %s of it keyed by the value in clear, as before it was classified: "+
		"classifying an each changes its records' keys, and this run would create them again beside the old ones. Remove pii to go on as before; or delete those %s records in Salesforce, "+
		"start the state over with 'casebridge key reset CONFIG --yes' (it writes nothing), and run again: the records are created under their new keys (README, Privacy)",
		job.Name, hit.child, hit.where, hit.object, count, hit.object)
}

// stateRecords counts the records the state holds for job, stopping at
// the first (0 or 1).
func (r *Runner) stateRecords(ctx context.Context, job string) (int, error) {
	n := 0
	err := r.Store.Records(ctx, job, func(state.RecordState) error {
		n++
		return errHasRecords
	})
	if errors.Is(err, errHasRecords) {
		err = nil
	}
	return n, err
}
