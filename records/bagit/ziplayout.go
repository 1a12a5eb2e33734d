package bagit

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"unicode/utf8"
)

// The ZIP container check. archive/zip reads a ZIP through its central
// directory and ignores much of the rest: the local file headers beyond
// their name and extra lengths, the bytes between entries, most of the end
// records. A byte changed there would leave every entry readable and every
// checksum right, so checkZip parses the container itself (APPNOTE.TXT
// 6.3.10) and accounts for every byte of it:
//
//	[local header, name, extra, data, data descriptor] ... one per entry,
//	    the first at offset 0, each followed at once by the next
//	[central directory record, name, extra, comment] ... one per entry
//	[zip64 end of central directory record and locator]   if any
//	[end of central directory record]                      no comment, then EOF
//
// and checks that each local header agrees with its central directory
// record. What it cannot check by itself, an entry's data, is checked
// when the entry is read (see open): its CRC-32, its sizes and, for
// DEFLATE, the stream's own structure.

// ZIP record signatures and fixed lengths (APPNOTE.TXT 4.3).
const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigDescriptor = 0x08074b50
	sigEnd64      = 0x06064b50
	sigLocator64  = 0x07064b50
	sigEnd        = 0x06054b50

	localLen     = 30
	centralLen   = 46
	endLen       = 22
	end64Len     = 56 // with no extensible data
	locator64Len = 20

	max16 = 0xffff
	max32 = 0xffffffff

	flagDescriptor = 0x8   // general purpose bit 3: sizes follow the data
	flagUTF8       = 0x800 // general purpose bit 11: name is UTF-8

	extraZip64 = 0x0001 // zip64 extended information extra field
	extraTime  = 0x5455 // extended timestamp ("UT"), as Info-ZIP and archive/zip write it
)

// What Writer's archive/zip.Writer puts in the fields a reader does not
// use, so that for a bag it wrote a change to one of them can be seen.
const (
	writerVersion   = 20                 // "version needed", and the low byte of "version made by"
	writerVersion64 = 45                 // "version needed" of a zip64 entry, in the central directory only
	writerMadeBy    = 3<<8 | 20          // Unix, version 2.0, as FileHeader.SetMode and CreateHeader set it
	writerTimeExtra = 4 + 1 + 4          // one extended timestamp field: flags (modification time only) and mtime
	writerZip64     = 4 + 3*8            // archive/zip's zip64 field: sizes and offset, always all three
	writerFileMode  = 0o644              // of every file Writer writes
	writerDirMode   = fs.ModeDir | 0o755 // of data/, the one directory entry Writer writes
)

var writerFileAttrs, writerDirAttrs = externalAttrs(writerFileMode), externalAttrs(writerDirMode)

// externalAttrs returns the external attributes archive/zip writes for mode.
func externalAttrs(mode fs.FileMode) uint32 {
	var fh zip.FileHeader
	fh.SetMode(mode)
	return fh.ExternalAttrs
}

// zipLayout is what checkZip learned that archive/zip does not expose.
type zipLayout struct {
	entries []zipEntry // in central directory order, one per zip.File
	// writerFault says how the end records or the order of entries differ
	// from what Writer writes; "" if they do not.
	writerFault string
}

// zipEntry is one entry as checkZip found it.
type zipEntry struct {
	f *zip.File
	// writerCD reports whether the central directory fields no reader
	// needs (version made by, attributes, disk, comment) are exactly
	// Writer's.
	writerCD bool
	// writerFault says how the entry differs from what Writer writes, in
	// any field; "" if it does not.
	writerFault string

	// Resolved through any zip64 extra field.
	crc          uint32
	csize, usize uint64
	offset       uint64 // of the local header
	zip64        bool   // the central directory record has a zip64 field
}

// zipEnd is the end of central directory, resolved through the zip64
// records when there are some.
type zipEnd struct {
	records          uint64
	cdOffset, cdSize uint64
	writerFault      string
}

