package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

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

Faults can be injected to see how a client copes: --latency, --fail-503-every,
--expire-sessions-after and --daily-limit.`,
		Example: `  casebridge fakeorg --port 8443
  casebridge fakeorg --empty --daily-limit 100
  casebridge fakeorg --schema org.json`,
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
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				return withCode(exitError, fmt.Errorf("fakeorg: %w", err))
			}
			url := "http://" + ln.Addr().String()
			fmt.Fprintf(a.stdout, "fake org listening on %s (API v%s)\n", url, org.APIVersion())
			if schema != "" {
				fmt.Fprintf(a.stdout, "  schema:        %s (%d %s, no records)\n", schema, len(opts.Schema), plural(len(opts.Schema), "object", "objects"))
			}
			fmt.Fprintf(a.stdout, "  username:      %s\n  password:      %s\n  client id:     %s\n  client secret: %s\n",
				sftest.DefaultUsername, sftest.DefaultPassword, sftest.DefaultClientID, sftest.DefaultClientSecret)
			a.log.Info().Str("url", url).Msg("fake org started")
			srv := &http.Server{Handler: org.Handler(), ReadHeaderTimeout: 10 * time.Second}
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
	f.IntVar(&expireN, "expire-sessions-after", 0, "expire a session after this many data requests (0: never)")
	return cmd
}
