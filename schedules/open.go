package schedules

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/sheet"
	"github.com/casebridge/casebridge/connector/sqldb"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// OpenSalesforce logs in to the org a configuration names.
func OpenSalesforce(ctx context.Context, cfg *config.Config, objects map[string]string) (*salesforce.Connector, error) {
	sf := cfg.Salesforce
	a := sf.Auth
	opts := salesforce.Options{
		Name:       "salesforce",
		LoginURL:   sf.LoginURL,
		APIVersion: sf.APIVersion,
		KeyFields:  objects,
		Auth: salesforce.Auth{
			Flow:           salesforce.Flow(a.Flow),
			ClientID:       a.ClientID,
			ClientSecret:   a.ClientSecret.Reveal(),
			Username:       a.Username,
			Password:       a.Password.Reveal() + a.SecurityToken.Reveal(),
			RefreshToken:   a.RefreshToken.Reveal(),
			PrivateKeyFile: a.PrivateKeyFile,
			Audience:       a.Audience,
		},
	}
	if b := sf.APIBudget; b.IsPercent() {
		opts.Budget = b.Percent / 100
	} else if b.Count > 0 {
		opts.MaxCalls = b.Count
	}
	return salesforce.New(ctx, opts)
}

// OpenStore opens the state store a configuration names.
func OpenStore(ctx context.Context, cfg *config.Config) (state.Store, error) {
	dsn := cfg.State.DSN.Reveal()
	switch cfg.State.Driver {
	case config.StatePostgres:
		return state.OpenPostgres(ctx, dsn)
	default:
		if dsn == "" {
			dsn = filepath.Join(cfg.Dir, "casebridge.db")
		} else if !filepath.IsAbs(dsn) {
			dsn = filepath.Join(cfg.Dir, dsn)
		}
		return state.OpenSQLite(ctx, dsn)
	}
}

// Fingerprinter returns the installation's fingerprinter: the configured
// key, or the key file (generated once, mode 0600, beside the
// configuration by default).
func Fingerprinter(cfg *config.Config) (*reconcile.Fingerprinter, error) {
	if k := cfg.FingerprintKey.Reveal(); k != "" {
		key := []byte(k)
		if b, err := hex.DecodeString(k); err == nil {
			key = b
		}
		return reconcile.NewFingerprinter(key)
	}
	path := cfg.FingerprintKeyFile
	if path == "" {
		path = filepath.Join(cfg.Dir, "fingerprint.key")
	}
	key, err := reconcile.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, err
	}
	return reconcile.NewFingerprinter(key)
}

// OpenSource opens the local connector of a job: the job's sheet or table
// as the one object m.LocalObject, requiring the columns its rules map.
func OpenSource(job *config.Job, m *mapping.JobMapping) (connector.Connector, error) {
	src := job.Source
	columns := mappedColumns(job)
	switch src.Kind {
	case config.KindCSV, config.KindXLSX:
		backups := src.Backups
		sc := sheet.SheetConfig{
			Object:    m.LocalObject,
			Path:      src.Path,
			Format:    string(src.Kind),
			Sheet:     firstNonEmpty(job.Local.Sheet, src.Sheet),
			HeaderRow: src.HeaderRow,
			Key:       job.Local.Key,
			Columns:   columns,
			ReadOnly:  src.ReadOnly,
		}
		if src.Kind == config.KindCSV {
			sc.Encoding = string(src.Encoding)
			sc.Delimiter = src.Delimiter
		}
		return sheet.New(sheet.Config{Name: src.Name, ReadOnly: src.ReadOnly, Backups: &backups, Sheets: []sheet.SheetConfig{sc}})
	case config.KindSQLite, config.KindPostgres, config.KindMySQL:
		table := firstNonEmpty(job.Local.Table, src.Table, m.LocalObject)
		dsn := src.DSN.Reveal()
		if src.Kind == config.KindSQLite && dsn == "" {
			dsn = src.Path
		}
		return sqldb.New(src.Name, sqldb.Config{
			Driver:   sqldb.Driver(src.Kind),
			DSN:      sqldb.DSN(dsn),
			TimeZone: src.Timezone,
			Tables: map[string]sqldb.Table{m.LocalObject: {
				Table:      table,
				Key:        job.Local.Key,
				Link:       src.LinkColumn,
				UpdatedAt:  src.UpdatedAt,
				SoftDelete: src.SoftDelete,
			}},
		})
	}
	return nil, fmt.Errorf("source %s: kind %q is not supported", src.Name, src.Kind)
}

// mappedColumns lists the local columns a job's rules name, so that a
// renamed header is a fatal error rather than a column of nulls.
func mappedColumns(job *config.Job) []string {
	seen := map[string]bool{}
	var cols []string
	add := func(rules []*config.Rule) {
		for _, r := range rules {
			if r.Local != "" && !seen[r.Local] {
				seen[r.Local] = true
				cols = append(cols, r.Local)
			}
		}
	}
	add(job.Fields)
	for _, c := range job.Children {
		add(c.Fields)
	}
	return cols
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