// checkZip parses the ZIP container read from r, of size bytes, whose
// central directory archive/zip read as files, and refuses it unless every
// byte is accounted for and each local header agrees with its central
// directory record; see the comment at the top of this file. Reads are
// bounded: each byte of the container is read at most once here. Read
// errors are left for the caller to find in its readerAt.
func checkZip(r io.ReaderAt, size int64, files []*zip.File) (*zipLayout, *Problem) {
	end, p := readEnd(r, size)
	if p != nil {
		return nil, p
	}
	z := &zipLayout{writerFault: end.writerFault}
	if p := z.readCentral(r, end, files); p != nil {
		return nil, p
	}
	if p := z.checkLocals(r, end.cdOffset); p != nil {
		return nil, p
	}
	return z, nil
}

// zipProblem is a Problem of KindZip.
func zipProblem(name, format string, args ...any) *Problem {
	return problem(name, KindZip, format, args...)
}

// readAt reads len(buf) bytes at off, reporting a short read as a problem.
func readAt(r io.ReaderAt, buf []byte, off int64, what string) *Problem {
	if _, err := r.ReadAt(buf, off); err != nil {
		return zipProblem("", "cannot read the %s at offset %d: %v", what, off, err)
	}
	return nil
}

// le decodes the ZIP's little-endian numbers.
var le = binary.LittleEndian

