package archiver

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"

	"github.com/civicarchive/civicarchive/storage/storagetest"
)

// worldAPI is a tiny platform: GET /thread/{post} and GET /posts answer the
// world as JSON, echoing the token (as Graph's paging URLs do), so the test
// can check it never reaches storage.
type worldAPI struct {
	w         *platformtest.World
	srv       *httptest.Server
	failPost  atomic.Value // post id whose thread answers 500
	failMedia atomic.Bool
	handler   atomic.Pointer[http.Handler]
	inner     http.Handler
}

// setHandler swaps what the server answers with (faults, outages) safely
// while it serves.
func (a *worldAPI) setHandler(h http.Handler) { a.handler.Store(&h) }

func newWorldAPI(t *testing.T, w *platformtest.World) *worldAPI {
	api := &worldAPI{w: w}
	api.failPost.Store("")
	mux := http.NewServeMux()
	mux.HandleFunc("/posts", func(rw http.ResponseWriter, r *http.Request) {
		json.NewEncoder(rw).Encode(map[string]any{"data": w.Posts(), "next": "/posts?access_token=" + r.URL.Query().Get("access_token")})
	})
	mux.HandleFunc("/thread/{id}", func(rw http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == api.failPost.Load().(string) {
			http.Error(rw, "{}", http.StatusBadRequest)
			return
		}
		json.NewEncoder(rw).Encode(w.Thread(r.PathValue("id")))
	})
	mux.HandleFunc("/media/{name}", func(rw http.ResponseWriter, r *http.Request) {
		m, ok := w.Media(r.PathValue("name"))
		if !ok || api.failMedia.Load() {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", m.ContentType)
		rw.Write(m.Data)
	})
	api.inner = mux
	api.setHandler(mux)
	api.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*api.handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(api.srv.Close)
	return api
}

// worldConnector captures a worldAPI the way real connectors do.
type worldConnector struct{}

func (worldConnector) Platform() string       { return platforms.Mastodon }
func (worldConnector) DefaultAPIBase() string { return "" }
func (worldConnector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, c *platforms.Client, sink platforms.Sink) error {
	if err := sink.Profile(ctx, platforms.Profile{NativeID: "1", Handle: acct.Handle}); err != nil {
		return err
	}
	var posts struct{ Data []platformtest.Post }
	page, err := c.GetJSON(ctx, acct.APIBase+"/posts?access_token="+acct.Credential, nil, &posts)
	if err != nil {
		return err
	}
	var firstErr error
	for _, p := range posts.Data {
		if !opts.Full && p.Created.Before(opts.Since) {
			break
		}
		it := platforms.Item{NativeID: p.ID, Kind: platforms.KindPost, Title: p.Title, Text: p.Text, RawKey: page.RawKey}
		for _, m := range p.Media {
			it.Media = append(it.Media, platforms.Media{URL: acct.APIBase + "/media/" + m, NativeID: "m-" + m})
		}
		if err := sink.Item(ctx, it); err != nil {
			return err
		}
		var thread []platformtest.Comment
		tp, err := c.GetJSON(ctx, acct.APIBase+"/thread/"+p.ID, nil, &thread)
		if err != nil {
			firstErr = err
			continue
		}
		for _, cm := range thread {
			kind, parent := platforms.KindReply, cm.ParentID
			if parent == "" {
				kind, parent = platforms.KindComment, p.ID
			}
			if err := sink.Item(ctx, platforms.Item{NativeID: cm.ID, Kind: kind, ParentNativeID: parent, RootNativeID: p.ID,
				AuthorID: cm.Author, AuthorName: cm.AuthorName, Text: cm.Text, Hidden: cm.Hidden, RawKey: tp.RawKey}); err != nil {
				return err
			}
		}
		if err := sink.ThreadComplete(ctx, p.ID); err != nil {
			return err
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if opts.Full {
		return sink.PostsComplete(ctx)
	}
	return nil
}

type env struct {
	cat   *storage.Catalog
	blobs *blob.Local
	dir   string
	arc   *Archiver
	api   *worldAPI
	w     *platformtest.World
	acct  *storage.Account
}

const token = "EAAB-secret-page-token-123"

// backends are the catalogs the engine tests run on: SQLite always,
// PostgreSQL when CIVICARCHIVE_TEST_DATABASE_URL is set.
func backends() []string {
	if os.Getenv("CIVICARCHIVE_TEST_DATABASE_URL") != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// onBackends runs fn once per catalog backend.
func onBackends(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { fn(t, newEnvOn(t, b)) })
	}
}

// openCatalog opens an empty catalog: SQLite in dir, or a fresh schema of
// the test PostgreSQL database.
func openCatalog(t *testing.T, backend, dir string) *storage.Catalog {
	t.Helper()
	o := storage.Options{DataDir: dir}
	if backend == "postgres" {
		o.URL = storagetest.PostgresSchemaURL(t, os.Getenv("CIVICARCHIVE_TEST_DATABASE_URL"))
	}
	cat, err := storage.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return cat
}

func newEnv(t *testing.T) *env { return newEnvOn(t, "sqlite") }

func newEnvOn(t *testing.T, backend string) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	cat := openCatalog(t, backend, dir)
	t.Cleanup(func() { cat.Close() })
	blobs, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := storage.LoadSecretKey("", dir)
	sealer, _ := storage.NewSealer(key)
	w := platformtest.NewWorld(time.Now().Add(-24*time.Hour), platformtest.Profile{Handle: "clinton"})
	platformtest.Seed(w)
	api := newWorldAPI(t, w)
	sealed, _ := sealer.Seal(token)
	acct := &storage.Account{Platform: platforms.Mastodon, Handle: "clinton", APIBase: api.srv.URL, CredentialEnc: sealed,
		Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := cat.CreateAccount(ctx, acct, "test"); err != nil {
		t.Fatal(err)
	}
	arc := New(Options{Catalog: cat, Blobs: blobs, Sealer: sealer, Connectors: map[string]platforms.Connector{platforms.Mastodon: worldConnector{}},
		Limits: platforms.NewHostLimits(1000, 1000), Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	t.Cleanup(func() { arc.Close(context.Background()) })
	return &env{cat: cat, blobs: blobs, dir: dir, arc: arc, api: api, w: w, acct: acct}
}

func (e *env) capture(t *testing.T, kind string) *storage.CaptureRun {
	t.Helper()
	r, err := e.arc.Capture(context.Background(), e.acct.ID, kind, "test")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// archived returns every item of the account by native id.
func (e *env) archived(t *testing.T) map[string]storage.Item {
	t.Helper()
	p, err := e.cat.ListItems(context.Background(), e.acct.ID, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]storage.Item{}
	for _, it := range p.Items {
		m[it.NativeID] = it
	}
	return m
}

func TestFullCaptureMatchesPlatform(t *testing.T) { onBackends(t, testFullCapture) }

func testFullCapture(t *testing.T, e *env) {
	r := e.capture(t, storage.RunFull)
	posts, comments := e.w.Counts()
	if r.Status != storage.RunSucceeded || r.Posts != posts || r.Comments != comments || r.New != posts+comments || r.MediaCount != 1 {
		t.Fatalf("run = %+v; want succeeded, %d posts, %d comments, all new, 1 media", r, posts, comments)
	}
	got := e.archived(t)
	for _, p := range e.w.Posts() {
		it, ok := got[p.ID]
		if !ok || it.Text != p.Text || it.Kind != "post" || it.VersionCount != 1 {
			t.Errorf("post %s archived as %+v", p.ID, it)
		}
		for _, c := range e.w.Thread(p.ID) {
			it := got[c.ID]
			if it.Text != c.Text || it.RootID == nil || *it.RootID != got[p.ID].ID {
				t.Errorf("comment %s archived as %+v", c.ID, it)
			}
		}
	}
	if n, err := e.cat.VerifyCustody(context.Background()); err != nil || n != uint64(1+posts+comments) {
		t.Fatalf("custody: %d events, %v", n, err)
	}
	if _, err := e.cat.LatestProfile(context.Background(), e.acct.ID); err != nil {
		t.Fatalf("no profile snapshot: %v", err)
	}
	// Unchanged platform: a second run writes no versions.
	r = e.capture(t, storage.RunFull)
	if r.New != 0 || r.Changed != 0 || r.Deleted != 0 || r.MediaCount != 0 {
		t.Fatalf("rerun with nothing changed: %+v", r)
	}
	for id, it := range e.archived(t) {
		if it.VersionCount != 1 {
			t.Errorf("%s has %d versions after an unchanged rerun", id, it.VersionCount)
		}
	}
}

func TestEditsMakeVersionsAndKeepOldOnes(t *testing.T) { onBackends(t, testEdits) }

func testEdits(t *testing.T, e *env) {
	e.capture(t, storage.RunFull)
	post := e.w.Posts()[2].ID // the road closure post
	comment := e.w.Thread(post)[0].ID
	old := e.archived(t)[comment].Text
	e.w.Edit(post, "Main St closed Saturday 8 am – 3 pm (updated)")
	e.w.Edit(comment, "¿A qué hora reabren? (editado)")
	e.w.Hide(e.w.Thread(post)[1].ID, true)
	r := e.capture(t, storage.RunFull)
	if r.Changed != 3 || r.New != 0 {
		t.Fatalf("run after edits: %+v; want 3 changed", r)
	}
	it := e.archived(t)[comment]
	vs, _ := e.cat.Versions(context.Background(), it.ID)
	if it.VersionCount != 2 || len(vs) != 2 || vs[0].Text != old || vs[1].Text != "¿A qué hora reabren? (editado)" || it.Text != vs[1].Text {
		t.Fatalf("versions of the edited comment: %+v", vs)
	}
	if !e.archived(t)[e.w.Thread(post)[1].ID].Hidden {
		t.Fatal("hidden flag not recorded")
	}
}

func TestDeletionsMarkedOnlyAfterCompleteSweep(t *testing.T) { onBackends(t, testDeletions) }

func testDeletions(t *testing.T, e *env) {
	e.capture(t, storage.RunFull)
	posts := e.w.Posts()
	council := posts[1].ID
	road := posts[2].ID
	gone := e.w.Thread(road)[0].ID      // a comment with two replies under it
	goneReply := e.w.Thread(road)[1].ID // its reply
	e.w.Delete(gone)
	e.w.Delete(council)

	// Incremental runs never mark missing posts deleted, and a thread whose
	// read failed marks nothing.
	e.api.failPost.Store(road)
	r := e.capture(t, storage.RunIncremental)
	if r.Deleted != 0 || r.Status != storage.RunPartial {
		t.Fatalf("failed thread: %+v; want partial with nothing deleted", r)
	}
	for _, id := range []string{gone, goneReply, council} {
		if e.archived(t)[id].DeletedAt != nil {
			t.Fatalf("%s marked deleted without a complete sweep", id)
		}
	}
	e.api.failPost.Store("")
	r = e.capture(t, storage.RunFull)
	got := e.archived(t)
	if got[gone].DeletedAt == nil || got[goneReply].DeletedAt == nil || got[council].DeletedAt == nil {
		t.Fatalf("after a complete sweep: comment %v reply %v post %v; want all deleted", got[gone].DeletedAt, got[goneReply].DeletedAt, got[council].DeletedAt)
	}
	if councilComment := got[e.firstCommentOf(t, council)]; councilComment.DeletedAt == nil {
		t.Fatal("a deleted post's comments must be marked deleted with it")
	}
	if got[road].DeletedAt != nil {
		t.Fatal("a live post was marked deleted")
	}
	// Deleted items keep every version.
	vs, _ := e.cat.Versions(context.Background(), got[gone].ID)
	if len(vs) != 1 {
		t.Fatalf("deleted comment lost its versions: %d", len(vs))
	}
	if r.Deleted != 5 {
		t.Fatalf("run counted %d deletions; want 5 (comment, 2 replies, post, its comment)", r.Deleted)
	}
}

func (e *env) firstCommentOf(t *testing.T, post string) string {
	t.Helper()
	for id, it := range e.archived(t) {
		if it.ParentNativeID == post {
			return id
		}
	}
	t.Fatalf("no comment of %s archived", post)
	return ""
}

func TestMediaFailureKeepsThreadOpen(t *testing.T) {
	e := newEnv(t)
	e.capture(t, storage.RunFull)
	road := e.w.Posts()[2].ID
	e.w.Edit(road, "new text with the same map") // forces a new version, which needs the media again
	e.w.AddMedia("road2.jpg", "image/jpeg", []byte("second map"))
	e.api.failMedia.Store(true)
	rid := e.w.AddPost("New", "post with media", "road2.jpg")
	r := e.capture(t, storage.RunFull)
	if r.Status != storage.RunPartial || r.Deleted != 0 {
		t.Fatalf("run with a failed media download: %+v", r)
	}
	if _, ok := e.archived(t)[rid]; ok {
		t.Fatal("an item whose media failed was stored without it")
	}
	if !strings.Contains(r.Errors, rid) {
		t.Fatalf("run errors %s do not name the item", r.Errors)
	}
}

func TestSecretsNeverStored(t *testing.T) {
	e := newEnv(t)
	e.capture(t, storage.RunFull)
	e.api.failPost.Store(e.w.Posts()[0].ID)
	r := e.capture(t, storage.RunFull)
	found := false
	filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), token) {
			t.Errorf("%s holds the credential in clear", p)
		}
		if strings.Contains(string(b), platforms.Redacted) {
			found = true
		}
		return nil
	})
	if !found {
		t.Fatal("the raw page with the token was not stored redacted")
	}
	if strings.Contains(r.Errors, token) {
		t.Fatal("run errors hold the credential")
	}
}

func TestAlreadyRunning(t *testing.T) {
	e := newEnv(t)
	if !e.arc.claim(e.acct.ID) {
		t.Fatal("claim")
	}
	if _, err := e.arc.Capture(context.Background(), e.acct.ID, storage.RunFull, "test"); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second capture of a running account: %v", err)
	}
	e.arc.release(e.acct.ID)
}

