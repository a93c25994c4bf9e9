package salesforce

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// Stop errors: the run cannot go on and should resume next time. Compare
// with errors.Is; IsStop reports any of them.
var (
	// ErrBudget: the next call would pass the configured API budget (a
	// share of the org's daily limit, or a number of calls). It is a
	// connector.ErrStop.
	ErrBudget error = &stopError{"salesforce: API budget reached"}
	// ErrLimitExceeded: Salesforce answered 403 REQUEST_LIMIT_EXCEEDED,
	// the org's daily API limit is used up. It is a connector.ErrStop.
	ErrLimitExceeded error = &stopError{"salesforce: daily API request limit exceeded"}
	// ErrAuth: authentication failed; see *AuthError.
	ErrAuth = errors.New("salesforce: authentication failed")
	// ErrMalformedResponse: a response was not the JSON the API documents
	// (an HTML error page, truncated JSON, an error body of [] or null).
	ErrMalformedResponse = errors.New("salesforce: malformed response")
)

// OutageError is a write request the org did not answer after the
// client's retries (an outage): the run stops there and resumes next time.
// It is a connector.ErrStop; the exit code is not the budget's.
type OutageError struct{ Err error }

func (e *OutageError) Error() string {
	return "salesforce did not answer (an outage?): " + e.Err.Error() + "; the writes not sent wait for the next run"
}
func (e *OutageError) Unwrap() error        { return e.Err }
func (e *OutageError) Is(target error) bool { return target == connector.ErrStop }

// stopError is a stop error that is also a connector.ErrStop: the engine
// holds the writes it stopped, for the next run.
type stopError struct{ msg string }

func (e *stopError) Error() string        { return e.msg }
func (e *stopError) Is(target error) bool { return target == connector.ErrStop }

// IsStop reports whether err must stop the run: the budget or the daily
// limit is reached, or authentication failed.
func IsStop(err error) bool {
	return errors.Is(err, ErrBudget) || errors.Is(err, ErrLimitExceeded) || errors.Is(err, ErrAuth)
}

// APIError is a request-level error from the REST API: its HTTP status and
// Salesforce's errorCode and the fields of it the object's describe knows.
// Message is casebridge's value-free description of the code (see
// SafeMessage), never Salesforce's message. The URL of the request is never
// included (a query URL carries SOQL literals).
type APIError struct {
	Op      string // describe, query, upsert, delete, token, ...
	Object  string
	Status  int
	Code    string
	Fields  []string
	Message string
	// Malformed is set when the body was not a documented error body.
	Malformed bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("salesforce ")
	b.WriteString(e.Op)
	if e.Object != "" {
		b.WriteByte(' ')
		b.WriteString(e.Object)
	}
	b.WriteString(": HTTP ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	if len(e.Fields) > 0 {
		b.WriteString(" [")
		b.WriteString(strings.Join(e.Fields, ", "))
		b.WriteByte(']')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrLimitExceeded) and ErrMalformedResponse work
// on an APIError.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrLimitExceeded, connector.ErrStop:
		// The daily limit stops the run (ErrLimitExceeded is a stop).
		return e.Status == 403 && e.Code == "REQUEST_LIMIT_EXCEEDED" && isDailyLimit(e.Message)
	case ErrMalformedResponse:
		return e.Malformed
	case connector.ErrObjectNotFound:
		return e.Code == "NOT_FOUND" && e.Op == "describe" || e.Code == "INVALID_TYPE"
	}
	return false
}

// isDailyLimit tells the daily limit (stop) from the concurrent
// long-running request limit (back off): both are 403
// REQUEST_LIMIT_EXCEEDED, the latter says "ConcurrentRequests" (and so
// does its description, concurrentLimitDescription).
func isDailyLimit(msg string) bool { return !strings.Contains(msg, "ConcurrentRequests") }

// Temporary reports whether retrying later may succeed (overload, lock
// contention, the concurrent-request limit); connector.ClassOf reads it.
func (e *APIError) Temporary() bool {
	switch e.Status {
	case 429, 502, 503, 504:
		return true
	}
	switch e.Code {
	case "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE":
		return true
	case "REQUEST_LIMIT_EXCEEDED":
		return !isDailyLimit(e.Message)
	}
	return false
}

// AuthError is a failed authentication: the flow, the HTTP status and
// Salesforce's OAuth error code and description (e.g. invalid_grant /
// authentication failure). It never holds a secret: the description is
// kept only when it is one of Salesforce's documented texts.
type AuthError struct {
	Flow        Flow
	Status      int
	Code        string
	Description string
	Err         error // a local cause (bad key file, network), if any
}