// readEnd reads the end of central directory record, which must be the
// last 22 bytes of the file (so no comment and nothing after it), and the
// zip64 records before it, if there are any.
func readEnd(r io.ReaderAt, size int64) (*zipEnd, *Problem) {
	var b [endLen]byte
	if size < endLen {
		return nil, zipProblem("", "too short for a ZIP")
	}
	eocd := size - endLen
	if p := readAt(r, b[:], eocd, "end of central directory record"); p != nil {
		return nil, p
	}
	if le.Uint32(b[0:]) != sigEnd {
		return nil, zipProblem("", "the last 22 bytes are not the end of central directory record: the ZIP has a comment or bytes after its end")
	}
	disk, cdDisk := le.Uint16(b[4:]), le.Uint16(b[6:])
	nDisk, n := le.Uint16(b[8:]), le.Uint16(b[10:])
	cdSize, cdOffset := le.Uint32(b[12:]), le.Uint32(b[16:])
	if c := le.Uint16(b[20:]); c != 0 {
		return nil, zipProblem("", "the end of central directory record claims a %d-byte comment past the end of the file", c)
	}
	sentinel := disk == max16 || cdDisk == max16 || nDisk == max16 || n == max16 ||
		cdSize == max32 || cdOffset == max32
	if !sentinel && uint64(cdOffset)+uint64(cdSize) == uint64(eocd) {
		if disk != 0 || cdDisk != 0 {
			return nil, zipProblem("", "the end of central directory record names disk %d and %d: a bag is one file", disk, cdDisk)
		}
		if nDisk != n {
			return nil, zipProblem("", "the end of central directory record counts %d entries on this disk and %d in all", nDisk, n)
		}
		return &zipEnd{records: uint64(n), cdOffset: uint64(cdOffset), cdSize: uint64(cdSize)}, nil
	}

	// The central directory does not end where the end record starts, so
	// zip64 records must sit between them.
	loc := eocd - locator64Len
	z64 := loc - end64Len
	var l [locator64Len]byte
	if z64 < 0 {
		return nil, zipProblem("", "the central directory does not end where the end of central directory record starts")
	}
	if p := readAt(r, l[:], loc, "zip64 end of central directory locator"); p != nil {
		return nil, p
	}
	if le.Uint32(l[0:]) != sigLocator64 {
		if sentinel {
			return nil, zipProblem("", "the end of central directory record defers to zip64 records the ZIP does not have")
		}
		return nil, zipProblem("", "the central directory does not end where the end of central directory record starts")
	}
	locDisk, at, disks := le.Uint32(l[4:]), le.Uint64(l[8:]), le.Uint32(l[16:])
	switch {
	case locDisk != 0 || disks > 1:
		return nil, zipProblem("", "the zip64 locator names disk %d of %d: a bag is one file", locDisk, disks)
	case at != uint64(z64):
		return nil, zipProblem("", "the zip64 end of central directory record is not right before its locator (%d bytes unaccounted for, or the locator's offset is wrong)", int64(at)-z64)
	}
	var e [end64Len]byte
	if p := readAt(r, e[:], z64, "zip64 end of central directory record"); p != nil {
		return nil, p
	}
	if le.Uint32(e[0:]) != sigEnd64 {
		return nil, zipProblem("", "no zip64 end of central directory record where its locator points")
	}
	recLen, madeBy, needed := le.Uint64(e[4:]), le.Uint16(e[12:]), le.Uint16(e[14:])
	disk64, cdDisk64 := le.Uint32(e[16:]), le.Uint32(e[20:])
	nDisk64, n64 := le.Uint64(e[24:]), le.Uint64(e[32:])
	cdSize64, cdOffset64 := le.Uint64(e[40:]), le.Uint64(e[48:])
	switch {
	case recLen != end64Len-12:
		return nil, zipProblem("", "the zip64 end of central directory record says it is %d bytes long, not %d: no extensible data is accepted", recLen, end64Len-12)
	case disk64 != 0 || cdDisk64 != 0:
		return nil, zipProblem("", "the zip64 end of central directory record names disk %d and %d: a bag is one file", disk64, cdDisk64)
	case nDisk64 != n64:
		return nil, zipProblem("", "the zip64 end of central directory record counts %d entries on this disk and %d in all", nDisk64, n64)
	case cdOffset64 > uint64(z64) || cdSize64 != uint64(z64)-cdOffset64:
		return nil, zipProblem("", "the central directory does not end where the zip64 end of central directory record starts")
	case !agrees16(disk, 0) || !agrees16(cdDisk, 0):
		return nil, zipProblem("", "the end of central directory record names disk %d and %d: a bag is one file", disk, cdDisk)
	case !agrees16(nDisk, n64) || !agrees16(n, n64):
		return nil, zipProblem("", "the end of central directory record counts %d and %d entries, its zip64 record %d", nDisk, n, n64)
	case !agrees32(cdSize, cdSize64) || !agrees32(cdOffset, cdOffset64):
		return nil, zipProblem("", "the end of central directory record and its zip64 record disagree on where the central directory is")
	}
	end := &zipEnd{records: n64, cdOffset: cdOffset64, cdSize: cdSize64}
	// archive/zip writes the zip64 records only when it must, and then
	// puts the sentinels in all three fields of the end record.
	switch {
	case n64 < max16 && cdSize64 < max32 && cdOffset64 < max32:
		end.writerFault = "it has zip64 end records, which archive/zip writes only for a ZIP that needs them"
	case disk != 0 || cdDisk != 0 || nDisk != max16 || n != max16 || cdSize != max32 || cdOffset != max32:
		end.writerFault = "its end of central directory record does not defer every field to the zip64 record as archive/zip does"
	case madeBy != writerVersion64 || needed != writerVersion64 || disks != 1:
		end.writerFault = "its zip64 end records differ from archive/zip's"
	}
	return end, nil
}

// agrees16 reports whether a 16-bit field of the end record either holds
// v or defers to the zip64 record.
func agrees16(field uint16, v uint64) bool { return field == max16 || uint64(field) == v }

// agrees32 is agrees16 for a 32-bit field.
func agrees32(field uint32, v uint64) bool { return field == max32 || uint64(field) == v }

