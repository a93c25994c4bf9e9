package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// TestLogRedaction logs a personal value every way a careless log call
// might (as a Stringer, an interface, inside an error, inside a struct) and
// checks that the value never reaches the output.
func TestLogRedaction(t *testing.T) {
	const secret = "สมหญิง ตัวอย่าง"
	v := connector.Text(secret)
	rec := connector.Record{Key: "ngo-th-cm:TH-CL-0007", Fields: map[string]connector.Value{"vcms__First_Name__c": v}}
	rerr := connector.NewRecordError("upsert", "memory", "vcms__Survivor_Case__c", rec.Key, "vcms__First_Name__c", connector.CodeTooLong, connector.Permanent, &connector.ValueError{Code: connector.CodeTooLong, Detail: "max length 80"})

	for _, format := range []string{"json", "console"} {
		var buf bytes.Buffer
		log, err := newLogger(&buf, "debug", format)
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Stringer("value", v).Msg("stringer")
		log.Info().Interface("value", v).Msg("interface")
		log.Info().Interface("record", rec).Msg("record")
		log.Error().Err(rerr).Msg("record error")
		log.Error().Err(errors.Join(rerr, errors.New("batch failed"))).Msg("joined")
		log.Info().Msgf("formatted %v %s %+v", v, v, rec)
		out := buf.String()
		if strings.Contains(out, secret) || strings.Contains(out, "สมหญิง") {
			t.Errorf("%s log output contains the value:\n%s", format, out)
		}
		if !strings.Contains(out, "ngo-th-cm:TH-CL-0007") || !strings.Contains(out, "STRING_TOO_LONG") {
			t.Errorf("%s log output lost the key or the code:\n%s", format, out)
		}
	}
}

func TestLoggerFormats(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "warn", "auto") // a buffer is not a terminal: JSON
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("hidden")
	log.Warn().Str("job", "th_cases").Msg("shown")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one line at warn level, got %q", buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if m["job"] != "th_cases" || m["level"] != "warn" || m["message"] != "shown" {
		t.Errorf("unexpected fields: %v", m)
	}
}

// TestConsoleLogValues: the console format writes booleans and numbers as
// words and digits (it printed dry_run=[116 114 117 101]).
func TestConsoleLogValues(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "info", "console")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Bool("dry_run", true).Int("api_calls", 3).Float64("read_ms", 1.5).Str("job", "cases").Msg("run done")
	got := buf.String()
	for _, want := range []string{"dry_run=true", "api_calls=3", "read_ms=1.5", "job=cases"} {
		if !strings.Contains(got, want) {
			t.Errorf("console line %q lacks %q", got, want)
		}
	}
}
