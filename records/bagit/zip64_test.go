//go:build zip64

// This file is built only with -tags zip64: it writes 8 GiB.
//
//	go test -tags zip64 -run TestVerifyZip64 ./records/bagit/

package bagit_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/records/bagit"
)

// zeros reads n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.n)
	clear(p[:n])
	z.n -= n
	return int(n), nil
}

// flipAll changes each byte of f in [from, to), in turn, its lowest bit
// and then its highest, and returns the changes Verify did not refuse.
func flipAll(t *testing.T, f *os.File, size, from, to int64) []int64 {
	t.Helper()
	var missed []int64
	b := make([]byte, 1)
	for off := from; off < to; off++ {
		if _, err := f.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
		for _, mask := range []byte{0x01, 0x80} {
			f.WriteAt([]byte{b[0] ^ mask}, off)
			_, err := bagit.Verify(f, size)
			f.WriteAt(b, off)
			var p *bagit.Problem
			if !errors.As(err, &p) {
				missed = append(missed, off)
			}
		}
	}
	return missed
}

// TestVerifyZip64 checks the two zip64 forms Writer writes, which only a
// bag over 4 GiB has: an entry of 4 GiB or more (zip64 sizes in the
// central directory, version 4.5, a data descriptor with 64-bit sizes),
// and entries past 4 GiB (zip64 offsets, zip64 end records). Each must
// verify, held to Writer's own fields, and each byte of its zip64 parts
// changed must be refused. It writes 8 GiB through Writer and 4 GiB to
// disk, so it is built only with -tags zip64.
func TestVerifyZip64(t *testing.T) {
	for _, tt := range []struct {
		name string
		big  string // payload file of 4 GiB + 10 bytes of zeros
	}{
		{"entry over 4 GiB, deflated", "huge.bin"},
		{"entries past 4 GiB", "huge.jpg"}, // stored
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "bag.zip"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w := bagit.NewWriter(f, sampleOptions())
			for _, a := range []struct {
				name string
				r    io.Reader
			}{{"a.txt", strings.NewReader("first")}, {tt.big, &zeros{n: 1<<32 + 10}}, {"z.txt", strings.NewReader("last")}} {
				if _, _, err := w.Add(a.name, a.r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			size := fi.Size()
			if rep, err := bagit.Verify(f, size); err != nil || rep.Files != 3 {
				t.Fatalf("Verify = %+v, %v", rep, err)
			}

			// The big entry's local header, near the start, and its data
			// descriptor, right before z.txt's local header, near the end.
			window := min(size, 64<<10)
			first, last := make([]byte, window), make([]byte, window)
			f.ReadAt(first, 0)
			f.ReadAt(last, size-window)
			local := bytes.Index(first, []byte("data/"+tt.big))
			next := bytes.Index(last, []byte("data/z.txt"))
			if local < 0 || next < 0 {
				t.Fatal("local headers not found")
			}
			localAt := int64(local - len(sampleOptions().Dir+"/") - 30)
			nextAt := size - window + int64(next-len(sampleOptions().Dir+"/")-30)
			header := int64(30 + int(first[localAt+26]) + int(first[localAt+28])) // names and extras are short
			if m := flipAll(t, f, size, localAt, localAt+header); len(m) > 0 {
				t.Errorf("local header: changes at %v went unseen", m)
			}
			if m := flipAll(t, f, size, nextAt-24, nextAt); len(m) > 0 {
				t.Errorf("data descriptor: changes at %v went unseen", m)
			}

			// The central directory, zip64 records and end record.
			cd := bytes.Index(last, []byte("PK\x01\x02"))
			if cd < 0 {
				t.Fatal("no central directory in the last 64 KiB")
			}
			if tt.big == "huge.jpg" && !bytes.Contains(last, []byte("PK\x06\x06")) {
				t.Fatal("no zip64 end record")
			}
			if m := flipAll(t, f, size, size-window+int64(cd), size); len(m) > 0 {
				t.Errorf("central directory and end records: changes at %v went unseen", m)
			}
		})
	}
}