// readCentral parses the central directory, which must hold exactly
// end.records records filling it exactly, and checks that archive/zip read
// each the same way.
func (z *zipLayout) readCentral(r io.ReaderAt, end *zipEnd, files []*zip.File) *Problem {
	if end.records != uint64(len(files)) {
		return zipProblem("", "the end of central directory record counts %d entries, archive/zip read %d", end.records, len(files))
	}
	br := bufio.NewReader(io.NewSectionReader(r, int64(end.cdOffset), int64(end.cdSize)))
	z.entries = make([]zipEntry, 0, len(files))
	var b [centralLen]byte
	var read uint64
	for i, f := range files {
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return zipProblem(f.Name, "central directory record %d runs past the end of the central directory", i+1)
		}
		if le.Uint32(b[0:]) != sigCentral {
			return zipProblem(f.Name, "central directory record %d has no signature", i+1)
		}
		nameLen, extraLen, commentLen := int(le.Uint16(b[28:])), int(le.Uint16(b[30:])), int(le.Uint16(b[32:]))
		raw := make([]byte, nameLen+extraLen+commentLen)
		if _, err := io.ReadFull(br, raw); err != nil {
			return zipProblem(f.Name, "central directory record %d runs past the end of the central directory", i+1)
		}
		read += uint64(centralLen + len(raw))
		name, extra, comment := raw[:nameLen], raw[nameLen:nameLen+extraLen], raw[nameLen+extraLen:]
		madeBy, needed, flags, method := le.Uint16(b[4:]), le.Uint16(b[6:]), le.Uint16(b[8:]), le.Uint16(b[10:])
		mtime, mdate, crc := le.Uint16(b[12:]), le.Uint16(b[14:]), le.Uint32(b[16:])
		csize32, usize32 := le.Uint32(b[20:]), le.Uint32(b[24:])
		disk, internal, external, offset32 := le.Uint16(b[34:]), le.Uint16(b[36:]), le.Uint32(b[38:]), le.Uint32(b[42:])
		if f.Name != string(name) || !bytes.Equal(f.Extra, extra) || f.Comment != string(comment) ||
			f.CreatorVersion != madeBy || f.ReaderVersion != needed || f.Flags != flags ||
			f.Method != method || f.ModifiedTime != mtime || f.ModifiedDate != mdate ||
			f.CRC32 != crc || f.CompressedSize != csize32 || f.UncompressedSize != usize32 ||
			f.ExternalAttrs != external {
			return zipProblem(f.Name, "archive/zip read central directory record %d differently", i+1)
		}
		e := zipEntry{f: f, crc: crc, csize: uint64(csize32), usize: uint64(usize32), offset: uint64(offset32)}
		if p := e.resolveZip64(extra, disk); p != nil {
			return p
		}
		if f.CompressedSize64 != e.csize || f.UncompressedSize64 != e.usize {
			return zipProblem(f.Name, "archive/zip read the sizes in its zip64 extra field differently")
		}
		if e.offset >= end.cdOffset {
			return zipProblem(f.Name, "its local header offset %d is not before the central directory", e.offset)
		}
		e.writerCD = madeBy == writerMadeBy && internal == 0 && disk == 0 && len(comment) == 0 &&
			external == wantAttrs(f.Name)
		e.writerFault = e.centralFault(madeBy, needed, flags, method, internal, disk, external, offset32, extra, comment)
		z.entries = append(z.entries, e)
	}
	if read != end.cdSize {
		return zipProblem("", "the central directory holds %d bytes after its last record", end.cdSize-read)
	}
	return nil
}

// wantAttrs returns the external attributes Writer gives the entry name.
func wantAttrs(name string) uint32 {
	if strings.HasSuffix(name, "/") {
		return writerDirAttrs
	}
	return writerFileAttrs
}

// extraField is one field of an extra block: a tag and its data.
type extraField struct {
	tag  uint16
	data []byte
}

// parseExtra splits an extra block into its fields, refusing a block that
// does not divide into fields exactly.
func parseExtra(extra []byte) ([]extraField, bool) {
	var fields []extraField
	for len(extra) > 0 {
		if len(extra) < 4 {
			return nil, false
		}
		n := int(le.Uint16(extra[2:]))
		if len(extra) < 4+n {
			return nil, false
		}
		fields = append(fields, extraField{le.Uint16(extra), extra[4 : 4+n]})
		extra = extra[4+n:]
	}
	return fields, true
}

