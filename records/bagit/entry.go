package bagit

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"slices"
	"sync"
)

// Reading an entry's data. archive/zip checks the CRC-32 of what it
// inflates, but not of an entry whose recorded CRC-32 is zero, and it
// cannot see a changed byte of a DEFLATE stream that does not change what
// the stream inflates to: the padding bits that byte-align a stored block
// and end the stream, which compress/flate skips unread. So Verify reads
// entries its own way (bag.open): the raw data through deflateCheck, which
// parses the stream alongside compress/flate and refuses padding that is
// not zero and bytes after the final block, then the CRC-32 and both
// sizes, always.

// Errors reading an entry's data.
var (
	errCRC       = errors.New("its data does not match its CRC-32")
	errLonger    = errors.New("its data is longer than its recorded size")
	errShorter   = errors.New("its data is shorter than its recorded size")
	errPadding   = errors.New("malformed DEFLATE stream: padding bits are not zero")
	errTrailing  = errors.New("malformed DEFLATE stream: bytes after its final block")
	errHuffman   = errors.New("malformed DEFLATE stream: invalid Huffman code")
	errStream    = errors.New("malformed DEFLATE stream")
	errUnaligned = errors.New("malformed DEFLATE stream: compress/flate and the stream's parse disagree")
)

// open returns a reader of f's data that fails unless the data is exactly
// what the ZIP records: see the comment above. Reading it to io.EOF marks
// f as checked. The reader must be closed.
func (b *bag) open(f *zip.File) (io.ReadCloser, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	er := &entryReader{b: b, f: f, left: f.UncompressedSize64, crc: crc32.NewIEEE()}
	switch f.Method {
	case zip.Store:
		er.r = raw
	case zip.Deflate:
		in := inflaters.Get().(*inflater)
		in.check.reset(raw)
		if in.flate == nil {
			in.flate = flate.NewReader(&in.check)
		} else if err := in.flate.(flate.Resetter).Reset(&in.check, nil); err != nil {
			return nil, err
		}
		er.r, er.in = in.flate, in
	default:
		return nil, fmt.Errorf("unsupported compression method %d", f.Method)
	}
	return er, nil
}

// inflater is a deflateCheck and the compress/flate reader reading
// through it, pooled: both hold tables and a window worth reusing.
type inflater struct {
	check deflateCheck
	flate io.ReadCloser
}

var inflaters = sync.Pool{New: func() any { return new(inflater) }}

// entryReader reads one entry's data; see bag.open.
type entryReader struct {
	b    *bag
	f    *zip.File
	r    io.Reader
	in   *inflater // for a DEFLATE entry
	left uint64    // bytes still to come by the recorded size
	crc  hash.Hash32
	err  error
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.left < uint64(len(p)) {
		p = p[:r.left+1] // one past the size is enough to see it is exceeded
	}
	n, err := r.r.Read(p)
	if uint64(n) > r.left {
		r.err = errLonger
		return 0, r.err
	}
	r.left -= uint64(n)
	r.crc.Write(p[:n])
	switch {
	case err == io.EOF:
		err = r.finish()
	case err != nil && errors.Is(err, io.ErrUnexpectedEOF) && r.in != nil && r.in.check.err != nil:
		err = r.in.check.err // say why the parse stopped
	}
	r.err = err
	return n, err
}

// finish checks what can be checked once the data has ended.
func (r *entryReader) finish() error {
	if r.left != 0 {
		return errShorter
	}
	if r.in != nil {
		if err := r.in.check.finish(); err != nil {
			return err
		}
	}
	if r.crc.Sum32() != r.f.CRC32 {
		return errCRC
	}
	r.b.checked[r.f] = true
	return io.EOF
}

// Close returns the inflater to the pool.
func (r *entryReader) Close() error {
	if r.in != nil {
		r.in.check.reset(eof{}) // let go of the ZIP
		inflaters.Put(r.in)
		r.in = nil
	}
	if r.err == nil {
		r.err = errors.New("read after Close")
	}
	return nil
}

