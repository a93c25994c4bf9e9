package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

func (a *app) fakeorgCommand() *cobra.Command {
	var (
		port    int
		empty   bool
		limit   int
		latency time.Duration
		fail503 int
		expireN int
		schema  string
		data    string
	)
	cmd := &cobra.Command{
		Use:   "fakeorg",
		Short: "Serve a fake Salesforce org for demos and tests",
		Long: `Serve casebridge's fake Salesforce org on 127.0.0.1: the synthetic vcms__
case-management schema with seed records, OAuth logins (password, client
credentials, JWT bearer, refresh token), describe, SOQL query, sObject and
collection writes, API limits and the Sforce-Limit-Info header, following
Salesforce's documented responses.

No real org is involved and every record is synthetic. Point a casebridge
configuration (salesforce.login_url) or another Salesforce client at the URL
it prints. It stops on Ctrl-C.

With --schema FILE it serves instead the objects of a file saved by
'casebridge describe --json CONFIG OBJECT...' from your own org (their fields,
types, lengths, picklist values, external ids; no records), so that a
configuration for that org can be rehearsed offline: validate --online, a
sync --dry-run, a first sync. Describe every object the configuration names
(children and lookup targets too). Formula fields read as empty, picklists
not marked restricted take any value, and record types are not served.

With --data FILE it keeps its records in FILE: it serves the records saved
there when the file exists (ids, values and timestamps as they were), and
saves them again after every write. 'casebridge demo' leaves such a file in
its folder, and prints the command that serves it again at the address its
configuration names.

Faults can be injected to see how a client copes: --latency, --fail-503-every,
--expire-sessions-after and --daily-limit.`,
		Example: `  casebridge fakeorg --port 8443
  casebridge fakeorg --empty --daily-limit 100
  casebridge fakeorg --schema org.json
  casebridge fakeorg --port 41234 --data ./casebridge-demo/fake-org.json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := sftest.Options{
				Empty:              empty,
				DailyLimit:         limit,
				Latency:            latency,
				Fail503Every:       fail503,
				SessionMaxRequests: expireN,
			}
			if schema != "" {
				objects, err := readSchemaFile(schema)
				if err != nil {
					return withCode(exitUsage, fmt.Errorf("fakeorg --schema: %w", err))
				}
				opts.Schema = objects
			}
			org, err := sftest.Build(opts)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("fakeorg: %w", err))
			}
			handler := org.Handler()
			if data != "" {
				loaded, err := loadOrgData(org, data)
				if err != nil {
					return withCode(exitUsage, fmt.Errorf("fakeorg --data: %w", err))
				}
				if !loaded {
					// The file is made now: a wrong path fails here, not
					// at the first write.
					if err := saveOrgData(org, data); err != nil {
						return withCode(exitUsage, fmt.Errorf("fakeorg --data: %w", err))
					}
				}
				handler = savingHandler(handler, func() error { return saveOrgData(org, data) }, a.log)
			}
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				return withCode(exitError, fmt.Errorf("fakeorg: %w", err))
			}
			url := "http://" + ln.Addr().String()
			fmt.Fprintf(a.stdout, "fake org listening on %s (API v%s)\n", url, org.APIVersion())
			if schema != "" {
				fmt.Fprintf(a.stdout, "  schema:        %s (%d %s, no records)\n", schema, len(opts.Schema), plural(len(opts.Schema), "object", "objects"))
			}
			if data != "" {
				fmt.Fprintf(a.stdout, "  records:       %s (saved after every write)\n", data)
			}
			fmt.Fprintf(a.stdout, "  username:      %s\n  password:      %s\n  client id:     %s\n  client secret: %s\n",
				sftest.DefaultUsername, sftest.DefaultPassword, sftest.DefaultClientID, sftest.DefaultClientSecret)
			a.log.Info().Str("url", url).Msg("fake org started")
			srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return withCode(exitError, fmt.Errorf("fakeorg: %w", err))
			case <-cmd.Context().Done():
			}
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return withCode(exitError, err)
			}
			a.log.Info().Msg("fake org stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&port, "port", 0, "port to listen on (0 picks a free one)")
	f.BoolVar(&empty, "empty", false, "start with the schema and users only, no seed records")
	f.IntVar(&limit, "daily-limit", sftest.DefaultDailyLimit, "daily API request limit")
	f.DurationVar(&latency, "latency", 0, "added to every request")
	f.IntVar(&fail503, "fail-503-every", 0, "answer every Nth data request with 503 SERVER_UNAVAILABLE (0: never)")
	f.StringVar(&schema, "schema", "", "serve the objects of a file saved by describe --json instead of the built-in schema")
	f.StringVar(&data, "data", "", "keep the org's records in this file: served from it when it exists, saved to it after every write")
	f.IntVar(&expireN, "expire-sessions-after", 0, "expire a session after this many data requests (0: never)")
	return cmd
}

// loadOrgData loads the records saved in path into org; it reports false
// when there is no such file yet.
func loadOrgData(org *sftest.Org, path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := org.LoadRecords(f); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// saveOrgData saves org's records to path, whole or not at all: written
// beside it, then renamed over it.
func saveOrgData(org *sftest.Org, path string) error {
	var buf bytes.Buffer
	if err := org.SaveRecords(&buf); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// savingHandler saves the org after every request that may have changed
// it (anything but GET and HEAD), before the next request is served: a
// fake org stopped any way (Ctrl-C, a closed terminal) loses no write.
func savingHandler(next http.Handler, save func() error, log zerolog.Logger) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		next.ServeHTTP(w, r)
		if err := save(); err != nil {
			log.Error().Err(err).Msg("fake org: saving its records")
		}
	})
}
