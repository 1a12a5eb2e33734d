package bagit_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/records/bagit"
)

// flipFiles are the payload of the bag whose every byte
// TestVerifyEveryByteChanged changes: the usual sample (stored and
// deflated files, an empty one, non-ASCII names), random bytes, which
// compress/flate cannot compress and so writes as stored blocks inside the
// DEFLATE stream, with padding bits before them, and text with repeats,
// which it writes with dynamic Huffman codes and back-references.
func flipFiles() []file {
	rnd := rand.New(rand.NewPCG(2026, 3))
	random := make([]byte, 300)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	var text strings.Builder
	for i := range 12 {
		fmt.Fprintf(&text, `{"id":%d,"text":"Council meeting moved to Tuesday","likes":%d}`+"\n", i, i*7)
	}
	return append(slices.Clone(sampleFiles), file{"random.bin", string(random)}, file{"posts.jsonl", text.String()})
}

// TestVerifyEveryByteChanged changes each byte of a bag Writer wrote, in
// turn, in two ways (its lowest bit, its highest bit), and checks that
// Verify refuses every one of the changed ZIPs. This is what `civicarchive
// verify` promises: any change to any byte of a bundle is caught.
func TestVerifyEveryByteChanged(t *testing.T) {
	zb := mustBag(t, sampleOptions(), flipFiles())
	mustVerify(t, zb)
	methods := map[uint16]int{}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		methods[f.Method]++
	}
	if methods[zip.Store] < 2 || methods[zip.Deflate] < 2 {
		t.Fatalf("the bag should hold stored and deflated entries: %v", methods)
	}

	var missed []string
	kinds := map[string]int{}
	for off := range zb {
		for _, mask := range []byte{0x01, 0x80} {
			zb[off] ^= mask
			_, err := bagit.Verify(bytes.NewReader(zb), int64(len(zb)))
			zb[off] ^= mask
			var p *bagit.Problem
			if !errors.As(err, &p) {
				missed = append(missed, fmt.Sprintf("byte %d ^ %#02x: Verify = %v", off, mask, err))
				continue
			}
			kinds[p.Kind]++
		}
	}
	if len(missed) > 0 {
		t.Fatalf("%d of %d changes went unseen:\n%s", len(missed), 2*len(zb), strings.Join(missed, "\n"))
	}
	t.Logf("all %d changes to the %d bytes refused; kinds: %v", 2*len(zb), len(zb), kinds)
}

// endOffset returns the offset of zb's end of central directory record.
func endOffset(zb []byte) int { return len(zb) - 22 }

// TestVerifyZipContainer changes the container of a good bag in ways that
// leave every entry readable, and checks the container check refuses them.
func TestVerifyZipContainer(t *testing.T) {
	good := mustBag(t, sampleOptions(), sampleFiles)
	le := binary.LittleEndian
	tests := []struct {
		why  string
		edit func(zb []byte) []byte
		path string
	}{
		{"a byte appended", func(zb []byte) []byte { return append(zb, 0) }, ""},
		{"bytes prepended", func(zb []byte) []byte { return append([]byte("MZ\x90\x00"), zb...) }, ""},
		{"a comment", func(zb []byte) []byte {
			le.PutUint16(zb[endOffset(zb)+20:], 7)
			return append(zb, "comment"...)
		}, ""},
		{"another modification time in a local header", func(zb []byte) []byte {
			zb[10] ^= 0x02 // the first entry's, bagit.txt's
			return zb
		}, dir() + "bagit.txt"},
		{"another extended timestamp in a local header", func(zb []byte) []byte {
			n := int(le.Uint16(zb[26:]))
			zb[30+n+5] ^= 0x01 // the mtime's lowest byte
			return zb
		}, dir() + "bagit.txt"},
		{"another data descriptor signature", func(zb []byte) []byte {
			i := bytes.Index(zb, []byte("PK\x07\x08"))
			zb[i+3] = 0
			return zb
		}, dir() + "bagit.txt"},
		{"another external attribute", func(zb []byte) []byte {
			cd := int(le.Uint32(zb[endOffset(zb)+16:]))
			zb[cd+38+2] ^= 0x01 // bagit.txt: mode 0645
			return zb
		}, dir() + "bagit.txt"},
		{"another version made by", func(zb []byte) []byte {
			cd := int(le.Uint32(zb[endOffset(zb)+16:]))
			zb[cd+5] = 0 // bagit.txt made by MS-DOS
			return zb
		}, dir() + "bagit.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			p := wantProblem(t, tt.edit(bytes.Clone(good)), bagit.KindZip, tt.path)
			t.Log(p)
		})
	}
}