// eof is an empty reader.
type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// deflateCheck is what compress/flate reads a DEFLATE stream (RFC 1951)
// from. It parses the stream itself a little ahead of compress/flate,
// without inflating it, handing on only bytes it has parsed, and fails if
// the stream has padding bits that are not zero (before a stored block's
// length, after the final block) or any byte after the final block:
// bytes that compress/flate skips, so that changing them changes nothing
// the CRC-32 could see. Anything else wrong with the stream compress/flate
// finds itself; where the two could differ, deflateCheck accepts all that
// compress/flate accepts.
type deflateCheck struct {
	src   *bufio.Reader
	buf   []byte // parsed bytes not yet read by compress/flate
	off   int    // of the next byte of buf to hand on
	bits  uint64 // bits of the stream read but not parsed, first in the low bit
	nbits uint   // their number; always fewer than 8 between codes
	state int
	final bool // the block being parsed is the last
	left  int  // bytes of a stored block still to copy
	lit   huffTable
	dist  huffTable
	codes huffTable // the code length code of a dynamic block
	lens  [maxLit + maxDist]uint8
	hl    *huffTable // the literal/length and distance codes of the block
	hd    *huffTable
	err   error
}

// Parser states.
const (
	stateHeader  = iota // at a block header
	stateStored         // copying a stored block
	stateHuffman        // decoding codes of a Huffman block
	stateDone           // after the final block
)

// Limits of RFC 1951 §3.2.7, as compress/flate enforces them.
const (
	maxLit  = 286 // literal/length codes a dynamic block may declare
	maxDist = 30  // distance codes a dynamic block may declare, and can use
	maxBits = 15  // of a Huffman code

	parseAhead = 4 << 10 // bytes parsed ahead of compress/flate, at most about
)

func (d *deflateCheck) reset(r io.Reader) {
	if d.src == nil {
		d.src = bufio.NewReaderSize(r, 16<<10)
	} else {
		d.src.Reset(r)
	}
	d.buf, d.off = d.buf[:0], 0
	d.bits, d.nbits = 0, 0
	d.state, d.final, d.left = stateHeader, false, 0
	d.err = nil
}

// Read hands on parsed bytes, parsing more when none are left.
func (d *deflateCheck) Read(p []byte) (int, error) {
	if err := d.fill(); err != nil {
		return 0, err
	}
	n := copy(p, d.buf[d.off:])
	d.off += n
	return n, nil
}

// ReadByte makes deflateCheck a flate.Reader, which compress/flate reads
// byte by byte, never past the end of the stream.
func (d *deflateCheck) ReadByte() (byte, error) {
	if err := d.fill(); err != nil {
		return 0, err
	}
	c := d.buf[d.off]
	d.off++
	return c, nil
}

// fill parses on until some parsed bytes are waiting, or returns why it
// cannot: io.EOF after the final block, else the parse error.
func (d *deflateCheck) fill() error {
	if d.off < len(d.buf) {
		return nil
	}
	d.buf, d.off = d.buf[:0], 0
	for len(d.buf) < parseAhead && d.err == nil && d.state != stateDone {
		d.step()
	}
	switch {
	case len(d.buf) > 0:
		return nil
	case d.err != nil:
		return d.err
	}
	return io.EOF
}

// finish reports whether the stream was parsed to its end, and
// compress/flate read all of it, once compress/flate has found its end.
func (d *deflateCheck) finish() error {
	switch {
	case d.err != nil:
		return d.err
	case d.state != stateDone || d.off != len(d.buf):
		return errUnaligned
	}
	return nil
}

// more reads one byte of the stream into the bit buffer.
func (d *deflateCheck) more() bool {
	c, err := d.src.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
		return false
	}
	d.buf = append(d.buf, c)
	d.bits |= uint64(c) << d.nbits
	d.nbits += 8
	return true
}

