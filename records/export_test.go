package records_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

var exportStart = at(2026, 8, 3, 9, 0)

// threads is a small seeded archive: two threads with comments and
// replies, an edit, a deletion, a hidden comment, media, and a post alone.
type threads struct {
	p1, c1, r1, c2 uint64 // post with media; comment; reply to it; hidden comment
	p2, c3         uint64 // post edited; its comment, deleted
	p3             uint64 // post alone, its raw page an RSS feed
}

// put stores bytes in the blob store and returns the key.
func (e *env) put(tb testing.TB, b []byte) string {
	tb.Helper()
	ref, _, err := blob.PutBytes(e.ctx, e.blobs, b)
	if err != nil {
		tb.Fatal(err)
	}
	return ref.Key
}

// recordItem records one version of an item whose raw page is raw.
func (e *env) recordItem(tb testing.TB, run uint64, in storage.ItemCapture, text, raw string) uint64 {
	tb.Helper()
	norm := e.put(tb, []byte(fmt.Sprintf(`{"native_id":%q,"text":%q}`, in.NativeID, text)))
	in.AccountID, in.RunID, in.Platform, in.Actor = e.acct.ID, run, "mastodon", "system:test"
	in.AuthorName, in.URL = cmpOr(in.AuthorName, "Clinton City"), "https://mastodon.example/@clintoncity/"+in.NativeID
	created := time.Date(2026, 7, 20, 15, 0, 0, 0, time.UTC)
	in.CreatedAt = &created
	in.Versions = []storage.VersionCapture{{SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(in.NativeID+"\n"+text))), NormalizedKey: norm,
		RawKey: e.put(tb, []byte(raw)), Text: text}}
	res, err := e.cat.RecordItem(e.ctx, in)
	if err != nil {
		tb.Fatal(err)
	}
	return res.ItemID
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func seedThreads(tb testing.TB, e *env) threads {
	tb.Helper()
	e.account(tb)
	page := `  {"statuses": "page one"}`
	png, _, err := blob.PutBytes(e.ctx, e.blobs, []byte("\x89PNG\r\n\x1a\n fake png of the parade route"))
	if err != nil {
		tb.Fatal(err)
	}
	var s threads
	run := e.run.ID
	s.p1 = e.recordItem(tb, run, storage.ItemCapture{NativeID: "p1", Kind: "post", Media: []storage.MediaCapture{{NativeID: "m1",
		URL: "https://files.mastodon.example/m1.png", SHA256: png.SHA256, BlobKey: png.Key, ContentType: "image/png", Size: png.Size}}},
		"Parade route map attached", page)
	s.c1 = e.recordItem(tb, run, storage.ItemCapture{NativeID: "c1", Kind: "comment", ParentNativeID: "p1", RootNativeID: "p1",
		AuthorName: "Ana"}, "What time does it start? þ ® \x14 tab\tok", `{"context": 1}`)
	s.r1 = e.recordItem(tb, run, storage.ItemCapture{NativeID: "r1", Kind: "reply", ParentNativeID: "c1", RootNativeID: "p1",
		AuthorName: "Clinton City"}, "At 10 am.\nSee you there!", `{"context": 1}`)
	s.c2 = e.recordItem(tb, run, storage.ItemCapture{NativeID: "c2", Kind: "comment", ParentNativeID: "p1", RootNativeID: "p1",
		AuthorName: "Spammer", Hidden: true}, "Buy cheap watches", `{"context": 1}`)
	s.p2 = e.recordItem(tb, run, storage.ItemCapture{NativeID: "p2", Kind: "post"}, "Council meets Tuesday", page)
	s.c3 = e.recordItem(tb, run, storage.ItemCapture{NativeID: "c3", Kind: "comment", ParentNativeID: "p2", RootNativeID: "p2",
		AuthorName: "Bob"}, "I regret this comment", `{"context": 2}`)
	s.p3 = e.recordItem(tb, run, storage.ItemCapture{NativeID: "p3", Kind: "post"}, "Winter parking rules",
		"\n<?xml version=\"1.0\"?><rss><channel><item>Winter parking</item></channel></rss>")
	run2, err := e.cat.StartRun(e.ctx, e.acct.ID, storage.RunFull, "test")
	if err != nil {
		tb.Fatal(err)
	}
	e.recordItem(tb, run2.ID, storage.ItemCapture{NativeID: "p2", Kind: "post"}, "Council meets Wednesday (moved)", `{"page": 2}`)
	if n, err := e.cat.MarkThreadDeleted(e.ctx, e.acct.ID, run2.ID, "p2", "system:test"); err != nil || n != 1 {
		tb.Fatalf("mark c3 deleted: %d, %v", n, err)
	}
	return s
}

