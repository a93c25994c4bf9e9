package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

func (a *app) keyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Make a fingerprint key, or start the state over after losing one",
		Long: `The fingerprint key keys the fingerprints casebridge keeps instead of values
(HMAC-SHA256). It is a secret of its own: whoever holds it and the state can
test guessed values against the fingerprints. It must be random: 32 bytes,
written as 64 hexadecimal digits; a passphrase is refused, as one can be
guessed.

Where it is kept, first found wins:
  fingerprint_key: ${ENV}     in the configuration (daemon, container)
  fingerprint_key_file: PATH  a file (relative to the configuration's folder)
  $CASEBRIDGE_FINGERPRINT_KEY when the configuration names neither
  fingerprint.key beside the configuration, if it exists (made there by
                              older versions; warned of while an SQLite
                              state store is in that folder too)
  the default: made once by the first run that writes (never by a dry run),
  mode 0600, in the user's configuration folder, apart from the state:
  ~/.config/casebridge/NAME-HASH.key on Linux (~/Library/Application Support
  on macOS, %AppData% on Windows), named after the state store it keys (NAME
  its folder and file, HASH of its path; for PostgreSQL, of its host, port
  and database): every configuration on one store finds the same key.

validate and every run warn when the key file and an SQLite state store are
in one folder: one copy of that folder would carry both. Keep a copy of the
key where your other secrets are kept.

A lost key: runs refuse to start (exit 7) and say so; no new key is made in
its place. Put the key back, or start over with 'casebridge key reset CONFIG
--yes' under a new key (it writes nothing to Salesforce or the local sources;
the next run is a first sync, check it with 'casebridge sync CONFIG
--dry-run').`,
	}
	cmd.AddCommand(a.keyGenerateCommand(), a.keyResetCommand())
	return cmd
}

func (a *app) keyGenerateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "generate",
		Short: "Print a new random fingerprint key (64 hex digits)",
		Long: `Print a new random fingerprint key: 32 bytes from the system's random source,
as 64 hexadecimal digits, for fingerprint_key (through an environment
variable) or a fingerprint_key_file (mode 0600).`,
		Example: `  export CASEBRIDGE_FINGERPRINT_KEY=$(casebridge key generate)
  casebridge key generate > /etc/casebridge/fingerprint.key && chmod 600 /etc/casebridge/fingerprint.key`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := make([]byte, reconcile.MinKeyLen)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, hex.EncodeToString(b))
			return nil
		},
	}
}

func (a *app) keyResetCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset CONFIG",
		Short: "Start the state over under the configured key, after the old key was lost",
		Long: `When the fingerprint key a state was written with is lost (or replaced),
every run refuses to start: the state's fingerprints mean nothing under
another key. reset is the way back. It forgets everything in the state that
was made with the old key (record baselines, pending records, conflicts,
tombstones, the lookup cache, change cursors) and records the configured
key's id; the run history is kept. It writes nothing to Salesforce or to the
local sources.

The next run of each job is then a first sync: records are paired by key
(and match_on), differing fields are settled by the job's initial policy,
records on one side only are created on the other, and the brakes apply.
Tombstones are lost with the old key: a record erased or deleted before may
come back. A classified each's records (children[].each.pii) are keyed by
hashes under the key: the first run of their job is refused while Salesforce
holds them under the old key, as it would create them again beside the old
ones. Delete those records in Salesforce first (the run then creates them
under the new key), or put the old key back. Run 'casebridge sync CONFIG
--dry-run' first and read the plan.`,
		Example: `  casebridge key reset casebridge.yaml --yes
  casebridge sync casebridge.yaml --dry-run`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if !yes {
				return usageErrorf("key reset forgets every baseline and tombstone in the state; run it again with --yes")
			}
			return a.withStore(cmd.Context(), argv[0], func(cfg *config.Config, st state.Store) error {
				fp, err := schedules.Fingerprinter(cfg)
				if err != nil {
					return fmt.Errorf("fingerprint key: %w", err)
				}
				rk, ok := st.(interface {
					Rekey(ctx context.Context, id string) error
				})
				if !ok {
					return fmt.Errorf("this state store cannot be reset")
				}
				if err := rk.Rekey(cmd.Context(), fp.KeyID()); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "state started over under key %s; the next run of each job is a first sync (check it: casebridge sync %s --dry-run)\n", fp.KeyID(), argv[0])
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm: forget every baseline and tombstone made with the old key")
	return cmd
}
