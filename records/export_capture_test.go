package records_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver"
	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/bagit"
	"github.com/civicarchive/civicarchive/storage"
)

// served keeps every response body a fake platform sent, by SHA-256.
type served struct {
	mu     sync.Mutex
	bodies map[string][]byte
}

func (s *served) add(b []byte) {
	sum := sha256.Sum256(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies[hex.EncodeToString(sum[:])] = bytes.Clone(b)
}

func (s *served) get(sum string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bodies[sum]
	return b, ok
}

// teeWriter copies a response body as it is written.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.buf.Write(b)
	return t.ResponseWriter.Write(b)
}

// recordBodies is middleware that keeps every body the server sends.
func (s *served) recordBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		s.add(tw.buf.Bytes())
	})
}

// capturedWorld is an account captured twice through the real archiver
// from a fake Mastodon instance: an edit, a deletion and hostile text.
type capturedWorld struct {
	acct   *storage.Account
	srv    *mastodontest.Server
	world  *platformtest.World
	sent   *served
	native map[string]string // world id → native id
	ids    []uint64          // every item captured

	parade, evil, gone string // world ids: a post edited, a hostile comment, a comment deleted
}

const hostile = `<script>alert("pwned")</script> see <img src="https://evil.example/x.png"> & "quotes"`