func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "salesforce auth (%s flow)", e.Flow)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *AuthError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrAuth) true.
func (e *AuthError) Is(target error) bool { return target == ErrAuth }

// knownTokenDescriptions are Salesforce's documented token error texts
// (doc/architecture.md §6.1, token errors). Any other description is
// replaced: a server could echo a username back.
var knownTokenDescriptions = map[string]bool{
	"authentication failure":               true,
	"client identifier invalid":            true,
	"invalid client credentials":           true,
	"grant type not supported":             true,
	"expired access/refresh token":         true,
	"audience is invalid":                  true,
	"expired authorization code":           true,
	"user hasn't approved this consumer":   true,
	"invalid assertion":                    true,
	"no client credentials user enabled":   true,
	"inactive user":                        true,
	"invalid_grant":                        true,
	"IP restricted or invalid login hours": true,
	"token validity expired":               true,
	"invalid user credentials":             true,
}

// codeDescriptions are casebridge's own value-free descriptions of the
// Salesforce error codes it knows. Salesforce's message never reaches an
// output, whatever its shape: messages echo values ("data value too large:
// <value>", "bad value for restricted picklist field: <value>", "duplicate
// value found: <field> duplicates value on record with id: <id>", a SOQL
// excerpt with its literals), and a message of a harmless shape
// ("Required fields are missing: [<text>]") can carry a value as well as
// names. An error is reported by its code, this description and the
// fields the object's describe knows (see knownFields).
var codeDescriptions = map[string]string{
	"STRING_TOO_LONG":                               "value longer than the field allows",
	"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST":       "not one of the restricted picklist's values",
	"DUPLICATE_VALUE":                               "duplicate value on a unique field",
	"DUPLICATE_EXTERNAL_ID":                         "more than one record found for the external id",
	"DUPLICATES_DETECTED":                           "a duplicate rule blocked the record",
	"MALFORMED_ID":                                  "id value of incorrect type",
	"INVALID_ID_FIELD":                              "invalid id",
	"INVALID_EMAIL_ADDRESS":                         "invalid email address",
	"NUMBER_OUTSIDE_VALID_RANGE":                    "number outside the field's range",
	"INVALID_TYPE_ON_FIELD_IN_RECORD":               "value not of the field's type",
	"JSON_PARSER_ERROR":                             "value not of the field's type",
	"REQUIRED_FIELD_MISSING":                        "required field missing",
	"INVALID_FIELD_FOR_INSERT_UPDATE":               "field not writable",
	"INVALID_FIELD":                                 "no such field or relationship",
	"INVALID_TYPE":                                  "no such object",
	"MALFORMED_QUERY":                               "malformed SOQL query",
	"INVALID_QUERY_FILTER_OPERATOR":                 "invalid filter in SOQL query",
	"INVALID_QUERY_LOCATOR":                         "query locator expired or invalid",
	"QUERY_TIMEOUT":                                 "query timed out",
	"UNABLE_TO_LOCK_ROW":                            "unable to obtain exclusive access to the record",
	"FIELD_CUSTOM_VALIDATION_EXCEPTION":             "failed a validation rule",
	"FIELD_FILTER_VALIDATION_EXCEPTION":             "value does not meet the lookup filter",
	"FIELD_INTEGRITY_EXCEPTION":                     "field integrity exception",
	"INVALID_CROSS_REFERENCE_KEY":                   "invalid reference",
	"ENTITY_IS_DELETED":                             "record is deleted",
	"ENTITY_IS_LOCKED":                              "record is locked",
	"DELETE_FAILED":                                 "delete failed (the record is referenced)",
	"INSUFFICIENT_ACCESS_OR_READONLY":               "insufficient access",
	"INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "insufficient access to a referenced record",
	"CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY":          "a trigger or flow failed",
	"INVALID_SESSION_ID":                            "session expired or invalid",
	"SERVER_UNAVAILABLE":                            "server unavailable",
	"NOT_FOUND":                                     "not found",
	"METHOD_NOT_ALLOWED":                            "method not allowed",
	"UNSUPPORTED_MEDIA_TYPE":                        "unsupported media type",
	"MISSING_ARGUMENT":                              "missing argument",
	"EXCEEDED_ID_LIMIT":                             "too many records in one call",
	"LIMIT_EXCEEDED":                                "a limit of the call was exceeded",
	"STORAGE_LIMIT_EXCEEDED":                        "the org's data storage is full",
	"ALL_OR_NONE_OPERATION_ROLLED_BACK":             "rolled back with the batch",
	"PROCESSING_HALTED":                             "not processed: the request stopped at an earlier error",
	"INVALID_REPLICATION_DATE":                      "replication date out of range",
	"API_DISABLED_FOR_ORG":                          "the API is not enabled for the org",
	"API_CURRENTLY_DISABLED":                        "the API is disabled for the user",
	"INVALID_OPERATION":                             "invalid operation",
	"UNKNOWN_EXCEPTION":                             "an internal Salesforce error",
	"INVALIDJOB":                                    "invalid bulk job",
	"INVALIDJOBSTATE":                               "bulk job in the wrong state",
	"JOB_NOT_COMPLETE":                              "bulk job not complete",
}

