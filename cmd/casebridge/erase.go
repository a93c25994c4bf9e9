package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/erase"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

func (a *app) eraseCommand() *cobra.Command {
	var dryRun bool
	var identity string
	cmd := &cobra.Command{
		Use:   "erase CONFIG JOB KEY...",
		Short: "Erase people's records: their classified values, everywhere casebridge keeps or writes them",
		Long: `Erase the records of the given keys (a person's right to erasure) from a job,
on both sides and in every copy casebridge keeps:

  local     the columns every classified (pii) rule of the job and its
            children reads are blanked in the key's rows (a row marked
            deleted too), in the sheet and in each of its backups (no new
            backup is made); a database row's columns are set to NULL
            (a soft-deleted row's too)
  salesforce  direct and sensitive fields are cleared (null); quasi-
            identifiers are coarsened where a coarser value serves
            aggregate reporting (a date or date-time becomes 1 January of
            its year) and cleared otherwise; formula fields cannot be
            written and are named
  state     the record's fingerprints, pending entries and queued
            conflicts are forgotten, and a tombstone (a keyed hash of the
            key) is left, so a row or record of the key that disappears
            from one side is never created on it again; the job is locked
            out from before the first write until this is done

The key stays (it is a case code, never a name), and unclassified fields
(stage, dates of service) are kept for aggregate reporting. The job's
children are anonymised in Salesforce as the parent is, found by their keys;
children keyed by_parent are not reached (the report names them: erase those
records in Salesforce by hand).

Erase takes the job's lease like a run: a job being run is refused (exit 6).
KEY is the local key (TH-CL-0007) or the Salesforce key with the job's
key_prefix. With the job's key_pattern set, a KEY that does not match it
(a name typed for a case code; case is ignored) is refused, not shown, and
nothing is erased (exit 2). The report names keys, fields and columns, never a value. Run it
with --dry-run first: it reads and reports, and writes nothing. A backup
restored from elsewhere brings the values back: erase again after it.

Encrypted backups (backup_encrypt_to) are opened with --age-identity,
blanked and encrypted again; without it erase cannot look into them and
removes them whole (it says how many). Backups made before backup_encrypt_to
was set stay plain until rotated out: delete them by hand.

A key whose Salesforce write fails is reported NOT ERASED (exit 1): its state
is kept, and runs of the job are refused until erase of the key is run again
and completes (do not resync: a resync writes the values back). A key found
on neither side is reported and leaves no tombstone. The records erase
deletes (a classified each's) go to Salesforce's Recycle Bin, restorable and
readable through queryAll for 15 days: empty them from the Recycle Bin.`,
		Example: `  casebridge erase casebridge.yaml th_cases TH-CL-0007 --dry-run
  casebridge erase casebridge.yaml th_cases TH-CL-0007 TH-CL-0012`,
		Args: args(cobra.MinimumNArgs(3)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.erase(cmd.Context(), argv[0], argv[1], argv[2:], dryRun, identity)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "read and report what would be erased; write nothing")
	cmd.Flags().StringVar(&identity, "age-identity", "", "age identity file (private key) that opens encrypted backups (backup_encrypt_to), to blank them; without it they are removed")
	return cmd
}

func (a *app) erase(ctx context.Context, path, job string, keys []string, dryRun bool, identity string) error {
	cfg, err := a.loadConfig(path)
	if err != nil {
		return err
	}
	var ids []age.Identity
	if identity != "" {
		f, err := os.Open(identity)
		if err != nil {
			return usageErrorf("--age-identity: %v", err)
		}
		ids, err = age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return usageErrorf("--age-identity %s: not an age identity file", identity)
		}
	}
	if _, err := jobNames(cfg, []string{job}); err != nil {
		return err
	}
	r, err := schedules.Open(ctx, cfg, a.log)
	if err != nil {
		return err
	}
	defer r.Close()
	fp := r.FP
	if fp == nil && !dryRun {
		// No key file yet: the first write makes it, as a run's does,
		// unless the state was written with a key (then it is lost).
		if kr, ok := r.Store.(interface {
			KeyIDRecorded(ctx context.Context) (string, error)
		}); ok {
			if id, err := kr.KeyIDRecorded(ctx); err != nil {
				return err
			} else if id != "" {
				return fmt.Errorf("fingerprint key: %w", state.ErrKeyMismatch)
			}
		}
		if fp, err = schedules.Fingerprinter(cfg); err != nil {
			return fmt.Errorf("fingerprint key: %w", err)
		}
	}
	e := &erase.Eraser{Config: cfg, Store: r.Store, Salesforce: r.Salesforce, FP: fp, BackupIdentities: ids}
	rep, err := e.Erase(ctx, job, keys, dryRun)
	if rep != nil {
		printErase(a, rep)
	}
	if errors.Is(err, erase.ErrKeyPattern) {
		return withCode(exitUsage, err)
	}
	if err != nil {
		return err
	}
	if len(rep.Incomplete) > 0 {
		return withCode(exitFindings, errReported)
	}
	return nil
}

