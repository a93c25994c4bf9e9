// Package schedules runs jobs: cron schedules (robfig/cron/v3, with panics
// recovered and specs validated), the job runner shared by the daemon and
// the CLI, and the per-job lock that keeps two runs of one job apart.
package schedules
