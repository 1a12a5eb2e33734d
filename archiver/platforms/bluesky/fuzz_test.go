package bluesky

import (
	"context"
	"testing"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(readTestdata(f, name))
	}
	for _, s := range []string{"", "{}", "null", "[]", `{"feed":null}`, `{"thread":{}}`, "<html>upstream error</html>"} {
		f.Add([]byte(s))
	}
}

// FuzzDecodeFeed: no getAuthorFeed body makes decoding or normalising panic.
func FuzzDecodeFeed(f *testing.F) {
	addSeeds(f, "author_feed.json", "author_feed_end.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := decodeFeed(body)
		if err != nil {
			return
		}
		r := &run{seen: map[string]bool{}}
		for i := range *out.Feed {
			fv := &(*out.Feed)[i]
			r.ownPost(fv, acctDID)
			r.tooOld(&fv.Post)
			toItem(&fv.Post, platforms.KindPost, "", "", "k")
		}
	})
}

// FuzzDecodeThread: no getPostThread body makes decoding or the reply
// walk panic.
func FuzzDecodeThread(f *testing.F) {
	addSeeds(f, "post_thread.json", "thread_not_found.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		thr, err := decodeThread(body)
		if err != nil {
			return
		}
		hidden := thr.hiddenSet()
		if !thr.Thread.isPost() {
			thr.Thread.isNotFound()
			return
		}
		r := &run{sink: platformtest.NewSink(), c: platformtest.Client(t, &platformtest.MemBlobs{}, nil), base: "http://127.0.0.1:1", seen: map[string]bool{}}
		toItem(thr.Thread.Post, platforms.KindPost, "", "", "k")
		r.walk(context.Background(), thr.Thread, thr.Thread.Post.URI, true, hidden, "k", 0)
	})
}

// FuzzDecodeProfile: no getProfile body makes decoding panic.
func FuzzDecodeProfile(f *testing.F) {
	addSeeds(f, "profile.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		if p, err := decodeProfile(body); err == nil {
			toProfile(p, "k")
		}
	})
}

// FuzzXRPCError: no error body makes reading it panic.
func FuzzXRPCError(f *testing.F) {
	addSeeds(f, "error_not_found.json", "error_profile_not_found.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		xrpcErrorOf(&platforms.HTTPError{Status: 400, Body: string(body)})
	})
}
