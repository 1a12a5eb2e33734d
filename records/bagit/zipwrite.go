package bagit

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"time"
	"unicode/utf8"
)

// zipWriter writes the ZIP container of a bag. It writes the same bytes as
// archive/zip.Writer does for the headers Writer used to give it (the
// Options' modification time, mode 0644 or a 0755 directory, STORE or
// DEFLATE at archive/zip's level 5, data descriptors, zip64 where needed;
// zipwrite_test.go compares the two byte for byte) but keeps far less per
// entry: archive/zip holds a *FileHeader (about 250 bytes with its Extra)
// for every entry until Close, which at 200,000 files was most of an
// export's memory. Here an entry is 40 bytes plus its name, and the names
// share one growing buffer.
type zipWriter struct {
	prefix string // of every entry's name, kept once: the bag's base directory
	bw     *bufio.Writer
	count  int64 // bytes written so far: the next entry's offset

	dosDate, dosTime uint16
	mtime            uint32 // Unix seconds, for the extended timestamp field

	comp *flate.Writer
	crc  crc32hash

	names []byte      // every entry's name without the prefix, back to back
	dir   []zipRecord // one per entry, in order
	open  bool        // the last entry in dir is a file still being written
	// Per open file: its data counts.
	raw, packed int64
	closed      bool
}

// zipRecord is what the central directory needs of one entry.
type zipRecord struct {
	offset  uint64 // of its local header
	csize   uint64
	usize   uint64
	nameEnd uint32 // end of its name in zipWriter.names; it starts where the previous one ends
	crc     uint32
	method  uint16
	flags   uint16
	isDir   bool
}

// crc32hash is the running CRC-32 (IEEE) of an open file.
type crc32hash struct{ sum uint32 }

func (c *crc32hash) Write(p []byte) { c.sum = crc32.Update(c.sum, crc32.IEEETable, p) }

const (
	zipStore   = 0
	zipDeflate = 8

	descLen32 = 16 // signature, CRC-32, 32-bit sizes
	descLen64 = 24 // signature, CRC-32, 64-bit sizes
)

var errLongZipName = errors.New("zip: FileHeader.Name too long")

func newZipWriter(w io.Writer, prefix string, modified time.Time) *zipWriter {
	z := &zipWriter{prefix: prefix, bw: bufio.NewWriterSize(w, 64<<10)}
	// As archive/zip's timeToMsDosTime and the extended timestamp it adds.
	z.dosDate = uint16(modified.Day() + int(modified.Month())<<5 + (modified.Year()-1980)<<9)
	z.dosTime = uint16(modified.Second()/2 + modified.Minute()<<5 + modified.Hour()<<11)
	z.mtime = uint32(modified.Unix())
	return z
}

// name returns entry i's name without the prefix.
func (z *zipWriter) name(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = z.dir[i-1].nameEnd
	}
	return z.names[start:z.dir[i].nameEnd]
}

// write writes p to the archive, counting it.
func (z *zipWriter) write(p []byte) error {
	n, err := z.bw.Write(p)
	z.count += int64(n)
	return err
}

// writeName writes an entry's full name.
func (z *zipWriter) writeName(name []byte) error {
	n, err := z.bw.WriteString(z.prefix)
	z.count += int64(n)
	if err != nil {
		return err
	}
	return z.write(name)
}