func TestExportScopes(t *testing.T) { onEveryBackend(t, exportStart, testExportScopes) }

// testExportScopes exports each kind of scope and checks what each holds.
func testExportScopes(t *testing.T, e *env) {
	s := seedThreads(t, e)
	var asked []string
	var mu sync.Mutex
	finder := func(_ context.Context, q string) ([]uint64, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, q)
		if q == "q=nothing" {
			return nil, nil
		}
		return []uint64{s.c3, s.p2, s.c3, 987654}, nil // a duplicate, and an id the index has but the catalog not
	}
	o := exportOffice(t, e, e.blobs, finder)
	r := e.file(t, validFiling())
	if _, err := e.office.Attach(e.ctx, r.ID, clerk, "parade", []uint64{s.p1, s.c1}); err != nil {
		t.Fatal(err)
	}
	hold := &storage.Hold{Matter: "Roe v. Clinton City", CreatedBy: "user:lee"}
	if err := e.cat.CreateHold(e.ctx, hold, []uint64{s.r1, s.c2}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		scope records.ExportScope
		items []uint64
		info  map[string]string
	}{
		{"search", records.ExportScope{Kind: "search", Query: "q=council&platform=mastodon", Matter: "Council records"},
			[]uint64{s.p2, s.c3}, map[string]string{"Export-Query": "q=council&platform=mastodon", "Export-Scope": "search", "Matter": "Council records"}},
		{"items", records.ExportScope{Kind: "items", ItemIDs: []uint64{s.p3, s.p1, s.c1, s.r1, s.c2, s.p1}},
			[]uint64{s.p1, s.c1, s.r1, s.c2, s.p3}, map[string]string{"Export-Query": "items", "Export-Scope": "items"}},
		{"request", records.ExportScope{Kind: "request", RequestID: r.ID},
			[]uint64{s.p1, s.c1}, map[string]string{"Records-Request": r.TrackingNumber, "Export-Scope": "request"}},
		{"hold", records.ExportScope{Kind: "hold", HoldID: hold.ID},
			[]uint64{s.r1, s.c2}, map[string]string{"Legal-Hold-ID": itoa(hold.ID), "Matter": hold.Matter, "Export-Scope": "hold"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ex := runExport(t, e, o, c.scope)
			b, data := readyBundle(t, e, ex)
			if ex.ItemCount != len(c.items) || ex.Kind != c.scope.Kind {
				t.Errorf("export = %+v, want %d items", ex, len(c.items))
			}
			for k, v := range c.info {
				if b.info[k] != v {
					t.Errorf("bag-info %s = %q, want %q", k, b.info[k], v)
				}
			}
			checkRendered(t, b)
			checkCustody(t, e, b, c.items)
			if n := len(parseDAT(t, b.files["data/loadfile.dat"])); n != len(c.items) {
				t.Errorf("loadfile.dat has %d documents, want %d", n, len(c.items))
			}
			sha256sumCheck(t, data)
		})
	}
	if len(asked) != 1 || asked[0] != "q=council&platform=mastodon" {
		t.Errorf("Finder asked %q", asked)
	}
	t.Run("search matching nothing", func(t *testing.T) {
		ex := runExport(t, e, o, records.ExportScope{Kind: "search", Query: "q=nothing"})
		b, _ := readyBundle(t, e, ex)
		if ex.ItemCount != 0 || len(b.under("data/native/")) != 0 || len(csvRows(t, b, "data/items.csv")) != 1 {
			t.Errorf("empty search export: %+v, files %v", ex, b.under("data/"))
		}
	})
	t.Run("rendering marks", func(t *testing.T) { checkSeededRendering(t, e, o, s, hold) })
	t.Run("loadfile delimiters in text", func(t *testing.T) { checkSeededLoadFile(t, e, o, s) })
	list, err := o.Exports(e.ctx, 0)
	if err != nil || len(list) < len(cases) || list[0].ID < list[len(list)-1].ID {
		t.Errorf("Exports = %d rows, %v; want newest first", len(list), err)
	}
}