// printErase prints what erase did (or would do), by key, column and
// field names only.
func printErase(a *app, rep *erase.Report) {
	verb := "erased"
	if rep.DryRun {
		verb = "would erase (dry run, nothing written)"
	}
	if len(rep.ChildrenLeft) > 0 {
		fmt.Fprintf(a.stdout, "%s: children keyed by_parent not changed in Salesforce (erase them there by hand): %s\n", rep.Job, strings.Join(rep.ChildrenLeft, ", "))
	}
	if n := rep.BackupsRemoved; n > 0 {
		removed := "removed whole (no --age-identity to open them)"
		if rep.DryRun {
			removed = "would be removed whole (no --age-identity to open them; give it to blank them instead)"
		}
		fmt.Fprintf(a.stdout, "%s: %d encrypted %s %s\n", rep.Job, n, plural(n, "backup", "backups"), removed)
	}
	for _, k := range rep.Keys {
		fmt.Fprintf(a.stdout, "%s %s %s (salesforce %s):\n", rep.Job, verb, k.Key, k.SFKey)
		if k.NotFound {
			fmt.Fprintf(a.stdout, "  not found anywhere: no row and no record of the key (check it; no tombstone left)\n")
		}
		switch {
		case !k.LocalFound:
			fmt.Fprintf(a.stdout, "  local: no row of the key\n")
		case len(k.Local) == 0:
			fmt.Fprintf(a.stdout, "  local: nothing to blank\n")
		default:
			fmt.Fprintf(a.stdout, "  local: blanked %s\n", strings.Join(k.Local, ", "))
		}
		if k.Backups > 0 {
			fmt.Fprintf(a.stdout, "  local backups: blanked in %d\n", k.Backups)
		}
		switch {
		case !k.SFFound:
			fmt.Fprintf(a.stdout, "  salesforce: no record of the key\n")
		case len(k.Salesforce) == 0:
			fmt.Fprintf(a.stdout, "  salesforce: nothing to clear\n")
		default:
			var parts []string
			for _, f := range k.Salesforce {
				name := f.Field
				if f.Child != "" {
					name = f.Child + "." + f.Field
				}
				parts = append(parts, fmt.Sprintf("%s %s (%s)", f.Action, name, f.Class))
			}
			fmt.Fprintf(a.stdout, "  salesforce: %s\n", strings.Join(parts, ", "))
		}
		if k.SFError != nil {
			fmt.Fprintf(a.stdout, "  salesforce: FAILED: %v\n", k.SFError)
			fmt.Fprintf(a.stdout, "  NOT ERASED: state kept; run erase again for the key\n")
		}
		switch {
		case k.Tombstone:
			fmt.Fprintf(a.stdout, "  state: record forgotten, tombstone left\n")
		case k.StateForgotten && !k.NotFound:
			// A key found nowhere had no state to forget.
			fmt.Fprintf(a.stdout, "  state: record forgotten\n")
		}
	}
	if len(rep.Incomplete) > 0 {
		how := "runs of the job are refused until it completes"
		if !rep.LockedOut {
			how = "the job was already locked out for another cause: do not resync it before erase completes"
		}
		fmt.Fprintf(a.stdout, "%s: erase incomplete for %s (%s): run casebridge erase again for them\n", rep.Job, strings.Join(rep.Incomplete, ", "), how)
	}
}
