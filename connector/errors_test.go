package connector_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

type tempErr struct{}

func (tempErr) Error() string   { return "connection reset" }
func (tempErr) Temporary() bool { return true }

func TestRecordErrorString(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *connector.RecordError
		want string
	}{
		{"value error with code and detail",
			connector.NewRecordError("upsert", "memory", "Obj", "KEY", "Field", "", connector.Permanent,
				&connector.ValueError{Code: connector.CodeTooLong, Detail: "max length 80"}),
			"upsert memory Obj KEY.Field: STRING_TOO_LONG: max length 80"},
		{"design example",
			&connector.RecordError{Op: "upsert", Connector: "salesforce", Object: "vcms__Survivor_Case__c", Key: "ngo-th-cm:TH-CL-0007",
				Field: "vcms__First_Name__c", Code: connector.CodeTooLong, Err: &connector.ValueError{Code: connector.CodeTooLong, Detail: "max length 80"}},
			"upsert salesforce vcms__Survivor_Case__c ngo-th-cm:TH-CL-0007.vcms__First_Name__c: STRING_TOO_LONG: max length 80"},
		{"no field",
			connector.NewRecordError("delete", "memory", "Obj", "KEY", "", "", connector.Permanent, connector.ErrNotFound),
			"delete memory Obj KEY: NOT_FOUND: record not found"},
		{"code given, plain error",
			&connector.RecordError{Op: "upsert", Connector: "sf", Object: "Obj", Key: "K", Field: "F", Code: connector.CodeLocked, Err: errors.New("try again")},
			"upsert sf Obj K.F: UNABLE_TO_LOCK_ROW: try again"},
		{"code only",
			&connector.RecordError{Op: "upsert", Connector: "sf", Object: "Obj", Key: "K", Code: connector.CodeNotProcessed},
			"upsert sf Obj K: NOT_PROCESSED"},
		{"value error without detail",
			connector.NewRecordError("upsert", "memory", "Obj", "K", "F", "", connector.Permanent, &connector.ValueError{Code: connector.CodeRequired}),
			"upsert memory Obj K.F: REQUIRED_FIELD_MISSING"},
		{"no key, a field",
			connector.NewRecordError("upsert", "memory", "Obj", "", "Key__c", "", connector.Permanent, &connector.ValueError{Code: connector.CodeInvalidKey, Detail: "empty key"}),
			"upsert memory Obj field Key__c: INVALID_KEY: empty key"},
		{"no connector",
			&connector.RecordError{Op: "map", Object: "Obj", Key: "K", Field: "F", Err: errors.New("no rule")},
			"map Obj K.F: no rule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestRecordErrorUnwrapAndCodes(t *testing.T) {
	notFound := connector.NewRecordError("delete", "memory", "Obj", "K", "", "", connector.Permanent, connector.ErrNotFound)
	wrapped := fmt.Errorf("batch 3: %w", notFound)
	if !errors.Is(wrapped, connector.ErrNotFound) {
		t.Error("errors.Is(ErrNotFound) through RecordError failed")
	}
	if got := connector.CodeOf(wrapped); got != connector.CodeNotFound {
		t.Errorf("CodeOf = %q, want NOT_FOUND", got)
	}
	var re *connector.RecordError
	if !errors.As(wrapped, &re) || re.Key != "K" {
		t.Errorf("errors.As RecordError: %v", re)
	}
	for _, tc := range []struct {
		name string
		err  error
		code connector.Code
	}{
		{"nil", nil, ""},
		{"plain", errors.New("x"), ""},
		{"bare ErrNotFound", connector.ErrNotFound, connector.CodeNotFound},
		{"value error", fmt.Errorf("w: %w", &connector.ValueError{Code: connector.CodeBadPicklist}), connector.CodeBadPicklist},
		{"record error code wins over its value error",
			&connector.RecordError{Code: connector.CodeRolledBack, Err: &connector.ValueError{Code: connector.CodeTooLong}}, connector.CodeRolledBack},
		{"record error without code falls back to the value error",
			&connector.RecordError{Err: &connector.ValueError{Code: connector.CodeTooLong}}, connector.CodeTooLong},
	} {
		if got := connector.CodeOf(tc.err); got != tc.code {
			t.Errorf("%s: CodeOf = %q, want %q", tc.name, got, tc.code)
		}
	}
}

func TestClassOf(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		class     connector.Class
		retryable bool
		fatal     bool
	}{
		{"plain", errors.New("x"), connector.Permanent, false, false},
		{"temporary", fmt.Errorf("w: %w", tempErr{}), connector.Retryable, true, false},
		{"record error retryable", &connector.RecordError{Class: connector.Retryable, Code: connector.CodeLocked}, connector.Retryable, true, false},
		{"record error fatal", fmt.Errorf("w: %w", &connector.RecordError{Class: connector.Fatal}), connector.Fatal, false, true},
		{"record error class wins over a temporary cause", &connector.RecordError{Class: connector.Permanent, Err: tempErr{}}, connector.Permanent, false, false},
		{"context canceled", context.Canceled, connector.Permanent, false, false},
	} {
		if got := connector.ClassOf(tc.err); got != tc.class {
			t.Errorf("%s: ClassOf = %s, want %s", tc.name, got, tc.class)
		}
		if got := connector.IsRetryable(tc.err); got != tc.retryable {
			t.Errorf("%s: IsRetryable = %v", tc.name, got)
		}
		if got := connector.IsFatal(tc.err); got != tc.fatal {
			t.Errorf("%s: IsFatal = %v", tc.name, got)
		}
	}
	if connector.IsRetryable(nil) || connector.IsFatal(nil) {
		t.Error("nil is retryable or fatal")
	}
	for c, want := range map[connector.Class]string{connector.Permanent: "permanent", connector.Retryable: "retryable", connector.Fatal: "fatal"} {
		if c.String() != want {
			t.Errorf("Class.String() = %q, want %q", c.String(), want)
		}
	}
}

func TestValueErrorString(t *testing.T) {
	if got := (&connector.ValueError{Code: connector.CodeTooLong, Detail: "max length 80"}).Error(); got != "STRING_TOO_LONG: max length 80" {
		t.Errorf("got %q", got)
	}
	if got := (&connector.ValueError{Code: connector.CodeRequired}).Error(); got != "REQUIRED_FIELD_MISSING" {
		t.Errorf("got %q", got)
	}
}
