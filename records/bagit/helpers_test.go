package bagit_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records/bagit"
)

// testTime is the Modified time of every test bag.
var testTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// file is one payload file of a test bag.
type file struct {
	path    string
	content string
}

// sampleFiles are the payload of the usual test bag: nested directories,
// spaces and non-ASCII names, stored and deflated files, an empty file.
var sampleFiles = []file{
	{"posts/1.json", `{"id":1,"text":"Council meeting moved to Tuesday"}`},
	{"media/ab.jpg", "\xff\xd8\xff\xe0 not really a JPEG \x00\x01\x02"},
	{"threads/city council.html", "<html><body><p>Thread</p></body></html>\n"},
	{"notes/café 日本.txt", "unicode names survive\n"},
	{"items.csv", "id,kind\n1,post\n"},
	{"empty.txt", ""},
	{"README.txt", "Verify with: sha256sum -c manifest-sha256.txt\n"},
}

// sampleOptions are the Options of the usual test bag.
func sampleOptions() bagit.Options {
	return bagit.Options{
		Dir: "export-2026-0001",
		Info: []bagit.Field{
			{Label: "Source-Organization", Value: "Clinton City, Utah"},
			{Label: "External-Identifier", Value: "export-2026-0001"},
			{Label: "Export-Query", Value: "account:@clintoncity\nafter:2026-01-01"},
		},
		Modified: testTime,
		Software: "civicarchive test",
	}
}

// mustBag writes a bag holding files and returns the ZIP bytes.
func mustBag(tb testing.TB, opts bagit.Options, files []file) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := bagit.NewWriter(&buf, opts)
	for _, f := range files {
		if _, _, err := w.Add(f.path, strings.NewReader(f.content)); err != nil {
			tb.Fatalf("Add(%q): %v", f.path, err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// mustVerify verifies zb and fails the test on any error.
func mustVerify(tb testing.TB, zb []byte) *bagit.Report {
	tb.Helper()
	rep, err := bagit.Verify(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		tb.Fatalf("Verify: %v", err)
	}
	return rep
}

// wantProblem verifies zb and checks that it fails with kind at path.
func wantProblem(tb testing.TB, zb []byte, kind, path string) *bagit.Problem {
	tb.Helper()
	_, err := bagit.Verify(bytes.NewReader(zb), int64(len(zb)))
	var p *bagit.Problem
	if !errors.As(err, &p) {
		tb.Fatalf("Verify = %v, want a *Problem of kind %q at %q", err, kind, path)
	}
	if p.Kind != kind || p.Path != path {
		tb.Fatalf("Verify = %v (kind %q, path %q), want kind %q at %q", err, p.Kind, p.Path, kind, path)
	}
	return p
}

// entry is one ZIP entry, for rewriting bags.
type entry struct {
	name string
	data []byte
	mode fs.FileMode
}

// readEntries reads every entry of a ZIP.
func readEntries(tb testing.TB, zb []byte) []entry {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		tb.Fatal(err)
	}
	var es []entry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		es = append(es, entry{name: f.Name, data: data, mode: f.Mode()})
	}
	return es
}

// writeEntries writes entries into a new ZIP, as archive/zip would, with
// the headers Writer writes: mode 0644 for a file given none, the test
// time.
func writeEntries(tb testing.TB, es []entry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: testTime}
		if e.mode == 0 {
			e.mode = 0o644
		}
		fh.SetMode(e.mode)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// tamper rewrites the ZIP zb through edit, which gets every entry and the
// bag directory prefix ("export-2026-0001/").
func tamper(tb testing.TB, zb []byte, edit func(es []entry, dir string) []entry) []byte {
	tb.Helper()
	return writeEntries(tb, edit(readEntries(tb, zb), sampleOptions().Dir+"/"))
}

// find returns the entry named dir+rel, failing the test if there is none.
func find(tb testing.TB, es []entry, name string) *entry {
	tb.Helper()
	for i := range es {
		if es[i].name == name {
			return &es[i]
		}
	}
	tb.Fatalf("no entry %q", name)
	return nil
}

// drop returns es without the entry called name.
func drop(es []entry, name string) []entry {
	var out []entry
	for _, e := range es {
		if e.name != name {
			out = append(out, e)
		}
	}
	return out
}

// retag recomputes tagmanifest-sha256.txt from the current tag files, so
// that a tampered tag file gets past the tag manifest to the check behind.
func retag(tb testing.TB, es []entry, dir string) []entry {
	tb.Helper()
	tm := find(tb, es, dir+"tagmanifest-sha256.txt")
	var out strings.Builder
	for line := range strings.Lines(string(tm.data)) {
		_, path, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "  ")
		sum := sha256.Sum256(find(tb, es, dir+path).data)
		out.WriteString(hex.EncodeToString(sum[:]) + "  " + path + "\n")
	}
	tm.data = []byte(out.String())
	return es
}
