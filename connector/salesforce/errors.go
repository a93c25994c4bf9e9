package salesforce

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/casebridge/casebridge/connector"
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
// Salesforce's errorCode and fields. Message is Salesforce's message only
// when it is known to hold no data value; otherwise a value-free
// description of the code. The URL of the request is never included (a
// query URL carries SOQL literals).
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
// REQUEST_LIMIT_EXCEEDED, the latter says "ConcurrentRequests".
func isDailyLimit(msg string) bool { return !strings.Contains(msg, "Concurrent") }

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
// (salesforce-facts.md, token errors row). Any other description is
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

// safeMessages are message shapes that hold only schema names (objects,
// fields, relationships), never a data value; captured names must look like
// API names. A message not matching one is replaced by the code's
// description.
var safeMessages = []*regexp.Regexp{
	regexp.MustCompile(`^No such column '[A-Za-z0-9_.]+' on (?:entity|sobject of type) '?[A-Za-z0-9_]+'?`),
	regexp.MustCompile(`^sObject type '[A-Za-z0-9_]+' is not supported`),
	regexp.MustCompile(`^Didn't understand relationship '[A-Za-z0-9_.]+' in field path`),
	regexp.MustCompile(`^value of filter criterion for field '[A-Za-z0-9_.]+' must be of type [A-Za-z]+ and should not be enclosed in quotes$`),
	regexp.MustCompile(`^Unable to create/update fields: [A-Za-z0-9_, ]+\.`),
	regexp.MustCompile(`^Required fields are missing: \[[A-Za-z0-9_, ]*\]$`),
	regexp.MustCompile(`^Provided external ID field does not exist or is not accessible: [A-Za-z0-9_]+$`),
	regexp.MustCompile(`^The requested resource does not exist$`),
	regexp.MustCompile(`^Session expired or invalid$`),
	regexp.MustCompile(`^TotalRequests Limit exceeded\.$`),
	regexp.MustCompile(`^ConcurrentRequests \(Concurrent API Requests\) Limit exceeded\.$`),
	regexp.MustCompile(`^Server too busy$`),
	regexp.MustCompile(`^record limit reached\. cannot submit more than 200 records into this call$`),
	regexp.MustCompile(`^entity is deleted$`),
	regexp.MustCompile(`^Id not specified in an update call$`),
	regexp.MustCompile(`^cannot specify Id in an insert call$`),
	regexp.MustCompile(`^Record rolled back because not all records were valid and the request was using AllOrNone header$`),
	regexp.MustCompile(`^invalid query locator$`),
	// Only SOQL keywords: an unexpected token may be a value.
	regexp.MustCompile(`^unexpected token: (?:'(?:SELECT|FROM|WHERE|AND|OR|NOT|IN|LIKE|INCLUDES|EXCLUDES|ORDER|BY|LIMIT|OFFSET|GROUP|HAVING|NULL|TRUE|FALSE|ASC|DESC|NULLS|FIRST|LAST|,|\(|\))'|<EOF>)$`),
}

// codeDescriptions are value-free descriptions for codes whose messages
// echo values (STRING_TOO_LONG "data value too large: <value>", restricted
// picklist "bad value ...: <value>", DUPLICATE_VALUE, MALFORMED_ID, SOQL
// excerpts) or are otherwise not kept.
var codeDescriptions = map[string]string{
	"STRING_TOO_LONG":                         "value longer than the field allows",
	"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "not one of the restricted picklist's values",
	"DUPLICATE_VALUE":                         "duplicate value on a unique field",
	"DUPLICATE_EXTERNAL_ID":                   "more than one record found for the external id",
	"MALFORMED_ID":                            "id value of incorrect type",
	"INVALID_EMAIL_ADDRESS":                   "invalid email address",
	"NUMBER_OUTSIDE_VALID_RANGE":              "number outside the field's range",
	"INVALID_TYPE_ON_FIELD_IN_RECORD":         "value not of the field's type",
	"JSON_PARSER_ERROR":                       "value not of the field's type",
	"REQUIRED_FIELD_MISSING":                  "required field missing",
	"INVALID_FIELD_FOR_INSERT_UPDATE":         "field not writable",
	"INVALID_FIELD":                           "no such field",
	"INVALID_TYPE":                            "no such object",
	"MALFORMED_QUERY":                         "malformed SOQL query",
	"INVALID_QUERY_FILTER_OPERATOR":           "invalid filter in SOQL query",
	"INVALID_QUERY_LOCATOR":                   "query locator expired or invalid",
	"UNABLE_TO_LOCK_ROW":                      "unable to obtain exclusive access to the record",
	"FIELD_CUSTOM_VALIDATION_EXCEPTION":       "failed a validation rule",
	"FIELD_INTEGRITY_EXCEPTION":               "field integrity exception",
	"INVALID_CROSS_REFERENCE_KEY":             "invalid reference",
	"ENTITY_IS_DELETED":                       "record is deleted",
	"INSUFFICIENT_ACCESS_OR_READONLY":         "insufficient access",
	"CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY":    "a trigger or flow failed",
	"REQUEST_LIMIT_EXCEEDED":                  "API request limit exceeded",
	"INVALID_SESSION_ID":                      "session expired or invalid",
	"SERVER_UNAVAILABLE":                      "server unavailable",
	"NOT_FOUND":                               "not found",
	"METHOD_NOT_ALLOWED":                      "method not allowed",
	"EXCEEDED_ID_LIMIT":                       "too many records in one call",
	"ALL_OR_NONE_OPERATION_ROLLED_BACK":       "rolled back with the batch",
	"INVALID_REPLICATION_DATE":                "replication date out of range",
}

// SafeMessage returns Salesforce's message for code when it is known to
// hold no data value, and otherwise a value-free description of the code.
func SafeMessage(code, msg string) string {
	msg = strings.TrimSpace(msg)
	// A SOQL error is "\n<query line>\n<caret>\nERROR at Row:R:Column:C\n<message>":
	// the query excerpt holds literals; only the last line may be kept.
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	// Only the matched part is kept: text after a safe prefix is dropped.
	for _, re := range safeMessages {
		if m := re.FindString(msg); m != "" {
			return m
		}
	}
	if d, ok := codeDescriptions[code]; ok {
		return d
	}
	if code == "" {
		return "error (message withheld)"
	}
	return "message withheld (it may hold a value)"
}

// classOf returns the connector error class of a per-record status code.
func classOf(code string) connector.Class {
	switch code {
	case "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE":
		return connector.Retryable
	}
	return connector.Permanent
}
