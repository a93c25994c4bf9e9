package connector

import (
	"errors"
	"strings"
)

// Sentinel errors for control flow. Compare with errors.Is.
var (
	// ErrNotFound: the record with that key does not exist.
	ErrNotFound = errors.New("record not found")
	// ErrObjectNotFound: the object (sObject, sheet, table) does not exist.
	ErrObjectNotFound = errors.New("object not found")
	// ErrFieldNotFound: a field (column) the caller named does not exist.
	ErrFieldNotFound = errors.New("field not found")
	// ErrReadOnly: the connector or object does not accept writes.
	ErrReadOnly = errors.New("read-only")
	// ErrStop: the run cannot go on and resumes next time (an API budget
	// or daily limit reached). A write that fails with it as a whole is
	// held (pending), not failed, and the run stops cleanly.
	ErrStop = errors.New("the run stops here and resumes next time")
)

// Code is an error code. Connectors use Salesforce's codes where one fits,
// so one vocabulary runs through reports and metrics.
type Code string

// Error codes shared by all connectors.
const (
	CodeInvalidValue    Code = "INVALID_VALUE"                           // wrong kind, unparseable
	CodeTooLong         Code = "STRING_TOO_LONG"                         // longer than the field's length
	CodeBadPicklist     Code = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" // not an allowed picklist value
	CodeOutOfRange      Code = "NUMBER_OUTSIDE_VALID_RANGE"              // too many digits for the field
	CodeRequired        Code = "REQUIRED_FIELD_MISSING"                  // a required field is null
	CodeNotWritable     Code = "INVALID_FIELD_FOR_INSERT_UPDATE"         // field not createable/updateable
	CodeUnknownField    Code = "INVALID_FIELD"                           // no such field
	CodeNotFound        Code = "NOT_FOUND"                               // no such record
	CodeDuplicateKey    Code = "DUPLICATE_VALUE"                         // key (or unique value) not unique
	CodeInvalidKey      Code = "INVALID_KEY"                             // empty or unusable key
	CodeLocked          Code = "UNABLE_TO_LOCK_ROW"                      // lock contention: retry
	CodeUnavailable     Code = "SERVER_UNAVAILABLE"                      // transient: retry
	CodeRowUnreadable   Code = "ROW_UNREADABLE"                          // a source row could not be read
	CodeNotProcessed    Code = "NOT_PROCESSED"                           // skipped, e.g. its parent failed
	CodeOutOfScope      Code = "OUT_OF_SCOPE"                            // exists, outside the job's where: unknown to the job
	CodeConflictHeld    Code = "CONFLICT_HELD"                           // changed on both sides: held for a person (conflict: manual)
	CodeNoKey           Code = "NO_KEY"                                  // a Salesforce record whose key field is empty: ID and Fields set, in no job until it takes a key
	CodeAmbiguousMatch  Code = "AMBIGUOUS_MATCH"                         // match_on pairs it with several records: held for a person
	CodeRolledBack      Code = "ALL_OR_NONE_OPERATION_ROLLED_BACK"       // rolled back with the batch
	CodeRequestRejected Code = "REQUEST_REJECTED"                        // the whole request failed
)

// Class says what retrying a failed operation can achieve.
type Class uint8

// Error classes.
const (
	// Permanent: retrying the same write will fail the same way until the
	// data changes. The record stays pending and is retried next run.
	Permanent Class = iota
	// Retryable: transient (lock contention, overload); retrying in this
	// run may succeed.
	Retryable
	// Fatal: the run cannot go on (authentication, a vanished column).
	Fatal
)

// String names the class.
func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Fatal:
		return "fatal"
	}
	return "permanent"
}

// ValueError is a problem with one value, described without the value:
// "STRING_TOO_LONG: max length 80".
type ValueError struct {
	Code   Code
	Detail string // what was expected; never the value itself
}

func (e *ValueError) Error() string {
	if e.Detail == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Detail
}

// RecordError is an error about one record, and optionally one field of it,
// shaped like io/fs.PathError. Its message names the operation, connector,
// object, key and field, and never a field value:
//
//	upsert salesforce vcms__Survivor_Case__c ngo-th-cm:TH-CL-0007.vcms__First_Name__c: STRING_TOO_LONG: max length 80
//
// Err must not contain a value either; connectors strip values from
// server messages before wrapping them.
type RecordError struct {
	Op        string // read, upsert, delete, map, ...
	Connector string
	Object    string
	Key       string
	Field     string
	Code      Code
	Class     Class
	Err       error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	for _, s := range []string{e.Op, e.Connector, e.Object} {
		if s != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s)
		}
	}
	switch {
	case e.Key != "":
		b.WriteByte(' ')
		b.WriteString(e.Key)
		if e.Field != "" {
			b.WriteByte('.')
			b.WriteString(e.Field)
		}
	case e.Field != "":
		// No key (an empty key cell): "field X", not " .X".
		b.WriteString(" field ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Code != "" && !strings.HasPrefix(msg, string(e.Code)) {
		b.WriteString(string(e.Code))
		if msg != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(msg)
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// NewRecordError returns a RecordError for err, taking its Code from err
// when err is (or wraps) a ValueError or RecordError and code is empty.
func NewRecordError(op, conn, object, key, field string, code Code, class Class, err error) *RecordError {
	if code == "" {
		code = CodeOf(err)
	}
	return &RecordError{Op: op, Connector: conn, Object: object, Key: key, Field: field, Code: code, Class: class, Err: err}
}

// CodeOf returns the error code carried by err (a RecordError or
// ValueError in its chain), CodeNotFound for ErrNotFound, or "".
func CodeOf(err error) Code {
	var re *RecordError
	if errors.As(err, &re) && re.Code != "" {
		return re.Code
	}
	var ve *ValueError
	if errors.As(err, &ve) {
		return ve.Code
	}
	if errors.Is(err, ErrNotFound) {
		return CodeNotFound
	}
	return ""
}

// ClassOf returns the class of err: the Class of a RecordError in its
// chain, Retryable for errors that say so (Temporary() true), Permanent
// otherwise.
func ClassOf(err error) Class {
	var re *RecordError
	if errors.As(err, &re) {
		return re.Class
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return Retryable
	}
	return Permanent
}

// IsRetryable reports whether err is worth retrying in this run.
func IsRetryable(err error) bool { return err != nil && ClassOf(err) == Retryable }

// IsFatal reports whether err must stop the run.
func IsFatal(err error) bool { return err != nil && ClassOf(err) == Fatal }
