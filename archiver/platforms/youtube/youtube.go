// Package youtube captures a YouTube channel through the YouTube Data API
// v3: the channel's profile, every video in its uploads playlist (a video
// is a post), every top-level comment and every reply. The API key goes in
// the key query parameter. Quota is 10,000 units a day, so lists are read
// at their largest page sizes and videos are fetched 50 ids at a time.
package youtube

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// Page sizes: the largest each list method allows.
const (
	playlistPageSize = 50
	videosPerCall    = 50
	commentPageSize  = 100
)

// errSink marks an error from the Sink; it stops the run.
var errSink = errors.New("youtube: sink")

// Connector captures YouTube channels.
type Connector struct{}

// New returns a YouTube connector.
func New() *Connector { return &Connector{} }

// Platform returns platforms.YouTube.
func (*Connector) Platform() string { return platforms.YouTube }

// DefaultAPIBase is the real YouTube Data API v3 base URL.
func (*Connector) DefaultAPIBase() string { return "https://www.googleapis.com/youtube/v3" }

// run is one capture of one channel.
type run struct {
	base string
	acct platforms.Account
	opts platforms.Options
	c    *platforms.Client
	sink platforms.Sink
	errs []error // thread failures, returned at the end
}

// Capture reads the channel's profile, its uploads to the end (full run)
// or back to opts.Since (incremental run), and every video's comments and
// replies. A failing thread is remembered and the other videos are still
// captured; a refused key, an exhausted quota or a cancelled context stops
// the run at once.
func (k *Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, c *platforms.Client, sink platforms.Sink) error {
	if acct.NativeID == "" {
		return errors.New("youtube: capture: account has no channel id")
	}
	base := strings.TrimRight(acct.APIBase, "/")
	if base == "" {
		base = k.DefaultAPIBase()
	}
	r := &run{base: base, acct: acct, opts: opts, c: c, sink: sink}
	uploads, err := r.profile(ctx)
	if err != nil {
		return err
	}
	complete, err := r.uploads(ctx, uploads)
	if err != nil {
		return errors.Join(append([]error{err}, r.errs...)...)
	}
	// The listing was read to its end even if some threads failed: the
	// posts it did not list are gone.
	if opts.Full && complete {
		if err := sink.PostsComplete(ctx); err != nil {
			return errors.Join(append([]error{fmt.Errorf("youtube: posts complete: %w: %w", errSink, err)}, r.errs...)...)
		}
	}
	return errors.Join(r.errs...)
}

// get fetches one API path with the key and params, and classifies errors.
func (r *run) get(ctx context.Context, path string, q url.Values) (*platforms.Page, error) {
	if r.acct.Credential != "" {
		q.Set("key", r.acct.Credential)
	}
	p, err := r.c.Get(ctx, r.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, classify(err)
	}
	return p, nil
}

// profile reports the channel and returns its uploads playlist id.
func (r *run) profile(ctx context.Context) (string, error) {
	q := url.Values{"part": {"snippet,contentDetails"}, "id": {r.acct.NativeID}}
	p, err := r.get(ctx, "/channels", q)
	if err != nil {
		return "", fmt.Errorf("youtube: channel %s: %w", r.acct.NativeID, err)
	}
	resp, err := decodeChannels(p.Body)
	if err != nil {
		return "", fmt.Errorf("youtube: channel %s: %w", r.acct.NativeID, err)
	}
	var ch *channel
	for i := range resp.Items {
		if resp.Items[i].ID == r.acct.NativeID {
			ch = &resp.Items[i]
		}
	}
	if ch == nil {
		// YouTube answers an unknown channel id with 200 and no items.
		return "", fmt.Errorf("youtube: channel %s: %w", r.acct.NativeID, platforms.ErrNotFound)
	}
	if err := r.sink.Profile(ctx, profileOf(*ch, p.RawKey)); err != nil {
		return "", fmt.Errorf("youtube: profile: %w: %w", errSink, err)
	}
	uploads := ch.ContentDetails.RelatedPlaylists.Uploads
	if uploads == "" {
		return "", fmt.Errorf("youtube: channel %s: %w: no uploads playlist", r.acct.NativeID, platforms.ErrMalformed)
	}
	return uploads, nil
}

// uploads pages through the uploads playlist (newest first) and captures
// each video. It says whether the listing was read to its end.
func (r *run) uploads(ctx context.Context, playlistID string) (bool, error) {
	token := ""
	seen := map[string]bool{}
	for {
		q := url.Values{"part": {"snippet,contentDetails"}, "playlistId": {playlistID}, "maxResults": {fmt.Sprint(playlistPageSize)}}
		if token != "" {
			q.Set("pageToken", token)
		}
		p, err := r.get(ctx, "/playlistItems", q)
		if err != nil {
			return false, fmt.Errorf("youtube: list uploads: %w", err)
		}
		resp, err := decodePlaylistItems(p.Body)
		if err != nil {
			return false, fmt.Errorf("youtube: list uploads: %w", err)
		}
		ids, older := r.wanted(resp.Items)
		if err := r.videos(ctx, ids); err != nil {
			return false, err
		}
		if older {
			return false, nil // incremental: the rest is older than Since
		}
		next := resp.NextPageToken
		if next == "" {
			return true, nil
		}
		if seen[next] {
			return false, fmt.Errorf("youtube: list uploads: %w: page token %q repeats", platforms.ErrMalformed, next)
		}
		seen[next], token = true, next
	}
}

// wanted returns the video ids of a playlist page to capture, and whether
// an incremental run reached a video published before Since.
func (r *run) wanted(items []playlistItem) ([]string, bool) {
	var ids []string
	for _, it := range items {
		if !r.opts.Full && !r.opts.Since.IsZero() {
			if t := it.videoPublished(); !t.IsZero() && t.Before(r.opts.Since) {
				return ids, true
			}
		}
		ids = append(ids, it.videoID())
	}
	return ids, false
}

// videos fetches the videos in batches of 50 (one quota unit each) and
// captures each with its thread, in playlist order. A video the playlist
// lists but /videos does not return (private, deleted meanwhile) is
// skipped.
func (r *run) videos(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		batch := ids[:min(len(ids), videosPerCall)]
		ids = ids[len(batch):]
		q := url.Values{"part": {"snippet"}, "id": {strings.Join(batch, ",")}, "maxResults": {fmt.Sprint(videosPerCall)}}
		p, err := r.get(ctx, "/videos", q)
		if err != nil {
			return fmt.Errorf("youtube: videos: %w", err)
		}
		resp, err := decodeVideos(p.Body)
		if err != nil {
			return fmt.Errorf("youtube: videos: %w", err)
		}
		byID := make(map[string]video, len(resp.Items))
		for _, v := range resp.Items {
			byID[v.ID] = v
		}
		for _, id := range batch {
			v, ok := byID[id]
			if !ok {
				continue
			}
			if err := r.sink.Item(ctx, postOf(v, p.RawKey)); err != nil {
				return fmt.Errorf("youtube: video %s: %w: %w", id, errSink, err)
			}
			if err := r.thread(ctx, id); err != nil {
				if fatal(err) {
					return err
				}
				r.errs = append(r.errs, err)
			}
		}
	}
	return nil
}
