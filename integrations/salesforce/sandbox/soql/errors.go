package soql

import (
	"fmt"
	"strings"
)

// Error codes returned in Error.Code. They are the Salesforce errorCode values
// the REST API puts in its error bodies for the same mistakes.
const (
	CodeMalformedQuery     = "MALFORMED_QUERY"
	CodeInvalidField       = "INVALID_FIELD"
	CodeInvalidType        = "INVALID_TYPE"
	CodeInvalidFilterOp    = "INVALID_QUERY_FILTER_OPERATOR"
	CodeNumberOutsideRange = "NUMBER_OUTSIDE_VALID_RANGE"
)

// Error is a query error as Salesforce reports it: an errorCode and a message.
// The sandbox turns it into a 400 response body unchanged.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface: the code, then the message as
// Salesforce words it.
func (e *Error) Error() string {
	if strings.HasPrefix(e.Message, "\n") {
		return e.Code + ":" + e.Message // keeps the caret under its column
	}
	return e.Code + ": " + e.Message
}

// positioned builds the message Salesforce gives for errors it can place in
// the query text: the query, a caret under the offending column, the row and
// column, then the description.
func positioned(code, query string, pos int, format string, args ...any) *Error {
	row, col, line := 1, 1, query
	start := 0
	for i := 0; i < pos && i < len(query); i++ {
		if query[i] == '\n' {
			row++
			start = i + 1
		}
	}
	if pos > len(query) {
		pos = len(query)
	}
	col = pos - start + 1
	if end := strings.IndexByte(query[start:], '\n'); end >= 0 {
		line = query[start : start+end]
	} else {
		line = query[start:]
	}
	msg := fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s",
		line, strings.Repeat(" ", col-1), row, col, fmt.Sprintf(format, args...))
	return &Error{Code: code, Message: msg}
}
