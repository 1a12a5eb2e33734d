package bagit_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/records/bagit"
)

// tamperCase changes one thing in a good bag; Verify must then report
// kind at path.
type tamperCase struct {
	why  string
	edit func(t *testing.T, es []entry, dir string) []entry
	kind string
	path string
}

var tamperCases = []tamperCase{
	{"payload byte flipped", func(t *testing.T, es []entry, dir string) []entry {
		find(t, es, dir+"data/posts/1.json").data[3] ^= 0x20
		return es
	}, bagit.KindChecksum, "data/posts/1.json"},
	{"payload file emptied", func(t *testing.T, es []entry, dir string) []entry {
		find(t, es, dir+"data/media/ab.jpg").data = nil
		return es
	}, bagit.KindChecksum, "data/media/ab.jpg"},
	{"bag-info.txt byte flipped", func(t *testing.T, es []entry, dir string) []entry {
		find(t, es, dir+"bag-info.txt").data[25] ^= 0x01
		return es
	}, bagit.KindTagManifest, "bag-info.txt"},
	{"manifest digit edited", func(t *testing.T, es []entry, dir string) []entry {
		editDigit(t, find(t, es, dir+"manifest-sha256.txt"), "data/media/ab.jpg")
		return es
	}, bagit.KindTagManifest, "manifest-sha256.txt"},
	{"manifest digit edited, tag manifest redone", func(t *testing.T, es []entry, dir string) []entry {
		editDigit(t, find(t, es, dir+"manifest-sha256.txt"), "data/media/ab.jpg")
		return retag(t, es, dir)
	}, bagit.KindChecksum, "data/media/ab.jpg"},
	{"payload file removed", func(t *testing.T, es []entry, dir string) []entry {
		return drop(es, dir+"data/items.csv")
	}, bagit.KindMissing, "data/items.csv"},
	{"payload file added", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: dir + "data/posts/2.json", data: []byte("{}")})
	}, bagit.KindExtra, "data/posts/2.json"},
	{"Payload-Oxum changed", func(t *testing.T, es []entry, dir string) []entry {
		replaceIn(t, find(t, es, dir+"bag-info.txt"), "Payload-Oxum: ", "Payload-Oxum: 1")
		return retag(t, es, dir)
	}, bagit.KindOxum, "bag-info.txt"},
	{"Payload-Oxum repeated", func(t *testing.T, es []entry, dir string) []entry {
		e := find(t, es, dir+"bag-info.txt")
		e.data = append(e.data, "Payload-Oxum: 1.1\n"...)
		return retag(t, es, dir)
	}, bagit.KindOxum, "bag-info.txt"},
	{"Payload-Oxum malformed", func(t *testing.T, es []entry, dir string) []entry {
		replaceIn(t, find(t, es, dir+"bag-info.txt"), "Payload-Oxum: ", "Payload-Oxum: x")
		return retag(t, es, dir)
	}, bagit.KindOxum, "bag-info.txt"},
	{"bag-info.txt malformed", func(t *testing.T, es []entry, dir string) []entry {
		e := find(t, es, dir+"bag-info.txt")
		e.data = append(e.data, "no colon here\n"...)
		return retag(t, es, dir)
	}, bagit.KindStructure, "bag-info.txt"},
	{"entry with ../ in its name", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: dir + "data/../../evil.txt", data: []byte("x")})
	}, bagit.KindStructure, "export-2026-0001/data/../../evil.txt"},
	{"entry named ../", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: "../evil.txt", data: []byte("x")})
	}, bagit.KindStructure, "../evil.txt"},
	{"absolute entry", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: "/etc/evil", data: []byte("x")})
	}, bagit.KindStructure, "/etc/evil"},
	{"entry with a backslash", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: dir + `data\..\..\evil.txt`, data: []byte("x")})
	}, bagit.KindStructure, dir() + `data\..\..\evil.txt`},
	{"symbolic link", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: dir + "data/link", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777})
	}, bagit.KindStructure, dir() + "data/link"},
	{"second top-level directory", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: "other/bagit.txt", data: []byte("x")})
	}, bagit.KindStructure, "other/bagit.txt"},
	{"file at the top of the ZIP", func(t *testing.T, es []entry, dir string) []entry {
		return append([]entry{{name: "README.txt", data: []byte("x")}}, es...)
	}, bagit.KindStructure, "README.txt"},
	{"entry twice", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, *find(t, es, dir+"data/items.csv"))
	}, bagit.KindStructure, dir() + "data/items.csv"},
	{"file that is also a directory", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: dir + "data/items.csv/x", data: []byte("x")})
	}, bagit.KindStructure, dir() + "data/items.csv"},
	{"bagit.txt missing", func(t *testing.T, es []entry, dir string) []entry {
		return drop(es, dir+"bagit.txt")
	}, bagit.KindStructure, "bagit.txt"},
	{"bagit.txt older version", func(t *testing.T, es []entry, dir string) []entry {
		replaceIn(t, find(t, es, dir+"bagit.txt"), "1.0", "0.97")
		return es
	}, bagit.KindStructure, "bagit.txt"},
	{"bagit.txt with a third line", func(t *testing.T, es []entry, dir string) []entry {
		e := find(t, es, dir+"bagit.txt")
		e.data = append(e.data, "Extra: yes\n"...)
		return es
	}, bagit.KindStructure, "bagit.txt"},
	{"manifest missing", func(t *testing.T, es []entry, dir string) []entry {
		return drop(drop(es, dir+"manifest-sha256.txt"), dir+"tagmanifest-sha256.txt")
	}, bagit.KindStructure, "manifest-sha256.txt"},
	{"no data directory", func(t *testing.T, es []entry, dir string) []entry {
		var out []entry
		for _, e := range es {
			if !strings.HasPrefix(e.name, dir+"data/") {
				out = append(out, e)
			}
		}
		return out
	}, bagit.KindStructure, "data"},
	{"manifest of an unknown algorithm", func(t *testing.T, es []entry, dir string) []entry {
		return append(es, entry{name: dir + "manifest-crc7.txt", data: []byte("00  data/items.csv\n")})
	}, bagit.KindStructure, "manifest-crc7.txt"},
	{"manifest line outside data/", func(t *testing.T, es []entry, dir string) []entry {
		appendLine(find(t, es, dir+"manifest-sha256.txt"), "bag-info.txt")
		return retag(t, es, dir)
	}, bagit.KindManifest, "manifest-sha256.txt"},
	{"manifest line escaping the bag", func(t *testing.T, es []entry, dir string) []entry {
		appendLine(find(t, es, dir+"manifest-sha256.txt"), "data/../../../etc/passwd")
		return retag(t, es, dir)
	}, bagit.KindManifest, "manifest-sha256.txt"},
	{"manifest line absolute", func(t *testing.T, es []entry, dir string) []entry {
		appendLine(find(t, es, dir+"manifest-sha256.txt"), "/etc/passwd")
		return retag(t, es, dir)
	}, bagit.KindManifest, "manifest-sha256.txt"},
	{"manifest line naming a directory", func(t *testing.T, es []entry, dir string) []entry {
		appendLine(find(t, es, dir+"manifest-sha256.txt"), "data/posts")
		return retag(t, es, dir)
	}, bagit.KindManifest, "manifest-sha256.txt"},
	{"manifest line repeated", func(t *testing.T, es []entry, dir string) []entry {
		appendLine(find(t, es, dir+"manifest-sha256.txt"), "data/items.csv")
		return retag(t, es, dir)
	}, bagit.KindManifest, "manifest-sha256.txt"},
	{"manifest line malformed", func(t *testing.T, es []entry, dir string) []entry {
		e := find(t, es, dir+"manifest-sha256.txt")
		e.data = append([]byte("abc data/items.csv\n"), e.data...)
		return retag(t, es, dir)
	}, bagit.KindManifest, "manifest-sha256.txt"},
	{"tag manifest lists a payload file", func(t *testing.T, es []entry, dir string) []entry {
		appendLine(find(t, es, dir+"tagmanifest-sha256.txt"), "data/items.csv")
		return es
	}, bagit.KindTagManifest, "tagmanifest-sha256.txt"},
	{"tag manifest lists a missing tag file", func(t *testing.T, es []entry, dir string) []entry {
		appendLine(find(t, es, dir+"tagmanifest-sha256.txt"), "gone.txt")
		return es
	}, bagit.KindTagManifest, "gone.txt"},
	{"tag manifest omits the manifest", func(t *testing.T, es []entry, dir string) []entry {
		e := find(t, es, dir+"tagmanifest-sha256.txt")
		var kept []string
		for line := range strings.Lines(string(e.data)) {
			if !strings.HasSuffix(line, "  manifest-sha256.txt\n") {
				kept = append(kept, line)
			}
		}
		e.data = []byte(strings.Join(kept, ""))
		return es
	}, bagit.KindTagManifest, "manifest-sha256.txt"},
}

