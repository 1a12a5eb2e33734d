package bagit

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// zipFile is one entry for both writers.
type zipFile struct {
	name   string
	method uint16
	dir    bool
	data   []byte
}

// viaZipWriter writes files with zipWriter, starting at offset start.
func viaZipWriter(t *testing.T, prefix string, mod time.Time, start int64, files []zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := newZipWriter(&buf, prefix, mod)
	z.count = start
	for _, f := range files {
		if err := z.create(f.name, f.method, f.dir); err != nil {
			t.Fatal(err)
		}
		if _, err := z.Write(f.data); len(f.data) > 0 && err != nil {
			t.Fatal(err)
		}
	}
	if err := z.close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// viaArchiveZip writes the same files with archive/zip, as Writer did
// before it had its own ZIP writer.
func viaArchiveZip(t *testing.T, prefix string, mod time.Time, start int64, files []zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.SetOffset(start)
	for _, f := range files {
		fh := &zip.FileHeader{Name: prefix + f.name, Method: f.method, Modified: mod}
		if f.dir {
			fh.SetMode(writerDirMode)
		} else {
			fh.SetMode(writerFileMode)
		}
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sameBytes fails at the first byte where got and want differ.
func sameBytes(t *testing.T, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("zipWriter wrote %d bytes, archive/zip %d; first difference at offset %d", len(got), len(want), i)
}

// TestZipWriterMatchesArchiveZip: the bag writer's own ZIP writer writes
// exactly the bytes archive/zip writes for the same entries, so bags keep
// the layout the verifier checks and that every unzip tool reads.
func TestZipWriterMatchesArchiveZip(t *testing.T) {
	mod := time.Date(2026, 11, 24, 17, 31, 7, 0, time.UTC)
	text := []byte(strings.Repeat("The parade starts at 10 am on Main St.\n", 2000))
	random := make([]byte, 100_000)
	for i := range random {
		random[i] = byte(i*7919 + i>>3)
	}
	files := []zipFile{
		{name: "bagit.txt", method: zipDeflate, data: []byte("BagIt-Version: 1.0\n")},
		{name: "data/", dir: true},
		{name: "data/native/raw/a.json", method: zipDeflate, data: text},
		{name: "data/media/b.jpg", method: zipStore, data: random},
		{name: "data/empty.txt", method: zipDeflate},
		{name: "data/empty.png", method: zipStore},
		{name: "data/rendered/Ana Pérez ~ thread.html", method: zipDeflate, data: text[:500]},
		{name: "data/odd}name.txt", method: zipDeflate, data: []byte("x")},
		{name: "data/big.bin", method: zipDeflate, data: random},
	}
	for _, prefix := range []string{"GRAMA-2026-000001/", "export-7/", "Cañon City/"} {
		t.Run(prefix, func(t *testing.T) {
			sameBytes(t, viaZipWriter(t, prefix, mod, 0, files), viaArchiveZip(t, prefix, mod, 0, files))
		})
	}
	// Past 4 GiB the offsets need zip64 fields and end records.
	t.Run("offsets past 4 GiB", func(t *testing.T) {
		start := int64(5 << 30)
		sameBytes(t, viaZipWriter(t, "bag/", mod, start, files), viaArchiveZip(t, "bag/", mod, start, files))
	})
	// From 65,535 entries the count needs the zip64 end records.
	t.Run("65,536 entries", func(t *testing.T) {
		many := make([]zipFile, 65536)
		for i := range many {
			many[i] = zipFile{name: fmt.Sprintf("data/%05d.png", i), method: zipStore, data: []byte{byte(i)}}
		}
		sameBytes(t, viaZipWriter(t, "bag/", mod, 0, many), viaArchiveZip(t, "bag/", mod, 0, many))
	})
}

// TestZipWriterRefuses: a name too long for a ZIP, a write with no file open
// and a second close are errors.
func TestZipWriterRefuses(t *testing.T) {
	z := newZipWriter(io.Discard, "bag/", time.Now())
	if _, err := z.Write([]byte("x")); err == nil {
		t.Error("Write with no file open: no error")
	}
	if err := z.create(strings.Repeat("a", 0x10000), zipDeflate, false); err != errLongZipName {
		t.Errorf("long name: got %v", err)
	}
	if err := z.close(); err != nil {
		t.Fatal(err)
	}
	if err := z.close(); err == nil {
		t.Error("second close: no error")
	}
}
