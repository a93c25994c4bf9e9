package schedules

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/reconcile"
)

// codeInvalidReference is Salesforce's rejection of a reference to a
// record it does not have (deleted since its Id was looked up).
const codeInvalidReference = "INVALID_CROSS_REFERENCE_KEY"

// lookupResolver returns a run's lookup resolver: lookups and children's
// parent references are searched in the org in batches and remembered
// across runs in the state's lookup cache (by the fingerprint key's hash
// of each value, never the value), so that a run searches only values it
// has not seen. A --full run forgets the job's lookup caches first (a dry
// run, which changes nothing, ignores them instead); a dry run adds
// nothing to them.
func (r *Runner) lookupResolver(ctx context.Context, m *mapping.JobMapping, opts RunOptions, log zerolog.Logger) (*mapping.StoredResolver, error) {
	var hash func(string) string
	if fp := r.currentFP(); fp != nil {
		hash = fp.KeyHash
	}
	find := lookupFinder{orgResolver: orgResolver{r.Salesforce}, inBody: map[string]bool{}}
	for _, t := range m.ClassifiedLookupTargets() {
		find.inBody[mapping.LookupScope(t.Object, t.Field)] = true
	}
	res := mapping.NewStoredResolver(find, r.Store, hash)
	res.Now = r.Now
	res.ReadOnly = opts.DryRun
	res.Fresh = opts.Full && opts.DryRun
	// Classified lookup values are never remembered (mapping's
	// StoredResolver.Private): what an earlier version cached of them is
	// forgotten by a run that writes, unless another job of the
	// configuration looks the same field up unclassified and caches it
	// (forgetting would only make that job search again every run).
	res.Private = map[string]bool{}
	openScopes := openLookupScopes(r.Config)
	for _, t := range m.ClassifiedLookupTargets() {
		scope := mapping.LookupScope(t.Object, t.Field)
		res.Private[scope] = true
		if !opts.DryRun && r.Store != nil && !openScopes[scope] {
			if err := res.ForgetScope(ctx, t.Object, t.Field); err != nil {
				return nil, fmt.Errorf("forgetting the lookup cache of %s.%s: %w", t.Object, t.Field, err)
			}
		}
	}
	if opts.Full && !opts.DryRun && r.Store != nil {
		for _, t := range m.LookupTargets() {
			if err := res.ForgetScope(ctx, t.Object, t.Field); err != nil {
				return nil, fmt.Errorf("forgetting the lookup cache of %s.%s: %w", t.Object, t.Field, err)
			}
		}
		if n := res.Stats().Forgot; n > 0 {
			log.Info().Int("forgotten", n).Msg("full run: lookup values are resolved again")
		}
	}
	return res, nil
}

// lookupsDone logs what the run's lookups cost and forgets the lookup
// cache entries of the Ids Salesforce
// rejected this run (INVALID_CROSS_REFERENCE_KEY: the referenced record is
// gone), so that the next run resolves their values again. The rejected
// records are read again from the local side (no API call) for the Ids
// their lookup fields carried: those of the field Salesforce named, or of
// every lookup field when it named none.
func (r *Runner) lookupsDone(ctx context.Context, res *mapping.StoredResolver, view *mapping.View, m *mapping.JobMapping, out *reconcile.Result, log zerolog.Logger) {
	if st := res.Stats(); st.Cached+st.Resolved+st.Reversed > 0 {
		log.Info().Int("cached", st.Cached).Int("resolved", st.Resolved).Int("ids_reversed", st.Reversed).Int("learned", st.Learned).Int("searches", st.Queries).Msg("lookups")
		if st.CacheErr != nil {
			log.Warn().Err(st.CacheErr).Msg("could not remember resolved lookup values; they are resolved again next run")
		}
	}
	if out == nil || res.ReadOnly {
		return
	}
	before := res.Stats().Forgot
	members := m.Members() // the parent, then the children, as out and out.Children
	results := append([]*reconcile.Result{out}, out.Children...)
	for i, rr := range results {
		if i >= len(members) || rr == nil {
			continue
		}
		mem := members[i]
		fields := map[string][]string{} // key -> the fields Salesforce named ("" for none)
		var keys []string
		for _, f := range rr.Failed {
			if f.Code != codeInvalidReference {
				continue
			}
			id := connector.KeyID(f.Key, false)
			if _, seen := fields[id]; !seen {
				keys = append(keys, f.Key)
			}
			fields[id] = append(fields[id], f.Field)
		}
		if len(keys) == 0 {
			continue
		}
		v := view.Only(mem.Name)
		if v == nil {
			continue
		}
		rejected := map[mapping.LookupTarget][]string{}
		err := v.ReadKeys(ctx, mem.Object, keys, func(rec connector.Record) error {
			named := fields[connector.KeyID(rec.Key, false)]
			for name, val := range rec.Fields {
				t, ok := m.LookupFields(mem, name)
				if !ok || !namedField(named, name) {
					continue
				}
				if id, _ := val.Text(); id != "" {
					rejected[t] = append(rejected[t], id)
				}
			}
			return nil
		})
		for t, ids := range rejected { // once read: a forgotten value is not searched again this run
			if ferr := res.Forget(ctx, t.Object, t.Field, ids...); ferr != nil && err == nil {
				err = ferr
			}
		}
		if err != nil {
			log.Warn().Err(err).Str("object", mem.Object).Msg("could not forget the lookup values Salesforce rejected; a --full run resolves every value again")
		}
	}
	if n := res.Stats().Forgot - before; n > 0 {
		log.Info().Int("forgotten", n).Msg("lookup values whose record Salesforce no longer has are resolved again next run")
	}
}

