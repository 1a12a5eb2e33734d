package records_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/bagit"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// exportOffice is a records office over e's catalog and the given blob
// store, with a search Finder, as serve builds it for exports.
func exportOffice(tb testing.TB, e *env, blobs blob.Store, finder records.Finder) *records.Office {
	tb.Helper()
	law, err := records.ParseLaw(configs.UtahGRAMA)
	if err != nil {
		tb.Fatal(err)
	}
	o, err := records.New(records.Config{Catalog: e.cat, Blobs: blobs, Law: law, Location: denver, Entity: entity,
		Now: e.clock.Now, Finder: finder, Version: "1.4.0-test"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o.Close(ctx)
	})
	return o
}

var legal = records.Actor{ID: "user:lee", Name: "Lee Legal"}

// runExport starts an export, waits for it and returns its final row.
func runExport(tb testing.TB, e *env, o *records.Office, s records.ExportScope) *storage.Export {
	tb.Helper()
	ex, err := o.StartExport(e.ctx, legal, s)
	if err != nil {
		tb.Fatalf("StartExport(%+v): %v", s, err)
	}
	if ex.Status != storage.ExportRunning {
		tb.Errorf("new export status = %q, want running", ex.Status)
	}
	o.WaitExports()
	got, err := o.Export(e.ctx, ex.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// readyBundle checks the export is ready and returns its opened bag and
// the ZIP's bytes.
func readyBundle(tb testing.TB, e *env, ex *storage.Export) (*bag, []byte) {
	tb.Helper()
	if ex.Status != storage.ExportReady {
		tb.Fatalf("export %d: status %q (%s), want ready", ex.ID, ex.Status, ex.Error)
	}
	if ex.FinishedAt == nil || ex.BundleKey == "" || ex.ItemsDone != ex.ItemsTotal || ex.ItemCount != ex.ItemsTotal {
		tb.Errorf("ready export = %+v: want finished, a bundle, done = total = count", ex)
	}
	data := e.readBlob(tb, ex.BundleKey)
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != ex.BundleSHA256 || int64(len(data)) != ex.Size {
		tb.Errorf("bundle SHA-256/size do not match the export row")
	}
	return openBag(tb, data), data
}

// csvRows parses a bag's CSV file, header first.
func csvRows(tb testing.TB, b *bag, name string) [][]string {
	tb.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b.files[name])).ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return rows
}

// datRecord is one loadfile.dat document, by field name.
type datRecord map[string]string

