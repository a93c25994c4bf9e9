package main

import (
	"regexp"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagRE finds a flag named in help text (--dry-run, --report), and the
// word before it: another command's name when the text names that
// command's flag (describe --json).
var flagRE = regexp.MustCompile(`(\S*)\s*--([a-z][a-z0-9-]*)`)

// TestFlagHelpNamesOnlyItsFlags checks that the usage of each of a
// command's flags names only flags the command takes: reconcile's
// --show-values said it works "with --dry-run and --report", and
// reconcile rejects --dry-run (it is always a dry run).
func TestFlagHelpNamesOnlyItsFlags(t *testing.T) {
	a := &app{}
	root := a.rootCommand()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			for _, m := range flagRE.FindAllStringSubmatch(f.Usage, -1) {
				before, name := m[1], m[2]
				if other, _, err := root.Find([]string{before}); err == nil && other != root && other != c {
					continue // another command's flag
				}
				if name != "help" && c.Flags().Lookup(name) == nil && c.InheritedFlags().Lookup(name) == nil {
					t.Errorf("%s --%s: its help names --%s, which %s does not take", c.CommandPath(), f.Name, name, c.Name())
				}
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
