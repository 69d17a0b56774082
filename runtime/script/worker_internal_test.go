package script

import (
	"testing"

	"github.com/dop251/goja"
)

// BenchmarkWorkerCallInProcess measures the worker side of one call without the pipe: fresh
// runtime, host API, cached program, JSON in and out.
func BenchmarkWorkerCallInProcess(b *testing.B) {
	c := &child{maxInput: DefaultMaxInput, maxOutput: DefaultMaxOutput, maxCode: DefaultMaxCode,
		maxDepth: DefaultMaxDepth, programs: map[[32]byte]*goja.Program{}}
	m := &message{T: msgRun, Code: "return {ok: input.n > 1}", Input: []byte(`{"n":2}`), TimeoutMS: 1000}
	for i := 0; i < b.N; i++ {
		if r := c.run(m); r.Error != nil {
			b.Fatal(r.Error)
		}
	}
}

func TestUserPos(t *testing.T) {
	code := "a\nbb\nccc"
	tests := []struct{ line, col, wantLine, wantCol int }{
		{1, 5, 0, 0}, // the wrapper line
		{2, 1, 1, 1},
		{4, 3, 3, 3},
		{5, 1, 3, 4}, // the closing wrapper maps to the end of the code
	}
	for _, tc := range tests {
		if l, c := userPos(code, tc.line, tc.col); l != tc.wantLine || c != tc.wantCol {
			t.Errorf("userPos(%d,%d) = %d,%d, want %d,%d", tc.line, tc.col, l, c, tc.wantLine, tc.wantCol)
		}
	}
}

func TestTooDeep(t *testing.T) {
	tests := []struct {
		code string
		deep bool
	}{
		{"((((1))))", false},
		{"(((((1)))))", true},
		{`"((((((((" + '[[[[[[[[' + ` + "`{{{{{{{{`", false},
		{"// ((((((((\n/* [[[[[[[[[ */ 1", false},
		{"[[[[\n[[", true},
	}
	for _, tc := range tests {
		if _, _, deep := tooDeep(tc.code, 4); deep != tc.deep {
			t.Errorf("tooDeep(%q) = %v, want %v", tc.code, deep, tc.deep)
		}
	}
}
