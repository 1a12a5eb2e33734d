package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGeneratedKeyFile(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadSecretKey("", dir)
	if err != nil || len(k1) != 32 {
		t.Fatalf("generate: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, SecretKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, _ := LoadSecretKey("", dir)
	if !bytes.Equal(k1, k2) {
		t.Fatal("a second start made a new key: sealed credentials would be lost")
	}
}

func TestConfiguredKey(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	k, err := LoadSecretKey(hexKey, t.TempDir())
	if err != nil || k[0] != 0xab {
		t.Fatalf("hex key: %v", err)
	}
	for _, bad := range []string{"short", strings.Repeat("zz", 32), strings.Repeat("ab", 31)} {
		if _, err := LoadSecretKey(bad, t.TempDir()); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}

func TestSealRoundTripAndTamper(t *testing.T) {
	s, _ := NewSealer(bytes.Repeat([]byte{7}, 32))
	other, _ := NewSealer(bytes.Repeat([]byte{8}, 32))
	sealed, err := s.Seal("EAAB page token")
	if err != nil || bytes.Contains(sealed, []byte("page token")) {
		t.Fatalf("seal: %v", err)
	}
	if got, err := s.Open(sealed); err != nil || got != "EAAB page token" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("opened with the wrong key")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open(sealed); err == nil {
		t.Fatal("a changed byte went unnoticed")
	}
	a, _ := s.Seal("EAAB page token")
	if b, _ := s.Seal("EAAB page token"); bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	if empty, _ := s.Seal(""); empty != nil {
		t.Fatal("no credential must seal to nothing")
	}
}
