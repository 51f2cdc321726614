package loadresult_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/passkeyd/passkeyd/internal/loadresult"
)

// The load tool's results kept in bench/results/runs read back into
// Summary, the type bench/summarize reads them with, with no field left
// over and none changed.
func TestRunsReadBack(t *testing.T) {
	var files []string
	for _, pattern := range []string{"sweep-*.json", "repeat-*.json", "big-*.json", "oidc-*.json"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "bench", "results", "runs", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no load results in bench/results/runs")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var s loadresult.Summary
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var was, is any
		if json.Unmarshal(raw, &was) != nil || json.Unmarshal(again, &is) != nil {
			t.Fatalf("%s: not JSON", f)
		}
		if !jsonEqual(was, is) {
			t.Errorf("%s changes when read and written again:\n%s\n%s", f, raw, again)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a) // maps marshal with sorted keys
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
