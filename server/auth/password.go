package auth

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (OWASP 2024 minimum: m=19 MiB, t=2, p=1).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns a PHC-formatted argon2id hash of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswords holds the embedded list (scripts/gen-common-passwords.py writes it).
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonPasswordsText, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			m[l] = true
		}
	}
	return m
}()

// Password policy errors; each message is bilingual.
var (
	ErrPasswordShort  = errors.New("password must have at least 8 characters / 密码至少 8 个字符")
	ErrPasswordLong   = errors.New("password must have at most 256 bytes / 密码最多 256 字节")
	ErrPasswordCommon = errors.New("this password is on a list of often-used passwords; choose another / 此密码在常用密码列表中，请换一个")
	ErrPasswordWeak   = errors.New("this password is too easy to guess: make it longer or mix letters, digits and symbols / 此密码太容易被猜到：请加长，或混合使用字母、数字和符号")
	ErrPasswordEmail  = errors.New("the password must not be the email address / 密码不能与邮箱相同")
)

var leet = strings.NewReplacer("@", "a", "4", "a", "0", "o", "1", "l", "3", "e", "$", "s", "5", "s", "7", "t", "!", "i", "9", "g")

// isCommon reports whether pw is on the common list, also once leading and trailing digits and
// symbols are cut ("Password2024!") and leetspeak is undone ("p@ssw0rd").
func isCommon(pw string) bool {
	lower := strings.ToLower(pw)
	trim := func(s string) string { return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) }
	core := trim(lower)
	for _, c := range []string{lower, core, leet.Replace(lower), leet.Replace(core), trim(leet.Replace(lower))} {
		if len(c) >= 3 && commonPasswords[c] {
			return true
		}
	}
	return false
}

// strengthBits estimates the guessing work of pw in bits: its length times the bits of the
// character classes it uses (digits, lower, upper, other), the way simple policies do.
func strengthBits(pw string) float64 {
	var digit, lower, upper, other bool
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		default:
			other = true
		}
	}
	pool := 0.0
	for _, c := range []struct {
		on bool
		n  float64
	}{{digit, 10}, {lower, 26}, {upper, 26}, {other, 33}} {
		if c.on {
			pool += c.n
		}
	}
	return float64(utf8.RuneCountInString(pw)) * math.Log2(pool)
}

// ValidatePassword checks the password policy wherever a password is set (first admin, admin
// create and reset): 8 characters to 256 bytes, not on the embedded list of common passwords
// (nor such a word with digits or symbols around it, nor in leetspeak), not the email address or
// its local part, at least 5 different characters and an estimated 36 bits (so 8 digits are
// refused, 11 digits or 8 letters pass). email may be empty.
func ValidatePassword(pw string, email ...string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < 8:
		return ErrPasswordShort
	case len(pw) > 256:
		return ErrPasswordLong
	case isCommon(pw):
		return ErrPasswordCommon
	}
	for _, e := range email {
		e = strings.ToLower(strings.TrimSpace(e))
		local, _, _ := strings.Cut(e, "@")
		if l := strings.ToLower(pw); e != "" && (l == e || (len(local) >= 4 && l == local)) {
			return ErrPasswordEmail
		}
	}
	distinct := map[rune]bool{}
	for _, r := range pw {
		distinct[r] = true
	}
	if len(distinct) < 5 || strengthBits(pw) < 36 {
		return ErrPasswordWeak
	}
	return nil
}
