package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

// app carries what every command needs: its streams and the logger set up
// once from the global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// term is stderr as given, shared by the logger and the progress line
	// (see terminal): they look at it to tell a terminal, and write their
	// own escapes to it.
	term io.Writer
	log  zerolog.Logger

	logLevel  string
	logFormat string
	// metricsFile is sync's --metrics-textfile.
	metricsFile string
}

// run executes the command line args and returns the process exit code.
// It is main without os.Exit, so tests can call it. Ctrl-C and SIGTERM
// cancel the command's context.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdin, stdout, stderr)
}

// runContext is run under a given context.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// What commands print names record keys that come from editable
	// files: escape what could drive the terminal.
	a := &app{stdin: stdin, stdout: printableWriter{stdout}, stderr: printableWriter{stderr}, term: newTerminal(stderr)}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	if err != nil && !errors.Is(err, errReported) {
		fmt.Fprintf(stderr, "casebridge: %v\n", err)
		if code == exitUsage {
			fmt.Fprintln(stderr, "Run 'casebridge help' for usage.")
		}
	}
	return code
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "casebridge",
		Short: "Keep case records in step between Salesforce and local spreadsheets and databases",
		Long: `casebridge keeps survivor and remediation cases in step between a Salesforce
org and the spreadsheets (CSV, Excel) and databases (SQLite, PostgreSQL,
MySQL/MariaDB) that field offices keep.

One YAML file says what maps to what. casebridge compares both sides with the
last state they agreed on, field by field, and shows what it would change
before it changes anything. It never writes personal values to its logs,
error messages or state store.

Start with:
  casebridge demo                  see it work end to end on synthetic data
  casebridge validate CONFIG       check a configuration file (--online: against the org)
  casebridge sync CONFIG --dry-run see what a sync would write, and why
  casebridge reference             every configuration option

Exit codes: 0 done; 1 findings (validate problems, or records that failed,
did not map or are unknown); 2 usage; 3 configuration error; 4 safety brake
(nothing written); 5 API budget reached; 6 job locked by another run;
7 other failure; 8 locked out until --resync; 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(a.term, a.logLevel, a.logFormat)
			if err != nil {
				return usageErrorf("%v", err)
			}
			a.log = log
			return nil
		},
	}
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "auto", "log format: json, console, or auto (console on a terminal, JSON otherwise)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	root.AddCommand(a.versionCommand(), a.initCommand(), a.validateCommand(), a.describeCommand(), a.fakeorgCommand(), a.syncCommand(), a.reconcileCommand(), a.conflictsCommand(), a.tombstonesCommand(), a.historyCommand(), a.leaseCommand(), a.daemonCommand(), a.demoCommand(), a.referenceCommand(), a.benchCommand(), a.keyCommand(), a.alertsCommand(), a.eraseCommand())
	return root
}