// checkSeededRendering checks hidden, deleted, edited and context marks,
// media shown inline, and raw pages named by what they hold.
func checkSeededRendering(t *testing.T, e *env, o *records.Office, s threads, hold *storage.Hold) {
	ex := runExport(t, e, o, records.ExportScope{Kind: "items", ItemIDs: []uint64{s.p1, s.c1, s.r1, s.c2, s.p2, s.c3, s.p3}})
	b, _ := readyBundle(t, e, ex)
	p1 := string(b.files[fmt.Sprintf("data/rendered/%d.html", s.p1)])
	p2 := string(b.files[fmt.Sprintf("data/rendered/%d.html", s.p2)])
	for page, want := range map[*string][]string{
		&p1: {"HIDDEN on the platform", "Buy cheap watches", `<img src="../media/`, "At 10 am.\nSee you there!"},
		&p2: {"DELETED from the platform", "EDITED: 2 versions captured", "Council meets Tuesday", "Council meets Wednesday (moved)", "I regret this comment"},
	} {
		for _, w := range want {
			if !strings.Contains(*page, w) {
				t.Errorf("rendered page lacks %q", w)
			}
		}
	}
	raws := b.under("data/native/raw/")
	xml := 0
	for _, p := range raws {
		if strings.HasSuffix(p, ".xml") {
			xml++
		}
	}
	if len(raws) != 5 || xml != 1 {
		t.Errorf("raw pages %v: want 5 (shared pages once), the RSS one as .xml", raws)
	}
	// The hold holds a reply and a comment, not their post: the post is
	// shown for context and the reply says its parent is not exported.
	hx := runExport(t, e, o, records.ExportScope{Kind: "hold", HoldID: hold.ID})
	hb, _ := readyBundle(t, e, hx)
	page := string(hb.files[fmt.Sprintf("data/rendered/%d.html", s.p1)])
	for _, w := range []string{"shown for context only", "Parade route map attached", "In reply to c1, which is not in this export"} {
		if !strings.Contains(page, w) {
			t.Errorf("hold's thread page lacks %q", w)
		}
	}
	if strings.Contains(page, "../media/") || len(hb.under("data/media/")) != 0 {
		t.Error("the hold's bundle shows or holds the media of a post it does not export")
	}
}

// checkSeededLoadFile checks that captured text holding the load file's
// own delimiters cannot break it.
func checkSeededLoadFile(t *testing.T, e *env, o *records.Office, s threads) {
	ex := runExport(t, e, o, records.ExportScope{Kind: "items", ItemIDs: []uint64{s.c1, s.r1}})
	b, _ := readyBundle(t, e, ex)
	recs := parseDAT(t, b.files["data/loadfile.dat"])
	byItem := map[uint64]datRecord{}
	for _, r := range recs {
		byItem[mustUint(t, r["ITEM_ID"])] = r
	}
	if got := byItem[s.c1]["TEXT"]; got != "What time does it start? th (R)   tab\tok" {
		t.Errorf("TEXT with delimiters = %q", got)
	}
	if got := byItem[s.r1]["TEXT"]; got != "At 10 am.®See you there!" {
		t.Errorf("TEXT with a line break = %q", got)
	}
	// The post is not exported: no family, but the reply names its parent.
	if r := byItem[s.r1]; r["PARENTID"] != "" || r["BEGATTACH"] != "" || r["REPLYTOID"] != byItem[s.c1]["DOCID"] {
		t.Errorf("reply without its post: %v", r)
	}
}