func captureWorld(t *testing.T, e *env) *capturedWorld {
	t.Helper()
	w := platformtest.NewWorld(time.Now().Add(-48*time.Hour), platformtest.Profile{ID: "city", Handle: "clintoncity",
		DisplayName: "City of Clinton"})
	platformtest.Seed(w)
	parade := w.AddPost("Parade", "The parade starts at 10 am on Main St.")
	evil := w.AddComment(parade, "", "Mallory", hostile)
	w.AddComment(parade, evil, "Ana Pérez", "Please be civil.\nThis is a second line.")
	gone := w.AddComment(parade, "", "Bob", "I will delete this comment later")
	cw := &capturedWorld{world: w, sent: &served{bodies: map[string][]byte{}}, native: map[string]string{},
		parade: parade, evil: evil, gone: gone}
	cw.srv = mastodontest.NewServer(w, mastodontest.WithMiddleware(cw.sent.recordBodies))
	t.Cleanup(cw.srv.Close)
	for _, id := range []string{parade, evil, gone} {
		cw.native[id] = cw.srv.NativeID(id)
	}
	key, err := storage.LoadSecretKey("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := storage.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	pa := cw.srv.Account()
	sealed, _ := sealer.Seal(pa.Credential)
	cw.acct = &storage.Account{Platform: pa.Platform, Handle: pa.Handle, NativeID: pa.NativeID, APIBase: pa.APIBase,
		DisplayName: "City of Clinton", CredentialEnc: sealed, Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := e.cat.CreateAccount(e.ctx, cw.acct, "test"); err != nil {
		t.Fatal(err)
	}
	arc := archiver.New(archiver.Options{Catalog: e.cat, Blobs: e.blobs, Sealer: sealer,
		Connectors: map[string]platforms.Connector{platforms.Mastodon: mastodon.New()},
		Limits:     platforms.NewHostLimits(1000, 1000), Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	t.Cleanup(func() { arc.Close(context.Background()) })
	cw.capture(t, e, arc)
	w.Edit(parade, "The parade starts at 11 am on Main St. (moved)")
	w.Delete(gone)
	cw.capture(t, e, arc)
	page, err := e.cat.ListItems(e.ctx, cw.acct.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		cw.ids = append(cw.ids, it.ID)
	}
	return cw
}

func (cw *capturedWorld) capture(t *testing.T, e *env, arc *archiver.Archiver) {
	t.Helper()
	run, err := arc.Capture(e.ctx, cw.acct.ID, storage.RunFull, "test")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != storage.RunSucceeded {
		t.Fatalf("capture: %+v", run)
	}
}

// item returns the catalog item of a world id.
func (cw *capturedWorld) item(t *testing.T, e *env, worldID string) storage.Item {
	t.Helper()
	p, err := e.cat.ListItems(e.ctx, cw.acct.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range p.Items {
		if it.NativeID == cw.native[worldID] {
			return it
		}
	}
	t.Fatalf("world item %s was not captured", worldID)
	return storage.Item{}
}

func TestExportOfCapturedThreads(t *testing.T) {
	onEveryBackend(t, at(2026, 8, 3, 9, 0), testExportOfCapturedThreads)
}

// testExportOfCapturedThreads exports a legal hold on everything captured
// and checks the bundle against the platform server and the catalog.
func testExportOfCapturedThreads(t *testing.T, e *env) {
	cw := captureWorld(t, e)
	hold := &storage.Hold{Matter: "Doe v. Clinton City", CreatedBy: "user:lee"}
	if err := e.cat.CreateHold(e.ctx, hold, cw.ids); err != nil {
		t.Fatal(err)
	}
	o := exportOffice(t, e, e.blobs, nil)
	ex := runExport(t, e, o, records.ExportScope{Kind: records.ExportHold, HoldID: hold.ID})
	b, data := readyBundle(t, e, ex)
	if d := os.Getenv("EXPORT_DUMP"); d != "" {
		os.WriteFile(d, data, 0o644)
	}
	if ex.ItemCount != len(cw.ids) || ex.Matter != hold.Matter || ex.HoldID == nil || *ex.HoldID != hold.ID {
		t.Errorf("export = %+v, want %d items, the hold's matter and id", ex, len(cw.ids))
	}
	t.Run("raw pages are what the platform sent", func(t *testing.T) { checkRawPages(t, e, cw, b) })
	t.Run("normalised versions and media", func(t *testing.T) { checkNative(t, e, cw, b) })
	t.Run("bag-info", func(t *testing.T) { checkCapturedInfo(t, b, hold) })
	t.Run("rendered", func(t *testing.T) { checkCapturedRendered(t, e, cw, b) })
	t.Run("loadfile", func(t *testing.T) { checkLoadFile(t, e, b, cw.ids) })
	t.Run("items.csv", func(t *testing.T) { checkItemsCSV(t, e, b, cw.ids) })
	t.Run("custody.jsonl", func(t *testing.T) { checkCustody(t, e, b, cw.ids) })
	t.Run("export custody event", func(t *testing.T) { checkExportEvent(t, e, ex) })
	t.Run("sha256sum -c", func(t *testing.T) { sha256sumCheck(t, data) })
	t.Run("tampering is caught", func(t *testing.T) { checkTamper(t, data) })
}

func checkRawPages(t *testing.T, e *env, cw *capturedWorld, b *bag) {
	raws := b.under("data/native/raw/")
	want := map[string]bool{}
	vs, err := e.cat.VersionsOf(e.ctx, cw.ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, list := range vs {
		for _, v := range list {
			want[path.Base(v.RawKey)] = true
		}
	}
	if len(raws) != len(want) || len(raws) == 0 {
		t.Errorf("%d raw files in the bundle, versions name %d distinct raw pages", len(raws), len(want))
	}
	for _, p := range raws {
		name := path.Base(p)
		sum, ext, _ := strings.Cut(name, ".")
		if ext != "json" || !want[sum] {
			t.Errorf("raw file %s: want SHA256.json of a version's raw page", p)
		}
		body := b.files[p]
		sent, ok := cw.sent.get(sum)
		if !ok {
			t.Errorf("raw file %s is not any response the platform server sent", p)
			continue
		}
		if !bytes.Equal(body, sent) {
			t.Errorf("raw file %s differs from what the server sent", p)
		}
	}
}

func checkNative(t *testing.T, e *env, cw *capturedWorld, b *bag) {
	vs, err := e.cat.VersionsOf(e.ctx, cw.ids)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for id, list := range vs {
		for _, v := range list {
			n++
			p := fmt.Sprintf("data/native/normalized/%d/v%d.json", id, v.Seq)
			if !bytes.Equal(b.files[p], e.readBlob(t, v.NormalizedKey)) {
				t.Errorf("%s is not the version's normalised JSON byte for byte", p)
			}
		}
	}
	if got := len(b.under("data/native/normalized/")); got != n {
		t.Errorf("%d normalised files, %d versions", got, n)
	}
	road, _ := cw.world.Media("road.jpg")
	sum := sha256.Sum256(road.Data)
	p := "data/media/" + hex.EncodeToString(sum[:]) + ".jpg"
	if !bytes.Equal(b.files[p], road.Data) || len(b.under("data/media/")) != 1 {
		t.Errorf("media: %v, want exactly %s with the platform's bytes", b.under("data/media/"), p)
	}
}

func checkCapturedInfo(t *testing.T, b *bag, hold *storage.Hold) {
	want := map[string]string{"Source-Organization": "Clinton City", "Export-Query": "items", "Export-Scope": "hold",
		"Legal-Hold-ID": itoa(hold.ID), "Matter": hold.Matter, "Export-Software": "civicarchive 1.4.0-test",
		"Bagging-Date": "2026-08-03"}
	for k, v := range want {
		if b.info[k] != v {
			t.Errorf("bag-info %s = %q, want %q", k, b.info[k], v)
		}
	}
	if !strings.HasPrefix(b.info["External-Identifier"], "export-") || b.info["Bag-Size"] == "" || b.info["Payload-Oxum"] == "" {
		t.Errorf("bag-info = %v", b.info)
	}
	start, end, ok := strings.Cut(b.info["Capture-Window"], "/")
	t1, err1 := time.Parse(time.RFC3339, start)
	t2, err2 := time.Parse(time.RFC3339, end)
	if !ok || err1 != nil || err2 != nil || t2.Before(t1) {
		t.Errorf("Capture-Window = %q, want START/END in RFC 3339", b.info["Capture-Window"])
	}
	if _, ok := b.info["Records-Request"]; ok {
		t.Error("a hold export names a records request")
	}
	readme := string(b.files["data/README.txt"])
	for _, s := range []string{"sha256sum -c manifest-sha256.txt", "sha256sum -c tagmanifest-sha256.txt", "civicarchive verify BUNDLE.zip",
		"native/raw", "loadfile.dat", "custody.jsonl", "Doe v. Clinton City"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README.txt does not mention %q", s)
		}
	}
}

func checkCapturedRendered(t *testing.T, e *env, cw *capturedWorld, b *bag) {
	checkRendered(t, b)
	parade := string(b.files[fmt.Sprintf("data/rendered/%d.html", cw.item(t, e, cw.parade).ID)])
	for _, s := range []string{"&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;", "EDITED: 2 versions captured",
		"The parade starts at 10 am", "The parade starts at 11 am", "DELETED from the platform", "I will delete this comment later",
		"Please be civil.\nThis is a second line."} {
		if !strings.Contains(parade, s) {
			t.Errorf("parade thread page does not show %q", s)
		}
	}
	if strings.Contains(parade, "<script") || strings.Contains(parade, "<img src=\"https://") {
		t.Error("captured markup is live in the rendered page")
	}
	// Replies nest inside their comment's article.
	evil := cw.item(t, e, cw.evil)
	i := strings.Index(parade, fmt.Sprintf(`id="item-%d"`, evil.ID))
	j := strings.Index(parade, "Please be civil.")
	k := strings.Index(parade[i:], "</article>")
	if i < 0 || j < i || j > i+k {
		t.Error("the reply is not nested inside the comment it answers")
	}
	index := string(b.files["data/rendered/index.html"])
	threads := 0
	for _, id := range cw.ids {
		it := cw.itemByID(t, e, id)
		if it.Kind == "post" {
			threads++
			if !strings.Contains(index, fmt.Sprintf(`href="%d.html"`, id)) {
				t.Errorf("index does not list thread %d", id)
			}
		}
	}
	if got := len(b.under("data/rendered/")); got != threads+1 {
		t.Errorf("%d rendered pages, want %d threads and the index", got, threads)
	}
}

func (cw *capturedWorld) itemByID(t *testing.T, e *env, id uint64) storage.Item {
	t.Helper()
	it, err := e.cat.ItemByID(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return *it
}

// checkLoadFile checks one DAT document per item, control numbers, and
// family links from comments and replies to their post.
func checkLoadFile(t *testing.T, e *env, b *bag, ids []uint64) {
	recs := parseDAT(t, b.files["data/loadfile.dat"])
	if len(recs) != len(ids) {
		t.Fatalf("loadfile.dat has %d documents, want %d", len(recs), len(ids))
	}
	byItem := map[uint64]datRecord{}
	for _, r := range recs {
		byItem[mustUint(t, r["ITEM_ID"])] = r
		if r["DOCID"] != r["BEGDOC"] || r["DOCID"] != r["ENDDOC"] || !strings.HasPrefix(r["DOCID"], "CIVIC-") {
			t.Errorf("control numbers: %v", r)
		}
		if _, ok := b.files["data/"+r["NATIVE_PATH"]]; !ok && r["NATIVE_PATH"] != "" {
			t.Errorf("NATIVE_PATH %s is not in the bag", r["NATIVE_PATH"])
		}
		if _, ok := b.files["data/"+r["RENDERED_PATH"]]; !ok {
			t.Errorf("RENDERED_PATH %s is not in the bag", r["RENDERED_PATH"])
		}
	}
	for _, id := range ids {
		it, err := e.cat.ItemByID(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		r := byItem[id]
		if r["KIND"] != it.Kind || r["NATIVE_ID"] != it.NativeID || r["TEXT"] != strings.ReplaceAll(it.Text, "\n", "®") {
			t.Errorf("document of item %d = %v", id, r)
		}
		if (r["DELETED"] != "") != (it.DeletedAt != nil) {
			t.Errorf("document of item %d: DELETED %q, deleted_at %v", id, r["DELETED"], it.DeletedAt)
		}
		if it.RootID == nil {
			continue
		}
		post, parent := byItem[*it.RootID], byItem[*it.ParentID]
		if r["PARENTID"] != post["DOCID"] || r["BEGATTACH"] != post["DOCID"] || r["ENDATTACH"] != post["ENDATTACH"] || r["REPLYTOID"] != parent["DOCID"] {
			t.Errorf("family of %s %d: PARENTID %q BEGATTACH %q REPLYTOID %q; post %q, parent %q",
				it.Kind, id, r["PARENTID"], r["BEGATTACH"], r["REPLYTOID"], post["DOCID"], parent["DOCID"])
		}
	}
}

// checkItemsCSV checks one row per version, with its files in the bag.
func checkItemsCSV(t *testing.T, e *env, b *bag, ids []uint64) {
	rows := csvRows(t, b, "data/items.csv")
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	vs, err := e.cat.VersionsOf(e.ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, list := range vs {
		n += len(list)
	}
	if len(rows)-1 != n {
		t.Fatalf("items.csv has %d rows, want one per version (%d)", len(rows)-1, n)
	}
	for _, r := range rows[1:] {
		id, seq := mustUint(t, r[col["item_id"]]), int(mustUint(t, r[col["version"]]))
		v := vs[id][seq-1]
		if r[col["version_sha256"]] != v.SHA256 || r[col["text"]] != v.Text || r[col["captured_at"]] != v.CapturedAt.UTC().Format(time.RFC3339) {
			t.Errorf("items.csv row %v, version %+v", r, v)
		}
		for _, c := range []string{"normalized_path", "raw_path", "rendered_path"} {
			if _, ok := b.files["data/"+r[col[c]]]; !ok {
				t.Errorf("items.csv %s %q is not in the bag", c, r[col[c]])
			}
		}
	}
}

func checkExportEvent(t *testing.T, e *env, ex *storage.Export) {
	evs, err := e.cat.CustodyEvents(e.ctx, "export", itoa(ex.ID))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != "export" || evs[0].Actor != legal.ID {
		t.Fatalf("export custody events = %+v", evs)
	}
	var d map[string]any
	json.Unmarshal([]byte(evs[0].Details), &d)
	if d["sha256"] != ex.BundleSHA256 || d["size"] != float64(ex.Size) || d["items"] != float64(ex.ItemCount) ||
		d["matter"] != ex.Matter || d["kind"] != ex.Kind || d["query"] != ex.Query {
		t.Errorf("export event details = %v, export %+v", d, ex)
	}
	if _, err := e.cat.VerifyCustody(e.ctx); err != nil {
		t.Errorf("custody chain: %v", err)
	}
}

// checkTamper changes the real bundle in each way a bundle can be changed
// and checks bagit.Verify names the file.
func checkTamper(t *testing.T, data []byte) {
	flip := rewriteZip(t, data, func(rel string, body []byte) ([]byte, bool) {
		if rel == "data/items.csv" {
			body = bytes.Clone(body)
			body[len(body)/2] ^= 0x01
		}
		return body, true
	}, nil)
	wantProblem(t, flip, bagit.KindChecksum, "data/items.csv")
	removed := rewriteZip(t, data, func(rel string, body []byte) ([]byte, bool) {
		return body, rel != "data/custody.jsonl"
	}, nil)
	wantProblem(t, removed, bagit.KindMissing, "data/custody.jsonl")
	added := rewriteZip(t, data, func(_ string, body []byte) ([]byte, bool) { return body, true },
		map[string][]byte{"data/native/raw/extra.json": []byte(`{"forged":true}`)})
	wantProblem(t, added, bagit.KindExtra, "data/native/raw/extra.json")
	edited := rewriteZip(t, data, func(rel string, body []byte) ([]byte, bool) {
		if rel == "manifest-sha256.txt" {
			lines := strings.SplitAfter(string(body), "\n")
			for i, l := range lines {
				if strings.HasSuffix(l, "  data/loadfile.dat\n") {
					lines[i] = strings.Repeat("0", 64) + "  data/loadfile.dat\n"
				}
			}
			body = []byte(strings.Join(lines, ""))
		}
		return body, true
	}, nil)
	wantProblem(t, edited, bagit.KindTagManifest, "manifest-sha256.txt")
	intact := rewriteZip(t, data, func(_ string, body []byte) ([]byte, bool) { return body, true }, nil)
	if _, err := bagit.Verify(bytes.NewReader(intact), int64(len(intact))); err != nil {
		t.Errorf("an unchanged copy does not verify: %v", err)
	}
}