// TestVerifyTampered changes one thing in a good bag and checks that Verify
// names it, with the right kind and path.
func TestVerifyTampered(t *testing.T) {
	good := mustBag(t, sampleOptions(), sampleFiles)
	for _, tt := range tamperCases {
		t.Run(tt.why, func(t *testing.T) {
			zb := tamper(t, good, func(es []entry, dir string) []entry { return tt.edit(t, es, dir) })
			p := wantProblem(t, zb, tt.kind, tt.path)
			t.Log(p)
			if !strings.HasPrefix(p.Error(), "bagit: ") || p.Msg == "" {
				t.Errorf("Error() = %q", p.Error())
			}
		})
	}
}

// dir is the sample bag's directory prefix in the ZIP.
func dir() string { return sampleOptions().Dir + "/" }

// editDigit changes one hex digit of the manifest line for path.
func editDigit(t *testing.T, e *entry, path string) {
	t.Helper()
	i := bytes.Index(e.data, []byte("  "+path+"\n"))
	if i < 64 {
		t.Fatalf("no manifest line for %s", path)
	}
	d := &e.data[i-64]
	if *d == '0' {
		*d = '1'
	} else {
		*d = '0'
	}
}

// replaceIn replaces old, which must occur, in e's data.
func replaceIn(t *testing.T, e *entry, old, new string) {
	t.Helper()
	if !bytes.Contains(e.data, []byte(old)) {
		t.Fatalf("%s does not hold %q", e.name, old)
	}
	e.data = bytes.Replace(e.data, []byte(old), []byte(new), 1)
}