// Descriptions of REQUEST_LIMIT_EXCEEDED, which means two things told
// apart by Salesforce's message (see isDailyLimit).
const (
	dailyLimitDescription      = "daily API request limit exceeded (TotalRequests)"
	concurrentLimitDescription = "too many long-running requests at once (ConcurrentRequests)"
)

// unknownCodeDescription is the description of a code casebridge does not
// know, and noCodeDescription of an error without a code.
const (
	unknownCodeDescription = "an error casebridge does not know; Salesforce's message is not shown as it may hold a value"
	noCodeDescription      = "an error without a code; Salesforce's message is not shown as it may hold a value"
)

// SafeMessage returns casebridge's value-free description of a Salesforce
// error code: never Salesforce's message itself, which is read only to
// tell the two REQUEST_LIMIT_EXCEEDED apart.
func SafeMessage(code, msg string) string {
	switch {
	case code == "REQUEST_LIMIT_EXCEEDED" && strings.Contains(msg, "ConcurrentRequests"):
		return concurrentLimitDescription
	case code == "REQUEST_LIMIT_EXCEEDED":
		return dailyLimitDescription
	case code == "":
		return noCodeDescription
	}
	if d, ok := codeDescriptions[code]; ok {
		return d
	}
	return unknownCodeDescription
}

// knownFields keeps the names of fields that the describe of o has (as
// the describe spells them); anything else in an error's field list
// (a value Salesforce or a proxy put there) is dropped. With no describe,
// nothing is kept.
func knownFields(o *connector.Object, fields []string) []string {
	if o == nil {
		return nil
	}
	var out []string
	for _, f := range fields {
		if d := o.Field(strings.TrimSpace(f)); d != nil && !slices.Contains(out, d.Name) {
			out = append(out, d.Name)
		}
	}
	return out
}

// describedObject returns the cached describe of object (nil if it has
// none yet), for the field lists of request errors.
func (c *Connector) describedObject(object string) *connector.Object {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o, ok := c.objects[object]; ok {
		return o
	}
	for n, o := range c.objects {
		if strings.EqualFold(n, object) {
			return o
		}
	}
	return nil
}

// apiError decodes an error body. Salesforce sends
// [{"message","errorCode","fields"}]; an empty array, null, an HTML page or
// truncated JSON give a Malformed *APIError instead of a panic. The code is
// kept if it looks like one, the message is replaced by SafeMessage's
// description, and the fields are those describe (the describe of the
// request's object, nil when there is none) knows.
func apiError(op, object string, status int, body []byte, describe func(object string) *connector.Object) error {
	e := &APIError{Op: op, Object: object, Status: status}
	var errs []api.Error
	if err := api.Decode(body, &errs); err != nil || len(errs) == 0 || errs[0].ErrorCode == "" {
		// Some endpoints answer with a single object rather than an array.
		var one api.Error
		if err2 := api.Decode(body, &one); err2 == nil && one.ErrorCode != "" {
			errs = []api.Error{one}
		} else {
			e.Malformed = true
			e.Message = describeBody(body)
			return e
		}
	}
	first := errs[0]
	e.Code = sanitizeCode(first.ErrorCode)
	if describe != nil && object != "" {
		e.Fields = knownFields(describe(object), first.Fields)
	}
	e.Message = SafeMessage(e.Code, first.Message)
	return e
}

// classOf returns the connector error class of a per-record status code.
func classOf(code string) connector.Class {
	switch code {
	case "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE":
		return connector.Retryable
	}
	return connector.Permanent
}