// zip64Field returns the data of the one zip64 field of an extra block, or
// nil. ok is false if the block is malformed or has two zip64 fields.
func zip64Field(extra []byte) (data []byte, found, ok bool) {
	fields, ok := parseExtra(extra)
	if !ok {
		return nil, false, false
	}
	for _, f := range fields {
		if f.tag == extraZip64 {
			if found {
				return nil, true, false
			}
			data, found = f.data, true
		}
	}
	return data, found, true
}

// resolveZip64 takes the sizes, offset and disk that the central directory
// record defers to its zip64 extra field from that field. The field must
// hold exactly the deferred values (APPNOTE.TXT 4.5.3), or be
// archive/zip's form: both sizes and the offset, whatever was deferred,
// the offset then equal to the record's own.
func (e *zipEntry) resolveZip64(extra []byte, disk uint16) *Problem {
	name := e.f.Name
	data, found, ok := zip64Field(extra)
	if !ok {
		return zipProblem(name, "its central directory extra field is malformed")
	}
	e.zip64 = found
	needU, needC, needO, needD := e.usize == max32, e.csize == max32, e.offset == max32, disk == max16
	want := 0
	for _, need := range []bool{needU, needC, needO} {
		if need {
			want += 8
		}
	}
	if needD {
		want += 4
	}
	if !found {
		if want > 0 {
			return zipProblem(name, "its central directory record defers to a zip64 extra field it does not have")
		}
		return nil
	}
	goForm := len(data) == writerZip64-4 && needU && needC && !needO && !needD
	if len(data) != want && !goForm {
		return zipProblem(name, "its zip64 extra field is %d bytes long; the fields it stands in for need %d", len(data), want)
	}
	next := func() uint64 { v := le.Uint64(data); data = data[8:]; return v }
	if needU {
		e.usize = next()
	}
	if needC {
		e.csize = next()
	}
	if needO {
		e.offset = next()
	}
	if goForm && next() != e.offset {
		return zipProblem(name, "its zip64 extra field and its central directory record disagree on its offset")
	}
	if needD && le.Uint32(data) != 0 {
		return zipProblem(name, "its zip64 extra field names disk %d: a bag is one file", le.Uint32(data))
	}
	return nil
}

// goZip64 reports whether archive/zip would have written e's sizes as
// zip64: a data descriptor with 64-bit sizes, version 4.5 in the central
// directory.
func (e *zipEntry) goZip64() bool { return e.csize >= max32 || e.usize >= max32 }

// centralFault says how a central directory record differs from the one
// Writer would have written for the entry, or returns "".
func (e *zipEntry) centralFault(madeBy, needed, flags, method, internal, disk uint16, external, offset32 uint32, extra, comment []byte) string {
	name := e.f.Name
	isDir := strings.HasSuffix(name, "/")
	wantNeeded := uint16(writerVersion)
	if e.goZip64() {
		wantNeeded = writerVersion64
	}
	wantFlags := uint16(0)
	if utf8Required(name) {
		wantFlags |= flagUTF8
	}
	if !isDir {
		wantFlags |= flagDescriptor
	}
	cdZip64 := e.goZip64() || e.offset >= max32
	switch {
	case madeBy != writerMadeBy:
		return fmt.Sprintf("its version made by is %#04x, not %#04x", madeBy, writerMadeBy)
	case internal != 0:
		return fmt.Sprintf("its internal attributes are %#x, not 0", internal)
	case disk != 0:
		return fmt.Sprintf("its disk number is %d, not 0", disk)
	case len(comment) != 0:
		return "it has a file comment"
	case external != wantAttrs(name):
		return fmt.Sprintf("its external attributes are %#08x, not %#08x", external, wantAttrs(name))
	case needed != wantNeeded:
		return fmt.Sprintf("its version needed is %d, not %d", needed, wantNeeded)
	case flags != wantFlags:
		return fmt.Sprintf("its flags are %#04x, not %#04x", flags, wantFlags)
	case isDir && (method != zip.Store || e.csize != 0 || e.usize != 0 || e.crc != 0):
		return "it is a directory with data"
	case method != zip.Store && method != zip.Deflate:
		return fmt.Sprintf("its compression method is %d", method)
	case cdZip64 != e.zip64:
		return "its central directory record has a zip64 field where archive/zip writes none, or none where it writes one"
	case cdZip64 && (len(extra) < writerZip64 || !bytes.Equal(extra[len(extra)-writerZip64:], goZip64Field(e))):
		return "its zip64 extra field is not the last field of its extra block, or not archive/zip's"
	case offset32 != uint32(min(e.offset, max32)):
		return "its central directory record defers its offset to the zip64 field when it need not"
	}
	return ""
}

