package httpjson_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

func request(contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

type shape struct {
	Name string `json:"name"`
}

// Decode is the tutorial's: unknown fields ignored, no body leaves v as it is.
func TestDecodeLenient(t *testing.T) {
	v := shape{Name: "kept"}
	if err := httpjson.Decode(httptest.NewRecorder(), request("", ""), &v); err != nil || v.Name != "kept" {
		t.Errorf("Decode of no body = %v, %+v; want nil and v unchanged", err, v)
	}
	if err := httpjson.Decode(httptest.NewRecorder(), request("application/json", `{"name":"a","extra":1}`), &v); err != nil || v.Name != "a" {
		t.Errorf("Decode with an unknown field = %v, %+v; want nil and name a", err, v)
	}
	for name, r := range map[string]*http.Request{
		"not JSON":        request("application/json", `{"name":`),
		"text/plain":      request("text/plain", `{"name":"a"}`),
		"larger than max": request("application/json", `{"name":"`+strings.Repeat("a", httpjson.MaxBody)+`"}`),
	} {
		if err := httpjson.Decode(httptest.NewRecorder(), r, &v); passkeyd.ErrorCode(err) != passkeyd.EINVALID {
			t.Errorf("Decode of %s = %v; want EINVALID", name, err)
		}
	}
}

// DecodeStrict is the console's: one JSON object of known fields, named
// when wrong, without echoing values.
func TestDecodeStrict(t *testing.T) {
	var v shape
	if err := httpjson.DecodeStrict(httptest.NewRecorder(), request("application/json", `{"name":"a"}`), &v); err != nil || v.Name != "a" {
		t.Errorf("DecodeStrict = %v, %+v", err, v)
	}
	for name, tc := range map[string]struct {
		r    *http.Request
		says string
	}{
		"unknown field": {request("application/json", `{"secret":"s3cret"}`), `unknown field "secret"`},
		"wrong type":    {request("application/json", `{"name":7}`), `field "name" must be a string`},
		"two values":    {request("application/json", `{"name":"a"} {}`), "more than one JSON value"},
		"no body":       {request("application/json", ``), "does not parse"},
		"no type":       {request("", `{"name":"a"}`), "Content-Type: application/json"},
	} {
		err := httpjson.DecodeStrict(httptest.NewRecorder(), tc.r, &v)
		msg := passkeyd.ErrorMessage(err)
		if passkeyd.ErrorCode(err) != passkeyd.EINVALID || !strings.Contains(msg, tc.says) || strings.Contains(msg, "s3cret") {
			t.Errorf("DecodeStrict with %s = %q (%v); want EINVALID saying %q", name, msg, err, tc.says)
		}
	}
}