func TestAuthFailureMakesAccountUnhealthy(t *testing.T) {
	e := newEnv(t)
	e.api.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
	}))
	r := e.capture(t, storage.RunFull)
	a, _ := e.cat.AccountByID(context.Background(), e.acct.ID)
	if r.Status != storage.RunFailed || a.Health != storage.HealthUnhealthy || !strings.Contains(a.LastError, "401") {
		t.Fatalf("run %s, account health %s (%q)", r.Status, a.Health, a.LastError)
	}
}

func TestOverdue(t *testing.T) {
	// "@every 15m" fires at :00, :15, :30 and :45 (aligned, the same on
	// every replica).
	now := time.Date(2026, 11, 24, 12, 7, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	d := Schedules{Incremental: "@every 15m", Full: "0 3 * * *", TimeZone: "UTC"}
	tests := []struct {
		name       string
		run, sweep *time.Time
		want       string
	}{
		{"never captured", nil, nil, "full"},
		{"sweep missed overnight", ago(time.Minute), ago(30 * time.Hour), "full"},
		{"incremental missed", ago(time.Hour), ago(2 * time.Hour), "incremental"},
		{"up to date", ago(5 * time.Minute), ago(2 * time.Hour), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := overdue(storage.Account{LastRunAt: tt.run, LastFullSweepAt: tt.sweep}, d, now)
			if got != tt.want {
				t.Fatalf("overdue = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestCatchUpRunsWhatWasMissed(t *testing.T) {
	e := newEnv(t)
	d := Schedules{Incremental: "@every 15m", Full: "0 3 * * *", TimeZone: "America/Denver"}
	n, err := e.arc.CatchUp(context.Background(), d, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("never-captured account: %d runs started, %v; want 1", n, err)
	}
	e.arc.Wait()
	r, err := e.cat.LastRun(context.Background(), e.acct.ID, storage.RunFull, storage.RunSucceeded)
	if err != nil || r.Trigger != "catch_up" {
		t.Fatalf("catch-up run: %+v, %v", r, err)
	}
	// Just swept: nothing is due.
	e.arc = New(e.arc.o)
	if n, _ := e.arc.CatchUp(context.Background(), d, time.Now()); n != 0 {
		t.Fatalf("up-to-date account: %d runs started; want 0", n)
	}
}

func TestScheduleAccountRegistersBothRuns(t *testing.T) {
	e := newEnv(t)
	s := NewScheduler(nil, nil)
	if err := e.arc.ScheduleAccount(s, *e.acct, Schedules{Incremental: "@every 15m", Full: "0 3 * * *", TimeZone: "America/Denver"}); err != nil {
		t.Fatal(err)
	}
	if len(s.ids) != 2 {
		t.Fatalf("jobs: %v; want incremental and full", s.ids)
	}
	paused := *e.acct
	paused.Status = storage.AccountPaused
	e.arc.ScheduleAccount(s, paused, Schedules{Incremental: "@every 15m", Full: "0 3 * * *"})
	if len(s.ids) != 0 {
		t.Fatalf("a paused account is still scheduled: %v", s.ids)
	}
	bad := *e.acct
	bad.Schedule = "whenever"
	if err := e.arc.ScheduleAccount(s, bad, Schedules{Incremental: "@every 15m", Full: "0 3 * * *"}); err == nil {
		t.Fatal("a bad schedule was accepted")
	}
}
