package schedules

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/salesforce/api"
	"github.com/casebridge/casebridge/state"
)

// Bulk API 2.0 jobs (doc/architecture.md §5.11): the Salesforce connector calls
// OnBulkJob with each ingest job's id after creating it and before
// uploading any data; the runner records the id in the state under the job
// that is running, and the next run of that job drains what a crashed run
// left behind before it plans. Query jobs change nothing and are not
// recorded.
//
// The connector takes the callback when it is built: OpenSalesforce must
// set salesforce.Options.OnBulkJob to the Runner's OnBulkJob (open.go; until
// it does, only connectors built with it, as in the tests, record jobs).

// bulkDrainer is what draining needs of the Salesforce connector.
type bulkDrainer interface {
	BulkJob(ctx context.Context, id string) (*api.JobInfo, error)
	AbortBulkJob(ctx context.Context, id string) error
}

// bulkRouter routes the connector's OnBulkJob calls, which name an object
// but not a casebridge job, to the jobs running in this process.
type bulkRouter struct {
	mu       sync.Mutex
	running  map[string][]string // casebridge job -> Salesforce objects it writes
	inFlight map[string][]string // bulk job id -> casebridge jobs it was recorded under
}

// start notes that job is running and writes objects; stop forgets it.
func (b *bulkRouter) start(job string, objects []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running == nil {
		b.running, b.inFlight = map[string][]string{}, map[string][]string{}
	}
	b.running[job] = objects
}

// stop forgets job and returns the ids of the bulk jobs recorded under it
// while it ran.
func (b *bulkRouter) stop(job string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.running, job)
	var ids []string
	for id, jobs := range b.inFlight {
		if i := slices.Index(jobs, job); i >= 0 {
			ids = append(ids, id)
			if jobs = slices.Delete(jobs, i, i+1); len(jobs) == 0 {
				delete(b.inFlight, id)
			} else {
				b.inFlight[id] = jobs
			}
		}
	}
	return ids
}

// route returns the running jobs that write object, and marks id in
// flight under them. Two jobs of one process that write the same object
// at the same time both get the id: each drains it, and neither drains it
// while the other is still running.
func (b *bulkRouter) route(object, id string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var jobs []string
	for job, objects := range b.running {
		if slices.Contains(objects, object) {
			jobs = append(jobs, job)
		}
	}
	slices.Sort(jobs)
	if len(jobs) > 0 {
		b.inFlight[id] = append(b.inFlight[id], jobs...)
	}
	return jobs
}

// live reports whether id belongs to a run in progress in this process.
func (b *bulkRouter) live(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.inFlight[id]) > 0
}

// OnBulkJob is the Salesforce connector's salesforce.Options.OnBulkJob:
// it records an ingest job's id in the state under the running job that
// writes object, before the connector uploads the job's data. A failure to
// record is logged (the callback cannot stop the upload).
func (r *Runner) OnBulkJob(object, operation, id string) {
	if operation == "query" {
		return
	}
	jobs := r.bulk.route(object, id)
	if len(jobs) == 0 {
		r.Log.Warn().Str("object", object).Str("bulk_job", id).Msg("bulk job started outside any job run: not recorded")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, job := range jobs {
		err := r.Store.AddBulkJob(ctx, state.BulkJob{Job: job, Object: object, Operation: operation, ID: id, Created: r.now().UTC()})
		if err != nil {
			r.Log.Error().Str("job", job).Str("bulk_job", id).Err(err).Msg("bulk job not recorded; a crash now would leave it undrained")
		}
	}
}

// bulkDrainWait is how long a run waits by default for a bulk job a
// previous run left processing.
const bulkDrainWait = 10 * time.Minute

// drainBulkJobs brings every bulk job recorded under job to an end before
// the job plans: an ingest job still Open was interrupted during its upload
// and holds part of it, so it is aborted; one UploadComplete or InProgress
// is waited for (up to Runner.BulkDrainWait), because its writes land
// whether or not anyone waits, and planning before they have would plan
// against a moving org. Ended jobs are forgotten. Jobs that Salesforce no
// longer knows (it deletes them after seven days) are forgotten too.
func (r *Runner) drainBulkJobs(ctx context.Context, job string) error {
	recs, err := r.Store.BulkJobs(ctx, job)
	if err != nil || len(recs) == 0 {
		return err
	}
	d, ok := r.Salesforce.(bulkDrainer)
	if !ok {
		return fmt.Errorf("job %s: %d unfinished bulk job(s) recorded, and the Salesforce connector cannot look them up", job, len(recs))
	}
	log := r.Log.With().Str("job", job).Logger()
	wait := r.BulkDrainWait
	if wait <= 0 {
		wait = bulkDrainWait
	}
	poll := r.BulkDrainPoll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	for _, b := range recs {
		if r.bulk.live(b.ID) {
			continue // a run of another job in this process is still on it
		}
		deadline := time.Now().Add(wait)
		delay := poll
		for {
			info, err := d.BulkJob(ctx, b.ID)
			var apiErr *salesforce.APIError
			if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
				log.Info().Str("bulk_job", b.ID).Msg("bulk job left by an earlier run is gone from Salesforce; forgotten")
				break
			}
			if err != nil {
				return fmt.Errorf("job %s: bulk job %s left by an earlier run: %w", job, b.ID, err)
			}
			done := false
			switch info.State {
			case api.JobComplete, api.JobFailed, api.JobAborted:
				log.Info().Str("bulk_job", b.ID).Str("state", info.State).Int64("processed", info.NumberRecordsProcessed).
					Msg("bulk job left by an earlier run has ended")
				done = true
			case api.JobOpen:
				// Interrupted during its upload: abort it, so that the
				// part uploaded is never processed.
				if err := d.AbortBulkJob(ctx, b.ID); err != nil {
					return fmt.Errorf("job %s: aborting bulk job %s left open by an earlier run: %w", job, b.ID, err)
				}
				log.Warn().Str("bulk_job", b.ID).Msg("bulk job left open by an earlier run: aborted")
				done = true
			}
			if done {
				break
			}
			if time.Now().Add(delay).After(deadline) {
				return fmt.Errorf("job %s: bulk job %s left by an earlier run is still %s after %s; the next run waits for it again", job, b.ID, info.State, wait)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("job %s: waiting for bulk job %s: %w", job, b.ID, ctx.Err())
			case <-time.After(delay):
			}
			delay = min(delay*2, 30*time.Second)
		}
		if err := r.Store.RemoveBulkJob(ctx, job, b.ID); err != nil {
			return err
		}
	}
	return nil
}

// forgetBulkJobs removes the records of the bulk jobs a successful run
// started once Salesforce says they have ended (the connector waits for
// that, unless an upload failed); the others stay recorded for the next
// run to drain. A run that failed keeps all of them.
func (r *Runner) forgetBulkJobs(ctx context.Context, job string, ids []string) {
	d, ok := r.Salesforce.(bulkDrainer)
	if !ok {
		return
	}
	for _, id := range ids {
		info, err := d.BulkJob(ctx, id)
		if err != nil || (info.State != api.JobComplete && info.State != api.JobFailed && info.State != api.JobAborted) {
			continue
		}
		if err := r.Store.RemoveBulkJob(ctx, job, id); err != nil {
			r.Log.Warn().Str("job", job).Str("bulk_job", id).Err(err).Msg("finished bulk job still recorded; the next run checks it")
		}
	}
}
