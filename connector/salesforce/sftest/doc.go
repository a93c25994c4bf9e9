// Package sftest is casebridge's fake Salesforce org: an in-process
// http.Handler that follows doc/architecture.md §6 (status codes,
// error bodies, paging, datetime and number formats, limits header,
// collection limits) closely enough that the Salesforce client, the
// end-to-end tests and `casebridge demo` can run against it.
//
// # Use
//
//	org, srv := sftest.NewServer(t, sftest.Options{})  // closed by t.Cleanup
//	// srv.URL is both the login URL and the instance URL.
//	tok := org.IssueToken(sftest.DefaultUsername)       // or run an OAuth flow
//
// or, outside tests, sftest.New(opts).Handler() behind any http.Server.
//
// The org is seeded from fixtures/org/seed.json (the vcms__ schema of
// doc/architecture.md §11.1 plus Account and User, and a few synthetic records); with
// Options.Empty only the schema and users are loaded.
//
// # Endpoints
//
//   - POST /services/oauth2/token: password, client_credentials,
//     refresh_token, JWT bearer (RS256 verified only when the connected app
//     has a public key).
//   - POST /services/Soap/u/{v} and /c/{v}: login().
//   - GET /services/data (no auth), /services/data/vXX.X/ resources, /limits.
//   - /sobjects, /sobjects/{Obj}/describe, sObject rows (POST, GET, PATCH,
//     DELETE), /sobjects/{Obj}/{ExtField}/{value} (GET, PATCH upsert,
//     DELETE), /sobjects/{Obj}/updated and /deleted.
//   - /query and /queryAll with the SOQL subset of soql_parse.go, paging by
//     nextRecordsUrl, Sforce-Query-Options batchSize.
//   - /composite/sobjects (create, update, upsert by external id, retrieve,
//     delete).
//   - /jobs/ingest and /jobs/query (Bulk API 2.0).
//
// Every /services/data/vXX.X response carries Sforce-Limit-Info. Requests
// may be gzip-compressed and ask for gzip; X-PrettyPrint: 1 indents.
//
// # Stored values
//
// Values are stored the way Salesforce stores them: numbers as exact
// decimals rounded to the field's scale (rendered like Java doubles:
// 3000.0, 1.5E7), DateTime fields at whole seconds (CreatedDate,
// LastModifiedDate and SystemModstamp keep milliseconds), empty strings as
// null, multi-select values in picklist order. Unique and external-id
// values compare case-insensitively. Formula fields (User.Name,
// vcms__Legal_Working_Age_Date__c) are computed on read.
//
// # Faults and observation
//
// Options and setters inject latency (SetLatency), a 503 SERVER_UNAVAILABLE
// every Nth data request (SetFail503Every), session expiry after N requests
// (SetSessionMaxRequests, ExpireSessions), the daily API limit
// (SetDailyLimit, SetAPIUsage; 403 REQUEST_LIMIT_EXCEEDED when used up) and
// UNABLE_TO_LOCK_ROW once per listed key (LockRows). Requests returns the
// request log (method, path, endpoint class such as "query" or
// "collections.upsert", object, status, records per call) so tests can
// assert API economy. Records, AllRecords, Get, GetByExternalKey and Insert
// read and seed the store directly, without API calls.
//
// # Glossary
//
//   - endpoint class: the LogEntry.Endpoint name of a request, e.g.
//     "sobject.create", "query.more", "bulk.ingest.upload".
//   - lock key: a record Id, a unique/external-id value, or
//     "Object.Field=value" given to LockRows. A record Id also locks writes
//     to the record's master-detail children (they lock their parent). Each
//     listed key fails one write, then is released; Bulk API 2.0 jobs retry
//     internally and count the retry in the job's retries.
//
// # Differences from a real org
//
//   - Master-detail children have no OwnerId (as in Salesforce), so
//     vcms__Assistance__c, vcms__Referral__c and vcms__Monitoring_Visit__c
//     lack it; their vcms__Case__c is reparentable (updateable).
//   - vcms__Case_Note__c, a master-detail child of cases, has no External
//     ID field at all, as many orgs' note and log objects: casebridge keys
//     its records by their parent and writes them by Id.
//   - Only the two validation rules of doc/architecture.md §11.1 exist, behind
//     Options.ValidationRules; triggers, sharing and field-level security
//     are not modelled, and every user sees every field.
//   - A query's result set is fixed when it runs; pages are rendered when
//     fetched.
//   - A composite request's allOrNone rollback restores the records it
//     touched; writes by concurrent requests to the same records in between
//     are not isolated.
package sftest