func TestExportBadScopes(t *testing.T) { onEveryBackend(t, exportStart, testExportBadScopes) }

// testExportBadScopes checks every bad scope is refused naming its field,
// and that nothing is recorded.
func testExportBadScopes(t *testing.T, e *env) {
	s := seedThreads(t, e)
	finder := func(context.Context, string) ([]uint64, error) { return nil, nil }
	o := exportOffice(t, e, e.blobs, finder)
	noSearch := exportOffice(t, e, e.blobs, nil)
	emptyHold := &storage.Hold{Matter: "empty", CreatedBy: "user:lee"}
	if err := e.cat.CreateHold(e.ctx, emptyHold, nil); err != nil {
		t.Fatal(err)
	}
	bare := e.file(t, validFiling())
	cases := []struct {
		name   string
		office *records.Office
		scope  records.ExportScope
		fields []string
	}{
		{"no kind", o, records.ExportScope{}, []string{"kind"}},
		{"unknown kind", o, records.ExportScope{Kind: "everything"}, []string{"kind"}},
		{"no items", o, records.ExportScope{Kind: "items"}, []string{"item_ids"}},
		{"unknown items", o, records.ExportScope{Kind: "items", ItemIDs: []uint64{s.p1, 99999, 99998}}, []string{"item_ids"}},
		{"query on items", o, records.ExportScope{Kind: "items", ItemIDs: []uint64{s.p1}, Query: "q=x"}, []string{"query"}},
		{"items on search", o, records.ExportScope{Kind: "search", Query: "q=x", ItemIDs: []uint64{s.p1}}, []string{"item_ids"}},
		{"bad query", o, records.ExportScope{Kind: "search", Query: "q=%zz"}, []string{"query"}},
		{"no search here", noSearch, records.ExportScope{Kind: "search", Query: "q=x"}, []string{"query"}},
		{"matter on two lines", o, records.ExportScope{Kind: "search", Query: "q=x", Matter: "Doe\nv. City"}, []string{"matter"}},
		{"matter too long", o, records.ExportScope{Kind: "items", ItemIDs: []uint64{s.p1}, Matter: strings.Repeat("m", 256)}, []string{"matter"}},
		{"no request", o, records.ExportScope{Kind: "request"}, []string{"request"}},
		{"unknown request", o, records.ExportScope{Kind: "request", RequestID: 99999}, []string{"request"}},
		{"request without items", o, records.ExportScope{Kind: "request", RequestID: bare.ID}, []string{"request"}},
		{"no hold", o, records.ExportScope{Kind: "hold"}, []string{"hold"}},
		{"unknown hold", o, records.ExportScope{Kind: "hold", HoldID: 99999}, []string{"hold"}},
		{"empty hold", o, records.ExportScope{Kind: "hold", HoldID: emptyHold.ID}, []string{"hold"}},
		{"several at once", o, records.ExportScope{Kind: "hold", HoldID: 5, RequestID: 7, Matter: "a\x00b"}, []string{"request", "matter"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ex, err := c.office.StartExport(e.ctx, legal, c.scope)
			if ex != nil {
				t.Errorf("StartExport returned an export: %+v", ex)
			}
			fe := fieldErrors(t, err, c.fields...)
			if c.name == "unknown items" && !strings.Contains(fe["item_ids"], "99999, 99998") {
				t.Errorf("item_ids: %q does not name the unknown ids", fe["item_ids"])
			}
		})
	}
	o.WaitExports()
	if list, err := o.Exports(e.ctx, 0); err != nil || len(list) != 0 {
		t.Errorf("after bad scopes: %d exports, %v; want none", len(list), err)
	}
	if evs, _ := e.cat.CustodyEvents(e.ctx, "export", "1"); len(evs) != 0 {
		t.Errorf("custody events about an export: %+v", evs)
	}
}