// appendLine adds a manifest line for path with the checksum of nothing.
func appendLine(e *entry, path string) {
	sum := sha256.Sum256(nil)
	e.data = append(e.data, hex.EncodeToString(sum[:])+"  "+path+"\n"...)
}

// TestVerifyAllowsUnlistedTagFiles: RFC 8493 §2.2.4 allows tag files that
// no tag manifest lists; only unlisted files under data/ are extra.
func TestVerifyAllowsUnlistedTagFiles(t *testing.T) {
	good := mustBag(t, sampleOptions(), sampleFiles)
	zb := tamper(t, good, func(es []entry, dir string) []entry {
		return append(es,
			entry{name: dir + "notes.txt", data: []byte("added later")},
			entry{name: dir + "extra-tags/more.xml", data: []byte("<x/>")},
			entry{name: dir + "data/sub/", mode: fs.ModeDir | 0o755})
	})
	mustVerify(t, zb)
}

func TestVerifyNotABag(t *testing.T) {
	good := mustBag(t, sampleOptions(), sampleFiles)
	tests := []struct {
		why  string
		data []byte
	}{
		{"empty", nil},
		{"not a ZIP", []byte("%PDF-1.7 this is not a zip file at all")},
		{"truncated", good[:len(good)-100]},
		{"cut in half", good[:len(good)/2]},
		{"empty ZIP", writeEntries(t, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			wantProblem(t, tt.data, bagit.KindStructure, "")
		})
	}
}

// TestVerifyCorruptData flips a byte of a stored file inside the ZIP
// without fixing its CRC-32, as disk rot would.
func TestVerifyCorruptData(t *testing.T) {
	good := mustBag(t, sampleOptions(), sampleFiles)
	bad := bytes.Clone(good)
	i := bytes.Index(bad, []byte("not really a JPEG"))
	if i < 0 {
		t.Fatal("stored JPEG bytes not found in the ZIP")
	}
	bad[i] ^= 1
	wantProblem(t, bad, bagit.KindChecksum, "data/media/ab.jpg")
}

