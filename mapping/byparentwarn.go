package mapping

import (
	"context"
	"strings"

	"github.com/casebridge/casebridge/config"
)

// ByParentWarnings checks cfg's children keyed by_parent against the org:
// one whose object has External ID fields of its own is better keyed by
// one of them. key: by_parent works there too, but its records are written
// one Collections call per 200 by Id, never by upsert or the Bulk API, and
// its Ids must be kept in the state; a key field does without. It is a
// warning (at the child's key), not an error: the configuration runs.
// Objects that cannot be described are left to CheckOnline's errors.
func ByParentWarnings(ctx context.Context, cfg *config.Config, describe DescribeFunc) config.Warnings {
	var out config.Warnings
	for _, name := range cfg.JobNames() {
		j := cfg.Jobs[name]
		if j == nil {
			continue
		}
		for _, ch := range j.Children {
			if ch == nil || ch.Object == "" || !ch.ByParent() {
				continue
			}
			d, err := describe(ctx, ch.Object)
			if err != nil || d == nil {
				continue
			}
			var ids []string
			for _, f := range d.Fields {
				// The connector describes an object keyed by its parent
				// with a key field of its own making, by_parent: not the
				// org's.
				if f.ExternalID && !strings.EqualFold(f.Name, config.KeyByParent) {
					ids = append(ids, f.Name)
				}
			}
			if len(ids) == 0 {
				continue
			}
			out = append(out, ch.Meta.Errorf("key", "%s has external id field(s) %s: key: %s is simpler and lets Bulk API and upserts work",
				d.Name, strings.Join(ids, ", "), ids[0]))
		}
	}
	return out
}