// TestVerifyRezippedBag: a bag civicarchive wrote, re-zipped by a tool that
// writes its own version made by and attributes, is held to the container
// rules every ZIP must meet, not to Writer's own fields, as long as no
// entry has those; one that does makes every entry owe them.
func TestVerifyRezippedBag(t *testing.T) {
	good := mustBag(t, sampleOptions(), sampleFiles)
	rezip := func(writerLike string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, e := range readEntries(t, good) {
			fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
			if e.name == writerLike {
				fh.Modified = testTime
				fh.SetMode(e.mode)
			}
			w, err := zw.CreateHeader(fh)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(e.data)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	mustVerify(t, rezip(""))
	p := wantProblem(t, rezip(dir()+"data/"), bagit.KindZip, dir()+"bagit.txt")
	if !strings.Contains(p.Msg, "version made by") {
		t.Errorf("Msg = %q", p.Msg)
	}
}

// handEntry is one stored entry of a ZIP written by hand, with a data
// descriptor of length dd (12, 16, 20 or 24 bytes: without or with its
// signature, with 32- or 64-bit sizes) or none (0), and gap zero bytes
// after it that belong to no entry.
type handEntry struct {
	name string
	data []byte
	dd   int
	gap  int
}

// handBag returns the entries of a minimal valid bag, "b", each with a
// data descriptor of length dd.
func handBag(dd int) []handEntry {
	decl := "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
	data := "alpha\n"
	sum := sha256.Sum256([]byte(data))
	return []handEntry{
		{name: "b/bagit.txt", data: []byte(decl), dd: dd},
		{name: "b/data/a.txt", data: []byte(data), dd: dd},
		{name: "b/manifest-sha256.txt", data: []byte(hex.EncodeToString(sum[:]) + "  data/a.txt\n"), dd: dd},
	}
}

// handZip writes entries as a ZIP, with zip64 end records if zip64.
func handZip(es []handEntry, zip64 bool) []byte {
	le := binary.LittleEndian
	var buf bytes.Buffer
	var offsets []int
	flags := func(e handEntry) uint16 {
		if e.dd != 0 {
			return 0x8
		}
		return 0
	}
	for _, e := range es {
		offsets = append(offsets, buf.Len())
		crc, size := crc32.ChecksumIEEE(e.data), uint32(len(e.data))
		b := le.AppendUint32(nil, 0x04034b50)
		b = le.AppendUint16(b, 20)
		b = le.AppendUint16(b, flags(e))
		b = le.AppendUint16(b, 0) // stored
		b = le.AppendUint32(b, 0) // time, date
		if e.dd != 0 {
			b = le.AppendUint32(b, 0)
			b = le.AppendUint64(b, 0)
		} else {
			b = le.AppendUint32(b, crc)
			b = le.AppendUint32(b, size)
			b = le.AppendUint32(b, size)
		}
		b = le.AppendUint16(b, uint16(len(e.name)))
		b = le.AppendUint16(b, 0)
		b = append(b, e.name...)
		b = append(b, e.data...)
		if e.dd == 16 || e.dd == 24 {
			b = le.AppendUint32(b, 0x08074b50)
		}
		switch e.dd {
		case 12, 16:
			b = le.AppendUint32(b, crc)
			b = le.AppendUint32(b, size)
			b = le.AppendUint32(b, size)
		case 20, 24:
			b = le.AppendUint32(b, crc)
			b = le.AppendUint64(b, uint64(size))
			b = le.AppendUint64(b, uint64(size))
		}
		b = append(b, make([]byte, e.gap)...)
		buf.Write(b)
	}
	cd := buf.Len()
	for i, e := range es {
		b := le.AppendUint32(nil, 0x02014b50)
		b = le.AppendUint16(b, 20)
		b = le.AppendUint16(b, 20)
		b = le.AppendUint16(b, flags(e))
		b = le.AppendUint16(b, 0)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, crc32.ChecksumIEEE(e.data))
		b = le.AppendUint32(b, uint32(len(e.data)))
		b = le.AppendUint32(b, uint32(len(e.data)))
		b = le.AppendUint16(b, uint16(len(e.name)))
		b = le.AppendUint16(b, 0) // extra
		b = le.AppendUint16(b, 0) // comment
		b = le.AppendUint16(b, 0) // disk
		b = le.AppendUint16(b, 0) // internal attributes
		b = le.AppendUint32(b, 0) // external attributes
		b = le.AppendUint32(b, uint32(offsets[i]))
		b = append(b, e.name...)
		buf.Write(b)
	}
	cdEnd := buf.Len()
	n, size, offset := len(es), cdEnd-cd, cd
	if zip64 {
		b := le.AppendUint32(nil, 0x06064b50)
		b = le.AppendUint64(b, 44)
		b = le.AppendUint16(b, 45)
		b = le.AppendUint16(b, 45)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint64(b, uint64(n))
		b = le.AppendUint64(b, uint64(n))
		b = le.AppendUint64(b, uint64(size))
		b = le.AppendUint64(b, uint64(offset))
		b = le.AppendUint32(b, 0x07064b50)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint64(b, uint64(cdEnd))
		b = le.AppendUint32(b, 1)
		buf.Write(b)
		n, size, offset = 0xffff, 0xffffffff, 0xffffffff
	}
	b := le.AppendUint32(nil, 0x06054b50)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, uint16(n))
	b = le.AppendUint16(b, uint16(n))
	b = le.AppendUint32(b, uint32(size))
	b = le.AppendUint32(b, uint32(offset))
	b = le.AppendUint16(b, 0)
	buf.Write(b)
	return buf.Bytes()
}

