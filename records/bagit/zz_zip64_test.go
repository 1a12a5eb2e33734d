package bagit_test

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records/bagit"
)

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

func TestZZZip64(t *testing.T) {
	if os.Getenv("ZZ64") == "" {
		t.Skip()
	}
	start := time.Now()
	var buf bytes.Buffer
	w := bagit.NewWriter(&buf, sampleOptions())
	w.Add("a.txt", strings.NewReader("first"))
	w.Add("huge.bin", &zeros{n: 1<<32 + 10})
	w.Add("z.txt", strings.NewReader("after"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zb := buf.Bytes()
	t.Logf("wrote %d bytes in %v", len(zb), time.Since(start))
	start = time.Now()
	rep := mustVerify(t, zb)
	t.Logf("verified %+v in %v", rep.Files, time.Since(start))
	// the strict rules held: flip some CD-only bytes of huge.bin
	i := bytes.LastIndex(zb, []byte("PK\x01\x02"))
	_ = i
	bad := bytes.Clone(zb)
	j := bytes.Index(bad[len(bad)-2000:], []byte("huge.bin")) + len(bad) - 2000
	bad[j-46+38+2] ^= 1 // external attrs of huge.bin's central record
	_, err := bagit.Verify(bytes.NewReader(bad), int64(len(bad)))
	t.Logf("ext attr flip: %v", err)
	// flip each byte of the tail (central directory and end records)
	tail := len(zb) - 1500
	missed := 0
	for off := tail; off < len(zb); off++ {
		for _, m := range []byte{1, 0x80} {
			zb[off] ^= m
			_, err := bagit.Verify(bytes.NewReader(zb[:]), int64(len(zb)))
			zb[off] ^= m
			var p *bagit.Problem
			if err == nil || !asProblem(err, &p) {
				missed++
				t.Logf("missed %d ^ %x: %v", off, m, err)
			}
		}
		if off%100 == 0 {
			t.Logf("at %d, %v", off, time.Since(start))
		}
	}
	t.Logf("tail flips missed: %d", missed)
	// local header of huge.bin, and its descriptor
	lh := bytes.Index(zb, []byte("PK\x03\x04\x14\x00\x08\x00\x08\x00"))
	for bytes.Index(zb[lh:lh+80], []byte("huge.bin")) < 0 {
		lh += 4 + bytes.Index(zb[lh+4:], []byte("PK\x03\x04"))
	}
	nz := bytes.Index(zb, []byte("data/z.txt")) - 30 - 17
	dd := bytes.LastIndex(zb[:nz], []byte("PK\x07\x08"))
	t.Logf("huge.bin local header at %d, descriptor at %d (%d bytes before next)", lh, dd, nz-dd)
	missed = 0
	for _, r := range [][2]int{{lh, lh + 30 + 30 + 9}, {dd, nz + 1}} {
		for off := r[0]; off < r[1]; off++ {
			for _, m := range []byte{1, 0x80} {
				zb[off] ^= m
				_, err := bagit.Verify(bytes.NewReader(zb[:]), int64(len(zb)))
				zb[off] ^= m
				var p *bagit.Problem
				if err == nil || !asProblem(err, &p) {
					missed++
					t.Logf("missed %d ^ %x: %v", off, m, err)
				}
			}
		}
	}
	t.Logf("local/descriptor flips missed: %d", missed)
}

func TestZZBigOffsets(t *testing.T) {
	if os.Getenv("ZZ64") == "" {
		t.Skip()
	}
	path := t.TempDir() + "/big.zip"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bagit.NewWriter(f, sampleOptions())
	w.Add("a.jpg", &zeros{n: 1<<32 + 10}) // stored: offsets after it pass 4 GiB
	w.Add("z.txt", strings.NewReader("after"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	zb := make([]byte, 4000)
	tailOff := fi.Size() - int64(len(zb))
	f.ReadAt(zb, tailOff)
	if !bytes.Contains(zb, []byte("PK\x06\x06")) {
		t.Fatal("no zip64 end record")
	}
	start := time.Now()
	if _, err := bagit.Verify(f, fi.Size()); err != nil {
		t.Fatal(err)
	}
	t.Logf("verified %d bytes in %v", fi.Size(), time.Since(start))
	// flip every byte of the last 4000 (tags' data, central directory, zip64 and end records)
	missed := 0
	for i := range zb {
		for _, m := range []byte{1, 0x80} {
			zb[i] ^= m
			f.WriteAt(zb[i:i+1], tailOff+int64(i))
			_, err := bagit.Verify(f, fi.Size())
			zb[i] ^= m
			f.WriteAt(zb[i:i+1], tailOff+int64(i))
			var p *bagit.Problem
			if err == nil || !asProblem(err, &p) {
				missed++
				t.Logf("missed %d ^ %x: %v", i, m, err)
			}
		}
	}
	t.Logf("tail flips missed: %d of %d", missed, 2*len(zb))
}

func asProblem(err error, p **bagit.Problem) bool {
	q, ok := err.(*bagit.Problem)
	*p = q
	return ok
}
