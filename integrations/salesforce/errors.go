package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error codes the client branches on. Salesforce defines many more; callers
// compare [APIError.ErrorCode] or [ErrorDetail.Code] with the API's own
// strings.
const (
	CodeInvalidSessionID      = "INVALID_SESSION_ID"
	CodeRequestLimitExceeded  = "REQUEST_LIMIT_EXCEEDED"
	CodeUnableToLockRow       = "UNABLE_TO_LOCK_ROW"
	CodeServerUnavailable     = "SERVER_UNAVAILABLE"
	CodeNotFound              = "NOT_FOUND"
	CodeEntityIsDeleted       = "ENTITY_IS_DELETED"
	CodeMultipleChoices       = "MULTIPLE_CHOICES"
	CodeRequiredFieldMissing  = "REQUIRED_FIELD_MISSING"
	CodeStringTooLong         = "STRING_TOO_LONG"
	CodeInvalidField          = "INVALID_FIELD"
	CodeInvalidType           = "INVALID_TYPE"
	CodeMalformedID           = "MALFORMED_ID"
	CodeMalformedQuery        = "MALFORMED_QUERY"
	CodeDuplicateValue        = "DUPLICATE_VALUE"
	CodeDuplicatesDetected    = "DUPLICATES_DETECTED"
	CodeInvalidCrossReference = "INVALID_CROSS_REFERENCE_KEY"
	CodeAllOrNoneRolledBack   = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	CodeProcessingHalted      = "PROCESSING_HALTED"
	CodeAPIDisabledForOrg     = "API_DISABLED_FOR_ORG"
	CodeInvalidQueryLocator   = "INVALID_QUERY_LOCATOR"
)

// ErrorDetail is one entry of a Salesforce error array. REST error bodies name
// the code "errorCode"; sObject Collections results name it "statusCode";
// both decode into Code.
type ErrorDetail struct {
	Code    string   `json:"errorCode"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
	// Duplicate is set for DUPLICATES_DETECTED. Salesforce has sent the key
	// both as "duplicateResult" and, in some versions, "duplicateResut";
	// either spelling fills it.
	Duplicate *DuplicateResult `json:"duplicateResult,omitempty"`
}

// UnmarshalJSON accepts both code keys and both duplicate-result spellings.
func (d *ErrorDetail) UnmarshalJSON(b []byte) error {
	var w struct {
		ErrorCode       string           `json:"errorCode"`
		StatusCode      string           `json:"statusCode"`
		Message         string           `json:"message"`
		Fields          []string         `json:"fields"`
		DuplicateResult *DuplicateResult `json:"duplicateResult"`
		DuplicateResut  *DuplicateResult `json:"duplicateResut"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = ErrorDetail{Code: w.ErrorCode, Message: w.Message, Fields: w.Fields, Duplicate: w.DuplicateResult}
	if d.Code == "" {
		d.Code = w.StatusCode
	}
	if d.Duplicate == nil {
		d.Duplicate = w.DuplicateResut
	}
	return nil
}

// DuplicateResult describes why a duplicate rule blocked a save.
type DuplicateResult struct {
	AllowSave               bool          `json:"allowSave"`
	DuplicateRule           string        `json:"duplicateRule"`
	DuplicateRuleEntityType string        `json:"duplicateRuleEntityType"`
	ErrorMessage            string        `json:"errorMessage"`
	MatchResults            []MatchResult `json:"matchResults"`
}

// MatchResult is one matching rule's findings inside a [DuplicateResult].
type MatchResult struct {
	EntityType   string        `json:"entityType"`
	MatchEngine  string        `json:"matchEngine"`
	Rule         string        `json:"rule"`
	Size         int           `json:"size"`
	Success      bool          `json:"success"`
	MatchRecords []MatchRecord `json:"matchRecords"`
}

// MatchRecord is one existing record a duplicate rule matched.
type MatchRecord struct {
	MatchConfidence float64        `json:"matchConfidence"`
	Record          map[string]any `json:"record"`
}

