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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
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
