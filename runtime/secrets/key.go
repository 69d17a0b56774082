// Package secrets encrypts connector credentials with AES-256-GCM and stores them in the
// credentials table; decrypted values are only handed to the runtime, never to list APIs.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the key file created in the data dir when TESSERA_SECRET_KEY is not set.
const KeyFileName = "secret.key"

// LoadKey returns the 32-byte master key: from envKey (base64 of 32 bytes, the value of
// TESSERA_SECRET_KEY) when set, otherwise from <dataDir>/secret.key, which is created with
// a random key and mode 0600 when missing. Replicas sharing a database must share the key:
// set TESSERA_SECRET_KEY on each of them.
func LoadKey(envKey, dataDir string) ([]byte, error) {
	if strings.TrimSpace(envKey) != "" {
		k, err := decodeKey(envKey)
		if err != nil {
			return nil, fmt.Errorf("reading TESSERA_SECRET_KEY: %w", err)
		}
		return k, nil
	}
	if dataDir == "" {
		return nil, errors.New("loading secret key: set TESSERA_SECRET_KEY or a data dir")
	}
	path := filepath.Join(dataDir, KeyFileName)
	if b, err := os.ReadFile(path); err == nil {
		k, err := decodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("reading key file %s: %w", path, err)
		}
		return k, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading key file %s: %w", path, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir for key file: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generating secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey("", dataDir) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("creating key file %s: %w", path, err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing key file %s: %w", path, err)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != 32 {
				return nil, fmt.Errorf("key is %d bytes, want 32 (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("key is not base64 (use `openssl rand -base64 32`)")
}

// Box seals and opens small secrets with AES-256-GCM.
type Box struct{ aead cipher.AEAD }

// formatV1 prefixes every ciphertext so a later key rotation can tell formats apart.
const formatV1 = 1

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext bound to aad: version byte || 12-byte random nonce || sealed data.
func (b *Box) Seal(plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	out := append([]byte{formatV1}, nonce...)
	return b.aead.Seal(out, nonce, plaintext, aad), nil
}

// ErrDecrypt means a ciphertext was tampered with, moved to another row, or sealed with
// another key.
var ErrDecrypt = errors.New("secrets: cannot decrypt (wrong TESSERA_SECRET_KEY or tampered data)")

// Open decrypts what Seal produced with the same aad.
func (b *Box) Open(ciphertext, aad []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(ciphertext) < 1+ns+b.aead.Overhead() || ciphertext[0] != formatV1 {
		return nil, ErrDecrypt
	}
	pt, err := b.aead.Open(nil, ciphertext[1:1+ns], ciphertext[1+ns:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}