// MatchedIDs returns the Ids of every record the duplicate rule matched.
func (d *DuplicateResult) MatchedIDs() []string {
	if d == nil {
		return nil
	}
	var ids []string
	for _, mr := range d.MatchResults {
		for _, rec := range mr.MatchRecords {
			if id, ok := rec.Record["Id"].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// APIError is a non-2xx REST response. Salesforce answers with an array of
// errors; the first one is promoted to ErrorCode, Message and Fields, and all
// of them are kept in Errors.
type APIError struct {
	// StatusCode is the HTTP status; 0 for the failure of one record inside
	// a successful collections call (SaveResult.Err).
	StatusCode int
	Method     string
	// Path is the request path without its query string (which may carry
	// record data or a SOQL string).
	Path      string
	ErrorCode string
	Message   string
	Fields    []string
	Errors    []ErrorDetail
	// Matches lists the record URLs of a 300 Multiple Choices answer to an
	// upsert by external ID (ErrorCode MULTIPLE_CHOICES).
	Matches []string
}

// Error describes the failure with the API's own code and message.
func (e *APIError) Error() string {
	var b strings.Builder
	switch {
	case e.StatusCode == 0: // one record of a 200 collections answer
		b.WriteString("record")
		if e.Path != "" {
			b.WriteString(" " + e.Path)
		}
		b.WriteString(":")
	default:
		fmt.Fprintf(&b, "%s %s: %d", e.Method, e.Path, e.StatusCode)
	}
	if e.ErrorCode != "" {
		b.WriteString(" ")
		b.WriteString(e.ErrorCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		fmt.Fprintf(&b, " (fields %s)", strings.Join(e.Fields, ", "))
	}
	if n := len(e.Errors); n > 1 {
		fmt.Fprintf(&b, " (and %d more)", n-1)
	}
	return b.String()
}

// HasCode reports whether any error in the body carries code.
func (e *APIError) HasCode(code string) bool {
	if e.ErrorCode == code {
		return true
	}
	for _, d := range e.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// newAPIError decodes a Salesforce error body. Bodies that are not the usual
// array (an HTML error page from a proxy, an object) still produce an error
// with the status and a short excerpt as the message.
func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path}
	trimmed := strings.TrimSpace(string(body))
	switch {
	case strings.HasPrefix(trimmed, "["):
		if json.Unmarshal(body, &e.Errors) == nil {
			break
		}
		e.Errors = nil
	case strings.HasPrefix(trimmed, "{"):
		var one ErrorDetail
		if json.Unmarshal(body, &one) == nil && (one.Code != "" || one.Message != "") {
			e.Errors = []ErrorDetail{one}
		}
	}
	if len(e.Errors) > 0 {
		e.ErrorCode, e.Message, e.Fields = e.Errors[0].Code, e.Errors[0].Message, e.Errors[0].Fields
	} else if trimmed != "" {
		e.Message = excerpt(trimmed, 200)
	} else {
		e.Message = http.StatusText(status)
	}
	return e
}

func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// IsRateLimit reports whether err says the org's API allocation or
// concurrency limit is spent (REQUEST_LIMIT_EXCEEDED, or HTTP 429), or the
// login server's rate_limit_exceeded. Such an error is a pause, not a
// retry: callers should wait (snooze) rather than try again at once.
func IsRateLimit(err error) bool {
	var oe *OAuthError
	if errors.As(err, &oe) {
		return oe.Code == "rate_limit_exceeded"
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode == http.StatusTooManyRequests || ae.HasCode(CodeRequestLimitExceeded)
}

// IsSessionError reports whether err is an invalid or expired session that a
// refresh could not fix (the client already refreshed once, or has no
// refresher), or a refresh token the login server refused for good. Tandem
// marks the connection needs_reauth on it.
func IsSessionError(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
		return true
	}
	var oe *OAuthError
	return errors.As(err, &oe) && oe.Terminal()
}

// IsValidation reports whether err is the API rejecting the data itself
// (a 400 that is not transient): required fields, lengths, types, references,
// duplicates, validation rules. Retrying the same data cannot succeed; the
// record should be reported as failed with the API's message.
func IsValidation(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	if (ae.StatusCode != http.StatusBadRequest && ae.StatusCode != 0) || ae.HasCode(CodeUnableToLockRow) {
		return false
	}
	switch ae.ErrorCode {
	case CodeMalformedQuery, CodeInvalidQueryLocator, CodeInvalidReplicationDate, CodeExceededIDLimit,
		CodeAllOrNoneRolledBack, CodeProcessingHalted:
		// The query or the replication window is the bug, a cursor
		// expired, or the record was fine and only rolled back.
		return false
	}
	return true
}

// IsNotFound reports whether err is a 404 (NOT_FOUND or ENTITY_IS_DELETED).
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// IsTransient reports whether err is worth retrying later: lock contention,
// 5xx from the API or the login host, or a refresh that collided with
// another one. The client has already retried these a few times before
// returning them.
func IsTransient(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500 || ae.HasCode(CodeUnableToLockRow)
	}
	var oe *OAuthError
	return errors.As(err, &oe) && (oe.Concurrent() || oe.StatusCode >= 500)
}
