package bagit

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// inflateChecked inflates raw through deflateCheck, as bag.open does.
func inflateChecked(raw []byte) ([]byte, error) {
	var d deflateCheck
	d.reset(bytes.NewReader(raw))
	fr := flate.NewReader(&d)
	out, err := io.ReadAll(fr)
	if err != nil {
		if d.err != nil {
			return out, d.err
		}
		return out, err
	}
	return out, d.finish()
}

func deflate(t *testing.T, data []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDeflateCheckAccepts: every stream compress/flate writes, at every
// level, passes through deflateCheck unchanged: stored, fixed and dynamic
// Huffman blocks, long ones, a flush's empty stored block.
func TestDeflateCheckAccepts(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 200_000)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	var text strings.Builder
	for i := range 20_000 {
		text.WriteString(strings.Repeat("council ", i%7) + "meeting #" + string(rune('a'+i%26)) + "\n")
	}
	inputs := map[string][]byte{
		"empty":  nil,
		"byte":   {'x'},
		"run":    bytes.Repeat([]byte{0}, 100_000),
		"random": random,
		"text":   []byte(text.String()),
		"mixed":  append(append([]byte(text.String()[:50_000]), random[:50_000]...), text.String()[:50_000]...),
	}
	for name, in := range inputs {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 5, flate.DefaultCompression, flate.BestCompression} {
			out, err := inflateChecked(deflate(t, in, level))
			if err != nil || !bytes.Equal(out, in) {
				t.Errorf("%s at level %d: %d bytes, %v", name, level, len(out), err)
			}
		}
	}
	// A stream that flushes, with an empty stored block mid-stream.
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	fw.Write([]byte("first part "))
	fw.Flush()
	fw.Write([]byte("second part"))
	fw.Close()
	if out, err := inflateChecked(buf.Bytes()); err != nil || string(out) != "first part second part" {
		t.Errorf("flushed stream: %q, %v", out, err)
	}
}

// TestDeflateCheckRefuses changes bytes of a stream that compress/flate
// skips, and checks deflateCheck refuses what compress/flate accepts.
func TestDeflateCheckRefuses(t *testing.T) {
	data := []byte("stored blocks, then an empty final one")
	// NoCompression: header byte 0x00, LEN, NLEN, data; then the final,
	// empty stored block: header byte 0x01, 00 00 ff ff.
	good := deflate(t, data, flate.NoCompression)
	if good[0] != 0 || !bytes.HasSuffix(good, []byte{1, 0, 0, 0xff, 0xff}) {
		t.Fatalf("unexpected stream % x", good)
	}
	tests := []struct {
		why  string
		edit func([]byte) []byte
		want error
	}{
		{"padding before a stored block", func(b []byte) []byte { b[0] ^= 0x80; return b }, errPadding},
		{"padding before the final stored block", func(b []byte) []byte { b[len(b)-5] ^= 0x10; return b }, errPadding},
		{"a byte after the final block", func(b []byte) []byte { return append(b, 0) }, errTrailing},
	}
	for _, tt := range tests {
		bad := tt.edit(bytes.Clone(good))
		if out, err := io.ReadAll(flate.NewReader(bytes.NewReader(bad))); err != nil || !bytes.Equal(out, data) {
			t.Fatalf("%s: compress/flate itself refuses it: %v", tt.why, err)
		}
		if _, err := inflateChecked(bad); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.why, err, tt.want)
		}
	}
	// Padding after a final Huffman block, as zlib ends its streams (Go's
	// writer ends them with an empty stored block): BFINAL 1, BTYPE 01,
	// 'a' (fixed code 0x30+0x61, 8 bits), end of block (7 zero bits),
	// then 6 bits of padding.
	var w bitWriter
	w.bits(1, 1)
	w.bits(1, 2)
	w.code(0x30+'a', 8)
	w.code(0, 7)
	fixed := w.done()
	if out, err := inflateChecked(fixed); err != nil || string(out) != "a" {
		t.Fatalf("fixed Huffman stream % x: %q, %v", fixed, out, err)
	}
	for bit := 2; bit < 8; bit++ {
		bad := bytes.Clone(fixed)
		bad[2] ^= 1 << bit
		if out, err := io.ReadAll(flate.NewReader(bytes.NewReader(bad))); err != nil || string(out) != "a" {
			t.Fatalf("bit %d: compress/flate itself refuses it: %v", bit, err)
		}
		if _, err := inflateChecked(bad); !errors.Is(err, errPadding) {
			t.Errorf("bit %d of the last byte: %v, want %v", bit, err, errPadding)
		}
	}
	// A truncated stream.
	if _, err := inflateChecked(good[:len(good)-1]); err == nil {
		t.Error("a truncated stream passed")
	}
}

// bitWriter writes a DEFLATE stream bit by bit, for streams compress/flate
// does not write.
type bitWriter struct {
	out   []byte
	nbits uint
}

// bits writes the n low bits of v, lowest first, as DEFLATE packs numbers.
func (w *bitWriter) bits(v uint, n uint) {
	for i := range n {
		if w.nbits%8 == 0 {
			w.out = append(w.out, 0)
		}
		w.out[len(w.out)-1] |= byte(v>>i&1) << (w.nbits % 8)
		w.nbits++
	}
}

// code writes an n-bit Huffman code, highest bit first, as DEFLATE packs
// codes.
func (w *bitWriter) code(c uint, n uint) {
	for i := n; i > 0; i-- {
		w.bits(c>>(i-1)&1, 1)
	}
}

func (w *bitWriter) done() []byte { return w.out }

func TestHuffTableBuild(t *testing.T) {
	var h huffTable
	if !h.build([]uint8{1}) || h.entries[0] != 0<<4|1 || h.entries[1] != 0 {
		t.Errorf("single code: %v", h.entries)
	}
	if h.build([]uint8{1, 1, 1}) {
		t.Error("over-subscribed code built")
	}
	// Codes 0, 10, 11 (RFC 1951 §3.2.2), first bit lowest in the table.
	if !h.build([]uint8{1, 2, 2}) || h.maxLen != 2 {
		t.Fatalf("maxLen = %d", h.maxLen)
	}
	want := []uint16{0<<4 | 1, 1<<4 | 2, 0<<4 | 1, 2<<4 | 2}
	for i, e := range want {
		if h.entries[i] != e {
			t.Errorf("entries[%d] = %#x, want %#x", i, h.entries[i], e)
		}
	}
}
