package passkeyd

import (
	"errors"
	"fmt"
)

// Error codes. Every error that crosses a package boundary carries one, so
// the web layer can map it to an HTTP status in one place and a store on
// SQLite answers exactly like a store on PostgreSQL.
const (
	EINVALID      = "invalid"      // the request was wrong; Message says what to fix
	ENOTFOUND     = "not_found"    // no such thing (or not yours)
	ECONFLICT     = "conflict"     // it already exists (email taken, passkey already registered)
	EUNAUTHORIZED = "unauthorized" // sign-in required or the ceremony failed
	EFORBIDDEN    = "forbidden"    // signed in, but not allowed
	ERATELIMIT    = "rate_limited" // too many attempts; try later
	EUNAVAILABLE  = "unavailable"  // a dependency (the database) is down
	EINTERNAL     = "internal"     // a bug; the user sees a generic message
)

// Error is the error type of passkeyd. Message is safe to show to the user;
// Err is the cause, kept for the logs and never shown.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message that keeps
// cause for the logs.
func WrapError(code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, Err: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Errors that are not
// an *Error (bugs, driver failures) get a generic message.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// HTTPStatus is the HTTP status that answers err, by its code: the one
// table of the JSON APIs (web's and the console's). The numbers are
// net/http's StatusBadRequest and so on, written out because this package
// imports no net/http. Anything that is not an *Error is a bug: 500.
func HTTPStatus(err error) int {
	switch ErrorCode(err) {
	case EINVALID:
		return 400
	case EUNAUTHORIZED:
		return 401
	case EFORBIDDEN:
		return 403
	case ENOTFOUND:
		return 404
	case ECONFLICT:
		return 409
	case ERATELIMIT:
		return 429
	case EUNAVAILABLE:
		return 503
	}
	return 500
}
