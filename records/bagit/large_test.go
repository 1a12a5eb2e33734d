package bagit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/records/bagit"
)

// heapPeak records the highest HeapInuse seen while it is sampled.
type heapPeak struct {
	base, max uint64
}

func newHeapPeak() *heapPeak {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &heapPeak{base: ms.HeapInuse, max: ms.HeapInuse}
}

func (h *heapPeak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.max = max(h.max, ms.HeapInuse)
}

// growth is how far the heap grew above where it started.
func (h *heapPeak) growth() uint64 { return h.max - h.base }

// patternReader yields n bytes cheaply, sampling the heap every 16 MiB.
type patternReader struct {
	n     int64
	block []byte
	read  int64
	peak  *heapPeak
}

func newPatternReader(n int64, peak *heapPeak) *patternReader {
	block := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	return &patternReader{n: n, block: block, peak: peak}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	off := r.read % int64(len(r.block))
	n := copy(p, r.block[off:])
	n = int(min(int64(n), r.n-r.read))
	if r.peak != nil && (r.read+int64(n))>>24 != r.read>>24 {
		r.peak.sample()
	}
	r.read += int64(n)
	return n, nil
}

// sampledReaderAt samples the heap every 16 MiB read.
type sampledReaderAt struct {
	r    io.ReaderAt
	read int64
	peak *heapPeak
}

func (s *sampledReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.r.ReadAt(p, off)
	if (s.read+int64(n))>>24 != s.read>>24 {
		s.peak.sample()
	}
	s.read += int64(n)
	return n, err
}

// TestLargeFileFlatMemory writes and verifies a 200 MB payload file and
// checks that the heap stays flat both ways.
func TestLargeFileFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 200 MB")
	}
	const size = 200 << 20
	const limit = 32 << 20
	path := filepath.Join(t.TempDir(), "big.zip")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	peak := newHeapPeak()
	w := bagit.NewWriter(out, sampleOptions())
	sum, n, err := w.Add("media/big.mp4", newPatternReader(size, peak))
	if err != nil || n != size {
		t.Fatalf("Add = %d, %v", n, err)
	}
	if _, _, err := w.Add("posts/1.json", strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("writing: heap grew %d KB", peak.growth()>>10)
	if g := peak.growth(); g > limit {
		t.Errorf("writing grew the heap by %d MB", g>>20)
	}
	h := sha256.New()
	io.Copy(h, newPatternReader(size, nil))
	if want := hex.EncodeToString(h.Sum(nil)); sum != want {
		t.Errorf("Add = %s, want %s", sum, want)
	}

	fi, err := out.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < size {
		t.Fatalf("ZIP is %d bytes: the .mp4 was not stored", fi.Size())
	}
	peak = newHeapPeak()
	rep, err := bagit.Verify(&sampledReaderAt{r: out, peak: peak}, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bytes != size+2 || rep.Files != 2 {
		t.Errorf("Report = %+v", rep)
	}
	t.Logf("verifying: heap grew %d KB", peak.growth()>>10)
	if g := peak.growth(); g > limit {
		t.Errorf("verifying grew the heap by %d MB", g>>20)
	}
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r    io.ReaderAt
	read int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read += int64(n)
	return n, err
}

// FuzzVerify feeds Verify random bytes and mutated bags: it must neither
// panic nor read more than a small multiple of its input.
func FuzzVerify(f *testing.F) {
	good := mustBag(f, sampleOptions(), sampleFiles[:3])
	f.Add(good)
	f.Add(mustBag(f, sampleOptions(), []file{{"100%/a\nb.txt", "x"}}))
	f.Add(tamper(f, good, func(es []entry, dir string) []entry {
		return append(es, entry{name: dir + "data/../x", data: []byte("x")})
	}))
	f.Add(good[:len(good)/2])
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &countingReaderAt{r: bytes.NewReader(data)}
		rep, err := bagit.Verify(r, int64(len(data)))
		if err == nil && (rep == nil || rep.Dir == "") {
			t.Fatalf("Verify = %+v, nil", rep)
		}
		if bound := 64*int64(len(data)) + 1<<20; r.read > bound {
			t.Fatalf("read %d bytes of a %d-byte input", r.read, len(data))
		}
	})
}

// BenchmarkWriter measures how fast payload streams into a bag: JSON-like
// text, which is deflated, and media, which is stored.
func BenchmarkWriter(b *testing.B) {
	text := []byte(strings.Repeat(`{"id":"109876543210","text":"The council meets Tuesday at 7pm.","likes":12}`+"\n", 220))
	media := newPatternReader(1<<20, nil)
	mediaBytes, _ := io.ReadAll(media)
	for _, bc := range []struct {
		name  string
		ext   string
		data  []byte
		files int
	}{
		{"deflate-json", ".json", text, 1000},
		{"store-media", ".jpg", mediaBytes, 64},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data) * bc.files))
			b.ReportAllocs()
			for b.Loop() {
				w := bagit.NewWriter(io.Discard, sampleOptions())
				for i := range bc.files {
					name := "items/" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + hex.EncodeToString([]byte{byte(i >> 8), byte(i)}) + bc.ext
					if _, _, err := w.Add(name, bytes.NewReader(bc.data)); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
