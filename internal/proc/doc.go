// Package proc tells whether a process of this machine is gone: the
// sheet connector removes the temporary files a dead process left, and
// the state store takes over a job lease a dead process of this host held.
// Each answer errs towards "running": a false "gone" would remove a live
// process's files or take its lease.
package proc
