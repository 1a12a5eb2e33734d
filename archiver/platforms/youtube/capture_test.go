package youtube

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/youtube/youtubetest"
)

func TestConnectorBasics(t *testing.T) {
	var c platforms.Connector = New()
	if c.Platform() != platforms.YouTube || c.DefaultAPIBase() != "https://www.googleapis.com/youtube/v3" {
		t.Errorf("Platform %q DefaultAPIBase %q", c.Platform(), c.DefaultAPIBase())
	}
}

func TestCaptureFullSeeded(t *testing.T) {
	w := seeded()
	h := newHarness(t, w)
	sink, err := h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	checkReported(t, sink, w, h.srv)
	checkThreadsComplete(t, sink, w, h.srv)
	if !sink.PostsDone {
		t.Error("PostsComplete not called")
	}
	if len(sink.Profiles) != 1 {
		t.Fatalf("profiles = %d", len(sink.Profiles))
	}
	p := sink.Profiles[0]
	if p.NativeID != h.srv.ChannelID() || p.DisplayName != w.Profile.DisplayName ||
		p.Description != w.Profile.Description || p.Handle != "@clintoncityut" || p.RawKey == "" {
		t.Errorf("profile = %+v", p)
	}
	if _, ok := h.blobs.Get(p.RawKey); !ok {
		t.Errorf("profile RawKey %q not in blobs", p.RawKey)
	}
	// Seed: road closure (2 threads, 2 replies), council (1), winter (0).
	if n := sink.Count(platforms.KindComment) + sink.Count(platforms.KindReply); n != 5 {
		t.Errorf("comments+replies = %d, want 5", n)
	}
	// Media: the road closure video's thumbnail, served by the fake.
	road := sink.ByID()[h.srv.NativeID(w.Posts()[2].ID)]
	if len(road.Media) != 1 {
		t.Fatalf("road closure media = %+v", road.Media)
	}
	m := road.Media[0]
	if m.NativeID != road.NativeID+"/maxres" || m.Kind != "thumbnail" || !strings.HasSuffix(m.URL, "/media/road.jpg") {
		t.Errorf("media = %+v", m)
	}
	resp, err := http.Get(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if mf, _ := w.Media("road.jpg"); string(body) != string(mf.Data) {
		t.Errorf("media bytes differ")
	}
}

// A capture with nothing changed reports the same content: no moving
// counters or timestamps in items.
func TestCaptureIsStable(t *testing.T) {
	w := seeded()
	h := newHarness(t, w)
	a, err := h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a.ByID()) != fmt.Sprint(b.ByID()) {
		t.Error("second capture of an unchanged world differs")
	}
}

func TestCapturePagination(t *testing.T) {
	w := newWorld()
	var busy string
	for i := range 7 {
		id := w.AddPost(fmt.Sprintf("Video %d", i), fmt.Sprintf("Descripción %d ✨", i))
		if i == 3 {
			busy = id
		}
	}
	for i := range 5 {
		top := w.AddComment(busy, "", fmt.Sprintf("Vecino %d", i), fmt.Sprintf("Comentario %d 👍", i))
		prev := top
		for j := range 4 {
			parent := top
			if j%2 == 1 {
				parent = prev // a reply to a reply: YouTube flattens it
			}
			prev = w.AddComment(busy, parent, "Ana", fmt.Sprintf("Respuesta %d.%d", i, j))
		}
	}
	h := newHarness(t, w, youtubetest.WithPageSize(2))
	sink, err := h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	checkReported(t, sink, w, h.srv)
	checkThreadsComplete(t, sink, w, h.srv)
	if !sink.PostsDone {
		t.Error("PostsComplete not called")
	}
	for path, min := range map[string]int{"/youtube/v3/playlistItems": 4, "/youtube/v3/commentThreads": 3 + 6, "/youtube/v3/comments": 5 * 2} {
		if n := h.calls(path); n < min {
			t.Errorf("%s called %d times, want at least %d (paging)", path, n, min)
		}
	}
	if n := sink.Count(platforms.KindReply); n != 20 {
		t.Errorf("replies = %d, want 20", n)
	}
}

