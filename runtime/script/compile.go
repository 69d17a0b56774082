package script

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// scriptName is the source name of user code inside goja (stack traces show it).
const scriptName = "script.js"

// The user's code is a function body. It is wrapped on its own lines so reported lines only shift
// by wrapperLines and columns are unchanged.
const (
	wrapperHead      = "(function (input) {\n"
	wrapperHeadAsync = "(async function (input) {\n"
	wrapperTail      = "\n})"
	wrapperLines     = 1
)

var awaitRe = regexp.MustCompile(`\bawait\b`)

// wrap turns a function body into a function expression; bodies that mention `await` become an
// async function (its promise is settled before the call returns: there are no timers).
func wrap(code string) string {
	if awaitRe.MatchString(code) {
		return wrapperHeadAsync + code + wrapperTail
	}
	return wrapperHead + code + wrapperTail
}

// Check reports whether code (a function body, as in a script node's "code" param) compiles.
// It returns nil or a *ScriptError of kind "syntax" (or "limit") with the line and column of the
// first problem, relative to code.
//
// Check parses and compiles in the calling process: compiling never runs user code, the code size
// is capped (DefaultMaxCode) and bracket nesting is capped before parsing, which bounds the
// parser's recursion and memory. Running code happens only in worker processes (Pool.Run).
func Check(code string) error {
	_, err := compile(code, DefaultMaxCode)
	if err == nil {
		return nil
	}
	return err
}

// compile checks the limits, parses and compiles code; errors are *ScriptError.
func compile(code string, maxCode int) (*goja.Program, error) {
	if len(code) > maxCode {
		return nil, &ScriptError{Kind: KindLimit, Message: fmt.Sprintf("script code is larger than %s", sizeText(maxCode))}
	}
	if line, col, ok := tooDeep(code, maxNesting); ok {
		return nil, &ScriptError{Kind: KindLimit, Line: line, Column: col,
			Message: fmt.Sprintf("script nests brackets deeper than %d levels", maxNesting)}
	}
	src := wrap(code)
	ast, err := parser.ParseFile(nil, scriptName, src, 0)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			line, col := userPos(code, list[0].Position.Line, list[0].Position.Column)
			return nil, &ScriptError{Kind: KindSyntax, Line: line, Column: col, Message: "SyntaxError: " + list[0].Message}
		}
		return nil, &ScriptError{Kind: KindSyntax, Message: "SyntaxError: " + err.Error()}
	}
	prg, err := goja.CompileAST(ast, false)
	if err != nil {
		var se *goja.CompilerSyntaxError
		if errors.As(err, &se) {
			e := &ScriptError{Kind: KindSyntax, Message: "SyntaxError: " + se.Message}
			if se.File != nil {
				p := se.File.Position(se.Offset)
				e.Line, e.Column = userPos(code, p.Line, p.Column)
			}
			return nil, e
		}
		return nil, &ScriptError{Kind: KindSyntax, Message: "SyntaxError: " + err.Error()}
	}
	return prg, nil
}

// userPos maps a position in the wrapped source to the user's code (1-based; 0 when unknown).
func userPos(code string, line, col int) (int, int) {
	line -= wrapperLines
	if line < 1 || col < 1 {
		return 0, 0
	}
	if n := strings.Count(code, "\n") + 1; line > n {
		line = n
		col = len(code) - strings.LastIndexByte(code, '\n')
	}
	return line, col
}

var stackPosRe = regexp.MustCompile(regexp.QuoteMeta(scriptName) + `:(\d+):(\d+)`)

// stackPos finds the first position of the user's script in a goja stack text.
func stackPos(code, stack string) (int, int) {
	m := stackPosRe.FindStringSubmatch(stack)
	if m == nil {
		return 0, 0
	}
	var line, col int
	fmt.Sscan(m[1], &line)
	fmt.Sscan(m[2], &col)
	return userPos(code, line, col)
}

// tooDeep reports the position of the first bracket that nests deeper than max. Brackets inside
// strings, template literals and comments are skipped; regular expression literals are not
// recognised, which can only over-count.
func tooDeep(code string, max int) (line, col int, deep bool) {
	depth := 0
	line, col = 1, 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		col++
		switch c {
		case '\n':
			line, col = line+1, 0
		case '(', '[', '{':
			depth++
			if depth > max {
				return line, col, true
			}
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		case '"', '\'', '`':
			for i++; i < len(code) && code[i] != c; i++ {
				if code[i] == '\\' {
					i++
				} else if code[i] == '\n' {
					line, col = line+1, 0
				}
			}
		case '/':
			if i+1 < len(code) && code[i+1] == '/' {
				for i < len(code) && code[i] != '\n' {
					i++
				}
				i--
			} else if i+1 < len(code) && code[i+1] == '*' {
				end := strings.Index(code[i+2:], "*/")
				if end < 0 {
					return 0, 0, false
				}
				line += strings.Count(code[i:i+2+end], "\n")
				i += end + 3
			}
		}
	}
	return 0, 0, false
}

func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
