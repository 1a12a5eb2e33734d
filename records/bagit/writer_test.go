package bagit_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/records/bagit"
)

func TestWriterBagVerifies(t *testing.T) {
	zb := mustBag(t, sampleOptions(), sampleFiles)
	rep := mustVerify(t, zb)
	var total int64
	for _, f := range sampleFiles {
		total += int64(len(f.content))
	}
	if rep.Dir != "export-2026-0001" || rep.Files != len(sampleFiles) || rep.Bytes != total {
		t.Errorf("Report = %q, %d files, %d bytes; want export-2026-0001, %d, %d",
			rep.Dir, rep.Files, rep.Bytes, len(sampleFiles), total)
	}
	want := []bagit.Field{
		{Label: "Source-Organization", Value: "Clinton City, Utah"},
		{Label: "External-Identifier", Value: "export-2026-0001"},
		{Label: "Export-Query", Value: "account:@clintoncity\nafter:2026-01-01"},
		{Label: "Bagging-Date", Value: "2026-03-14"},
		{Label: "Payload-Oxum", Value: fmt.Sprintf("%d.%d", total, len(sampleFiles))},
		{Label: "Bag-Size", Value: fmt.Sprintf("%d bytes", total)},
		{Label: "Bag-Software-Agent", Value: "civicarchive test"},
	}
	if !slices.Equal(rep.Info, want) {
		t.Errorf("Info =\n%q\nwant\n%q", rep.Info, want)
	}
}

// TestWriterLayout pins the bytes of the tag files and the shape of the ZIP.
func TestWriterLayout(t *testing.T) {
	zb := mustBag(t, sampleOptions(), sampleFiles[:2])
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(testTime) {
			t.Errorf("%s: Modified = %v, want %v", f.Name, f.Modified, testTime)
		}
		wantMethod := zip.Deflate
		if strings.HasSuffix(f.Name, ".jpg") || strings.HasSuffix(f.Name, "/") {
			wantMethod = zip.Store
		}
		if f.Method != wantMethod {
			t.Errorf("%s: method %d, want %d", f.Name, f.Method, wantMethod)
		}
	}
	d := "export-2026-0001/"
	wantNames := []string{d + "bagit.txt", d + "data/", d + "data/posts/1.json", d + "data/media/ab.jpg",
		d + "manifest-sha256.txt", d + "bag-info.txt", d + "tagmanifest-sha256.txt"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("entries =\n%q\nwant\n%q", names, wantNames)
	}
	es := readEntries(t, zb)
	n := len(sampleFiles[0].content) + len(sampleFiles[1].content)
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	wantText := map[string]string{
		"bagit.txt": "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
		"manifest-sha256.txt": sum(sampleFiles[1].content) + "  data/media/ab.jpg\n" +
			sum(sampleFiles[0].content) + "  data/posts/1.json\n",
		"bag-info.txt": "Source-Organization: Clinton City, Utah\n" +
			"External-Identifier: export-2026-0001\n" +
			"Export-Query: account:@clintoncity\n  after:2026-01-01\n" +
			fmt.Sprintf("Bagging-Date: 2026-03-14\nPayload-Oxum: %d.2\nBag-Size: %[1]d bytes\n", n) +
			"Bag-Software-Agent: civicarchive test\n",
	}
	for name, want := range wantText {
		if got := string(find(t, es, d+name).data); got != want {
			t.Errorf("%s =\n%s\nwant\n%s", name, got, want)
		}
	}
	wantTag := sum(wantText["bag-info.txt"]) + "  bag-info.txt\n" +
		sum(wantText["bagit.txt"]) + "  bagit.txt\n" +
		sum(wantText["manifest-sha256.txt"]) + "  manifest-sha256.txt\n"
	if got := string(find(t, es, d+"tagmanifest-sha256.txt").data); got != wantTag {
		t.Errorf("tagmanifest-sha256.txt =\n%s\nwant\n%s", got, wantTag)
	}
}

func TestWriterDeterministic(t *testing.T) {
	a := mustBag(t, sampleOptions(), sampleFiles)
	b := mustBag(t, sampleOptions(), sampleFiles)
	if !bytes.Equal(a, b) {
		t.Fatal("the same Options and files gave different ZIP bytes")
	}
	opts := sampleOptions()
	opts.Modified = opts.Modified.Add(2e9)
	if bytes.Equal(a, mustBag(t, opts, sampleFiles)) {
		t.Fatal("a different Modified gave the same ZIP bytes")
	}
}