// goZip64Field returns the zip64 extra field archive/zip appends to the
// central directory record of e.
func goZip64Field(e *zipEntry) []byte {
	b := le.AppendUint16(nil, extraZip64)
	b = le.AppendUint16(b, writerZip64-4)
	b = le.AppendUint64(b, e.usize)
	b = le.AppendUint64(b, e.csize)
	return le.AppendUint64(b, e.offset)
}

// utf8Required reports whether archive/zip sets the UTF-8 flag for name:
// it is valid UTF-8 and not all of it is in the ASCII subset CP-437 and
// the common local code pages share (no control characters, "\", "~" or
// anything past it).
func utf8Required(name string) bool {
	require := false
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		i += size
		if r < 0x20 || r > 0x7d || r == 0x5c {
			if r == utf8.RuneError && size == 1 {
				return false
			}
			require = true
		}
	}
	return require
}

// checkLocals walks the entries in the order of their local headers, from
// offset 0 up to the central directory at cdOffset, and checks that each
// local header, its data and its data descriptor fill the space up to the
// next exactly, and that each local header agrees with its central
// directory record.
func (z *zipLayout) checkLocals(r io.ReaderAt, cdOffset uint64) *Problem {
	order := make([]int, len(z.entries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch oa, ob := z.entries[a].offset, z.entries[b].offset; {
		case oa < ob:
			return -1
		case oa > ob:
			return 1
		}
		return 0
	})
	if len(order) == 0 && cdOffset != 0 {
		return zipProblem("", "the ZIP starts with %d bytes that belong to no entry", cdOffset)
	}
	buf := make([]byte, 0, 1024)
	for k, i := range order {
		e := &z.entries[i]
		if k == 0 && e.offset != 0 {
			return zipProblem(e.f.Name, "the ZIP starts with %d bytes that belong to no entry", e.offset)
		}
		next := cdOffset
		if k+1 < len(order) {
			next = z.entries[order[k+1]].offset
			if next == e.offset {
				return zipProblem(z.entries[order[k+1]].f.Name, "shares its local header with %s", e.f.Name)
			}
		}
		if order[k] != k && z.writerFault == "" {
			z.writerFault = "its central directory lists the entries in another order than their local headers"
		}
		var p *Problem
		if buf, p = e.checkLocal(r, next, buf); p != nil {
			return p
		}
	}
	return nil
}