// parseDAT reads a Concordance DAT load file strictly: BOM, CRLF records,
// every field þ-qualified and separated by U+0014, the header's field
// count on every row.
func parseDAT(tb testing.TB, data []byte) []datRecord {
	tb.Helper()
	s, ok := strings.CutPrefix(string(data), "\ufeff")
	if !ok {
		tb.Fatal("loadfile.dat does not start with a UTF-8 BOM")
	}
	if !strings.HasSuffix(s, "\r\n") {
		tb.Fatal("loadfile.dat does not end with CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	split := func(line string) []string {
		fields := strings.Split(line, "\x14")
		for i, f := range fields {
			if len(f) < 4 || !strings.HasPrefix(f, "þ") || !strings.HasSuffix(f, "þ") {
				tb.Fatalf("loadfile.dat field %q is not þ-qualified", f)
			}
			fields[i] = strings.TrimSuffix(strings.TrimPrefix(f, "þ"), "þ")
			if strings.Contains(fields[i], "þ") || strings.ContainsAny(fields[i], "\r\n") {
				tb.Errorf("loadfile.dat field %q holds a qualifier or a raw line break", fields[i])
			}
		}
		return fields
	}
	header := split(lines[0])
	var out []datRecord
	for _, line := range lines[1:] {
		fields := split(line)
		if len(fields) != len(header) {
			tb.Fatalf("loadfile.dat row has %d fields, header %d", len(fields), len(header))
		}
		r := datRecord{}
		for i, h := range header {
			r[h] = fields[i]
		}
		out = append(out, r)
	}
	return out
}

// custodyEntry is one custody.jsonl line.
type custodyEntry struct {
	ItemID      uint64          `json:"item_id"`
	Seq         uint64          `json:"seq"`
	At          string          `json:"at"`
	Kind        string          `json:"kind"`
	Actor       string          `json:"actor"`
	SubjectType string          `json:"subject_type"`
	SubjectID   string          `json:"subject_id"`
	Details     json.RawMessage `json:"details"`
	PrevHash    string          `json:"prev_hash"`
	Hash        string          `json:"hash"`
}

// checkCustody compares custody.jsonl with the catalog's custody events
// about the items, and recomputes every line's hash as README.txt says.
func checkCustody(tb testing.TB, e *env, b *bag, itemIDs []uint64) {
	tb.Helper()
	var got []custodyEntry
	dec := json.NewDecoder(bytes.NewReader(b.files["data/custody.jsonl"]))
	for dec.More() {
		var c custodyEntry
		if err := dec.Decode(&c); err != nil {
			tb.Fatalf("custody.jsonl: %v", err)
		}
		got = append(got, c)
	}
	var want []storage.CustodyEvent
	for _, id := range itemIDs {
		evs, err := e.cat.CustodyEvents(e.ctx, "item", itoa(id))
		if err != nil {
			tb.Fatal(err)
		}
		want = append(want, evs...)
	}
	if len(got) != len(want) || len(want) == 0 {
		tb.Fatalf("custody.jsonl has %d lines, the catalog %d events about the items", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Seq != w.Seq || g.Kind != w.Kind || g.Hash != w.Hash || g.PrevHash != w.PrevHash || string(g.Details) != w.Details ||
			g.SubjectID != w.SubjectID || g.ItemID != mustUint(tb, w.SubjectID) {
			tb.Errorf("custody line %d = %+v, catalog event %+v", i, g, w)
		}
		canon, _ := json.Marshal([]any{g.Seq, g.At, g.Kind, g.Actor, g.SubjectType, g.SubjectID, string(g.Details), g.PrevHash})
		if sum := sha256.Sum256(canon); hex.EncodeToString(sum[:]) != g.Hash {
			tb.Errorf("custody line %d: hash does not recompute from the line", i)
		}
	}
}

func mustUint(tb testing.TB, s string) uint64 {
	var n uint64
	if _, err := fmt.Sscan(s, &n); err != nil {
		tb.Fatalf("%q: %v", s, err)
	}
	return n
}

// outsideRef finds src/href attributes that reach outside the bag.
var outsideRef = regexp.MustCompile(`(?i)\b(src|href|action|poster|srcset)\s*=\s*["']?\s*(https?:|//|data:text|javascript:)`)

// attrRef finds every src and href value.
var attrRef = regexp.MustCompile(`\b(?:src|href)="([^"]*)"`)

// checkRendered checks every rendered page: no outside requests, and every
// link leads to a file in the bag.
func checkRendered(tb testing.TB, b *bag) {
	tb.Helper()
	pages := b.under("data/rendered/")
	if len(pages) < 2 {
		tb.Fatalf("rendered pages: %v", pages)
	}
	for _, p := range pages {
		html := string(b.files[p])
		if m := outsideRef.FindString(html); m != "" {
			tb.Errorf("%s reaches outside: %s", p, m)
		}
		for _, m := range attrRef.FindAllStringSubmatch(html, -1) {
			target := path.Join(path.Dir(p), strings.ReplaceAll(m[1], "&#43;", "+"))
			if _, ok := b.files[target]; !ok {
				tb.Errorf("%s links to %s, which is not in the bag", p, m[1])
			}
		}
	}
}

// sha256sumCheck extracts the bag with archive/zip and runs
// `sha256sum -c` on both manifests, as README.txt tells a stranger to.
func sha256sumCheck(tb testing.TB, data []byte) {
	tb.Helper()
	if _, err := exec.LookPath("sha256sum"); err != nil {
		tb.Log("sha256sum not installed: skipping the command-line check")
		return
	}
	dir := tb.TempDir()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	top := ""
	for _, f := range zr.File {
		top, _, _ = strings.Cut(f.Name, "/")
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if strings.HasSuffix(f.Name, "/") {
			os.MkdirAll(dst, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(dst, body, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for _, m := range []string{"manifest-sha256.txt", "tagmanifest-sha256.txt"} {
		cmd := exec.Command("sha256sum", "-c", "--strict", m)
		cmd.Dir = filepath.Join(dir, top)
		out, err := cmd.CombinedOutput()
		if err != nil {
			tb.Errorf("sha256sum -c %s: %v\n%s", m, err, out)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if !strings.HasSuffix(line, ": OK") {
				tb.Errorf("sha256sum -c %s: %s", m, line)
			}
		}
	}
}

// rewriteZip copies a ZIP, letting edit change or drop entries (by their
// path below the top folder) and adding extra ones.
func rewriteZip(tb testing.TB, data []byte, edit func(rel string, body []byte) ([]byte, bool), extra map[string][]byte) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	top := ""
	for _, f := range zr.File {
		var rel string
		top, rel, _ = strings.Cut(f.Name, "/")
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		keep := true
		if !strings.HasSuffix(f.Name, "/") {
			body, keep = edit(rel, body)
		}
		if !keep {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(body)
	}
	for rel, body := range extra {
		w, _ := zw.Create(top + "/" + rel)
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// wantProblem asserts bagit.Verify refuses data naming path with kind.
func wantProblem(tb testing.TB, data []byte, kind, wantPath string) {
	tb.Helper()
	_, err := bagit.Verify(bytes.NewReader(data), int64(len(data)))
	var p *bagit.Problem
	if !errors.As(err, &p) {
		tb.Fatalf("Verify = %v, want a Problem (%s at %s)", err, kind, wantPath)
	}
	if p.Kind != kind || p.Path != wantPath {
		tb.Errorf("Verify: %v (kind %s, path %s), want kind %s at %s", p, p.Kind, p.Path, kind, wantPath)
	}
}
