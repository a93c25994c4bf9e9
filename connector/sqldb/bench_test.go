package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
)

const benchRows = 100_000

const benchDDL = `CREATE TABLE cases (
  code VARCHAR(40) NOT NULL PRIMARY KEY,
  name VARCHAR(80) NOT NULL,
  amount DECIMAL(12,2) NULL,
  active {BOOL} NOT NULL DEFAULT FALSE,
  born DATE NULL,
  seen {DATETIME} NULL,
  notes TEXT NULL,
  updated_at {DATETIME} NULL,
  deleted {BOOL} NOT NULL DEFAULT FALSE
)`

// benchRecords generates n records; gen varies the values so an update
// rewrites every row.
func benchRecords(n, gen int) []connector.Record {
	recs := make([]connector.Record, n)
	for i := range recs {
		recs[i] = connector.Record{Key: fmt.Sprintf("GT-2024-%07d", i), Fields: map[string]connector.Value{
			"name":   connector.Text(fmt.Sprintf("Ejemplo Prueba %d/%d", i, gen)),
			"amount": connector.Number(decimal.New(int64(i*7+gen), -2)),
			"active": connector.Bool((i+gen)%2 == 0),
			"born":   connector.DateValue(connector.Date{Year: 2000 + i%15, Month: time.Month(1 + i%12), Day: 1 + i%28}),
			"seen":   connector.DateTime(time.Date(2024, 4, 3, i%24, i%60, gen%60, 0, time.UTC)),
			"notes":  connector.Text("ข้อมูลทดสอบ — nota de prueba"),
		}}
	}
	return recs
}

// upsertAll writes recs in batches of 1000, failing on any record error.
func upsertAll(b *testing.B, c *sqldb.Connector, recs []connector.Record) {
	ctx := context.Background()
	for start := 0; start < len(recs); start += 1000 {
		res, err := c.Upsert(ctx, "cases", recs[start:min(start+1000, len(recs))])
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkUpsert100k upserts 100,000 rows into each database in batches
// of 1000: "insert" into an empty table, "update" of every existing row
// naming all columns (multi-row upsert statements), and "partial" of every
// row naming two columns but not the NOT NULL name (one UPDATE per row).
func BenchmarkUpsert100k(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			dsn := be.dsn(b)
			c, err := sqldb.New("bench", sqldb.Config{Driver: be.driver, DSN: sqldb.DSN(dsn), TimeZone: "America/Guatemala",
				Tables: map[string]sqldb.Table{"cases": {Key: "code", UpdatedAt: "updated_at", SoftDelete: "deleted"}}})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if _, err := c.DB().Exec(be.ddl(benchDDL)); err != nil {
				b.Fatal(err)
			}
			recs := benchRecords(benchRows, 0)
			b.Run("insert", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					if _, err := c.DB().Exec("DELETE FROM cases"); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					upsertAll(b, c, recs)
				}
				b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
			// update and partial need the rows, also when run alone (-bench .../partial)
			ensureRows := func(b *testing.B) {
				var n int
				if err := c.DB().QueryRow("SELECT COUNT(*) FROM cases").Scan(&n); err != nil {
					b.Fatal(err)
				}
				if n < benchRows {
					upsertAll(b, c, recs)
				}
			}
			b.Run("update", func(b *testing.B) {
				ensureRows(b)
				gen := 1
				for b.Loop() {
					b.StopTimer()
					recs := benchRecords(benchRows, gen)
					gen++
					b.StartTimer()
					upsertAll(b, c, recs)
				}
				b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
			b.Run("partial", func(b *testing.B) {
				ensureRows(b)
				gen := 1000
				for b.Loop() {
					b.StopTimer()
					recs := make([]connector.Record, benchRows)
					for i := range recs {
						recs[i] = connector.Record{Key: fmt.Sprintf("GT-2024-%07d", i), Fields: map[string]connector.Value{
							"amount": connector.Number(decimal.New(int64(i+gen), -2)), "active": connector.Bool(gen%2 == 0)}}
					}
					gen++
					b.StartTimer()
					upsertAll(b, c, recs)
				}
				b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		})
	}
}

// BenchmarkRead100k reads 100,000 rows (a complete Read) from each
// database.
func BenchmarkRead100k(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			c, err := sqldb.New("bench", sqldb.Config{Driver: be.driver, DSN: sqldb.DSN(be.dsn(b)), TimeZone: "America/Guatemala",
				Tables: map[string]sqldb.Table{"cases": {Key: "code", UpdatedAt: "updated_at", SoftDelete: "deleted"}}})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if _, err := c.DB().Exec(be.ddl(benchDDL)); err != nil {
				b.Fatal(err)
			}
			upsertAll(b, c, benchRecords(benchRows, 0))
			b.ResetTimer()
			for b.Loop() {
				n := 0
				if _, err := c.Read(context.Background(), "cases", "", func(r connector.Record) error {
					if r.Err != nil {
						return r.Err
					}
					n++
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				if n != benchRows {
					b.Fatalf("read %d rows", n)
				}
			}
			b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
