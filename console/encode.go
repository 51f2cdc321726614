package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
)

// maxBody bounds a request body, as web's JSON API does (64 KiB): an app
// with many redirect URIs is a few kilobytes.
const maxBody = 64 << 10

func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads the JSON object of the request body into v, strictly: a
// body that is not JSON, larger than maxBody, holds a field v does not
// have, or more than one value is EINVALID, and nothing is written.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return passkeyd.Errorf(passkeyd.EINVALID, "Send the request body as JSON (Content-Type: application/json).")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return passkeyd.Errorf(passkeyd.EINVALID, "The request body is larger than %d bytes.", maxBody)
		}
		return passkeyd.WrapError(passkeyd.EINVALID, "The request body could not be read.", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return passkeyd.Errorf(passkeyd.EINVALID, "The request body is not valid JSON of the expected shape: %s.", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return passkeyd.Errorf(passkeyd.EINVALID, "The request body holds more than one JSON value.")
	}
	return nil
}

// jsonProblem says what is wrong with a body in terms of its fields,
// never echoing values.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return "field " + strconv.Quote(typeErr.Field) + " must be a " + typeErr.Type.String()
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "it does not parse"
}

// optionalTime is a time for JSON: absent (omitempty with a pointer) when
// zero, as "lastUsedAt" and "lastSignInAt" are.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