// need returns the next n bits (n ≤ 16) as a number, first bit lowest.
func (d *deflateCheck) need(n uint) (uint32, bool) {
	for d.nbits < n {
		if !d.more() {
			return 0, false
		}
	}
	v := uint32(d.bits & (1<<n - 1))
	d.bits >>= n
	d.nbits -= n
	return v, true
}

// step parses one block header, one code (with its extra bits), or a
// piece of a stored block.
func (d *deflateCheck) step() {
	switch d.state {
	case stateHeader:
		d.header()
	case stateStored:
		n := min(d.left, parseAhead)
		start := len(d.buf)
		d.buf = slices.Grow(d.buf, n)[:start+n]
		if _, err := io.ReadFull(d.src, d.buf[start:]); err != nil {
			d.buf = d.buf[:start]
			d.err = io.ErrUnexpectedEOF
			return
		}
		if d.left -= n; d.left == 0 {
			d.endBlock()
		}
	case stateHuffman:
		d.code()
	}
}

// header parses a block header (RFC 1951 §3.2.3).
func (d *deflateCheck) header() {
	v, ok := d.need(3)
	if !ok {
		return
	}
	d.final = v&1 == 1
	switch v >> 1 {
	case 0: // stored (§3.2.4): skip to a byte boundary, then LEN and NLEN
		if d.bits != 0 {
			d.err = errPadding
			return
		}
		d.bits, d.nbits = 0, 0
		n, ok1 := d.need(16)
		nn, ok2 := d.need(16)
		switch {
		case !ok1 || !ok2:
			return
		case uint16(nn) != ^uint16(n):
			d.err = errStream
			return
		}
		d.left, d.state = int(n), stateStored
		if n == 0 {
			d.endBlock()
		}
	case 1: // fixed Huffman codes (§3.2.6)
		fixedOnce.Do(initFixed)
		d.hl, d.hd, d.state = &fixedLit, &fixedDist, stateHuffman
	case 2: // dynamic Huffman codes (§3.2.7)
		if d.dynamic() {
			d.hl, d.hd, d.state = &d.lit, &d.dist, stateHuffman
		}
	default:
		d.err = errStream
	}
}

// codeOrder is the order of the code length code lengths (§3.2.7).
var codeOrder = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamic parses the code definitions of a dynamic Huffman block.
func (d *deflateCheck) dynamic() bool {
	hlit, ok1 := d.need(5)
	hdist, ok2 := d.need(5)
	hclen, ok3 := d.need(4)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	nlit, ndist := int(hlit)+257, int(hdist)+1
	if nlit > maxLit || ndist > maxDist {
		d.err = errStream
		return false
	}
	var cl [19]uint8
	for i := range int(hclen) + 4 {
		v, ok := d.need(3)
		if !ok {
			return false
		}
		cl[codeOrder[i]] = uint8(v)
	}
	if !d.codes.build(cl[:]) {
		d.err = errHuffman
		return false
	}
	lens := d.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		sym, ok := d.decode(&d.codes)
		if !ok {
			return false
		}
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep uint32
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				d.err = errStream
				return false
			}
			rep, ok = d.need(2)
			rep, v = rep+3, lens[i-1]
		case 17:
			rep, ok = d.need(3)
			rep += 3
		default: // 18
			rep, ok = d.need(7)
			rep += 11
		}
		if !ok {
			return false
		}
		if i+int(rep) > len(lens) {
			d.err = errStream
			return false
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	if !d.lit.build(lens[:nlit]) || !d.dist.build(lens[nlit:]) {
		d.err = errHuffman
		return false
	}
	return true
}

