package api

import (
	"testing"

	"github.com/tessera/tessera/runtime/records"
)

// TestProgressBatch: a followed import of a known row count moves in about ten steps of at
// least 500 rows; from 50,000 rows on, and for a stream, the ordinary batch.
func TestProgressBatch(t *testing.T) {
	for _, tc := range []struct{ rows, want int }{
		{-1, records.ImportBatch},
		{0, 500},
		{3, 500},
		{3000, 500},
		{8000, 800},
		{20000, 2000},
		{49999, 4999},
		{50000, records.ImportBatch},
		{1_000_000, records.ImportBatch},
	} {
		if got := progressBatch(tc.rows); got != tc.want {
			t.Errorf("progressBatch(%d) = %d, want %d", tc.rows, got, tc.want)
		}
	}
}
