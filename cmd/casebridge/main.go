// Command casebridge keeps survivor and remediation cases in step between a
// Salesforce org and the spreadsheets and databases partner NGOs keep
// locally. See the README for set-up and `casebridge help` for commands.
package main

import (
	"os"
	_ "time/tzdata" // schedules name IANA zones; Windows has no zone database of its own
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