// create starts an entry named prefix+name: a directory if isDir (name ends in
// "/"), otherwise a file whose data follows through writeData. The previous
// file, if any, is finished first.
func (z *zipWriter) create(name string, method uint16, isDir bool) error {
	if err := z.finish(); err != nil {
		return err
	}
	if len(z.prefix)+len(name) > 0xffff {
		return errLongZipName
	}
	if len(z.names)+len(name) > 1<<32-1 {
		return errors.New("zip: too many names")
	}
	var flags uint16
	if valid, require := detectUTF8(z.prefix + name); valid && require {
		flags |= flagUTF8
	}
	if isDir {
		method = zipStore
	} else {
		flags |= flagDescriptor
	}
	z.names = append(z.names, name...)
	z.dir = append(z.dir, zipRecord{offset: uint64(z.count), nameEnd: uint32(len(z.names)),
		method: method, flags: flags, isDir: isDir})

	var b [localLen + writerTimeExtra]byte
	binary.LittleEndian.PutUint32(b[0:], sigLocal)
	binary.LittleEndian.PutUint16(b[4:], writerVersion)
	binary.LittleEndian.PutUint16(b[6:], flags)
	binary.LittleEndian.PutUint16(b[8:], method)
	binary.LittleEndian.PutUint16(b[10:], z.dosTime)
	binary.LittleEndian.PutUint16(b[12:], z.dosDate)
	// CRC-32 and sizes stay zero: they follow in the data descriptor.
	binary.LittleEndian.PutUint16(b[26:], uint16(len(z.prefix)+len(name)))
	binary.LittleEndian.PutUint16(b[28:], writerTimeExtra)
	if err := z.write(b[:localLen]); err != nil {
		return err
	}
	if err := z.writeName(z.names[len(z.names)-len(name):]); err != nil {
		return err
	}
	if err := z.write(z.timeExtra(b[localLen:])); err != nil {
		return err
	}
	if isDir {
		return nil
	}
	z.open, z.raw, z.packed, z.crc = true, 0, 0, crc32hash{}
	if method == zipDeflate {
		if z.comp == nil {
			z.comp, _ = flate.NewWriter(packedCounter{z}, 5) // level 5 never fails
		} else {
			z.comp.Reset(packedCounter{z})
		}
	}
	return nil
}

// timeExtra fills b with the extended timestamp field archive/zip writes
// when a FileHeader has Modified set.
func (z *zipWriter) timeExtra(b []byte) []byte {
	binary.LittleEndian.PutUint16(b[0:], extraTime)
	binary.LittleEndian.PutUint16(b[2:], 5)
	b[4] = 1 // flags: modification time
	binary.LittleEndian.PutUint32(b[5:], z.mtime)
	return b[:writerTimeExtra]
}

// packedCounter is where the compressor writes: the archive, counted as
// the open file's compressed size.
type packedCounter struct{ z *zipWriter }

func (p packedCounter) Write(b []byte) (int, error) {
	n, err := p.z.bw.Write(b)
	p.z.count += int64(n)
	p.z.packed += int64(n)
	return n, err
}

// Write writes the open file's data.
func (z *zipWriter) Write(p []byte) (int, error) {
	if !z.open {
		return 0, errors.New("zip: write with no file open")
	}
	z.crc.Write(p)
	z.raw += int64(len(p))
	if z.dir[len(z.dir)-1].method == zipDeflate {
		return z.comp.Write(p)
	}
	return packedCounter{z}.Write(p)
}

// finish ends the open file, if any: it flushes the compressor and writes
// the data descriptor.
func (z *zipWriter) finish() error {
	if !z.open {
		return nil
	}
	z.open = false
	e := &z.dir[len(z.dir)-1]
	if e.method == zipDeflate {
		if err := z.comp.Close(); err != nil {
			return err
		}
	}
	e.crc, e.csize, e.usize = z.crc.sum, uint64(z.packed), uint64(z.raw)
	var b [descLen64]byte
	binary.LittleEndian.PutUint32(b[0:], sigDescriptor)
	binary.LittleEndian.PutUint32(b[4:], e.crc)
	if e.needs64() {
		binary.LittleEndian.PutUint64(b[8:], e.csize)
		binary.LittleEndian.PutUint64(b[16:], e.usize)
		return z.write(b[:descLen64])
	}
	binary.LittleEndian.PutUint32(b[8:], uint32(e.csize))
	binary.LittleEndian.PutUint32(b[12:], uint32(e.usize))
	return z.write(b[:descLen32])
}

// needs64 reports whether the entry's sizes need the zip64 format, as
// archive/zip's FileHeader.isZip64 does.
func (e *zipRecord) needs64() bool { return e.csize >= max32 || e.usize >= max32 }