// TestVerifyOverlappingEntries builds a ZIP whose two central directory
// records share one local file: the trick of non-recursive zip bombs. The
// container check refuses it before any entry is read.
func TestVerifyOverlappingEntries(t *testing.T) {
	data := []byte("the same bytes, twice")
	var buf bytes.Buffer
	names := []string{"b/bagit.txt", "b/data/one.txt", "b/data/two.txt"}
	offsets := []uint32{}
	for _, n := range names[:2] {
		offsets = append(offsets, uint32(buf.Len()))
		writeLocal(&buf, n, data)
	}
	offsets = append(offsets, offsets[1]) // two.txt points at one.txt's data
	cd := buf.Len()
	for i, n := range names {
		writeCentral(&buf, n, data, offsets[i])
	}
	writeEnd(&buf, len(names), buf.Len()-cd, cd)
	wantProblem(t, buf.Bytes(), bagit.KindZip, "b/data/two.txt")
}

// TestVerifyInflatesPastItsSize: an entry whose deflated data is larger
// than its recorded size is cut off, not read to the end.
func TestVerifyInflatesPastItsSize(t *testing.T) {
	good := mustBag(t, sampleOptions(), sampleFiles)
	es := readEntries(t, good)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		if e.name != dir()+"data/items.csv" {
			w, err := zw.Create(e.name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(e.data)
			continue
		}
		var z bytes.Buffer
		fw, _ := flate.NewWriter(&z, flate.BestCompression)
		fw.Write(append(bytes.Clone(e.data), make([]byte, 1<<20)...))
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate,
			CRC32: crc32.ChecksumIEEE(e.data), CompressedSize64: uint64(z.Len()),
			UncompressedSize64: uint64(len(e.data))})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(z.Bytes())
	}
	zw.Close()
	wantProblem(t, buf.Bytes(), bagit.KindChecksum, "data/items.csv")
}

// TestVerifyForeignBag accepts a bag as other tools write them: CRLF line
// ends, upper-case hex, a tab separator, an unencoded "%", explicit
// directory entries, a SHA-512 manifest too and no tag manifest.
func TestVerifyForeignBag(t *testing.T) {
	files := map[string]string{"data/a.txt": "alpha", "data/sub/50% off.txt": "beta"}
	var m256, m512 strings.Builder
	for _, p := range []string{"data/a.txt", "data/sub/50% off.txt"} {
		s := sha256.Sum256([]byte(files[p]))
		m256.WriteString(strings.ToUpper(hex.EncodeToString(s[:])) + "\t" + p + "\r\n")
		s5 := sha512.Sum512([]byte(files[p]))
		m512.WriteString(hex.EncodeToString(s5[:]) + " " + p + "\r\n")
	}
	es := []entry{
		{name: "foreign/", mode: fs.ModeDir | 0o755},
		{name: "foreign/bagit.txt", data: []byte("BagIt-Version: 1.0\r\nTag-File-Character-Encoding: utf-8\r\n")},
		{name: "foreign/bag-info.txt", data: []byte("Payload-Oxum: 9.2\r\nExternal-Description: two\r\n\tlines\r\n")},
		{name: "foreign/manifest-sha256.txt", data: []byte(m256.String())},
		{name: "foreign/manifest-sha512.txt", data: []byte(m512.String())},
		{name: "foreign/data/", mode: fs.ModeDir | 0o755},
		{name: "foreign/data/sub/", mode: fs.ModeDir | 0o755},
		{name: "foreign/data/a.txt", data: []byte(files["data/a.txt"])},
		{name: "foreign/data/sub/50% off.txt", data: []byte(files["data/sub/50% off.txt"])},
	}
	rep := mustVerify(t, writeEntries(t, es))
	if rep.Dir != "foreign" || rep.Files != 2 || rep.Bytes != 9 {
		t.Errorf("Report = %+v", rep)
	}
	if got := rep.Info[1].Value; got != "two\nlines" {
		t.Errorf("folded value = %q, want %q", got, "two\nlines")
	}
	// A wrong SHA-512 is caught even though SHA-256 agrees.
	es[4].data[0] ^= 1
	if es[4].data[0] > 'f' || es[4].data[0] < '0' {
		es[4].data[0] = '0'
	}
	p := wantProblem(t, writeEntries(t, es), bagit.KindChecksum, "data/a.txt")
	if !strings.Contains(p.Msg, "manifest-sha512.txt") {
		t.Errorf("Msg = %q, want it to name manifest-sha512.txt", p.Msg)
	}
	// So is a file that only one manifest lists.
	es[4].data = []byte(strings.SplitAfter(m512.String(), "\n")[0])
	wantProblem(t, writeEntries(t, es), bagit.KindExtra, "data/sub/50% off.txt")
}