// checkLocal checks one entry's local header, data and data descriptor,
// which must end exactly at next, the offset of what follows. buf is
// scratch space, returned for reuse.
func (e *zipEntry) checkLocal(r io.ReaderAt, next uint64, buf []byte) ([]byte, *Problem) {
	f, name := e.f, e.f.Name
	room := next - e.offset
	if room < localLen {
		return buf, zipProblem(name, "its local header does not fit before the next record")
	}
	var b [localLen]byte
	if p := readAt(r, b[:], int64(e.offset), "local header of "+name); p != nil {
		return buf, p
	}
	if le.Uint32(b[0:]) != sigLocal {
		return buf, zipProblem(name, "no local header where its central directory record points (offset %d)", e.offset)
	}
	needed, flags, method := le.Uint16(b[4:]), le.Uint16(b[6:]), le.Uint16(b[8:])
	mtime, mdate, crc := le.Uint16(b[10:]), le.Uint16(b[12:]), le.Uint32(b[14:])
	csize32, usize32 := le.Uint32(b[18:]), le.Uint32(b[22:])
	nameLen, extraLen := uint64(le.Uint16(b[26:])), uint64(le.Uint16(b[28:]))
	if localLen+nameLen+extraLen > room {
		return buf, zipProblem(name, "its local header's name and extra field run into the next record")
	}
	buf = slices.Grow(buf[:0], int(nameLen+extraLen))[:nameLen+extraLen]
	if p := readAt(r, buf, int64(e.offset+localLen), "local header of "+name); p != nil {
		return buf, p
	}
	lname, lextra := buf[:nameLen], buf[nameLen:]
	dataStart := e.offset + localLen + nameLen + extraLen
	if off, err := f.DataOffset(); err != nil || uint64(off) != dataStart {
		return buf, zipProblem(name, "archive/zip finds its data elsewhere")
	}

	// The local header must repeat the central directory record.
	switch {
	case string(lname) != name:
		return buf, zipProblem(name, "its local header names it %q", clip(lname))
	case flags != f.Flags:
		return buf, zipProblem(name, "its local header's flags %#04x differ from its central directory record's %#04x", flags, f.Flags)
	case method != f.Method:
		return buf, zipProblem(name, "its local header's compression method %d differs from its central directory record's %d", method, f.Method)
	case mtime != f.ModifiedTime || mdate != f.ModifiedDate:
		return buf, zipProblem(name, "its local header's modification time differs from its central directory record's")
	}
	lz64, lfound, ok := zip64Field(lextra)
	if !ok {
		return buf, zipProblem(name, "its local header's extra field is malformed")
	}
	if needed != f.ReaderVersion && !(lfound || e.zip64) {
		return buf, zipProblem(name, "its local header's version needed %d differs from its central directory record's %d", needed, f.ReaderVersion)
	}
	if msg := compareExtra(lextra, f.Extra); msg != "" {
		return buf, zipProblem(name, "%s", msg)
	}

	// Sizes and CRC-32: in the local header, or zero there and in a data
	// descriptor after the data. Some writers put what they know in the
	// local header anyway (Info-ZIP its uncompressed size), so with a data
	// descriptor each field is either zero or right.
	lu, lc := uint64(usize32), uint64(csize32)
	if lfound {
		if len(lz64) != 16 {
			return buf, zipProblem(name, "its local zip64 extra field is %d bytes long, not 16", len(lz64))
		}
		if usize32 != max32 || csize32 != max32 {
			return buf, zipProblem(name, "its local header has a zip64 extra field but does not defer its sizes to it")
		}
		lu, lc = le.Uint64(lz64), le.Uint64(lz64[8:])
	}
	hasDD := flags&flagDescriptor != 0
	if hasDD {
		if (crc != 0 && crc != e.crc) || (lc != 0 && lc != e.csize) || (lu != 0 && lu != e.usize) {
			return buf, zipProblem(name, "its local header's CRC-32 or sizes differ from its central directory record's")
		}
	} else if crc != e.crc || lc != e.csize || lu != e.usize {
		return buf, zipProblem(name, "its local header's CRC-32 or sizes differ from its central directory record's")
	}
	if method == zip.Store && e.csize != e.usize {
		return buf, zipProblem(name, "it is stored, yet its compressed size %d differs from its size %d", e.csize, e.usize)
	}

	// The data, then the data descriptor if there is one, then next.
	if e.csize > next-dataStart {
		return buf, zipProblem(name, "its data runs into the next record")
	}
	gap := next - dataStart - e.csize
	if !hasDD {
		if gap != 0 {
			return buf, zipProblem(name, "%d bytes after its data belong to no entry", gap)
		}
	} else if p := e.checkDescriptor(r, dataStart+e.csize, gap); p != nil {
		return buf, p
	}

	// What Writer would have written in the local header.
	if e.writerFault == "" {
		switch {
		case needed != writerVersion:
			e.writerFault = fmt.Sprintf("its local header's version needed is %d, not %d", needed, writerVersion)
		case crc != 0 || csize32 != 0 || usize32 != 0:
			e.writerFault = "its local header has a CRC-32 or sizes; archive/zip leaves them to the data descriptor"
		case len(lextra) != writerTimeExtra || le.Uint16(lextra) != extraTime || le.Uint16(lextra[2:]) != writerTimeExtra-4 || lextra[4] != 1:
			e.writerFault = "its local extra field is not archive/zip's one extended timestamp"
		case !e.zip64 && !bytes.Equal(lextra, f.Extra):
			e.writerFault = "its local and central extra fields differ"
		case e.zip64 && !bytes.Equal(slices.Concat(lextra, goZip64Field(e)), f.Extra):
			e.writerFault = "its central extra field is not its local one and archive/zip's zip64 field"
		case hasDD && gap != descriptorLen(true, e.goZip64()):
			e.writerFault = fmt.Sprintf("its data descriptor is %d bytes long, not %d", gap, descriptorLen(true, e.goZip64()))
		}
	}
	return buf, nil
}

