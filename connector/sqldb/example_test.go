package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
)

// An SQLite table whose key the database generates, with a link column for
// the Salesforce Id: a record created from Salesforce has no local key
// yet, and writing it twice (a retry after a crash) still makes one row.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "sqldb-example")
	defer os.RemoveAll(dir)
	c, err := sqldb.New("ngo-db", sqldb.Config{
		Driver:   sqldb.SQLite,
		DSN:      sqldb.DSN(filepath.Join(dir, "casos.db")),
		TimeZone: "America/Guatemala",
		Tables: map[string]sqldb.Table{
			"casos": {Key: "id", Link: "sf_id", UpdatedAt: "actualizado_en", SoftDelete: "eliminado"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	_, _ = c.DB().Exec(`CREATE TABLE casos (
		id INTEGER PRIMARY KEY, codigo VARCHAR(20) NOT NULL UNIQUE, sf_id CHAR(18) UNIQUE,
		actualizado_en DATETIME, eliminado BOOLEAN NOT NULL DEFAULT 0)`)

	fromSalesforce := connector.Record{Fields: map[string]connector.Value{
		"sf_id": connector.Text("a0B5e00000ExmpAAA9"), "codigo": connector.Text("GT-2024-0044"),
	}}
	for range 2 {
		res, err := c.Upsert(ctx, "casos", []connector.Record{fromSalesforce})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("key %s created %v\n", res[0].Key, res[0].Created)
	}
	res, _ := c.Upsert(ctx, "casos", []connector.Record{{Key: "1", Fields: map[string]connector.Value{
		"codigo": connector.Text("GT-2024-0044-far-too-long")}}})
	fmt.Println(res[0].Err)
	// Output:
	// key 1 created true
	// key 1 created false
	// upsert ngo-db casos 1.codigo: STRING_TOO_LONG: max length 20, got 25 characters
}
