package report_test

import (
	"os"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/report"
	"github.com/casebridge/casebridge/state"
)

// The CLI's closing summary of a run: one update written to each side and
// one write that failed. Values never appear in a summary.
func Example() {
	plan := &reconcile.Plan{Job: "th_cases", Incremental: true, Seen: [2]int{120, 118}}
	plan.AddWrites(
		reconcile.Write{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "ngo-th-cm:TH-0004", Changes: []reconcile.Change{{Field: "vcms__Stage__c", Reason: "changed on local"}}},
		reconcile.Write{Side: reconcile.Local, Op: reconcile.OpUpdate, Key: "ngo-th-cm:TH-0001", Changes: []reconcile.Change{{Field: "vcms__First_Name__c", Reason: "changed on salesforce"}}},
		reconcile.Write{Side: reconcile.Local, Op: reconcile.OpUpdate, Key: "ngo-th-cm:TH-0003", Changes: []reconcile.Change{{Field: "vcms__Birthdate__c", Reason: "changed on salesforce"}}},
	)
	res := &reconcile.Result{
		RunID: 42, APICalls: 7,
		Plan:   plan,
		Counts: state.Counts{Updates: 2, Failures: 1},
		Failed: []state.RecordErr{{Key: "ngo-th-cm:TH-0003", Code: "UNABLE_TO_LOCK_ROW", Message: "upsert th_tracker vcms__Survivor_Case__c ngo-th-cm:TH-0003: UNABLE_TO_LOCK_ROW"}},
	}
	left := 14_200
	r := report.FromResult("th_cases", res, report.Options{APICallsLeft: &left})
	report.WriteSummary(os.Stdout, r)
	// Output:
	// job th_cases, run 42: apply, partial
	//   created      0
	//   updated      2  salesforce 1, local 1
	//   deleted      0
	//   unchanged  115
	//   conflicts    0
	//   failed       1
	//   pending      1  retried next run
	//   API calls    7  used, 14200 left
}
