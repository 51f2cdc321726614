package httpjson

import (
	"bytes"
	"testing"
)

// readAll reads a body of announced length into one buffer (issue 22:
// io.ReadAll grew its buffer from 512 bytes, four or more allocations).
func TestReadAllOneBuffer(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1500)
	r := bytes.NewReader(nil)
	n := testing.AllocsPerRun(50, func() {
		r.Reset(body)
		b, err := readAll(r, int64(len(body)))
		if err != nil || len(b) != len(body) {
			t.Fatalf("readAll = %d bytes, %v", len(b), err)
		}
	})
	if n > 1 {
		t.Errorf("readAll allocates %.0f objects for a body of announced length, want 1", n)
	}
	if b, err := readAll(bytes.NewReader(body), -1); err != nil || !bytes.Equal(b, body) {
		t.Errorf("readAll without a length = %d bytes, %v", len(b), err)
	}
}
