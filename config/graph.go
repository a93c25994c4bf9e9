package config

import (
	"slices"
	"strconv"
	"strings"
)

// The order of jobs that run together. A lookup finds the record it
// references in Salesforce, so a job whose lookups search the records
// another job writes (cases naming their partner organisation, partners
// written by a partners job) runs after that job: a partner added to the
// partners' sheet reaches Salesforce before the cases naming it are
// mapped. Jobs with no such link keep the configuration's order.
//
// Only what can depend on another job's writes counts: a lookup rule that
// writes Salesforce (a lookup that only reads, direction from_salesforce,
// turns Ids Salesforce holds into values and needs no other job first),
// into an object another job writes (its salesforce object or a child's
// object) in a direction that writes Salesforce. A job's lookups into its
// own objects are no link. Jobs that would each have to run after the
// other (directly or through more jobs) are a validate error.

// lookupLink is one reason for a job to run after another: a lookup rule
// of the job searching an object the other job writes.
type lookupLink struct {
	rule   *Rule
	job    *Job // the job whose rule it is
	writer *Job // a job writing the lookup's object
}

// writers returns, by lower-case object name, the jobs writing that
// object in Salesforce, in file order.
func (c *Config) writers() map[string][]*Job {
	out := map[string][]*Job{}
	for _, name := range c.jobNames() {
		j := c.Jobs[name]
		if j == nil || !j.Direction.WritesSalesforce() {
			continue
		}
		objects := []string{j.Salesforce.Object}
		for _, ch := range j.Children {
			if ch != nil {
				objects = append(objects, ch.Object)
			}
		}
		for _, o := range objects {
			o = strings.ToLower(o)
			if o != "" && !slices.Contains(out[o], j) {
				out[o] = append(out[o], j)
			}
		}
	}
	return out
}

// lookupLinks returns the links of job j, in rule order (the parent's
// rules, then each child's).
func (c *Config) lookupLinks(j *Job, writers map[string][]*Job) []lookupLink {
	if j == nil {
		return nil
	}
	rules := slices.Clone(j.Fields)
	for _, ch := range j.Children {
		if ch != nil {
			rules = append(rules, ch.Fields...)
		}
	}
	var out []lookupLink
	for _, r := range rules {
		if r == nil || r.Lookup == nil || r.Lookup.Object == "" {
			continue
		}
		if writesSF, _ := r.Writes(j.Direction); !writesSF {
			continue
		}
		for _, w := range writers[strings.ToLower(r.Lookup.Object)] {
			if w != j {
				out = append(out, lookupLink{rule: r, job: j, writer: w})
			}
		}
	}
	return out
}

// RunsAfter returns the jobs that job runs after when they run together:
// those writing the records its lookups search, in file order. A job's
// lookups into its own objects do not count.
func (c *Config) RunsAfter(job string) []string {
	var out []string
	for _, l := range c.lookupLinks(c.Jobs[job], c.writers()) {
		if !slices.Contains(out, l.writer.Name) {
			out = append(out, l.writer.Name)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return c.fileIndex(a) - c.fileIndex(b) })
	return out
}

// jobNames returns the jobs' names in file order (also while the
// configuration is being validated, before JobNames is set).
func (c *Config) jobNames() []string {
	if c.jobOrder != nil {
		return c.jobOrder
	}
	return namesInOrder(c.Jobs, func(j *Job) Pos { return j.Pos })
}

// fileIndex is a job's place in the file (after every job for an
// unknown name).
func (c *Config) fileIndex(name string) int {
	names := c.jobNames()
	if i := slices.Index(names, name); i >= 0 {
		return i
	}
	return len(names)
}

// JobOrder returns names (jobs that run together, such as every job of
// `casebridge sync` with no job named) in the order they run: each after
// the jobs among names that it runs after (RunsAfter), otherwise in the
// order given. A cycle, which validate refuses, keeps the order given for
// the jobs in it.
func (c *Config) JobOrder(names []string) []string {
	index := map[string]int{}
	for i, n := range names {
		if _, dup := index[n]; !dup {
			index[n] = i
		}
	}
	waits := make([]int, len(names)) // jobs among names not placed yet that each runs after
	next := map[string][]int{}       // job -> the positions of the jobs waiting for it
	for i, n := range names {
		if index[n] != i {
			continue
		}
		for _, a := range c.RunsAfter(n) {
			if _, ok := index[a]; ok && a != n {
				waits[i]++
				next[a] = append(next[a], i)
			}
		}
	}
	out := make([]string, 0, len(names))
	placed := make([]bool, len(names))
	for len(out) < len(index) {
		pick := -1
		for i, n := range names {
			if !placed[i] && index[n] == i && waits[i] == 0 {
				pick = i
				break
			}
		}
		if pick < 0 { // a cycle: the rest in the order given
			for i, n := range names {
				if !placed[i] && index[n] == i {
					placed[i] = true
					out = append(out, n)
				}
			}
			break
		}
		placed[pick] = true
		out = append(out, names[pick])
		for _, i := range next[names[pick]] {
			waits[i]--
		}
	}
	return out
}

