package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
)

func (a *app) referenceCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reference",
		Short: "Print every configuration option with its default and meaning",
		Long: `Print the configuration reference: every key of the YAML file, its type,
default and what it does, generated from the same declarations the loader
and validate use, so it cannot drift from them; then the transforms a
rule's transform may name, each with what it reads, and the letters of
date patterns (dd/mm/yyyy). See fixtures/configs/sample.yaml for a
commented example.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(a.stdout, config.Reference())
			return err
		},
	}
}
