package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/passkeyd/passkeyd"
)

// maxBodyBytes bounds every request body. An attestation object is a few
// kilobytes; 64 KiB leaves room for large RSA keys and extensions.
const maxBodyBytes = 64 << 10

func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readBody returns the request body, at most maxBodyBytes, insisting on a
// JSON content type when there is a body at all.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readAll(http.MaxBytesReader(w, r.Body, maxBodyBytes), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "The request body is larger than %d bytes.", maxBodyBytes)
		}
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "The request body could not be read.", err)
	}
	if len(body) > 0 && !isJSON(r) {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "Send the request body as JSON (Content-Type: application/json).")
	}
	return body, nil
}

// readAll is io.ReadAll into one buffer of the announced length (browsers
// announce it), with a byte to spare for the read that finds the end:
// io.ReadAll starts at 512 bytes and grows, 4 allocations for a sign-in's
// response and more for a registration's.
func readAll(body io.Reader, length int64) ([]byte, error) {
	size := int64(512)
	if length >= 0 && length < maxBodyBytes {
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

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// decode reads a JSON object into v. An empty body leaves v as it is, so
// that `{}` and no body mean the same.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil || len(body) == 0 {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return passkeyd.WrapError(passkeyd.EINVALID, "The request body is not valid JSON of the expected shape.", err)
	}
	return nil
}

// decodeWithEmail decodes a body into req and returns its email field (at
// email, inside req) validated.
func decodeWithEmail(w http.ResponseWriter, r *http.Request, req any, email *string) (string, error) {
	if err := decode(w, r, req); err != nil {
		return "", err
	}
	return passkeyd.ValidateEmail(*email)
}