func TestCaptureEditsAndDeletions(t *testing.T) {
	w := seeded()
	h := newHarness(t, w)
	if _, err := h.capture(platforms.Options{Full: true}); err != nil {
		t.Fatal(err)
	}
	posts := w.Posts() // newest first: winter, council, road
	road, council := posts[2], posts[1]
	thread := w.Thread(road.ID)
	top, reply := thread[0], thread[1]

	w.Edit(road.ID, "Main St closed Saturday — parade moved to 10 am 🎉")
	w.Edit(top.ID, "¿A qué hora abren de nuevo? Ya vi el aviso 🚗")
	w.Edit(reply.ID, "Around 4 pm now, sorry!")
	sink, err := h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	checkReported(t, sink, w, h.srv)
	got := sink.ByID()
	for _, id := range []string{top.ID, reply.ID} {
		c, _ := w.Comment(id)
		it := got[h.srv.NativeID(id)]
		wantMarker := c.Edited.UTC().Format(time.RFC3339)
		if it.Text != c.Text || it.EditMarker != wantMarker || it.EditedAt == nil || !it.EditedAt.Equal(*c.Edited) {
			t.Errorf("edited comment %s: text %q marker %q editedAt %v; want %q %q", id, it.Text, it.EditMarker, it.EditedAt, c.Text, wantMarker)
		}
	}
	if it := got[h.srv.NativeID(road.ID)]; it.Text != "Main St closed Saturday — parade moved to 10 am 🎉" || it.EditMarker != "" {
		t.Errorf("edited video: text %q marker %q (videos have no edit marker)", it.Text, it.EditMarker)
	}
	if it := got[h.srv.NativeID(thread[3].ID)]; it.EditMarker != "" || it.EditedAt != nil {
		t.Errorf("unedited comment has marker %q", it.EditMarker)
	}

	gone := []string{h.srv.NativeID(council.ID), h.srv.NativeID(top.ID), h.srv.NativeID(reply.ID)}
	w.Delete(council.ID)
	w.Delete(top.ID) // with its replies
	sink, err = h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	checkReported(t, sink, w, h.srv)
	for _, id := range gone {
		if _, ok := sink.ByID()[id]; ok {
			t.Errorf("deleted %s still reported", id)
		}
	}
	checkThreadsComplete(t, sink, w, h.srv)
	if !sink.PostsDone {
		t.Error("PostsComplete not called after deletions")
	}
}

// YouTube has no hidden flag an API key can see: a comment the channel
// hid (or holds for review) is not public, so it is not listed, while
// replies under a hidden reply stay visible as replies to the top-level
// comment. The decode test covers moderationStatus → Hidden.
func TestCaptureHiddenComments(t *testing.T) {
	w := seeded()
	road := w.Posts()[2]
	thread := w.Thread(road.ID) // c1, r1, r1's reply, Bob
	w.Hide(thread[1].ID, true)
	w.Hide(thread[3].ID, true)
	h := newHarness(t, w)
	sink, err := h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	checkReported(t, sink, w, h.srv)
	got := sink.ByID()
	for _, c := range []platformtest.Comment{thread[1], thread[3]} {
		if _, ok := got[h.srv.NativeID(c.ID)]; ok {
			t.Errorf("hidden %q reported", c.Text)
		}
	}
	if it, ok := got[h.srv.NativeID(thread[2].ID)]; !ok || it.ParentNativeID != h.srv.NativeID(thread[0].ID) {
		t.Errorf("reply under hidden reply: %+v", it)
	}
	checkThreadsComplete(t, sink, w, h.srv)
}

func TestCaptureIncremental(t *testing.T) {
	w := newWorld()
	var ids []string
	for i := range 6 {
		ids = append(ids, w.AddPost(fmt.Sprintf("Video %d", i), "text"))
		w.AddComment(ids[i], "", "Ana", fmt.Sprintf("comment on %d", i))
	}
	p3, _ := w.Post(ids[3])
	h := newHarness(t, w, youtubetest.WithPageSize(2))
	sink, err := h.capture(platforms.Options{Since: p3.Created})
	if err != nil {
		t.Fatal(err)
	}
	got := sink.ByID()
	for i, id := range ids {
		_, reported := got[h.srv.NativeID(id)]
		if reported != (i >= 3) {
			t.Errorf("post %d reported=%v, want %v", i, reported, i >= 3)
		}
		if complete := sink.CompleteThread[h.srv.NativeID(id)]; complete != (i >= 3) {
			t.Errorf("post %d thread complete=%v", i, complete)
		}
	}
	if n := sink.Count(platforms.KindComment); n != 3 {
		t.Errorf("comments = %d, want 3", n)
	}
	if sink.PostsDone {
		t.Error("PostsComplete called in an incremental run")
	}
	// Pages: 5,4 | 3,2 | 1,0. Post 2 is older than Since: the third page
	// is never read, and post 2 never fetched.
	if n := h.calls("/youtube/v3/playlistItems"); n != 2 {
		t.Errorf("playlistItems pages read = %d, want 2", n)
	}
	if n := h.calls("/youtube/v3/commentThreads"); n != 3 {
		t.Errorf("commentThreads calls = %d, want 3", n)
	}
	for _, p := range h.paths {
		if strings.HasPrefix(p, "/youtube/v3/videos") && strings.Contains(p, h.srv.NativeID(ids[2])) {
			t.Errorf("older video fetched: %s", p)
		}
	}
}