func TestExportFailures(t *testing.T) { onEveryBackend(t, exportStart, testExportFailures) }

// testExportFailures checks that a failing search, a missing blob and a
// shutdown each end the export failed with a safe message and no bundle.
func testExportFailures(t *testing.T, e *env) {
	s := seedThreads(t, e)
	t.Run("search fails", func(t *testing.T) {
		finder := func(context.Context, string) ([]uint64, error) {
			return nil, errors.New("bleve: index /var/lib/secret/index is locked")
		}
		ex := runExport(t, e, exportOffice(t, e, e.blobs, finder), records.ExportScope{Kind: "search", Query: "q=parade"})
		wantFailed(t, e, ex, "the search could not be run")
	})
	t.Run("blob missing", func(t *testing.T) {
		lost := &lostBlobs{Store: e.blobs, key: e.versions(t, s.c1)[0].NormalizedKey}
		ex := runExport(t, e, exportOffice(t, e, lost, nil), records.ExportScope{Kind: "items", ItemIDs: []uint64{s.p1, s.c1}})
		wantFailed(t, e, ex, "a stored file is missing from the blob store: "+lost.key)
	})
	t.Run("close mid-build", func(t *testing.T) {
		stuck := &stuckBlobs{Store: e.blobs, started: make(chan struct{})}
		o := exportOffice(t, e, stuck, nil)
		ex, err := o.StartExport(e.ctx, legal, records.ExportScope{Kind: "items", ItemIDs: []uint64{s.p1, s.c1, s.p3}})
		if err != nil {
			t.Fatal(err)
		}
		<-stuck.started
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		if err := o.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		got, err := o.Export(e.ctx, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantFailed(t, e, got, "stopped: server shutting down")
		if _, err := o.StartExport(e.ctx, legal, records.ExportScope{Kind: "items", ItemIDs: []uint64{s.p1}}); err == nil {
			t.Error("StartExport after Close succeeded")
		}
	})
	t.Run("interrupted by a crash", func(t *testing.T) {
		left := &storage.Export{Scope: "{}", Status: storage.ExportRunning, CreatedBy: "user:lee", Kind: "items", ItemsTotal: 3}
		if err := e.cat.CreateExport(e.ctx, left); err != nil {
			t.Fatal(err)
		}
		o := exportOffice(t, e, e.blobs, nil)
		n, err := o.FailInterruptedExports(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("FailInterruptedExports = %d, %v; want 1", n, err)
		}
		got, _ := o.Export(e.ctx, left.ID)
		wantFailed(t, e, got, "interrupted: the server stopped")
		if n, _ := o.FailInterruptedExports(e.ctx); n != 0 {
			t.Errorf("second call failed %d more", n)
		}
	})
	t.Run("another replica's build is left alone until it falls silent", func(t *testing.T) {
		now := time.Now().UTC()
		elsewhere := &storage.Export{Scope: "{}", Status: storage.ExportRunning, CreatedBy: "user:lee", Kind: "items",
			Holder: "replica-b", HeartbeatAt: &now}
		if err := e.cat.CreateExport(e.ctx, elsewhere); err != nil {
			t.Fatal(err)
		}
		o := exportOffice(t, e, e.blobs, nil) // this replica's name is "", not replica-b
		if n, err := o.FailInterruptedExports(e.ctx); err != nil || n != 0 {
			t.Fatalf("a start failed another replica's live build: %d, %v", n, err)
		}
		if n, _ := o.FailStaleExports(e.ctx); n != 0 {
			t.Fatalf("a live build was taken for dead")
		}
		old := now.Add(-10 * time.Minute)
		silent := &storage.Export{Scope: "{}", Status: storage.ExportRunning, CreatedBy: "user:lee", Kind: "items",
			Holder: "replica-c", HeartbeatAt: &old}
		if err := e.cat.CreateExport(e.ctx, silent); err != nil {
			t.Fatal(err)
		}
		if n, err := o.FailStaleExports(e.ctx); err != nil || n != 1 {
			t.Fatalf("a silent build: %d, %v; want it failed", n, err)
		}
		got, _ := o.Export(e.ctx, silent.ID)
		wantFailed(t, e, got, "interrupted: the server building it stopped")
		if got, _ := o.Export(e.ctx, elsewhere.ID); got.Status != storage.ExportRunning {
			t.Errorf("the live build was failed too: %s", got.Status)
		}
	})
	if _, err := exportOffice(t, e, e.blobs, nil).Export(e.ctx, 99999); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Export(unknown) = %v, want ErrNotFound", err)
	}
}

