// Package api holds the wire types of Salesforce's REST API as casebridge's
// Salesforce connector reads and writes them: OAuth token responses, error
// bodies, query pages, describe results, sObject Collections results and
// limits. The shapes follow doc/architecture.md §6; each type names the
// documented response it decodes.
//
// Decode every body with Decode (json.Decoder.UseNumber): Salesforce numbers
// are exact decimals and must never pass through float64.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// TimeLayout is the form of Salesforce's datetimes in REST responses,
// 2024-01-15T10:30:00.000+0000 (not RFC 3339: the zone has no colon).
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// SOQLTimeLayout is the form of a datetime literal in SOQL (whole seconds,
// UTC): 2024-01-15T10:30:00Z.
const SOQLTimeLayout = "2006-01-02T15:04:05Z"

// WriteTimeLayout is the form casebridge sends datetimes in.
const WriteTimeLayout = "2006-01-02T15:04:05.000Z"

// ParseTime parses a Salesforce datetime in its REST form
// (2024-01-15T10:30:00.000+0000) or RFC 3339 (Bulk API results use
// 2024-01-15T10:30:00.000Z). The result is in UTC. The error does not repeat
// the input.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{TimeLayout, time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a Salesforce datetime (2024-01-15T10:30:00.000+0000)")
}

// Decode decodes one JSON value from data into v with numbers kept as
// json.Number. Trailing data other than white space is an error, and so
// is an empty body.
func Decode(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// describeJSONError turns a decoding error into one that does not quote
// the body (encoding/json's syntax errors do not, but type errors name the
// Go type and offset only; both are safe). Truncation gets its own words.
func describeJSONError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("truncated JSON")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at offset %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("unexpected JSON %s at offset %d (want %s)", te.Value, te.Offset, te.Type)
	}
	return errors.New("invalid JSON")
}

// Token is the body of a successful POST /services/oauth2/token, for every
// flow. The password flow adds IssuedAt and Signature; refresh-token and
// client-credentials add Scope; the JWT flow returns no IssuedAt/Signature.
type Token struct {
	AccessToken  string `json:"access_token"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at,omitempty"`
	Signature    string `json:"signature,omitempty"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// TokenError is the body of a failed token request (HTTP 400, sometimes
// 401): {"error":"invalid_grant","error_description":"authentication failure"}.
type TokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Error is one entry of a REST error body:
// [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}].
// Fields is present for field-level errors.
type Error struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// QueryResult is one page of query or queryAll:
// {totalSize, done, nextRecordsUrl?, records}. Each record is a JSON object
// whose values are nil, string, json.Number, bool or, for a parent
// relationship, a nested object (map[string]any) or nil; "attributes"
// carries {type, url}.
type QueryResult struct {
	TotalSize      int64            `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl,omitempty"`
	Records        []map[string]any `json:"records"`
}

// Attributes is the "attributes" member of a record.
type Attributes struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
}

// DescribeGlobal is GET /sobjects: {encoding, maxBatchSize, sobjects}.
type DescribeGlobal struct {
	Encoding     string           `json:"encoding"`
	MaxBatchSize int              `json:"maxBatchSize"`
	SObjects     []SObjectSummary `json:"sobjects"`
}

// SObjectSummary is one entry of DescribeGlobal.SObjects.
type SObjectSummary struct {
	Name       string `json:"name"`
	Label      string `json:"label"`
	Custom     bool   `json:"custom"`
	Queryable  bool   `json:"queryable"`
	Createable bool   `json:"createable"`
	Updateable bool   `json:"updateable"`
	Deletable  bool   `json:"deletable"`
}

// SObjectDescribe is GET /sobjects/{Obj}/describe, the members casebridge
// uses (the response has many more; unknown members are ignored).
type SObjectDescribe struct {
	Name       string  `json:"name"`
	Label      string  `json:"label"`
	Custom     bool    `json:"custom"`
	Queryable  bool    `json:"queryable"`
	Createable bool    `json:"createable"`
	Updateable bool    `json:"updateable"`
	Deletable  bool    `json:"deletable"`
	Fields     []Field `json:"fields"`
}