// TestVerifyZipForms accepts the ZIP forms other writers use: no data
// descriptor, a data descriptor with or without its signature and with
// 32- or 64-bit sizes, zip64 end records; and refuses bytes that none of
// them account for.
func TestVerifyZipForms(t *testing.T) {
	for _, dd := range []int{0, 12, 16, 20, 24} {
		for _, zip64 := range []bool{false, true} {
			t.Run(fmt.Sprintf("descriptor %d, zip64 %v", dd, zip64), func(t *testing.T) {
				rep := mustVerify(t, handZip(handBag(dd), zip64))
				if rep.Dir != "b" || rep.Files != 1 {
					t.Errorf("Report = %+v", rep)
				}
			})
		}
	}
	// A data descriptor where the flags say there is none.
	es := handBag(0)
	zb := handZip(es, false)
	i := bytes.Index(zb, []byte("b/data/a.txt"))
	zb[i-30+6] = 0x8 // local flags
	wantProblem(t, zb, bagit.KindZip, "b/data/a.txt")
	// Bytes after an entry belong to no entry, after a data descriptor
	// too: a descriptor's length tells its form.
	es = handBag(0)
	es[0].gap = 2
	p := wantProblem(t, handZip(es, false), bagit.KindZip, "b/bagit.txt")
	if !strings.Contains(p.Msg, "2 bytes after its data belong to no entry") {
		t.Errorf("Msg = %q", p.Msg)
	}
	es = handBag(0)
	es[1].dd, es[1].gap = 12, 1
	p = wantProblem(t, handZip(es, false), bagit.KindZip, "b/data/a.txt")
	if !strings.Contains(p.Msg, "13 bytes after its data are not a data descriptor") {
		t.Errorf("Msg = %q", p.Msg)
	}
}

// TestVerifyInfoZip zips a bag Writer wrote with Info-ZIP's zip, as
// someone might after unzipping it, in the forms zip writes: to a file
// (sizes in the local header, extended timestamps whose local copy holds
// more than the central one), to a pipe (data descriptors, with some sizes
// in the local header too), with zip64 fields and end records, and with no
// extra fields. Each is a valid bag, and verifies.
func TestVerifyInfoZip(t *testing.T) {
	if _, err := exec.LookPath("zip"); err != nil {
		t.Skip("zip is not on PATH")
	}
	tmp := t.TempDir()
	extract(t, mustBag(t, sampleOptions(), sampleFiles), tmp)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"file", []string{"-r", "out.zip"}},
		{"pipe", []string{"-r", "-"}},
		{"zip64", []string{"-r", "-fz", "out.zip"}},
		{"no extra fields", []string{"-r", "-X", "out.zip"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(tmp, "out.zip")
			args := append(append([]string{"-q"}, tt.args...), sampleOptions().Dir)
			cmd := exec.Command("zip", args...)
			cmd.Dir = tmp
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("zip %v: %v\n%s", args, err, stderr.Bytes())
			}
			zb := stdout.Bytes()
			if tt.args[len(tt.args)-1] != "-" {
				var err error
				if zb, err = os.ReadFile(out); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(out); err != nil {
					t.Fatal(err)
				}
			}
			rep := mustVerify(t, zb)
			if rep.Files != len(sampleFiles) {
				t.Errorf("Report = %+v", rep)
			}
			zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
			if err != nil {
				t.Fatal(err)
			}
			descriptors := 0
			for _, f := range zr.File {
				if f.Flags&0x8 != 0 {
					descriptors++
				}
			}
			if (tt.name == "pipe") != (descriptors > 0) {
				t.Errorf("%d entries with a data descriptor", descriptors)
			}
			// Its local headers are checked against its central directory.
			i := bytes.Index(zb, []byte(sampleOptions().Dir+"/bagit.txt"))
			zb[i-30+10] ^= 0x01 // local modification time
			p := wantProblem(t, zb, bagit.KindZip, sampleOptions().Dir+"/bagit.txt")
			t.Log(p)
		})
	}
}

// TestVerifyUnreadEntries: an entry no manifest lists is still read, and
// its CRC-32 checked.
func TestVerifyUnreadEntries(t *testing.T) {
	good := mustBag(t, sampleOptions(), sampleFiles)
	zb := tamper(t, good, func(es []entry, dir string) []entry {
		return append(es, entry{name: dir + "notes.txt", data: []byte("an unlisted tag file, stored")})
	})
	// Rewrite it stored, so that its bytes are in the clear.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range readEntries(t, zb) {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Store, Modified: testTime}
		fh.SetMode(e.mode)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	zw.Close()
	zb = buf.Bytes()
	mustVerify(t, zb)
	zb[bytes.Index(zb, []byte("an unlisted"))] ^= 0x20
	p := wantProblem(t, zb, bagit.KindZip, dir()+"notes.txt")
	if !strings.Contains(p.Msg, "CRC-32") {
		t.Errorf("Msg = %q", p.Msg)
	}
}