// code parses one literal, end of block, or length and distance (§3.2.5).
func (d *deflateCheck) code() {
	sym, ok := d.decode(d.hl)
	switch {
	case !ok:
		return
	case sym < 256:
		return
	case sym == 256:
		d.endBlock()
		return
	case sym >= maxLit: // 286 and 287 exist only in the fixed code, unused
		d.err = errStream
		return
	}
	if _, ok := d.need(lengthExtra(sym)); !ok {
		return
	}
	dsym, ok := d.decode(d.hd)
	switch {
	case !ok:
		return
	case dsym >= maxDist: // 30 and 31 exist only in the fixed code, unused
		d.err = errStream
		return
	case dsym >= 4:
		d.need(uint(dsym-2) >> 1)
	}
}

// lengthExtra returns the number of extra bits of length code sym.
func lengthExtra(sym int) uint {
	if sym < 265 || sym == 285 {
		return 0
	}
	return uint(sym-261) / 4
}

// endBlock ends a block. After the final one, the last byte's unused bits
// must be zero and nothing may follow.
func (d *deflateCheck) endBlock() {
	if !d.final {
		d.state = stateHeader
		return
	}
	if d.bits != 0 {
		d.err = errPadding
		return
	}
	d.bits, d.nbits = 0, 0
	switch _, err := d.src.ReadByte(); err {
	case io.EOF:
		d.state = stateDone
	case nil:
		d.err = errTrailing
	default:
		d.err = err
	}
}

// huffTable decodes one Huffman code: entry i, for i the next maxLen bits
// of the stream (first bit lowest), holds symbol<<4 | length of the code
// those bits start with, or 0 if none does.
type huffTable struct {
	entries []uint16
	maxLen  uint
}

// build makes t the canonical Huffman code with the code lengths lens
// (§3.2.2). It refuses an over-subscribed code; an incomplete one is kept
// with gaps, which decode refuses, since compress/flate refuses them too.
func (t *huffTable) build(lens []uint8) bool {
	var count [maxBits + 1]int
	t.maxLen = 0
	for _, l := range lens {
		if l > 0 {
			count[l]++
			t.maxLen = max(t.maxLen, uint(l))
		}
	}
	size := 1 << t.maxLen
	if cap(t.entries) < size {
		t.entries = make([]uint16, size)
	}
	t.entries = t.entries[:size]
	clear(t.entries)
	var next [maxBits + 1]int
	code := 0
	for l := 1; l <= maxBits; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		if c >= 1<<l {
			return false
		}
		rev := 0 // c, first bit lowest, as it appears in the stream
		for i := range int(l) {
			rev |= (c >> i & 1) << (int(l) - 1 - i)
		}
		for j := rev; j < size; j += 1 << l {
			t.entries[j] = uint16(sym<<4 | int(l))
		}
	}
	return true
}

// decode reads one code of t, reading no more bytes than it needs: the
// bits not yet read are zero in the index, and an entry is trusted only
// when its code is no longer than the bits read.
func (d *deflateCheck) decode(t *huffTable) (int, bool) {
	mask := uint64(len(t.entries) - 1)
	for {
		e := t.entries[d.bits&mask]
		if l := uint(e & 15); l != 0 && l <= d.nbits {
			d.bits >>= l
			d.nbits -= l
			return int(e >> 4), true
		}
		if d.nbits >= t.maxLen {
			d.err = errHuffman
			return 0, false
		}
		if !d.more() {
			return 0, false
		}
	}
}

// The fixed Huffman codes (§3.2.6).
var (
	fixedOnce           sync.Once
	fixedLit, fixedDist huffTable
)

func initFixed() {
	var lit [288]uint8
	for i := range lit {
		switch {
		case i < 144:
			lit[i] = 8
		case i < 256:
			lit[i] = 9
		case i < 280:
			lit[i] = 7
		default:
			lit[i] = 8
		}
	}
	var dist [32]uint8
	for i := range dist {
		dist[i] = 5
	}
	fixedLit.build(lit[:])
	fixedDist.build(dist[:])
}
