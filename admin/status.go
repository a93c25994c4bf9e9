package admin

import (
	"bytes"
	"html/template"
	"net/http"
	"time"
)

// statusTemplate is the status page: self-contained (inline style, no
// script, no external asset), so it works offline and under a strict
// Content-Security-Policy. It shows job names, schedules, outcomes (with
// the stage a failed run stopped at) and counts only: no key, no value,
// no error text (a message may name a record's key; the JSON has it).
var statusTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>casebridge status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1a7f37; } .dry_run { color: #555; } .running { color: #0550ae; }
.aborted { color: #9a6700; } .failed { color: #cf222e; font-weight: bold; }
.err { color: #cf222e; }
small { color: #666; }
</style>
</head>
<body>
<h1>casebridge</h1>
<p><small>Generated {{.Now}}. JSON: <a href="/api/v1/jobs">jobs</a> · <a href="/api/v1/conflicts">conflicts</a> · <a href="/readyz">readiness</a> · <a href="/metrics">metrics</a></small></p>
{{if .Err}}<p class="err">{{.Err}}</p>{{end}}
<table>
<thead><tr>
<th>Job</th><th>Schedule</th><th>Next run</th><th>Last run</th><th>Outcome</th><th>Started</th><th>Ended</th>
<th>Read</th><th>Created</th><th>Updated</th><th>Deleted</th><th>Conflicts</th><th>Failed</th><th>Unreadable rows</th><th>Unmapped cells</th><th>Open conflicts</th><th>JSON</th>
</tr></thead>
<tbody>
{{range .Jobs}}<tr>
<td>{{.Name}}{{if .Running}} <small class="running">(running)</small>{{end}}</td>
<td>{{if .Schedule}}<code>{{.Schedule}}</code>{{else}}<small>by hand</small>{{end}}</td>
<td>{{when .NextRun}}</td>
{{with .LastRun}}<td class="n">{{.ID}}</td><td class="{{.Outcome}}">{{.Outcome}}{{with .Stage}} ({{.}}){{end}}</td><td>{{when .Start}}</td><td>{{when .End}}</td>
<td class="n">{{.Counts.Read}}</td><td class="n">{{.Counts.Creates}}</td><td class="n">{{.Counts.Updates}}</td><td class="n">{{.Counts.Deletes}}</td><td class="n">{{.Counts.Conflicts}}</td><td class="n">{{.Counts.Failures}}</td><td class="n">{{.Counts.Unreadable}}</td><td class="n">{{.Counts.Unmapped}}</td>
{{else}}<td colspan="12"><small>no run yet</small></td>{{end}}
<td class="n">{{.OpenConflicts}}</td>
<td><a href="{{.Links.Runs}}">runs</a> · <a href="{{.Links.Conflicts}}">conflicts</a>{{with .LastRun}} · <a href="{{.ErrorsURL}}">errors</a>{{end}}</td>
</tr>
{{range .Children}}<tr>
<td><small>└ {{.Name}}</small></td><td></td><td></td>
{{with .LastRun}}<td class="n">{{.ID}}</td><td class="{{.Outcome}}">{{.Outcome}}{{with .Stage}} ({{.}}){{end}}</td><td>{{when .Start}}</td><td>{{when .End}}</td>
<td class="n">{{.Counts.Read}}</td><td class="n">{{.Counts.Creates}}</td><td class="n">{{.Counts.Updates}}</td><td class="n">{{.Counts.Deletes}}</td><td class="n">{{.Counts.Conflicts}}</td><td class="n">{{.Counts.Failures}}</td><td class="n">{{.Counts.Unreadable}}</td><td class="n">{{.Counts.Unmapped}}</td>
<td></td><td><a href="{{.ErrorsURL}}">errors</a></td>
{{else}}<td colspan="14"><small>no run yet</small></td>{{end}}
</tr>
{{end}}{{end}}
</tbody>
</table>
<p><small>Runs by hand: <code>POST /api/v1/jobs/JOB/run</code> with the admin token (see the daemon's documentation).</small></p>
</body>
</html>
`))

type statusData struct {
	Now  string
	Jobs []Job
	Err  string
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	data := statusData{Now: s.opts.Now().UTC().Format("2006-01-02 15:04:05Z")}
	jobs, err := s.jobs(ctx)
	if err != nil {
		s.log.Error().Err(err).Msg("admin: status page: state store query failed")
		data.Err = "The state store did not answer; run history is not shown."
		jobs = nil
	}
	data.Jobs = jobs
	var buf bytes.Buffer
	if err := statusTemplate.Execute(&buf, data); err != nil {
		s.log.Error().Err(err).Msg("admin: status page")
		writeError(w, http.StatusInternalServerError, "status page failed to render")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "DENY")
	status := http.StatusOK
	if err != nil {
		status = http.StatusServiceUnavailable
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
