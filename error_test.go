package passkeyd_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/passkeyd/passkeyd"
)

// Every JSON API answers an error code with one status (web's and the
// console's): the table written out in HTTPStatus is net/http's.
func TestHTTPStatus(t *testing.T) {
	for code, want := range map[string]int{
		passkeyd.EINVALID:      http.StatusBadRequest,
		passkeyd.ENOTFOUND:     http.StatusNotFound,
		passkeyd.ECONFLICT:     http.StatusConflict,
		passkeyd.EUNAUTHORIZED: http.StatusUnauthorized,
		passkeyd.EFORBIDDEN:    http.StatusForbidden,
		passkeyd.ERATELIMIT:    http.StatusTooManyRequests,
		passkeyd.EUNAVAILABLE:  http.StatusServiceUnavailable,
		passkeyd.EINTERNAL:     http.StatusInternalServerError,
	} {
		if got := passkeyd.HTTPStatus(passkeyd.Errorf(code, "x")); got != want {
			t.Errorf("HTTPStatus(%s) = %d, want %d", code, got, want)
		}
	}
	if got := passkeyd.HTTPStatus(errors.New("driver failure")); got != http.StatusInternalServerError {
		t.Errorf("HTTPStatus(plain error) = %d, want 500", got)
	}
}
