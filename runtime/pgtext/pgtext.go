// Package pgtext finds text PostgreSQL cannot store (NUL characters, invalid UTF-8, lone UTF-16
// surrogate escapes in JSON) and classifies PostgreSQL data exceptions (SQLSTATE class 22).
package pgtext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// Message is the bilingual explanation of a refusal, for 422 field errors and step errors.
const Message = "text must be valid UTF-8 without NUL (\\u0000) characters / 文本须为有效的 UTF-8，且不能包含 NUL（\\u0000）字符"

// ValidString reports whether s can be stored in a PostgreSQL text or jsonb value.
func ValidString(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// ValidBytes reports whether b can be stored in a PostgreSQL text value.
func ValidBytes(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// Clean returns s with NUL characters and invalid UTF-8 replaced by U+FFFD, for diagnostics
// (error messages, logs) that must be stored whatever they hold. Data is refused, not cleaned.
func Clean(s string) string {
	if ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// FieldName is a refused key as an error names it: without its NUL characters and invalid UTF-8.
func FieldName(k string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "")
}

// maybeBad is a cheap pre-check: false means the JSON document b certainly holds no text
// PostgreSQL refuses.
func maybeBad(b []byte) bool {
	return !utf8.Valid(b) || bytes.Contains(b, []byte(`\u0000`)) || bytes.Contains(b, []byte(`\ud`)) ||
		bytes.Contains(b, []byte(`\uD`)) || bytes.IndexByte(b, 0) >= 0
}

// JSONPath answers the path ("$" for the root, "a.b[2]" below it) of the first object key or
// string in the JSON document b that PostgreSQL cannot store: a NUL character (escaped as \u0000),
// invalid UTF-8, or a UTF-16 surrogate escape that is not part of a pair. ok is false when every
// string is storable or b is not valid JSON (decoding reports that).
func JSONPath(b []byte) (path string, ok bool) {
	if !maybeBad(b) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		array bool
		index int
		key   string
		isKey bool // an object expecting a key next
	}
	var stack []frame
	// render names the current position; badKey names a refused key of the innermost object.
	render := func(badKey *string) string {
		var sb strings.Builder
		for i, f := range stack {
			if f.array {
				sb.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			k := f.key
			if i == len(stack)-1 && badKey != nil {
				k = *badKey
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(k)
		}
		if sb.Len() == 0 {
			return "$"
		}
		return sb.String()
	}
	// afterValue advances the innermost container past one value.
	afterValue := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].isKey = true
			}
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil { // io.EOF, or not JSON: decoding reports it
			return "", false
		}
		end := dec.InputOffset()
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{isKey: true})
			case '[':
				stack = append(stack, frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
		case string:
			raw := b[start:end]
			bad := !validJSONString(raw)
			n := len(stack)
			if n > 0 && !stack[n-1].array && stack[n-1].isKey {
				if bad {
					k := FieldName(t)
					return render(&k), true
				}
				stack[n-1].key, stack[n-1].isKey = t, false
				continue
			}
			if bad {
				return render(nil), true
			}
			afterValue()
		default:
			afterValue()
		}
	}
}

// validJSONString checks the raw bytes of one JSON string token (with any leading separators):
// valid UTF-8, no NUL byte or \u0000 escape, surrogate escapes only in high-low pairs.
func validJSONString(raw []byte) bool {
	if !utf8.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		i++
		if raw[i] != 'u' || i+4 >= len(raw) {
			continue
		}
		r, err := strconv.ParseUint(string(raw[i+1:i+5]), 16, 32)
		if err != nil {
			return false
		}
		i += 4
		switch {
		case r == 0:
			return false
		case r >= 0xDC00 && r <= 0xDFFF:
			return false // a low surrogate without its high one
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			lo, err := strconv.ParseUint(string(raw[i+3:i+7]), 16, 32)
			if err != nil || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

// CheckValue answers an error naming where in v (a value about to be stored as JSON) text
// PostgreSQL cannot store appears, or nil. what names the value in the message ("output").
func CheckValue(what string, v any) error {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil // the caller's own encoding reports it
	}
	return CheckJSON(what, b)
}

// CheckJSON is CheckValue for an encoded document.
func CheckJSON(what string, b []byte) error {
	if p, bad := JSONPath(b); bad {
		return &Error{What: what, Path: p}
	}
	return nil
}

// Error reports text PostgreSQL cannot store in a value.
type Error struct {
	What string // what the value is ("output", "logs")
	Path string // JSON path inside it ("$" for the whole value)
}

func (e *Error) Error() string {
	return fmt.Sprintf("the %s cannot be stored: %s holds a NUL (\\u0000) character or invalid UTF-8 / %s 无法保存：%s 包含 NUL（\\u0000）字符或无效的 UTF-8",
		e.What, e.Path, zhWhat(e.What), e.Path)
}

func zhWhat(w string) string {
	switch w {
	case "output":
		return "步骤输出"
	case "logs":
		return "步骤日志"
	case "state":
		return "等待状态"
	}
	return w
}

// CleanJSON replaces, in an encoded JSON document, the \u0000 escapes and lone surrogate escapes
// of every string by \ufffd, and invalid UTF-8 by U+FFFD: a diagnostic copy (a failed step's
// input) that PostgreSQL accepts.
func CleanJSON(b []byte) []byte {
	if !maybeBad(b) {
		return b
	}
	b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == 0 {
			out = append(out, `\ufffd`...)
			continue
		}
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		if b[i+1] != 'u' || i+5 >= len(b) {
			out = append(out, c, b[i+1])
			i++
			continue
		}
		r, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
		if err != nil {
			out = append(out, c)
			continue
		}
		esc := b[i : i+6]
		switch {
		case r == 0, r >= 0xDC00 && r <= 0xDFFF:
			esc = []byte(`\ufffd`)
		case r >= 0xD800 && r <= 0xDBFF:
			if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, err := strconv.ParseUint(string(b[i+8:i+12]), 16, 32); err == nil && lo >= 0xDC00 && lo <= 0xDFFF {
					out = append(out, b[i:i+12]...)
					i += 11
					continue
				}
			}
			esc = []byte(`\ufffd`)
		}
		out = append(out, esc...)
		i += 5
	}
	return out
}

// IsDataException reports whether err is (or wraps) a PostgreSQL data exception, SQLSTATE class
// 22 (22P05 untranslatable character, 22021 invalid byte sequence, 22001 value too long...):
// the same statement with the same data fails again, so retrying cannot help.
func IsDataException(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "22")
	}
	return false
}
