// Package httpjson reads and writes the JSON bodies of passkeyd's APIs:
// web's (the tutorial's routes and the dashboard's) and the console's.
package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/passkeyd/passkeyd"
)

// MaxBody bounds every request body. An attestation object is a few
// kilobytes, an app with many redirect URIs too; 64 KiB leaves room for
// large RSA keys and extensions.
const MaxBody = 64 << 10

// Write answers v as JSON with status; the answer is never cached.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// IsJSON reports whether the request says its body is JSON.
func IsJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// ReadBody returns the request body, at most MaxBody (EINVALID past it),
// insisting on a JSON content type when there is a body at all.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readAll(http.MaxBytesReader(w, r.Body, MaxBody), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "The request body is larger than %d bytes.", MaxBody)
		}
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "The request body could not be read.", err)
	}
	if len(body) > 0 && !IsJSON(r) {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "Send the request body as JSON (Content-Type: application/json).")
	}
	return body, nil
}

// readAll is io.ReadAll into one buffer of the announced length (browsers
// announce it), with a byte to spare for the read that finds the end:
// io.ReadAll starts at 512 bytes and grows, copying, past that.
func readAll(body io.Reader, length int64) ([]byte, error) {
	size := int64(512)
	if length >= 0 && length < MaxBody {
		size = length + 1
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Decode reads the request's JSON into v, leniently, as the tutorial's
// routes did: fields v lacks are ignored, and an empty body leaves v as it
// is, so that `{}` and no body mean the same.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := ReadBody(w, r)
	if err != nil || len(body) == 0 {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return passkeyd.WrapError(passkeyd.EINVALID, "The request body is not valid JSON of the expected shape.", err)
	}
	return nil
}

// DecodeStrict reads the request's JSON object into v, strictly, as an
// administrator's API does: a body that is not JSON (by its content type
// or its bytes), larger than MaxBody, holds a field v does not have, or
// more than one value is EINVALID, saying which field is wrong without
// echoing values.
func DecodeStrict(w http.ResponseWriter, r *http.Request, v any) error {
	if !IsJSON(r) {
		return passkeyd.Errorf(passkeyd.EINVALID, "Send the request body as JSON (Content-Type: application/json).")
	}
	body, err := ReadBody(w, r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return passkeyd.Errorf(passkeyd.EINVALID, "The request body is not valid JSON of the expected shape: %s.", problem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return passkeyd.Errorf(passkeyd.EINVALID, "The request body holds more than one JSON value.")
	}
	return nil
}

// problem says what is wrong with a body in terms of its fields.
func problem(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return "field " + strconv.Quote(typeErr.Field) + " must be a " + typeErr.Type.String()
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "it does not parse"
}