func TestCaptureCommentsDisabled(t *testing.T) {
	w := seeded()
	council := w.Posts()[1]
	h := newHarness(t, w, youtubetest.WithCommentsDisabled(council.ID))
	sink, err := h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatalf("comments disabled must not fail the run: %v", err)
	}
	if !sink.CompleteThread[h.srv.NativeID(council.ID)] {
		t.Error("a video with comments disabled is a complete, empty thread")
	}
	for _, it := range sink.Items {
		if it.RootNativeID == h.srv.NativeID(council.ID) {
			t.Errorf("comment reported on a video with comments disabled: %+v", it)
		}
	}
	checkThreadsComplete(t, sink, w, h.srv)
	if !sink.PostsDone {
		t.Error("PostsComplete not called")
	}
}

// The replies a commentThread embeds are a subset: /comments is paged
// when totalReplyCount is larger, and not called (quota) when not.
func TestCaptureEmbeddedRepliesSubset(t *testing.T) {
	tests := []struct {
		embedded     int
		commentCalls int
	}{
		{0, 1}, {1, 1}, {2, 0}, {5, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("embedded=", tc.embedded), func(t *testing.T) {
			w := seeded()
			h := newHarness(t, w, youtubetest.WithEmbeddedReplies(tc.embedded))
			sink, err := h.capture(platforms.Options{Full: true})
			if err != nil {
				t.Fatal(err)
			}
			checkReported(t, sink, w, h.srv)
			if n := h.calls("/youtube/v3/comments"); n != tc.commentCalls {
				t.Errorf("/comments calls = %d, want %d", n, tc.commentCalls)
			}
		})
	}
}

// Quota: videos are fetched in one batch per playlist page, lists at
// their largest page size, and statistics are never asked for.
func TestCaptureSpendsQuotaCarefully(t *testing.T) {
	w := newWorld()
	for i := range 60 {
		w.AddPost(fmt.Sprintf("Video %d", i), "text")
	}
	h := newHarness(t, w, youtubetest.WithPageSize(50))
	if _, err := h.capture(platforms.Options{Full: true}); err != nil {
		t.Fatal(err)
	}
	if n := h.calls("/youtube/v3/videos"); n != 2 {
		t.Errorf("/videos calls = %d, want 2 for 60 videos", n)
	}
	for _, p := range h.paths {
		switch {
		case strings.Contains(p, "statistics"):
			t.Errorf("asked for statistics: %s", p)
		case strings.HasPrefix(p, "/youtube/v3/playlistItems") && !strings.Contains(p, "maxResults=50"),
			strings.HasPrefix(p, "/youtube/v3/commentThreads") && !strings.Contains(p, "maxResults=100"):
			t.Errorf("not the largest page: %s", p)
		}
	}
}

func TestCaptureQuotaExceeded(t *testing.T) {
	w := seeded()
	h := newHarness(t, w, youtubetest.WithQuota(4))
	sink, err := h.capture(platforms.Options{Full: true})
	if !errors.Is(err, platforms.ErrRateLimited) || errors.Is(err, platforms.ErrAuth) {
		t.Fatalf("err = %v, want ErrRateLimited and not ErrAuth", err)
	}
	if n := h.srv.Requests(); n != 5 {
		t.Errorf("requests = %d: the run must stop at the first quota error", n)
	}
	if sink.PostsDone {
		t.Error("PostsComplete after quota error")
	}
}

func TestCaptureUnknownChannel(t *testing.T) {
	h := newHarness(t, seeded())
	acct := h.srv.Account()
	acct.NativeID = "UCnobodyHere0000000000000"
	sink, err := h.captureAs(acct, platforms.Options{Full: true})
	if !errors.Is(err, platforms.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	if len(sink.Items) != 0 || sink.PostsDone {
		t.Error("reported something for an unknown channel")
	}
}
