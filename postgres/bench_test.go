package postgres

import (
	"testing"

	"github.com/passkeyd/passkeyd/storetest"
)

// BenchmarkStore times the store operations of a ceremony alone, on a
// fresh schema of the database in PASSKEYD_TEST_POSTGRES (skipped without
// it; scripts/test and scripts/bench start one), holding a few
// thousand accounts:
//
//	PASSKEYD_TEST_POSTGRES=postgres://... go test -run '^$' -bench Store -benchmem ./postgres/
//
// sqlite/bench_test.go runs the same operations on SQLite.
func BenchmarkStore(b *testing.B) {
	storetest.RunBenchmarks(b, mustOpen(b, freshSchema(b, testDSN(b))))
}
