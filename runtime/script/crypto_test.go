package script_test

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
	"testing"
)

func hmacOf(h func() hash.Hash, key, data string) []byte {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(data))
	return m.Sum(nil)
}

func TestCryptoHelpers(t *testing.T) {
	p := newPool(t, nil)
	sum := sha256.Sum256([]byte("数据"))
	md := md5.Sum([]byte("abc"))
	s1 := sha1.Sum([]byte("abc"))
	s512 := sha512.Sum512([]byte("abc"))
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	tests := []struct {
		name, code, want string
	}{
		{"hmac sha256 hex default", `return crypto.hmac('sha256', 'key', 'msg')`, quote(hex.EncodeToString(hmacOf(sha256.New, "key", "msg")))},
		{"hmac sha256 base64", `return crypto.hmac('sha256', 'SEC密钥', '1700000000000\nSEC密钥', 'base64')`,
			quote(base64.StdEncoding.EncodeToString(hmacOf(sha256.New, "SEC密钥", "1700000000000\nSEC密钥")))},
		{"hmac sha1 base64url", `return crypto.hmac('SHA-1', 'k', 'd', 'base64url')`, quote(base64.RawURLEncoding.EncodeToString(hmacOf(sha1.New, "k", "d")))},
		{"hmac sha512", `return crypto.hmac('sha512', 'k', 'd', 'hex')`, quote(hex.EncodeToString(hmacOf(sha512.New, "k", "d")))},
		{"hmac md5", `return crypto.hmac('md5', 'k', 'd')`, quote(hex.EncodeToString(hmacOf(md5.New, "k", "d")))},
		{"hmac chain with bytes", `const k = crypto.hmac('sha256', 'k', 'a', 'bytes'); return crypto.hmac('sha256', k, 'b')`,
			quote(hex.EncodeToString(hmacOf(sha256.New, string(hmacOf(sha256.New, "k", "a")), "b")))},
		{"hash sha256 utf8", `return crypto.hash('sha256', '数据')`, quote(hex.EncodeToString(sum[:]))},
		{"hash md5", `return crypto.hash('md5', 'abc')`, quote(hex.EncodeToString(md[:]))},
		{"hash sha1 base64", `return crypto.hash('sha1', 'abc', 'base64')`, quote(base64.StdEncoding.EncodeToString(s1[:]))},
		{"hash sha512 of Uint8Array", `return crypto.hash('sha512', new Uint8Array([97, 98, 99]))`, quote(hex.EncodeToString(s512[:]))},
		{"randomUUID", `return /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID())`, "true"},
		{"randomBytes hex", `const a = crypto.randomBytes(16); return a.length === 32 && a !== crypto.randomBytes(16)`, "true"},
		{"randomBytes bytes", `return crypto.randomBytes(8, 'bytes').byteLength`, "8"},
		{"base64 round trip", `const e = encoding.base64Encode('张三 ok'); return [e, encoding.base64Decode(e)]`,
			`[` + quote(base64.StdEncoding.EncodeToString([]byte("张三 ok"))) + `,"张三 ok"]`},
		{"base64url", `return encoding.base64urlEncode('??>>')`, quote(base64.RawURLEncoding.EncodeToString([]byte("??>>")))},
		{"base64url decode padded", `return encoding.base64urlDecode('Pz8-Pg==')`, quote("??>>")},
		{"hex", `return [encoding.hexEncode('hi'), encoding.hexDecode('6869')]`, `["6869","hi"]`},
		{"decode to bytes", `return new Uint8Array(encoding.hexDecode('00ff', 'bytes'))[1]`, "255"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRun(t, p, tc.code, nil, nil)
			if string(res.Output) != tc.want {
				t.Fatalf("output %s, want %s", res.Output, tc.want)
			}
		})
	}
}

func TestCryptoHelperErrors(t *testing.T) {
	p := newPool(t, nil)
	tests := []struct{ code, want string }{
		{`crypto.hmac('sha3', 'k', 'd')`, "algorithm must be"},
		{`crypto.hmac('sha256', undefined, 'd')`, "key is missing"},
		{`crypto.hmac('sha256', {}, 'd')`, "must be a string or an ArrayBuffer"},
		{`crypto.hash('sha256', 'd', 'latin1')`, "encoding must be"},
		{`crypto.randomBytes(1025)`, "from 1 to 1024"},
		{`crypto.randomBytes(0)`, "from 1 to 1024"},
		{`crypto.hash('sha256', 'x'.repeat(5 << 20))`, "larger than 4 MiB"},
		{`encoding.hexDecode('zz')`, "encoding.hexDecode"},
		{`encoding.base64Decode(12)`, "must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			_, err := p.Run(context.Background(), tc.code, nil, nil)
			if se := scriptErr(t, err); !strings.Contains(se.Message, tc.want) {
				t.Fatalf("error %q, want %q", se.Message, tc.want)
			}
		})
	}
	// the error is a plain Error the script can catch
	res := mustRun(t, p, `try { crypto.hash('nope', 'x') } catch (e) { return e instanceof Error }`, nil, nil)
	if string(res.Output) != "true" {
		t.Fatalf("caught: %s", res.Output)
	}
}
