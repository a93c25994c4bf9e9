// Package casebridge keeps survivor and remediation cases in step between a
// Salesforce org and the spreadsheets and databases partner NGOs keep
// locally.
//
// The tree is laid out by layer; data flows one way through them:
//
//	cmd/casebridge   the CLI and daemon (thin main; wiring lives in packages)
//	config           the one YAML file: sources, jobs, field rules, secrets
//	schedules        cron schedules, the job runner and the daemon
//	reconcile        three-way diff -> plan -> apply -> report
//	state            baselines (fingerprints, never values), cursors, history
//	mapping          field rules and transforms between local and Salesforce
//	connector        Record, Value, Schema and the connector interfaces
//	connector/*      memory, salesforce (and its fake org sftest), sheet, sqldb
//	fixtures         synthetic seed org, sample spreadsheets, demo config
//
// Connectors know nothing of mapping; mapping knows nothing of Salesforce;
// reconcile sees only Records and Schemas.
package casebridge