func TestWriterAddReturnsDigest(t *testing.T) {
	w := bagit.NewWriter(io.Discard, sampleOptions())
	sum, n, err := w.Add("a.txt", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte("hello"))
	if sum != hex.EncodeToString(want[:]) || n != 5 {
		t.Errorf("Add = %s, %d; want %x, 5", sum, n, want)
	}
	if _, _, err := w.Add("b/c.bin", bytes.NewReader(make([]byte, 1000))); err != nil {
		t.Fatal(err)
	}
	if files, size := w.Stats(); files != 2 || size != 1005 {
		t.Errorf("Stats = %d, %d; want 2, 1005", files, size)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	if _, _, err := w.Add("late.txt", strings.NewReader("x")); err == nil {
		t.Error("Add after Close succeeded")
	}
}

func TestWriterRefusesPaths(t *testing.T) {
	bad := []string{
		"", "/etc/passwd", "..", "../x", "a/../b", "a/./b", "./a", "a//b", "a/",
		`a\b`, `..\x`, "C:x", "a\x00b", "bad\xffutf8",
		"posts/1.json",        // added below first
		"posts",               // a directory already
		"posts/1.json/deeper", // under a file
	}
	w := bagit.NewWriter(io.Discard, sampleOptions())
	if _, _, err := w.Add("posts/1.json", strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}
	for _, p := range bad {
		if _, _, err := w.Add(p, strings.NewReader("x")); err == nil {
			t.Errorf("Add(%q) succeeded", p)
		} else if !strings.HasPrefix(err.Error(), "bagit: ") {
			t.Errorf("Add(%q) error %q lacks the bagit: prefix", p, err)
		}
	}
	// Refusals are not sticky: the bag still closes and verifies.
	var buf bytes.Buffer
	w = bagit.NewWriter(&buf, sampleOptions())
	if _, _, err := w.Add("../escape", strings.NewReader("x")); err == nil {
		t.Fatal("Add(../escape) succeeded")
	}
	if _, _, err := w.Add("ok.txt", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, buf.Bytes())
}

func TestWriterRefusesOptions(t *testing.T) {
	tests := []struct {
		why  string
		edit func(*bagit.Options)
	}{
		{"no Dir", func(o *bagit.Options) { o.Dir = "" }},
		{"Dir with a slash", func(o *bagit.Options) { o.Dir = "a/b" }},
		{"Dir ..", func(o *bagit.Options) { o.Dir = ".." }},
		{"Dir with a backslash", func(o *bagit.Options) { o.Dir = `a\b` }},
		{"Dir with a newline", func(o *bagit.Options) { o.Dir = "a\nb" }},
		{"label with a colon", func(o *bagit.Options) { o.Info = []bagit.Field{{Label: "A:B", Value: "x"}} }},
		{"empty label", func(o *bagit.Options) { o.Info = []bagit.Field{{Label: "", Value: "x"}} }},
		{"label with spaces around", func(o *bagit.Options) { o.Info = []bagit.Field{{Label: " A", Value: "x"}} }},
		{"Payload-Oxum given", func(o *bagit.Options) { o.Info = []bagit.Field{{Label: "payload-oxum", Value: "1.1"}} }},
		{"Software on two lines", func(o *bagit.Options) { o.Software = "a\nb" }},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			opts := sampleOptions()
			tt.edit(&opts)
			w := bagit.NewWriter(io.Discard, opts)
			if _, _, err := w.Add("a.txt", strings.NewReader("x")); err == nil {
				t.Error("Add succeeded")
			}
			if err := w.Close(); err == nil || !strings.HasPrefix(err.Error(), "bagit: ") {
				t.Errorf("Close = %v, want a bagit: error", err)
			}
		})
	}
}

func TestWriterGivenInfoWins(t *testing.T) {
	opts := sampleOptions()
	opts.Info = []bagit.Field{
		{Label: "bagging-date", Value: "2020-01-02"},
		{Label: "Bag-Size", Value: "about 1 MB"},
		{Label: "Bag-Software-Agent", Value: "other"},
	}
	rep := mustVerify(t, mustBag(t, opts, sampleFiles[:1]))
	want := []bagit.Field{
		{Label: "bagging-date", Value: "2020-01-02"},
		{Label: "Bag-Size", Value: "about 1 MB"},
		{Label: "Bag-Software-Agent", Value: "other"},
		{Label: "Payload-Oxum", Value: fmt.Sprintf("%d.1", len(sampleFiles[0].content))},
	}
	if !slices.Equal(rep.Info, want) {
		t.Errorf("Info = %q, want %q", rep.Info, want)
	}
}

