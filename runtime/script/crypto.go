package script

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"

	"github.com/dop251/goja"
)

// Limits of the crypto and encoding helpers (they run inside the worker, no host round trip).
const (
	// MaxCryptoInput caps the bytes of one key, message or text handed to crypto.* or encoding.*.
	MaxCryptoInput = 4 << 20
	// MaxRandomBytes caps crypto.randomBytes(n).
	MaxRandomBytes = 1024
)

// hashes are the algorithms of crypto.hash and crypto.hmac.
var hashes = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New,
}

// cryptoObject builds the crypto global:
//
//	crypto.hmac(alg, key, data, encoding)  alg md5|sha1|sha256|sha512; encoding hex (default)|base64|base64url|bytes
//	crypto.hash(alg, data, encoding)
//	crypto.randomUUID()
//	crypto.randomBytes(n, encoding)        1 <= n <= 1024
//
// Keys and data are strings (taken as UTF-8) or ArrayBuffers / typed arrays (raw bytes); the
// "bytes" encoding answers an ArrayBuffer, so HMACs chain (AWS SigV4-style key derivation).
func (cl *call) cryptoObject() map[string]any {
	return map[string]any{
		"hmac": func(fc goja.FunctionCall) goja.Value {
			newHash := cl.hashArg(fc.Argument(0), "crypto.hmac")
			key := cl.bytesArg(fc.Argument(1), "crypto.hmac", "key")
			data := cl.bytesArg(fc.Argument(2), "crypto.hmac", "data")
			m := hmac.New(newHash, key)
			m.Write(data)
			return cl.encodeOut(m.Sum(nil), fc.Argument(3), "crypto.hmac")
		},
		"hash": func(fc goja.FunctionCall) goja.Value {
			newHash := cl.hashArg(fc.Argument(0), "crypto.hash")
			data := cl.bytesArg(fc.Argument(1), "crypto.hash", "data")
			h := newHash()
			h.Write(data)
			return cl.encodeOut(h.Sum(nil), fc.Argument(2), "crypto.hash")
		},
		"randomUUID": newUUID,
		"randomBytes": func(fc goja.FunctionCall) goja.Value {
			n := fc.Argument(0).ToInteger()
			if n < 1 || n > MaxRandomBytes {
				cl.throw("crypto.randomBytes: n must be from 1 to 1024")
			}
			b := make([]byte, n)
			if _, err := rand.Read(b); err != nil {
				cl.throw("crypto.randomBytes: " + err.Error())
			}
			return cl.encodeOut(b, fc.Argument(1), "crypto.randomBytes")
		},
	}
}

// encodingObject builds the encoding global: base64/base64url/hex encoders of strings (UTF-8)
// or bytes, and decoders answering a string (UTF-8) or, with "bytes" as second argument, an
// ArrayBuffer.
func (cl *call) encodingObject() map[string]any {
	enc := func(name string, f func([]byte) string) func(goja.FunctionCall) goja.Value {
		return func(fc goja.FunctionCall) goja.Value {
			return cl.rt.ToValue(f(cl.bytesArg(fc.Argument(0), "encoding."+name, "data")))
		}
	}
	dec := func(name string, f func(string) ([]byte, error)) func(goja.FunctionCall) goja.Value {
		return func(fc goja.FunctionCall) goja.Value {
			s := fc.Argument(0)
			if _, ok := s.Export().(string); !ok {
				cl.throw("encoding." + name + ": the argument must be a string")
			}
			text := s.String()
			if len(text) > MaxCryptoInput {
				cl.throw("encoding." + name + ": the text is larger than 4 MiB")
			}
			b, err := f(strings.TrimSpace(text))
			if err != nil {
				cl.throw("encoding." + name + ": " + err.Error())
			}
			if as := fc.Argument(1); !goja.IsUndefined(as) && as.String() == "bytes" {
				return cl.rt.ToValue(cl.rt.NewArrayBuffer(b))
			}
			return cl.rt.ToValue(string(b))
		}
	}
	return map[string]any{
		"base64Encode":    enc("base64Encode", base64.StdEncoding.EncodeToString),
		"base64Decode":    dec("base64Decode", decodeBase64),
		"base64urlEncode": enc("base64urlEncode", base64.RawURLEncoding.EncodeToString),
		"base64urlDecode": dec("base64urlDecode", decodeBase64),
		"hexEncode":       enc("hexEncode", hex.EncodeToString),
		"hexDecode":       dec("hexDecode", hex.DecodeString),
	}
}

// decodeBase64 accepts standard and URL-safe alphabets, with or without padding.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func (cl *call) hashArg(v goja.Value, fn string) func() hash.Hash {
	alg := strings.ToLower(strings.ReplaceAll(v.String(), "-", ""))
	h, ok := hashes[alg]
	if !ok {
		cl.throw(fn + ": algorithm must be md5, sha1, sha256 or sha512")
	}
	return h
}

// bytesArg reads a string (as UTF-8) or an ArrayBuffer / typed array / DataView.
func (cl *call) bytesArg(v goja.Value, fn, what string) []byte {
	var b []byte
	switch x := v.Export().(type) {
	case string:
		if len(x) > MaxCryptoInput {
			cl.throw(fn + ": the " + what + " is larger than 4 MiB")
		}
		b = []byte(x)
	case goja.ArrayBuffer:
		b = x.Bytes()
	case []byte:
		b = x
	default:
		if o, ok := v.(*goja.Object); ok && (o.ClassName() == "Uint8Array" || o.ClassName() == "DataView" ||
			strings.HasSuffix(o.ClassName(), "Array") && o.Get("buffer") != nil) {
			if ab, ok := o.Get("buffer").Export().(goja.ArrayBuffer); ok {
				off, n := o.Get("byteOffset").ToInteger(), o.Get("byteLength").ToInteger()
				all := ab.Bytes()
				if off >= 0 && n >= 0 && off+n <= int64(len(all)) {
					b = all[off : off+n]
					break
				}
			}
		}
		if goja.IsUndefined(v) || goja.IsNull(v) {
			cl.throw(fn + ": the " + what + " is missing")
		}
		cl.throw(fn + ": the " + what + " must be a string or an ArrayBuffer")
	}
	if len(b) > MaxCryptoInput {
		cl.throw(fn + ": the " + what + " is larger than 4 MiB")
	}
	return b
}

// encodeOut answers b as hex (the default), base64, base64url (unpadded) or an ArrayBuffer.
func (cl *call) encodeOut(b []byte, enc goja.Value, fn string) goja.Value {
	e := "hex"
	if !goja.IsUndefined(enc) && !goja.IsNull(enc) {
		e = enc.String()
	}
	switch e {
	case "hex":
		return cl.rt.ToValue(hex.EncodeToString(b))
	case "base64":
		return cl.rt.ToValue(base64.StdEncoding.EncodeToString(b))
	case "base64url":
		return cl.rt.ToValue(base64.RawURLEncoding.EncodeToString(b))
	case "bytes":
		return cl.rt.ToValue(cl.rt.NewArrayBuffer(b))
	}
	cl.throw(fn + ": encoding must be hex, base64, base64url or bytes")
	return nil
}
