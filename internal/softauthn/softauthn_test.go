//go:build unix

package softauthn

import (
	"encoding/base64"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkGet is the authenticator's share of a sign-in in the load tool:
// parse the request options, sign, write the response. Besides ns/op it
// reports cpu-ns/op, the process's CPU time, which other processes on the
// machine do not inflate.
func BenchmarkGet(b *testing.B) {
	a := New("localhost", "http://localhost:8080")
	user := base64.RawURLEncoding.EncodeToString([]byte("user-handle-0123456789abcdef0123"))
	creation := fmt.Sprintf(`{"rp":{"name":"passkeyd","id":"localhost"},"user":{"name":"a@example.com","displayName":"a@example.com","id":%q},"challenge":"n_shIhe4xlNz-VsiS-VnluCjPjHpaTg-SlsAxeFb7ZI","pubKeyCredParams":[{"type":"public-key","alg":-7}],"timeout":300000,"attestation":"none"}`, user)
	if _, _, err := a.Create([]byte(creation)); err != nil {
		b.Fatal(err)
	}
	request := []byte(`{"challenge":"eycqZ861075xrtd_JuXuqkFYLxC-zOvzkPf88jgKCcY","timeout":300000,"rpId":"localhost","userVerification":"required"}`)
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if _, err := a.Get(request, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU returns the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