// TestExportLargeThread exports one thread larger than the builder's
// chunk: its page is written a chunk at a time and still nests every
// comment under the post, and the load file makes it one family.
func TestExportLargeThread(t *testing.T) {
	t.Parallel()
	const n = 601 // two chunks of the builder
	e := newEnv(t, mustOpen(t, storage.Options{DataDir: t.TempDir()}), exportStart)
	blobs, ids := seedMany(t, e, n, n, 16)
	ex := runExport(t, e, exportOffice(t, e, blobs, nil), records.ExportScope{Kind: "items", ItemIDs: ids})
	b, _ := readyBundle(t, &env{ctx: e.ctx, cat: e.cat, blobs: blobs}, ex)
	checkRendered(t, b)
	page := string(b.files[fmt.Sprintf("data/rendered/%d.html", ids[0])])
	for _, id := range ids {
		if strings.Count(page, fmt.Sprintf(`id="item-%d"`, id)) != 1 {
			t.Fatalf("the thread page does not show item %d once", id)
		}
	}
	first := page[strings.Index(page, "<article"):]
	last := page[strings.LastIndex(page, "<article"):]
	if strings.Count(page, "<article") != n || !strings.HasPrefix(first, fmt.Sprintf(`<article class="item post" id="item-%d"`, ids[0])) ||
		strings.Count(last, "</article>") != 2 {
		t.Error("the comments are not nested inside the post's article")
	}
	recs := parseDAT(t, b.files["data/loadfile.dat"])
	if len(recs) != n {
		t.Fatalf("%d documents, want %d", len(recs), n)
	}
	for _, r := range recs[1:] {
		if r["PARENTID"] != recs[0]["DOCID"] || r["BEGATTACH"] != recs[0]["DOCID"] || r["ENDATTACH"] != recs[n-1]["DOCID"] {
			t.Fatalf("family: %v; post %s, last %s", r, recs[0]["DOCID"], recs[n-1]["DOCID"])
		}
	}
}

// wantFailed checks an export ended failed, with msg, and no bundle.
func wantFailed(t *testing.T, e *env, ex *storage.Export, msg string) {
	t.Helper()
	if ex.Status != storage.ExportFailed || !strings.HasPrefix(ex.Error, msg) || ex.FinishedAt == nil || ex.BundleKey != "" {
		t.Errorf("export = status %q error %q finished %v bundle %q; want failed with %q", ex.Status, ex.Error, ex.FinishedAt, ex.BundleKey, msg)
	}
	if strings.Contains(ex.Error, "/var/lib") || strings.Contains(ex.Error, "\n") {
		t.Errorf("export error %q is not a safe one-line message", ex.Error)
	}
	if evs, _ := e.cat.CustodyEvents(e.ctx, "export", itoa(ex.ID)); len(evs) != 0 {
		t.Errorf("a failed export has custody events: %+v", evs)
	}
}

// lostBlobs is a blob store that has lost one blob.
type lostBlobs struct {
	blob.Store
	key string
}

func (l *lostBlobs) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == l.key {
		return nil, fmt.Errorf("blob: get %s: %w", key, blob.ErrNotFound)
	}
	return l.Store.Get(ctx, key)
}

// stuckBlobs is a blob store whose reads hang until their context ends.
type stuckBlobs struct {
	blob.Store
	started chan struct{}
	once    sync.Once
}

func (s *stuckBlobs) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	s.once.Do(func() { close(s.started) })
	<-ctx.Done()
	return nil, ctx.Err()
}