func TestProblemError(t *testing.T) {
	p := &bagit.Problem{Path: "data/media/ab.jpg", Kind: bagit.KindChecksum,
		Msg: "checksum mismatch: manifest says 1f2e, file hashes 9a8b"}
	want := "bagit: data/media/ab.jpg: checksum mismatch: manifest says 1f2e, file hashes 9a8b"
	if p.Error() != want {
		t.Errorf("Error() = %q, want %q", p.Error(), want)
	}
	if got := (&bagit.Problem{Kind: bagit.KindStructure, Msg: "not a ZIP"}).Error(); got != "bagit: not a ZIP" {
		t.Errorf("Error() = %q", got)
	}
	good := mustBag(t, sampleOptions(), sampleFiles)
	zb := tamper(t, good, func(es []entry, dir string) []entry {
		find(t, es, dir+"data/media/ab.jpg").data[0] ^= 1
		return es
	})
	p = wantProblem(t, zb, bagit.KindChecksum, "data/media/ab.jpg")
	if !strings.HasPrefix(p.Error(), "bagit: data/media/ab.jpg: checksum mismatch: manifest says ") ||
		!strings.Contains(p.Error(), ", file hashes ") {
		t.Errorf("Error() = %q", p.Error())
	}
}

func TestVerifyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bundle.zip")
	if err := os.WriteFile(path, mustBag(t, sampleOptions(), sampleFiles), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := bagit.VerifyFile(path)
	if err != nil || rep.Files != len(sampleFiles) {
		t.Fatalf("VerifyFile = %+v, %v", rep, err)
	}
	_, err = bagit.VerifyFile(filepath.Join(t.TempDir(), "absent.zip"))
	var p *bagit.Problem
	if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &p) || !strings.HasPrefix(err.Error(), "bagit: ") {
		t.Errorf("VerifyFile(absent) = %v, want a bagit: wrapped fs.ErrNotExist", err)
	}
}

// failingReaderAt fails every read.
type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errBroken }

func TestVerifyReadError(t *testing.T) {
	_, err := bagit.Verify(failingReaderAt{}, 1000)
	var p *bagit.Problem
	if !errors.Is(err, errBroken) || errors.As(err, &p) {
		t.Errorf("Verify = %v, want the read error, not a Problem", err)
	}
}

// writeLocal, writeCentral and writeEnd write a stored ZIP by hand, for
// ZIPs archive/zip will not write.
func writeLocal(buf *bytes.Buffer, name string, data []byte) {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0x04034b50)
	b = le.AppendUint16(b, 20) // version needed
	b = le.AppendUint16(b, 0)  // flags
	b = le.AppendUint16(b, 0)  // stored
	b = le.AppendUint32(b, 0)  // time, date
	b = le.AppendUint32(b, crc32.ChecksumIEEE(data))
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint16(b, uint16(len(name)))
	b = le.AppendUint16(b, 0)
	buf.Write(b)
	buf.WriteString(name)
	buf.Write(data)
}

func writeCentral(buf *bytes.Buffer, name string, data []byte, offset uint32) {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0x02014b50)
	b = le.AppendUint16(b, 20) // version made by
	b = le.AppendUint16(b, 20) // version needed
	b = le.AppendUint16(b, 0)  // flags
	b = le.AppendUint16(b, 0)  // stored
	b = le.AppendUint32(b, 0)  // time, date
	b = le.AppendUint32(b, crc32.ChecksumIEEE(data))
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint16(b, uint16(len(name)))
	b = le.AppendUint16(b, 0) // extra
	b = le.AppendUint16(b, 0) // comment
	b = le.AppendUint16(b, 0) // disk
	b = le.AppendUint16(b, 0) // internal attributes
	b = le.AppendUint32(b, 0) // external attributes
	b = le.AppendUint32(b, offset)
	buf.Write(b)
	buf.WriteString(name)
}

func writeEnd(buf *bytes.Buffer, n, size, offset int) {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0x06054b50)
	b = le.AppendUint32(b, 0) // disks
	b = le.AppendUint16(b, uint16(n))
	b = le.AppendUint16(b, uint16(n))
	b = le.AppendUint32(b, uint32(size))
	b = le.AppendUint32(b, uint32(offset))
	b = le.AppendUint16(b, 0) // comment
	buf.Write(b)
}
