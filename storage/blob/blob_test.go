package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestKeyFor(t *testing.T) {
	sum := sha256.Sum256([]byte("hello"))
	hexSum := hex.EncodeToString(sum[:])
	want := "sha256/2c/f2/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if got := KeyFor(hexSum); got != want {
		t.Fatalf("KeyFor = %q, want %q", got, want)
	}
	got, err := ParseKey(want)
	if err != nil || got != hexSum {
		t.Fatalf("ParseKey(KeyFor) = %q, %v; want %q", got, err, hexSum)
	}
}

func TestParseKey(t *testing.T) {
	const sum = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	valid := "sha256/2c/f2/" + sum
	tests := []struct {
		name string
		key  string
	}{
		{"empty", ""},
		{"bare sum", sum},
		{"uppercase hex", "sha256/2C/F2/" + strings.ToUpper(sum)},
		{"uppercase in sum only", "sha256/2c/f2/2C" + sum[2:]},
		{"short sum", "sha256/2c/f2/" + sum[:63]},
		{"long sum", "sha256/2c/f2/" + sum + "0"},
		{"wrong fan-out", "sha256/2c/f3/" + sum},
		{"fan-out swapped", "sha256/f2/2c/" + sum},
		{"no fan-out", "sha256/" + sum},
		{"other algorithm", "sha512/2c/f2/" + sum},
		{"leading slash", "/" + valid},
		{"trailing slash", valid + "/"},
		{"dot dot", "sha256/../../../etc/passwd"},
		{"dot dot same length", "sha256/2c/../" + sum[:62] + "ab"},
		{"dot dot in sum", "sha256/2c/f2/../" + sum[3:]},
		{"backslash", "sha256\\2c\\f2\\" + sum},
		{"non-hex", "sha256/2c/f2/" + sum[:63] + "g"},
		{"nul byte", "sha256/2c/f2/" + sum[:63] + "\x00"},
		{"space", " sha256/2c/f2/" + sum[:63]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.key)
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ParseKey(%q) = %q, %v; want ErrInvalidKey", tt.key, got, err)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		got, err := ParseKey(valid)
		if err != nil || got != sum {
			t.Fatalf("ParseKey(%q) = %q, %v", valid, got, err)
		}
	})
}

// FuzzParseKey checks that whatever ParseKey accepts is exactly what KeyFor
// makes: no path tricks get through.
func FuzzParseKey(f *testing.F) {
	f.Add("sha256/2c/f2/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
	f.Add("sha256/../../etc/passwd")
	f.Add("")
	f.Fuzz(func(t *testing.T, key string) {
		sum, err := ParseKey(key)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
			return
		}
		if KeyFor(sum) != key || !isLowerHex(sum) || strings.Contains(key, "..") {
			t.Fatalf("ParseKey accepted %q as %q", key, sum)
		}
	})
}
