package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// sealVersion prefixes every sealed value, so a later key scheme can tell
// old values apart.
const sealVersion byte = 1

// Sealer encrypts platform credentials at rest with AES-256-GCM. It is a
// small key ring: Seal always uses the first key; Open tries every key in
// turn, and GCM's authentication tag tells the right key from a wrong one
// (a wrong key never yields a wrong plaintext, only an error). A ring of
// more than one key exists while keys change: see KeyRing and `civicarchive
// key rotate`.
type Sealer struct {
	aeads []cipher.AEAD
}

// NewSealer takes the 32-byte key that seals, and optionally older keys
// that only open.
func NewSealer(key []byte, older ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for _, k := range append([][]byte{key}, older...) {
		if len(k) != 32 {
			return nil, fmt.Errorf("storage: secret key must be 32 bytes, got %d", len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// Seal encrypts plain with the ring's first key; the empty string seals to
// nil (no credential).
func (s *Sealer) Seal(plain string) ([]byte, error) {
	if plain == "" {
		return nil, nil
	}
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{sealVersion}, nonce...)
	return aead.Seal(out, nonce, []byte(plain), []byte{sealVersion}), nil
}

// Open decrypts what Seal made, with whichever key of the ring sealed it.
func (s *Sealer) Open(sealed []byte) (string, error) {
	plain, _, err := s.OpenKey(sealed)
	return plain, err
}

// OpenKey is Open that also says which key of the ring opened the value:
// 0 is the sealing key, 1… the older ones in the order NewSealer got them;
// -1 for no credential (an empty value).
func (s *Sealer) OpenKey(sealed []byte) (string, int, error) {
	if len(sealed) == 0 {
		return "", -1, nil
	}
	for i, aead := range s.aeads {
		ns := aead.NonceSize()
		if len(sealed) < 1+ns || sealed[0] != sealVersion {
			return "", -1, errors.New("storage: sealed credential: unknown format")
		}
		plain, err := aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte{sealVersion})
		if err == nil {
			return string(plain), i, nil
		}
	}
	return "", -1, errors.New("storage: sealed credential: wrong key or damaged value")
}

// Keys is the number of keys in the ring.
func (s *Sealer) Keys() int { return len(s.aeads) }

// SecretKeyFile is the generated key's name in the data dir.
const SecretKeyFile = "secret.key"

// LoadSecretKey decodes the configured key (64 hex characters or base64 of
// 32 bytes); when none is configured it reads DATA_DIR/secret.key, creating
// it (mode 0600) on first start.
func LoadSecretKey(configured, dataDir string) ([]byte, error) {
	if configured != "" {
		return decodeKey(configured)
	}
	path := filepath.Join(dataDir, SecretKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeKey(strings.TrimSpace(string(b)))
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("storage: read %s: %w", path, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting together must not both write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadSecretKey("", dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", path, err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("must be 64 hex characters or base64 of 32 bytes")
}
