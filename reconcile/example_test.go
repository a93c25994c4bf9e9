package reconcile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/memory"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// A job between two memory connectors: plan with a dry run, then apply.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "casebridge-example")
	defer os.RemoveAll(dir)

	sf := memory.New("salesforce", testObject())
	local := memory.New("local", testObject())
	_, _ = local.Upsert(ctx, "Case__c", []connector.Record{{Key: "TH-0001", Fields: map[string]connector.Value{
		"Name__c": connector.Text("Ann"), "Stage__c": connector.Text("Active")}}})

	st, _ := state.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	defer st.Close()
	key, _ := reconcile.LoadOrCreateKeyFile(filepath.Join(dir, "fingerprint.key"))
	fp, _ := reconcile.NewFingerprinter(key)
	eng := &reconcile.Engine{SF: sf, Local: local, Store: st, FP: fp}
	job := &reconcile.Job{Name: "th_cases", Object: "Case__c", Deletes: reconcile.Flag,
		Fields: []reconcile.FieldSpec{{Name: "Name__c", RuleHash: "v1"}, {Name: "Stage__c", RuleHash: "v1"}}}

	res, err := eng.Run(ctx, job, reconcile.RunOptions{DryRun: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Plan)
	res, _ = eng.Run(ctx, job, reconcile.RunOptions{})
	fmt.Println("created:", res.Counts.Creates)
	res, _ = eng.Run(ctx, job, reconcile.RunOptions{})
	fmt.Println("writes on the next run:", res.Plan.NumWrites())
	// Output:
	// create salesforce TH-0001: new on local [Name__c Stage__c]
	// created: 1
	// writes on the next run: 0
}