func TestWriterTagFiles(t *testing.T) {
	var buf bytes.Buffer
	w := bagit.NewWriter(&buf, sampleOptions())
	for _, name := range []string{"bagit.txt", "bag-info.txt", "manifest-md5.txt", "tagmanifest-sha1.txt",
		"fetch.txt", "data/x.txt", "data", "../x.txt", ""} {
		if err := w.AddTag(name, strings.NewReader("x")); err == nil {
			t.Errorf("AddTag(%q) succeeded", name)
		}
	}
	if err := w.AddTag("custody/events.txt", strings.NewReader("2026-03-14 export\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTag("custody/events.txt", strings.NewReader("again")); err == nil {
		t.Error("AddTag of the same name twice succeeded")
	}
	if _, _, err := w.Add("a.txt", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, buf.Bytes())
	if rep.Files != 1 {
		t.Errorf("Files = %d, want 1: a tag file is not payload", rep.Files)
	}
	tm := string(find(t, readEntries(t, buf.Bytes()), "export-2026-0001/tagmanifest-sha256.txt").data)
	if !strings.Contains(tm, "  custody/events.txt\n") {
		t.Errorf("tagmanifest does not list the custom tag file:\n%s", tm)
	}
	// The custom tag file is checked like the others.
	zb := tamper(t, buf.Bytes(), func(es []entry, dir string) []entry {
		find(t, es, dir+"custody/events.txt").data[0] ^= 1
		return es
	})
	wantProblem(t, zb, bagit.KindTagManifest, "custody/events.txt")
}

func TestWriterEmptyBag(t *testing.T) {
	zb := mustBag(t, sampleOptions(), nil)
	rep := mustVerify(t, zb)
	if rep.Files != 0 || rep.Bytes != 0 {
		t.Errorf("Report = %+v, want no payload", rep)
	}
}

// TestWriterNamesRoundTrip writes awkward names (spaces, Unicode, percent
// signs, even line breaks) and verifies them.
func TestWriterNamesRoundTrip(t *testing.T) {
	files := []file{
		{"with space/a b.txt", "1"},
		{"unicode/é/日本.txt", "2"},
		{"percent/100%.txt", "3"},
		{"percent/literal %25 and %0A.txt", "4"},
		{"breaks/line\nfeed.txt", "5"},
		{"breaks/carriage\rreturn.txt", "6"},
		{"odd/trailing space ", "7"},
		{"odd/~user*?[x]#!$&'()+,;=.txt", "8"},
	}
	zb := mustBag(t, sampleOptions(), files)
	if rep := mustVerify(t, zb); rep.Files != len(files) {
		t.Errorf("Files = %d, want %d", rep.Files, len(files))
	}
	manifest := string(find(t, readEntries(t, zb), "export-2026-0001/manifest-sha256.txt").data)
	for _, want := range []string{
		"  data/percent/100%25.txt\n",
		"  data/percent/literal %2525 and %250A.txt\n",
		"  data/breaks/line%0Afeed.txt\n",
		"  data/breaks/carriage%0Dreturn.txt\n",
		"  data/unicode/é/日本.txt\n",
		"  data/odd/trailing space \n",
	} {
		if !strings.Contains(manifest, want) {
			t.Errorf("manifest lacks %q:\n%s", want, manifest)
		}
	}
}

// TestWriterSha256sum unzips a bag and checks it with the real sha256sum,
// as the bundle README tells a stranger to.
func TestWriterSha256sum(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum is not on PATH")
	}
	files := append(slices.Clone(sampleFiles), file{"media/large.png", strings.Repeat("png", 100000)})
	zb := mustBag(t, sampleOptions(), files)
	dir := t.TempDir()
	extract(t, zb, dir)
	bag := filepath.Join(dir, "export-2026-0001")
	for _, m := range []string{"manifest-sha256.txt", "tagmanifest-sha256.txt"} {
		cmd := exec.Command("sha256sum", "--check", "--strict", m)
		cmd.Dir = bag
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sha256sum -c %s: %v\n%s", m, err, out)
		}
		if n := strings.Count(string(out), ": OK\n"); n < 3 {
			t.Errorf("sha256sum -c %s checked %d files:\n%s", m, n, out)
		}
	}
	// And it notices a changed file.
	if err := os.WriteFile(filepath.Join(bag, "data/posts/1.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sha256sum", "-c", "manifest-sha256.txt")
	cmd.Dir = bag
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("sha256sum -c passed a changed file:\n%s", out)
	}
}

// extract unpacks zb into dir with unzip when it is installed, as a user
// would, and with archive/zip otherwise.
func extract(t *testing.T, zb []byte, dir string) {
	t.Helper()
	if _, err := exec.LookPath("unzip"); err == nil {
		zp := filepath.Join(t.TempDir(), "bag.zip")
		if err := os.WriteFile(zp, zb, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("unzip", "-q", zp, "-d", dir).CombinedOutput(); err != nil {
			t.Fatalf("unzip: %v\n%s", err, out)
		}
		return
	}
	for _, e := range readEntries(t, zb) {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if strings.HasSuffix(e.name, "/") {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, e.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// failingReader returns some bytes, then an error.
type failingReader struct{ n int }

var errBroken = errors.New("broken source")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errBroken
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func TestWriterErrorIsSticky(t *testing.T) {
	w := bagit.NewWriter(io.Discard, sampleOptions())
	if _, _, err := w.Add("a.txt", &failingReader{n: 10}); !errors.Is(err, errBroken) {
		t.Fatalf("Add = %v, want errBroken", err)
	}
	if _, _, err := w.Add("b.txt", strings.NewReader("b")); !errors.Is(err, errBroken) {
		t.Errorf("next Add = %v, want the sticky errBroken", err)
	}
	if err := w.Close(); !errors.Is(err, errBroken) {
		t.Errorf("Close = %v, want the sticky errBroken", err)
	}
}
