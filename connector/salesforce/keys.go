package salesforce

import (
	"errors"

	"github.com/casebridge/casebridge/connector"
)

// keyErr returns the INVALID_KEY error of a key that cannot be a key of o
// (connector.CheckKey under the length of o's key field: a control or
// text-direction character, longer than the field holds), nil for a good
// key. Such a key is never put into a SOQL literal or a URL: its record
// fails alone. The error names the operation, object, key field and, when
// id is not empty, the record's Id; never the key.
func (c *Connector) keyErr(op string, o *connector.Object, key, id string) *connector.RecordError {
	err := connector.CheckKey(key, keyLength(o))
	if err == nil {
		return nil
	}
	var ve *connector.ValueError
	if id != "" && errors.As(err, &ve) {
		err = &connector.ValueError{Code: ve.Code, Detail: "record " + id + ": " + ve.Detail}
	}
	return connector.NewRecordError(op, c.name, o.Name, "", o.Key, connector.CodeInvalidKey, connector.Permanent, err)
}

// keyLength is the length of o's key field (0 when unknown: CheckKey's
// default).
func keyLength(o *connector.Object) int {
	if kf := o.KeyField(); kf != nil {
		return kf.Length
	}
	return 0
}
