package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Fuzz targets for every request decoder the server exposes. Each input is
// sent to the real handler with a pending ceremony, and whatever it is,
// the answer must be a 2xx or a 4xx with a JSON error: never a 5xx, never
// a panic. Seeds are in testdata/fuzz; CI runs each target briefly
// (scripts/test), and any crasher found becomes a file there, a
// regression test from then on.

func fuzzHandler(f *testing.F, path, optionsPath string, seeds ...[]byte) {
	e := newEnv(f)
	b := e.browser()
	// A pending ceremony, so inputs get past the "no challenge" check.
	res, err := b.PostJSON(context.Background(), optionsPath, map[string]string{"email": "fuzz@example.com"})
	if err != nil || res.Status != 200 {
		f.Fatalf("options: %v %v", err, res)
	}
	cookies := res.Header.Values("Set-Cookie")
	for _, s := range seeds {
		f.Add(s)
	}
	handler := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", e.origin)
		for _, c := range cookies {
			req.Header.Add("Cookie", c[:bytes.IndexByte([]byte(c), ';')])
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code >= 400 {
			var msg struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &msg); err != nil || msg.Error == "" {
				t.Fatalf("status %d without a JSON error: %s", rec.Code, rec.Body)
			}
		}
	})
}

func FuzzRegistrationResponse(f *testing.F) {
	fuzzHandler(f, regVerify, regOptions,
		[]byte(`{}`), []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oWFh"}}`))
}

func FuzzAuthenticationResponse(f *testing.F) {
	fuzzHandler(f, authVerify, authOptions,
		[]byte(`{}`), []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA","userHandle":"AAAA"}}`))
}

func FuzzRegistrationOptionsRequest(f *testing.F) {
	fuzzHandler(f, regOptions, regOptions, []byte(`{"email":"a@example.com"}`), []byte(`{"email":""}`), []byte(`null`))
}

func FuzzAuthenticationOptionsRequest(f *testing.F) {
	fuzzHandler(f, authOptions, authOptions, []byte(`{"email":"a@example.com"}`), []byte(`{}`), []byte(`[]`))
}

func FuzzClientErrorReport(f *testing.F) {
	fuzzHandler(f, "/api/client-errors", authOptions, []byte(`{"ceremony":"registration","name":"NotAllowedError"}`))
}

func FuzzRecoveryEmailRequest(f *testing.F) {
	fuzzHandler(f, "/api/recovery/email", authOptions, []byte(`{"email":"a@example.com"}`), []byte(`{"email":""}`))
}

func FuzzRecoveryLinkRequest(f *testing.F) {
	fuzzHandler(f, "/api/recovery/email/verify", authOptions, []byte(`{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`), []byte(`{"token":7}`))
}

func FuzzRecoveryCodeRequest(f *testing.F) {
	fuzzHandler(f, "/api/recovery/codes/verify", authOptions, []byte(`{"email":"a@example.com","code":"abcde-fghjkm-npqrst"}`))
}

func FuzzEmailVerifyRequest(f *testing.F) {
	fuzzHandler(f, "/api/email/verify", authOptions, []byte(`{"token":"x"}`))
}
