package youtube

import (
	"testing"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// Every decoder must refuse or accept any input without panicking, and
// whatever it accepts must normalise without panicking.

func seedFuzz(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := readFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"kind":"youtube#commentThreadListResponse","items":[{"id":"x","snippet":{"topLevelComment":{"id":"y","snippet":{"publishedAt":"2024-01-01T00:00:00Z","updatedAt":""}}}}]}`))
}

func FuzzDecodeChannels(f *testing.F) {
	seedFuzz(f, "channels.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeChannels(b); err == nil {
			for _, c := range r.Items {
				profileOf(c, "k")
			}
		}
	})
}

func FuzzDecodePlaylistItems(f *testing.F) {
	seedFuzz(f, "playlistItems.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodePlaylistItems(b); err == nil {
			(&run{opts: platforms.Options{}}).wanted(r.Items)
			for _, it := range r.Items {
				it.videoPublished()
			}
		}
	})
}

func FuzzDecodeVideos(f *testing.F) {
	seedFuzz(f, "videos.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeVideos(b); err == nil {
			for _, v := range r.Items {
				if it := postOf(v, "k"); it.NativeID == "" || it.CreatedAt == nil {
					t.Fatalf("accepted video without id or time: %+v", it)
				}
			}
		}
	})
}

func FuzzDecodeCommentThreads(f *testing.F) {
	seedFuzz(f, "commentThreads.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeCommentThreads(b); err == nil {
			for _, th := range r.Items {
				top := th.Snippet.TopLevelComment
				commentOf(top, "v", "v", "k")
				for _, c := range th.Replies.Comments {
					commentOf(c, "v", replyParent(c, top.ID), "k")
				}
			}
		}
	})
}

func FuzzDecodeComments(f *testing.F) {
	seedFuzz(f, "comments.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeComments(b); err == nil {
			for _, c := range r.Items {
				if it := commentOf(c, "v", replyParent(c, "t"), "k"); it.NativeID == "" {
					t.Fatal("accepted comment without id")
				}
			}
		}
	})
}

func FuzzErrorReason(f *testing.F) {
	seedFuzz(f, "error_commentsDisabled.json", "error_quotaExceeded.json", "error_keyInvalid.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, status := range []int{400, 403, 404, 500} {
			classify(&platforms.HTTPError{Status: status, Body: string(b)})
		}
	})
}