// Field is one entry of SObjectDescribe.Fields. Type is the describe type
// (string, picklist, multipicklist, boolean, int, double, currency,
// percent, date, datetime, id, reference, textarea, email, phone, url,
// combobox, encryptedstring, time, base64, address, location, ...).
// RelationshipName is null for non-reference fields (decoded as "").
type Field struct {
	Name               string          `json:"name"`
	Label              string          `json:"label"`
	Type               string          `json:"type"`
	SoapType           string          `json:"soapType"`
	Length             int             `json:"length"`
	ByteLength         int             `json:"byteLength"`
	Digits             int             `json:"digits"`
	Precision          int             `json:"precision"`
	Scale              int             `json:"scale"`
	Nillable           bool            `json:"nillable"`
	Createable         bool            `json:"createable"`
	Updateable         bool            `json:"updateable"`
	DefaultedOnCreate  bool            `json:"defaultedOnCreate"`
	ExternalID         bool            `json:"externalId"`
	IDLookup           bool            `json:"idLookup"`
	Unique             bool            `json:"unique"`
	CaseSensitive      bool            `json:"caseSensitive"`
	Calculated         bool            `json:"calculated"`
	AutoNumber         bool            `json:"autoNumber"`
	CascadeDelete      bool            `json:"cascadeDelete"`
	RestrictedPicklist bool            `json:"restrictedPicklist"`
	PicklistValues     []PicklistValue `json:"picklistValues"`
	ReferenceTo        []string        `json:"referenceTo"`
	RelationshipName   string          `json:"relationshipName"`
	RelationshipOrder  *int            `json:"relationshipOrder"`
	CompoundFieldName  string          `json:"compoundFieldName"`
}

// PicklistValue is one entry of Field.PicklistValues.
type PicklistValue struct {
	Active       bool    `json:"active"`
	DefaultValue bool    `json:"defaultValue"`
	Label        string  `json:"label"`
	ValidFor     *string `json:"validFor"`
	Value        string  `json:"value"`
}

// SaveResult is one entry of an sObject Collections response (create,
// update, upsert, delete): {id, success, errors, created}. Failed records
// of a create carry no id; Created is sent by upsert (v46+) only.
type SaveResult struct {
	ID      string      `json:"id,omitempty"`
	Success bool        `json:"success"`
	Errors  []SaveError `json:"errors"`
	Created *bool       `json:"created,omitempty"`
}

// SaveError is one entry of SaveResult.Errors. Unlike the request-level
// Error, the code is called statusCode here.
type SaveError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// CollectionRequest is the body of a Collections create/update/upsert.
// Each record carries "attributes":{"type":Obj}.
type CollectionRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// Limit is one entry of GET /limits: {"Max":15000,"Remaining":14998}.
type Limit struct {
	Max       int64 `json:"Max"`
	Remaining int64 `json:"Remaining"`
}

// Limits is GET /limits, keyed by limit name (DailyApiRequests, ...).
// Entries carry further per-application members, which are ignored.
type Limits map[string]Limit

// Version is one entry of GET /services/data.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// SplitMulti splits a multi-select picklist value ("a;b") into its values.
// The empty string has none.
func SplitMulti(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// JobRequest is the body of POST /jobs/ingest (Bulk API 2.0).
type JobRequest struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"` // insert, update, upsert, delete, hardDelete
	ExternalIDFieldName string `json:"externalIdFieldName,omitempty"`
	ContentType         string `json:"contentType"`     // CSV
	ColumnDelimiter     string `json:"columnDelimiter"` // COMMA
	LineEnding          string `json:"lineEnding"`      // LF
}

// JobInfo is a Bulk API 2.0 ingest job as POST /jobs/ingest and
// GET /jobs/ingest/{id} return it. State runs Open -> UploadComplete ->
// InProgress -> JobComplete, or Failed (ErrorMessage) or Aborted.
type JobInfo struct {
	ID                     string `json:"id"`
	Operation              string `json:"operation"`
	Object                 string `json:"object"`
	State                  string `json:"state"`
	ExternalIDFieldName    string `json:"externalIdFieldName,omitempty"`
	ContentType            string `json:"contentType"`
	ContentURL             string `json:"contentUrl,omitempty"`
	JobType                string `json:"jobType,omitempty"`
	NumberRecordsProcessed int64  `json:"numberRecordsProcessed"`
	NumberRecordsFailed    int64  `json:"numberRecordsFailed"`
	Retries                int64  `json:"retries"`
	ErrorMessage           string `json:"errorMessage,omitempty"`
}

// Bulk API 2.0 job states.
const (
	JobOpen           = "Open"
	JobUploadComplete = "UploadComplete"
	JobInProgress     = "InProgress"
	JobComplete       = "JobComplete"
	JobFailed         = "Failed"
	JobAborted        = "Aborted"
)
