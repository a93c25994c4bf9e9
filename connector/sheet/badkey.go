package sheet

import (
	"errors"

	"github.com/casebridge/casebridge/connector"
)

// badKey is the problem of a row, readable otherwise, whose key cell holds
// text that cannot be a key (connector.CheckKey: a control or
// text-direction character, longer than connector.MaxKeyLength). rowKey
// reports such a row without its key: the key's text is neither in the
// record nor in the error, so a NUL or a bidi override never reaches a
// terminal, a report or the state.
func badKey(l *layout, err error) rowProblem {
	detail := "the key cell cannot be a key"
	var ve *connector.ValueError
	if errors.As(err, &ve) && ve.Detail != "" {
		detail = ve.Detail
	}
	return rowProblem{code: connector.CodeInvalidKey, col: l.key, detail: detail}
}
