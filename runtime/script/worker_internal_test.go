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

func TestLocalized(t *testing.T) {
	tests := []struct {
		e      ScriptError
		zh, en string
	}{
		{ScriptError{Kind: KindTimeout, Message: timeoutMessage(2e9)}, "脚本超出了 2s 的时间限制", "script exceeded its 2s time limit"},
		{ScriptError{Kind: KindMemory, Message: "script exceeded its memory limit (512 MiB)"}, "脚本超出了内存限制（512 MiB）", ""},
		{ScriptError{Kind: KindLimit, Message: "script output is larger than 1 MiB"}, "脚本输出超过 1 MiB", ""},
		{ScriptError{Kind: KindException, Message: "TypeError: x", Line: 2, Column: 5}, "TypeError: x（第 2 行，第 5 列）", "TypeError: x (line 2, column 5)"},
	}
	for _, tc := range tests {
		if got := tc.e.Localized("zh-CN"); got != tc.zh {
			t.Errorf("zh-CN: %q, want %q", got, tc.zh)
		}
		if tc.en != "" && tc.e.Localized("en") != tc.en {
			t.Errorf("en: %q, want %q", tc.e.Localized("en"), tc.en)
		}
	}
}
