package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/search"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// pagesFixture is a small archive behind a harness: an edited post whose
// first version alone says "parade", with a photo; a comment carrying
// markup, deleted later, that alone says "library"; a reply to it; a
// second post with an HTML attachment. The index is caught up.
type pagesFixture struct {
	*harness
	ids    map[string]uint64 // item id by native id
	photo  blob.Ref          // p1's image
	attach blob.Ref          // p2's text/html attachment
}

const (
	scriptComment = `<script>alert(1)</script> Will the library be open?`
	scriptAuthor  = `Bob <img src=x onerror=alert(2)>`
)

func newPagesFixture(t *testing.T) *pagesFixture {
	t.Helper()
	ctx := context.Background()
	h := newHarness(t)
	f := &pagesFixture{harness: h, ids: map[string]uint64{}}
	store := h.srv.Blobs.(blob.Store)
	put := func(data string) blob.Ref {
		ref, _, err := store.Put(ctx, strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	f.photo = put("\xff\xd8\xff\xe0 fake jpeg bytes of a road closure map")
	f.attach = put("<html><script>alert(3)</script></html>")

	acct := &storage.Account{Platform: "mastodon", Handle: "clintoncity", Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := h.cat.CreateAccount(ctx, acct, "test"); err != nil {
		t.Fatal(err)
	}
	record := func(run uint64, native, kind, parent, author, text, created string, media ...storage.MediaCapture) {
		t.Helper()
		sum := sha256.Sum256([]byte(native + "\x00" + text))
		hexsum := hex.EncodeToString(sum[:])
		at, _ := time.Parse(time.RFC3339, created)
		root := ""
		if kind != "post" {
			root = "p1"
		}
		res, err := h.cat.RecordItem(ctx, storage.ItemCapture{AccountID: acct.ID, RunID: run, Platform: "mastodon", NativeID: native,
			Kind: kind, ParentNativeID: parent, RootNativeID: root, AuthorName: author, AuthorID: "u-" + native, CreatedAt: &at,
			URL: "https://social.example/@clintoncity/" + native, Actor: "system:test", Media: media,
			Versions: []storage.VersionCapture{{SHA256: hexsum, NormalizedKey: "n-" + hexsum[:8], RawKey: "r-" + hexsum[:8], Text: text}}})
		if err != nil {
			t.Fatal(err)
		}
		f.ids[native] = res.ItemID
	}
	run := func() uint64 {
		r, err := h.cat.StartRun(ctx, acct.ID, storage.RunFull, "test")
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	photo := storage.MediaCapture{NativeID: "m1", URL: "https://social.example/m1.jpg", SHA256: f.photo.SHA256, BlobKey: f.photo.Key, ContentType: "image/jpeg", Size: f.photo.Size}
	attach := storage.MediaCapture{NativeID: "m2", URL: "https://social.example/m2.html", SHA256: f.attach.SHA256, BlobKey: f.attach.Key, ContentType: "text/html; charset=utf-8", Size: f.attach.Size}

	run1 := run()
	record(run1, "p1", "post", "", "City of Clinton", "Main St closed Saturday for the parade 🎉", "2026-07-20T15:00:00Z", photo)
	record(run1, "c1", "comment", "p1", scriptAuthor, scriptComment, "2026-07-20T16:00:00Z")
	record(run1, "r1", "reply", "c1", "City of Clinton", "Yes, until noon.", "2026-07-20T17:00:00Z")
	record(run1, "p2", "post", "", "City of Clinton", "Council meets Tuesday at 7 pm.", "2026-06-02T15:00:00Z", attach)
	run2 := run()
	record(run2, "p1", "post", "", "City of Clinton", "Main St closed Saturday for the street fair", "2026-07-20T15:00:00Z", photo)
	record(run2, "r1", "reply", "c1", "City of Clinton", "Yes, until noon.", "2026-07-20T17:00:00Z")
	if n, err := h.cat.MarkThreadDeleted(ctx, acct.ID, run2, "p1", "system:test"); err != nil || n != 1 {
		t.Fatalf("mark deleted: %d, %v; want c1", n, err)
	}
	if _, err := h.srv.Search.CatchUp(ctx, h.cat); err != nil {
		t.Fatal(err)
	}
	return f
}

// page GETs a page as role and checks its status.
func (f *pagesFixture) page(t *testing.T, path, role string, want int) string {
	t.Helper()
	w := f.do("GET", path, role, nil, true)
	if w.Code != want {
		t.Fatalf("GET %s as %s: %d; want %d\n%s", path, role, w.Code, want, w.Body)
	}
	return w.Body.String()
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func TestSearchPageFindsEarlierVersionAndSaysWhich(t *testing.T) {
	f := newPagesFixture(t)
	body := f.page(t, "/search?q=parade", "clerk", 200)
	mustContain(t, body,
		`1 result<`,
		`matched version 1 of 2 (an earlier version)`,
		`<mark>parade</mark>`,
		`href="/items/`+itoa(f.ids["p1"])+`#version-1"`,
		`Post by City of Clinton`,
		`<span class="mark edited">edited</span>`)
	// The word of the current text matches the current version.
	body = f.page(t, "/search?q=fair", "legal", 200)
	mustContain(t, body, `matched version 2 of 2<`)
}

func TestSearchPageDeletedMarkAndEscapedSnippet(t *testing.T) {
	f := newPagesFixture(t)
	body := f.page(t, "/search?q=library", "clerk", 200)
	mustContain(t, body, `1 result<`, `<span class="mark deleted">deleted 20`, `<mark>library</mark>`, `&lt;script&gt;alert(1)&lt;/script&gt;`)
	if strings.Contains(body, "<script") || strings.Contains(body, "<img src=x") {
		t.Error("captured markup reached the search page unescaped")
	}
}

var facetLinkRE = regexp.MustCompile(`<a href="([^"]+)"[^>]*>(?:✓ )?(\w+) <span class="count">\((\d+)\)</span>`)

func TestSearchPageFacetsCountAndKeepParameters(t *testing.T) {
	f := newPagesFixture(t)
	body := f.page(t, "/search?deleted=false", "admin", 200)
	mustContain(t, body, `3 results<`)
	links := map[string]string{}
	counts := map[string]string{}
	for _, m := range facetLinkRE.FindAllStringSubmatch(body, -1) {
		links[m[2]], counts[m[2]] = html.UnescapeString(m[1]), m[3]
	}
	for term, want := range map[string]string{"mastodon": "3", "post": "2", "reply": "1"} {
		if counts[term] != want {
			t.Errorf("facet %s = %q; want %s (facets %v)", term, counts[term], want, counts)
		}
	}
	if _, ok := counts["comment"]; ok {
		t.Error("the deleted comment is counted though deleted=false")
	}
	u, err := url.Parse(links["reply"])
	if err != nil || u.Path != "/search" || u.Query().Get("kind") != "reply" || u.Query().Get("deleted") != "false" {
		t.Fatalf("facet link %q does not keep the other parameters", links["reply"])
	}
	body = f.page(t, links["reply"], "admin", 200)
	mustContain(t, body, `1 result<`, `Reply by City of Clinton`, `aria-current="true"`,
		`<input type="hidden" name="kind" value="reply">`, // the form keeps the facet
		`<option value="false" selected>No</option>`)
	// A selected facet's link removes it again.
	for _, m := range facetLinkRE.FindAllStringSubmatch(body, -1) {
		if m[2] == "reply" {
			if q := mustURL(t, html.UnescapeString(m[1])).Query(); q.Has("kind") || q.Get("deleted") != "false" {
				t.Errorf("the selected facet's link %q should drop kind and keep deleted", m[1])
			}
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var nextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">Next page</a>`)

func TestSearchPageNextPage(t *testing.T) {
	f := newPagesFixture(t)
	seen := map[string]bool{}
	path := "/search?size=3"
	for page := 0; path != ""; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		body := f.page(t, path, "clerk", 200)
		for _, m := range regexp.MustCompile(`<h3><a href="(/items/\d+)`).FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Errorf("%s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := nextRE.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
			if !strings.Contains(path, "size=3") {
				t.Errorf("next page link %q drops the other parameters", path)
			}
		}
	}
	if len(seen) != 4 {
		t.Errorf("paged through %d items; want 4", len(seen))
	}
}

func TestSearchPageBadQueryIs400WithParserMessage(t *testing.T) {
	f := newPagesFixture(t)
	_, want := f.srv.Search.Search(context.Background(), search.Request{Query: `"unterminated`})
	if want == nil {
		t.Fatal("the parser accepted an unterminated phrase")
	}
	body := f.page(t, "/search?q="+url.QueryEscape(`"unterminated`), "clerk", 400)
	mustContain(t, body, `id="q-error"`, `aria-describedby="q-help q-error"`, `aria-invalid="true"`,
		html.EscapeString(want.Error()), `value="&#34;unterminated"`)
	body = f.page(t, "/search?q=nosuchfield:x", "clerk", 400)
	mustContain(t, body, `unknown field`)
	body = f.page(t, "/search?page_token=garbage", "clerk", 400)
	mustContain(t, body, `bad page token`)
	body = f.page(t, "/search?from=24/07/2026", "clerk", 400)
	mustContain(t, body, `from must be a date YYYY-MM-DD`)
}

func TestItemPageShowsEveryVersionWithChangesMarked(t *testing.T) {
	f := newPagesFixture(t)
	body := f.page(t, "/items/"+itoa(f.ids["p1"]), "clerk", 200)
	mustContain(t, body,
		`id="version-1"`, `Version 1 of 2`, `Version 2 of 2 (current)`,
		`Main St closed Saturday for the parade 🎉`,
		`Main St closed Saturday for the <del>parade 🎉</del><ins>street fair</ins>`,
		`href="https://social.example/@clintoncity/p1"`,
		`<span class="mark edited">edited: 2 versions</span>`)
	vs, _ := f.cat.Versions(context.Background(), f.ids["p1"])
	for _, v := range vs {
		mustContain(t, body, v.SHA256)
	}
	// The thread: the post, the deleted comment, the reply under it.
	mustContain(t, body, `<strong>Post by City of Clinton</strong> <span class="mark here">this item</span>`,
		`href="/items/`+itoa(f.ids["c1"])+`"`, `href="/items/`+itoa(f.ids["r1"])+`"`, `<span class="mark deleted">deleted</span>`)
	if c, r := strings.Index(body, "/items/"+itoa(f.ids["c1"])+`"`), strings.Index(body, "/items/"+itoa(f.ids["r1"])+`"`); c < 0 || r < c {
		t.Error("the reply is not nested after its comment")
	}
	// The photo is shown from the media route.
	mustContain(t, body, `<img src="/items/`+itoa(f.ids["p1"])+`/media/`+f.photo.SHA256+`"`)
}

func TestItemPageCapturedMarkupIsInert(t *testing.T) {
	f := newPagesFixture(t)
	for _, native := range []string{"c1", "p1", "r1"} {
		body := f.page(t, "/items/"+itoa(f.ids[native]), "legal", 200)
		mustContain(t, body, `&lt;script&gt;alert(1)&lt;/script&gt;`, html.EscapeString(scriptAuthor))
		if strings.Contains(body, "<script") || strings.Contains(body, "<img src=x") {
			t.Errorf("item %s: captured markup reached the page unescaped", native)
		}
	}
	body := f.page(t, "/items/"+itoa(f.ids["c1"]), "legal", 200)
	mustContain(t, body, `<span class="mark deleted">deleted: gone from mastodon by 20`)
}

func TestItemPageMissing(t *testing.T) {
	f := newPagesFixture(t)
	f.page(t, "/items/999999", "clerk", 404)
	f.page(t, "/items/abc", "clerk", 404)
	f.page(t, "/items/0", "clerk", 404)
}

func TestItemMediaServesBytesWithSafeHeaders(t *testing.T) {
	f := newPagesFixture(t)
	p1, p2 := itoa(f.ids["p1"]), itoa(f.ids["p2"])
	w := f.do("GET", "/items/"+p1+"/media/"+f.photo.SHA256, "clerk", nil, true)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), []byte("\xff\xd8\xff\xe0 fake jpeg bytes of a road closure map")) {
		t.Fatalf("photo: %d %q", w.Code, w.Body)
	}
	for hdr, want := range map[string]string{"Content-Type": "image/jpeg", "Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"} {
		if got := w.Header().Get(hdr); got != want {
			t.Errorf("photo %s = %q; want %q", hdr, got, want)
		}
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Error("media is served without a sandboxing CSP")
	}
	// Anything not image, video or audio is an opaque download.
	w = f.do("GET", "/items/"+p2+"/media/"+f.attach.SHA256, "clerk", nil, true)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") {
		t.Errorf("html attachment: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Header().Get("Content-Disposition"))
	}
	// Another item's media is not reachable through this item.
	for _, path := range []string{"/items/" + p1 + "/media/" + f.attach.SHA256, "/items/" + p2 + "/media/" + f.photo.SHA256,
		"/items/" + p1 + "/media/../../etc", "/items/999999/media/" + f.photo.SHA256} {
		if w := f.do("GET", path, "clerk", nil, true); w.Code != 404 {
			t.Errorf("GET %s: %d; want 404", path, w.Code)
		}
	}
	if w := f.do("GET", "/items/"+p1+"/media/"+f.photo.SHA256, "coordinator", nil, true); w.Code != 403 {
		t.Errorf("coordinator reads media: %d; want 403", w.Code)
	}
}

func TestCopyVerifiedHoldsBackTheLastChunkOnCorruption(t *testing.T) {
	var out bytes.Buffer
	err := copyVerified(&out, &corruptReader{chunks: []string{"abc", "def"}})
	if err == nil || out.String() != "abc" {
		t.Fatalf("copyVerified = %v, wrote %q; want the error and only the first chunk", err, out.String())
	}
	out.Reset()
	if err := copyVerified(&out, strings.NewReader("all good")); err != nil || out.String() != "all good" {
		t.Fatalf("copyVerified = %v, %q", err, out.String())
	}
}

type corruptReader struct{ chunks []string }

func (r *corruptReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, blob.ErrCorrupt
	}
	n := copy(p, r.chunks[0])
	r.chunks = r.chunks[1:]
	return n, nil
}

func TestSafeHighlight(t *testing.T) {
	for in, want := range map[string]string{
		"road <mark>closure</mark> &amp; more":     "road <mark>closure</mark> &amp; more",
		"&lt;script&gt; <mark>x</mark>":            "&lt;script&gt; <mark>x</mark>",
		"<script>alert(1)</script>":                "&lt;script&gt;alert(1)&lt;/script&gt;",
		"<mark>open":                               "&lt;mark&gt;open",
		"</mark>x<mark>":                           "&lt;/mark&gt;x&lt;mark&gt;",
		"<mark><mark>x</mark></mark>":              "&lt;mark&gt;&lt;mark&gt;x&lt;/mark&gt;&lt;/mark&gt;",
		`a " b`:                                    "a &#34; b",
		"<mark onclick=alert(1)>x</mark>":          "&lt;mark onclick=alert(1)&gt;x&lt;/mark&gt;",
		"…the <mark>parade</mark> 🎉":               "…the <mark>parade</mark> 🎉",
		"&#39;quoted&#39; <mark>ok</mark>":         "&#39;quoted&#39; <mark>ok</mark>",
		"bare & ampersand":                         "bare &amp; ampersand",
		"<mark>a</mark> <mark>b</mark> &lt;/mark>": "&lt;mark&gt;a&lt;/mark&gt; &lt;mark&gt;b&lt;/mark&gt; &amp;lt;/mark&gt;",
	} {
		if got := string(safeHighlight(in)); got != want {
			t.Errorf("safeHighlight(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestSearchLinkForReaders(t *testing.T) {
	f := newPagesFixture(t)
	for role, want := range map[string]bool{"clerk": true, "legal": true, "admin": true, "coordinator": false, "": false} {
		body := f.page(t, "/", role, 200)
		if got := strings.Contains(body, `<a href="/search">`); got != want {
			t.Errorf("home page as %q links to search: %v; want %v", role, got, want)
		}
	}
}