// namedField reports whether field is among the fields a rejection named;
// a rejection that named none names every field.
func namedField(named []string, field string) bool {
	for _, n := range named {
		if n == "" || strings.EqualFold(n, field) {
			return true
		}
	}
	return false
}

// FindIDsIn implements mapping.Finder on the org: in batches where the
// connector can, else one search per value.
func (o orgResolver) FindIDsIn(ctx context.Context, object, field string, values []string) (map[string][]string, error) {
	if f, ok := o.sf.(mapping.Finder); ok {
		return f.FindIDsIn(ctx, object, field, values)
	}
	f, ok := o.sf.(interface {
		FindIDs(ctx context.Context, object, field, value string, limit int) ([]string, error)
	})
	if !ok {
		return nil, fmt.Errorf("lookup %s.%s: the Salesforce connector cannot search", object, field)
	}
	out := make(map[string][]string, len(values))
	for _, v := range values {
		ids, err := f.FindIDs(ctx, object, field, v, 2)
		if err != nil {
			return nil, err
		}
		out[v] = ids
	}
	return out, nil
}

// lookupFinder is the org's Finder for one job: the values of targets a
// classified lookup rule searches are sent in request bodies, never in a
// URL (proxies and load balancers log URLs).
type lookupFinder struct {
	orgResolver
	inBody map[string]bool // mapping.LookupScope of the classified targets
}

// bodyFinder is a connector that searches with the values in a request
// body (the Salesforce connector's FindIDsInBody).
type bodyFinder interface {
	FindIDsInBody(ctx context.Context, object, field string, values []string) (map[string][]string, error)
}

// FindIDsIn implements mapping.Finder: a classified target's values go in
// a body, or are not searched at all.
func (f lookupFinder) FindIDsIn(ctx context.Context, object, field string, values []string) (map[string][]string, error) {
	if !f.inBody[mapping.LookupScope(object, field)] {
		return f.orgResolver.FindIDsIn(ctx, object, field, values)
	}
	if bf, ok := f.sf.(bodyFinder); ok {
		return bf.FindIDsInBody(ctx, object, field, values)
	}
	return nil, fmt.Errorf("lookup %s.%s: the rule is classified, and the Salesforce connector cannot search without putting its values in a request URL", object, field)
}

// FindValuesIn implements mapping.ValueFinder on the org, for two-way
// lookups: the values a field holds on records by their Ids, in batches.
func (o orgResolver) FindValuesIn(ctx context.Context, object, field string, ids []string) (map[string]string, error) {
	f, ok := o.sf.(mapping.ValueFinder)
	if !ok {
		return nil, fmt.Errorf("lookup %s.%s: the Salesforce connector cannot turn Ids back into values", object, field)
	}
	return f.FindValuesIn(ctx, object, field, ids)
}

// openLookupScopes are the lookup scopes some rule of cfg looks up
// unclassified (pii: none), in any job or child.
func openLookupScopes(cfg *config.Config) map[string]bool {
	out := map[string]bool{}
	if cfg == nil {
		return out
	}
	add := func(rules []*config.Rule) {
		for _, f := range rules {
			if f != nil && f.Lookup != nil && (f.PII == "" || f.PII == config.PIINone) {
				out[mapping.LookupScope(f.Lookup.Object, f.Lookup.Field)] = true
			}
		}
	}
	for _, job := range cfg.Jobs {
		if job == nil {
			continue
		}
		add(job.Fields)
		for _, c := range job.Children {
			if c != nil {
				add(c.Fields)
			}
		}
	}
	return out
}