// close finishes the open file and writes the central directory and the end
// records, then flushes.
func (z *zipWriter) close() error {
	if z.closed {
		return errors.New("zip: writer closed twice")
	}
	if err := z.finish(); err != nil {
		return err
	}
	z.closed = true
	start := z.count
	var b [centralLen + writerTimeExtra + writerZip64]byte
	for i := range z.dir {
		e := &z.dir[i]
		name := z.name(i)
		big := e.needs64() || e.offset >= max32
		version := uint16(writerVersion)
		if e.needs64() {
			version = writerVersion64
		}
		binary.LittleEndian.PutUint32(b[0:], sigCentral)
		binary.LittleEndian.PutUint16(b[4:], writerMadeBy)
		binary.LittleEndian.PutUint16(b[6:], version)
		binary.LittleEndian.PutUint16(b[8:], e.flags)
		binary.LittleEndian.PutUint16(b[10:], e.method)
		binary.LittleEndian.PutUint16(b[12:], z.dosTime)
		binary.LittleEndian.PutUint16(b[14:], z.dosDate)
		binary.LittleEndian.PutUint32(b[16:], e.crc)
		extra := uint16(writerTimeExtra)
		if big {
			binary.LittleEndian.PutUint32(b[20:], max32)
			binary.LittleEndian.PutUint32(b[24:], max32)
			extra += writerZip64
		} else {
			binary.LittleEndian.PutUint32(b[20:], uint32(e.csize))
			binary.LittleEndian.PutUint32(b[24:], uint32(e.usize))
		}
		binary.LittleEndian.PutUint16(b[28:], uint16(len(z.prefix)+len(name)))
		binary.LittleEndian.PutUint16(b[30:], extra)
		binary.LittleEndian.PutUint16(b[32:], 0) // comment length
		binary.LittleEndian.PutUint32(b[34:], 0) // disk number start, internal attributes
		attrs := writerFileAttrs
		if e.isDir {
			attrs = writerDirAttrs
		}
		binary.LittleEndian.PutUint32(b[38:], attrs)
		binary.LittleEndian.PutUint32(b[42:], uint32(min(e.offset, max32)))
		if err := z.write(b[:centralLen]); err != nil {
			return err
		}
		if err := z.writeName(name); err != nil {
			return err
		}
		x := z.timeExtra(b[centralLen:])
		if big {
			z64 := b[centralLen+writerTimeExtra:]
			binary.LittleEndian.PutUint16(z64[0:], extraZip64)
			binary.LittleEndian.PutUint16(z64[2:], 24)
			binary.LittleEndian.PutUint64(z64[4:], e.usize)
			binary.LittleEndian.PutUint64(z64[12:], e.csize)
			binary.LittleEndian.PutUint64(z64[20:], e.offset)
			x = b[centralLen : centralLen+writerTimeExtra+writerZip64]
		}
		if err := z.write(x); err != nil {
			return err
		}
	}
	end := z.count
	records, size, offset := uint64(len(z.dir)), uint64(end-start), uint64(start)
	if records >= max16 || size >= max32 || offset >= max32 {
		var b [end64Len + locator64Len]byte
		binary.LittleEndian.PutUint32(b[0:], sigEnd64)
		binary.LittleEndian.PutUint64(b[4:], end64Len-12)
		binary.LittleEndian.PutUint16(b[12:], writerVersion64)
		binary.LittleEndian.PutUint16(b[14:], writerVersion64)
		// disk numbers (8 bytes at 16) stay zero
		binary.LittleEndian.PutUint64(b[24:], records)
		binary.LittleEndian.PutUint64(b[32:], records)
		binary.LittleEndian.PutUint64(b[40:], size)
		binary.LittleEndian.PutUint64(b[48:], offset)
		binary.LittleEndian.PutUint32(b[56:], sigLocator64)
		binary.LittleEndian.PutUint32(b[60:], 0)
		binary.LittleEndian.PutUint64(b[64:], uint64(end))
		binary.LittleEndian.PutUint32(b[72:], 1)
		if err := z.write(b[:]); err != nil {
			return err
		}
		records, size, offset = max16, max32, max32
	}
	var e [endLen]byte
	binary.LittleEndian.PutUint32(e[0:], sigEnd)
	binary.LittleEndian.PutUint16(e[8:], uint16(records))
	binary.LittleEndian.PutUint16(e[10:], uint16(records))
	binary.LittleEndian.PutUint32(e[12:], uint32(size))
	binary.LittleEndian.PutUint32(e[16:], uint32(offset))
	if err := z.write(e[:]); err != nil {
		return err
	}
	return z.bw.Flush()
}

// detectUTF8 is archive/zip's: whether s is valid UTF-8 and whether it
// needs the UTF-8 flag (it holds a character outside the ASCII subset that
// CP-437 shares, or a backslash).
func detectUTF8(s string) (valid, require bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r < 0x20 || r > 0x7d || r == 0x5c {
			if !utf8.ValidRune(r) || (r == utf8.RuneError && size == 1) {
				return false, false
			}
			require = true
		}
	}
	return true, require
}
