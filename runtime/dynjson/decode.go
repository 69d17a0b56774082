package dynjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// maxDepth is the nesting the fast decoder takes; deeper documents go to encoding/json.
const maxDepth = 200

// Unmarshal decodes the JSON document b into a dynamic value as json.Unmarshal(b, &v) does
// for v of type any: objects as map[string]any, arrays as []any, numbers as float64 (as
// json.Number with useNumber, like a Decoder's UseNumber), the same values and the same
// errors. The common documents (a record's data, a request's field values) are decoded
// without reflection; anything unusual (an escaped surrogate, invalid UTF-8, a number out of
// range, an error) is decoded by encoding/json, so its answer is the answer.
func Unmarshal(b []byte, useNumber bool) (any, error) {
	d := decoder{b: b, useNumber: useNumber}
	d.skipSpace()
	v, ok := d.value(0)
	if ok {
		d.skipSpace()
		if d.i == len(b) {
			return v, nil
		}
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	if useNumber {
		dec.UseNumber()
	}
	// json.Unmarshal's own semantics (one value, then only white space), with UseNumber
	if err := unmarshalAll(dec, b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// unmarshalAll is json.Unmarshal through dec (for UseNumber): json.Unmarshal checks the whole
// document's syntax first, so its errors are reported, not a Decoder's.
func unmarshalAll(dec *json.Decoder, b []byte, out *any) error {
	if !json.Valid(b) {
		var v any
		return json.Unmarshal(b, &v) // the syntax error, as json.Unmarshal reports it
	}
	return dec.Decode(out)
}

type decoder struct {
	b         []byte
	i         int
	useNumber bool
}

func (d *decoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value decodes the value at d.i; false: not a value the fast path takes (or not JSON).
func (d *decoder) value(depth int) (any, bool) {
	if d.i >= len(d.b) || depth > maxDepth {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		m := map[string]any{}
		d.skipSpace()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return m, true
		}
		for {
			d.skipSpace()
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return nil, false
			}
			k, ok := d.str()
			if !ok {
				return nil, false
			}
			d.skipSpace()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return nil, false
			}
			d.i++
			d.skipSpace()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			d.skipSpace()
			if d.i >= len(d.b) {
				return nil, false
			}
			if d.b[d.i] == ',' {
				d.i++
				continue
			}
			if d.b[d.i] == '}' {
				d.i++
				return m, true
			}
			return nil, false
		}
	case c == '[':
		d.i++
		l := []any{}
		d.skipSpace()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return l, true
		}
		for {
			d.skipSpace()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			l = append(l, v)
			d.skipSpace()
			if d.i >= len(d.b) {
				return nil, false
			}
			if d.b[d.i] == ',' {
				d.i++
				continue
			}
			if d.b[d.i] == ']' {
				d.i++
				return l, true
			}
			return nil, false
		}
	case c == '"':
		s, ok := d.str()
		return s, ok
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, false
}

func (d *decoder) literal(word string, v any) (any, bool) {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return nil, false
	}
	d.i += len(word)
	return v, true
}

// number reads a number in JSON's grammar: json.Number of its text, or its float64.
func (d *decoder) number() (any, bool) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	if d.i >= len(d.b) {
		return nil, false
	}
	switch {
	case d.b[d.i] == '0':
		d.i++
	case d.b[d.i] >= '1' && d.b[d.i] <= '9':
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
		}
	default:
		return nil, false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		digits := d.i
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
		}
		if d.i == digits {
			return nil, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		digits := d.i
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
		}
		if d.i == digits {
			return nil, false
		}
	}
	text := string(d.b[start:d.i])
	if d.useNumber {
		return json.Number(text), true
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, false // out of range: encoding/json's error
	}
	return f, true
}

// str reads a string: plain UTF-8 and the simple escapes; an escaped surrogate or invalid
// UTF-8 (which encoding/json replaces by U+FFFD) goes to encoding/json.
func (d *decoder) str() (string, bool) {
	d.i++ // the opening quote
	start := d.i
	// the common case: no escape, ASCII or valid UTF-8
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			s := string(d.b[start:d.i])
			d.i++
			return s, true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", false
		}
		if c < utf8.RuneSelf {
			d.i++
			continue
		}
		r, size := utf8.DecodeRune(d.b[d.i:])
		if r == utf8.RuneError && size == 1 {
			return "", false
		}
		d.i += size
	}
	if d.i >= len(d.b) {
		return "", false
	}
	buf := append(make([]byte, 0, d.i-start+16), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(buf), true
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return "", false
			}
			e := d.b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				if d.i+4 > len(d.b) {
					return "", false
				}
				r, err := strconv.ParseUint(string(d.b[d.i:d.i+4]), 16, 32)
				if err != nil || (r >= 0xD800 && r <= 0xDFFF) {
					return "", false // surrogates: encoding/json pairs or replaces them
				}
				d.i += 4
				buf = utf8.AppendRune(buf, rune(r))
			default:
				return "", false
			}
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			buf = append(buf, d.b[d.i:d.i+size]...)
			d.i += size
		}
	}
	return "", false
}
