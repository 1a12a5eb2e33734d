package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records/bagit"
)

// writeBundle writes a small bag as a ZIP file and returns its path.
func writeBundle(t *testing.T, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	w := bagit.NewWriter(&buf, bagit.Options{Dir: "export-1", Modified: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)})
	for name, body := range map[string]string{"items.csv": "item_id,text\n1,parade\n", "native/raw/a.json": `{"id":"1"}`} {
		if _, _, err := w.Add(name, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bundle.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rewrite copies a ZIP, letting edit change (or drop, returning nil) each
// entry's bytes.
func rewrite(t *testing.T, src, dst string, edit func(name string, body []byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, _ := f.Open()
		body, _ := io.ReadAll(rc)
		rc.Close()
		if body = edit(f.Name, body); body == nil {
			continue
		}
		w, _ := zw.Create(f.Name)
		w.Write(body)
	}
	zw.Close()
	os.WriteFile(dst, buf.Bytes(), 0o600)
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	good := writeBundle(t, dir)
	if code, out, errOut := cli(t, nil, "", "verify", good); code != 0 || !strings.Contains(out, "is intact") {
		t.Fatalf("intact bundle: %d %q %q", code, out, errOut)
	}
	tests := []struct {
		name string
		edit func(name string, body []byte) []byte
		want string
	}{
		{"a byte flipped", func(n string, b []byte) []byte {
			if strings.HasSuffix(n, "items.csv") {
				b[len(b)-2] ^= 1
			}
			return b
		}, "data/items.csv"},
		{"a file removed", func(n string, b []byte) []byte {
			if strings.HasSuffix(n, "a.json") {
				return nil
			}
			return b
		}, "data/native/raw/a.json"},
		{"a manifest line edited", func(n string, b []byte) []byte {
			if strings.HasSuffix(n, "/manifest-sha256.txt") {
				b[0] ^= 1
			}
			return b
		}, "manifest-sha256.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".zip")
			rewrite(t, good, bad, tt.edit)
			code, _, errOut := cli(t, nil, "", "verify", bad)
			if code != 1 || !strings.Contains(errOut, "NOT intact") || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 naming %s", code, errOut, tt.want)
			}
		})
	}
	if code, _, errOut := cli(t, nil, "", "verify", filepath.Join(dir, "missing.zip")); code != 1 || !strings.Contains(errOut, "cannot check") {
		t.Fatalf("missing file: %d %q", code, errOut)
	}
	if code, _, _ := cli(t, nil, "", "verify"); code != 2 {
		t.Fatalf("no argument: %d; want 2 (usage)", code)
	}
}
