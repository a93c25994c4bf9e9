package state

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/proc"
)

// Lease is a job's lease as the store holds it.
type Lease struct {
	Job string
	// Holder names the process that took it: "host:pid" (HolderName).
	Holder string
	// Token is the fencing token of the holder's acquisition.
	Token int64
	// Expires is when it lapses unless renewed; zero once released.
	Expires time.Time
}

// Live reports whether the lease is held at now.
func (l Lease) Live(now time.Time) bool { return l.Expires.After(now) }

// HolderName names this process in leases: "host:pid", the host as the
// operating system names it. Processes sharing a state store must not
// share a name: replicas in containers each need their own host name (the
// default in Kubernetes and Docker), since two processes named alike are
// one holder to the store.
func HolderName() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// HolderGone reports whether holder ("host:pid", as HolderName names
// processes) is a process of this host that is no longer running: its
// lease is taken over at once rather than after it expires. A holder on
// another host, a name of another form, this very process and a process
// whose state cannot be told are not gone. A process ID reused by another
// process since counts as running: the lease then lapses at its time.
func HolderGone(holder string) bool {
	pid, ok := HolderHere(holder)
	return ok && pid != os.Getpid() && proc.Gone(pid)
}

// HolderHere returns the process ID of holder ("host:pid") when its host
// is this one.
func HolderHere(holder string) (pid int, ok bool) {
	i := strings.LastIndexByte(holder, ':')
	if i <= 0 {
		return 0, false
	}
	pid, err := strconv.Atoi(holder[i+1:])
	if err != nil || pid <= 0 {
		return 0, false
	}
	host, err := os.Hostname()
	if err != nil || host == "" || holder[:i] != host {
		return 0, false
	}
	return pid, true
}