// jobGraph reports each set of jobs that would each have to run after
// another of them: one finding per cycle, at the lookup of its first job
// (in file order) that starts it, naming every job and lookup of the
// cycle with its position.
func (d *decoder) jobGraph(c *Config) {
	writers := c.writers()
	links := map[*Job][]lookupLink{}
	var jobs []*Job
	for _, name := range c.jobNames() {
		if j := c.Jobs[name]; j != nil {
			jobs = append(jobs, j)
			links[j] = c.lookupLinks(j, writers)
		}
	}
	for _, scc := range stronglyConnected(jobs, links) {
		if len(scc) < 2 {
			continue
		}
		cycle := shortestCycle(scc[0], scc, links)
		if len(cycle) == 0 {
			continue
		}
		d.cycle(cycle)
	}
}

// cycle reports one cycle of links (each link's writer is the next
// link's job, the last's the first's).
func (d *decoder) cycle(cycle []lookupLink) {
	names := make([]string, len(cycle))
	var steps []string
	for i, l := range cycle {
		names[i] = l.job.Name
		where := "here"
		if i > 0 {
			where = "at line " + strconv.Itoa(l.rule.Lookup.At("object").Line) + " (" + l.rule.KeyPath + ")"
		}
		steps = append(steps, "job "+l.job.Name+" looks up "+l.rule.Lookup.Object+" "+where+", which job "+l.writer.Name+" writes")
	}
	first := cycle[0].rule.Lookup
	d.errAt(&first.Meta, "object", "lookup cycle: jobs %s each run after the jobs writing the records their lookups search, so none can run first: %s; make one of these lookups direction: from_salesforce",
		joinAnd(names), strings.Join(steps, "; "))
}

// joinAnd joins names as "a, b and c".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// stronglyConnected returns the strongly connected components of the
// jobs linked by links (Tarjan's algorithm), each in file order, ordered
// by their first job.
func stronglyConnected(jobs []*Job, links map[*Job][]lookupLink) [][]*Job {
	pos := map[*Job]int{}
	for i, j := range jobs {
		pos[j] = i
	}
	index := map[*Job]int{}
	low := map[*Job]int{}
	onStack := map[*Job]bool{}
	var stack []*Job
	var out [][]*Job
	var visit func(j *Job)
	visit = func(j *Job) {
		index[j] = len(index)
		low[j] = index[j]
		stack = append(stack, j)
		onStack[j] = true
		for _, l := range links[j] {
			w := l.writer
			if _, seen := index[w]; !seen {
				visit(w)
				low[j] = min(low[j], low[w])
			} else if onStack[w] {
				low[j] = min(low[j], index[w])
			}
		}
		if low[j] == index[j] {
			var scc []*Job
			for {
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[top] = false
				scc = append(scc, top)
				if top == j {
					break
				}
			}
			slices.SortFunc(scc, func(a, b *Job) int { return pos[a] - pos[b] })
			out = append(out, scc)
		}
	}
	for _, j := range jobs {
		if _, seen := index[j]; !seen {
			visit(j)
		}
	}
	slices.SortFunc(out, func(a, b []*Job) int { return pos[a[0]] - pos[b[0]] })
	return out
}

// shortestCycle returns a shortest cycle of links from start back to it
// within the jobs of scc (breadth first, links in rule order).
func shortestCycle(start *Job, scc []*Job, links map[*Job][]lookupLink) []lookupLink {
	in := map[*Job]bool{}
	for _, j := range scc {
		in[j] = true
	}
	via := map[*Job]lookupLink{} // job -> the link that reached it
	queue := []*Job{start}
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		for _, l := range links[j] {
			w := l.writer
			if !in[w] {
				continue
			}
			if w == start {
				path := []lookupLink{l}
				for at := j; at != start; at = via[at].job {
					path = append(path, via[at])
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := via[w]; !seen {
				via[w] = l
				queue = append(queue, w)
			}
		}
	}
	return nil
}
