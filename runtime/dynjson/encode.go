// Package dynjson encodes the dynamic values records hold (maps of string keys to strings,
// float64s, json.Numbers, booleans, nulls, lists and nested maps) the way encoding/json's
// Marshal does, byte for byte, without its reflection: a record's data is encoded once per
// write (and twice more for its history and an import's staging) on every write path, and
// encoding/json spent about half of an import's Go time there (#18).
//
// Any other type is handed to encoding/json, so the output is always what json.Marshal gives
// (HTML-safe escaping, sorted map keys, ES6 number formatting, U+FFFD for invalid UTF-8).
package dynjson

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Marshal is json.Marshal(v), faster for the dynamic types.
func Marshal(v any) ([]byte, error) {
	return Append(make([]byte, 0, 128), v)
}

// Append appends json.Marshal(v) to dst.
func Append(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return AppendString(dst, x), nil
	case bool:
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case float64:
		return appendFloat(dst, x, v)
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case json.Number:
		s := string(x)
		if s == "" {
			s = "0" // encoding/json encodes the zero Number as 0
		}
		if !ValidNumber(s) {
			return marshalled(dst, v) // its error
		}
		return append(dst, s...), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, x)
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = Append(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, e)
		}
		return append(dst, ']'), nil
	}
	return marshalled(dst, v)
}

// Object appends the object of m's entries to dst, keys sorted (json.Marshal(m) for a non-nil m).
func Object(dst []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	return appendObject(dst, m)
}

// Created is a new record's data and the changes of its "created" history event, encoded
// together so every value is encoded once: json.Marshal(data) and json.Marshal of
// {key: [null, value]} for each entry.
func Created(data map[string]any) (raw, changes []byte, err error) {
	keys := sortedKeys(data)
	raw = make([]byte, 0, 32*len(keys)+2)
	changes = make([]byte, 0, 40*len(keys)+2)
	raw, changes = append(raw, '{'), append(changes, '{')
	for i, k := range keys {
		if i > 0 {
			raw, changes = append(raw, ','), append(changes, ',')
		}
		raw = append(AppendString(raw, k), ':')
		changes = append(AppendString(changes, k), `:[null,`...)
		start := len(raw)
		if raw, err = Append(raw, data[k]); err != nil {
			return nil, nil, err
		}
		changes = append(append(changes, raw[start:]...), ']')
	}
	return append(raw, '}'), append(changes, '}'), nil
}

func appendObject(dst []byte, m map[string]any) ([]byte, error) {
	dst = append(dst, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(AppendString(dst, k), ':')
		var err error
		if dst, err = Append(dst, m[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// marshalled appends encoding/json's own encoding of v (or returns its error).
func marshalled(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendFloat formats f as encoding/json does (ES6: exponent form below 1e-6 and from 1e21).
func appendFloat(dst []byte, f float64, v any) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return marshalled(dst, v) // its UnsupportedValueError
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string the way encoding/json does: <, > and & escaped
// (HTML-safe), control characters escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and
// U+2029 escaped.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// ValidNumber reports whether s is a number in JSON's grammar (RFC 8259 section 6), as
// encoding/json checks it.
func ValidNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}
