package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version, commit and date are stamped in by the release command
// (tools/release) with
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=<git sha> -X main.date=<RFC 3339, UTC>"
//
// Left empty (go build, go run) they come from the build information Go
// records where it can, and the version is otherwise "dev".
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildStamp is what the binary knows of its own build.
type buildStamp struct {
	Version, Commit, Date string
}

func readBuildStamp() buildStamp {
	s := buildStamp{Version: version, Commit: commit, Date: date}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if s.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			s.Version = bi.Main.Version
		}
		modified := false
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				if s.Commit == "" {
					s.Commit = kv.Value
				}
			case "vcs.time":
				if s.Date == "" {
					s.Date = kv.Value
				}
			case "vcs.modified":
				modified = kv.Value == "true"
			}
		}
		if modified && commit == "" && s.Commit != "" && !strings.HasSuffix(s.Commit, "-dirty") {
			s.Commit += "-dirty"
		}
	}
	if s.Version == "" {
		s.Version = "dev"
	}
	return s
}

// String is the line `casebridge version` prints: the version, platform and
// Go release, then the commit (its first 12 characters) and build date
// where known.
func (s buildStamp) String() string {
	line := fmt.Sprintf("casebridge %s %s/%s %s", s.Version, runtime.GOOS, runtime.GOARCH, runtime.Version())
	if s.Commit != "" {
		c, dirty := strings.CutSuffix(s.Commit, "-dirty")
		if len(c) > 12 {
			c = c[:12]
		}
		if dirty {
			c += "-dirty"
		}
		line += " commit " + c
	}
	if s.Date != "" {
		line += " built " + s.Date
	}
	return line
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of casebridge",
		Long: "Print the version of casebridge, the platform it was built for, the Go release,\n" +
			"and, for a released build, the commit and the date it was built from.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(a.stdout, readBuildStamp().String())
			return err
		},
	}
}