// clip returns b, cut to 64 bytes and marked so if longer, for a message.
func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// descriptorLen returns the length of a data descriptor, with or without
// its (optional) signature, with 64- or 32-bit sizes.
func descriptorLen(sig, wide bool) uint64 {
	n := uint64(4 + 4 + 4) // CRC-32, two 32-bit sizes
	if sig {
		n += 4
	}
	if wide {
		n += 8
	}
	return n
}

// checkDescriptor checks the n bytes at off that follow an entry's data:
// they must be one data descriptor, whose form n tells, holding the CRC-32
// and sizes of the central directory record.
func (e *zipEntry) checkDescriptor(r io.ReaderAt, off, n uint64) *Problem {
	name := e.f.Name
	var sig, wide bool
	switch n {
	case descriptorLen(false, false):
	case descriptorLen(true, false):
		sig = true
	case descriptorLen(false, true):
		wide = true
	case descriptorLen(true, true):
		sig, wide = true, true
	default:
		return zipProblem(name, "the %d bytes after its data are not a data descriptor", n)
	}
	var b [24]byte
	d := b[:n]
	if p := readAt(r, d, int64(off), "data descriptor of "+name); p != nil {
		return p
	}
	if sig {
		if le.Uint32(d) != sigDescriptor {
			return zipProblem(name, "its data descriptor has a wrong signature")
		}
		d = d[4:]
	}
	crc := le.Uint32(d)
	var c, u uint64
	if wide {
		c, u = le.Uint64(d[4:]), le.Uint64(d[12:])
	} else {
		c, u = uint64(le.Uint32(d[4:])), uint64(le.Uint32(d[8:]))
	}
	if crc != e.crc || c != e.csize || u != e.usize {
		return zipProblem(name, "its data descriptor's CRC-32 or sizes differ from its central directory record's")
	}
	return nil
}

// compareExtra says how a local extra block and the central one differ
// beyond what writers are known to differ in, or returns "". Most writers
// (archive/zip among them) write the same fields to both; APPNOTE.TXT
// lets two differ: the zip64 field (checked against the sizes elsewhere)
// and the extended timestamp, whose central copy holds only the
// modification time of the local one.
func compareExtra(local, central []byte) string {
	if bytes.Equal(local, central) {
		return ""
	}
	lf, ok1 := parseExtra(local)
	cf, ok2 := parseExtra(central)
	if !ok1 || !ok2 {
		return "its local and central extra fields differ"
	}
	drop := func(fs []extraField) []extraField {
		return slices.DeleteFunc(fs, func(f extraField) bool { return f.tag == extraZip64 })
	}
	lf, cf = drop(lf), drop(cf)
	if len(lf) != len(cf) {
		return "its local and central extra fields differ"
	}
	for i := range lf {
		l, c := lf[i], cf[i]
		switch {
		case l.tag != c.tag:
			return "its local and central extra fields differ"
		case bytes.Equal(l.data, c.data):
		case l.tag == extraTime && len(c.data) > 0 && bytes.HasPrefix(l.data, c.data):
		default:
			return fmt.Sprintf("its local and central extra field %#04x differ", l.tag)
		}
	}
	return ""
}
