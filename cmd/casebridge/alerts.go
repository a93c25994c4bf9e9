package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/alert"
)

func (a *app) alertsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Check the configuration's alert targets",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "test CONFIG [NAME...]",
		Short: "Send a test message to each alert target (or those named)",
		Long: `Send a test message to every webhook and e-mail of CONFIG's alerts (or of the
targets named), and say for each whether it was delivered. Nothing is read
from Salesforce or the sources, nothing is recorded, and the de-duplication
and max_per_hour do not apply. Use it after writing or changing alerts:, and
after a webhook URL or an SMTP password changes.

The daemon and casebridge sync send the real alerts: after a run that failed
(at any stage, the Salesforce login included), a job locked out, a safety
brake, conflicts held for a person, and findings (failed, unmapped,
unreadable, unknown or ambiguous records), each as the target's on: lists.
An alert names the job, the run, the stage, counts and codes: never a
record's value or an error's text.`,
		Example: "  casebridge alerts test casebridge.yaml\n  casebridge alerts test casebridge.yaml ops-email",
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			cfg, err := a.loadConfig(argv[0])
			if err != nil {
				return err
			}
			var names []string
			for _, al := range cfg.Alerts {
				names = append(names, al.Name)
			}
			if len(names) == 0 {
				return withCode(exitConfig, fmt.Errorf("%s has no alerts", argv[0]))
			}
			for _, n := range argv[1:] {
				if !slices.Contains(names, n) {
					return usageErrorf("no alert %q in %s (alerts: %s)", n, argv[0], strings.Join(names, ", "))
				}
			}
			results := alert.New(cfg.Alerts, a.log, alert.Options{}).Test(cmd.Context(), argv[1:]...)
			failed := 0
			for _, name := range slices.Sorted(maps.Keys(results)) {
				if err := results[name]; err != nil {
					failed++
					fmt.Fprintf(a.stdout, "%s: not delivered: %v\n", name, err)
				} else {
					fmt.Fprintf(a.stdout, "%s: delivered\n", name)
				}
			}
			if failed > 0 {
				return withCode(exitError, fmt.Errorf("%d of %d alert channel(s) not reached", failed, len(results)))
			}
			return nil
		},
	})
	return cmd
}
