package x

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"data":null,"errors":[{}]}`))
	f.Add([]byte(`{"data":[{"id":"1","edit_history_tweet_ids":[],"attachments":{"media_keys":["k"]}}],"includes":{"media":[{"media_key":"k"}]},"meta":{}}`))
}

// FuzzDecodeUser: the profile decoder never panics, and whatever it
// accepts normalises.
func FuzzDecodeUser(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if u, err := decodeUser(b); err == nil {
			_ = profileOf(u, "k")
		}
	})
}

// FuzzDecodeTweets: the tweets decoder (timeline, search, lookup) never
// panics, and whatever it accepts goes through merging, thread shaping,
// ordering and normalisation without panicking.
func FuzzDecodeTweets(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, listing := range []bool{true, false} {
			resp, err := decodeTweets(b, listing)
			if err != nil {
				continue
			}
			var ps []pending
			found := map[string]version{}
			for _, tw := range resp.Data {
				ps = append(ps, pending{tw: tw, inc: &resp.Includes})
				found[tw.ID] = version{tw: tw, inc: &resp.Includes}
			}
			r := &run{}
			ps = r.shapeThread("1", []string{"1"}, latestPending(ps))
			for i := range ps {
				ps[i].item = build(&ps[i], found)
			}
			_ = threadOrder("1", ps)
			for _, tw := range latest(resp.Data) {
				_ = normalise(&tw, &resp.Includes, shape{kind: platforms.KindPost}, "", "")
			}
		}
	})
}
