package schedules

import (
	"context"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
)

// Values are record values a dry run read for its report (--show-values):
// by side ("salesforce" or "local"), key (connector.NormalizeKey form) and
// field. They are held in memory only, for the report, and only for the
// records the plan would write.
type Values map[string]map[string]map[string]connector.Value

// Get returns the value of field of key on side.
func (v Values) Get(side, key, field string) (connector.Value, bool) {
	val, ok := v[side][connector.NormalizeKey(key)][field]
	return val, ok
}

// captureValues reads, by key, the records a dry run's plans would write,
// on both sides, so that a report can show what would change. It costs one
// read by key per object and side.
func captureValues(ctx context.Context, sf, local connector.Connector, res *reconcile.Result, job *reconcile.Job) (Values, error) {
	out := Values{"salesforce": {}, "local": {}}
	var walk func(res *reconcile.Result, job *reconcile.Job) error
	walk = func(res *reconcile.Result, job *reconcile.Job) error {
		if res == nil || res.Plan == nil || job == nil {
			return nil
		}
		keys := make([]string, 0, res.Plan.NumWrites())
		for _, w := range res.Plan.AllWrites() {
			keys = append(keys, w.Key)
		}
		if len(keys) > 0 {
			for side, conn := range map[string]connector.Connector{"salesforce": sf, "local": local} {
				kr, ok := conn.(connector.KeyReader)
				if !ok {
					continue
				}
				err := kr.ReadKeys(ctx, job.Object, keys, func(rec connector.Record) error {
					out[side][connector.NormalizeKey(rec.Key)] = rec.Fields
					return nil
				})
				if err != nil {
					return err
				}
			}
		}
		for i, c := range job.Children {
			if i < len(res.Children) {
				if err := walk(res.Children[i], c.Job); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(res, job)
}
