// Package sqldb is the database connector: tables in SQLite
// (modernc.org/sqlite, embedded), PostgreSQL (pgx) and MySQL/MariaDB
// (go-sql-driver/mysql), one object per configured table, behind one
// connector with small dialect parts (sqlite.go, postgres.go, mysql.go).
//
// It implements connector.Connector, Sink, KeyLister and KeyReader, and
// ChangeTracker (reads are incremental for tables with an updated_at
// column). README.md describes the configuration, the value mapping and
// the limits; sample.yaml is the example configuration.
//
// # Glossary
//
//   - key column: the column whose value (text, or an integer in its text
//     form) is a record's Key. It must be the primary key or carry a
//     unique index of its own. Its case sensitivity comes from its
//     collation (Table.KeyCase overrides).
//   - link column: for a table whose key the database generates
//     (AUTO_INCREMENT, serial, identity, SQLite's INTEGER PRIMARY KEY), a
//     text column holding the Salesforce Id. A record with an empty Key
//     and the link column set is matched on it, or inserted with it in
//     the same statement, so a create retried after a crash updates the
//     row it created instead of adding a second one (doc/architecture.md §5.11, "every
//     create is idempotent").
//   - updated_at: a date-time column holding the row's modification time.
//     The cursor is the updated_at and key of the last row read; a read
//     since a cursor starts the look-back before it. Every write the
//     connector makes stamps it.
//   - soft-delete column: rows marked in it are read as Deleted and left
//     out of complete reads; Delete marks rather than deletes, and an
//     upsert of a marked row writes it as a new record.
//   - wall clock: DATETIME and TIMESTAMP WITHOUT TIME ZONE values are read
//     and written as the local time of Config.TimeZone and exchanged as
//     UTC instants. MySQL zero dates ('0000-00-00', '2008-00-00') read as
//     null.
//
// # Writes
//
// Each Upsert or Delete call is one transaction. Values are canonicalised
// and checked against the column (length, digits, picklist) before any
// statement runs; records then go out in multi-row statements and, when
// one fails, one by one (under a savepoint on PostgreSQL, where a failed
// statement aborts the transaction), so only the records the database
// rejects fail, each with a *connector.RecordError naming key and column.
// Server messages are never passed on: a *ServerError keeps the database's
// code, the casebridge code and the column or index it names, and no
// value.
package sqldb
