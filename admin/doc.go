// Package admin is casebridge's admin HTTP API: JSON endpoints over the
// state store's run history, per-record errors and conflict queue, runs by
// hand, Prometheus metrics and a small status page. The daemon serves it:
//
//	var sched *schedules.Scheduler
//	srv := admin.New(admin.Options{Config: cfg, Store: runner.Store, Run: runner.Run,
//		NextRun: func(job string) time.Time { return sched.NextRun(job) },
//		Token: adminToken, Log: log})
//	sched = schedules.New(log, srv.ScheduledRun) // or call srv.Observe after each run
//	// ... sched.Add each scheduled job, sched.Start() ...
//	hs := &http.Server{Addr: admin.DefaultAddr, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
//	go hs.ListenAndServe()
//	// on shutdown: hs.Shutdown(ctx); srv.Close(ctx); sched.Stop(ctx)
//
// # Endpoints
//
// Every answer is JSON (except /metrics and /), errors are {"error": "..."}.
//
//	GET  /                                    status page (HTML, self-contained)
//	GET  /healthz                             200 {"status":"ok"} while the process serves
//	GET  /readyz                              200 or 503 {"ready","checks":[{"name","ok","detail"}]}
//	GET  /metrics                             Prometheus exposition
//	GET  /api/v1/jobs                         {"jobs":[Job]}
//	GET  /api/v1/jobs/{job}                   Job
//	GET  /api/v1/jobs/{job}/runs?limit=N      {"job","runs":[Run]}, newest first (N 1-500, default 20)
//	GET  /api/v1/jobs/{job}/runs/{id}/errors  {"job","run_id","errors":[{"key","field","code","message","at"}]}
//	GET  /api/v1/jobs/{job}/triggers/{id}     Trigger: a run started through the API
//	GET  /api/v1/conflicts?job=JOB            {"conflicts":[{"job","key","field","status","opened","resolution","resolved"}]}
//	POST /api/v1/jobs/{job}/run               token; body {"dry_run","full","force"} (all optional) -> 202 Trigger
//	POST /api/v1/conflicts/resolve            token; body {"job","key","field","side"} -> 200
//
// A Job shows its schedule, next run, whether a run is in progress here,
// its last run (id, outcome, start, end, counts), its open conflicts and its
// children's last runs. Child members of a job have their own history under
// "job/child"; escape the slash in paths (/api/v1/jobs/th_cases%2Fstipend/runs).
//
// # Runs by hand
//
// POST /api/v1/jobs/{job}/run starts the run in the background and answers
// 202 Accepted at once with a Trigger and a Location header; poll that URL
// (GET /api/v1/jobs/{job}/triggers/{id}) until its status is "done", then
// read its outcome, run id and counts (the run's errors are at
// /api/v1/jobs/{job}/runs/{run_id}/errors). A sync of a large org takes
// minutes, longer than HTTP clients and proxies like to wait, so the API
// does not hold the request open. A run of the job already in progress in
// this process (started through the API or by ScheduledRun) answers 409.
// A run held by another replica's lease ends with outcome "locked". The
// last 100 triggers are kept in memory; the run history in the state store
// is the lasting record. Close cancels runs started here and waits for them.
//
// # Security
//
//   - Listen on DefaultAddr (loopback) unless the operator says otherwise.
//     CheckExposure judges any other address before the daemon listens:
//     without a token it is refused unless forced, and warned of either
//     way (plain HTTP: a TLS proxy belongs in front).
//   - Every state-changing endpoint requires "Authorization: Bearer TOKEN".
//     No token configured: 403, the API is read-only. Missing or wrong
//     token: 401. The comparison is constant-time over SHA-256 hashes; the
//     Server keeps only the hash and never logs the token.
//   - Options.ProtectReads puts the JSON read endpoints behind the token
//     too (they show record keys and field names, never values).
//   - No record value is ever shown: runs, errors and conflicts carry keys,
//     field names, codes and value-free messages; conflict fingerprints are
//     not shown either (they are pseudonymous data). The request log names
//     the route pattern, never the URL, a header or a body.
//
// # Readiness
//
// /readyz reads only the state store: ready when it answers and the last
// run of each scheduled job (and of its children) did not end "failed".
// An aborted run (a safety brake) is not a failure of the daemon. It never
// calls Salesforce, however often it is probed.
//
// # Metrics
//
//	casebridge_runs_total{job,outcome}                    counter
//	casebridge_run_failures_total{job,stage,code}         counter (failed runs: the stage that failed, as alerts name it)
//	casebridge_run_duration_seconds{job}                  histogram
//	casebridge_records_written_total{job,side,op}         counter (side salesforce|local, op create|update|delete)
//	casebridge_record_failures_total{job,code}            counter (failed writes and unmapped rows)
//	casebridge_conflicts_open{job}                        gauge, read from the state store at scrape
//	casebridge_last_success_timestamp_seconds{job}        gauge, read from the state store at scrape
//	casebridge_salesforce_api_usage{kind="used"|"limit"}  gauge, from the last run's Sforce-Limit-Info
//
// Outcomes are ok, dry_run, aborted, locked, cancelled and failed; a
// failed run's stage is login, start, source, mapping, salesforce, state
// or sync (schedules.FailureStage). Labels carry only configured job
// names, sides, ops, outcomes, stages and error codes;
// a code that is not an UPPER_SNAKE word is reported as OTHER, so text from
// a message can never become a label. Children count under their parent
// job. Runs are counted by the process that ran them (ScheduledRun,
// Observe, or the API); the two gauges from the state store cover every
// replica sharing it.
package admin
