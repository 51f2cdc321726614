package sqlite

import (
	"testing"

	"github.com/passkeyd/passkeyd/storetest"
)

// BenchmarkStore times the store operations of a ceremony alone, on a
// database holding a few thousand accounts:
//
//	go test -run '^$' -bench Store -benchmem ./sqlite/
//
// postgres/bench_test.go runs the same operations on PostgreSQL.
func BenchmarkStore(b *testing.B) {
	storetest.RunBenchmarks(b, mustOpen(b))
}
